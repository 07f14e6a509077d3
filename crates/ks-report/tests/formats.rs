//! SARIF, JUnit and HTML on one fixed set of findings: snapshots, a GitHub-code-scanning-shaped
//! check, Microsoft's SARIF Multitool, JUnit read back as XML, HTML escaping.

use std::path::{Path, PathBuf};
use std::process::Command;

use ks_core::{Cause, Finding, Gap, RuleKind, RuleMeta, Severity, Summary, declare_rule};
use ks_report::{Format, Options, Report, emitter_with, sarif::Sarif};
use serde_json::{Value, json};

declare_rule! {
    /// ### What it finds
    /// A container reads a key the Secret does not have.
    ///
    /// ### Why it breaks
    /// The kubelet will not start the container.
    ///
    /// ### How to confirm
    /// `kubectl describe pod`.
    ///
    /// ### Fix
    /// Add the key.
    ///
    /// ### Prevention
    /// Lint manifests in CI.
    ///
    /// ### Example
    /// `couldn't find key mongodb-url in Secret shop/backend-secrets`
    static SECRET_KEY_MISSING = {
        id: "KS0201",
        name: "secret-key-missing",
        cause: Cause::ConfigSecretKeyMissing,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a container's secretKeyRef names a key the Secret does not have",
    }
}

declare_rule! {
    /// ### What it finds
    /// `capabilities` in a pod-level securityContext, where Kubernetes ignores it.
    ///
    /// ### Why it breaks
    /// The capability is never dropped or added.
    ///
    /// ### How to confirm
    /// `kubectl apply --dry-run=server` warns about the unknown field.
    ///
    /// ### Fix
    /// Move it to the container's securityContext.
    ///
    /// ### Prevention
    /// `kubesleuth lint` in CI.
    ///
    /// ### Example
    /// `spec.template.spec.securityContext.capabilities`
    static MISPLACED_FIELD = {
        id: "KS1002",
        name: "field-misplaced",
        cause: Cause::SecurityInvalidField,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a field sits where Kubernetes ignores it",
    }
}

declare_rule! {
    /// ### What it finds
    /// A node reports pressure.
    ///
    /// ### Why it breaks
    /// The kubelet evicts pods.
    ///
    /// ### How to confirm
    /// `kubectl describe node`.
    ///
    /// ### Fix
    /// Free resources.
    ///
    /// ### Prevention
    /// Alert on node conditions.
    ///
    /// ### Example
    /// `MemoryPressure True`
    static NODE_PRESSURE = {
        id: "KS0602",
        name: "node-pressure",
        cause: Cause::NodePressure,
        severity: Severity::Info,
        kind: RuleKind::Runtime,
        summary: "a node reports memory, disk or PID pressure",
    }
}

/// The catalogue in catalogue order; KS0101 has no finding, so rules and results differ.
fn catalogue() -> Vec<&'static RuleMeta> {
    static UNUSED: RuleMeta = RuleMeta {
        id: "KS0101",
        name: "image-pull-unauthorized",
        cause: Cause::ImageAuth,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the registry refuses the pull credentials",
        docs: " ### What it finds\n The registry says 401.\n",
        prevention_cache: std::sync::OnceLock::new(),
    };
    vec![&UNUSED, &SECRET_KEY_MISSING, &NODE_PRESSURE, &MISPLACED_FIELD]
}

const SCRIPT: &str = "<script>alert(\"pwned\")</script>";

