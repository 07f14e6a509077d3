//! The command-line contract: exit codes, bad input, formats, `why`, `rules`, docs drift.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ks() -> Command {
    Command::cargo_bin("kubesleuth").expect("binary built")
}

fn fixture(rel: &str) -> PathBuf {
    repo().join(rel)
}

#[test]
fn findings_exit_1_and_clean_input_exits_0() {
    ks().args(["scan", "--snapshot"]).arg(fixture("fixtures/rules/KS0201/fire")).assert().code(1);
    ks().args(["scan", "--snapshot"])
        .arg(fixture("fixtures/rules/KS0201/clean"))
        .assert()
        .code(0)
        .stdout(predicates::str::contains("No problems found."));
}

#[test]
fn fail_on_raises_and_lowers_the_bar() {
    // The KS0201 fixture has an error: --fail-on warning still fails, and a clean snapshot passes.
    ks().args(["scan", "--fail-on", "warning", "--snapshot"])
        .arg(fixture("fixtures/rules/KS0201/fire"))
        .assert()
        .code(1);
    ks().args(["scan", "--fail-on", "info", "--snapshot"]).arg(fixture("fixtures/rules/KS0201/clean")).assert().code(0);
}

#[test]
fn json_follows_the_contract() {
    let out = ks()
        .args(["scan", "--format", "json", "--snapshot"])
        .arg(fixture("fixtures/rules/KS0201/fire"))
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["tool"]["name"], "kubesleuth");
    let f = &v["findings"][0];
    for key in ["rule", "name", "severity", "cause", "object", "affected", "title", "root_cause", "evidence", "fix"] {
        assert!(!f[key].is_null(), "finding lacks {key}: {f}");
    }
    assert_eq!(f["rule"], "KS0201");
    assert_eq!(f["cause"], "config.secret_key_missing");
    assert_eq!(f["object"]["kind"], "Deployment");
    assert_eq!(f["evidence"][0]["source"], "status");
    for key in ["errors", "warnings", "infos", "objects", "duration_ms"] {
        assert!(v["summary"][key].is_u64(), "summary lacks {key}");
    }
}

#[test]
fn markdown_renders_the_same_finding() {
    ks().args(["scan", "--format", "markdown", "--snapshot"])
        .arg(fixture("fixtures/rules/KS0201/fire"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains("## error `KS0201`: Secret shop/backend-secrets has no key mongodb-url"));
}

#[test]
fn output_file_and_no_colour_when_not_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("report.txt");
    ks().args(["scan", "-o"]).arg(&path).arg("--snapshot").arg(fixture("fixtures/rules/KS0201/fire")).assert().code(1);
    let text = std::fs::read_to_string(&path).expect("report written");
    assert!(text.contains("error[KS0201]"));
    assert!(!text.contains('\u{1b}'), "no ANSI escapes in a file");
}

#[test]
fn malformed_input_is_reported_with_file_and_line_and_the_rest_is_analysed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fixture("fixtures/rules/KS0201/fire/snapshot.json"), dir.path().join("good.json")).expect("copy");
    std::fs::write(dir.path().join("bad.json"), "{\"kind\": \"PodList\",\n \"items\": [ oops ]}\n").expect("write");
    std::fs::write(dir.path().join("junk.bin"), [0xffu8, 0xfe, 0, 1, 2, 3]).expect("write");
    let out = ks().args(["scan", "--snapshot"]).arg(dir.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(1), "findings from the good file still count");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("error[KS0201]"), "{stdout}");
    assert!(stdout.contains("bad.json:2: malformed JSON"), "{stdout}");
    assert!(stdout.contains("junk.bin:1: binary data"), "{stdout}");
}

#[test]
fn nothing_readable_exits_2_with_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.json"), "{ not json").expect("write");
    let out = ks().args(["scan", "--snapshot"]).arg(dir.path()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad.json:1"), "{stderr}");
}

#[test]
fn missing_path_and_bad_usage_exit_2() {
    ks().args(["scan", "--snapshot", "/nonexistent/dump"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent/dump"));
    ks().args(["scan", "--format", "yaml", "--snapshot", "x"]).assert().code(2);
    ks().args(["why", "backend", "--snapshot"]).arg(fixture("fixtures/rules/KS0201/fire")).assert().code(2);
}

#[test]
fn live_scan_without_snapshot_says_so() {
    ks().args(["scan"]).assert().code(2).stderr(predicates::str::contains("--snapshot"));
}

#[test]
fn why_follows_the_chain_to_the_cause() {
    ks().args(["why", "deploy/backend", "--snapshot"])
        .arg(fixture("fixtures/rules/KS0201/fire"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains("Deployment shop/backend"))
        .stdout(predicates::str::contains("Pod backend-7d9f8c6b5-x2k4q"))
        .stdout(predicates::str::contains("waiting CreateContainerConfigError"))
        .stdout(predicates::str::contains("error[KS0201]"));
    ks().args(["why", "deploy/nope", "--snapshot"]).arg(fixture("fixtures/rules/KS0201/fire")).assert().code(2);
}

#[test]
fn namespace_filter_keeps_only_that_namespace() {
    ks().args(["scan", "-n", "other", "--snapshot"]).arg(fixture("fixtures/rules/KS0201/fire")).assert().code(0);
}

#[test]
fn rules_lists_the_catalogue_and_shows_docs() {
    ks().args(["rules"]).assert().code(0).stdout(predicates::str::contains("KS0201  secret-key-missing"));
    ks().args(["rules", "KS0201"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("### How to confirm"))
        .stdout(predicates::str::contains("config.secret_key_missing"));
    ks().args(["rules", "KS9999"]).assert().code(2);
    // The catalogue is not a report: report formats are refused, not ignored.
    ks().args(["rules", "--format", "sarif"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("invalid value 'sarif'"));
}

#[test]
fn generated_rule_docs_are_up_to_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    ks().args(["rules", "--write-docs"]).arg(dir.path()).assert().code(0);
    let committed = repo().join("docs/rules");
    let mut stale = Vec::new();
    for e in std::fs::read_dir(dir.path()).expect("generated") {
        let e = e.expect("entry");
        let fresh = std::fs::read_to_string(e.path()).expect("read");
        let old = std::fs::read_to_string(committed.join(e.file_name())).unwrap_or_default();
        if fresh != old {
            stale.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    let generated: std::collections::HashSet<_> =
        std::fs::read_dir(dir.path()).expect("dir").flatten().map(|e| e.file_name()).collect();
    for e in std::fs::read_dir(&committed).into_iter().flatten().flatten() {
        if !generated.contains(&e.file_name()) {
            stale.push(format!("{} (no such rule)", e.file_name().to_string_lossy()));
        }
    }
    assert!(
        stale.is_empty(),
        "docs/rules is stale; run `cargo run -p kubesleuth -- rules --write-docs docs/rules`: {stale:?}"
    );
}
