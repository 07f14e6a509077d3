use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};
use serde_json::{Map, Value};

use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A container whose liveness probe runs the same check as its readiness probe: the
    /// same `httpGet` (path, port, host, scheme, headers), the same `exec` command or the
    /// same named `grpc` service; timings may differ. Identical `tcpSocket` probes and
    /// gRPC probes without a service name are not reported: a TCP connect and the server-wide
    /// gRPC health status only show that the process is up, which is what liveness is for.
    ///
    /// ### Why it breaks
    /// Readiness checks usually include what the app needs to serve — its database, a
    /// downstream API. When that dependency is slow or down, readiness should take the pod
    /// out of the Service and wait; the same check as liveness makes the kubelet restart
    /// the container instead (`Liveness probe failed: …`, `Container … failed liveness
    /// probe, will be restarted`). Every replica fails the same check at the same time, so
    /// the whole Deployment restarts in a loop during an outage it could have ridden out,
    /// and the restarts add load to the dependency that is already struggling.
    ///
    /// ### How to confirm
    /// `kubectl get deploy NAME -o jsonpath='{.spec.template.spec.containers[*].livenessProbe}'`
    /// next to `readinessProbe`; during an incident, restarts grow on every replica at once
    /// with `Liveness probe failed` events.
    ///
    /// ### Fix
    /// Point liveness at a cheap endpoint that only shows the process is not stuck
    /// (`/livez`, or a `tcpSocket` on the serving port) and keep dependency checks in
    /// readiness; give liveness a larger `failureThreshold` than readiness.
    ///
    /// ### Prevention
    /// Serve separate liveness and readiness endpoints from the start (many frameworks have
    /// both: Spring Boot `/actuator/health/liveness` and `/readiness`).
    ///
    /// ### Example
    /// `livenessProbe: {httpGet: {path: /healthz, port: 8080}}` and the same `readinessProbe`,
    /// where `/healthz` pings PostgreSQL.
    pub static META = {
        id: "KS1209",
        name: "liveness-same-as-readiness",
        cause: Cause::CrashProbe,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "the liveness probe runs the same check as the readiness probe, so a slow dependency restarts the pod",
    }
}

pub struct LivenessSameAsReadiness;

/// The probe's check without its timings, with defaults filled in so that `path: /` and
/// no path compare equal. `None` for checks this rule does not compare (tcpSocket).
pub fn handler(probe: &Value) -> Option<(&'static str, Value)> {
    if let Some(h) = probe.get("httpGet").and_then(Value::as_object) {
        let mut m = Map::new();
        m.insert("path".into(), h.get("path").cloned().unwrap_or_else(|| "/".into()));
        m.insert("port".into(), h.get("port").cloned().unwrap_or(Value::Null));
        m.insert("host".into(), h.get("host").cloned().unwrap_or(Value::Null));
        m.insert("scheme".into(), h.get("scheme").cloned().unwrap_or_else(|| "HTTP".into()));
        m.insert("httpHeaders".into(), h.get("httpHeaders").cloned().unwrap_or_else(|| Value::Array(Vec::new())));
        return Some(("httpGet", Value::Object(m)));
    }
    if let Some(e) = probe.get("exec") {
        return Some(("exec", e["command"].clone()));
    }
    // The standard gRPC health check without a service name reports the server as a
    // whole, which servers set themselves; like a TCP connect it says the process is up.
    if let Some(g) = probe.get("grpc").filter(|g| g["service"].as_str().is_some_and(|s| !s.is_empty())) {
        return Some((
            "grpc",
            serde_json::json!({"port": g["port"], "service": g.get("service").cloned().unwrap_or_else(|| "".into())}),
        ));
    }
    None
}

/// A port number or name as written (`8080`, `http`).
fn port_text(p: &Value) -> String {
    p.as_str().map(str::to_string).unwrap_or_else(|| p.to_string())
}

/// `GET /healthz on port 8080` for messages.
fn describe(kind: &str, h: &Value) -> String {
    match kind {
        "httpGet" => format!("GET {} on port {}", h["path"].as_str().unwrap_or("/"), port_text(&h["port"])),
        "exec" => format!(
            "`{}`",
            h.as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")).unwrap_or_default()
        ),
        _ => format!("gRPC health check on port {}", port_text(&h["port"])),
    }
}

impl Rule for LivenessSameAsReadiness {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for tpl in cx.pod_templates() {
            let doc = tpl.doc;
            for c in tpl.containers().into_iter().filter(|c| c.runs_with_app()) {
                let (Some(live), Some(ready)) =
                    (handler(&c.value["livenessProbe"]), handler(&c.value["readinessProbe"]))
                else {
                    continue;
                };
                if live != ready {
                    continue;
                }
                let what = describe(live.0, &live.1);
                let mut f = doc_finding(
                    &META,
                    doc,
                    &c.field("livenessProbe"),
                    format!(
                        "Liveness and readiness probes of container {} in {} are the same check ({what})",
                        c.name,
                        doc_name(doc)
                    ),
                    format!(
                        "Container {} uses {what} for both probes: whenever that check fails — a slow database or downstream service is enough, if it checks them — the kubelet restarts the container instead of only taking it out of the Service, on every replica at once.",
                        c.name
                    ),
                );
                let ready_loc = doc.locate(&c.field("readinessProbe"));
                f.evidence.push(ks_core::EvidenceItem::new(
                    ks_core::EvidenceSource::Manifest,
                    format!("{}:{}: readinessProbe: the same {what}", ready_loc.file, ready_loc.line),
                    Some(doc.object_ref()),
                ));
                let port = match live.0 {
                    "httpGet" | "grpc" => port_text(&live.1["port"]),
                    _ => "<port>".to_string(),
                };
                f.fix.push(Fix::text(format!(
                    "In {}, point {} at a check that only shows the process is alive — a `/livez` endpoint that does not touch dependencies, or `tcpSocket: {{port: {port}}}` — and keep {what} as the readiness probe",
                    doc.file,
                    c.field("livenessProbe")
                )));
                f.fix.push(Fix::text(
                    "Give the liveness probe a larger failureThreshold (or periodSeconds) than readiness, so readiness always acts first",
                ));
                f.root_key = format!("KS1209:{}:{}", doc.key_string(), c.name);
                out.push(f);
            }
        }
    }
}
