//! Drift: manifests kept in Git (`ev.manifests`) against the objects in the cluster (the
//! typed evidence of a snapshot or a live scan). Only the fields a manifest sets count, so
//! what the API server fills in (`strategy`, `clusterIP`, `terminationMessagePath`,
//! `imagePullPolicy` defaults, ...) is never drift.

pub mod image;
pub mod missing;
pub mod not_in_git;
pub mod spec;

use ks_core::manifest::{FieldPath, Seg};
use ks_core::{Evidence, ManifestDoc};
use serde_json::Value;

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] =
    &[&image::DriftImage, &spec::DriftSpec, &missing::MissingInCluster, &not_in_git::NotInGit];

/// One difference between a manifest and its live object.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDiff {
    pub path: FieldPath,
    /// The value in Git (`None` when Git does not set it but a list item exists live).
    pub git: Option<Value>,
    /// The live value (`None`: absent in the cluster).
    pub live: Option<Value>,
}

/// What drift found for one manifest document.
#[derive(Debug, Clone)]
pub enum DocDrift {
    /// The object does not exist in the cluster (its kind was collected).
    Missing,
    /// The object exists; these fields differ.
    Changed(Vec<FieldDiff>),
}

/// The namespace a manifest without one is applied to.
pub fn effective_namespace(doc: &ManifestDoc) -> Option<String> {
    if crate::drift::cluster_scoped(&doc.kind) {
        return None;
    }
    Some(doc.namespace.clone().unwrap_or_else(|| "default".to_string()))
}

fn cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "StorageClass"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "IngressClass"
            | "PriorityClass"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "CSIDriver"
            | "RuntimeClass"
    )
}

/// The live object as JSON, from the typed evidence.
fn live_value(ev: &Evidence, kind: &str, ns: Option<&str>, name: &str) -> Option<Value> {
    let key = (ns.unwrap_or_default().to_string(), name.to_string());
    macro_rules! by_index {
        ($list:ident) => {
            ev.index.$list.get(&key).and_then(|&i| serde_json::to_value(&ev.$list[i]).ok())
        };
    }
    macro_rules! by_name {
        ($list:ident) => {
            ev.index.$list.get(name).and_then(|&i| serde_json::to_value(&ev.$list[i]).ok())
        };
    }
    match kind {
        "Deployment" => by_index!(deployments),
        "StatefulSet" => by_index!(stateful_sets),
        "DaemonSet" => by_index!(daemon_sets),
        "ReplicaSet" => by_index!(replica_sets),
        "Job" => by_index!(jobs),
        "CronJob" => by_index!(cron_jobs),
        "Service" => by_index!(services),
        "PersistentVolumeClaim" => by_index!(pvcs),
        "ServiceAccount" => by_index!(service_accounts),
        "Pod" => ev.index.pods.get(&key).and_then(|&i| serde_json::to_value(&*ev.pods[i]).ok()),
        "Node" => by_name!(nodes),
        "PersistentVolume" => by_name!(pvs),
        "StorageClass" => by_name!(storage_classes),
        "IngressClass" => by_name!(ingress_classes),
        "Ingress" => ev
            .ingresses
            .iter()
            .find(|i| i.metadata.namespace.as_deref() == ns && i.metadata.name.as_deref() == Some(name))
            .and_then(|i| serde_json::to_value(i).ok()),
        "Namespace" => ev
            .namespaces
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(name))
            .and_then(|n| serde_json::to_value(n).ok()),
        // Key names only: values are never kept.
        "Secret" => ev.secret(ns.unwrap_or_default(), name).map(|s| {
            let keys: serde_json::Map<String, Value> = s.keys.iter().map(|k| (k.clone(), Value::Null)).collect();
            serde_json::json!({"metadata": {"name": name}, "data": keys})
        }),
        "ConfigMap" => ev
            .config_map(ns.unwrap_or_default(), name)
            .map(|c| serde_json::json!({"metadata": {"name": name}, "data": c.data})),
        _ => ev.index.other.get(&ks_core::ObjectKey::new(kind, ns, name)).map(|&i| (*ev.other[i].value).clone()),
    }
}

