//! The live source for `scan`/`why` without `--snapshot`, and `kubesleuth snapshot -o DIR`:
//! a redacted capture of what a live scan reads, in the `kubectl cluster-info dump` layout.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use ks_core::Evidence;
use ks_live::{ClientOptions, Collection, LiveOptions};

use crate::cli::{LiveArgs, SnapshotArgs};

pub(crate) fn client_options(live: &LiveArgs) -> ClientOptions {
    ClientOptions { kubeconfig: live.kubeconfig.clone(), context: live.context.clone() }
}

fn live_options(live: &LiveArgs, namespace: Option<&str>, keep_objects: bool) -> LiveOptions {
    LiveOptions {
        namespace: namespace.map(String::from),
        secret_keys: live.secret_keys,
        timeout: live.timeout,
        keep_objects,
        progress: !live.quiet,
        ..LiveOptions::default()
    }
}

/// Connect and collect; print the RBAC and timeout warnings (one line each). Fails only
/// when nothing at all could be read.
fn collect(
    live: &LiveArgs,
    namespace: Option<&str>,
    keep_objects: bool,
    timings: bool,
) -> anyhow::Result<(Collection, String)> {
    let (c, target) = ks_live::collect_blocking(&client_options(live), &live_options(live, namespace, keep_objects))?;
    let r = &c.report;
    if timings {
        eprintln!(
            "live: {} API requests, {} kinds listed, {} logs, {} gaps, {:.1} ms",
            r.requests,
            r.listed.len(),
            r.logs_fetched,
            c.evidence.gaps.len(),
            r.elapsed.as_secs_f64() * 1000.0
        );
    }
    if r.listed.is_empty() && c.evidence.object_count() == 0 {
        let why = c.evidence.gaps.first().map(|g| g.to_string()).unwrap_or_else(|| "no kind could be listed".into());
        bail!("cannot read the cluster (context {}): {why}", target.context);
    }
    if let Some(w) = &r.warning {
        eprintln!("kubesleuth: warning: {w}");
    }
    if r.timed_out {
        eprintln!(
            "kubesleuth: warning: the cluster did not answer everything within {} s (--timeout); \
             the findings use what arrived, the rest is listed as gaps",
            live.timeout.as_secs()
        );
    }
    Ok((c, target.context))
}

/// The evidence of a live scan (for `scan` and `why`).
pub fn collect_evidence(live: &LiveArgs, namespace: Option<&str>, timings: bool) -> anyhow::Result<Evidence> {
    let (c, _) = collect(live, namespace, false, timings)?;
    Ok(c.evidence)
}

/// `kubesleuth snapshot -o DIR`.
pub fn run(args: &SnapshotArgs) -> anyhow::Result<ExitCode> {
    let ns = args.namespace.as_deref();
    let (c, context) = collect(&args.live, ns, true, false)?;
    let target = ks_live::Target { context, default_namespace: String::new() };
    let info = ks_live::write::CaptureInfo {
        target: &target,
        namespace: ns,
        secret_keys: args.live.secret_keys,
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    let written = ks_live::write::write_snapshot(&args.output, &c, &info)
        .with_context(|| format!("cannot write the snapshot to {}", args.output.display()))?;
    let r = &c.report;
    eprintln!(
        "wrote {}: {} objects of {} kinds, {} logs, in {} files (redacted; {} API requests, {:.1} s){}",
        args.output.display(),
        written.objects,
        r.listed.len(),
        written.logs,
        written.files,
        r.requests,
        r.elapsed.as_secs_f64(),
        if c.evidence.gaps.is_empty() {
            String::new()
        } else {
            format!("; {} gaps, see {}", c.evidence.gaps.len(), ks_live::write::MANIFEST)
        }
    );
    Ok(ExitCode::SUCCESS)
}
