//! What the Service rules (KS1107..KS1109) share: the Services of the bundle that select
//! pods, and the pod templates each one selects.

use std::collections::{HashMap, HashSet};

use ks_core::ManifestDoc;
use ks_core::manifest::FieldPath;
use serde_json::{Map, Value};

use super::pod_templates::PodTemplate;
use super::xref_bundle::{api_group, ns_compatible, scalar_text, template_labels};

/// A Service with a selector, and the bundle's pod templates it selects (indices into
/// `Xref::templates`, where the list is kept: it is computed once for the rules that share it).
pub struct SelectingService<'a> {
    pub doc: &'a ManifestDoc,
    pub selector: &'a Map<String, Value>,
    /// Whether the bundle has a pod template written in the Service's own namespace (as
    /// written: a template without a namespace in a bundle that names them says nothing
    /// about where it lands).
    pub ns_has_templates: bool,
    /// When it selects nothing: templates of the Service's own namespace that use one of its
    /// selector's label keys.
    near: Vec<usize>,
    /// Templates the selector matches, in any namespace the Service can reach.
    selected: Vec<usize>,
}

impl<'a> SelectingService<'a> {
    /// The templates the selector matches, out of the `tpls` it was computed from.
    pub fn selected<'t>(&self, tpls: &'t [PodTemplate<'a>]) -> Vec<&'t PodTemplate<'a>> {
        self.selected.iter().map(|&i| &tpls[i]).collect()
    }

    /// When it selects nothing, the near misses, out of the `tpls` it was computed from.
    pub fn near<'t>(&self, tpls: &'t [PodTemplate<'a>]) -> Vec<&'t PodTemplate<'a>> {
        self.near.iter().map(|&i| &tpls[i]).collect()
    }
}

/// Label lookups over the pod templates, so that selecting is not quadratic in the number
/// of Services and templates.
struct TemplateIndex<'a> {
    by_pair: HashMap<(&'a str, String), Vec<usize>>,
    /// Templates by (namespace as written, label key).
    by_key: HashMap<(Option<&'a str>, &'a str), Vec<usize>>,
    namespaces: HashSet<Option<&'a str>>,
}

