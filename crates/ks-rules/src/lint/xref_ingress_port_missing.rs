use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};
use serde_json::Value;

use super::xref_bundle::{at, is_placeholder, ns_flag, qualified};
use super::xref_ingress::{PortRef, backends, ingresses, json_pointer};
use super::xref_refs::quote;
use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// An Ingress backend naming a port (`service.port.number` / `service.port.name`, or
    /// `servicePort` in the old API) that the Service of the bundle it routes to does not
    /// have. The usual mistake is the container's `targetPort` in place of the Service's
    /// `port`. ExternalName Services without ports are not judged.
    ///
    /// ### Why it breaks
    /// The controller resolves the backend against the Service's ports. With no such port it
    /// has no upstream for the route, and every request to it gets 503, although the Service
    /// and its pods are healthy.
    ///
    /// ### How to confirm
    /// `kubectl -n NS describe ingress NAME` shows the backend with `<error: ...>` or no
    /// endpoints; `kubectl -n NS get service SVC -o jsonpath='{.spec.ports}'` lists the ports.
    ///
    /// ### Fix
    /// Name one of the Service's ports (its `port` number or `name`) in the backend.
    ///
    /// ### Prevention
    /// Refer to Service ports by name (`port: {name: http}`) in Ingresses, and lint in CI.
    ///
    /// ### Example
    /// Ingress shop/web routes to `web:8080`, while Service shop/web exposes `port: 80`
    /// (`targetPort: 8080`).
    pub static META = {
        id: "KS1111",
        name: "ingress-service-port-missing",
        cause: Cause::NetIngressBackendMissing,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "an Ingress routes to a port that the bundle's Service does not have",
    }
}

pub struct IngressServicePortMissing;

/// `http 80→8080/TCP`.
fn show_service_port(p: &Value) -> String {
    let port = p["port"].as_i64().map(|n| n.to_string()).unwrap_or_else(|| "?".to_string());
    let target = match &p["targetPort"] {
        Value::Null => String::new(),
        v => format!("→{}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())),
    };
    let proto = p["protocol"].as_str().unwrap_or("TCP");
    match p["name"].as_str() {
        Some(n) => format!("{n} {port}{target}/{proto}"),
        None => format!("{port}{target}/{proto}"),
    }
}

impl Rule for IngressServicePortMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let bundle = &cx.xref().bundle;
        for ing in ingresses(&cx.ev.manifests) {
            let ns = ing.namespace.as_deref();
            for b in backends(ing) {
                let Some(port) = &b.port else { continue };
                if is_placeholder(b.service) || matches!(port, PortRef::Name(n) if is_placeholder(n)) {
                    continue;
                }
                let svcs = bundle.services.find(ns, b.service);
                let Some(svc) = svcs.first() else { continue }; // KS1110's
                let ports_of = |d: &super::xref_bundle::Def<'_>| -> Vec<Value> {
                    d.doc.value["spec"]["ports"].as_array().cloned().unwrap_or_default()
                };
                // A Service without ports (ExternalName, or ports left to a controller)
                // gives nothing to compare.
                if svcs.iter().any(|d| ports_of(d).is_empty()) {
                    continue;
                }
                let has = |p: &Value| match port {
                    PortRef::Number(n) => p["port"].as_i64() == Some(*n),
                    PortRef::Name(n) => p["name"].as_str() == Some(*n),
                };
                if svcs.iter().any(|d| ports_of(d).iter().any(has)) {
                    continue;
                }
                let ports = ports_of(svc);
                let q = qualified(svc.ns.or(ns), b.service);
                let listed: Vec<String> = ports.iter().map(show_service_port).collect();
                // The container port written where the Service port belongs.
                let by_target = ports.iter().find(|p| match port {
                    PortRef::Number(n) => p["targetPort"].as_i64() == Some(*n),
                    PortRef::Name(n) => p["targetPort"].as_str() == Some(*n),
                });
                let hint = match by_target {
                    Some(p) => format!(
                        " {port} is the targetPort of the Service's port {}: an Ingress names the Service's port, not the container's.",
                        p["port"]
                    ),
                    None => String::new(),
                };
                let mut f = doc_finding(
                    &META,
                    ing,
                    &b.port_field(),
                    format!("{} routes to port {port} of Service {q}, which has no such port", doc_name(ing)),
                    format!(
                        "{} sends {} to port {port} of Service {q}, whose ports are: {}.{hint} The controller finds no such port and answers these requests with 503.",
                        doc_name(ing),
                        b.route,
                        listed.join(", ")
                    ),
                );
                f.evidence.push(quote(svc.doc, &ks_core::manifest::FieldPath::parse("spec.ports")));
                let target = by_target.or(if ports.len() == 1 { ports.first() } else { None });
                if let Some(p) = target {
                    let (text, json) = match (p["name"].as_str(), b.v1) {
                        (Some(name), true) => (format!("port: {{name: {name}}}"), format!("{{\"name\":\"{name}\"}}")),
                        (_, true) => {
                            (format!("port: {{number: {}}}", p["port"]), format!("{{\"number\":{}}}", p["port"]))
                        }
                        (_, false) => (format!("servicePort: {}", p["port"]), p["port"].to_string()),
                    };
                    f.fix.push(Fix::text(format!("Set `{text}` at {}", at(ing, &b.port_path))));
                    f.fix.push(Fix::cmd(
                        "Or fix the Ingress in the cluster",
                        format!(
                            "kubectl {}patch ingress {} --type json -p '[{{\"op\":\"replace\",\"path\":\"{}\",\"value\":{json}}}]'",
                            ns_flag(ns),
                            ing.name,
                            json_pointer(&b.port_path)
                        ),
                    ));
                } else {
                    f.fix.push(Fix::text(format!(
                        "Set the backend port at {} to one of the Service's ports: {}",
                        at(ing, &b.port_path),
                        listed.join(", ")
                    )));
                }
                out.push(f);
            }
        }
    }
}
