use ks_core::k8s_openapi::api::core::v1::Service;
use ks_core::{
    Cause, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::{closest, ingress_routes, route_text, service_names, some_names};
use crate::util::{self, ns_flag};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// An Ingress (or a Gateway API HTTPRoute/GRPCRoute) whose backend names a Service that
    /// does not exist in its namespace, or a port the Service does not expose (by number or
    /// by name). Missing Services are only claimed when Services were collected. The finding
    /// names the Services that do exist, closest name first.
    ///
    /// ### Why it breaks
    /// The controller cannot resolve the backend, so the route answers 503 (ingress-nginx:
    /// `service "x" not found`) or 404. A Service renamed by a chart, a release-name prefix
    /// (`myapp-backend` against `backend`), or a port referenced by the container port
    /// instead of the Service port are the usual causes.
    ///
    /// ### How to confirm
    /// `kubectl describe ingress` shows `<error: endpoints "x" not found>` next to the
    /// backend; `kubectl get svc` lists the names and ports that exist.
    ///
    /// ### Fix
    /// Point the backend at the Service (and Service port) that exists, or create the
    /// Service the Ingress expects.
    ///
    /// ### Prevention
    /// Template the Ingress backend from the same value that names the Service (Helm
    /// `include "fullname"`), and reference Service ports by name.
    ///
    /// ### Example
    /// Ingress `web` routes `/api` to Service `backend:8000`; the namespace has
    /// `backend-service` exposing port 8000.
    pub static META = {
        id: "KS0803",
        name: "ingress-backend-missing",
        cause: Cause::NetIngressBackendMissing,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "an Ingress routes to a Service or Service port that does not exist",
    }
}

pub struct IngressBackendMissing;

/// One backend reference: who refers, where, to which Service and port.
struct Backend<'a> {
    owner: ObjectRef,
    /// `Ingress` or `HTTPRoute` etc., for wording and kubectl.
    kind: &'a str,
    service_ns: String,
    service: String,
    port_number: Option<i32>,
    port_name: Option<String>,
    /// JSON-pointer of the backend object in its owner.
    pointer: String,
    /// `host/path` of the route, for wording.
    route: String,
    /// Gateway API refs carry `port` directly; Ingress refs carry `port.number`/`port.name`.
    gateway: bool,
}

fn backends(ev: &Evidence) -> Vec<Backend<'static>> {
    let mut out = Vec::new();
    for ing in &ev.ingresses {
        let ns = ing.metadata.namespace.clone().unwrap_or_default();
        let name = ing.metadata.name.clone().unwrap_or_default();
        let owner = ObjectRef::new("Ingress", Some(&ns), &name).with_api_version("networking.k8s.io/v1");
        for r in ingress_routes(ing) {
            let port = r.backend.port.as_ref();
            out.push(Backend {
                owner: owner.clone(),
                kind: "Ingress",
                service_ns: ns.clone(),
                service: r.backend.name.clone(),
                port_number: port.and_then(|p| p.number),
                port_name: port.and_then(|p| p.name.clone()),
                pointer: r.pointer.clone(),
                route: route_text(&r),
                gateway: false,
            });
        }
    }
    for o in &ev.other {
        if !o.api_version.starts_with("gateway.networking.k8s.io/")
            || !matches!(o.kind.as_str(), "HTTPRoute" | "GRPCRoute")
        {
            continue;
        }
        let ns = o.namespace().unwrap_or_default().to_string();
        let kind: &'static str = if o.kind == "HTTPRoute" { "HTTPRoute" } else { "GRPCRoute" };
        let rules = o.value.pointer("/spec/rules").and_then(|v| v.as_array()).cloned().unwrap_or_default();
        let hosts = o
            .value
            .pointer("/spec/hostnames")
            .and_then(|v| v.as_array())
            .and_then(|a| a.first())
            .and_then(|h| h.as_str())
            .unwrap_or("*")
            .to_string();
        for (ri, r) in rules.iter().enumerate() {
            for (bi, b) in r.get("backendRefs").and_then(|v| v.as_array()).into_iter().flatten().enumerate() {
                let kind_ok = b.get("kind").and_then(|k| k.as_str()).is_none_or(|k| k == "Service");
                let group_ok = b.get("group").and_then(|g| g.as_str()).is_none_or(|g| g.is_empty());
                let Some(svc) = b.get("name").and_then(|n| n.as_str()).filter(|_| kind_ok && group_ok) else {
                    continue;
                };
                let path = r.pointer("/matches/0/path/value").and_then(|p| p.as_str()).unwrap_or("/");
                out.push(Backend {
                    owner: o.object_ref(),
                    kind,
                    service_ns: b.get("namespace").and_then(|n| n.as_str()).unwrap_or(&ns).to_string(),
                    service: svc.to_string(),
                    port_number: b.get("port").and_then(|p| p.as_i64()).and_then(|p| i32::try_from(p).ok()),
                    port_name: None,
                    pointer: format!("/spec/rules/{ri}/backendRefs/{bi}"),
                    route: format!("{hosts}{path}"),
                    gateway: true,
                });
            }
        }
    }
    out
}

