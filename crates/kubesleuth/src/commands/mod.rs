//! One module per subcommand; the pipeline they share is [`diagnose`].

pub mod explain;
pub mod rules;
pub mod scan;
pub mod why;

use std::time::Instant;

use anyhow::{Context as _, bail};
use ks_core::{Evidence, Finding};
use ks_sources::SnapshotOptions;

use crate::cli::SourceArgs;

/// Sources -> evidence -> rules -> correlate.
pub struct Diagnosis {
    pub evidence: Evidence,
    pub findings: Vec<Finding>,
    pub started: Instant,
}

pub fn diagnose(src: &SourceArgs) -> anyhow::Result<Diagnosis> {
    let started = Instant::now();
    if src.snapshot.is_empty() {
        bail!(
            "scanning a live cluster is not supported by this build yet; pass --snapshot PATH \
             (a `kubectl cluster-info dump --output-directory` folder or `kubectl get -o json` files)"
        );
    }
    let opts = SnapshotOptions { max_file_bytes: src.max_file_bytes };
    let evidence = ks_sources::load_paths(&src.snapshot, &opts).context("cannot load the snapshot")?;
    if evidence.object_count() == 0 && evidence.logs.is_empty() {
        let detail = match evidence.gaps.first() {
            Some(g) => format!("{g}"),
            None => "no Kubernetes objects or logs found".to_string(),
        };
        bail!("nothing could be read from the snapshot: {detail}");
    }
    let loaded = started.elapsed();
    let raw = ks_rules::run(&evidence);
    let ruled = started.elapsed();
    let mut findings = ks_correlate::correlate(&evidence, raw);
    if src.timings {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "timings: load {:.1} ms, rules {:.1} ms, correlate {:.1} ms; rules/load = {:.3}; {} objects, {} events",
            ms(loaded),
            ms(ruled - loaded),
            ms(started.elapsed() - ruled),
            (ruled - loaded).as_secs_f64() / loaded.as_secs_f64().max(1e-9),
            evidence.object_count(),
            evidence.events.len()
        );
    }
    if let Some(ns) = &src.namespace {
        findings.retain(|f| f.object.namespace.as_deref().is_none_or(|n| n == ns));
    }
    Ok(Diagnosis { evidence, findings, started })
}