impl<'a> TemplateIndex<'a> {
    fn build(tpls: &[PodTemplate<'a>]) -> TemplateIndex<'a> {
        let mut ix = TemplateIndex { by_pair: HashMap::new(), by_key: HashMap::new(), namespaces: HashSet::new() };
        for (i, t) in tpls.iter().enumerate() {
            ix.namespaces.insert(t.doc.namespace.as_deref());
            for (k, v) in template_labels(t) {
                ix.by_key.entry((t.doc.namespace.as_deref(), k)).or_default().push(i);
                ix.by_pair.entry((k, v)).or_default().push(i);
            }
        }
        ix
    }
}

/// Every core Service of the bundle that selects pods (not `ExternalName`, selector not
/// empty: an empty or absent selector means the endpoints are managed by hand).
pub fn selecting_services<'a>(docs: &'a [ManifestDoc], tpls: &[PodTemplate<'a>]) -> Vec<SelectingService<'a>> {
    let ix = TemplateIndex::build(tpls);
    let mut out = Vec::new();
    for doc in docs.iter().filter(|d| d.kind == "Service" && api_group(&d.api_version).is_empty()) {
        let spec = &doc.value["spec"];
        if spec["type"].as_str() == Some("ExternalName") {
            continue;
        }
        let Some(selector) = spec["selector"].as_object().filter(|s| !s.is_empty()) else { continue };
        let ns = doc.namespace.as_deref();
        // Candidates: the templates carrying the first pair of the selector that is a
        // template label (not one a controller adds); none when no template has that pair;
        // every template when the selector only names controller labels.
        let mut candidates: Option<&[usize]> = None;
        let mut impossible = false;
        if let Some((k, v)) = selector.iter().find(|(k, _)| !CONTROLLER_KEYS.contains(&k.as_str())) {
            match scalar_text(v).and_then(|v| ix.by_pair.get(&(k.as_str(), v))) {
                Some(list) => candidates = Some(list),
                None => impossible = true,
            }
        }
        let candidates: Box<dyn Iterator<Item = usize>> = match (impossible, candidates) {
            (true, _) => Box::new(std::iter::empty()),
            (false, Some(list)) => Box::new(list.iter().copied()),
            (false, None) => Box::new(0..tpls.len()),
        };
        let selected: Vec<usize> = candidates
            .filter(|&i| ns_compatible(tpls[i].doc.namespace.as_deref(), ns) && selects(selector, &tpls[i]))
            .collect();
        // Only a Service that selects nothing needs its near misses (and every template
        // shares `app` with every other, so this is kept off the common path).
        let mut near: Vec<usize> = Vec::new();
        if selected.is_empty() {
            near = selector.keys().filter_map(|k| ix.by_key.get(&(ns, k.as_str()))).flatten().copied().collect();
            near.sort_unstable();
            near.dedup();
        }
        out.push(SelectingService { doc, selector, ns_has_templates: ix.namespaces.contains(&ns), near, selected });
    }
    out
}

/// Label keys controllers add to the pods they create.
const CONTROLLER_KEYS: &[&str] = &[
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "controller-revision-hash",
    "pod-template-hash",
    "job-name",
    "batch.kubernetes.io/job-name",
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-completion-index",
];

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether the controller of the template adds `key=value` to each pod it creates, beyond
/// the template's own labels (a Service per StatefulSet replica selects
/// `statefulset.kubernetes.io/pod-name: web-0`).
pub fn controller_label(t: &PodTemplate<'_>, key: &str, value: &str) -> bool {
    let name = t.doc.name.as_str();
    match (t.doc.kind.as_str(), key) {
        ("StatefulSet", "statefulset.kubernetes.io/pod-name") => {
            value.strip_prefix(name).and_then(|r| r.strip_prefix('-')).is_some_and(digits)
        }
        ("StatefulSet", "apps.kubernetes.io/pod-index") => digits(value),
        ("StatefulSet" | "DaemonSet", "controller-revision-hash") => true,
        ("Deployment", "pod-template-hash") => true,
        ("Job", "job-name" | "batch.kubernetes.io/job-name") => value == name,
        ("CronJob", "job-name" | "batch.kubernetes.io/job-name") => value.starts_with(name),
        (
            "Job" | "CronJob",
            "controller-uid" | "batch.kubernetes.io/controller-uid" | "batch.kubernetes.io/job-completion-index",
        ) => true,
        _ => false,
    }
}

/// Whether a Service's map selector matches the pods of a template (its labels plus those
/// its controller adds).
pub fn selects(selector: &Map<String, Value>, t: &PodTemplate<'_>) -> bool {
    let labels = template_labels(t);
    selector.iter().all(|(k, v)| {
        let Some(want) = scalar_text(v) else { return false };
        labels.iter().any(|(lk, lv)| *lk == k.as_str() && *lv == want) || controller_label(t, k, &want)
    })
}

/// One declared container port of a pod template.
pub struct DeclaredPort<'a> {
    /// The document whose template declares it.
    pub doc: &'a ManifestDoc,
    pub container: &'a str,
    pub name: Option<&'a str>,
    pub number: Option<i64>,
    pub protocol: &'a str,
    pub path: FieldPath,
}

/// The ports a template's containers (and native sidecars) declare.
pub fn declared_ports<'a>(t: &PodTemplate<'a>) -> Vec<DeclaredPort<'a>> {
    let mut out = Vec::new();
    for c in t.containers().into_iter().filter(|c| c.runs_with_app()) {
        for (i, p) in c.value["ports"].as_array().into_iter().flatten().enumerate() {
            out.push(DeclaredPort {
                doc: t.doc,
                container: c.name,
                name: p["name"].as_str(),
                number: p["containerPort"].as_i64(),
                protocol: p["protocol"].as_str().unwrap_or("TCP"),
                path: c.path().key("ports").index(i),
            });
        }
    }
    out
}

/// `http (8080/TCP) of container web`, for messages.
pub fn show_ports(ports: &[DeclaredPort<'_>]) -> String {
    if ports.is_empty() {
        return "none".to_string();
    }
    ports
        .iter()
        .map(|p| {
            let num = p.number.map(|n| n.to_string()).unwrap_or_else(|| "?".to_string());
            match p.name {
                Some(n) => format!("{n} ({num}/{}) of container {}", p.protocol, p.container),
                None => format!("{num}/{} of container {}", p.protocol, p.container),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
