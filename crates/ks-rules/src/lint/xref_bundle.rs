//! Cross-references within a bundle (the KS11xx rules): what the manifests of one lint run
//! define (Secrets, ConfigMaps, ServiceAccounts, PVCs, Services, workloads) and what pod
//! specs reference, each reference with the path of the field that names it so findings
//! point at that field.
//!
//! Namespaces: a manifest that does not write its namespace lands in whatever namespace the
//! apply names, so an object without a namespace may match one with any namespace. The rules
//! only claim a reference dangles when no candidate in any compatible namespace exists.

use std::collections::{BTreeSet, HashMap};

use ks_core::manifest::{FieldPath, Seg};
use ks_core::{Evidence, ManifestDoc};
use serde_json::Value;

use super::pod_templates::{PodTemplate, pod_template};

/// Whether objects in namespaces `a` and `b` can meet: equal, or either left to the apply.
pub fn ns_compatible(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// `shop/backend-secrets`, or `backend-secrets` when the namespace is left to the apply.
pub fn qualified(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// `-n shop ` for kubectl, empty when the namespace is left to the apply.
pub fn ns_flag(ns: Option<&str>) -> String {
    ns.map(|ns| format!("-n {ns} ")).unwrap_or_default()
}

/// `file:line` of a field of a document.
pub fn at(doc: &ManifestDoc, path: &FieldPath) -> String {
    let loc = doc.locate(path);
    format!("{}:{}", loc.file, loc.line)
}

/// A name that is still a template placeholder (an unrendered chart, kustomize vars,
/// envsubst): nothing can be said about what it names.
pub fn is_placeholder(name: &str) -> bool {
    name.is_empty() || name.contains("{{") || name.contains("$(") || name.contains("${")
}

/// The API group of an `apiVersion` (`""` for the core group).
pub fn api_group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

/// One object the bundle defines (or that a resource in the bundle makes a controller
/// create, such as the Secret of a SealedSecret).
pub struct Def<'a> {
    pub ns: Option<&'a str>,
    pub doc: &'a ManifestDoc,
    /// Where the definition is written (`metadata.name`, a CR's `spec.secretName`).
    pub path: FieldPath,
    /// Key names when the bundle states them all; `None` when a controller fills the
    /// object or the manifest lists no data, so an absent key proves nothing.
    pub keys: Option<BTreeSet<&'a str>>,
}

/// Definitions of one kind, by name.
#[derive(Default)]
pub struct Defs<'a> {
    by_name: HashMap<&'a str, Vec<Def<'a>>>,
    by_ns: HashMap<Option<&'a str>, Vec<&'a str>>,
}

impl<'a> Defs<'a> {
    fn add(&mut self, name: &'a str, def: Def<'a>) {
        if !name.is_empty() {
            self.by_ns.entry(def.ns).or_default().push(name);
            self.by_name.entry(name).or_default().push(def);
        }
    }

    /// Names a reference from namespace `ns` can reach, for "did you mean" suggestions.
    pub fn names_near(&self, ns: Option<&str>) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = match ns {
            Some(_) => [ns, None].iter().filter_map(|n| self.by_ns.get(n)).flatten().copied().collect(),
            None => self.by_name.keys().copied().collect(),
        };
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every definition of `name` that a reference from namespace `ns` can reach.
    pub fn find(&self, ns: Option<&str>, name: &str) -> Vec<&Def<'a>> {
        self.by_name.get(name).map(|v| v.iter().filter(|d| ns_compatible(d.ns, ns)).collect()).unwrap_or_default()
    }

    pub fn has(&self, ns: Option<&str>, name: &str) -> bool {
        self.by_name.get(name).is_some_and(|v| v.iter().any(|d| ns_compatible(d.ns, ns)))
    }
}

/// Keys of a JSON object, `None` when the field is absent or not an object.
fn object_keys(v: &Value) -> Option<BTreeSet<&str>> {
    v.as_object().map(|m| m.keys().map(String::as_str).collect())
}

/// Keys of `data` and `stringData` (names only: values are never read). `None` when the
/// manifest lists none: `data: {}` is the usual placeholder for a Secret filled in later
/// (by a script, an operator or `kubectl patch`), so it proves no key absent.
fn secret_keys(v: &Value) -> Option<BTreeSet<&str>> {
    let keys: BTreeSet<&str> =
        [object_keys(&v["data"]), object_keys(&v["stringData"])].into_iter().flatten().flatten().collect();
    (!keys.is_empty()).then_some(keys)
}

