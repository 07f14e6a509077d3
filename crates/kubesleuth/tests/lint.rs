//! `kubesleuth lint` through the CLI: inputs (files, stdin, kustomizations, Helm charts),
//! positions, suppression, exit codes, and the shared corpus of real manifests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared() -> Option<PathBuf> {
    let p = repo().join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared is absent");
        None
    }
}

fn lint(args: &[&str]) -> (i32, Value, String) {
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary")
        .current_dir(repo())
        .arg("lint")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let code = out.status.code().unwrap_or(-1);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code, json, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|a| a.iter().map(|f| f["rule"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn findings_point_at_file_line_and_column() {
    let (code, report, _) = lint(&["fixtures/rules/KS1201/fire-seed-002"]);
    assert_eq!(code, 1);
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "KS1201");
    assert_eq!(f["cause"], "security.invalid_field");
    assert_eq!(f["object"]["name"], "backend-api");
    assert_eq!(f["location"]["file"], "fixtures/rules/KS1201/fire-seed-002/deploy.yaml");
    assert_eq!(f["location"]["line"], 24);
    assert_eq!(f["location"]["column"], 9);
}

#[test]
fn text_output_shows_the_line_with_a_caret() {
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary")
        .current_dir(repo())
        .args(["lint", "fixtures/rules/KS1001/fire-typo", "--color", "never"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--> fixtures/rules/KS1001/fire-typo/deploy.yaml:7:3"), "{text}");
    assert!(text.contains(" 7 |   replicaz: 3\n   |   ^^^^^^^^\n"), "{text}");
    assert!(text.contains("did you mean `replicas`?"), "{text}");
}

#[test]
fn stdin_is_read_with_dash() {
    let yaml = std::fs::read_to_string(repo().join("fixtures/rules/KS1001/fire-typo/deploy.yaml")).expect("fixture");
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary")
        .args(["lint", "-", "--format", "json"])
        .write_stdin(yaml)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["findings"][0]["location"]["file"], "<stdin>");
    assert_eq!(report["findings"][0]["location"]["line"], 7);
}

#[test]
fn clean_manifests_exit_zero_and_errors_exit_one() {
    let (code, report, _) = lint(&["fixtures/rules/KS1001/clean"]);
    assert_eq!(code, 0, "{report}");
    let (code, _, _) = lint(&["fixtures/rules/KS1003/fire"]);
    assert_eq!(code, 0, "a warning does not fail the default --fail-on error");
    let (code, _, _) = lint(&["fixtures/rules/KS1003/fire", "--fail-on", "warning"]);
    assert_eq!(code, 1);
}

#[test]
fn missing_path_and_yaml_syntax_errors() {
    let (code, _, stderr) = lint(&["no/such/dir"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no/such/dir"), "{stderr}");

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [\n").expect("write");
    let (code, report, _) = lint(&[bad.to_str().expect("utf-8")]);
    // The readable document is still linted; the broken one is reported with its line.
    assert_eq!(code, 0);
    let gap = &report["unreadable"][0];
    assert_eq!(gap["file"], bad.to_str().expect("utf-8"));
    assert!(gap["line"].as_u64().is_some_and(|l| l >= 5), "{gap}");
}

#[test]
fn removed_apis_depend_on_the_target_version() {
    let (code, report, _) = lint(&["fixtures/rules/KS1004/fire", "--kube-version", "1.21"]);
    let _ = code;
    assert!(
        !rules_of(&report).contains(&"KS1004".to_string()),
        "extensions/v1beta1 Ingress is served by 1.21: {report}"
    );
    let (code, report, _) = lint(&["fixtures/rules/KS1004/fire", "--kube-version", "1.22"]);
    assert_eq!(code, 1);
    assert!(rules_of(&report).contains(&"KS1004".to_string()));
    let (code, _, stderr) = lint(&["fixtures/rules/KS1004/fire", "--kube-version", "banana"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("1.29"), "{stderr}");
}

#[test]
fn annotation_and_config_file_suppress() {
    let (_, report, _) = lint(&["fixtures/lint/suppress"]);
    let names: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KS1001")
        .filter_map(|f| f["object"]["name"].as_str())
        .collect();
    assert_eq!(names, vec!["worker"], "the annotated Deployment is silenced");

    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("kubesleuth.yaml");
    std::fs::write(&cfg, "ignore:\n  - rules: [unknown-field]\n    paths: [\"fixtures/lint/**\"]\n").expect("write");
    let (_, report, _) = lint(&["fixtures/lint/suppress", "--config", cfg.to_str().expect("utf-8")]);
    assert!(!rules_of(&report).contains(&"KS1001".to_string()), "{report}");
    std::fs::write(&cfg, "ignore:\n  - rules: [unknown-field]\n    paths: [\"elsewhere/**\"]\n").expect("write");
    let (_, report, _) = lint(&["fixtures/lint/suppress", "--config", cfg.to_str().expect("utf-8")]);
    assert!(rules_of(&report).contains(&"KS1001".to_string()), "another path's ignore does not apply");

    std::fs::write(&cfg, "severity:\n  KS1001: info\n").expect("write");
    let (_, report, _) = lint(&["fixtures/lint/suppress", "--config", cfg.to_str().expect("utf-8")]);
    let ks1001 = report["findings"].as_array().expect("findings").iter().find(|f| f["rule"] == "KS1001").cloned();
    assert_eq!(ks1001.expect("KS1001 finding")["severity"], "info");

    std::fs::write(&cfg, "ignroe: []\n").expect("write");
    let (code, _, stderr) = lint(&["fixtures/lint/suppress", "--config", cfg.to_str().expect("utf-8")]);
    assert_eq!(code, 2, "a misspelt config key is an error, not silently ignored");
    assert!(stderr.contains("ignroe"), "{stderr}");
}

#[test]
fn kustomization_is_rendered_with_kubectl() {
    if which("kubectl").is_none() {
        eprintln!("skipped: kubectl is not on PATH");
        return;
    }
    let (code, report, stderr) = lint(&["fixtures/lint/kustomize/overlays/prod"]);
    assert_eq!(code, 1, "{stderr}");
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "KS1001");
    assert_eq!(f["object"]["namespace"], "shop", "the overlay's namespace is applied");
    assert_eq!(f["location"]["file"], "fixtures/lint/kustomize/overlays/prod (kustomize)");
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(tool)).find(|p| p.is_file())
}

/// PATH with the repo's `helm` stand-in first (the real Helm engine from helm-python-sdk).
fn helm_path() -> Option<String> {
    let ok =
        std::process::Command::new("python3").args(["-c", "import helm_python"]).status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: the PyPI package helm-python-sdk is not installed");
        return None;
    }
    let tools = repo().join("fixtures/tools");
    Some(format!("{}:{}", tools.display(), std::env::var("PATH").unwrap_or_default()))
}

#[test]
fn helm_charts_are_rendered_and_findings_name_their_template() {
    let (Some(shared), Some(path)) = (shared(), helm_path()) else { return };
    let charts = shared.join("corpus/helm-charts");
    let mut rendered = 0;
    for entry in std::fs::read_dir(&charts).expect("charts").flatten() {
        let chart = entry.path();
        if !chart.join("Chart.yaml").is_file() {
            continue;
        }
        let out = Command::cargo_bin("kubesleuth")
            .expect("binary")
            .env("PATH", &path)
            .args(["lint", chart.to_str().expect("utf-8"), "--format", "json", "-n", "monitoring"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(2), "{}: {stderr}", chart.display());
        let report: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert!(report["summary"]["objects"].as_u64().unwrap_or(0) > 0, "{}: nothing rendered", chart.display());
        for f in report["findings"].as_array().into_iter().flatten() {
            let tpl = f["location"]["template"].as_str().unwrap_or_default();
            assert!(tpl.contains("/templates/"), "{}: finding without its template: {f}", chart.display());
        }
        rendered += 1;
    }
    assert!(rendered >= 3, "expected the corpus charts to render, rendered {rendered}");
}

#[test]
fn a_chart_without_helm_is_a_clear_error() {
    let Some(shared) = shared() else { return };
    let chart = shared.join("corpus/helm-charts/metrics-server");
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary")
        .env("PATH", "/nonexistent")
        .args(["lint", chart.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs `helm` on PATH"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

/// Every file of the shared corpus of real manifests is read without a crash, the only
/// unreadable ones are the fixtures that are malformed on purpose, and the number of findings
/// per rule is recorded (a change in it is reviewed in the snapshot diff).
#[test]
fn corpus_of_real_manifests() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("corpus/manifests");
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary")
        .current_dir(&shared)
        .args(["lint", "corpus/manifests", "--format", "json"])
        .output()
        .expect("runs");
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut unreadable: Vec<String> = report["unreadable"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| format!("{}:{}", g["file"].as_str().unwrap_or_default(), g["line"]))
        .collect();
    unreadable.sort();
    let mut per_rule: BTreeMap<String, usize> = BTreeMap::new();
    for r in rules_of(&report) {
        *per_rule.entry(r).or_default() += 1;
    }
    assert!(dir.is_dir());
    insta::assert_json_snapshot!("corpus_lint", (report["summary"]["objects"].clone(), per_rule, unreadable));
}

fn findings_of<'a>(report: &'a Value, rule: &str, kind: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == rule && f["object"]["kind"] == kind)
        .collect()
}

#[test]
fn custom_resources_are_checked_against_crds_given_with_crds() {
    let Some(_) = shared() else { return };
    let input = "fixtures/lint/schema-dir/manifests/certificate.yaml";
    // No CRD known: not an error, one note.
    let (code, report, stderr) = lint(&[input]);
    assert_eq!(code, 0, "{report}");
    assert!(findings_of(&report, "KS1001", "Certificate").is_empty(), "{report}");
    assert!(
        stderr.contains(
            "note: 1 object of kind Certificate (cert-manager.io/v1) not schema-checked: no CRD found; pass --crds DIR"
        ),
        "{stderr}"
    );
    // cert-manager's real CRDs.
    let (code, report, stderr) = lint(&[input, "--crds", "../shared/corpus/crds/cert-manager"]);
    assert_eq!(code, 1, "{report}");
    assert!(!stderr.contains("note:"), "{stderr}");
    let found = findings_of(&report, "KS1001", "Certificate");
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0]["title"], "unknown field `dnsName` at spec.dnsName (did you mean `dnsNames`?)");
    assert_eq!(found[0]["location"]["line"], 10);
    assert!(found[0]["root_cause"].as_str().unwrap_or_default().contains("CRD certificates.cert-manager.io"));
}

#[test]
fn gatekeeper_constraints_are_checked_against_templates_given_with_crds() {
    let dir = "fixtures/rules/KS1002/fire-gatekeeper-parameters";
    let constraint = format!("{dir}/constraint.yaml");
    // Without its template: one note, naming where the schema comes from.
    let (code, report, stderr) = lint(&[&constraint]);
    assert_eq!(code, 0, "{report}");
    assert!(
        stderr.contains("note: 1 object of kind AllowedRegistries (constraints.gatekeeper.sh/v1beta1) not schema-checked: no ConstraintTemplate or CRD found; pass the ConstraintTemplate with the inputs or --crds DIR"),
        "{stderr}"
    );
    let (code, report, stderr) = lint(&[&constraint, "--crds", &format!("{dir}/template.yaml")]);
    assert_eq!(code, 1, "{report}");
    assert!(!stderr.contains("note:"), "{stderr}");
    let found = findings_of(&report, "KS1002", "AllowedRegistries");
    let titles: Vec<&str> = found.iter().map(|f| f["title"].as_str().unwrap_or_default()).collect();
    assert_eq!(found.len(), 2, "{report}");
    assert!(titles[1].contains("`spec.parameters.registries`: invalid type"), "{titles:?}");
    assert_eq!(found[1]["location"]["line"], 18);
    assert!(found[1]["root_cause"].as_str().unwrap_or_default().contains("ConstraintTemplate allowedregistries"));
}

#[test]
fn a_broken_crd_is_a_note_and_a_missing_crds_dir_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let crd = std::fs::read_to_string(repo().join("fixtures/rules/KS1001/clean-crd/shopconfig.yaml")).expect("fixture");
    // A pattern no regex engine reads.
    let broken = crd.replace(
        "currency:\n                  type: string",
        "currency:\n                  type: string\n                  pattern: \"(unclosed\"",
    );
    assert_ne!(broken, crd);
    std::fs::write(dir.path().join("shop.yaml"), broken).expect("write");
    let (code, _, stderr) = lint(&[dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("note: CRD shopconfigs.shop.example.com: the schema of ShopConfig (shop.example.com/v1alpha1) cannot be used"),
        "{stderr}"
    );
    let (code, _, stderr) = lint(&["fixtures/rules/KS1001/clean-crd", "--crds", "no/such/dir"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no/such/dir"), "{stderr}");
}

fn lint_text(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary")
        .current_dir(repo())
        .arg("lint")
        .args(args)
        .args(["--color", "never"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    // The summary line ends with the run time.
    let text = regex_lite_time(&text);
    (out.status.code().unwrap_or(-1), text, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `(41 ms)` → `(N ms)`.
fn regex_lite_time(text: &str) -> String {
    text.lines()
        .map(|l| match (l.rfind(" ("), l.ends_with(" ms)")) {
            (Some(i), true) => format!("{} (N ms)", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn schema_dir_replaces_the_builtin_types_for_the_kinds_it_has() {
    let args = ["fixtures/lint/schema-dir/manifests", "--schema-dir", "fixtures/lint/schema-dir/schemas"];
    let (code, text, stderr) = lint_text(&args);
    assert_eq!(code, 1, "{stderr}");
    // The catalog file covers the Certificate: no note.
    assert!(!stderr.contains("note:"), "{stderr}");
    insta::assert_snapshot!("schema_dir_text", text);
    let (_, report, _) = lint(&args);
    // Pod-level `resources` is unknown to the older PodSpec of the directory; the built-in
    // (1.37) types have it. Pod-level `env` is unknown to both, and the built-in types say
    // where it belongs, as they do without `--schema-dir`.
    let titles = |report: &serde_json::Value| -> Vec<String> {
        findings_of(report, "KS1001", "Deployment")
            .iter()
            .filter_map(|f| f["title"].as_str())
            .map(String::from)
            .collect()
    };
    let env = "`env` is not valid at spec.template.spec.env; it belongs in spec.template.spec.containers[*]";
    assert_eq!(titles(&report), vec![env, "unknown field `resources` at spec.template.spec.resources"]);
    let (_, report, _) = lint(&["fixtures/lint/schema-dir/manifests"]);
    assert_eq!(titles(&report), vec![env]);
    // ConfigMap has no file there: the built-in check still finds its typo.
    let (_, report, _) = lint(&args);
    let cm: Vec<&str> =
        findings_of(&report, "KS1001", "ConfigMap").iter().filter_map(|f| f["title"].as_str()).collect();
    assert_eq!(cm, vec!["unknown field `dta` at dta (did you mean `data`?)"]);
}

#[test]
fn bad_schema_dirs_are_errors_naming_the_file() {
    let (code, _, stderr) = lint(&["fixtures/rules/KS1001/fire-typo", "--schema-dir", "no/such/schemas"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--schema-dir no/such/schemas: not a directory"), "{stderr}");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("deployment-apps-v1.json"), "{\"type\": \"object\",").expect("write");
    let (code, _, stderr) =
        lint(&["fixtures/rules/KS1001/fire-typo", "--schema-dir", dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 2);
    let file = dir.path().join("deployment-apps-v1.json");
    assert!(stderr.contains(&format!("{}: not a usable JSON schema", file.display())), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// The schemas the PyPI package kubernetes-validate ships, when it is installed here.
fn kubernetes_validate_schemas(version: &str) -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import kubernetes_validate, os; print(os.path.dirname(kubernetes_validate.__file__))"])
        .output()
        .ok()?;
    let base = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dir = Path::new(&base).join("kubernetes-json-schema").join(version);
    if out.status.success() && dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: the PyPI package kubernetes-validate is not installed");
        None
    }
}

#[test]
fn kubernetes_validate_schema_dir_of_an_older_version() {
    let Some(dir) = kubernetes_validate_schemas("v1.29.0-local-strict") else { return };
    let dir = dir.to_str().expect("utf-8");
    let (code, report, stderr) = lint(&["fixtures/rules/KS1001/fire-typo", "--schema-dir", dir]);
    assert_eq!(code, 1, "{stderr}");
    let f = findings_of(&report, "KS1001", "Deployment");
    assert_eq!(f.len(), 1, "{report}");
    assert_eq!(f[0]["title"], "unknown field `replicaz` at spec.replicaz (did you mean `replicas`?)");
    assert_eq!(f[0]["location"]["line"], 7);
    assert!(f[0]["root_cause"].as_str().unwrap_or_default().contains("v1.29.0-local-strict/deployment-apps-v1.json"));
    // Kubernetes 1.29 has no pod-level resources, and no Kubernetes has pod-level env.
    let (_, report, _) = lint(&["fixtures/lint/schema-dir/manifests/deploy.yaml", "--schema-dir", dir]);
    let titles: Vec<&str> =
        findings_of(&report, "KS1001", "Deployment").iter().filter_map(|f| f["title"].as_str()).collect();
    assert_eq!(
        titles,
        vec![
            "`env` is not valid at spec.template.spec.env; it belongs in spec.template.spec.containers[*]",
            "unknown field `resources` at spec.template.spec.resources"
        ]
    );
    let invalid: Vec<&str> =
        findings_of(&report, "KS1002", "Deployment").iter().filter_map(|f| f["title"].as_str()).collect();
    assert!(
        invalid.iter().any(|t| t.contains("`spec.replicas`: invalid type: string \"3\" where integer is expected")),
        "{invalid:?}"
    );
    // A hard negative: valid manifests stay clean against 1.29.
    let (code, report, _) = lint(&["fixtures/rules/KS1001/clean", "--schema-dir", dir]);
    assert!(findings_of(&report, "KS1001", "Deployment").is_empty() && code != 2, "{report}");
}
