use ks_core::manifest::FieldPath;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::xref_bundle::{at, ns_flag};
use super::xref_refs::quote;
use super::xref_services::{declared_ports, show_ports};
use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A Service port whose `targetPort` is a name (`targetPort: http`) that no container of
    /// the pod templates the Service selects declares in its `ports[].name`. Only Services
    /// that select at least one pod template of the bundle are checked.
    ///
    /// ### Why it breaks
    /// A named targetPort is resolved per pod against the container ports with that name. A
    /// pod without it contributes no endpoint for that Service port, so with none of the
    /// selected pods naming it, the port has no endpoints at all and connections fail,
    /// although the pods are Running and Ready.
    ///
    /// ### How to confirm
    /// `kubectl -n NS get endpointslices -l kubernetes.io/service-name=NAME -o yaml` shows
    /// endpoints without that port; `kubectl -n NS get pod POD -o
    /// jsonpath='{.spec.containers[*].ports}'` lists the names the pods declare.
    ///
    /// ### Fix
    /// Set `targetPort` to a port name (or number) the container declares, or give the
    /// container's port the name the Service uses.
    ///
    /// ### Prevention
    /// Name container ports consistently (`http`, `grpc`, `metrics`) and lint the bundle.
    ///
    /// ### Example
    /// Service shop/web `targetPort: http` while container web declares
    /// `- name: web, containerPort: 8080`.
    pub static META = {
        id: "KS1108",
        name: "service-target-port-name-undeclared",
        cause: Cause::NetServiceNoEndpoints,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "a Service's named targetPort is declared by no container of the pods it selects",
    }
}

pub struct ServiceTargetPortNameUndeclared;

/// A named port: text with a letter (a string of digits is a number written quoted).
pub fn port_name(v: &serde_json::Value) -> Option<&str> {
    v.as_str().filter(|s| s.chars().any(|c| c.is_ascii_alphabetic()))
}

impl Rule for ServiceTargetPortNameUndeclared {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let x = cx.xref();
        for s in &x.services {
            let selected = s.selected(&x.templates);
            if selected.is_empty() {
                continue;
            }
            let ports: Vec<_> = selected.iter().flat_map(|t| declared_ports(t)).collect();
            for (i, p) in s.doc.value["spec"]["ports"].as_array().into_iter().flatten().enumerate() {
                let Some(target) = port_name(&p["targetPort"]) else { continue };
                if ports.iter().any(|d| d.name == Some(target)) {
                    continue;
                }
                let svc = doc_name(s.doc);
                let port = p["port"].as_i64().map(|n| n.to_string()).unwrap_or_else(|| "?".to_string());
                let pods: Vec<String> = selected.iter().map(|t| doc_name(t.doc)).collect();
                let path = FieldPath::parse("spec.ports").index(i).key("targetPort");
                let mut f = doc_finding(
                    &META,
                    s.doc,
                    &path,
                    format!("{svc} targets container port `{target}`, which no pod it selects declares"),
                    format!(
                        "Port {port} of {svc} forwards to the container port named `{target}`, but the pods it selects ({}) declare: {}. A named targetPort resolves only against a container port of that name, so no pod becomes an endpoint for this port and connections to it fail.",
                        pods.join(", "),
                        show_ports(&ports)
                    ),
                );
                for d in ports.iter().take(3) {
                    f.evidence.push(quote(d.doc, &d.path));
                }
                let n = ns_flag(s.doc.namespace.as_deref());
                let svc_name = &s.doc.name;
                // One declared port: that is where the traffic must go.
                let mut numbers: Vec<i64> = ports.iter().filter_map(|d| d.number).collect();
                numbers.sort_unstable();
                numbers.dedup();
                if let ([only], Some(d)) = (numbers.as_slice(), ports.first()) {
                    let value = match d.name {
                        Some(name) => serde_json::Value::String(name.to_string()),
                        None => serde_json::Value::from(*only),
                    };
                    let shown = d.name.map(str::to_string).unwrap_or_else(|| only.to_string());
                    f.fix.push(Fix::text(format!("Set `targetPort: {shown}` at {}", at(s.doc, &path))));
                    f.fix.push(Fix::cmd(
                        "Or fix the Service in the cluster",
                        format!(
                            "kubectl {n}patch service {svc_name} --type json -p '[{{\"op\":\"replace\",\"path\":\"/spec/ports/{i}/targetPort\",\"value\":{value}}}]'"
                        ),
                    ));
                    f.fix.push(Fix::text(format!(
                        "Or name the container port: add `name: {target}` to port {only} of container {} in {} at {}",
                        d.container,
                        doc_name(d.doc),
                        at(d.doc, &d.path)
                    )));
                } else if ports.is_empty() {
                    f.fix.push(Fix::text(format!(
                        "Declare the port in the container the Service should reach (`ports: [{{name: {target}, containerPort: <port>}}]` in {}), or set `targetPort` to the number the app listens on at {}",
                        pods.join(", "),
                        at(s.doc, &path)
                    )));
                } else {
                    f.fix.push(Fix::text(format!(
                        "Set `targetPort` at {} to one of the declared ports ({}), or add `name: {target}` to the container port the app serves on",
                        at(s.doc, &path),
                        show_ports(&ports)
                    )));
                }
                out.push(f);
            }
        }
    }
}