/// Built from JSON so fields added to `Finding` later (all optional) do not break the test.
fn findings() -> Vec<Finding> {
    let runtime = json!({
        "rule": "KS0201", "name": "secret-key-missing", "severity": "error", "cause": "config.secret_key_missing",
        "object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "backend"},
        "affected": [{"kind": "Pod", "namespace": "shop", "name": "backend-7d9f8c6b5-x2k4q"}],
        "scope": "1 of 1 pods",
        "title": "Secret shop/backend-secrets has no key mongodb-url",
        "root_cause": "The container backend reads env MONGODB_URL from secretKeyRef backend-secrets/mongodb-url. The Secret exists but its keys are: mongo-url.",
        "evidence": [
            {"source": "status", "text": "CreateContainerConfigError: couldn't find key mongodb-url in Secret shop/backend-secrets",
             "object": {"kind": "Pod", "namespace": "shop", "name": "backend-7d9f8c6b5-x2k4q"}},
            {"source": "log", "text": format!("GET /search?q={SCRIPT} & 'quoted' 500"),
             "object": {"kind": "Pod", "namespace": "shop", "name": "backend-7d9f8c6b5-x2k4q"}}
        ],
        "fix": [
            {"description": "Add the key mongodb-url to the Secret",
             "command": "kubectl -n shop patch secret backend-secrets --type merge -p '{\"stringData\":{\"mongodb-url\":\"<value>\"}}'"},
            {"description": "Check which keys exist"}
        ],
        "prevention": "Lint manifests in CI."
    });
    let lint = json!({
        "rule": "KS1002", "name": "field-misplaced", "severity": "warning", "cause": "security.invalid_field",
        "object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web"},
        "affected": [],
        "title": "capabilities is a container-level field; Kubernetes ignores it in the pod securityContext",
        "root_cause": "spec.template.spec.securityContext.capabilities is not a PodSecurityContext field.",
        "evidence": [{"source": "manifest", "text": "securityContext: {capabilities: {drop: [ALL]}}"}],
        "fix": [{"description": "Move it to spec.template.spec.containers[*].securityContext"}],
        "location": {"file": "./deploy/web app.yaml", "line": 12, "column": 9}
    });
    let node = json!({
        "rule": "KS0602", "name": "node-pressure", "severity": "info", "cause": "node.pressure",
        "object": {"kind": "Node", "name": "worker-1"},
        "affected": [],
        "title": "Node worker-1 reports DiskPressure",
        "root_cause": "The kubelet reports DiskPressure=True.",
        "evidence": [], "fix": []
    });
    let mut out: Vec<Finding> =
        [runtime, lint, node].into_iter().map(|v| serde_json::from_value(v).expect("finding")).collect();
    out[0].root_key = "secret-key:shop/backend-secrets:mongodb-url".into();
    out
}

fn lint_only() -> Vec<Finding> {
    findings().into_iter().filter(|f| f.location.is_some()).collect()
}

fn gaps() -> Vec<Gap> {
    vec![Gap { file: Some("dump/broken.json".into()), line: Some(3), message: "expected value".into() }]
}

fn render(format: Format, findings: &[Finding], gaps: &[Gap], fail_on: Severity) -> String {
    let rules = catalogue();
    let report = Report { findings, summary: Summary::count(findings, 12, 3), gaps, tool_version: "0.1.0" };
    let opts =
        Options { color: false, rules: &rules, information_uri: Some("https://example.invalid/kubesleuth"), fail_on };
    let mut buf = Vec::new();
    emitter_with(format, opts).emit(&report, &mut buf).expect("emit");
    String::from_utf8(buf).expect("utf-8")
}

fn sarif_json(findings: &[Finding]) -> Value {
    serde_json::from_str(&render(Format::Sarif, findings, &gaps(), Severity::Error)).expect("SARIF is JSON")
}

// ---------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!(render(Format::Sarif, &findings(), &gaps(), Severity::Error));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(render(Format::Junit, &findings(), &gaps(), Severity::Warning));
}

#[test]
fn html_snapshot() {
    insta::assert_snapshot!(render(Format::Html, &findings(), &gaps(), Severity::Error));
}

// ---------------------------------------------------------------------------------------------
// SARIF

