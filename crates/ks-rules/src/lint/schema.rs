//! Schema checks of manifest documents against the Kubernetes API types (k8s-openapi):
//! unknown fields (which the API server drops with only a warning), wrong types and missing
//! required fields (which it rejects). Computed once per run for every document; the
//! schema rules only report from it.

use ks_core::ManifestDoc;
use ks_core::manifest::{FieldPath, PathChain, Seg};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// What decoding one document found.
#[derive(Debug, Default, Clone)]
pub struct SchemaReport {
    /// Whether the kind is one kubesleuth knows the schema of.
    pub known_kind: bool,
    /// Fields the API types do not have, with where the same name would be valid.
    pub unknown: Vec<UnknownField>,
    /// Type errors: where, and serde's message (values removed for Secrets). serde stops at
    /// the first one; [`check`] removes the offending field and decodes again, so every one
    /// is found (up to [`MAX_INVALID`]) along with the unknown fields after it.
    pub invalid: Vec<(FieldPath, String)>,
    /// Required fields that are absent (k8s-openapi decodes them as defaults, so they are
    /// checked from [`REQUIRED`]).
    pub missing: Vec<FieldPath>,
    /// The JSON schema the document was checked against (`CRD certificates.cert-manager.io`,
    /// a `--schema-dir` file); `None` for the k8s-openapi types.
    pub source: Option<String>,
}

/// Required fields the API server's validation insists on, per kind. `$pod` stands for the
/// kind's pod spec; `[*]` for every element of a list.
pub static REQUIRED: &[(&str, &str)] = &[
    // A workload without a pod spec has no containers, which the API server requires.
    ("*", "$pod"),
    ("*", "$pod.containers"),
    ("*", "$pod.containers[*].name"),
    ("*", "$pod.containers[*].image"),
    ("*", "$pod.containers[*].ports[*].containerPort"),
    ("*", "$pod.containers[*].env[*].name"),
    ("*", "$pod.containers[*].volumeMounts[*].name"),
    ("*", "$pod.containers[*].volumeMounts[*].mountPath"),
    ("*", "$pod.initContainers[*].name"),
    ("*", "$pod.initContainers[*].image"),
    ("*", "$pod.volumes[*].name"),
    ("*", "$pod.topologySpreadConstraints[*].maxSkew"),
    ("*", "$pod.topologySpreadConstraints[*].topologyKey"),
    ("*", "$pod.topologySpreadConstraints[*].whenUnsatisfiable"),
    ("Deployment", "spec"),
    ("Deployment", "spec.selector"),
    ("Deployment", "spec.template"),
    ("StatefulSet", "spec"),
    ("StatefulSet", "spec.selector"),
    ("StatefulSet", "spec.template"),
    ("DaemonSet", "spec"),
    ("DaemonSet", "spec.selector"),
    ("DaemonSet", "spec.template"),
    ("ReplicaSet", "spec"),
    ("ReplicaSet", "spec.selector"),
    ("ReplicaSet", "spec.template"),
    ("Job", "spec"),
    ("Job", "spec.template"),
    ("CronJob", "spec"),
    ("CronJob", "spec.schedule"),
    ("CronJob", "spec.jobTemplate"),
    ("CronJob", "spec.jobTemplate.spec"),
    ("CronJob", "spec.jobTemplate.spec.template"),
    ("Service", "spec.ports[*].port"),
    ("Ingress", "spec.rules[*].http.paths[*].pathType"),
    ("Ingress", "spec.rules[*].http.paths[*].backend"),
    ("HorizontalPodAutoscaler", "spec"),
    ("HorizontalPodAutoscaler", "spec.scaleTargetRef"),
    ("HorizontalPodAutoscaler", "spec.maxReplicas"),
    ("RoleBinding", "roleRef"),
    ("ClusterRoleBinding", "roleRef"),
    ("PersistentVolumeClaim", "spec"),
];

/// Absent required fields of one document.
fn missing_required(doc: &ManifestDoc) -> Vec<FieldPath> {
    let mut out = Vec::new();
    let pod: Option<Vec<&str>> = super::pod_spec_str(&doc.kind).map(|p| p.split('.').collect());
    let mut segs: Vec<&str> = Vec::new();
    for (kind, pattern) in REQUIRED {
        segs.clear();
        match (pattern.strip_prefix("$pod"), &pod) {
            (Some(rest), Some(pod)) => {
                segs.extend(pod);
                segs.extend(rest.split('.').filter(|s| !s.is_empty()));
            }
            (Some(_), None) => continue,
            (None, _) if *kind == doc.kind => segs.extend(pattern.split('.')),
            (None, _) => continue,
        }
        walk_required(&doc.value, &segs, &PathChain::Root, &mut out);
    }
    out
}

