//! What the Service rules (KS1107..KS1109) share: the Services of the bundle that select
//! pods, and the pod templates each one selects.

use ks_core::ManifestDoc;
use ks_core::manifest::FieldPath;
use serde_json::{Map, Value};

use super::pod_templates::PodTemplate;
use super::xref_bundle::{api_group, ns_compatible, scalar_text, template_labels};

/// A Service with a selector, and the bundle's pod templates it can reach.
pub struct SelectingService<'a, 't> {
    pub doc: &'a ManifestDoc,
    pub selector: &'a Map<String, Value>,
    /// Pod templates in a namespace the Service can reach.
    pub reachable: Vec<&'t PodTemplate<'a>>,
    /// Those whose labels the selector matches.
    pub selected: Vec<&'t PodTemplate<'a>>,
}

/// Every core Service of the bundle that selects pods (not `ExternalName`, selector not
/// empty: an empty or absent selector means the endpoints are managed by hand).
pub fn selecting_services<'a, 't>(
    docs: &'a [ManifestDoc],
    tpls: &'t [PodTemplate<'a>],
) -> Vec<SelectingService<'a, 't>> {
    let mut out = Vec::new();
    for doc in docs.iter().filter(|d| d.kind == "Service" && api_group(&d.api_version).is_empty()) {
        let spec = &doc.value["spec"];
        if spec["type"].as_str() == Some("ExternalName") {
            continue;
        }
        let Some(selector) = spec["selector"].as_object().filter(|s| !s.is_empty()) else { continue };
        let ns = doc.namespace.as_deref();
        let reachable: Vec<&PodTemplate<'a>> =
            tpls.iter().filter(|t| ns_compatible(t.doc.namespace.as_deref(), ns)).collect();
        let selected = reachable.iter().copied().filter(|t| selects(selector, t)).collect();
        out.push(SelectingService { doc, selector, reachable, selected });
    }
    out
}

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
                path: c.path.clone().key("ports").index(i),
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