#[test]
fn sarif_lists_the_whole_catalogue_and_points_each_result_at_its_rule() {
    let log = sarif_json(&findings());
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "kubesleuth");
    assert_eq!(driver["version"], "0.1.0");
    assert_eq!(driver["informationUri"], "https://example.invalid/kubesleuth");
    let ids: Vec<&str> = driver["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["KS0101", "KS0201", "KS0602", "KS1002"], "every catalogue rule, fired or not");

    let rule = &driver["rules"][1];
    assert_eq!(rule["name"], "secret-key-missing");
    assert_eq!(rule["shortDescription"]["text"], SECRET_KEY_MISSING.summary);
    assert_eq!(rule["fullDescription"]["text"], "A container reads a key the Secret does not have.");
    assert_eq!(rule["help"]["markdown"], SECRET_KEY_MISSING.docs_text());
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    let tags = rule["properties"]["tags"].as_array().unwrap();
    assert!(tags.contains(&json!("config.secret_key_missing")), "{tags:?}");
    assert_eq!(driver["rules"][2]["defaultConfiguration"]["level"], "note");

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let levels: Vec<&str> = results.iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["error", "warning", "note"]);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(driver["rules"][idx]["id"], r["ruleId"]);
    }
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Secret shop/backend-secrets has no key mongodb-url. The container backend reads")
    );
}

