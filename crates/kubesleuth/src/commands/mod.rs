//! One module per subcommand; the pipeline they share is [`diagnose`].

pub mod doctor;
pub mod drift;
pub mod explain;
pub mod images;
pub mod lint;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod snapshot;
pub mod why;

use std::time::Instant;

use anyhow::{Context as _, bail};
use ks_core::{Evidence, Finding};
use ks_sources::SnapshotOptions;

use crate::cli::{ManifestInputs, SourceArgs};

/// Sources -> evidence -> rules -> correlate.
pub struct Diagnosis {
    pub evidence: Evidence,
    pub findings: Vec<Finding>,
    pub started: Instant,
}

/// The cluster's evidence: the snapshot files, or the live cluster when there are none.
pub fn load_cluster(src: &SourceArgs) -> anyhow::Result<Evidence> {
    let evidence = if src.snapshot.is_empty() {
        // No files: the live cluster of the kubeconfig context.
        snapshot::collect_evidence(&src.live, src.namespace.as_deref(), src.timings)?
    } else {
        let opts = SnapshotOptions { max_file_bytes: src.max_file_bytes };
        ks_sources::load_paths(&src.snapshot, &opts).context("cannot load the snapshot")?
    };
    if !src.snapshot.is_empty() && evidence.object_count() == 0 && evidence.logs.is_empty() {
        let detail = match evidence.gaps.first() {
            Some(g) => format!("{g}"),
            None => "no Kubernetes objects or logs found".to_string(),
        };
        bail!("nothing could be read from the snapshot: {detail}");
    }
    Ok(evidence)
}

/// Read the manifests of `lint` and `drift`; charts are rendered for `namespace`.
pub fn load_inputs(
    inputs: &ManifestInputs,
    namespace: Option<String>,
    typed: ks_sources::manifests::TypedObjects,
) -> anyhow::Result<Evidence> {
    let opts = ks_sources::ManifestOptions {
        helm: ks_sources::manifests::HelmOptions {
            values: inputs.values.clone(),
            set: inputs.set.clone(),
            namespace,
            release: None,
        },
        typed,
        ..ks_sources::ManifestOptions::default()
    };
    Ok(ks_sources::load_manifests(&inputs.paths, &opts)?)
}

pub fn diagnose(src: &SourceArgs) -> anyhow::Result<Diagnosis> {
    diagnose_with(src, |_| Ok(()))
}

/// [`diagnose`], with a step between loading the evidence and running the rules (the
/// registry check adds its facts there, so rules stay pure functions of the evidence).
pub fn diagnose_with(
    src: &SourceArgs,
    prepare: impl FnOnce(&mut Evidence) -> anyhow::Result<()>,
) -> anyhow::Result<Diagnosis> {
    let started = Instant::now();
    let mut evidence = load_cluster(src)?;
    prepare(&mut evidence)?;
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
