//! Every seed scenario end to end through the CLI: `kubesleuth scan --snapshot
//! fixtures/seeds/<ID>/snapshot --format json` must name the expected cause on the expected
//! object, with a fix that uses the real names, and must not report the planted traps.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod common;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Secret values planted in fixtures; none may ever be printed.
const CANARIES: &[&str] = &["CANARY-SECRET-VALUE-DO-NOT-PRINT", "Q0FOQVJZLVNFQ1JFVC1WQUxVRS1ETy1OT1QtUFJJTlQ="];

pub fn check_expectations(snapshot: &Path, expect_file: &Path) {
    let expect: Value = serde_json::from_str(&std::fs::read_to_string(expect_file).expect("expect.json readable"))
        .expect("expect.json parses");
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary built")
        .args(["scan", "--format", "json", "--snapshot"])
        .arg(snapshot)
        .output()
        .expect("kubesleuth runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.code() == Some(1) || out.status.code() == Some(0),
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
            f["cause"] == cause
                && f["object"]["kind"] == obj["kind"]
                && f["object"]["name"] == obj["name"]
                && (obj["namespace"].is_null() || f["object"]["namespace"] == obj["namespace"])
        });
        let Some(hit) = hit else {
            let got: Vec<String> = findings
                .iter()
                .map(|f| {
                    format!(
                        "{} {} {}/{}",
                        f["cause"], f["object"]["kind"], f["object"]["namespace"], f["object"]["name"]
                    )
                })
                .collect();
            failures.push(format!("missing {cause} on {obj}; got: {got:#?}"));
            continue;
        };
        common::check_fix_mentions(hit, want, &format!("{cause} on {obj}"), &mut failures);
    }
    for absent in expect["absent_causes"].as_array().into_iter().flatten() {
        if let Some(f) = findings.iter().find(|f| &f["cause"] == absent) {
            failures.push(format!("planted trap fired: {absent} on {}", f["object"]));
        }
    }
    assert!(failures.is_empty(), "{}:\n{}", snapshot.display(), failures.join("\n"));
}

fn seed(id: &str) {
    let dir = repo().join("fixtures/seeds").join(id);
    check_expectations(&dir.join("snapshot"), &dir.join("expect.json"));
}

macro_rules! seeds {
    ($($name:ident => $id:literal,)*) => {
        $(#[test] fn $name() { seed($id); })*
    };
}

seeds! {
    s0_2_mongodb_lock_file => "S0.2",
    s1_1_build_push_unauthorized => "S1.1",
    s1_2_build_job_pending => "S1.2",
    s1_3_agent_image_pull => "S1.3",
    s1_5_buildkitd_unreachable => "S1.5",
    s1_6_cluster_out_of_resources => "S1.6",
    s1_7_evicted_and_failed_pods => "S1.7",
    s2_1_python_module_missing => "S2.1",
    s2_2_permission_denied_root_local => "S2.2",
    s2_4_sidecar_run_as_non_root => "S2.4",
    s3_1_acr_pull_unauthorized => "S3.1",
    s3_3_certificate_not_ready => "S3.3",
    s3_4_backend_secrets => "S3.4",
    s3_5_ingress_not_routing => "S3.5",
    s3_6_crash_loops => "S3.6",
    s3_7_node_exhaustion => "S3.7",
    s3_8_docker_hub_unreachable => "S3.8",
}

#[test]
fn bundled_example_shows_every_planted_problem() {
    let dir = repo().join("examples/broken-cluster");
    check_expectations(&dir, &repo().join("examples/broken-cluster.expect.json"));
}