fn configmap_keys(v: &Value) -> Option<BTreeSet<&str>> {
    let keys: BTreeSet<&str> =
        [object_keys(&v["data"]), object_keys(&v["binaryData"])].into_iter().flatten().flatten().collect();
    (!keys.is_empty()).then_some(keys)
}

/// What the bundle defines, by kind.
#[derive(Default)]
pub struct Bundle<'a> {
    pub secrets: Defs<'a>,
    pub config_maps: Defs<'a>,
    pub service_accounts: Defs<'a>,
    pub pvcs: Defs<'a>,
    pub services: Defs<'a>,
}

impl<'a> Bundle<'a> {
    pub fn build(ev: &'a Evidence) -> Bundle<'a> {
        let mut b = Bundle::default();
        for doc in &ev.manifests {
            b.add(doc);
        }
        b
    }

    fn add(&mut self, doc: &'a ManifestDoc) {
        let v = &doc.value;
        let ns = doc.namespace.as_deref();
        let name = doc.name.as_str();
        let meta_name = || FieldPath::parse("metadata.name");
        let group = api_group(&doc.api_version);
        match (group, doc.kind.as_str()) {
            ("", "Secret") => {
                // The token controller fills service-account tokens: their keys are not
                // written in the manifest.
                let keys = if v["type"].as_str() == Some("kubernetes.io/service-account-token") {
                    None
                } else {
                    secret_keys(v)
                };
                self.secrets.add(name, Def { ns, doc, path: meta_name(), keys });
            }
            ("", "ConfigMap") => {
                self.config_maps.add(name, Def { ns, doc, path: meta_name(), keys: configmap_keys(v) });
            }
            ("", "ServiceAccount") => self.service_accounts.add(name, Def { ns, doc, path: meta_name(), keys: None }),
            ("", "PersistentVolumeClaim") => self.pvcs.add(name, Def { ns, doc, path: meta_name(), keys: None }),
            ("", "Service") => self.services.add(name, Def { ns, doc, path: meta_name(), keys: None }),
            ("bitnami.com", "SealedSecret") => {
                let tpl = &v["spec"]["template"]["metadata"];
                let name = tpl["name"].as_str().unwrap_or(name);
                let ns = tpl["namespace"].as_str().or(ns);
                let keys = object_keys(&v["spec"]["encryptedData"]).map(|mut k| {
                    k.extend(object_keys(&v["spec"]["template"]["data"]).into_iter().flatten());
                    k
                });
                self.secrets.add(name, Def { ns, doc, path: meta_name(), keys });
            }
            ("external-secrets.io", "ExternalSecret") => {
                let target = &v["spec"]["target"];
                let (name, path) = match target["name"].as_str() {
                    Some(n) => (n, FieldPath::parse("spec.target.name")),
                    None => (name, meta_name()),
                };
                // Plain `data` entries name the keys; `dataFrom` or a template make others.
                let keys = match (&v["spec"]["data"], &v["spec"]["dataFrom"], &target["template"]) {
                    (Value::Array(data), Value::Null, Value::Null) => {
                        Some(data.iter().filter_map(|d| d["secretKey"].as_str()).collect())
                    }
                    _ => None,
                };
                self.secrets.add(name, Def { ns, doc, path, keys });
            }
            ("cert-manager.io", "Certificate") => {
                if let Some(n) = v["spec"]["secretName"].as_str() {
                    self.secrets.add(n, Def { ns, doc, path: FieldPath::parse("spec.secretName"), keys: None });
                }
            }
            ("secrets-store.csi.x-k8s.io", "SecretProviderClass") => {
                for (i, o) in v["spec"]["secretObjects"].as_array().into_iter().flatten().enumerate() {
                    let Some(n) = o["secretName"].as_str() else { continue };
                    let keys = o["data"].as_array().map(|d| d.iter().filter_map(|d| d["key"].as_str()).collect());
                    let path = FieldPath::parse("spec.secretObjects").index(i).key("secretName");
                    self.secrets.add(n, Def { ns, doc, path, keys });
                }
            }
            ("onepassword.com", "OnePasswordItem") => {
                self.secrets.add(name, Def { ns, doc, path: meta_name(), keys: None });
            }
            ("kustomize.config.k8s.io", "Kustomization") => {
                // A directory walk reads a kustomization without rendering it: its generators
                // still say which Secrets and ConfigMaps the build makes.
                let ns = v["namespace"].as_str().or(ns);
                for (field, defs) in
                    [("secretGenerator", &mut self.secrets), ("configMapGenerator", &mut self.config_maps)]
                {
                    for (i, g) in v[field].as_array().into_iter().flatten().enumerate() {
                        let Some(n) = g["name"].as_str() else { continue };
                        let ns = g["namespace"].as_str().or(ns);
                        let path = FieldPath::parse(field).index(i).key("name");
                        defs.add(n, Def { ns, doc, path, keys: None });
                    }
                }
            }
            ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => self.add_role(doc),
            _ => {}
        }
        if let Some(t) = pod_template(doc) {
            self.add_container_flags(&t);
        }
        // Operators that write a Secret named in the resource: HashiCorp's Vault Secrets
        // Operator (`spec.destination.name`) and Crossplane (`writeConnectionSecretToRef`).
        if !group.is_empty() && !group.ends_with(".k8s.io") {
            if group == "secrets.hashicorp.com"
                && let Some(n) = v["spec"]["destination"]["name"].as_str()
            {
                let path = FieldPath::parse("spec.destination.name");
                self.secrets.add(n, Def { ns, doc, path, keys: None });
            }
            let w = &v["spec"]["writeConnectionSecretToRef"];
            if let Some(n) = w["name"].as_str() {
                let ns = w["namespace"].as_str().or(ns);
                let path = FieldPath::parse("spec.writeConnectionSecretToRef.name");
                self.secrets.add(n, Def { ns, doc, path, keys: None });
            }
        }
    }
}

impl<'a> Bundle<'a> {
    /// A Role that may create Secrets (or ConfigMaps) and names some in `resourceNames`:
    /// a component of the bundle makes those objects at run time (Argo CD's redis password
    /// initialiser, webhook certificate generators).
    fn add_role(&mut self, doc: &'a ManifestDoc) {
        let ns = if doc.kind == "ClusterRole" { None } else { doc.namespace.as_deref() };
        let rules = doc.value["rules"].as_array().map(Vec::as_slice).unwrap_or_default();
        let strs =
            |v: &'a Value| -> Vec<&'a str> { v.as_array().into_iter().flatten().filter_map(Value::as_str).collect() };
        for (resource, defs) in [("secrets", &mut self.secrets), ("configmaps", &mut self.config_maps)] {
            let creates = rules.iter().any(|r| {
                strs(&r["resources"]).iter().any(|x| *x == resource || *x == "*")
                    && r["resourceNames"].is_null()
                    && strs(&r["verbs"]).iter().any(|v| *v == "create" || *v == "*")
            });
            if !creates {
                continue;
            }
            for (ri, r) in rules.iter().enumerate() {
                if !strs(&r["resources"]).contains(&resource) {
                    continue;
                }
                for (ni, n) in strs(&r["resourceNames"]).into_iter().enumerate() {
                    let path = FieldPath::parse("rules").index(ri).key("resourceNames").index(ni);
                    defs.add(n, Def { ns, doc, path, keys: None });
                }
            }
        }
    }

