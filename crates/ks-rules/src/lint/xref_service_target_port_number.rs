use ks_core::manifest::FieldPath;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use serde_json::Value;

use super::pod_templates::PodTemplate;
use super::xref_bundle::{Bundle, RefKind, at, ns_flag, pod_refs};
use super::xref_refs::quote;
use super::xref_service_target_port_name::port_name;
use super::xref_services::{declared_ports, show_ports};
use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A Service port that forwards to a container port number (`targetPort: 8080`, or the
    /// `port` itself when `targetPort` is omitted) that none of the selected pod templates
    /// declares, while every one of them declares its ports. Templates that declare no port
    /// at all say nothing and are not judged, nor is a port the app is told to listen on (the
    /// number appears in its command, args or env values, or in a ConfigMap of the bundle it
    /// mounts or reads).
    ///
    /// ### Why it breaks
    /// Declaring a container port is informational: the app may listen on a port it does not
    /// declare, which is why this is only a hint. But when the declarations are accurate, the
    /// Service sends traffic to a port nothing listens on, and connections are refused
    /// (`connection refused`, an Ingress answers 502) while the pods look healthy. The usual
    /// cause is an omitted `targetPort` (it defaults to `port`) or a Service left behind when
    /// the app's port changed.
    ///
    /// ### How to confirm
    /// `kubectl -n NS port-forward svc/NAME LOCAL:PORT` and a request fail, while
    /// `kubectl -n NS port-forward pod/POD LOCAL:DECLARED` succeeds.
    ///
    /// ### Fix
    /// Set `targetPort` to the port the app listens on (best by its name), or declare the
    /// port in the container if the app really listens there.
    ///
    /// ### Prevention
    /// Use named target ports (`targetPort: http`), so the Service follows the container's
    /// declaration.
    ///
    /// ### Example
    /// Service shop/web `port: 80` without `targetPort`, container web declares
    /// `containerPort: 8080`: traffic goes to port 80 of the pod.
    pub static META = {
        id: "KS1109",
        name: "service-target-port-undeclared",
        cause: Cause::NetServiceNoEndpoints,
        severity: Severity::Info,
        kind: RuleKind::Static,
        summary: "a Service forwards to a container port number none of its pods declares",
    }
}

pub struct ServiceTargetPortUndeclared;

/// Whether `text` holds `n` as a whole number (not part of a longer one).
fn mentions(text: &str, n: i64) -> bool {
    let needle = n.to_string();
    text.match_indices(&needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// Whether the template's command, args or env values, or the bundle ConfigMaps it mounts or
/// reads, mention port `n`.
fn configured_ports_mention(bundle: &Bundle<'_>, t: &PodTemplate<'_>, n: i64) -> bool {
    let ns = t.doc.namespace.as_deref();
    for c in t.containers().into_iter().filter(|c| c.runs_with_app()) {
        let strings = ["command", "args"]
            .iter()
            .flat_map(|f| c.value[*f].as_array().into_iter().flatten())
            .chain(c.value["env"].as_array().into_iter().flatten().map(|e| &e["value"]));
        if strings.filter_map(Value::as_str).any(|s| mentions(s, n)) {
            return true;
        }
    }
    pod_refs(t).iter().filter(|r| r.kind == RefKind::ConfigMap).any(|r| {
        bundle.config_maps.find(ns, r.name).iter().any(|d| {
            d.doc.value["data"]
                .as_object()
                .is_some_and(|m| m.values().filter_map(Value::as_str).any(|s| mentions(s, n)))
        })
    })
}

impl Rule for ServiceTargetPortUndeclared {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let x = cx.xref();
        let bundle = &x.bundle;
        for s in &x.services {
            let selected = s.selected(&x.templates);
            if selected.is_empty() || selected.iter().any(|t| declared_ports(t).is_empty()) {
                continue;
            }
            let ports: Vec<_> = selected.iter().flat_map(|t| declared_ports(t)).collect();
            for (i, p) in s.doc.value["spec"]["ports"].as_array().into_iter().flatten().enumerate() {
                if port_name(&p["targetPort"]).is_some() {
                    continue; // KS1108's
                }
                let explicit = !p["targetPort"].is_null();
                let number = if explicit {
                    p["targetPort"].as_i64().or_else(|| p["targetPort"].as_str().and_then(|s| s.parse().ok()))
                } else {
                    p["port"].as_i64()
                };
                let Some(number) = number else { continue };
                let protocol = p["protocol"].as_str().unwrap_or("TCP");
                if ports.iter().any(|d| d.number == Some(number) && d.protocol == protocol) {
                    continue;
                }
                // The app is told to listen there (`--port 18080`, `endpoint: 0.0.0.0:5317` in
                // its mounted config): it does, declared or not.
                if selected.iter().any(|t| configured_ports_mention(bundle, t, number)) {
                    continue;
                }
                let svc = doc_name(s.doc);
                let path = FieldPath::parse("spec.ports").index(i).key(if explicit { "targetPort" } else { "port" });
                let how = if explicit {
                    format!("`targetPort: {number}`")
                } else {
                    format!("`port: {number}` with no `targetPort` (which then defaults to {number})")
                };
                let mut f = doc_finding(
                    &META,
                    s.doc,
                    &path,
                    format!("{svc} forwards to container port {number}/{protocol}, which none of its pods declares"),
                    format!(
                        "A port of {svc} has {how}, but the pods it selects declare only: {}. Declared ports are informational, so the app may still listen on {number}; if the declarations are accurate, traffic goes to a port nothing listens on and connections are refused.",
                        show_ports(&ports)
                    ),
                );
                if let Some(d) = ports.first() {
                    f.evidence.push(quote(d.doc, &d.path));
                }
                let mut numbers: Vec<i64> =
                    ports.iter().filter(|d| d.protocol == protocol).filter_map(|d| d.number).collect();
                numbers.sort_unstable();
                numbers.dedup();
                if let [only] = numbers.as_slice() {
                    let named = ports.iter().find(|d| d.number == Some(*only)).and_then(|d| d.name);
                    let value = match named {
                        Some(n) => serde_json::Value::String(n.to_string()),
                        None => serde_json::Value::from(*only),
                    };
                    let shown = named.map(str::to_string).unwrap_or_else(|| only.to_string());
                    f.fix.push(Fix::text(format!(
                        "If the app listens on {only}, set `targetPort: {shown}` in spec.ports[{i}] of {svc} at {}",
                        at(s.doc, &path)
                    )));
                    f.fix.push(Fix::cmd(
                        "Or fix the Service in the cluster",
                        format!(
                            "kubectl {}patch service {} --type json -p '[{{\"op\":\"add\",\"path\":\"/spec/ports/{i}/targetPort\",\"value\":{value}}}]'",
                            ns_flag(s.doc.namespace.as_deref()),
                            s.doc.name
                        ),
                    ));
                } else {
                    f.fix.push(Fix::text(format!(
                        "Set `targetPort` at {} to the port the app listens on (declared: {})",
                        at(s.doc, &path),
                        show_ports(&ports)
                    )));
                }
                f.fix.push(Fix::text(format!(
                    "If the app does listen on {number}, declare it in the container (`ports: [{{containerPort: {number}}}]`) so the manifests say so"
                )));
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn port_mentions_are_whole_numbers() {
        assert!(mentions("--port=18080", 18080));
        assert!(mentions("endpoint: 0.0.0.0:5317", 5317));
        assert!(!mentions("--port=180801", 18080));
        assert!(!mentions("listen 28080;", 8080));
    }
}
