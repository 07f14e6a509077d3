//! `kubesleuth drift` through the CLI on the bundled example (seed S3.9: Git manifests out
//! of sync with the cluster).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn drift(manifests: &Path) -> (i32, Value) {
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary")
        .current_dir(repo())
        .arg("drift")
        .arg(manifests)
        .args(["--snapshot", "examples/broken-cluster", "--format", "json", "--fail-on", "warning"])
        .output()
        .expect("runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report)
}

fn summary(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} {} {}/{} {}:{}",
                f["rule"].as_str().unwrap_or_default(),
                f["object"]["kind"].as_str().unwrap_or_default(),
                f["object"]["namespace"].as_str().unwrap_or_default(),
                f["object"]["name"].as_str().unwrap_or_default(),
                f["location"]["file"].as_str().unwrap_or_default(),
                f["location"]["line"]
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_example_reports_exactly_its_drift() {
    let (code, report) = drift(Path::new("examples/manifests/shop"));
    assert_eq!(code, 1);
    assert_eq!(
        summary(&report),
        vec![
            "KS1401 Deployment shop/storefront examples/manifests/shop/storefront.yaml:19",
            "KS1402 Deployment shop/catalog examples/manifests/shop/catalog.yaml:10",
            "KS1403 Service shop/checkout examples/manifests/shop/checkout.yaml:57",
        ]
    );
    let image = &report["findings"].as_array().expect("findings").iter().find(|f| f["rule"] == "KS1401").cloned();
    let image = image.as_ref().expect("image drift");
    assert_eq!(image["cause"], "drift.image");
    assert!(image["title"].as_str().unwrap_or_default().contains("storefront:2.8.0 but Git says"), "{image}");
    let fixes = image["fix"].to_string();
    assert!(fixes.contains("kubectl -n shop set image deployment/storefront storefront="), "{fixes}");
}

#[test]
fn reverting_the_edits_and_spelling_out_defaults_leaves_no_drift() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = repo().join("examples/manifests/shop");
    for entry in std::fs::read_dir(&src).expect("example manifests").flatten() {
        let mut text = std::fs::read_to_string(entry.path()).expect("read");
        let name = entry.file_name();
        // The hand edits, reverted to what the cluster runs; a defaulted field made explicit.
        text = text.replace("storefront:2.8.1", "storefront:2.8.0");
        if name == "catalog.yaml" {
            text = text.replacen("replicas: 3", "replicas: 2", 1);
        }
        if name == "storefront.yaml" {
            text = text.replacen("spec:\n", "spec:\n  strategy:\n    type: RollingUpdate\n", 1);
        }
        std::fs::write(dir.path().join(&name), text).expect("write");
    }
    std::fs::remove_file(dir.path().join("checkout.yaml")).expect("checkout.yaml exists");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        std::fs::read_to_string(src.join("kustomization.yaml")).expect("read").replace("  - checkout.yaml\n", ""),
    )
    .expect("write");
    let (code, report) = drift(dir.path());
    assert_eq!(summary(&report), Vec::<String>::new(), "{report}");
    assert_eq!(code, 0);
}