/// Compare every manifest document with the cluster. Kinds the cluster source did not
/// collect are skipped: absent is not the same as not looked at.
/// Fields the API schema does not have (`schema[i].unknown`) are dropped by the API server,
/// so their absence in the cluster is not drift (lint reports them).
pub fn compare_all(ev: &Evidence, schema: &[crate::lint::schema::SchemaReport]) -> Vec<Option<DocDrift>> {
    ev.manifests
        .iter()
        .zip(schema)
        .map(|(doc, report)| {
            let ns = effective_namespace(doc);
            match live_value(ev, &doc.kind, ns.as_deref(), &doc.name) {
                Some(live) => {
                    let mut diffs = Vec::new();
                    let git = normalize_secret(doc);
                    compare(&git, &live, &mut FieldPath::default(), &mut diffs);
                    diffs.retain(|d| !report.unknown.iter().any(|u| d.path.0.starts_with(&u.path.0)));
                    (!diffs.is_empty()).then_some(DocDrift::Changed(diffs))
                }
                None if ev.has_collected(&doc.kind) && !doc.name.is_empty() => Some(DocDrift::Missing),
                None => None,
            }
        })
        .collect()
}

/// Secrets compare by key names only (`data` and `stringData` both name keys).
fn normalize_secret(doc: &ManifestDoc) -> Value {
    if doc.kind != "Secret" {
        return (*doc.value).clone();
    }
    let mut keys = serde_json::Map::new();
    for field in ["data", "stringData"] {
        if let Some(Value::Object(m)) = doc.value.get(field) {
            for k in m.keys() {
                keys.insert(k.clone(), Value::Null);
            }
        }
    }
    serde_json::json!({"metadata": {"name": doc.name}, "data": keys})
}

/// Fields the server owns or that say nothing about intent.
fn ignored(path: &FieldPath) -> bool {
    let s = path.to_string();
    s == "status"
        || s.starts_with("status.")
        || s == "apiVersion"
        || s == "kind"
        || s == "metadata.namespace"
        || matches!(
            s.as_str(),
            "metadata.resourceVersion"
                | "metadata.uid"
                | "metadata.generation"
                | "metadata.creationTimestamp"
                | "metadata.managedFields"
                | "metadata.selfLink"
        )
        || s.contains("kubectl.kubernetes.io/last-applied-configuration")
        || s.contains("deployment.kubernetes.io/revision")
}

/// Values the API server drops when they equal the default of nothing.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// The key list items are matched by (Kubernetes' strategic-merge keys).
fn merge_key(items: &[Value]) -> Option<&'static str> {
    ["name", "containerPort", "port", "mountPath", "ip", "key", "type"]
        .into_iter()
        .find(|k| items.iter().all(|i| i.get(*k).is_some()))
}

