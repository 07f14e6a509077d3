//! `kubesleuth drift`: manifests kept in Git against the cluster.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use ks_core::{RuleKind, Summary};

use crate::cli::DriftArgs;
use crate::output::write_report;

pub fn run(args: &DriftArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let git =
        super::load_inputs(&args.inputs, args.source.namespace.clone(), ks_sources::manifests::TypedObjects::Always)?;
    if git.manifests.is_empty() {
        bail!("no Kubernetes manifests found in the given paths");
    }
    // The cluster's objects are the evidence; Git's documents sit beside them (their typed
    // copies are left out so every object in the evidence is a live one).
    let mut ev = super::load_cluster(&args.source)?;
    ev.gaps.extend(git.gaps);
    ev.manifests = git.manifests;
    for doc in ev.manifests.iter_mut() {
        if doc.namespace.is_none()
            && let Some(ns) = &args.source.namespace
        {
            doc.namespace = Some(ns.clone());
        }
    }
    ev.finish();
    let findings = ks_rules::run_kind(&ev, RuleKind::Drift);
    let summary = Summary::count(&findings, ev.manifests.len(), started.elapsed().as_millis() as u64);
    write_report(&args.output, &findings, &ev.gaps, summary)
}
