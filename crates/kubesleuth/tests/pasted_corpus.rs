//! `kubesleuth explain` on real pasted evidence from public bug reports
//! (`../shared/corpus/pasted/*/evidence.txt`, labelled with the causes the thread
//! established). Every case must parse without error; the share diagnosed correctly (some
//! finding names one of the labelled causes) is printed and must not fall below the figure
//! the README states.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// The README's "Accuracy" section states this share; raise both together.
const MIN_CORRECT_PERCENT: usize = 90;

fn label_causes(label: &str) -> Vec<String> {
    label
        .lines()
        .find_map(|l| l.strip_prefix("causes:"))
        .map(|rest| {
            rest.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn pasted_corpus_is_parsed_and_diagnosed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/pasted");
    let Ok(entries) = std::fs::read_dir(&root) else {
        eprintln!("skipping: {} not present", root.display());
        return;
    };
    let mut cases: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.join("evidence.txt").exists()).collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under {}", root.display());
    let (mut correct, mut report, mut unparsed) = (0, Vec::new(), Vec::new());
    for case in &cases {
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let want = label_causes(&std::fs::read_to_string(case.join("label.yaml")).unwrap_or_default());
        let out = Command::cargo_bin("kubesleuth")
            .expect("binary")
            .args(["explain", "--format", "json"])
            .arg(case.join("evidence.txt"))
            .output()
            .expect("runs");
        let Ok(v) = serde_json::from_slice::<Value>(&out.stdout) else {
            unparsed.push(format!(
                "{name}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            continue;
        };
        if let Some(gaps) = v["unreadable"].as_array().filter(|g| !g.is_empty()) {
            unparsed.push(format!("{name}: {gaps:?}"));
        }
        let got: Vec<String> = v["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["cause"].as_str().map(str::to_string))
            .collect();
        let ok = got.iter().any(|c| want.contains(c));
        if ok {
            correct += 1;
        }
        report.push(format!("{} {name}: want {want:?}, got {got:?}", if ok { "ok  " } else { "MISS" }));
    }
    let percent = correct * 100 / cases.len();
    eprintln!("pasted corpus: {correct}/{} diagnosed correctly ({percent}%)\n{}", cases.len(), report.join("\n"));
    assert!(unparsed.is_empty(), "cases not parsed cleanly:\n{}", unparsed.join("\n"));
    assert!(percent >= MIN_CORRECT_PERCENT, "accuracy {percent}% below {MIN_CORRECT_PERCENT}%:\n{}", report.join("\n"));
}
