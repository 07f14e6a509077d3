//! `kubesleuth images`: every running container's image, the digest it runs against the
//! digest its tag names in the registry now, and the registry checks' findings.
//! `scan --registries` shares [`ask_registries`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use ks_core::registry::{running_containers, short_digest};
use ks_core::{Evidence, Finding, Summary};
use ks_report::{Format, Report};
use ks_rules::image::digests::{self, Checked, Status};
use serde::Serialize;

use crate::cli::{FormatArg, ImagesArgs, LiveArgs, RegistryArgs, SourceArgs};
use crate::output::{exit_code, format_of, use_color, write_report};

/// Ask the registries about the evidence's running tags and add the answers to it.
///
/// Credentials: on a live cluster (`live` is set), the running pods' imagePullSecrets first,
/// as the kubelet uses them; then the docker config; else anonymous. A snapshot never holds
/// Secret values, so a snapshot scan uses the docker config only.
pub fn ask_registries(ev: &mut Evidence, args: &RegistryArgs, live: Option<&LiveArgs>) -> anyhow::Result<()> {
    let mut opts = ks_registry::Options {
        insecure: args.insecure_registry.clone(),
        timeout: args.registry_timeout,
        per_host: args.registry_concurrency.max(1),
        docker_config: !args.no_docker_config,
        ..ks_registry::Options::default()
    };
    if let Some(live) = live.filter(|_| !args.no_pull_secrets) {
        let wanted = wanted_pull_secrets(ev);
        if !wanted.is_empty() {
            let read = ks_live::pull_credentials_blocking(&super::snapshot::client_options(live), &wanted)
                .context("cannot read the pods' imagePullSecrets")?;
            for note in &read.notes {
                if !live.quiet {
                    eprintln!("kubesleuth: note: {note}");
                }
            }
            for c in read.credentials {
                opts.credentials
                    .insert(c.host, ks_registry::Credential::Basic { username: c.username, password: c.password });
            }
        }
    }
    let facts = ks_registry::collect(ev, &opts).context("cannot ask the image registries")?;
    ev.registry.merge(facts);
    Ok(())
}

/// The imagePullSecrets of running pods, with the registry hosts each pod pulls from.
fn wanted_pull_secrets(ev: &Evidence) -> Vec<ks_live::pull_secrets::Wanted> {
    let mut wanted: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for rc in running_containers(ev) {
        let Some(host) = rc.name.as_ref().map(|n| n.host.clone()) else { continue };
        let pod = &ev.pods[rc.pod];
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        for r in pod.spec.iter().flat_map(|s| s.image_pull_secrets.iter().flatten()) {
            if !r.name.is_empty() {
                wanted.entry((ns.clone(), r.name.clone())).or_default().insert(host.clone());
            }
        }
    }
    wanted
        .into_iter()
        .map(|((namespace, name), hosts)| ks_live::pull_secrets::Wanted { namespace, name, hosts })
        .collect()
}

/// The live cluster's options when `src` reads one (no `--snapshot`).
pub fn live_of(src: &SourceArgs) -> Option<&LiveArgs> {
    src.snapshot.is_empty().then_some(&src.live)
}

/// One row of the table.
#[derive(Serialize)]
struct Row {
    namespace: String,
    workload: String,
    pod: String,
    container: String,
    image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    running: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry: Option<String>,
    /// `current`, `stale`, `pinned` or `unknown`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn rows(ev: &Evidence, checked: &[Checked<'_>]) -> Vec<Row> {
    let mut out: Vec<Row> = checked
        .iter()
        .map(|c| {
            let (ns, pod) = ks_rules::util::pod_names(ev, c.rc.pod);
            let (status, reason) = match &c.status {
                Status::Current => ("current", None),
                Status::Pinned => ("pinned", None),
                Status::Stale => ("stale", None),
                Status::Unknown(u) => ("unknown", Some(u.reason())),
            };
            Row {
                namespace: ns.to_string(),
                workload: c.workload.kubectl_ref(),
                pod: pod.to_string(),
                container: c.container().to_string(),
                image: c.rc.image.to_string(),
                running: c.running.map(str::to_string),
                registry: c.registry_digest().map(str::to_string),
                status,
                reason,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.namespace, &a.workload, &a.pod, &a.container).cmp(&(&b.namespace, &b.workload, &b.pod, &b.container))
    });
    out
}

fn short(d: &Option<String>) -> String {
    d.as_deref().map(|d| short_digest(d).to_string()).unwrap_or_else(|| "-".to_string())
}