fn ports_text(svc: &Service) -> String {
    let ports: Vec<String> = svc
        .spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .map(|p| match &p.name {
            Some(n) if !n.is_empty() => format!("{} ({n})", p.port),
            _ => p.port.to_string(),
        })
        .collect();
    if ports.is_empty() { "none".to_string() } else { ports.join(", ") }
}

impl Rule for IngressBackendMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        if ev.ingresses.is_empty() && !ev.other.iter().any(|o| o.kind.ends_with("Route")) {
            return;
        }
        let scope = super::ServiceScope::new(ev);
        for b in backends(ev) {
            // A Service can only be missing where the snapshot lists that namespace's Services.
            match ev.service(&b.service_ns, &b.service) {
                None if scope.known(ev, &b.service_ns) => out.push(missing_service(ev, &b)),
                None => {}
                Some(svc) => {
                    if let Some(f) = missing_port(&b, svc) {
                        out.push(f);
                    }
                }
            }
        }
    }
}

fn owner_word(b: &Backend<'_>) -> String {
    format!("{} {}", b.kind, b.owner.name)
}

fn patch(b: &Backend<'_>, field: &str, value: &str) -> String {
    format!(
        "kubectl {}patch {} {} --type json -p '[{{\"op\":\"replace\",\"path\":\"{}/{field}\",\"value\":{value}}}]'",
        b.owner.ns_flag(),
        b.kind.to_ascii_lowercase(),
        b.owner.name,
        b.pointer
    )
}

fn missing_service(ev: &Evidence, b: &Backend<'_>) -> Finding {
    let ns = &b.service_ns;
    let existing = service_names(ev, ns);
    let port = match (b.port_number, &b.port_name) {
        (Some(n), _) => format!(":{n}"),
        (None, Some(n)) => format!(":{n}"),
        _ => String::new(),
    };
    let near = closest(&b.service, &existing, 0.4);
    let exists_text = if existing.is_empty() {
        format!("Namespace {ns} has no Services at all.")
    } else {
        format!("The Services in namespace {ns}: {}.", some_names(&existing, 8))
    };
    let root = format!(
        "{} routes {} to Service {}{port}, which does not exist in namespace {ns}, so the controller has nowhere to send those requests (503/404). {exists_text}",
        owner_word(b),
        b.route,
        b.service
    );
    let mut f = util::finding(
        &META,
        b.owner.clone(),
        format!("{} routes to Service {ns}/{}, which does not exist", owner_word(b), b.service),
        root,
    );
    f.evidence.push(EvidenceItem::new(
        EvidenceSource::Spec,
        format!("{} backend: {} -> service {}{port}", b.kind, b.route, b.service),
        Some(b.owner.clone()),
    ));
    f.evidence.push(EvidenceItem::new(
        EvidenceSource::Spec,
        format!(
            "Services in {ns}: {}",
            if existing.is_empty() { "none".to_string() } else { some_names(&existing, 8) }
        ),
        None,
    ));
    if let Some(n) = near {
        f.fix.push(Fix::cmd(
            format!("Route to the Service that exists ({n}) instead of {}", b.service),
            patch(b, "name", &format!("\"{n}\"")),
        ));
    }
    // A workload of that name without a Service is the other common shape.
    let w = ["deployment", "statefulset"].into_iter().find(|k| {
        let key = (ns.clone(), b.service.clone());
        if *k == "deployment" {
            ev.index.deployments.contains_key(&key)
        } else {
            ev.index.stateful_sets.contains_key(&key)
        }
    });
    match w {
        Some(k) => f.fix.push(Fix::cmd(
            format!("or create the Service for {k} {}", b.service),
            format!("kubectl {}expose {k}/{} --port={}", ns_flag(ns), b.service, b.port_number.unwrap_or(80)),
        )),
        None if near.is_none() => f.fix.push(Fix::text(format!(
            "Create Service {} in namespace {ns} (selecting the pods that serve {}), or point the backend at an existing Service",
            b.service, b.route
        ))),
        None => {}
    }
    f.fix.push(Fix::cmd("List the Services and their ports", format!("kubectl {}get svc", ns_flag(ns))));
    f.root_key = format!("service:{ns}/{}", b.service);
    f
}

