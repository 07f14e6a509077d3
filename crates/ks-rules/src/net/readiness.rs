use ks_core::k8s_openapi::api::core::v1::{Container, Probe};
use ks_core::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use ks_core::{
    Cause, EventRecord, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity,
    declare_rule,
};

use super::signatures::PROBE_MATCHER;
use crate::facts::pod_ref;
use crate::util::{self, ns_flag};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A running container that stays unready because its readiness probe keeps failing
    /// now: current `Readiness probe failed:` (or `errored:`) Unhealthy events, at least the
    /// probe's failure threshold of them, the newest recent relative to the snapshot. The
    /// finding shows the probe as configured and says what the probe output means (404 on
    /// the path, connection refused on the port, timeout). A pod that was unready only while
    /// starting and is Ready now is healthy.
    ///
    /// ### Why it breaks
    /// An unready pod is removed from every Service's endpoints: it runs, but receives no
    /// traffic, and a rollout waiting for it never completes. Typical causes: the probe
    /// checks a path the app does not serve, a port it does not listen on (or the app binds
    /// 127.0.0.1), a timeout shorter than the endpoint's answer, or a health endpoint that
    /// fails because a dependency is down.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `Readiness probe failed: …` events with a growing count
    /// and `Ready: False`; `kubectl port-forward` plus `curl` on the probe's path shows what
    /// the app answers.
    ///
    /// ### Fix
    /// Point the probe at the path and port the app serves, give it a realistic
    /// `timeoutSeconds`, or fix the dependency the health endpoint reports.
    ///
    /// ### Prevention
    /// Keep the readiness path and port next to the app's own route and listen settings;
    /// test the probe command in CI against the container image.
    ///
    /// ### Example
    /// `Readiness probe failed: HTTP probe failed with statuscode: 404` (x120 over 20m) on
    /// `GET /healthz` while the app serves `/health`.
    pub static META = {
        id: "KS0805",
        name: "readiness-probe-failing",
        cause: Cause::NetReadiness,
        severity: Severity::Warning,
        kind: RuleKind::Runtime,
        summary: "a running container stays unready because its readiness probe keeps failing",
    }
}

pub struct ReadinessProbeFailing;

/// The newest failure must be at most this old (seconds before the snapshot's now).
const RECENT_SECS: i64 = 10 * 60;

/// A container running for less than this is still starting.
const STARTING_GRACE_SECS: i64 = 3 * 60;

impl Rule for ReadinessProbeFailing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for (i, pod) in ev.pods.iter().enumerate() {
            if super::pod_gone(pod) {
                continue;
            }
            let Some(status) = &pod.status else { continue };
            if status.phase.as_deref() != Some("Running") {
                continue;
            }
            let (ns, name) = util::pod_names(ev, i);
            let mut events: Option<Vec<&EventRecord>> = None;
            for cs in status.container_statuses.iter().flatten() {
                let running = cs.state.as_ref().and_then(|s| s.running.as_ref());
                if cs.ready || running.is_none() {
                    continue;
                }
                // A crash-looping container is the crash rules' to explain.
                if cx.facts.problems.iter().any(|p| p.pod == i && p.container == cs.name) {
                    continue;
                }
                let Some(c) = util::container_spec(ev, i, &cs.name) else { continue };
                let Some(probe) = &c.readiness_probe else { continue };
                let evs = events.get_or_insert_with(|| ev.events_for("Pod", Some(ns), name));
                let tag = format!("{{{}}}", cs.name);
                let failures: Vec<&&EventRecord> = evs
                    .iter()
                    .filter(|e| {
                        e.reason == "Unhealthy"
                            && (e.message.starts_with("Readiness probe failed:")
                                || e.message.starts_with("Readiness probe errored:"))
                            && e.involved.field_path.as_deref().is_none_or(|f| f.is_empty() || f.contains(&tag))
                    })
                    .collect();
                let Some(latest) = failures.iter().max_by_key(|e| e.last) else { continue };
                let count: u32 = failures.iter().map(|e| e.count).sum();
                let threshold = probe.failure_threshold.unwrap_or(3).max(1) as u32;
                if count < threshold {
                    continue;
                }
                // Recent, and not from before the current instance started.
                match ev.age_secs(latest.last) {
                    Some(a) if a > RECENT_SECS => continue,
                    None if count < threshold * 3 => continue,
                    _ => {}
                }
                let started = running.and_then(|r| r.started_at.as_ref()).map(|t| t.0);
                if let (Some(s), Some(l)) = (started, latest.last)
                    && l < s
                {
                    continue;
                }
                // A slow starter gets a few minutes before its failures count as stuck.
                if ev.age_secs(started).is_some_and(|a| a < STARTING_GRACE_SECS) {
                    continue;
                }
                out.push(finding(cx, i, c, probe, latest, count, started));
            }
        }
    }
}

