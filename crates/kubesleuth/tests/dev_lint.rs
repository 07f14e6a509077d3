//! The inner-loop seed scenarios end to end through `kubesleuth lint`: Dockerfiles,
//! Containerfiles and skaffold.yaml next to the manifests (S0.5/S0.9, S0.6, S2.2, S4.1), each
//! with the hard negatives that must stay quiet.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `kubesleuth lint <dir> --format json`, run from the repository root so paths are relative.
fn lint(rel: &str) -> (i32, Vec<Value>, Vec<Value>) {
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary")
        .current_dir(repo())
        .args(["lint", "--format", "json", rel])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{rel}: {e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    let findings = v["findings"].as_array().cloned().unwrap_or_default();
    let gaps = v["unreadable"].as_array().cloned().unwrap_or_default();
    (out.status.code().unwrap_or(-1), findings, gaps)
}

fn dev_findings(findings: &[Value]) -> Vec<&Value> {
    findings.iter().filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("KS15"))).collect()
}

fn one<'a>(findings: &'a [Value], rule: &str) -> &'a Value {
    let mine: Vec<&Value> = findings.iter().filter(|f| f["rule"] == rule).collect();
    assert_eq!(mine.len(), 1, "{rule}: {findings:#?}");
    mine[0]
}

fn fixes(f: &Value) -> String {
    f["fix"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            format!("{} {}\n", x["description"].as_str().unwrap_or_default(), x["command"].as_str().unwrap_or_default())
        })
        .collect()
}

#[test]
fn s2_2_seed_dockerfile_copies_root_local_then_switches_user() {
    let (code, findings, gaps) = lint("fixtures/seeds/S2.2/repo");
    assert!(gaps.is_empty(), "{gaps:?}");
    assert_eq!(code, 1);
    let f = one(&findings, "KS1502");
    assert_eq!(f["cause"], "dev.dockerfile_user");
    assert_eq!(f["location"]["file"], "fixtures/seeds/S2.2/repo/backend/Dockerfile");
    assert_eq!(f["location"]["line"], 11);
    assert_eq!(f["location"]["column"], 1);
    let fx = fixes(f);
    assert!(fx.contains("COPY --from=builder --chown=appuser:appuser /root/.local /home/appuser/.local"), "{fx}");
    assert!(fx.contains("ENV PATH=/home/appuser/.local/bin:$PATH"), "{fx}");
}

#[test]
fn s2_2_hard_negatives_copy_into_home_or_stay_root() {
    for dir in ["fixtures/rules/KS1502/clean-home-chown", "fixtures/rules/KS1502/clean-stays-root"] {
        let (_, findings, gaps) = lint(dir);
        assert!(gaps.is_empty(), "{dir}: {gaps:?}");
        assert!(findings.iter().all(|f| f["cause"] != "dev.dockerfile_user"), "{dir}: {findings:#?}");
    }
}

#[test]
fn s0_6_cache_mount_over_cargo_target() {
    let (_, findings, gaps) = lint("fixtures/rules/KS1501/fire-cargo-target");
    assert!(gaps.is_empty(), "{gaps:?}");
    let f = one(&findings, "KS1501");
    assert_eq!(f["cause"], "dev.build_cache");
    assert_eq!(f["location"]["line"], 7);
    assert!(f["title"].as_str().unwrap_or_default().contains("/app/target"), "{f:#}");
    let fx = fixes(f);
    // The suggested RUN keeps the registry caches and drops the target mount.
    assert!(fx.contains("--mount=type=cache,target=/usr/local/cargo/registry"), "{fx}");
    assert!(!fx.contains("target=/app/target"), "{fx}");
    assert!(fx.contains("docker builder prune --filter type=exec.cachemount"), "{fx}");
}

#[test]
fn s0_6_hard_negative_package_caches_only() {
    let (_, findings, gaps) = lint("fixtures/rules/KS1501/clean-package-caches");
    assert!(gaps.is_empty(), "{gaps:?}");
    assert!(dev_findings(&findings).is_empty(), "{findings:#?}");
}

#[test]
fn s4_1_sync_into_builder_stage_and_hup_to_uvicorn() {
    let (_, findings, gaps) = lint("fixtures/rules/KS1503/fire-builder-stage");
    assert!(gaps.is_empty(), "{gaps:?}");
    let f = one(&findings, "KS1503");
    assert_eq!(f["cause"], "dev.sync_reload");
    assert_eq!(f["location"]["file"], "fixtures/rules/KS1503/fire-builder-stage/skaffold.yaml");
    assert_eq!(f["location"]["line"], 13);

    let (_, findings, _) = lint("fixtures/rules/KS1504/fire-pkill-hup-uvicorn");
    let f = one(&findings, "KS1504");
    let why = f["root_cause"].as_str().unwrap_or_default();
    assert!(why.contains("no `pkill` (package procps)") && why.contains("does not handle SIGHUP"), "{why}");
    assert!(fixes(f).contains("\"--reload\""), "{f:#}");

    let (_, findings, _) = lint("fixtures/rules/KS1504/fire-kill-pid1");
    let f = one(&findings, "KS1504");
    assert!(f["root_cause"].as_str().unwrap_or_default().contains("restarts the container"), "{f:#}");
}

#[test]
fn s4_1_hard_negatives_gunicorn_workers_and_final_stage_sources() {
    for dir in [
        "fixtures/rules/KS1503/clean-final-stage-copies",
        "fixtures/rules/KS1504/clean-gunicorn-hup",
        "fixtures/rules/KS1504/clean-uvicorn-workers",
    ] {
        let (_, findings, gaps) = lint(dir);
        assert!(gaps.is_empty(), "{dir}: {gaps:?}");
        assert!(findings.iter().all(|f| f["cause"] != "dev.sync_reload"), "{dir}: {findings:#?}");
    }
}

#[test]
fn s0_5_sha256_tag_policy_with_if_not_present() {
    let (_, findings, gaps) = lint("fixtures/rules/KS1505/fire-sha256-ifnotpresent");
    assert!(gaps.is_empty(), "{gaps:?}");
    let f = one(&findings, "KS1505");
    assert_eq!(f["cause"], "dev.tag_policy");
    assert_eq!(f["affected"][0]["name"], "angzarr-topology");
    assert!(fixes(f).contains("gitCommit"), "{f:#}");
    for dir in ["fixtures/rules/KS1505/clean-gitcommit", "fixtures/rules/KS1505/clean-pull-always"] {
        let (_, findings, _) = lint(dir);
        assert!(findings.iter().all(|f| f["rule"] != "KS1505"), "{dir}: {findings:#?}");
    }
}

#[test]
fn dockerfile_user_meets_the_manifests_run_as_non_root() {
    let (_, findings, _) = lint("fixtures/rules/KS1507/fire-non-numeric-user");
    let f = one(&findings, "KS1507");
    assert_eq!(f["object"]["name"], "backend-api");
    assert!(f["root_cause"].as_str().unwrap_or_default().contains("image has non-numeric user (appuser)"), "{f:#}");
    let (_, findings, _) = lint("fixtures/rules/KS1507/fire-no-user-skaffold");
    assert!(one(&findings, "KS1507")["root_cause"].as_str().unwrap_or_default().contains("will run as root"));
}

#[test]
fn json_of_the_s2_2_seed_is_stable() {
    let (_, findings, _) = lint("fixtures/seeds/S2.2/repo");
    insta::assert_json_snapshot!("dev_lint_s2_2", dev_findings(&findings));
}