fn compare(git: &Value, live: &Value, at: &mut FieldPath, out: &mut Vec<FieldDiff>) {
    if ignored(at) {
        return;
    }
    match (git, live) {
        (Value::Object(g), Value::Object(l)) => {
            for (k, gv) in g {
                at.0.push(Seg::Key(k.clone()));
                match l.get(k) {
                    Some(lv) => compare(gv, lv, at, out),
                    None if is_empty(gv) || ignored(at) => {}
                    None => out.push(FieldDiff { path: at.clone(), git: Some(gv.clone()), live: None }),
                }
                at.0.pop();
            }
        }
        (Value::Array(g), Value::Array(l)) => match merge_key(g).filter(|k| l.iter().all(|i| i.get(*k).is_some())) {
            Some(key) => {
                for (i, gi) in g.iter().enumerate() {
                    at.0.push(Seg::Index(i));
                    match l.iter().find(|li| li.get(key) == gi.get(key) || scalar_eq(&li[key], &gi[key])) {
                        Some(li) => compare(gi, li, at, out),
                        None => out.push(FieldDiff { path: at.clone(), git: Some(gi.clone()), live: None }),
                    }
                    at.0.pop();
                }
                for li in l {
                    if !g.iter().any(|gi| scalar_eq(&li[key], &gi[key])) {
                        at.0.push(Seg::Index(g.len()));
                        out.push(FieldDiff { path: at.clone(), git: None, live: Some(li.clone()) });
                        at.0.pop();
                    }
                }
            }
            None if g.len() == l.len() => {
                for (i, (gi, li)) in g.iter().zip(l).enumerate() {
                    at.0.push(Seg::Index(i));
                    compare(gi, li, at, out);
                    at.0.pop();
                }
            }
            None => out.push(FieldDiff { path: at.clone(), git: Some(git.clone()), live: Some(live.clone()) }),
        },
        (g, l) if scalar_eq(g, l) || quantity_eq(g, l) => {}
        // The cluster's value for a key Git lists as empty (Secret key names).
        (Value::Null, _) => {}
        (g, l) => out.push(FieldDiff { path: at.clone(), git: Some(g.clone()), live: Some(l.clone()) }),
    }
}

/// `80` and `"80"` (int-or-string fields), numbers of equal value.
fn scalar_eq(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => n.to_string() == *s,
        _ => false,
    }
}

/// `0.5` and `500m`, `1Gi` and `1024Mi`.
fn quantity_eq(a: &Value, b: &Value) -> bool {
    let q = |v: &Value| match v {
        Value::String(s) => crate::sched::quantity(s),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    matches!((q(a), q(b)), (Some(x), Some(y)) if (x - y).abs() <= f64::EPSILON * x.abs().max(1.0))
}

/// A value for a message, short.
pub fn show(v: &Option<Value>) -> String {
    match v {
        None => "(absent)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 80 { format!("{}…", &s[..s.floor_char_boundary(79)]) } else { s }
        }
    }
}

/// Whether a diff is a container image.
pub fn is_image_path(path: &FieldPath) -> bool {
    matches!(path.0.last(), Some(Seg::Key(k)) if k == "image")
        && path.0.iter().any(|s| matches!(s, Seg::Key(k) if k == "containers" || k == "initContainers"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diffs(git: Value, live: Value) -> Vec<String> {
        let mut out = Vec::new();
        compare(&git, &live, &mut FieldPath::default(), &mut out);
        out.iter().map(|d| format!("{}: {} -> {}", d.path, show(&d.git), show(&d.live))).collect()
    }

    #[test]
    fn server_defaults_are_not_drift() {
        let git =
            json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}});
        let live = json!({"spec": {"replicas": 2, "strategy": {"type": "RollingUpdate"}, "template": {"spec": {
            "containers": [{"name": "a", "image": "x:1", "imagePullPolicy": "IfNotPresent",
                            "terminationMessagePath": "/dev/termination-log"}]}}},
            "status": {"replicas": 2}});
        assert!(diffs(git, live).is_empty());
    }

    #[test]
    fn changed_values_lists_by_merge_key_and_quantities() {
        let git = json!({"spec": {"replicas": 3, "containers": [
            {"name": "b", "image": "y:2", "resources": {"requests": {"cpu": "0.5", "memory": "1Gi"}}},
            {"name": "a", "image": "x:1", "ports": [{"containerPort": 80}]}]}});
        let live = json!({"spec": {"replicas": 2, "containers": [
            {"name": "a", "image": "x:1", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
            {"name": "b", "image": "y:1", "resources": {"requests": {"cpu": "500m", "memory": "1024Mi"}}},
            {"name": "debug", "image": "busybox"}]}});
        assert_eq!(
            diffs(git, live),
            vec![
                "spec.containers[0].image: y:2 -> y:1",
                "spec.containers[2]: (absent) -> {\"image\":\"busybox\",\"name\":\"debug\"}",
                "spec.replicas: 3 -> 2"
            ]
        );
    }
}