    /// A container started with `--secret-name=X` (or `--tls-secret X`, ...) writes or
    /// manages Secret X: ingress-nginx's and other webhooks' certificate Jobs do so.
    fn add_container_flags(&mut self, t: &PodTemplate<'a>) {
        let ns = t.doc.namespace.as_deref();
        for c in t.containers() {
            for field in ["command", "args"] {
                let tokens: Vec<&'a str> =
                    c.value[field].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                for (i, tok) in tokens.iter().enumerate() {
                    let Some(flag) = tok.strip_prefix("--").or_else(|| tok.strip_prefix('-')) else { continue };
                    let (flag, value) = match flag.split_once('=') {
                        Some((f, v)) => (f, Some(v)),
                        None => (flag, tokens.get(i + 1).copied().filter(|v| !v.starts_with('-'))),
                    };
                    let Some(value) = value.filter(|v| !v.is_empty() && !v.contains('/')) else { continue };
                    if flag.to_ascii_lowercase().contains("secret") {
                        let path = c.path().key(field).index(i);
                        self.secrets.add(value, Def { ns, doc: t.doc, path, keys: None });
                    }
                }
            }
        }
    }
}

/// What the cross-reference rules share, built once per run (see `Context::xref`).
pub struct Xref<'a> {
    pub bundle: Bundle<'a>,
    pub templates: Vec<PodTemplate<'a>>,
    /// The references of each template (same order as `templates`).
    pub refs: Vec<Vec<PodRef<'a>>>,
    /// The Services that select pods, and which of `templates` each selects.
    pub services: Vec<super::xref_services::SelectingService<'a>>,
}

