//! Load a snapshot as raw JSON objects, grouped by resource type, plus container log texts.
//!
//! The inputs are the ones `kubesleuth scan --snapshot` reads: `kubectl cluster-info dump`
//! (directory layout or its stdout stream with `==== START logs` sections), `kubectl get -o
//! json|yaml` lists and objects, and `<ns>/<pod>/<container>[.previous].log` files. Objects are
//! kept as JSON (not typed) so that every field, and every custom resource, is served as it
//! was captured.
//!
//! Secret values never enter the server: a Secret's `data` and `stringData` are removed while
//! loading and its key names go into the annotation [`SECRET_KEYS_ANNOTATION`], comma-separated
//! (a Secret read without data gets no annotation: its keys are unknown). The
//! `kubectl.kubernetes.io/last-applied-configuration` annotation of a Secret is dropped too,
//! as it repeats the values.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use ks_core::LogKey;
use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::resources::{self, CrdNames, ResourceInfo, split_api_version};

/// The annotation that carries a Secret's key names, comma-separated and sorted.
pub const SECRET_KEYS_ANNOTATION: &str = "kubesleuth.io/keys";
/// The annotation on Namespace objects the server made up because the snapshot had none.
pub const SYNTHESIZED_ANNOTATION: &str = "kubesleuth.io/synthesized";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Errors that stop loading as a whole; problems with single files become gaps.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("nothing could be read: {detail}")]
    NothingReadable { detail: String },
}

/// The objects of one resource type, sorted by namespace then name.
#[derive(Clone, Debug)]
pub struct Resource {
    pub info: ResourceInfo,
    /// Each object has `kind` and `apiVersion` set.
    pub objects: Vec<Value>,
}

/// A snapshot as the server answers from it.
#[derive(Clone, Debug, Default)]
pub struct RawSnapshot {
    /// Core group first, then by group, version and plural.
    resources: Vec<Resource>,
    logs: BTreeMap<LogKey, String>,
    now: Option<Timestamp>,
    resource_version: String,
    server_version: String,
    gaps: Vec<String>,
}

impl RawSnapshot {
    /// Every resource type served, with its objects.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The resource type `plural` in `group`/`version`.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.info.group == group && r.info.version == version && r.info.plural == plural)
    }

    /// A container's log text as captured.
    pub fn log(&self, namespace: &str, pod: &str, container: &str, previous: bool) -> Option<&str> {
        let key = LogKey {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
            previous,
        };
        self.logs.get(&key).map(String::as_str)
    }

    /// Every log text, by container.
    pub fn logs(&self) -> &BTreeMap<LogKey, String> {
        &self.logs
    }

    /// The snapshot's own "now": its newest timestamp (object creation, event, condition and
    /// container state times). Ages in tables are computed against it, never the wall clock,
    /// so an old snapshot reads the same as the day it was taken.
    pub fn now(&self) -> Option<Timestamp> {
        self.now
    }

    /// The resourceVersion lists carry: the largest one in the snapshot (or `1`).
    pub fn resource_version(&self) -> &str {
        &self.resource_version
    }

    /// `gitVersion` for `/version`: the nodes' kubelet version when the snapshot has nodes.
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// Files or parts of files that could not be read.
    pub fn gaps(&self) -> &[String] {
        &self.gaps
    }

    /// How many objects are served (synthesized namespaces included).
    pub fn object_count(&self) -> usize {
        self.resources.iter().map(|r| r.objects.len()).sum()
    }

    /// Build a snapshot from objects and lists already in memory (tests, other sources).
    pub fn from_values(
        values: impl IntoIterator<Item = Value>,
        logs: impl IntoIterator<Item = (LogKey, String)>,
    ) -> Self {
        let mut part = Part::default();
        for v in values {
            part.add_value("(memory)", v);
        }
        part.logs.extend(logs);
        build(vec![part])
    }
}

/// Load every file under `paths` (recursively). Unreadable files become gaps; a path that does
/// not exist, or a snapshot with nothing readable in it, is an error.
pub fn load_raw(paths: &[PathBuf]) -> Result<RawSnapshot, ServeError> {
    let mut files = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(ServeError::NotFound { path: p.clone() });
        }
        collect_files(p, &mut files).map_err(|source| ServeError::Io { path: p.clone(), source })?;
    }
    files.sort();
    let parts: Vec<Part> = files.par_iter().map(|f| load_file(f)).collect();
    let snap = build(parts);
    let has_objects = snap.resources.iter().any(|r| !r.objects.is_empty());
    if !has_objects && snap.logs.is_empty() {
        let detail = snap.gaps.first().cloned().unwrap_or_else(|| "no Kubernetes objects or logs found".to_string());
        return Err(ServeError::NothingReadable { detail });
    }
    Ok(snap)
}

