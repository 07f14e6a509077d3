//! `--format sarif|junit|html` end to end on the bundled broken cluster: the binary passes the
//! whole catalogue to SARIF, JUnit fails exactly when the exit code does, HTML is one page.
//! (ks-report's own tests snapshot each format in full on a fixed set of findings.)

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scan(format: &str, extra: &[&str]) -> (String, Option<i32>) {
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary built")
        .args(["scan", "--snapshot"])
        .arg(repo().join("examples/broken-cluster"))
        .args(["--format", format])
        .args(extra)
        .output()
        .expect("runs");
    (String::from_utf8(out.stdout).expect("utf-8"), out.status.code())
}

fn json_findings() -> Vec<Value> {
    let (text, _) = scan("json", &[]);
    let v: Value = serde_json::from_str(&text).expect("json");
    v["findings"].as_array().expect("findings").clone()
}

fn catalogue_ids() -> Vec<String> {
    let out = Command::cargo_bin("kubesleuth").expect("binary").args(["rules", "--format", "json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).expect("rules json");
    v.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn sarif_carries_the_catalogue_and_one_result_per_finding() {
    let (text, code) = scan("sarif", &[]);
    assert_eq!(code, Some(1), "the format does not change the exit code");
    let log: Value = serde_json::from_str(&text).expect("SARIF is JSON");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, catalogue_ids(), "the whole catalogue, in catalogue order");
    for r in rules {
        assert!(r["help"]["markdown"].as_str().unwrap().contains("### What it finds"), "{}", r["id"]);
        let tags = r["properties"]["tags"].as_array().unwrap();
        assert!(tags.iter().any(|t| t.as_str().unwrap().contains('.')), "cause code among tags: {}", r["id"]);
    }

    let findings = json_findings();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let mut fingerprints = std::collections::BTreeSet::new();
    for (r, f) in results.iter().zip(&findings) {
        assert_eq!(r["ruleId"], f["rule"]);
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], f["rule"]);
        let level = match f["severity"].as_str().unwrap() {
            "info" => "note",
            s => s,
        };
        assert_eq!(r["level"], level);
        assert!(r["message"]["text"].as_str().unwrap().starts_with(f["title"].as_str().unwrap()));
        // Cluster findings: the object as a logical location, no invented file.
        let loc = &r["locations"][0];
        let o = &f["object"];
        let fqn = match o["namespace"].as_str() {
            Some(ns) => format!("{}/{ns}/{}", o["kind"].as_str().unwrap(), o["name"].as_str().unwrap()),
            None => format!("{}/{}", o["kind"].as_str().unwrap(), o["name"].as_str().unwrap()),
        };
        assert_eq!(loc["logicalLocations"][0]["fullyQualifiedName"], fqn.as_str());
        assert_eq!(loc["physicalLocation"].is_null(), f["location"].is_null());
        assert!(fingerprints.insert(r["partialFingerprints"]["kubesleuth/v1"].as_str().unwrap().to_string()));
    }

    // Same input, same fingerprints: what lets code scanning track results across runs.
    let (again, _) = scan("sarif", &[]);
    let again: Value = serde_json::from_str(&again).unwrap();
    let fp = |log: &Value| -> Vec<Value> {
        log["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"].clone()).collect()
    };
    assert_eq!(fp(&log), fp(&again));
}