impl<'a> Xref<'a> {
    /// The cross-references of `ev`, whose pod templates are `templates` (the run's
    /// [`crate::Context::pod_templates`]).
    pub fn build(ev: &'a Evidence, templates: Vec<PodTemplate<'a>>) -> Xref<'a> {
        use rayon::prelude::*;
        // Each part reads the whole bundle; on a large one they take as long as the rules
        // that use them, so they run in parallel (and `collect` keeps document order).
        let ((refs, services), bundle) = rayon::join(
            || {
                rayon::join(
                    || templates.par_iter().map(pod_refs).collect(),
                    || super::xref_services::selecting_services(&ev.manifests, &templates),
                )
            },
            || Bundle::build(ev),
        );
        Xref { bundle, templates, refs, services }
    }
}

/// What a reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    Secret,
    ConfigMap,
    ServiceAccount,
    Pvc,
}

impl RefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Secret => "Secret",
            RefKind::ConfigMap => "ConfigMap",
            RefKind::ServiceAccount => "ServiceAccount",
            RefKind::Pvc => "PersistentVolumeClaim",
        }
    }
}

/// How the pod uses what it references, which decides how it fails without it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// `env[].valueFrom.*KeyRef` or `envFrom[]`: the container cannot be configured.
    Env,
    /// A volume: the kubelet cannot mount it.
    Volume,
    /// `imagePullSecrets`.
    ImagePull,
    /// The pod's ServiceAccount.
    Identity,
}

/// One reference from a pod template to a Secret, ConfigMap, ServiceAccount or PVC.
pub struct PodRef<'a> {
    pub kind: RefKind,
    pub name: &'a str,
    /// The key read (`secretKeyRef.key`, a volume's `items[].key`).
    pub key: Option<&'a str>,
    pub optional: bool,
    /// The field that names the object.
    pub path: FieldPath,
    /// The field that names the key.
    pub key_path: Option<FieldPath>,
    /// `env MONGODB_URL of container backend`, `volume tls`, `imagePullSecrets`.
    pub via: String,
    pub use_: Use,
}

fn optional(v: &Value) -> bool {
    v["optional"].as_bool() == Some(true)
}

/// Volume sources that name a Secret for a driver's credentials: (source, path to the name).
const DRIVER_SECRETS: &[(&str, &[&str])] = &[
    ("azureFile", &["secretName"]),
    ("cephfs", &["secretRef", "name"]),
    ("rbd", &["secretRef", "name"]),
    ("iscsi", &["secretRef", "name"]),
    ("flexVolume", &["secretRef", "name"]),
    ("storageos", &["secretRef", "name"]),
    ("scaleIO", &["secretRef", "name"]),
    ("csi", &["nodePublishSecretRef", "name"]),
];

/// A volume's `secret`/`configMap` (or projected source) and its `items[].key`.
fn push_items<'a>(
    out: &mut Vec<PodRef<'a>>,
    kind: RefKind,
    src: &'a Value,
    name_field: &str,
    src_path: &dyn Fn() -> FieldPath,
    vname: &str,
) {
    let Some(name) = src[name_field].as_str() else { return };
    let src_path = src_path();
    let via = format!("volume {vname}");
    let path = src_path.clone().key(name_field);
    let items = src["items"].as_array().map(Vec::as_slice).unwrap_or_default();
    let keys: Vec<(usize, &str)> =
        items.iter().enumerate().filter_map(|(i, it)| Some((i, it["key"].as_str()?))).collect();
    let base = |key: Option<&'a str>, key_path: Option<FieldPath>| PodRef {
        kind,
        name,
        key,
        optional: optional(src),
        path: path.clone(),
        key_path,
        via: via.clone(),
        use_: Use::Volume,
    };
    if keys.is_empty() {
        out.push(base(None, None));
    }
    for (i, key) in keys {
        out.push(base(Some(key), Some(src_path.clone().key("items").index(i).key("key"))));
    }
}