/// Follow `segs` (`name` or `name[*]`); a missing last segment under an existing parent is
/// reported. Missing intermediate parents are not (their own rule covers them, or they are
/// optional). Most documents have every required field, so the path is a borrowed chain,
/// written out only for one that is missing.
fn walk_required(v: &Value, segs: &[&str], at: &PathChain<'_>, out: &mut Vec<FieldPath>) {
    let Some((first, rest)) = segs.split_first() else { return };
    let (name, each) = match first.strip_suffix("[*]") {
        Some(n) => (n, true),
        None => (*first, false),
    };
    let Value::Object(m) = v else { return };
    let here = PathChain::Key(at, name);
    match m.get(name) {
        None | Some(Value::Null) if rest.is_empty() => out.push(here.to_field_path()),
        None | Some(Value::Null) => {}
        Some(child) if each => {
            if let Value::Array(items) = child {
                for (i, item) in items.iter().enumerate() {
                    walk_required(item, rest, &PathChain::Index(&here, i), out);
                }
            }
        }
        Some(child) => walk_required(child, rest, &here, out),
    }
}

#[derive(Debug, Clone)]
pub struct UnknownField {
    pub path: FieldPath,
    /// Another place in the object where this field name is valid (e.g. a container's
    /// securityContext for `capabilities` written at pod level).
    pub belongs: Option<FieldPath>,
    /// A known field name a typo most likely meant, valid at the same place.
    pub did_you_mean: Option<String>,
    /// Why the schema lacks the field, when whatever made the schema knows.
    pub why: Option<AbsentField>,
}

/// Why a schema has no field that users set there, and how to fix it: said by whatever
/// makes the schema (a v1 Gatekeeper template without a parameters schema has no
/// `spec.parameters`).
#[derive(Debug, Clone, PartialEq)]
pub struct AbsentField {
    /// The finding's title ends with this.
    pub reason: String,
    /// The sentence of the root cause that explains it.
    pub explanation: String,
    pub fix: String,
}

type Checker = fn(&Value) -> (Vec<FieldPath>, Option<(FieldPath, String)>);

fn decode<T: DeserializeOwned>(v: &Value) -> (Vec<FieldPath>, Option<(FieldPath, String)>) {
    let mut unknown = Vec::new();
    let invalid = super::ignored::decode::<T>(v, &mut unknown).err().map(|(e, at)| (at, e.to_string()));
    (unknown, invalid)
}

/// The unknown fields, error and error path that `serde_ignored` and `serde_path_to_error`
/// give: what [`decode`] must give.
fn reference_decode<T: DeserializeOwned>(v: &Value) -> (Vec<FieldPath>, Option<(FieldPath, String)>) {
    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let result: Result<T, _> = {
        let de = serde_path_to_error::Deserializer::new(v, &mut track);
        serde_ignored::deserialize(de, |p| unknown.push(ignored_path(&p)))
    };
    (unknown, result.err().map(|e| (error_path(&track.path()), e.to_string())))
}

/// Test support (the corpus test and the `unknown_fields` fuzz target): whether the
/// borrowed-path decoder finds the same unknown fields in `v`, and fails with the same
/// message at the same path, as `serde_ignored` and `serde_path_to_error`. `None` when `v`
/// is not of a kind with a schema here.
#[doc(hidden)]
pub fn unknown_fields_agree(v: &Value) -> Option<Result<(), String>> {
    let (api, kind) = (v.get("apiVersion")?.as_str()?, v.get("kind")?.as_str()?);
    let (fast, reference) = (checker(api, kind)?, reference_checker(api, kind)?);
    let (unknown, err) = fast(v);
    let (ref_unknown, ref_err) = reference(v);
    Some(if err != ref_err {
        Err(format!("{kind}: decode error {err:?}, serde_ignored {ref_err:?}"))
    } else if err.is_none() && unknown != ref_unknown {
        Err(format!("{kind}: unknown fields {unknown:?}, serde_ignored {ref_unknown:?}"))
    } else {
        Ok(())
    })
}

