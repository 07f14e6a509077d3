//! Other linters' fixtures (`../shared/corpus/manifests/fixtures-*`, expectations in
//! `../shared/corpus/fixtures-index.json`) against `kubesleuth lint`.
//!
//! `fixtures/fixtures-index-map.yaml` maps every check of every tool to the rules that cover it,
//! or says why it is not covered. For each covered check this test lints each case's fixture and
//! asserts that the mapped rules fire on the objects the other tool flags (by kind and name where
//! the index gives them, at least as many objects as it expects) and stay silent on the objects
//! or files it passes. It also fails when the index has a check the map does not mention.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus() -> Option<PathBuf> {
    let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus"));
    if p.join("fixtures-index.json").is_file() {
        Some(p.to_path_buf())
    } else {
        eprintln!("skipped: ../shared/corpus/fixtures-index.json is absent");
        None
    }
}

/// One finding of a mapped rule: (kind, name, file as passed to lint).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Hit {
    kind: String,
    name: String,
    file: String,
}

/// Lints `files` as one bundle and returns the findings of `rules`.
fn lint(files: &[PathBuf], rules: &[String], kube_version: Option<&str>) -> Vec<Hit> {
    let mut cmd = Command::cargo_bin("kubesleuth").expect("binary");
    cmd.arg("lint").args(files).args(["--format", "json"]);
    if let Some(v) = kube_version {
        cmd.args(["--kube-version", v]);
    }
    let out = cmd.output().expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("lint {files:?}: no JSON report ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr))
    });
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| rules.iter().any(|r| f["rule"] == r.as_str()))
        .map(|f| Hit {
            kind: f["object"]["kind"].as_str().unwrap_or_default().to_string(),
            name: f["object"]["name"].as_str().unwrap_or_default().to_string(),
            file: f["location"]["file"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// What one case expects of the mapped rules.
#[derive(Debug)]
enum Expect {
    /// Findings on at least `at_least` distinct objects matching the filter.
    Fires { kind: Option<String>, name: Option<String>, file: Option<String>, at_least: usize },
    /// No finding on an object matching the filter.
    Silent { kind: Option<String>, name: Option<String>, file: Option<String> },
}

fn matches(h: &Hit, kind: &Option<String>, name: &Option<String>, file: &Option<String>) -> bool {
    kind.as_ref().is_none_or(|k| h.kind.eq_ignore_ascii_case(k))
        && name.as_ref().is_none_or(|n| &h.name == n)
        && file.as_ref().is_none_or(|f| &h.file == f)
}

/// One case: the files to lint together, the Kubernetes version, what to expect.
struct Case {
    id: String,
    files: Vec<PathBuf>,
    kube_version: Option<String>,
    expect: Vec<Expect>,
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect()
}

/// kube-linter: `tests/checks/<check>.yml`; each expected message starts with `Kind:` or
/// `Kind name:`.
fn kube_linter_cases(root: &Path, case: &Value) -> Vec<Case> {
    let fixture = root.join("fixtures-kube-linter").join(case["fixture"].as_str().unwrap_or_default());
    let mut want: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    for m in strs(&case["expected_messages"]) {
        let head = m.split(':').next().unwrap_or_default();
        let mut words = head.split_whitespace();
        let kind = words.next().unwrap_or_default().to_string();
        let name = words.next().map(str::to_string);
        *want.entry((kind, name)).or_default() += 1;
    }
    let expect = want
        .into_iter()
        .map(|((kind, name), n)| Expect::Fires { kind: Some(kind), name, file: None, at_least: n })
        .collect();
    vec![Case { id: s(&fixture), files: vec![fixture], kube_version: None, expect }]
}

/// Polaris: `failure*` files must fail the check, `success*` files must pass it.
fn polaris_case(root: &Path, case: &Value) -> Option<Case> {
    let fixture = root.join("fixtures-polaris").join(case["fixture"].as_str()?);
    let file = Some(s(&fixture));
    let expect = match case["expectation"].as_str()? {
        "failure" => Expect::Fires { kind: None, name: None, file, at_least: 1 },
        "success" => Expect::Silent { kind: None, name: None, file },
        _ => return None,
    };
    Some(Case { id: s(&fixture), files: vec![fixture], kube_version: None, expect: vec![expect] })
}

/// kube-score: Critical or Warning = the check fails on the file, AllOK = it passes. Its tests
/// grade against Kubernetes 1.18 unless the config names another version.
fn kube_score_case(root: &Path, case: &Value) -> Option<Case> {
    let dir = root.join("fixtures-kube-score/score/testdata");
    let files: Vec<PathBuf> = strs(&case["files"]).iter().map(|f| dir.join(f)).collect();
    let config = case["config"].as_str().unwrap_or_default();
    let version =
        config.split(';').find_map(|kv| kv.trim().strip_prefix("KubernetesVersion=")).unwrap_or("1.18").to_string();
    let expect = match case["grade"].as_str()? {
        "Critical" | "Warning" => Expect::Fires { kind: None, name: None, file: None, at_least: 1 },
        "AllOK" => Expect::Silent { kind: None, name: None, file: None },
        _ => return None,
    };
    Some(Case { id: case["test"].as_str()?.to_string(), files, kube_version: Some(version), expect: vec![expect] })
}

/// Checkov: one case per file named `*FAILED*` (fires) or `*PASSED*` (silent).
fn checkov_cases(root: &Path, case: &Value) -> Vec<Case> {
    let dir = root.join("fixtures-checkov").join(case["dir"].as_str().unwrap_or_default());
    strs(&case["files"])
        .iter()
        .filter_map(|f| {
            let path = dir.join(f);
            let file = Some(s(&path));
            let expect = match (f.contains("FAILED"), f.contains("PASSED")) {
                (true, false) => Expect::Fires { kind: None, name: None, file, at_least: 1 },
                (false, true) => Expect::Silent { kind: None, name: None, file },
                _ => return None,
            };
            Some(Case { id: s(&path), files: vec![path], kube_version: None, expect: vec![expect] })
        })
        .collect()
}

/// Gatekeeper: the object is linted with its inventory; `violations: yes` or a count means the
/// mapped rules fire on the object's file, `no` or 0 that they stay silent on it.
fn gatekeeper_case(root: &Path, case: &Value, version_param: Option<&str>) -> Option<Case> {
    let base = root.join("fixtures-gatekeeper-library");
    let object = base.join(case["object"].as_str()?);
    let mut files = vec![object.clone()];
    files.extend(strs(&case["inventory"]).iter().map(|f| base.join(f)));
    let file = Some(s(&object));
    let expect = match &case["violations"] {
        Value::String(v) if v == "yes" => Expect::Fires { kind: None, name: None, file, at_least: 1 },
        Value::String(v) if v == "no" => Expect::Silent { kind: None, name: None, file },
        Value::Number(n) if n.as_u64() == Some(0) => Expect::Silent { kind: None, name: None, file },
        Value::Number(n) => {
            Expect::Fires { kind: None, name: None, file, at_least: usize::try_from(n.as_u64()?).ok()? }
        }
        _ => return None,
    };
    // The Kubernetes version the constraint checks for, e.g. `k8sVersion: 1.25`.
    let kube_version = version_param.and_then(|param| {
        let text = std::fs::read_to_string(base.join(case["constraint"].as_str()?)).ok()?;
        text.lines().find_map(|l| {
            let v = l.trim().strip_prefix(param)?.strip_prefix(':')?.trim();
            Some(v.trim_matches('"').to_string())
        })
    });
    Some(Case { id: case["case"].as_str()?.to_string(), files, kube_version, expect: vec![expect] })
}

/// Kyverno: per resource, `fail` on any rule of the policy = fires on it, `pass` on all = silent.
fn kyverno_cases(root: &Path, case: &Value) -> Vec<Case> {
    let test = case["test"].as_str().unwrap_or_default();
    let dir = root.join("fixtures-kyverno-policies").join(test).parent().map(Path::to_path_buf).unwrap_or_default();
    let files: Vec<PathBuf> = strs(&case["resources"]).iter().map(|f| dir.join(f)).collect();
    let mut verdict: BTreeMap<(String, String), bool> = BTreeMap::new();
    for r in case["results"].as_array().into_iter().flatten() {
        let key = (
            r["kind"].as_str().unwrap_or_default().to_string(),
            r["resource"].as_str().unwrap_or_default().to_string(),
        );
        match r["result"].as_str() {
            Some("fail") => {
                verdict.insert(key, true);
            }
            Some("pass") => {
                verdict.entry(key).or_insert(false);
            }
            _ => {}
        }
    }
    let expect = verdict
        .into_iter()
        .map(|((kind, name), fails)| {
            // A namespaced resource may be written `namespace/name`.
            let name = name.rsplit('/').next().unwrap_or_default().to_string();
            if fails {
                Expect::Fires { kind: Some(kind), name: Some(name), file: None, at_least: 1 }
            } else {
                Expect::Silent { kind: Some(kind), name: Some(name), file: None }
            }
        })
        .collect();
    vec![Case { id: test.to_string(), files, kube_version: None, expect }]
}

/// The map's key for one case of the index, per tool.
fn check_keys(tool: &str, case: &Value) -> Vec<String> {
    match tool {
        "kube-linter" => {
            let include = strs(&case["include"]);
            let config = strs(&case["config"]);
            if let Some(c) = include.first() {
                vec![c.clone()]
            } else if let Some(c) = config.first() {
                vec![format!("config:{}", c.rsplit('/').next().unwrap_or_default())]
            } else {
                vec![case["test"].as_str().unwrap_or_default().to_string()]
            }
        }
        "polaris" | "kube-score" => vec![case["check"].as_str().unwrap_or_default().to_string()],
        "checkov" => {
            let ids: Vec<String> = case["checks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["id"].as_str().map(str::to_string))
                .collect();
            if ids.is_empty() {
                vec![case["dir"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string()]
            } else {
                ids
            }
        }
        "gatekeeper-library" => {
            vec![case["policy"].as_str().unwrap_or_default().trim_start_matches("library/").to_string()]
        }
        "kyverno-policies" => {
            vec![
                case["test"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_end_matches("/.kyverno-test/kyverno-test.yaml")
                    .to_string(),
            ]
        }
        _ => vec![],
    }
}

/// Every (tool, check) key the index holds, with its cases.
fn index_checks(index: &Value) -> BTreeMap<(String, String), Vec<Value>> {
    let mut out: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for (tool, data) in index.as_object().into_iter().flatten() {
        for case in data["cases"].as_array().into_iter().flatten() {
            for key in check_keys(tool, case) {
                out.entry((tool.clone(), key)).or_default().push(case.clone());
            }
        }
        if !data["webhook_cases"].is_null() {
            out.entry((tool.clone(), "webhook".into())).or_default();
        }
        for g in data["graph_cases"].as_array().into_iter().flatten() {
            let name = g["dir"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default();
            out.entry((tool.clone(), format!("graph:{name}"))).or_default();
        }
    }
    out
}

fn load() -> Option<(PathBuf, Value, Value)> {
    let root = corpus()?;
    let index: Value = serde_json::from_str(&std::fs::read_to_string(root.join("fixtures-index.json")).expect("index"))
        .expect("index JSON");
    let map_text = std::fs::read_to_string(repo().join("fixtures/fixtures-index-map.yaml")).expect("map");
    let map: Value = serde_saphyr::from_str(&map_text).expect("map YAML");
    Some((root.join("manifests"), index, map))
}

#[test]
fn every_check_of_the_index_is_mapped_once() {
    let Some((_, index, map)) = load() else { return };
    let checks = index_checks(&index);
    let mut problems = Vec::new();
    for (tool, key) in checks.keys() {
        let entry = &map[tool.as_str()][key.as_str()];
        let kinds = ["rules", "out", "todo"].iter().filter(|k| !entry[**k].is_null()).count();
        if kinds != 1 {
            problems.push(format!("{tool} / {key}: needs exactly one of rules, out, todo (has {kinds})"));
        }
    }
    for (tool, entries) in map.as_object().into_iter().flatten() {
        for key in entries.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !checks.contains_key(&(tool.clone(), key.clone())) {
                problems.push(format!("{tool} / {key}: in the map but not in the index"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn covered_checks_fire_where_the_other_linters_expect() {
    let Some((root, index, map)) = load() else { return };
    let mut problems = Vec::new();
    let mut asserted = 0usize;
    for ((tool, key), cases) in index_checks(&index) {
        let entry = &map[tool.as_str()][key.as_str()];
        let rules = strs(&entry["rules"]);
        if rules.is_empty() {
            continue;
        }
        let skip = &entry["skip"];
        let version_param = entry["kube_version_param"].as_str();
        let built: Vec<Case> = cases
            .iter()
            .flat_map(|c| match tool.as_str() {
                "kube-linter" => kube_linter_cases(&root, c),
                "polaris" => polaris_case(&root, c).into_iter().collect(),
                "kube-score" => kube_score_case(&root, c).into_iter().collect(),
                "checkov" => checkov_cases(&root, c),
                "gatekeeper-library" => gatekeeper_case(&root, c, version_param).into_iter().collect(),
                "kyverno-policies" => kyverno_cases(&root, c),
                _ => vec![],
            })
            .collect();
        assert!(!built.is_empty(), "{tool} / {key}: covered but no case with an expectation");
        for case in built {
            let rel = case.id.split("/manifests/").last().unwrap_or_default().to_string();
            if !skip[case.id.as_str()].is_null() || !skip[rel.as_str()].is_null() {
                continue;
            }
            let hits = lint(&case.files, &rules, case.kube_version.as_deref());
            for e in &case.expect {
                asserted += 1;
                match e {
                    Expect::Fires { kind, name, file, at_least } => {
                        let objects: BTreeSet<&Hit> = hits.iter().filter(|h| matches(h, kind, name, file)).collect();
                        if objects.len() < *at_least {
                            problems.push(format!(
                                "{tool} / {key} / {rel}: expected {rules:?} on >= {at_least} {} {} object(s), got {}: {hits:?}",
                                kind.as_deref().unwrap_or("*"),
                                name.as_deref().unwrap_or("*"),
                                objects.len(),
                            ));
                        }
                    }
                    Expect::Silent { kind, name, file } => {
                        let wrong: Vec<&Hit> = hits.iter().filter(|h| matches(h, kind, name, file)).collect();
                        if !wrong.is_empty() {
                            problems.push(format!(
                                "{tool} / {key} / {rel}: {rules:?} must not fire on {} {} (the tool passes it): {wrong:?}",
                                kind.as_deref().unwrap_or("*"),
                                name.as_deref().unwrap_or("*"),
                            ));
                        }
                    }
                }
            }
        }
    }
    eprintln!("{asserted} expectations of covered checks asserted");
    assert!(asserted > 0, "no covered check was asserted");
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}