#[test]
fn sarif_locations_physical_for_files_logical_for_cluster_objects() {
    let log = sarif_json(&findings());
    let results = &log["runs"][0]["results"];

    let lint = &results[1]["locations"][0];
    let phys = &lint["physicalLocation"];
    assert_eq!(phys["artifactLocation"]["uri"], "deploy/web%20app.yaml", "relative, ./ dropped, percent-encoded");
    assert_eq!(phys["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(phys["region"]["startLine"], 12);
    assert_eq!(phys["region"]["startColumn"], 9);
    assert_eq!(lint["logicalLocations"][0]["fullyQualifiedName"], "Deployment/shop/web");

    let runtime = &results[0]["locations"][0];
    assert!(runtime["physicalLocation"].is_null(), "no file to point at: {runtime}");
    assert_eq!(runtime["logicalLocations"][0]["fullyQualifiedName"], "Deployment/shop/backend");
    assert_eq!(runtime["logicalLocations"][0]["kind"], "object");
    assert_eq!(results[2]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "Node/worker-1");

    // Commands and evidence travel as properties.
    let props = &results[0]["properties"];
    assert_eq!(props["cause"], "config.secret_key_missing");
    assert!(props["fix"][0]["command"].as_str().unwrap().starts_with("kubectl -n shop patch secret"));
    assert_eq!(props["evidence"][1]["source"], "log");

    // Unreadable inputs are tool notifications, not results.
    let n = &log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(n["message"]["text"], "expected value");
    assert_eq!(n["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
}

#[test]
fn sarif_fingerprints_are_stable_and_ignore_line_moves() {
    let a = sarif_json(&findings());
    let mut moved = findings();
    let loc = moved[1].location.as_mut().unwrap();
    loc.line += 40;
    moved[0].root_cause.push_str(" Restarted 7 times.");
    let b = sarif_json(&moved);
    let fp = |log: &Value, i: usize| log["runs"][0]["results"][i]["partialFingerprints"]["kubesleuth/v1"].clone();
    for i in 0..3 {
        assert!(fp(&a, i).is_string());
        assert_eq!(fp(&a, i), fp(&b, i), "result {i} keeps its fingerprint");
    }
    assert_ne!(fp(&a, 0), fp(&a, 1));

    let mut other = findings();
    other[0].object.name = "frontend".into();
    assert_ne!(fp(&a, 0), fp(&sarif_json(&other), 0), "another object is another result");
    // Pinned: the recipe is a contract with code-scanning services; changing it re-opens
    // every alert, so it needs a new key version.
    assert_eq!(fp(&a, 0), ks_report::sarif::fingerprint(&findings()[0]));
    assert_eq!(fp(&a, 0), "411b13e0bb02003c");
}

#[test]
fn sarif_without_a_catalogue_still_describes_every_rule_it_uses() {
    let fs = findings();
    let report = Report { findings: &fs, summary: Summary::count(&fs, 1, 1), gaps: &[], tool_version: "test" };
    let log = Sarif { rules: &[], information_uri: None }.log(&report);
    let v = serde_json::to_value(&log).unwrap();
    let driver = &v["runs"][0]["tool"]["driver"];
    assert!(driver["informationUri"].is_null());
    assert!(driver["semanticVersion"].is_null(), "`test` is not a semantic version");
    github_code_scanning_shape(&v, false);
}

/// What GitHub code scanning needs to accept and display an upload: every result names a
/// rule the driver lists (by id and index), has a message, and at least one location; with
/// `require_physical` every location has an artifact URI and a region starting at line 1 or
/// later, since GitHub rejects the whole file otherwise.
fn github_code_scanning_shape(log: &Value, require_physical: bool) {
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert!(!runs.is_empty());
    for run in runs {
        let driver = &run["tool"]["driver"];
        assert!(driver["name"].as_str().is_some_and(|s| !s.is_empty()));
        let rules = driver["rules"].as_array().expect("rules");
        for rule in rules {
            assert!(rule["id"].as_str().is_some_and(|s| !s.is_empty()));
            // GitHub's ingestion rules (GH2012) want both.
            assert!(rule["fullDescription"]["text"].is_string(), "{rule}");
            assert!(rule["help"]["text"].is_string(), "{rule}");
        }
        for r in run["results"].as_array().expect("results") {
            let id = r["ruleId"].as_str().expect("ruleId");
            let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules.get(idx).map(|x| &x["id"]), Some(&json!(id)), "ruleIndex points at {id}");
            assert!(r["message"]["text"].as_str().is_some_and(|s| !s.trim().is_empty()), "message: {r}");
            let locs = r["locations"].as_array().expect("locations");
            assert!(!locs.is_empty() && locs.len() <= 10, "1 to 10 locations: {r}");
            if require_physical {
                for l in locs {
                    let phys = &l["physicalLocation"];
                    let uri = phys["artifactLocation"]["uri"].as_str().expect("artifact uri");
                    assert!(!uri.is_empty() && !uri.contains(' '), "{uri}");
                    assert!(phys["region"]["startLine"].as_u64().is_some_and(|n| n >= 1), "region: {l}");
                }
            }
            assert!(r["partialFingerprints"].as_object().is_some_and(|m| !m.is_empty()));
        }
    }
}

#[test]
fn sarif_lint_findings_fit_github_code_scanning() {
    github_code_scanning_shape(&sarif_json(&lint_only()), true);
}

#[test]
#[should_panic(expected = "artifact uri")]
fn the_github_shape_check_rejects_cluster_findings_without_files() {
    // Documents the limit: cluster findings are valid SARIF but not uploadable to GitHub.
    github_code_scanning_shape(&sarif_json(&findings()), true);
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The SARIF Multitool, if installed: `$SARIF_MULTITOOL`, else the native binary of what
/// `.ci/run` installs with `npm install --prefix target/tools @microsoft/sarif-multitool` (not
/// the npm wrapper: it runs the binary through a shell, which splits `Sarif;Gh` at the `;`).
fn multitool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SARIF_MULTITOOL") {
        return Some(PathBuf::from(p));
    }
    let modules = repo().join("target/tools/node_modules");
    [
        modules.join("@microsoft/sarif-multitool-linux/Sarif.Multitool"),
        modules.join("@microsoft/sarif-multitool-darwin/Sarif.Multitool"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Validate a SARIF text with the Multitool (SARIF 2.1.0 schema, its SARIF rules and GitHub's
/// ingestion rules) and return the error-level results of its own SARIF log, as text.
fn multitool_errors(tool: &Path, sarif: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("kubesleuth.sarif");
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, sarif).expect("write");
    let out = Command::new(tool)
        .arg("validate")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(["--rule-kind", "Sarif;Gh"])
        .output()
        .expect("run the SARIF Multitool");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "multitool failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    let log: Value = serde_json::from_slice(&std::fs::read(&output).expect("validation log")).expect("json");
    let run = &log["runs"][0];
    assert_eq!(run["invocations"][0]["executionSuccessful"], true, "{stdout}");
    let rules = run["tool"]["driver"]["rules"].as_array().cloned().unwrap_or_default();
    let mut errors = Vec::new();
    for r in run["results"].as_array().cloned().unwrap_or_default() {
        // A result's level defaults to its rule's configured level, then to `warning`.
        let rule_level =
            r["ruleIndex"].as_u64().and_then(|i| rules.get(i as usize)).map(|x| &x["defaultConfiguration"]["level"]);
        let level = r["level"].as_str().or(rule_level.and_then(|l| l.as_str())).unwrap_or("warning");
        if level == "error" {
            errors.push(format!("{} {}", r["ruleId"], r["message"]));
        }
    }
    // Notifications of the tool itself (a file it could not read) count as errors too.
    for n in run["invocations"][0]["toolExecutionNotifications"].as_array().cloned().unwrap_or_default() {
        if n["level"] == "error" {
            errors.push(format!("notification {}", n["message"]));
        }
    }
    if !errors.is_empty() {
        eprintln!("{stdout}");
    }
    errors
}

#[test]
fn sarif_passes_the_sarif_multitool() {
    let Some(tool) = multitool() else {
        eprintln!(
            "skipped: SARIF Multitool not found (set SARIF_MULTITOOL or run \
             `npm install --prefix target/tools @microsoft/sarif-multitool`)"
        );
        return;
    };
    for (what, fs) in [("all findings", findings()), ("lint findings", lint_only()), ("no findings", Vec::new())] {
        let text = render(Format::Sarif, &fs, &gaps(), Severity::Error);
        let errors = multitool_errors(&tool, &text);
        assert!(errors.is_empty(), "{what}: {errors:#?}");
    }
    // The harness sees errors: a region starting at line 0 violates the schema.
    let mut bad = sarif_json(&lint_only());
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = json!(0);
    let errors = multitool_errors(&tool, &bad.to_string());
    assert!(errors.iter().any(|e| e.contains("JSON1008")), "{errors:#?}");
}

// ---------------------------------------------------------------------------------------------
// JUnit

fn junit_doc(text: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(text).expect("well-formed XML")
}

fn count_attr(n: roxmltree::Node<'_, '_>, name: &str) -> usize {
    n.attribute(name).unwrap_or_else(|| panic!("{} lacks {name}", n.tag_name().name())).parse().expect("number")
}

/// The common JUnit shape (Jenkins' junit XSD, which GitLab and others read): a `testsuites`
/// root whose `tests`/`failures`/`errors` add up its suites', suites whose counts match their
/// test cases, and test cases with a name and classname holding at most one of
/// failure/error/skipped.
fn check_junit_shape(doc: &roxmltree::Document<'_>) -> (usize, usize, usize) {
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        assert!(suite.attribute("name").is_some_and(|s| !s.is_empty()));
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        let failed = cases.iter().filter(|c| c.children().any(|x| x.has_tag_name("failure"))).count();
        let errored = cases.iter().filter(|c| c.children().any(|x| x.has_tag_name("error"))).count();
        assert_eq!(count_attr(suite, "tests"), cases.len());
        assert_eq!(count_attr(suite, "failures"), failed);
        assert_eq!(count_attr(suite, "errors"), errored);
        for c in &cases {
            assert!(c.attribute("name").is_some_and(|s| !s.is_empty()));
            assert!(c.attribute("classname").is_some_and(|s| !s.is_empty()));
            let outcomes =
                c.children().filter(|x| ["failure", "error", "skipped"].contains(&x.tag_name().name())).count();
            assert!(outcomes <= 1);
        }
        tests += cases.len();
        failures += failed;
        errors += errored;
    }
    assert_eq!(count_attr(root, "tests"), tests);
    assert_eq!(count_attr(root, "failures"), failures);
    assert_eq!(count_attr(root, "errors"), errors);
    (tests, failures, errors)
}

#[test]
fn junit_one_case_per_finding_failing_at_fail_on() {
    let text = render(Format::Junit, &findings(), &gaps(), Severity::Error);
    let doc = junit_doc(&text);
    // 3 findings + 1 unreadable input; only the error fails at --fail-on error.
    assert_eq!(check_junit_shape(&doc), (4, 1, 1));
    let case = doc.descendants().find(|n| n.attribute("name") == Some("KS0201 Deployment shop/backend")).unwrap();
    assert_eq!(case.attribute("classname"), Some("kubesleuth.KS0201"));
    let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(failure.attribute("message"), Some("Secret shop/backend-secrets has no key mongodb-url"));
    assert_eq!(failure.attribute("type"), Some("config.secret_key_missing"));
    let body = failure.text().unwrap();
    assert!(body.contains("The Secret exists but its keys are: mongo-url."), "{body}");
    assert!(body.contains(SCRIPT), "evidence survives XML escaping: {body}");
    assert!(body.contains("kubectl -n shop patch secret backend-secrets"), "{body}");
    let lint = doc.descendants().find(|n| n.attribute("name") == Some("KS1002 Deployment shop/web")).unwrap();
    assert_eq!(lint.attribute("file"), Some("./deploy/web app.yaml"));
    assert!(lint.children().any(|n| n.has_tag_name("system-out")), "a passing warning keeps its text");

    let strict = render(Format::Junit, &findings(), &[], Severity::Info);
    assert_eq!(check_junit_shape(&junit_doc(&strict)), (3, 3, 0), "--fail-on info fails every finding");
}

#[test]
fn junit_without_findings_has_one_passing_case() {
    let text = render(Format::Junit, &[], &[], Severity::Error);
    let doc = junit_doc(&text);
    assert_eq!(check_junit_shape(&doc), (1, 0, 0));
    assert!(doc.descendants().any(|n| n.attribute("name") == Some("no problems found")));
}

#[test]
fn junit_drops_characters_xml_cannot_hold() {
    let mut fs = findings();
    fs[0].evidence[1].text = "bell\u{7} escape\u{1b}[31mred\u{1b}[0m nul\0 end".into();
    let text = render(Format::Junit, &fs, &[], Severity::Error);
    let doc = junit_doc(&text);
    let failure = doc.descendants().find(|n| n.has_tag_name("failure")).unwrap();
    assert!(failure.text().unwrap().contains("bell escapered nul end"), "{}", failure.text().unwrap());
}

// ---------------------------------------------------------------------------------------------
// HTML

#[test]
fn html_escapes_everything_that_comes_from_the_cluster() {
    let mut fs = findings();
    fs[0].title = format!("title {SCRIPT}");
    fs[0].root_cause = format!("cause {SCRIPT}");
    fs[0].object.name = "<img src=x onerror=alert(1)>".into();
    fs[0].fix[0].command = Some(format!("echo {SCRIPT}"));
    let g = vec![Gap { file: Some("<b>.json".into()), line: None, message: SCRIPT.into() }];
    let page = render(Format::Html, &fs, &g, Severity::Error);

    assert!(!page.contains("<script"), "no script element: {page}");
    assert!(!page.contains("<img"), "no injected element");
    assert!(!page.contains("<b>"), "no injected element");
    assert!(page.contains("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page.contains("&#39;quoted&#39;"));
    assert!(page.contains("Content-Security-Policy"));
    // The only elements are the ones the emitter writes.
    let allowed = [
        "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "nav", "ol", "ul", "li",
        "a", "span", "code", "main", "article", "dl", "dt", "dd", "table", "tr", "th", "td", "pre", "strong",
        "details", "summary", "section", "footer",
    ];
    for tag in page.split('<').skip(1) {
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if tag.starts_with('!') {
            continue;
        }
        assert!(allowed.contains(&name.as_str()), "unexpected element <{name}");
    }
}

#[test]
fn html_is_self_contained() {
    let page = render(Format::Html, &findings(), &gaps(), Severity::Error);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    for external in ["<link", "<script", "src=", "@import", "url("] {
        assert!(!page.contains(external), "page loads something: {external}");
    }
    // Each finding has an anchor the table of contents links to, and its rule's docs.
    for i in 1..=3 {
        assert!(page.contains(&format!("href=\"#finding-{i}\"")) && page.contains(&format!("id=\"finding-{i}\"")));
    }
    assert!(page.contains("<summary>Rule KS0201 secret-key-missing:"));
    let empty = render(Format::Html, &[], &[], Severity::Error);
    assert!(empty.contains("No problems found."));
}