fn ignored_path(p: &serde_ignored::Path<'_>) -> FieldPath {
    fn walk(p: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
        use serde_ignored::Path;
        match p {
            Path::Root => {}
            Path::Seq { parent, index } => {
                walk(parent, out);
                out.push(Seg::Index(*index));
            }
            Path::Map { parent, key } => {
                walk(parent, out);
                out.push(Seg::Key(key.clone()));
            }
            Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
                walk(parent, out)
            }
        }
    }
    let mut segs = Vec::new();
    walk(p, &mut segs);
    FieldPath(segs)
}

fn error_path(p: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment;
    FieldPath(
        p.iter()
            .filter_map(|s| match s {
                Segment::Seq { index } => Some(Seg::Index(*index)),
                Segment::Map { key } => Some(Seg::Key(key.clone())),
                Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
                Segment::Unknown => None,
            })
            .collect(),
    )
}

macro_rules! schema_table {
    ($($api:literal, $kind:literal => $ty:ty;)*) => {
        fn checker(api: &str, kind: &str) -> Option<Checker> {
            match (api, kind) {
                $(($api, $kind) => Some(decode::<$ty> as Checker),)*
                _ => None,
            }
        }
        /// Every `(apiVersion, kind)` with a schema.
        pub const KNOWN: &[(&str, &str)] = &[$(($api, $kind)),*];
        /// [`checker`] with `serde_ignored`, which [`super::ignored`] must agree with.
        fn reference_checker(api: &str, kind: &str) -> Option<Checker> {
            match (api, kind) {
                $(($api, $kind) => Some(reference_decode::<$ty> as Checker),)*
                _ => None,
            }
        }
    };
}

use ks_core::k8s_openapi::api::{
    admissionregistration::v1 as admission, apps::v1 as apps, autoscaling::v1 as autoscaling1,
    autoscaling::v2 as autoscaling2, batch::v1 as batch, certificates::v1 as certificates,
    coordination::v1 as coordination, core::v1 as core, discovery::v1 as discovery, networking::v1 as networking,
    node::v1 as node, policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as scheduling, storage::v1 as storage,
};
use ks_core::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;

schema_table! {
    "v1", "Pod" => core::Pod;
    "v1", "Service" => core::Service;
    "v1", "ConfigMap" => core::ConfigMap;
    "v1", "Secret" => core::Secret;
    "v1", "ServiceAccount" => core::ServiceAccount;
    "v1", "Namespace" => core::Namespace;
    "v1", "PersistentVolumeClaim" => core::PersistentVolumeClaim;
    "v1", "PersistentVolume" => core::PersistentVolume;
    "v1", "Endpoints" => core::Endpoints;
    "v1", "LimitRange" => core::LimitRange;
    "v1", "ResourceQuota" => core::ResourceQuota;
    "v1", "ReplicationController" => core::ReplicationController;
    "v1", "Node" => core::Node;
    "v1", "PodTemplate" => core::PodTemplate;
    "apps/v1", "Deployment" => apps::Deployment;
    "apps/v1", "StatefulSet" => apps::StatefulSet;
    "apps/v1", "DaemonSet" => apps::DaemonSet;
    "apps/v1", "ReplicaSet" => apps::ReplicaSet;
    "apps/v1", "ControllerRevision" => apps::ControllerRevision;
    "batch/v1", "Job" => batch::Job;
    "batch/v1", "CronJob" => batch::CronJob;
    "networking.k8s.io/v1", "Ingress" => networking::Ingress;
    "networking.k8s.io/v1", "IngressClass" => networking::IngressClass;
    "networking.k8s.io/v1", "NetworkPolicy" => networking::NetworkPolicy;
    "policy/v1", "PodDisruptionBudget" => policy::PodDisruptionBudget;
    "rbac.authorization.k8s.io/v1", "Role" => rbac::Role;
    "rbac.authorization.k8s.io/v1", "ClusterRole" => rbac::ClusterRole;
    "rbac.authorization.k8s.io/v1", "RoleBinding" => rbac::RoleBinding;
    "rbac.authorization.k8s.io/v1", "ClusterRoleBinding" => rbac::ClusterRoleBinding;
    "autoscaling/v2", "HorizontalPodAutoscaler" => autoscaling2::HorizontalPodAutoscaler;
    "autoscaling/v1", "HorizontalPodAutoscaler" => autoscaling1::HorizontalPodAutoscaler;
    "storage.k8s.io/v1", "StorageClass" => storage::StorageClass;
    "storage.k8s.io/v1", "CSIDriver" => storage::CSIDriver;
    "storage.k8s.io/v1", "VolumeAttachment" => storage::VolumeAttachment;
    "apiextensions.k8s.io/v1", "CustomResourceDefinition" => apiextensions::CustomResourceDefinition;
    "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration" => admission::ValidatingWebhookConfiguration;
    "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration" => admission::MutatingWebhookConfiguration;
    "scheduling.k8s.io/v1", "PriorityClass" => scheduling::PriorityClass;
    "coordination.k8s.io/v1", "Lease" => coordination::Lease;
    "discovery.k8s.io/v1", "EndpointSlice" => discovery::EndpointSlice;
    "certificates.k8s.io/v1", "CertificateSigningRequest" => certificates::CertificateSigningRequest;
    "node.k8s.io/v1", "RuntimeClass" => node::RuntimeClass;
}