/// Every Secret, ConfigMap, ServiceAccount and PVC reference of a pod template.
pub fn pod_refs<'a>(t: &PodTemplate<'a>) -> Vec<PodRef<'a>> {
    let mut out = Vec::new();
    let spec = t.spec;
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (ci, c) in spec[list].as_array().into_iter().flatten().enumerate() {
            let cname = c["name"].as_str().unwrap_or("?");
            // Paths are written out only for the references found.
            let cpath = || t.spec_path().key(list).index(ci);
            for (ei, e) in c["env"].as_array().into_iter().flatten().enumerate() {
                let var = e["name"].as_str().unwrap_or("?");
                for (field, kind) in [("secretKeyRef", RefKind::Secret), ("configMapKeyRef", RefKind::ConfigMap)] {
                    let r = &e["valueFrom"][field];
                    let Some(name) = r["name"].as_str() else { continue };
                    let p = cpath().key("env").index(ei).key("valueFrom").key(field);
                    out.push(PodRef {
                        kind,
                        name,
                        key: r["key"].as_str(),
                        optional: optional(r),
                        path: p.clone().key("name"),
                        key_path: Some(p.key("key")),
                        via: format!("env {var} of container {cname}"),
                        use_: Use::Env,
                    });
                }
            }
            for (ei, e) in c["envFrom"].as_array().into_iter().flatten().enumerate() {
                for (field, kind) in [("secretRef", RefKind::Secret), ("configMapRef", RefKind::ConfigMap)] {
                    let r = &e[field];
                    let Some(name) = r["name"].as_str() else { continue };
                    out.push(PodRef {
                        kind,
                        name,
                        key: None,
                        optional: optional(r),
                        path: cpath().key("envFrom").index(ei).key(field).key("name"),
                        key_path: None,
                        via: format!("envFrom of container {cname}"),
                        use_: Use::Env,
                    });
                }
            }
        }
    }
    for (vi, vol) in spec["volumes"].as_array().into_iter().flatten().enumerate() {
        let vname = vol["name"].as_str().unwrap_or("?");
        let vpath = || t.spec_path().key("volumes").index(vi);
        push_items(&mut out, RefKind::Secret, &vol["secret"], "secretName", &|| vpath().key("secret"), vname);
        push_items(&mut out, RefKind::ConfigMap, &vol["configMap"], "name", &|| vpath().key("configMap"), vname);
        for (si, src) in vol["projected"]["sources"].as_array().into_iter().flatten().enumerate() {
            let spath = || vpath().key("projected").key("sources").index(si);
            push_items(&mut out, RefKind::Secret, &src["secret"], "name", &|| spath().key("secret"), vname);
            push_items(&mut out, RefKind::ConfigMap, &src["configMap"], "name", &|| spath().key("configMap"), vname);
        }
        for (source, fields) in DRIVER_SECRETS {
            let v = fields.iter().fold(&vol[*source], |v, f| &v[*f]);
            if let Some(name) = v.as_str() {
                out.push(PodRef {
                    kind: RefKind::Secret,
                    name,
                    key: None,
                    optional: false,
                    path: fields.iter().fold(vpath().key(*source), |p, f| p.key(*f)),
                    key_path: None,
                    via: format!("volume {vname} ({source})"),
                    use_: Use::Volume,
                });
            }
        }
        if let Some(claim) = vol["persistentVolumeClaim"]["claimName"].as_str() {
            out.push(PodRef {
                kind: RefKind::Pvc,
                name: claim,
                key: None,
                optional: false,
                path: vpath().key("persistentVolumeClaim").key("claimName"),
                key_path: None,
                via: format!("volume {vname}"),
                use_: Use::Volume,
            });
        }
    }
    for (i, s) in spec["imagePullSecrets"].as_array().into_iter().flatten().enumerate() {
        let Some(name) = s["name"].as_str() else { continue };
        out.push(PodRef {
            kind: RefKind::Secret,
            name,
            key: None,
            optional: false,
            path: t.spec_path().key("imagePullSecrets").index(i).key("name"),
            key_path: None,
            via: "imagePullSecrets".to_string(),
            use_: Use::ImagePull,
        });
    }
    // `serviceAccount` is the deprecated spelling; the API server copies it over when
    // `serviceAccountName` is unset.
    for field in ["serviceAccountName", "serviceAccount"] {
        if let Some(name) = spec[field].as_str() {
            out.push(PodRef {
                kind: RefKind::ServiceAccount,
                name,
                key: None,
                optional: false,
                path: t.spec_path().key(field),
                key_path: None,
                via: field.to_string(),
                use_: Use::Identity,
            });
            break;
        }
    }
    out
}

