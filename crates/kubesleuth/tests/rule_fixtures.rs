//! Every rule has fixtures under `fixtures/rules/<ID>/`: directories named `fire*` must make
//! the rule fire, directories named `clean*` must not (the hard negatives). The text output
//! of each firing case is an insta snapshot.

use std::path::{Path, PathBuf};

use ks_core::{Finding, RuleKind, Summary};
use ks_report::{Format, Report, emitter};
use ks_sources::{ManifestOptions, SnapshotOptions, load_manifests, load_paths};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rules")
}

/// Runtime rules read fixtures as a snapshot (`scan`); static rules as manifests (`lint`),
/// named relative to the crate so the file paths in snapshots are the same on every machine.
fn diagnose(dir: &Path, kind: RuleKind) -> (Vec<Finding>, Vec<ks_core::Gap>) {
    match kind {
        RuleKind::Runtime => {
            let ev = load_paths(&[dir.to_path_buf()], &SnapshotOptions::default()).expect("fixture loads");
            let findings = ks_correlate::correlate(&ev, ks_rules::run(&ev));
            (findings, ev.gaps.clone())
        }
        RuleKind::Drift => {
            // `manifests/` is Git, `cluster/` a snapshot.
            let rel = dir.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or(dir);
            let git = load_manifests(&[rel.join("manifests")], &ManifestOptions::default()).expect("manifests load");
            let mut ev = load_paths(&[dir.join("cluster")], &SnapshotOptions::default()).expect("snapshot loads");
            ev.manifests = git.manifests;
            ev.finish();
            let mut gaps = ev.gaps.clone();
            gaps.extend(git.gaps);
            (ks_rules::run_kind(&ev, RuleKind::Drift), gaps)
        }
        RuleKind::Static | RuleKind::Local => {
            let rel = dir.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or(dir);
            let ev = load_manifests(&[rel.to_path_buf()], &ManifestOptions::default()).expect("fixture loads");
            (ks_rules::run_kind(&ev, RuleKind::Static), ev.gaps.clone())
        }
    }
}

fn render(findings: &[Finding]) -> String {
    let report = Report { findings, summary: Summary::count(findings, 0, 0), gaps: &[], tool_version: "test" };
    let mut out = Vec::new();
    emitter(Format::Text, false).emit(&report, &mut out).expect("render");
    String::from_utf8(out).expect("utf-8")
}

fn cases(id: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join(id))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn every_rule_fires_on_its_fixtures_and_not_on_its_hard_negatives() {
    let mut failures = Vec::new();
    for rule in ks_rules::RULES.iter() {
        let id = rule.meta().id;
        let kind = rule.meta().kind;
        if kind == RuleKind::Local {
            continue; // `doctor --local` checks the machine; tested in doctor.rs with fake tools.
        }
        let cases = cases(id);
        let fire: Vec<_> = cases.iter().filter(|(n, _)| n.starts_with("fire")).collect();
        let clean: Vec<_> = cases.iter().filter(|(n, _)| n.starts_with("clean")).collect();
        if fire.is_empty() || clean.is_empty() {
            failures.push(format!("{id}: needs fixtures/rules/{id}/fire*/ and clean*/ directories"));
            continue;
        }
        for (name, dir) in fire {
            let (findings, gaps) = diagnose(dir, kind);
            if !gaps.is_empty() {
                failures.push(format!("{id}/{name}: fixture has unreadable input: {gaps:?}"));
            }
            let mine: Vec<Finding> = findings.into_iter().filter(|f| f.rule == id).collect();
            if mine.is_empty() {
                failures.push(format!("{id}/{name}: rule did not fire"));
                continue;
            }
            for f in &mine {
                assert_eq!(f.cause, rule.meta().cause, "{id}/{name}: a rule emits its own cause");
                assert!(!f.fix.is_empty(), "{id}/{name}: every finding says how to fix it");
                assert!(!f.evidence.is_empty(), "{id}/{name}: every finding quotes its evidence");
            }
            insta::assert_snapshot!(format!("{id}_{name}"), render(&mine));
        }
        for (name, dir) in clean {
            let (findings, gaps) = diagnose(dir, kind);
            if !gaps.is_empty() {
                failures.push(format!("{id}/{name}: fixture has unreadable input: {gaps:?}"));
            }
            let fired: Vec<String> = findings.iter().filter(|f| f.rule == id).map(|f| f.title.clone()).collect();
            if !fired.is_empty() {
                failures.push(format!("{id}/{name}: hard negative fired: {fired:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "rule fixture failures:\n{}", failures.join("\n"));
}
