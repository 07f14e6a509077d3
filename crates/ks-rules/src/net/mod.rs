//! Networking: Services without ready backends, Ingresses nobody serves or that point at
//! nothing, configuration naming in-cluster hosts that do not exist, readiness probes that
//! keep failing. Shared lookups (selectors, endpoint counts, ingress backends, controller
//! pods) live here so each rule stays a short explanation.

pub mod dangling_reference;
pub mod hosts;
pub mod ingress_backend_missing;
pub mod ingress_class;
pub mod readiness;
pub mod service_no_endpoints;
pub mod signatures;

#[cfg(test)]
mod corpus_tests;

use std::collections::{BTreeMap, HashMap, HashSet};

use ks_core::Evidence;
use ks_core::k8s_openapi::api::core::v1::Pod;
use ks_core::k8s_openapi::api::networking::v1::{Ingress, IngressServiceBackend};

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[
    &service_no_endpoints::ServiceNoEndpoints,
    &ingress_class::IngressClassMissing,
    &ingress_backend_missing::IngressBackendMissing,
    &dangling_reference::DanglingServiceReference,
    &readiness::ReadinessProbeFailing,
];

/// Whether every `key=value` of a Service selector is among the labels.
pub fn selector_matches(selector: &BTreeMap<String, String>, labels: Option<&BTreeMap<String, String>>) -> bool {
    let Some(labels) = labels else { return selector.is_empty() };
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// `a=b, c=d` for a label map.
pub fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// The pod's Ready condition is True.
pub fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Succeeded, Failed or being deleted: never a Service backend again.
pub fn pod_gone(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
        || matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

/// Ready and not-ready addresses a Service has, from its Endpoints and EndpointSlices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backends {
    pub ready: usize,
    pub not_ready: usize,
}

/// Backend counts by `(namespace, service)`, for Services whose Endpoints or EndpointSlices
/// are in the evidence. A Service absent from the map has no endpoint evidence at all.
pub fn backends_by_service(ev: &Evidence) -> HashMap<(String, String), Backends> {
    let mut out: HashMap<(String, String), Backends> = HashMap::new();
    for e in &ev.endpoints {
        let key = (e.metadata.namespace.clone().unwrap_or_default(), e.metadata.name.clone().unwrap_or_default());
        let b = out.entry(key).or_default();
        for s in e.subsets.iter().flatten() {
            b.ready += s.addresses.as_ref().map_or(0, Vec::len);
            b.not_ready += s.not_ready_addresses.as_ref().map_or(0, Vec::len);
        }
    }
    // Slices are counted only for Services without an Endpoints object, so one backend is
    // not counted twice (the controller writes both).
    let mut slices: HashMap<(String, String), Backends> = HashMap::new();
    for s in &ev.endpoint_slices {
        let Some(svc) = s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")) else {
            continue;
        };
        let key = (s.metadata.namespace.clone().unwrap_or_default(), svc.clone());
        let b = slices.entry(key).or_default();
        for e in s.endpoints.iter().flatten() {
            // A nil `ready` means unknown, which consumers treat as ready.
            if e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true) {
                b.ready += 1;
            } else {
                b.not_ready += 1;
            }
        }
    }
    for (k, v) in slices {
        out.entry(k).or_insert(v);
    }
    out
}

/// Where an Ingress routes to a Service: the backend, and its JSON-pointer in the Ingress.
pub struct IngressRoute<'a> {
    pub backend: &'a IngressServiceBackend,
    pub host: Option<&'a str>,
    pub path: Option<&'a str>,
    pub pointer: String,
}

/// Every Service backend of an Ingress, default backend first.
pub fn ingress_routes(ing: &Ingress) -> Vec<IngressRoute<'_>> {
    let mut out = Vec::new();
    let Some(spec) = &ing.spec else { return out };
    if let Some(b) = spec.default_backend.as_ref().and_then(|b| b.service.as_ref()) {
        out.push(IngressRoute { backend: b, host: None, path: None, pointer: "/spec/defaultBackend/service".into() });
    }
    for (ri, r) in spec.rules.iter().flatten().enumerate() {
        for (pi, p) in r.http.iter().flat_map(|h| h.paths.iter()).enumerate() {
            if let Some(b) = &p.backend.service {
                out.push(IngressRoute {
                    backend: b,
                    host: r.host.as_deref(),
                    path: p.path.as_deref(),
                    pointer: format!("/spec/rules/{ri}/http/paths/{pi}/backend/service"),
                });
            }
        }
    }
    out
}

/// `host/path` of a route for messages (`*` when no host).
pub fn route_text(r: &IngressRoute<'_>) -> String {
    format!("{}{}", r.host.unwrap_or("*"), r.path.unwrap_or("/"))
}

/// The port an Ingress backend names: `80` or `http`.
pub fn backend_port_text(b: &IngressServiceBackend) -> String {
    match &b.port {
        Some(p) => match (&p.number, &p.name) {
            (Some(n), _) => n.to_string(),
            (None, Some(n)) => n.clone(),
            _ => "?".into(),
        },
        None => "?".into(),
    }
}

/// Ingress controllers kubesleuth recognises: the IngressClass `spec.controller`, and what
/// its pods look like (image substring, `app.kubernetes.io/name` label).
pub const CONTROLLERS: &[(&str, &str, &str)] = &[
    ("k8s.io/ingress-nginx", "ingress-nginx/controller", "ingress-nginx"),
    ("nginx.org/ingress-controller", "nginx/nginx-ingress", "nginx-ingress"),
    ("traefik.io/ingress-controller", "traefik", "traefik"),
    ("haproxy-ingress.github.io/controller", "haproxy-ingress", "haproxy-ingress"),
    ("ingress.k8s.aws/alb", "aws-load-balancer-controller", "aws-load-balancer-controller"),
];