/// Test case names and outcomes, in order; durations left out.
fn junit_outline(xml: &str) -> String {
    let mut out = String::new();
    for case in xml.split("<testcase ").skip(1) {
        let name = case.split("name=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
        let head = case.split("</testcase>").next().unwrap_or(case);
        let outcome = if head.contains("<failure") {
            "failure"
        } else if head.contains("<error") {
            "error"
        } else {
            "pass"
        };
        out.push_str(&format!("{outcome:<7} {name}\n"));
    }
    out
}

#[test]
fn junit_fails_exactly_the_findings_at_fail_on() {
    let findings = json_findings();
    let errors = findings.iter().filter(|f| f["severity"] == "error").count();
    let warnings = findings.iter().filter(|f| f["severity"] == "warning").count();
    assert!(errors > 0 && warnings > 0, "the example has both");

    let (xml, code) = scan("junit", &[]);
    assert_eq!(code, Some(1));
    assert!(xml.starts_with("<?xml"));
    assert_eq!(xml.matches("<testcase ").count(), findings.len());
    assert_eq!(xml.matches("<failure ").count(), errors, "warnings pass at --fail-on error");
    assert!(xml.contains("name=\"KS0201 Deployment shop/checkout\" classname=\"kubesleuth.KS0201\""));

    let (strict, _) = scan("junit", &["--fail-on", "warning"]);
    assert_eq!(strict.matches("<failure ").count(), errors + warnings);

    insta::assert_snapshot!(junit_outline(&xml));
}

#[test]
fn html_is_one_page_with_every_finding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let (stdout, code) = scan("html", &["-o", path.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty(), "-o writes the file, not stdout");
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    assert!(!page.contains("<script") && !page.contains("<link"));
    let findings = json_findings();
    assert_eq!(page.matches("<article class=\"finding ").count(), findings.len());
    for f in &findings {
        let title = f["title"].as_str().unwrap().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let title = title.replace('"', "&quot;").replace('\'', "&#39;");
        assert!(page.contains(&title), "page lacks {title}");
    }
    // The catalogue reached the page: each finding links its rule's docs.
    assert_eq!(page.matches("<details><summary>Rule ").count(), findings.len());
}

/// Error-level results of the SARIF Multitool's validation (schema, SARIF rules, GitHub's
/// ingestion rules) of `sarif`, or None when the tool is not installed (see `.ci/run`).
fn multitool_errors(sarif: &str) -> Option<Vec<String>> {
    let modules = repo().join("target/tools/node_modules");
    let tool = std::env::var_os("SARIF_MULTITOOL").map(PathBuf::from).or_else(|| {
        // The native binary, not the npm wrapper, which would split `Sarif;Gh` in a shell.
        ["linux", "darwin"]
            .iter()
            .map(|os| modules.join(format!("@microsoft/sarif-multitool-{os}/Sarif.Multitool")))
            .find(|p| p.is_file())
    });
    let Some(tool) = tool else {
        eprintln!("skipped: SARIF Multitool not found (set SARIF_MULTITOOL or see .ci/run)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("kubesleuth.sarif"), dir.path().join("validation.sarif"));
    std::fs::write(&input, sarif).unwrap();
    let out = std::process::Command::new(&tool)
        .arg("validate")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(["--rule-kind", "Sarif;Gh"])
        .output()
        .expect("run the SARIF Multitool");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let log: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let run = &log["runs"][0];
    assert_eq!(run["invocations"][0]["executionSuccessful"], true, "{stdout}");
    let rules = run["tool"]["driver"]["rules"].as_array().cloned().unwrap_or_default();
    let errors: Vec<String> = run["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            // A result's level defaults to its rule's configured level, then to `warning`.
            let rule = r["ruleIndex"].as_u64().and_then(|i| rules.get(i as usize));
            let level = r["level"]
                .as_str()
                .or(rule.and_then(|x| x["defaultConfiguration"]["level"].as_str()))
                .unwrap_or("warning");
            level == "error"
        })
        .map(|r| format!("{} {}", r["ruleId"], r["message"]))
        .collect();
    if !errors.is_empty() {
        eprintln!("{stdout}");
    }
    Some(errors)
}

#[test]
fn scan_sarif_passes_the_sarif_multitool() {
    let (text, _) = scan("sarif", &[]);
    if let Some(errors) = multitool_errors(&text) {
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

fn lint(format: &str) -> String {
    // Relative paths from the repository root: what a CI job uploading to code scanning runs.
    let out = Command::cargo_bin("kubesleuth")
        .expect("binary built")
        .current_dir(repo())
        .args(["lint", "examples/manifests", "--format", format])
        .output()
        .expect("runs");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// What GitHub code scanning needs to accept an upload and show each alert on its line.
#[test]
fn lint_sarif_fits_github_code_scanning() {
    let findings: Value = serde_json::from_str(&lint("json")).expect("json");
    let findings = findings["findings"].as_array().unwrap().clone();
    assert!(!findings.is_empty(), "the example manifests have findings");
    let text = lint("sarif");
    let log: Value = serde_json::from_str(&text).expect("SARIF is JSON");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for (r, f) in results.iter().zip(&findings) {
        let id = r["ruleId"].as_str().expect("ruleId");
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"], id, "ruleIndex names the rule");
        assert!(r["message"]["text"].as_str().is_some_and(|m| !m.trim().is_empty()));
        let loc = &f["location"];
        assert!(!loc.is_null(), "GitHub rejects a whole upload with a file-less result: {f}");
        let phys = &r["locations"][0]["physicalLocation"];
        let uri = phys["artifactLocation"]["uri"].as_str().expect("artifact uri");
        assert_eq!(uri, loc["file"].as_str().unwrap(), "plain relative paths need no encoding");
        assert!(uri.starts_with("examples/manifests/"), "relative to the repository root: {uri}");
        assert_eq!(phys["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(phys["region"]["startLine"].as_u64().is_some_and(|n| n >= 1));
        assert_eq!(phys["region"]["startLine"], loc["line"]);
        assert_eq!(phys["region"]["startColumn"], loc["column"]);
    }
    if let Some(errors) = multitool_errors(&text) {
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
