//! `deploy/rbac.yaml` grants exactly what a live scan lists: every kind of the collector's
//! table with get/list/watch, `pods/log` with get, and nothing that writes.

use std::collections::BTreeSet;

use ks_live::kinds::{EVENTS_K8S_IO, RESOURCES};
use serde_json::Value;

#[test]
fn the_cluster_role_covers_every_listed_kind_and_only_reads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/rbac.yaml");
    let text = std::fs::read_to_string(path).expect("deploy/rbac.yaml");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("valid YAML");
    let role = docs.iter().find(|d| d["kind"] == "ClusterRole").expect("a ClusterRole");
    let mut granted: BTreeSet<(String, String, String)> = BTreeSet::new();
    for rule in role["rules"].as_array().expect("rules") {
        let strs = |k: &str| -> Vec<String> {
            rule[k].as_array().expect(k).iter().map(|v| v.as_str().unwrap().to_string()).collect()
        };
        for verb in strs("verbs") {
            assert!(matches!(verb.as_str(), "get" | "list" | "watch"), "write verb {verb}");
            for g in strs("apiGroups") {
                for r in strs("resources") {
                    granted.insert((g.clone(), r.clone(), verb.clone()));
                }
            }
        }
    }
    let mut wanted: BTreeSet<(String, String, String)> = BTreeSet::new();
    for spec in RESOURCES.iter().chain([&EVENTS_K8S_IO]) {
        for verb in ["get", "list", "watch"] {
            wanted.insert((spec.group.to_string(), spec.plural.to_string(), verb.to_string()));
        }
    }
    wanted.insert((String::new(), "pods/log".to_string(), "get".to_string()));
    let missing: Vec<_> = wanted.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&wanted).collect();
    assert!(missing.is_empty(), "not granted: {missing:?}");
    assert!(extra.is_empty(), "granted but never read: {extra:?}");
}