fn status_text(r: &Row) -> String {
    match (r.status, &r.reason) {
        ("stale", _) => "STALE".to_string(),
        (s, Some(why)) => format!("{s} ({why})"),
        (s, None) => s.to_string(),
    }
}

/// A plain, aligned table (no borders, so it copies cleanly).
fn table(rows: &[Row]) -> String {
    let header = ["NAMESPACE", "WORKLOAD", "POD", "CONTAINER", "IMAGE", "RUNNING", "REGISTRY", "STATUS"];
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.namespace.clone(),
                r.workload.clone(),
                r.pod.clone(),
                r.container.clone(),
                r.image.clone(),
                short(&r.running),
                short(&r.registry),
                status_text(r),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cols: &[&str]| {
        let mut l = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i + 1 == cols.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &cells {
        line(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Namespace | Workload | Pod | Container | Image | Running | Registry | Status |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | `{}` | `{}` | `{}` | {} |\n",
            r.namespace,
            r.workload,
            r.pod,
            r.container,
            r.image,
            short(&r.running),
            short(&r.registry),
            status_text(r)
        ));
    }
    out
}

/// `3 running containers, 2 distinct tags on 1 registry, 3 requests`.
fn tally(ev: &Evidence, rows: &[Row]) -> String {
    let f = &ev.registry;
    let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    let mut s = format!(
        "{} ({} stale)",
        plural(rows.len(), "running container"),
        rows.iter().filter(|r| r.status == "stale").count()
    );
    if f.is_empty() {
        s.push_str("; no registry was asked");
    } else {
        s.push_str(&format!(
            "; {} on {} asked in {}",
            plural(f.images.len(), "distinct tag"),
            if f.hosts.len() == 1 { "1 registry".to_string() } else { format!("{} registries", f.hosts.len()) },
            plural(f.requests as usize, "request")
        ));
    }
    s
}

pub fn run(args: &ImagesArgs) -> anyhow::Result<ExitCode> {
    let d = super::diagnose_with(&args.source, |ev| {
        if args.offline { Ok(()) } else { ask_registries(ev, &args.registry, live_of(&args.source)) }
    })?;
    if let Some(path) = &args.save_facts {
        let doc = serde_json::to_string_pretty(&d.evidence.registry.to_document())?;
        std::fs::write(path, doc + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    let checked = digests::check(&d.evidence);
    let mut rows = rows(&d.evidence, &checked);
    if let Some(ns) = &args.source.namespace {
        rows.retain(|r| &r.namespace == ns);
    }
    let findings: Vec<Finding> =
        d.findings.iter().filter(|f| ks_rules::image::is_registry_rule(&f.rule)).cloned().collect();
    let summary = Summary::count(&findings, d.evidence.object_count(), d.started.elapsed().as_millis() as u64);
    let report = Report {
        findings: &findings,
        summary: summary.clone(),
        gaps: &d.evidence.gaps,
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    let mut buf: Vec<u8> = Vec::new();
    match args.output.format {
        FormatArg::Text => {
            buf.extend_from_slice(table(&rows).as_bytes());
            writeln!(buf, "\n{}\n", tally(&d.evidence, &rows))?;
            ks_report::emitter(Format::Text, use_color(&args.output)).emit(&report, &mut buf)?;
        }
        FormatArg::Markdown => {
            buf.extend_from_slice(b"## Running images\n\n");
            buf.extend_from_slice(markdown_table(&rows).as_bytes());
            writeln!(buf, "\n{}\n", tally(&d.evidence, &rows))?;
            ks_report::emitter(Format::Markdown, false).emit(&report, &mut buf)?;
        }
        FormatArg::Json => {
            let mut doc = Vec::new();
            ks_report::emitter(format_of(FormatArg::Json), false).emit(&report, &mut doc)?;
            let mut v: serde_json::Value = serde_json::from_slice(&doc)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("images".into(), serde_json::to_value(&rows)?);
                let f = &d.evidence.registry;
                o.insert(
                    "registry".into(),
                    serde_json::json!({
                        "checkedAt": f.checked_at,
                        "requests": f.requests,
                        "distinctTags": f.images.len(),
                        "hosts": f.hosts,
                    }),
                );
            }
            serde_json::to_writer_pretty(&mut buf, &v)?;
            buf.push(b'\n');
        }
        // The other formats carry findings only.
        _ => return write_report(&args.output, &findings, &d.evidence.gaps, summary),
    }
    match &args.output.output {
        Some(path) => std::fs::write(path, &buf).with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)?;
            out.flush()?;
        }
    }
    Ok(exit_code(&findings, args.output.fail_on))
}