/// `httpGet :8080/healthz`, `tcpSocket :5432`, `exec pg_isready`, with the timings.
pub fn probe_text(p: &Probe) -> String {
    let action = if let Some(h) = &p.http_get {
        format!(
            "httpGet {}:{}{}",
            h.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase(),
            port_text(&h.port),
            h.path.as_deref().unwrap_or("/")
        )
    } else if let Some(t) = &p.tcp_socket {
        format!("tcpSocket :{}", port_text(&t.port))
    } else if let Some(e) = &p.exec {
        format!("exec {}", e.command.as_ref().map(|c| c.join(" ")).unwrap_or_default())
    } else if let Some(g) = &p.grpc {
        format!("grpc :{}", g.port)
    } else {
        "no action".to_string()
    };
    format!(
        "readinessProbe: {action} initialDelaySeconds={} periodSeconds={} timeoutSeconds={} failureThreshold={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.period_seconds.unwrap_or(10),
        p.timeout_seconds.unwrap_or(1),
        p.failure_threshold.unwrap_or(3)
    )
}

fn port_text(p: &IntOrString) -> String {
    match p {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// The probe's port as a number, resolving a named port through the container's ports.
fn probe_port(c: &Container, p: &Probe) -> Option<i32> {
    let port = p.http_get.as_ref().map(|h| &h.port).or(p.tcp_socket.as_ref().map(|t| &t.port))?;
    match port {
        IntOrString::Int(n) => Some(*n),
        IntOrString::String(s) => {
            c.ports.iter().flatten().find(|cp| cp.name.as_deref() == Some(s)).map(|cp| cp.container_port)
        }
    }
}

fn duration_text(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s => format!("{}h", s / 3600),
    }
}

/// JSON-pointer of the container's readinessProbe in the workload's template.
fn probe_pointer(ev: &Evidence, w: &ObjectRef, container: &str) -> Option<String> {
    let (spec, prefix) = util::pod_template(ev, w)?;
    let ci = spec.containers.iter().position(|c| c.name == container)?;
    Some(format!("{prefix}/containers/{ci}/readinessProbe"))
}

fn patch_value(w: &ObjectRef, pointer: &str, value: &str) -> String {
    format!(
        "kubectl {}patch {} {} --type json -p '[{{\"op\":\"replace\",\"path\":\"{pointer}\",\"value\":{value}}}]'",
        w.ns_flag(),
        w.kind.to_ascii_lowercase(),
        w.name
    )
}

fn finding(
    cx: &Context<'_>,
    i: usize,
    c: &Container,
    probe: &Probe,
    latest: &EventRecord,
    count: u32,
    started: Option<jiff::Timestamp>,
) -> Finding {
    let ev = cx.ev;
    let (ns, pod) = util::pod_names(ev, i);
    let w = ev.workload_of(i).clone();
    let output = latest
        .message
        .trim_start_matches("Readiness probe failed:")
        .trim_start_matches("Readiness probe errored:")
        .trim()
        .to_string();
    let port = probe_port(c, probe);
    let declared: Vec<i32> = c.ports.iter().flatten().map(|p| p.container_port).collect();
    let path = probe.http_get.as_ref().and_then(|h| h.path.clone()).unwrap_or_else(|| "/".to_string());
    let timeout = probe.timeout_seconds.unwrap_or(1);
    let pointer = probe_pointer(ev, &w, &c.name);
    let mut fixes = Vec::new();
    let sig = PROBE_MATCHER.first(&output);
    let (what, why) = match sig.as_ref().map(|m| (m.sig.id, m.get("code"))) {
        Some(("probe-http-status", "404")) => (
            format!("GET {path} answers 404"),
            format!("the app does not serve {path} on port {}; point the probe at the app's health path", port.map(|p| p.to_string()).unwrap_or_default()),
        ),
        Some(("probe-http-status", code)) if code.starts_with('5') => (
            format!("GET {path} answers {code}"),
            "the app reports itself unhealthy, usually because something its health check depends on (database, cache, another Service) is unreachable; its log says which".to_string(),
        ),
        Some(("probe-http-status", code)) => (format!("GET {path} answers {code}"), format!("the probe expects a status from 200 to 399 and gets {code}")),
        Some(("probe-refused", _)) => {
            let other: Vec<i32> = declared.iter().copied().filter(|d| Some(*d) != port).collect();
            let why = match (port, other.as_slice()) {
                (Some(p), [q]) => {
                    if let Some(ptr) = &pointer {
                        let field = if probe.http_get.is_some() { "httpGet" } else { "tcpSocket" };
                        fixes.push(Fix::cmd(
                            format!("Probe the port the container declares ({q})"),
                            patch_value(&w, &format!("{ptr}/{field}/port"), &q.to_string()),
                        ));
                    }
                    format!("nothing listens on port {p}: the container declares port {q}, so the probe checks the wrong port")
                }
                (Some(p), _) => format!("nothing listens on port {p}: the app listens on another port, binds only 127.0.0.1, or has not opened it yet"),
                (None, _) => "nothing listens on the probed port".to_string(),
            };
            ("connection refused".to_string(), why)
        }
        Some(("probe-timeout", _)) => {
            if let Some(ptr) = &pointer {
                fixes.push(Fix::cmd(
                    "Give the probe more time (then make the endpoint cheaper)",
                    patch_value(&w, &format!("{ptr}/timeoutSeconds"), &(timeout * 5).max(5).to_string()),
                ));
            }
            ("timeout".to_string(), format!("the endpoint does not answer within timeoutSeconds={timeout}: the app is overloaded, blocked, or its health check waits on a slow dependency"))
        }
        _ => ("failure".to_string(), "the probe's own output above says why".to_string()),
    };
    let span = match (latest.first, latest.last) {
        (Some(f), Some(l)) if l > f => format!(" over {}", duration_text(l.as_second() - f.as_second())),
        _ => String::new(),
    };
    let running = match started.and_then(|s| ev.age_secs(Some(s))) {
        Some(a) => format!("has been running for {} but is not ready", duration_text(a)),
        None => "is running but not ready".to_string(),
    };
    let root = format!(
        "Container {} of pod {pod} {running}: its readiness probe failed {count} times{span} ({what}), so no Service sends it traffic. Cause: {why}.",
        c.name
    );
    let mut f =
        util::finding(&META, w.clone(), format!("Readiness probe of container {} keeps failing: {what}", c.name), root);
    f.affected.push(pod_ref(&ev.pods[i]));
    let pref = pod_ref(&ev.pods[i]);
    f.evidence.push(EvidenceItem::new(
        EvidenceSource::Event,
        format!("{} (x{count}{span})", latest.message.trim()),
        Some(pref.clone()),
    ));
    f.evidence.push(EvidenceItem::new(
        EvidenceSource::Status,
        format!("container {}: running, ready: false", c.name),
        Some(pref),
    ));
    f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, probe_text(probe), Some(w.clone())));
    f.fix = fixes;
    if let (Some(h), Some(p)) = (&probe.http_get, port) {
        let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase();
        f.fix.push(Fix::cmd(
            "See what the probe sees: forward the port, then in another shell run the request",
            format!("kubectl {}port-forward pod/{pod} {p}:{p}", ns_flag(ns)),
        ));
        f.fix.push(Fix::cmd("the probe's request", format!("curl -ik {scheme}://localhost:{p}{path}")));
    }
    f.fix.push(Fix::cmd(
        "Read the app's log around the failures",
        format!("kubectl {}logs {pod} -c {} --tail=50", ns_flag(ns), c.name),
    ));
    f.root_key = format!("readiness:{}/{}", w.qualified_name(), c.name);
    f
}
