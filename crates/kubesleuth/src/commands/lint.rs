//! `kubesleuth lint`: manifests before they deploy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use ks_core::{Finding, RuleKind, Severity, Summary};
use ks_sources::{ManifestOptions, load_manifests};
use serde::Deserialize;

use crate::cli::LintArgs;
use crate::output::write_report;

/// `.kubesleuth.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Findings to drop: by rule (id or name), optionally only under some paths (globs).
    #[serde(default)]
    pub ignore: Vec<IgnoreEntry>,
    /// Severity overrides per rule id or name: `KS1203: info`.
    #[serde(default)]
    pub severity: std::collections::BTreeMap<String, Severity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Rule ids or names; empty means every rule.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Path globs (`legacy/**`); empty means every path.
    #[serde(default)]
    pub paths: Vec<String>,
}

const CONFIG_NAME: &str = ".kubesleuth.yaml";

fn find_config(args: &LintArgs) -> Option<PathBuf> {
    if let Some(c) = &args.config {
        return Some(c.clone());
    }
    let mut starts = vec![std::env::current_dir().ok()?];
    if let Some(first) = args.inputs.paths.first().filter(|p| p.as_os_str() != "-")
        && let Ok(abs) = std::path::absolute(first)
    {
        starts.push(abs);
    }
    for start in starts {
        for dir in start.ancestors() {
            let candidate = dir.join(CONFIG_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn parse_kube_version(v: &str) -> anyhow::Result<(u32, u32)> {
    let v = v.trim_start_matches('v');
    let mut parts = v.split('.');
    let major = parts.next().and_then(|p| p.parse().ok());
    let minor = parts.next().and_then(|p| p.parse().ok());
    match (major, minor) {
        (Some(1), Some(minor)) => Ok((1, minor)),
        _ => bail!("--kube-version {v}: expected a version such as 1.29"),
    }
}

pub fn run(args: &LintArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let kube_version = args.kube_version.as_deref().map(parse_kube_version).transpose()?;
    let config = match find_config(args) {
        Some(path) => load_config(&path)?,
        None => Config::default(),
    };
    // The lint rules read the documents; typed copies only for the build-file rules.
    let typed = ks_sources::manifests::TypedObjects::WorkloadsWithBuildFiles;
    let mut ev = super::load_inputs(&args.inputs, args.namespace.clone(), typed)?;
    ev.kube_version = kube_version;
    if ev.manifests.is_empty() && ev.gaps.is_empty() && !has_other_inputs(&ev) {
        bail!("no Kubernetes manifests found in {}", join_paths(&args.inputs.paths));
    }
    let loaded = started.elapsed();
    let schemas = load_schemas(args, &mut ev)?;
    let mut findings = ks_rules::run_kind_with(&ev, RuleKind::Static, &schemas);
    let ruled = started.elapsed();
    apply_suppressions(&ev, &config, &mut findings)?;
    findings.sort_by(|a, b| {
        let key = |f: &Finding| f.location.as_ref().map(|l| (l.file.clone(), l.line, l.column));
        key(a).cmp(&key(b)).then_with(|| a.rule.cmp(&b.rule))
    });
    let summary = Summary::count(&findings, ev.manifests.len(), started.elapsed().as_millis() as u64);
    let code = write_report(&args.output, &findings, &ev.gaps, summary);
    if args.timings {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "timings: load {:.1} ms, rules {:.1} ms, report {:.1} ms; {} documents",
            ms(loaded),
            ms(ruled - loaded),
            ms(started.elapsed() - ruled),
            ev.manifests.len()
        );
    }
    // The process ends next: freeing every document's tree one allocation at a time took
    // about a tenth of a 100,000-object lint, and the compiled CRD schemas a twentieth of a
    // corpus lint; the OS reclaims it all at once.
    std::mem::forget(ev);
    std::mem::forget(schemas);
    code
}

/// The JSON schemas documents are checked against: CRDs among the inputs and in `--crds`,
/// files of `--schema-dir`. What is not checked is said on stderr, one note per kind.
fn load_schemas(args: &LintArgs, ev: &mut ks_core::Evidence) -> anyhow::Result<ks_rules::lint::json_schema::Schemas> {
    let mut notes = Vec::new();
    let crds = if args.crds.is_empty() {
        Vec::new()
    } else {
        let loaded = load_manifests(&args.crds, &ManifestOptions::default())?;
        ev.gaps.extend(loaded.gaps);
        let crds: Vec<_> = loaded.manifests.into_iter().filter(ks_rules::lint::json_schema::defines_kinds).collect();
        if crds.is_empty() {
            notes.push(format!(
                "--crds {}: no CustomResourceDefinition or ConstraintTemplate found",
                join_paths(&args.crds)
            ));
        }
        crds
    };
    let schemas =
        ks_rules::lint::json_schema::Schemas::build(&ev.manifests, &crds, args.schema_dir.as_deref(), ev.kube_version)?;
    notes.extend(schemas.notes().iter().cloned());
    notes.extend(schemas.unchecked(&ev.manifests));
    for n in notes {
        eprintln!("note: {n}");
    }
    Ok(schemas)
}

/// Evidence from non-manifest files a walk may read (Dockerfiles, skaffold.yaml).
fn has_other_inputs(ev: &ks_core::Evidence) -> bool {
    ev.object_count() > 0 || !ev.build.is_empty()
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn rule_matches(wanted: &str, f: &Finding) -> bool {
    wanted.eq_ignore_ascii_case(&f.rule) || wanted == f.name
}

/// Drop what the object's `kubesleuth.io/ignore` annotation or the config file ignore, and
/// apply severity overrides.
fn apply_suppressions(ev: &ks_core::Evidence, config: &Config, findings: &mut Vec<Finding>) -> anyhow::Result<()> {
    let mut entries: Vec<(Vec<String>, Option<GlobSet>)> = Vec::new();
    for e in &config.ignore {
        let globs = if e.paths.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for p in &e.paths {
                b.add(Glob::new(p).with_context(|| format!("{CONFIG_NAME}: bad path pattern {p}"))?);
            }
            Some(b.build()?)
        };
        entries.push((e.rules.clone(), globs));
    }
    // The few documents that carry the ignore annotation, read once: a finding is checked
    // against these, not against every document of a large bundle.
    let annotated_docs: Vec<_> = ev
        .manifests
        .iter()
        .filter_map(|d| {
            let rules = d.ignored_rules();
            (!rules.is_empty()).then_some((d, rules))
        })
        .collect();
    findings.retain(|f| {
        let file = f.location.as_ref().map(|l| l.file.as_str());
        let annotated = annotated_docs.iter().any(|(d, rules)| {
            d.kind == f.object.kind
                && d.name == f.object.name
                && d.namespace == f.object.namespace
                && file.is_none_or(|file| *d.file == *file)
                && rules.iter().any(|r| rule_matches(r, f))
        });
        let configured = entries.iter().any(|(rules, globs)| {
            (rules.is_empty() || rules.iter().any(|r| rule_matches(r, f)))
                && match (globs, file) {
                    (None, _) => true,
                    (Some(g), Some(file)) => g.is_match(file.trim_start_matches("./")),
                    (Some(_), None) => false,
                }
        });
        !annotated && !configured
    });
    for f in findings.iter_mut() {
        if let Some((_, sev)) = config.severity.iter().find(|(r, _)| rule_matches(r, f)) {
            f.severity = *sev;
        }
    }
    Ok(())
}
