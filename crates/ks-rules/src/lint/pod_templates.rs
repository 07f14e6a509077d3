//! Pod templates of the workload documents in a lint run, read from the documents as written
//! (not the typed objects) so that every field a rule names has its exact path, and thus its
//! file, line and column.

use ks_core::manifest::FieldPath;
use ks_core::{Evidence, ManifestDoc};
use serde_json::Value;

use super::pod_spec_str;
use super::xref_bundle::api_group;

/// One pod template (or bare Pod) in a manifest document.
#[derive(Clone, Copy)]
pub struct PodTemplate<'a> {
    pub doc: &'a ManifestDoc,
    pub spec: &'a Value,
    /// Where `spec` is: `spec.template.spec` (Deployment), `spec` (Pod), ... (paths are
    /// written out only for the few templates a finding names).
    spec_at: &'static str,
    /// The template's metadata; `Null` when absent.
    meta: &'a Value,
}

/// One container of a pod template.
pub struct ContainerAt<'a> {
    pub value: &'a Value,
    pub name: &'a str,
    /// Declared under `initContainers`.
    pub init: bool,
    /// Where: `spec_at.list[index]` (written out only for the few containers a finding names).
    spec_at: &'static str,
    index: usize,
}

impl<'a> ContainerAt<'a> {
    /// A regular container, or a native sidecar (an init container with `restartPolicy:
    /// Always`): the containers that run alongside the app for the pod's life.
    pub fn runs_with_app(&self) -> bool {
        !self.init || self.value["restartPolicy"].as_str() == Some("Always")
    }

    pub fn image(&self) -> Option<&'a str> {
        self.value["image"].as_str()
    }

    /// `spec.template.spec.containers[1]`.
    pub fn path(&self) -> FieldPath {
        let list = if self.init { "initContainers" } else { "containers" };
        FieldPath::parse(self.spec_at).key(list).index(self.index)
    }

    /// The path of one of the container's fields.
    pub fn field(&self, key: &str) -> FieldPath {
        self.path().key(key)
    }
}

impl<'a> PodTemplate<'a> {
    /// `spec.template.spec` (Deployment), `spec` (Pod), ...
    pub fn spec_path(&self) -> FieldPath {
        FieldPath::parse(self.spec_at)
    }

    /// `spec.template.metadata` (Deployment), `metadata` (Pod), ...: beside the spec.
    pub fn meta_path(&self) -> FieldPath {
        let mut p = self.spec_path();
        p.0.pop();
        p.key("metadata")
    }

    /// Regular containers first, then init containers, each with its path.
    pub fn containers(&self) -> Vec<ContainerAt<'a>> {
        let mut out = Vec::new();
        for (list, init) in [("containers", false), ("initContainers", true)] {
            let Some(items) = self.spec[list].as_array() else { continue };
            for (i, c) in items.iter().enumerate() {
                let Some(name) = c["name"].as_str() else { continue };
                out.push(ContainerAt { value: c, name, init, spec_at: self.spec_at, index: i });
            }
        }
        out
    }

    /// The template's metadata (annotations, labels); `Null` when absent.
    pub fn meta(&self) -> &'a Value {
        self.meta
    }

    /// A pod template annotation (or label, where injectors also accept one) as text.
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        let meta = self.meta();
        meta["annotations"].get(key).or_else(|| meta["labels"].get(key)).and_then(Value::as_str)
    }

    /// The path of a pod template annotation.
    pub fn annotation_path(&self, key: &str) -> FieldPath {
        let meta = self.meta();
        let holder = if meta["annotations"].get(key).is_some() || meta["labels"].get(key).is_none() {
            "annotations"
        } else {
            "labels"
        };
        self.meta_path().key(holder).key(key)
    }

    /// The pod-level securityContext (`Null` when absent).
    pub fn security_context(&self) -> &'a Value {
        &self.spec["securityContext"]
    }

    /// The namespace the pods run in ("" when the manifest leaves it to the apply context).
    pub fn namespace(&self) -> &'a str {
        self.doc.namespace.as_deref().unwrap_or("")
    }

    /// `-n shop ` for kubectl commands, empty when the manifest has no namespace.
    pub fn ns_flag(&self) -> String {
        match &self.doc.namespace {
            Some(ns) => format!("-n {ns} "),
            None => String::new(),
        }
    }

    /// `deployment/backend` for kubectl commands.
    pub fn kubectl_ref(&self) -> String {
        format!("{}/{}", self.doc.kind.to_ascii_lowercase(), self.doc.name)
    }
}

/// Every pod template of every workload document (Deployment, StatefulSet, DaemonSet,
/// ReplicaSet, Job, CronJob, ReplicationController, PodTemplate, OpenShift's
/// DeploymentConfig, Argo's Rollout) and every bare Pod: the one list the hygiene rules and
/// the cross-reference rules share.
pub fn pod_templates(ev: &Evidence) -> Vec<PodTemplate<'_>> {
    use rayon::prelude::*;
    ev.manifests.par_iter().filter_map(pod_template).collect()
}