/// Field names of the Kubernetes API, for "did you mean" (generated from k8s-openapi's
/// field tables by `fixtures/gen/field_names.sh`).
static FIELD_NAMES: &str = include_str!("field_names.txt");

/// Check one document.
pub fn check(doc: &ManifestDoc) -> SchemaReport {
    let Some(check) = checker(&doc.api_version, &doc.kind) else {
        return SchemaReport::default();
    };
    // serde stops at the first type error, so a document with one would hide every later
    // type error and unknown field. Remove the offending field and decode again until the
    // rest decodes (each round costs one decode, and only invalid documents pay it).
    let mut value = std::borrow::Cow::Borrowed(&*doc.value);
    let mut invalid: Vec<(FieldPath, String)> = Vec::new();
    let (unknown, decodes) = loop {
        let (unknown, error) = check(&value);
        let Some((path, msg)) = error else { break (unknown, true) };
        if invalid.iter().any(|(p, _)| *p == path) {
            // Taking the field out did not help (a path serde reports differently).
            break (unknown, false);
        }
        // A field can only be taken out by key; an error in a list item, at the root, or
        // about an absent field (nothing to remove) ends the search.
        let removable = matches!(path.0.last(), Some(Seg::Key(_))) && !msg.starts_with("missing field");
        invalid.push((path.clone(), msg));
        if !removable || invalid.len() >= MAX_INVALID {
            break (unknown, false);
        }
        remove_at(value.to_mut(), &path);
    };
    if doc.kind == "Secret" {
        // serde quotes the offending value; a Secret's values are never shown.
        for (_, msg) in &mut invalid {
            *msg = strip_quoted(msg);
        }
    }
    // Explanations re-decode variants of the document, which is only sound once it decodes
    // (with the invalid fields taken out).
    let unknown = unknown
        .into_iter()
        .map(|path| {
            if decodes {
                explain_unknown(check, &value, path)
            } else {
                UnknownField { path, belongs: None, did_you_mean: None, why: None }
            }
        })
        .collect();
    // A required field inside a field of the wrong type is that field's problem.
    let missing =
        missing_required(doc).into_iter().filter(|m| !invalid.iter().any(|(p, _)| m.0.starts_with(&p.0))).collect();
    SchemaReport { known_kind: true, unknown, invalid, missing, source: None }
}

/// Type errors reported per document at most (each costs a decode).
pub const MAX_INVALID: usize = 16;

fn strip_quoted(msg: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in msg.chars() {
        if c == '"' {
            inside = !inside;
            if inside {
                out.push_str("\"…\"");
            }
            continue;
        }
        if !inside {
            out.push(c);
        }
    }
    out
}