fn missing_port(b: &Backend<'_>, svc: &Service) -> Option<Finding> {
    let spec = svc.spec.as_ref()?;
    if spec.type_.as_deref() == Some("ExternalName") {
        return None;
    }
    let ports = spec.ports.as_deref().unwrap_or_default();
    let wanted = match (b.port_number, &b.port_name) {
        (Some(n), _) if !ports.iter().any(|p| p.port == n) => format!("{n}"),
        (None, Some(n)) if !ports.iter().any(|p| p.name.as_deref() == Some(n)) => n.clone(),
        _ => return None,
    };
    let ns = &b.service_ns;
    // A port number that is a targetPort is the classic mix-up: say so.
    let target_hint = b.port_number.and_then(|n| {
        ports.iter().find(|p| {
            matches!(&p.target_port, Some(ks_core::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(t)) if *t == n)
        })
    });
    let mut root = format!(
        "{} routes {} to port {wanted} of Service {}, but the Service exposes {}.",
        owner_word(b),
        b.route,
        b.service,
        ports_text(svc)
    );
    if let Some(p) = target_hint {
        root.push_str(&format!(
            " {wanted} is the container's port (targetPort); the backend must name the Service port {}.",
            p.port
        ));
    }
    let mut f = util::finding(
        &META,
        b.owner.clone(),
        format!("{} routes to port {wanted} of Service {ns}/{}, which it does not expose", owner_word(b), b.service),
        root,
    );
    f.evidence.push(EvidenceItem::new(
        EvidenceSource::Spec,
        format!("{} backend: {} -> service {}:{wanted}", b.kind, b.route, b.service),
        Some(b.owner.clone()),
    ));
    f.evidence.push(EvidenceItem::new(
        EvidenceSource::Spec,
        format!("Service {ns}/{} ports: {}", b.service, ports_text(svc)),
        Some(ObjectRef::new("Service", Some(ns), &b.service)),
    ));
    let replacement = target_hint.or_else(|| if ports.len() == 1 { ports.first() } else { None }).or_else(|| {
        let names: Vec<String> = ports.iter().filter_map(|p| p.name.clone()).collect();
        let n = closest(&wanted, &names, 0.4)?;
        ports.iter().find(|p| p.name.as_deref() == Some(n))
    });
    if let Some(p) = replacement {
        let value = if b.gateway { p.port.to_string() } else { format!("{{\"number\":{}}}", p.port) };
        f.fix.push(Fix::cmd(format!("Use the Service port {} instead", p.port), patch(b, "port", &value)));
    }
    f.fix.push(Fix::cmd("See the Service's ports", format!("kubectl {}get svc {} -o wide", ns_flag(ns), b.service)));
    f.root_key = format!("service-port:{ns}/{}:{wanted}", b.service);
    Some(f)
}

#[cfg(test)]
mod tests {
    #[test]
    fn port_text() {
        let b = ks_core::k8s_openapi::api::networking::v1::IngressServiceBackend {
            name: "x".into(),
            port: Some(ks_core::k8s_openapi::api::networking::v1::ServiceBackendPort {
                name: Some("http".into()),
                number: None,
            }),
        };
        assert_eq!(crate::net::backend_port_text(&b), "http");
    }
}