/// The label map of a pod template (`metadata.labels`), values as text.
pub fn template_labels<'a>(t: &PodTemplate<'a>) -> Vec<(&'a str, String)> {
    t.meta()["labels"]
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.as_str(), scalar_text(v)?))).collect())
        .unwrap_or_default()
}

/// A YAML scalar as the string the API would need (`1` and `true` are written unquoted by
/// mistake often enough; the API server rejects them, the schema rule says so).
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether `labels` satisfy a map selector (every pair present).
pub fn map_matches(selector: &serde_json::Map<String, Value>, labels: &[(&str, String)]) -> bool {
    selector.iter().all(|(k, v)| {
        let want = scalar_text(v);
        labels.iter().any(|(lk, lv)| *lk == k.as_str() && Some(lv) == want.as_ref())
    })
}

/// Whether `labels` satisfy a `LabelSelector` (`matchLabels` and `matchExpressions`).
/// `None` when the selector cannot be read (an unknown operator): no claim either way.
pub fn label_selector_matches(sel: &Value, labels: &[(&str, String)]) -> Option<bool> {
    let empty = serde_json::Map::new();
    let ml = sel["matchLabels"].as_object().unwrap_or(&empty);
    if !map_matches(ml, labels) {
        return Some(false);
    }
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let key = e["key"].as_str()?;
        let values: Vec<String> = e["values"].as_array().into_iter().flatten().filter_map(scalar_text).collect();
        let have = labels.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        let ok = match e["operator"].as_str()? {
            "In" => have.is_some_and(|h| values.contains(h)),
            "NotIn" => have.is_none_or(|h| !values.contains(h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => return None,
        };
        if !ok {
            return Some(false);
        }
    }
    Some(true)
}

/// `app=backend, tier=api` for messages.
pub fn show_map(m: &serde_json::Map<String, Value>) -> String {
    if m.is_empty() {
        return "(none)".to_string();
    }
    m.iter().map(|(k, v)| format!("{k}={}", scalar_text(v).unwrap_or_default())).collect::<Vec<_>>().join(", ")
}

pub fn show_labels(labels: &[(&str, String)]) -> String {
    if labels.is_empty() {
        return "(none)".to_string();
    }
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// The last key of a path (for messages such as "`secretKeyRef.name`").
pub fn last_key(p: &FieldPath) -> &str {
    p.0.iter()
        .rev()
        .find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        v.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn label_selectors_follow_the_api_semantics() {
        let l = labels(&[("app", "web"), ("tier", "frontend")]);
        assert_eq!(label_selector_matches(&json!({"matchLabels": {"app": "web"}}), &l), Some(true));
        assert_eq!(label_selector_matches(&json!({"matchLabels": {"app": "api"}}), &l), Some(false));
        let sel = json!({"matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
            {"key": "canary", "operator": "DoesNotExist"}
        ]});
        assert_eq!(label_selector_matches(&sel, &l), Some(true));
        let sel = json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]});
        assert_eq!(label_selector_matches(&sel, &l), Some(false));
        let sel = json!({"matchExpressions": [{"key": "tier", "operator": "Gt", "values": ["1"]}]});
        assert_eq!(label_selector_matches(&sel, &l), None);
    }

    #[test]
    fn namespaces_left_to_the_apply_match_any() {
        assert!(ns_compatible(None, Some("shop")));
        assert!(ns_compatible(Some("shop"), Some("shop")));
        assert!(!ns_compatible(Some("shop"), Some("prod")));
    }

    #[test]
    fn secret_keys_are_names_from_data_and_string_data() {
        let v = json!({"data": {"a": "eA=="}, "stringData": {"b": "y"}});
        assert_eq!(secret_keys(&v), Some(["a", "b"].into_iter().collect()));
        assert_eq!(secret_keys(&json!({"type": "Opaque"})), None);
    }
}