/// Where else the unknown field's name is valid: move it to each map in the document (and
/// to each container's securityContext, which is often absent) and re-check; and the closest
/// known name valid in place.
fn explain_unknown(check: Checker, root: &Value, path: FieldPath) -> UnknownField {
    let Some(Seg::Key(name)) = path.0.last().cloned() else {
        return UnknownField { path, belongs: None, did_you_mean: None, why: None };
    };
    let parent = FieldPath(path.0[..path.0.len() - 1].to_vec());
    let value = path.get(root).cloned().unwrap_or(Value::Null);
    let mut without = root.clone();
    remove_at(&mut without, &path);
    let accepted_at = |target: &FieldPath, key: &str| -> bool {
        let mut trial = without.clone();
        if !insert_at(&mut trial, target, key, value.clone()) {
            return false;
        }
        let (unknown, invalid) = check(&trial);
        let moved = target.clone().key(key);
        invalid.is_none() && !unknown.contains(&moved)
    };
    let mut candidates = Vec::new();
    // A name no Kubernetes type has (`replicaz`) is valid nowhere: no need to try each map.
    // The list holds the alphanumeric names only (`x-kubernetes-*` and `$ref` are not in it).
    let listed = name.bytes().all(|b| b.is_ascii_alphanumeric());
    if !listed || field_names().known.contains(name.as_str()) {
        collect_maps(root, &mut FieldPath::default(), &mut candidates);
    }
    // Each candidate costs a decode of the whole object; a huge object (a CRD's schema) gets
    // the places nearest the field only.
    candidates.sort_by_key(|c| std::cmp::Reverse(common_prefix(c, &parent)));
    candidates.truncate(MAX_CANDIDATES);
    let mut belongs = None;
    for c in &candidates {
        // A map of free-form keys (resource limits, a PV's capacity, a StorageClass's
        // parameters) takes any name; it is no place the field "belongs".
        if *c != parent && accepted_at(c, &name) && !accepted_at(c, FREE_FORM_PROBE) {
            belongs = Some(c.clone());
            break;
        }
    }
    let did_you_mean = if belongs.is_none() {
        let mut best: Option<(usize, &str)> = None;
        let lower = name.to_ascii_lowercase();
        let limit = if name.len() <= 4 { 1 } else { 2 };
        for (known_lower, known) in &field_names().lowercase {
            // Each edit changes the length by at most one.
            if known_lower.len().abs_diff(lower.len()) > limit || bag_distance(&lower, known_lower) > limit {
                continue;
            }
            let d = strsim::damerau_levenshtein(&lower, known_lower);
            if d <= limit && best.is_none_or(|(bd, _)| d < bd) && *known != name && accepted_at(&parent, known) {
                best = Some((d, known));
            }
        }
        best.map(|(_, k)| k.to_string())
    } else {
        None
    };
    UnknownField { path, belongs, did_you_mean, why: None }
}

const MAX_CANDIDATES: usize = 64;

/// A lower bound of the Damerau-Levenshtein distance of two ASCII strings, in one pass: the
/// larger count of characters either has that the other lacks (an edit adds or removes at
/// most one of each, a transposition none). Rules out most of the field names before the
/// distance, which allocates, is computed. 0 (no bound) for other text.
fn bag_distance(a: &str, b: &str) -> usize {
    if !a.is_ascii() || !b.is_ascii() {
        return 0;
    }
    let mut counts = [0i32; 128];
    a.bytes().for_each(|c| counts[c as usize] += 1);
    b.bytes().for_each(|c| counts[c as usize] -= 1);
    let (extra, missing) = counts.iter().fold((0, 0), |(e, m), &c| (e + c.max(0), m + (-c).max(0)));
    extra.max(missing) as usize
}

/// [`FIELD_NAMES`], read once per run.
struct FieldNames {
    known: std::collections::HashSet<&'static str>,
    /// `(lowercased, as written)`, for "did you mean".
    lowercase: Vec<(String, &'static str)>,
}

fn field_names() -> &'static FieldNames {
    static NAMES: std::sync::OnceLock<FieldNames> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| FieldNames {
        known: FIELD_NAMES.lines().collect(),
        lowercase: FIELD_NAMES.lines().map(|n| (n.to_ascii_lowercase(), n)).collect(),
    })
}

/// A key no Kubernetes type has: a map that accepts it accepts any key.
const FREE_FORM_PROBE: &str = "kubesleuthProbeNotAField";

fn common_prefix(a: &FieldPath, b: &FieldPath) -> usize {
    a.0.iter().zip(&b.0).take_while(|(x, y)| x == y).count()
}

