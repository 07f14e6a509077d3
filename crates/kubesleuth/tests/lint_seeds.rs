//! The seed scenarios whose mistakes sit in the manifests themselves, end to end through the
//! CLI: `kubesleuth lint fixtures/seeds/<ID>/lint --format json` must name the expected cause
//! on the expected object, at the expected line, with a fix that uses the real names, and
//! must stay quiet about the hard negatives planted next to it. (`tests/seeds.rs` covers the
//! scenarios seen in a cluster snapshot with `scan`.)

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod common;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Secret values planted in fixtures; none may ever be printed.
const CANARIES: &[&str] = &["CANARY-SECRET-VALUE-DO-NOT-PRINT", "Q0FOQVJZLVNFQ1JFVC1WQUxVRS1ETy1OT1QtUFJJTlQ="];

fn same_object(f: &Value, obj: &Value) -> bool {
    f["object"]["kind"] == obj["kind"]
        && f["object"]["name"] == obj["name"]
        && (obj["namespace"].is_null() || f["object"]["namespace"] == obj["namespace"])
}

fn describe(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}/{}",
                f["rule"], f["cause"], f["object"]["kind"], f["object"]["namespace"], f["object"]["name"]
            )
        })
        .collect()
}

fn lint_seed(id: &str) {
    let dir = repo().join("fixtures/seeds").join(id);
    let expect: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("lint-expect.json")).expect("lint-expect.json readable"),
    )
    .expect("lint-expect.json parses");
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary built")
        .current_dir(repo())
        .args(["lint", "--format", "json"])
        .arg(Path::new("fixtures/seeds").join(id).join("lint"))
        .output()
        .expect("kubesleuth runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for c in CANARIES {
        assert!(!stdout.contains(c), "a Secret value was printed");
    }
    let report: Value = serde_json::from_str(&stdout).expect("JSON output parses");
    let findings = report["findings"].as_array().expect("findings array");
    let mut failures = Vec::new();
    for want in expect["findings"].as_array().expect("expect.findings") {
        let cause = want["cause"].as_str().unwrap_or_default();
        let obj = &want["object"];
        let hit = findings.iter().find(|f| {
            f["cause"] == cause && same_object(f, obj) && (want["rule"].is_null() || f["rule"] == want["rule"])
        });
        let Some(hit) = hit else {
            failures.push(format!("missing {cause} on {obj}; got: {:#?}", describe(findings)));
            continue;
        };
        if let Some(line) = want["line"].as_u64() {
            let loc = &hit["location"];
            if loc["line"].as_u64() != Some(line) || !loc["file"].as_str().unwrap_or_default().ends_with(".yaml") {
                failures.push(format!("{cause} on {obj}: expected at line {line}, got {loc}"));
            }
        }
        common::check_fix_mentions(hit, want, &format!("{cause} on {obj}"), &mut failures);
    }
    for absent in expect["absent_findings"].as_array().into_iter().flatten() {
        if let Some(f) = findings.iter().find(|f| f["cause"] == absent["cause"] && same_object(f, &absent["object"])) {
            failures.push(format!("hard negative fired: {} on {}", f["cause"], f["object"]));
        }
    }
    for absent in expect["absent_causes"].as_array().into_iter().flatten() {
        if let Some(f) = findings.iter().find(|f| &f["cause"] == absent) {
            failures.push(format!("planted trap fired: {absent} on {}", f["object"]));
        }
    }
    assert!(failures.is_empty(), "{id}:\n{}", failures.join("\n"));
}

#[test]
fn s0_3_sidecars_missing_downward_env() {
    lint_seed("S0.3");
}

#[test]
fn s2_4_pod_root_user_breaks_dapr_sidecar() {
    lint_seed("S2.4");
}

#[test]
fn s3_10_pinned_load_balancer_spec() {
    lint_seed("S3.10");
}