/// Pods that look like the controller `controller` (an IngressClass `spec.controller`).
pub fn controller_pods(ev: &Evidence, controller: &str) -> Vec<usize> {
    let Some(&(_, image, name)) = CONTROLLERS.iter().find(|(c, _, _)| *c == controller) else {
        return Vec::new();
    };
    ev.pods
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            let by_label =
                p.metadata.labels.as_ref().and_then(|l| l.get("app.kubernetes.io/name")).is_some_and(|v| v == name);
            let by_image = p
                .spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .any(|c| c.image.as_deref().is_some_and(|i| i.contains(image)));
            by_label || by_image
        })
        .map(|(i, _)| i)
        .collect()
}

/// The pods of any recognised ingress controller.
pub fn any_controller_pods(ev: &Evidence) -> Vec<usize> {
    let mut out: Vec<usize> = CONTROLLERS.iter().flat_map(|(c, _, _)| controller_pods(ev, c)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// What is wrong with a pod, in a few words, from the facts other rules report on
/// (`container api: CrashLoopBackOff (crash.oom)`), else its readiness events or phase.
pub fn pod_trouble(cx: &crate::Context<'_>, pod: usize) -> String {
    if let Some(p) = cx.facts.problems.iter().find(|p| p.pod == pod) {
        let reason = if p.reason.is_empty() { "failing" } else { p.reason.as_str() };
        return format!("container {}: {reason} ({})", p.container, p.cause);
    }
    if let Some(p) = cx.facts.pending.iter().find(|p| p.pod == pod) {
        return format!("Pending, cannot be scheduled ({})", p.cause);
    }
    if let Some(m) = cx.facts.mounts.iter().find(|m| m.pod == pod) {
        return format!("ContainerCreating, volume cannot be mounted ({})", m.cause);
    }
    let p = &cx.ev.pods[pod];
    let name = p.metadata.name.as_deref().unwrap_or_default();
    let events = cx.ev.events_for("Pod", p.metadata.namespace.as_deref(), name);
    if let Some(e) = events.iter().rev().find(|e| e.reason == "Unhealthy" && e.message.starts_with("Readiness probe")) {
        return format!("Running but not ready: {}{}", e.message, e.count_suffix());
    }
    let status = p.status.as_ref();
    let waiting = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone()));
    match (waiting, status.and_then(|s| s.phase.as_deref())) {
        (Some(w), _) => format!("waiting: {w}"),
        (None, Some(phase)) => format!("{phase}, not ready"),
        (None, None) => "not ready".to_string(),
    }
}

/// The closest candidate to `wanted` by normalised Levenshtein similarity (at least `min`).
pub fn closest<'a, S: AsRef<str>>(wanted: &str, candidates: &'a [S], min: f64) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::normalized_levenshtein(c.as_ref(), wanted), c.as_ref()))
        .filter(|(s, c)| *s >= min && *c != wanted)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Which namespaces' Services the snapshot lists, computed once per check.
pub struct ServiceScope {
    collected: bool,
    with_services: HashSet<String>,
    /// Services were listed across several namespaces (a `-A` listing).
    several: bool,
    single_namespace: bool,
}

impl ServiceScope {
    pub fn new(ev: &Evidence) -> ServiceScope {
        let with_services: HashSet<String> = ev.services.iter().filter_map(|s| s.metadata.namespace.clone()).collect();
        ServiceScope {
            collected: ev.has_collected("Service"),
            several: with_services.len() > 1,
            with_services,
            single_namespace: ev.index.namespaces_seen.len() == 1,
        }
    }

    /// Services were listed across several namespaces (`kubectl get svc -A`, a cluster dump).
    pub fn listed_everywhere(&self) -> bool {
        self.collected && self.several
    }

    /// Whether the snapshot can say that a Service is absent from namespace `ns`: Services
    /// were collected, the namespace's objects are in the snapshot, and either the namespace
    /// has Services of its own or Services were listed across several namespaces (not
    /// `kubectl get svc -n other`).
    pub fn known(&self, ev: &Evidence, ns: &str) -> bool {
        self.collected
            && ev.index.namespaces_seen.contains(ns)
            && (self.with_services.contains(ns) || self.several || self.single_namespace)
    }
}

/// The names of the Services of a namespace, sorted.
pub fn service_names(ev: &Evidence, ns: &str) -> Vec<String> {
    let mut v: Vec<String> = ev
        .services
        .iter()
        .filter(|s| s.metadata.namespace.as_deref().unwrap_or_default() == ns)
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    v.sort();
    v
}

/// Up to `n` names and "…and K more".
pub fn some_names(names: &[String], n: usize) -> String {
    if names.len() <= n {
        return crate::util::join_names(names);
    }
    format!("{} and {} more", names[..n].join(", "), names.len() - n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_subsets_of_labels() {
        let sel: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        let labels: BTreeMap<String, String> =
            [("app".to_string(), "web".to_string()), ("tier".to_string(), "fe".to_string())].into();
        assert!(selector_matches(&sel, Some(&labels)));
        let other: BTreeMap<String, String> = [("app".to_string(), "web-api".to_string())].into();
        assert!(!selector_matches(&sel, Some(&other)));
        assert!(!selector_matches(&sel, None));
    }

    #[test]
    fn closest_names() {
        let c = vec!["backend-api".to_string(), "frontend".to_string()];
        assert_eq!(closest("backend", &c, 0.5), Some("backend-api"));
        assert_eq!(closest("zzz", &c, 0.5), None);
    }
}