/// The pod template of one document, if it is a workload with one.
pub fn pod_template(doc: &ManifestDoc) -> Option<PodTemplate<'_>> {
    PodTemplate::at(doc, pod_spec_at(doc)?)
}

/// Where a workload document's pod spec is. The built-in kinds count only in their own API
/// groups: a custom resource that happens to be called `Job` (Volcano's) has another shape.
/// OpenShift DeploymentConfigs and Argo Rollouts hold a Deployment's pod template, and
/// Services select their pods just the same.
fn pod_spec_at(doc: &ManifestDoc) -> Option<&'static str> {
    let group = api_group(&doc.api_version);
    let builtin = match doc.kind.as_str() {
        "Pod" | "ReplicationController" | "PodTemplate" => group.is_empty(),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => matches!(group, "apps" | "extensions"),
        "Job" | "CronJob" => group == "batch",
        "DeploymentConfig" => return matches!(group, "" | "apps.openshift.io").then_some("spec.template.spec"),
        "Rollout" => return (group == "argoproj.io").then_some("spec.template.spec"),
        _ => false,
    };
    if builtin { pod_spec_str(&doc.kind) } else { None }
}

impl<'a> PodTemplate<'a> {
    /// The template whose pod spec is at `spec_at` (`spec.template.spec`), if that is a map.
    pub fn at(doc: &'a ManifestDoc, spec_at: &'static str) -> Option<PodTemplate<'a>> {
        // The spec's parent holds the metadata beside it.
        let (parent, spec) = match spec_at.rsplit_once('.') {
            Some((parent, last)) => (FieldPath::parse(parent).get(&doc.value)?, last),
            None => (&*doc.value, spec_at),
        };
        let spec_value = parent.get(spec).filter(|v| v.is_object())?;
        let meta = parent.get("metadata").unwrap_or(&Value::Null);
        Some(PodTemplate { doc, spec: spec_value, spec_at, meta })
    }
}

/// A small YAML rendering of an env list or securityContext for fixes: one `- name:` item
/// per entry, indented for pasting under `env:`.
pub fn yaml_block(v: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_yaml(v, indent, &mut out, false);
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-/[]'".contains(c))
                && !matches!(s.as_str(), "true" | "false" | "null" | "yes" | "no" | "on" | "off")
                && s.parse::<f64>().is_err();
            if plain { s.clone() } else { format!("{s:?}") }
        }
        other => other.to_string(),
    }
}

fn write_yaml(v: &Value, indent: usize, out: &mut String, in_list_item: bool) {
    let pad = " ".repeat(indent);
    match v {
        Value::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match item {
                    Value::Object(_) => write_yaml(item, indent + 2, out, true),
                    other => {
                        out.push_str(&scalar(other));
                        out.push('\n');
                    }
                }
            }
        }
        Value::Object(map) => {
            for (i, (k, val)) in map.iter().enumerate() {
                if !(in_list_item && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str(k);
                out.push(':');
                match val {
                    Value::Object(m) if !m.is_empty() => {
                        out.push('\n');
                        write_yaml(val, indent + 2, out, false);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        write_yaml(val, indent, out, false);
                    }
                    other => {
                        out.push(' ');
                        out.push_str(&scalar(other));
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn env_blocks_render_as_pasteable_yaml() {
        let env = json!([
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "MODE", "value": "true"},
        ]);
        assert_eq!(
            yaml_block(&env, 0),
            "- name: POD_NAMESPACE\n  valueFrom:\n    fieldRef:\n      fieldPath: metadata.namespace\n- name: MODE\n  value: \"true\"\n"
        );
    }

    /// The built-in kinds count in their own groups only; Rollouts and DeploymentConfigs
    /// hold a Deployment's template.
    #[test]
    fn workload_kinds_are_known_by_group() {
        let spec = json!({"containers": [{"name": "app", "image": "app:1"}]});
        let at = |api: &str, kind: &str| {
            let v = match kind {
                "Pod" => json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": spec}),
                "CronJob" => json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"},
                    "spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}}),
                _ => json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"},
                    "spec": {"template": {"spec": spec}}}),
            };
            let doc = crate::lint::test_doc(v);
            pod_template(&doc).map(|t| t.spec_path().to_string())
        };
        assert_eq!(at("apps/v1", "Deployment").as_deref(), Some("spec.template.spec"));
        assert_eq!(at("batch/v1", "CronJob").as_deref(), Some("spec.jobTemplate.spec.template.spec"));
        assert_eq!(at("v1", "Pod").as_deref(), Some("spec"));
        assert_eq!(at("argoproj.io/v1alpha1", "Rollout").as_deref(), Some("spec.template.spec"));
        assert_eq!(at("apps.openshift.io/v1", "DeploymentConfig").as_deref(), Some("spec.template.spec"));
        assert_eq!(at("batch.volcano.sh/v1alpha1", "Job"), None);
        assert_eq!(at("example.com/v1", "Deployment"), None);
        assert_eq!(at("example.com/v1", "Rollout"), None);
    }
}