/// Documentation beside a snapshot (a README) is neither evidence nor an error.
fn is_documentation(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "md" | "markdown" | "rst" | "adoc"))
}

fn collect_files(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if p.is_dir() {
        for entry in std::fs::read_dir(p)? {
            let path = entry?.path();
            let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            if !hidden && !is_documentation(&path) {
                collect_files(&path, out)?;
            }
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

/// What one file contributed.
#[derive(Default)]
struct Part {
    /// (apiVersion, kind, object)
    objects: Vec<(String, String, Value)>,
    /// Typed lists seen, even empty ones: the kind was collected.
    list_types: Vec<(String, String)>,
    list_versions: Vec<String>,
    logs: Vec<(LogKey, String)>,
    gaps: Vec<String>,
}

impl Part {
    fn gap(&mut self, file: &str, message: impl std::fmt::Display) {
        self.gaps.push(format!("{file}: {message}"));
    }

    /// One parsed document: an object, a list, or a JSON array of either.
    fn add_value(&mut self, file: &str, v: Value) {
        match v {
            Value::Array(items) => items.into_iter().for_each(|i| self.add_item(file, i, None)),
            Value::Object(mut map) => {
                if let Some(Value::Array(items)) = map.remove("items") {
                    let list_kind = map.get("kind").and_then(Value::as_str).unwrap_or("List");
                    let api = map.get("apiVersion").and_then(Value::as_str).unwrap_or("v1").to_string();
                    if let Some(rv) = map.get("metadata").and_then(|m| m.get("resourceVersion")).and_then(Value::as_str)
                    {
                        self.list_versions.push(rv.to_string());
                    }
                    let item_kind = list_kind.strip_suffix("List").filter(|k| !k.is_empty()).map(str::to_string);
                    if let Some(k) = &item_kind {
                        self.list_types.push((api.clone(), k.clone()));
                    }
                    let defaults = item_kind.map(|k| (api, k));
                    for item in items {
                        self.add_item(file, item, defaults.as_ref());
                    }
                } else {
                    self.add_item(file, Value::Object(map), None);
                }
            }
            Value::Null => {}
            other => self.gap(file, format!("not a Kubernetes object (a JSON {})", type_name(&other))),
        }
    }

    /// One object; `defaults` are the (apiVersion, kind) of the typed list it came in, whose
    /// items the API server writes without their own `kind`/`apiVersion`.
    fn add_item(&mut self, file: &str, item: Value, defaults: Option<&(String, String)>) {
        let Value::Object(mut map) = item else {
            return self.gap(file, format!("list item is a JSON {}, not an object", type_name(&item)));
        };
        let kind =
            map.get("kind").and_then(Value::as_str).map(str::to_string).or_else(|| defaults.map(|d| d.1.clone()));
        let Some(kind) = kind else {
            return self.gap(file, format!("object {} has no `kind`; skipped", object_name(&map)));
        };
        let api = map
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| defaults.map(|d| d.0.clone()))
            .unwrap_or_else(|| "v1".to_string());
        if !map.get("metadata").is_none_or(Value::is_object) {
            return self.gap(file, format!("{kind} has a `metadata` that is not an object; skipped"));
        }
        map.insert("kind".to_string(), Value::String(kind.clone()));
        map.insert("apiVersion".to_string(), Value::String(api.clone()));
        let mut obj = Value::Object(map);
        if kind == "Secret" && api == "v1" {
            redact_secret(&mut obj);
        }
        self.objects.push((api, kind, obj));
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn object_name(map: &Map<String, Value>) -> String {
    let meta = map.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("(unnamed)");
    match meta.and_then(|m| m.get("namespace")).and_then(Value::as_str) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// Drop a Secret's values, keeping its key names in an annotation.
fn redact_secret(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else { return };
    let mut keys = BTreeSet::new();
    let mut had_data = false;
    for field in ["data", "stringData"] {
        if let Some(v) = map.remove(field) {
            had_data = true;
            if let Value::Object(m) = v {
                keys.extend(m.into_iter().map(|(k, _)| k));
            }
        }
    }
    let meta = map.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    let Some(meta) = meta.as_object_mut() else { return };
    let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
    if let Some(a) = annotations.as_object_mut() {
        a.remove(LAST_APPLIED);
        if had_data {
            let joined = keys.into_iter().collect::<Vec<_>>().join(",");
            a.insert(SECRET_KEYS_ANNOTATION.to_string(), Value::String(joined));
        }
        if a.is_empty() {
            meta.remove("annotations");
        }
    } else {
        // Not a map: whatever it holds may repeat the values.
        meta.remove("annotations");
    }
}

fn load_file(path: &Path) -> Part {
    let mut part = Part::default();
    let name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            part.gap(&name, format!("cannot read: {e}"));
            return part;
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        part.gap(&name, "binary data, not UTF-8 text; skipped");
        return part;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(key) = ks_sources::logs::key_from_path(path) {
        part.logs.push((key, text.to_string()));
        return part;
    }
    if text.contains('\0') {
        part.gap(&name, "binary data (NUL bytes); skipped");
        return part;
    }
    let sections = ks_sources::logs::split_sections(text);
    let mut read_any = !sections.is_empty();
    let mut cursor = 0;
    for s in &sections {
        let key = LogKey {
            namespace: s.namespace.to_string(),
            pod: s.pod.to_string(),
            container: s.container.to_string(),
            previous: false,
        };
        part.logs.push((key, text[s.body.clone()].to_string()));
        read_any |= load_segment(&name, &text[cursor..s.whole.start], &mut part);
        cursor = s.whole.end;
    }
    read_any |= load_segment(&name, &text[cursor..], &mut part);
    if !read_any && !text.trim().is_empty() {
        part.gap(&name, "not a Kubernetes object, list, or container log; skipped");
    }
    part
}

/// Parse the JSON or YAML objects in one stretch of text; returns whether it held any.
fn load_segment(name: &str, seg: &str, part: &mut Part) -> bool {
    let trimmed = seg.trim_start();
    if trimmed.is_empty() {
        return false;
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        for v in serde_json::Deserializer::from_str(seg).into_iter::<Value>() {
            match v {
                Ok(v) => part.add_value(name, v),
                Err(e) => {
                    part.gap(name, format!("malformed JSON: {e}"));
                    break;
                }
            }
        }
        true
    } else if seg.lines().any(|l| l.starts_with("kind:") || l.starts_with("apiVersion:")) {
        match serde_saphyr::from_multiple::<Value>(seg) {
            Ok(docs) => docs.into_iter().for_each(|d| part.add_value(name, d)),
            Err(e) => {
                let msg = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
                part.gap(name, format!("malformed YAML: {msg}"));
            }
        }
        true
    } else {
        false
    }
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

fn sort_key(obj: &Value) -> (String, String) {
    (meta_str(obj, "namespace").unwrap_or_default().to_string(), meta_str(obj, "name").unwrap_or_default().to_string())
}

fn rv_number(obj: &Value) -> Option<u64> {
    meta_str(obj, "resourceVersion")?.parse().ok()
}

/// (group, version, kind or plural)
type TypeKey = (String, String, String);

fn build(parts: Vec<Part>) -> RawSnapshot {
    let mut gaps = Vec::new();
    let mut logs = BTreeMap::new();
    let mut list_versions = Vec::new();
    let mut list_types = BTreeSet::new();
    // (group, version, kind) -> objects by (namespace, name); a later file wins unless the
    // earlier copy has a higher resourceVersion.
    let mut by_type: BTreeMap<TypeKey, BTreeMap<(String, String), Value>> = BTreeMap::new();
    for part in parts {
        gaps.extend(part.gaps);
        logs.extend(part.logs);
        list_versions.extend(part.list_versions);
        for (api, kind) in part.list_types {
            let (g, v) = split_api_version(&api);
            list_types.insert((g.to_string(), v.to_string(), kind));
        }
        for (api, kind, obj) in part.objects {
            let (g, v) = split_api_version(&api);
            let slot = by_type.entry((g.to_string(), v.to_string(), kind)).or_default();
            let key = sort_key(&obj);
            match slot.get(&key) {
                Some(old) if rv_number(old) > rv_number(&obj) => {}
                _ => {
                    slot.insert(key, obj);
                }
            }
        }
    }
    for t in list_types {
        by_type.entry(t).or_default();
    }

    let crds: HashMap<(String, String), CrdNames> = by_type
        .get(&("apiextensions.k8s.io".to_string(), "v1".to_string(), "CustomResourceDefinition".to_string()))
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(CrdNames::from_crd)
        .map(|(g, k, n)| ((g, k), n))
        .collect();

    let mut resources: BTreeMap<TypeKey, Resource> = BTreeMap::new();
    for info in resources::always_served() {
        let key = (info.group.clone(), info.version.clone(), info.plural.clone());
        resources.insert(key, Resource { info, objects: Vec::new() });
    }
    for ((group, version, kind), objects) in by_type {
        let any_namespaced = objects.values().any(|o| meta_str(o, "namespace").is_some_and(|n| !n.is_empty()));
        let info = resources::known(&group, &version, &kind).unwrap_or_else(|| {
            resources::custom(&group, &version, &kind, crds.get(&(group.clone(), kind.clone())), any_namespaced)
        });
        let key = (info.group.clone(), info.version.clone(), info.plural.clone());
        let entry = resources.entry(key).or_insert_with(|| Resource { info, objects: Vec::new() });
        entry.objects.extend(objects.into_values());
    }

    let namespaces_key = (String::new(), "v1".to_string(), "namespaces".to_string());
    if resources.get(&namespaces_key).is_some_and(|r| r.objects.is_empty()) {
        let made = synthesize_namespaces(resources.values(), &logs);
        if let Some(r) = resources.get_mut(&namespaces_key) {
            r.objects = made;
        }
    }

    let mut resources: Vec<Resource> = resources.into_values().collect();
    // Core group first, as a real server lists it; objects by namespace then name.
    resources.sort_by(|a, b| {
        (!a.info.group.is_empty(), &a.info.group, &a.info.version, &a.info.plural).cmp(&(
            !b.info.group.is_empty(),
            &b.info.group,
            &b.info.version,
            &b.info.plural,
        ))
    });
    for r in &mut resources {
        r.objects.sort_by_key(sort_key);
    }

    let mut now = None;
    for r in &resources {
        for o in &r.objects {
            newest_in(o, &r.info.kind, &mut now);
        }
    }
    let resource_version = resources
        .iter()
        .flat_map(|r| r.objects.iter().filter_map(rv_number))
        .chain(list_versions.iter().filter_map(|v| v.parse().ok()))
        .max()
        .unwrap_or(1)
        .to_string();
    let server_version = resources
        .iter()
        .find(|r| r.info.group.is_empty() && r.info.plural == "nodes")
        .and_then(|r| {
            r.objects
                .iter()
                .find_map(|n| n.pointer("/status/nodeInfo/kubeletVersion").and_then(Value::as_str).map(str::to_string))
        })
        .unwrap_or_else(|| "v1.31.0".to_string());
    RawSnapshot { resources, logs, now, resource_version, server_version, gaps }
}

/// Namespace objects for every namespace the snapshot's objects and logs are in, when it holds
/// no Namespace objects itself (cluster-info dump writes none). Each is `Active` and as old as
/// its oldest object, and carries [`SYNTHESIZED_ANNOTATION`].
fn synthesize_namespaces<'a>(
    resources: impl Iterator<Item = &'a Resource>,
    logs: &BTreeMap<LogKey, String>,
) -> Vec<Value> {
    let mut oldest: BTreeMap<String, Option<Timestamp>> = BTreeMap::new();
    for r in resources {
        for o in &r.objects {
            let Some(ns) = meta_str(o, "namespace").filter(|n| !n.is_empty()) else { continue };
            let created = meta_str(o, "creationTimestamp").and_then(|t| t.parse::<Timestamp>().ok());
            let slot = oldest.entry(ns.to_string()).or_default();
            if let Some(c) = created
                && slot.is_none_or(|s| c < s)
            {
                *slot = Some(c);
            }
        }
    }
    for k in logs.keys() {
        oldest.entry(k.namespace.clone()).or_default();
    }
    oldest
        .into_iter()
        .map(|(name, created)| {
            let mut meta = serde_json::json!({
                "name": name,
                "labels": {"kubernetes.io/metadata.name": name},
                "annotations": {SYNTHESIZED_ANNOTATION: "true"},
            });
            if let Some(c) = created {
                meta["creationTimestamp"] = Value::String(c.to_string());
            }
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": meta,
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            })
        })
        .collect()
}

/// Fold the times that say "this happened" into `now`. Not every timestamp: a certificate's
/// future `notAfter` is not a moment the snapshot saw.
fn newest_in(obj: &Value, kind: &str, now: &mut Option<Timestamp>) {
    let mut see = |v: Option<&Value>| {
        if let Some(t) = v.and_then(Value::as_str).and_then(|s| s.parse::<Timestamp>().ok())
            && now.is_none_or(|n| t > n)
        {
            *now = Some(t);
        }
    };
    see(obj.pointer("/metadata/creationTimestamp"));
    match kind {
        "Event" => {
            for p in [
                "/lastTimestamp",
                "/firstTimestamp",
                "/eventTime",
                "/series/lastObservedTime",
                "/deprecatedLastTimestamp",
            ] {
                see(obj.pointer(p));
            }
        }
        "Pod" => {
            for c in obj.pointer("/status/conditions").and_then(Value::as_array).into_iter().flatten() {
                see(c.get("lastTransitionTime"));
            }
            for list in ["/status/containerStatuses", "/status/initContainerStatuses"] {
                for c in obj.pointer(list).and_then(Value::as_array).into_iter().flatten() {
                    for st in ["state", "lastState"] {
                        see(c.pointer(&format!("/{st}/running/startedAt")));
                        see(c.pointer(&format!("/{st}/terminated/finishedAt")));
                    }
                }
            }
        }
        "Node" => {
            for c in obj.pointer("/status/conditions").and_then(Value::as_array).into_iter().flatten() {
                see(c.get("lastHeartbeatTime"));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_lose_their_values_and_keep_key_names() {
        let snap = RawSnapshot::from_values(
            [json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "s", "namespace": "a", "annotations": {LAST_APPLIED: "{\"data\":{\"k\":\"c2VjcmV0\"}}"}},
                "data": {"mongo-url": "c2VjcmV0", "b": "eA=="}, "stringData": {"c": "plain"}})],
            [],
        );
        let s = &snap.resource("", "v1", "secrets").unwrap().objects[0];
        let text = s.to_string();
        assert!(!text.contains("c2VjcmV0") && !text.contains("plain") && !text.contains("eA=="), "{text}");
        assert!(s.get("data").is_none() && s.get("stringData").is_none());
        assert_eq!(s["metadata"]["annotations"][SECRET_KEYS_ANNOTATION], "b,c,mongo-url");
    }

    #[test]
    fn typed_list_items_get_kind_and_api_version_and_empty_lists_register_the_type() {
        let snap = RawSnapshot::from_values(
            [
                json!({"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {"resourceVersion": "77"},
                    "items": [{"metadata": {"name": "web", "namespace": "shop", "resourceVersion": "5"}}]}),
                json!({"kind": "WidgetList", "apiVersion": "example.io/v1", "items": []}),
            ],
            [],
        );
        let d = &snap.resource("apps", "v1", "deployments").unwrap().objects[0];
        assert_eq!((d["kind"].as_str(), d["apiVersion"].as_str()), (Some("Deployment"), Some("apps/v1")));
        assert!(snap.resource("example.io", "v1", "widgets").is_some_and(|r| r.objects.is_empty()));
        assert_eq!(snap.resource_version(), "77");
    }

    #[test]
    fn namespaces_are_synthesized_only_when_absent() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop",
            "creationTimestamp": "2026-01-02T00:00:00Z"}});
        let snap = RawSnapshot::from_values([pod.clone()], []);
        let ns = &snap.resource("", "v1", "namespaces").unwrap().objects;
        assert_eq!(ns.len(), 1);
        assert_eq!(ns[0]["metadata"]["name"], "shop");
        assert_eq!(ns[0]["metadata"]["creationTimestamp"], "2026-01-02T00:00:00Z");
        let real = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}});
        let snap = RawSnapshot::from_values([pod, real], []);
        let ns = &snap.resource("", "v1", "namespaces").unwrap().objects;
        assert_eq!(ns.len(), 1);
        assert_eq!(ns[0]["metadata"]["name"], "other");
    }

    #[test]
    fn now_ignores_future_certificate_times() {
        let snap = RawSnapshot::from_values(
            [
                json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "a"},
                    "lastTimestamp": "2026-11-20T10:00:00Z"}),
                json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c", "namespace": "a"},
                    "status": {"notAfter": "2027-01-01T00:00:00Z"}}),
            ],
            [],
        );
        assert_eq!(snap.now().unwrap().to_string(), "2026-11-20T10:00:00Z");
    }
}