/// Every mapping in the document, plus each container's `securityContext` (often absent
/// and the usual home of misplaced fields).
fn collect_maps(v: &Value, at: &mut FieldPath, out: &mut Vec<FieldPath>) {
    match v {
        Value::Object(m) => {
            out.push(at.clone());
            let is_container = m.contains_key("image") && m.contains_key("name");
            if is_container && !m.contains_key("securityContext") {
                out.push(at.clone().key("securityContext"));
            }
            for (k, child) in m {
                // Maps of user data (labels, annotations, data) hold no fields.
                if matches!(k.as_str(), "labels" | "annotations" | "data" | "stringData" | "matchLabels" | "selector")
                    && child.get("matchLabels").is_none()
                {
                    continue;
                }
                at.0.push(Seg::Key(k.clone()));
                collect_maps(child, at, out);
                at.0.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.0.push(Seg::Index(i));
                collect_maps(child, at, out);
                at.0.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match seg {
            Seg::Key(k) => cur.get_mut(k)?,
            Seg::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

fn remove_at(v: &mut Value, path: &FieldPath) {
    if let Some((Seg::Key(last), parent)) = path.0.split_last()
        && let Some(Value::Object(m)) = get_mut(v, parent)
    {
        m.remove(last);
    }
}

/// Put `key: value` into the map at `target`, creating the last map if absent.
fn insert_at(v: &mut Value, target: &FieldPath, key: &str, value: Value) -> bool {
    if get_mut(v, &target.0).is_none() {
        let Some((Seg::Key(last), parent)) = target.0.split_last() else { return false };
        let Some(Value::Object(m)) = get_mut(v, parent) else { return false };
        m.insert(last.clone(), Value::Object(Map::new()));
    }
    match get_mut(v, &target.0) {
        Some(Value::Object(m)) => {
            m.insert(key.to_string(), value);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound never exceeds the distance it stands in for, so no suggestion is lost.
    #[test]
    fn bag_distance_is_a_lower_bound_of_the_edit_distance() {
        let names: Vec<&str> = field_names().lowercase.iter().map(|(l, _)| l.as_str()).step_by(7).take(400).collect();
        let words = ["replicaz", "imagepullpolicy", "contianers", "securtiycontext", "ab", "", "é"];
        let mut pruned = 0;
        for a in words.iter().copied().chain(names.iter().copied().take(60)) {
            for b in &names {
                let (bound, d) = (bag_distance(a, b), strsim::damerau_levenshtein(a, b));
                assert!(bound <= d, "{a} / {b}: bound {bound} > distance {d}");
                pruned += usize::from(bound > 2);
            }
        }
        assert!(pruned > 0, "the bound rules nothing out");
    }
    use serde_json::json;

    use crate::lint::test_doc as doc;

    /// Every document of a known kind in `../shared/corpus`, and variants with a field
    /// moved or retyped: the same unknown fields, and the same error, as serde_ignored.
    #[test]
    fn agrees_with_serde_ignored_on_the_corpus() {
        let Some(files) = ks_core::test_support::corpus_files(&["yaml", "yml", "json"]) else { return };
        let (mut compared, mut with_unknown, mut failing) = (0, 0, 0);
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else { continue };
            for d in ks_core::yaml::parse_stream(&text).0 {
                let Some(fast) =
                    d.value["apiVersion"].as_str().zip(d.value["kind"].as_str()).and_then(|(a, k)| checker(a, k))
                else {
                    continue;
                };
                // The document, and the document with its spec's first field given a list
                // of maps (a type error in most types, an unknown field's shape in others).
                let mut variants = vec![d.value.clone()];
                if let Some(Value::Object(spec)) = d.value.get("spec")
                    && let Some(first) = spec.keys().next()
                {
                    let mut v = d.value.clone();
                    v["spec"][first] = serde_json::json!([{"a": 1}, {"kubesleuthProbe": [true]}]);
                    variants.push(v);
                }
                for v in variants {
                    if let Some(Err(e)) = unknown_fields_agree(&v) {
                        panic!("{}: {e}", f.display());
                    }
                    let (unknown, err) = fast(&v);
                    failing += usize::from(err.is_some());
                    with_unknown += usize::from(!unknown.is_empty());
                    compared += 1;
                }
            }
        }
        eprintln!("{compared} documents compared, {with_unknown} with unknown fields, {failing} failing");
        assert!(compared > 1000 && with_unknown > 0 && failing > 0);
    }

    fn deployment(pod_spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
               "spec": {"selector": {"matchLabels": {"app": "x"}},
                        "template": {"metadata": {"labels": {"app": "x"}}, "spec": pod_spec}}})
    }

    #[test]
    fn pod_level_capabilities_belong_to_the_container() {
        let d = doc(deployment(json!({
            "securityContext": {"runAsNonRoot": true, "capabilities": {"add": ["NET_ADMIN"]}},
            "containers": [{"name": "a", "image": "x"}]
        })));
        let r = check(&d);
        assert!(r.invalid.is_empty(), "{:?}", r.invalid);
        assert_eq!(r.unknown.len(), 1);
        assert_eq!(r.unknown[0].path.to_string(), "spec.template.spec.securityContext.capabilities");
        assert_eq!(
            r.unknown[0].belongs.as_ref().map(|p| p.to_string()).as_deref(),
            Some("spec.template.spec.containers[0].securityContext")
        );
    }

    #[test]
    fn typo_suggests_the_known_name() {
        let mut v = deployment(json!({"containers": [{"name": "a", "image": "x"}]}));
        v["spec"]["replicaz"] = json!(3);
        let r = check(&doc(v));
        assert_eq!(r.unknown.len(), 1);
        assert_eq!(r.unknown[0].did_you_mean.as_deref(), Some("replicas"));
    }

    #[test]
    fn missing_required_fields_are_reported_where_their_parent_is() {
        let v = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                       "spec": {"ports": [{"port": 80}, {"targetPort": 8080}]}});
        let r = check(&doc(v));
        assert_eq!(r.missing.iter().map(|p| p.to_string()).collect::<Vec<_>>(), vec!["spec.ports[1].port"]);
        let r = check(&doc(deployment(json!({"containers": [{"name": "a", "image": "x"}]}))));
        assert!(r.missing.is_empty(), "{:?}", r.missing);
    }

    #[test]
    fn wrong_type_has_its_path() {
        let v = deployment(json!({"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": "http"}]}]}));
        let r = check(&doc(v));
        let (path, msg) = r.invalid.first().cloned().expect("invalid");
        assert_eq!(path.to_string(), "spec.template.spec.containers[0].ports[0].containerPort");
        assert!(msg.contains("invalid type"), "{msg}");
    }

    #[test]
    fn clean_objects_and_unknown_kinds() {
        let r = check(&doc(deployment(json!({"containers": [{"name": "a", "image": "x"}]}))));
        assert!(r.known_kind && r.unknown.is_empty() && r.invalid.is_empty());
        let r = check(&doc(json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"x": 1}})));
        assert!(!r.known_kind);
    }

    #[test]
    fn secret_values_never_appear_in_messages() {
        let v = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "hunter2-not-base64!"}});
        let r = check(&doc(v));
        let (_, msg) = r.invalid.first().cloned().expect("invalid base64");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn every_type_error_and_the_unknown_fields_after_them() {
        let v = deployment(json!({"containers": [{"name": "a", "image": "x",
            "ports": [{"containerPort": "9402"}], "kind": "Container",
            "resources": {"limits": {"memory": "1Gi"}}, "parent": "x", "tty": "yes please"}]}));
        let r = check(&doc(v));
        let invalid: Vec<String> = r.invalid.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(
            invalid,
            vec!["spec.template.spec.containers[0].ports[0].containerPort", "spec.template.spec.containers[0].tty"]
        );
        let mut unknown: Vec<String> = r.unknown.iter().map(|u| u.path.to_string()).collect();
        unknown.sort();
        assert_eq!(unknown, vec!["spec.template.spec.containers[0].kind", "spec.template.spec.containers[0].parent"]);
    }

    #[test]
    fn workloads_without_a_spec_and_spread_constraints_without_a_key() {
        let v = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}});
        assert_eq!(check(&doc(v)).missing.iter().map(|p| p.to_string()).collect::<Vec<_>>(), vec!["spec"]);
        let v = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "x"}],
                     "topologySpreadConstraints": [{"maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"}]}});
        assert_eq!(
            check(&doc(v)).missing.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            vec!["spec.topologySpreadConstraints[0].topologyKey"]
        );
        let v = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        assert_eq!(check(&doc(v)).missing.iter().map(|p| p.to_string()).collect::<Vec<_>>(), vec!["spec"]);
    }

    #[test]
    fn free_form_maps_are_not_where_a_field_belongs() {
        // `pool` is no field anywhere; a container's resource limits take any key, so they
        // must not be offered as its home.
        let v = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}}}],
                     "volumes": [{"name": "v", "storageos": {"volumeName": "v", "pool": "default"}}]}});
        let r = check(&doc(v));
        assert_eq!(r.unknown.len(), 1);
        assert_eq!(r.unknown[0].path.to_string(), "spec.volumes[0].storageos.pool");
        assert!(r.unknown[0].belongs.is_none(), "{:?}", r.unknown[0].belongs);
    }
}
