use ks_core::k8s_openapi::api::core::v1::{Container, Probe};
use ks_core::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::ContainerProblem;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers restarted by their own liveness or startup probe: `Killing` events
    /// `Container X failed liveness probe, will be restarted` with the probe's output from
    /// the `Unhealthy` events (`HTTP probe failed with statuscode: 404`, `connect: connection
    /// refused`, `context deadline exceeded`). It shows the probe from the container spec and
    /// patches it.
    ///
    /// ### Why it breaks
    /// The kubelet kills a container whose liveness probe fails `failureThreshold` times in
    /// a row, even when the app is fine: the probe asks for a path the app does not serve
    /// (404), a port it does not listen on, gives it less time to start than it needs
    /// (`initialDelaySeconds`, no startup probe), or a shorter `timeoutSeconds` (default 1s)
    /// than the endpoint takes. A liveness endpoint that checks dependencies turns their
    /// outage into restarts.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` lists `Liveness probe failed: ...` and `failed liveness probe,
    /// will be restarted`; `kubectl exec <pod> -- wget -qO- http://localhost:<port><path>`
    /// (or curl) shows what the endpoint really answers.
    ///
    /// ### Fix
    /// Point the probe at a path and port the app serves, give slow starters a
    /// `startupProbe` (or a larger `initialDelaySeconds`), raise `timeoutSeconds`; keep the
    /// liveness check shallow.
    ///
    /// ### Prevention
    /// Serve a cheap `/healthz` from the process itself and test probes in CI against the
    /// built image; use a startup probe for anything that takes more than a few seconds to
    /// start.
    ///
    /// ### Example
    /// `Liveness probe failed: HTTP probe failed with statuscode: 404` for `/healthz` while the
    /// app serves `/health` (its readiness probe's path).
    pub static META = {
        id: "KS0308",
        name: "liveness-probe-kills",
        cause: Cause::CrashProbe,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the liveness or startup probe kills a container that may be healthy",
    }
}

pub struct LivenessProbeKills;

impl Rule for LivenessProbeKills {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashProbe, out, |p, f| explain(cx, p, f));
    }
}

fn port_text(p: &IntOrString) -> String {
    match p {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// `httpGet /healthz on port 8000, initialDelaySeconds 15, periodSeconds 10,
/// timeoutSeconds 1, failureThreshold 3` (defaults spelt out).
pub fn describe_probe(pr: &Probe) -> String {
    let how = if let Some(h) = &pr.http_get {
        format!("httpGet {} on port {}", h.path.as_deref().unwrap_or("/"), port_text(&h.port))
    } else if let Some(t) = &pr.tcp_socket {
        format!("tcpSocket on port {}", port_text(&t.port))
    } else if let Some(e) = &pr.exec {
        format!("exec {}", serde_json::to_string(&e.command).unwrap_or_default())
    } else if let Some(g) = &pr.grpc {
        format!("grpc on port {}", g.port)
    } else {
        "no handler".to_string()
    };
    format!(
        "{how}, initialDelaySeconds {}, periodSeconds {}, timeoutSeconds {}, failureThreshold {}",
        pr.initial_delay_seconds.unwrap_or(0),
        pr.period_seconds.unwrap_or(10),
        pr.timeout_seconds.unwrap_or(1),
        pr.failure_threshold.unwrap_or(3)
    )
}

/// Paths the app answered with 2xx/3xx in its access log (`"GET /health HTTP/1.1" 200`).
pub fn served_paths(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        let Some(i) = l.find("\"GET ") else { continue };
        let rest = &l[i + 5..];
        let Some((path, after)) = rest.split_once(' ') else { continue };
        let status = after.split('"').nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or_default();
        if (status.starts_with('2') || status.starts_with('3')) && status.len() == 3 && !out.iter().any(|p| p == path) {
            out.push(path.to_string());
        }
    }
    out
}

/// The container's declared port that a probe port should be, when the probe's is not
/// declared: the only port, or the one named `http`.
fn declared_port(c: &Container, probe_port: &IntOrString) -> Option<i32> {
    let ports = c.ports.as_ref()?;
    let declared = match probe_port {
        IntOrString::Int(i) => ports.iter().any(|p| p.container_port == *i),
        IntOrString::String(s) => ports.iter().any(|p| p.name.as_deref() == Some(s.as_str())),
    };
    if declared {
        return None;
    }
    match ports.as_slice() {
        [only] => Some(only.container_port),
        _ => ports.iter().find(|p| p.name.as_deref() == Some("http")).map(|p| p.container_port),
    }
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let kind = p.details.get("probe").map(String::as_str).unwrap_or("liveness");
    let (field, label) = if kind == "startup" { ("startupProbe", "Startup") } else { ("livenessProbe", "Liveness") };
    let output = p.details.get("probe_output").cloned().unwrap_or_default();
    let output = output.split_once("probe failed: ").map(|(_, o)| o.to_string()).unwrap_or(output);
    let c = util::container_spec(ev, p.pod, &p.container);
    let probe = c.and_then(|c| if kind == "startup" { c.startup_probe.as_ref() } else { c.liveness_probe.as_ref() });
    let ptr = super::template_container_pointer(ev, &w, &p.container).map(|c| format!("{c}/{field}"));
    let head = format!(
        "The kubelet kills container {} of {} {}{}",
        p.container,
        w.kind,
        w.qualified_name(),
        super::restarts_phrase(p)
    );
    if let Some(pr) = probe {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("{field}: {}", describe_probe(pr)),
            Some(w.clone()),
        ));
    }
    if let Some(l) = p.details.get("log_line") {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Log,
            l.clone(),
            Some(crate::facts::pod_ref(&ev.pods[p.pod])),
        ));
    }
    f.root_key = format!("crash.probe:{}:{}", w.qualified_name(), p.container);
    let http = probe.and_then(|pr| pr.http_get.as_ref());
    let path = http.and_then(|h| h.path.clone()).unwrap_or_else(|| "/".to_string());
    let status = output
        .split("statuscode: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse::<u16>().ok());
    let refused = output.contains("connection refused");
    let timeout =
        ["context deadline exceeded", "Client.Timeout", "timed out", "i/o timeout"].iter().any(|t| output.contains(t));
    let patch = |ops: Vec<(String, String)>| super::json_patch_add(&w, &ops);
    match (status, refused, timeout) {
        (Some(code), _, _) if (400..500).contains(&code) => {
            // A path the app answers: another probe's, or one it served in its access log.
            let other = c.and_then(|c| {
                [c.readiness_probe.as_ref(), c.startup_probe.as_ref(), c.liveness_probe.as_ref()]
                    .into_iter()
                    .flatten()
                    .filter_map(|pr| pr.http_get.as_ref()?.path.clone())
                    .find(|x| *x != path)
            });
            let served = served_paths(&p.log_tail);
            let candidate = other.clone().or_else(|| served.iter().find(|x| **x != path).cloned());
            f.title = format!("{label} probe of container {} gets {code} from {path}", p.container);
            let hint = match (&other, served.iter().find(|x| **x != path)) {
                (Some(o), _) => format!(" The container's other probe uses {o}, which the app answers."),
                (None, Some(s)) => format!(" The app's log shows it answering {s}."),
                _ => String::new(),
            };
            f.root_cause = format!(
                "{head} every time its {kind} probe fails: GET {path} answers {code} ({output}), so the app does not serve that path, and after failureThreshold failures the kubelet restarts a container that is otherwise running.{hint}"
            );
            match (&ptr, &candidate) {
                (Some(ptr), Some(cand)) => f.fix.push(Fix::cmd(
                    format!("Point the {kind} probe at {cand} instead of {path}"),
                    patch(vec![(format!("{ptr}/httpGet/path"), super::json_str(cand))]),
                )),
                (Some(ptr), None) => f.fix.push(Fix::cmd(
                    format!("Point the {kind} probe at a path the app serves instead of {path}"),
                    patch(vec![(format!("{ptr}/httpGet/path"), super::json_str("<health-path>"))]),
                )),
                _ => f.fix.push(Fix::text(format!("Change {field}.httpGet.path from {path} to a path the app serves"))),
            }
        }
        (Some(code), _, _) => {
            f.title = format!("{label} probe of container {} gets {code} from {path}", p.container);
            f.root_cause = format!(
                "{head} every time its {kind} probe fails: {path} answers {code} ({output}), so the app reports itself unhealthy. If the endpoint checks databases or other services, their outage restarts this container; a liveness check should only test the process itself."
            );
            f.fix.push(Fix::text(format!(
                "Point {field} at an endpoint that only checks the process (keep dependency checks in the readiness probe), or fix what {path} reports as failing (see the log)"
            )));
        }
        (None, true, _) => {
            let probe_port = http
                .map(|h| h.port.clone())
                .or_else(|| probe.and_then(|pr| pr.tcp_socket.as_ref()).map(|t| t.port.clone()));
            let right_port = match (c, &probe_port) {
                (Some(c), Some(pp)) => declared_port(c, pp),
                _ => None,
            };
            let pp = probe_port.as_ref().map(port_text).unwrap_or_default();
            match right_port {
                Some(rp) => {
                    f.title = format!(
                        "{label} probe of container {} checks port {pp}, but the container listens on {rp}",
                        p.container
                    );
                    f.root_cause = format!(
                        "{head}: its {kind} probe connects to port {pp} and is refused ({output}); the container declares port {rp}, not {pp}."
                    );
                    let sub = if http.is_some() { "httpGet" } else { "tcpSocket" };
                    match &ptr {
                        Some(ptr) => f.fix.push(Fix::cmd(
                            format!("Probe port {rp}"),
                            patch(vec![(format!("{ptr}/{sub}/port"), rp.to_string())]),
                        )),
                        None => f.fix.push(Fix::text(format!("Set {field}.{sub}.port to {rp}"))),
                    }
                }
                None => {
                    let delay = probe.and_then(|pr| pr.initial_delay_seconds).unwrap_or(0);
                    f.title = format!("{label} probe kills container {} before it listens on port {pp}", p.container);
                    f.root_cause = format!(
                        "{head}: its {kind} probe is refused ({output}) because the app is not listening yet: it takes longer to start than the probe allows (initialDelaySeconds {delay}, no startupProbe), so it is killed before it is ready, every time."
                    );
                    add_startup_probe(f, probe, ptr.as_deref(), &w, kind);
                }
            }
        }
        (None, false, true) => {
            let t = probe.and_then(|pr| pr.timeout_seconds).unwrap_or(1);
            let new_t = (t * 3).max(5);
            f.title = format!("{label} probe of container {} times out after {t}s", p.container);
            f.root_cause = format!(
                "{head}: its {kind} probe times out ({output}); the endpoint answers slower than timeoutSeconds {t} (under load, during garbage collection, or while a dependency is slow), and each timeout counts as a failure."
            );
            match &ptr {
                Some(ptr) => f.fix.push(Fix::cmd(
                    format!("Give the probe {new_t}s and more failures before a restart"),
                    patch(vec![
                        (format!("{ptr}/timeoutSeconds"), new_t.to_string()),
                        (format!("{ptr}/failureThreshold"), "5".into()),
                    ]),
                )),
                None => f.fix.push(Fix::text(format!("Raise {field}.timeoutSeconds to {new_t}"))),
            }
        }
        _ => {
            f.title = format!("{label} probe keeps killing container {}", p.container);
            let out = if output.is_empty() { String::new() } else { format!(" ({output})") };
            f.root_cause = format!(
                "{head}: its {kind} probe fails{out}, and after failureThreshold failures the kubelet restarts the container."
            );
            if let Some(pr) = probe.and_then(|pr| pr.exec.as_ref()) {
                f.fix.push(Fix::cmd(
                    "Run the probe's command by hand to see why it fails",
                    format!(
                        "kubectl {}exec {} -c {} -- {}",
                        util::ns_flag(w.namespace.as_deref().unwrap_or_default()),
                        util::pod_names(ev, p.pod).1,
                        p.container,
                        pr.command.iter().flatten().cloned().collect::<Vec<_>>().join(" ")
                    ),
                ));
            } else {
                add_startup_probe(f, probe, ptr.as_deref(), &w, kind);
            }
        }
    }
}

/// Fix for a slow starter: a startup probe that copies the liveness check and allows five
/// minutes, so liveness only starts once the app is up.
fn add_startup_probe(f: &mut Finding, probe: Option<&Probe>, ptr: Option<&str>, w: &ks_core::ObjectRef, kind: &str) {
    match (probe, ptr) {
        (Some(pr), Some(ptr)) if kind == "liveness" => {
            let mut sp = pr.clone();
            sp.initial_delay_seconds = None;
            sp.period_seconds = Some(10);
            sp.failure_threshold = Some(30);
            sp.success_threshold = None;
            let value = serde_json::to_string(&sp).unwrap_or_else(|_| "{}".into());
            let startup = ptr.replace("/livenessProbe", "/startupProbe");
            f.fix.push(Fix::cmd(
                "Give the app up to 5 minutes to start with a startup probe (liveness waits for it)",
                super::json_patch_add(w, &[(startup, value)]),
            ));
        }
        (Some(pr), Some(ptr)) => {
            let ft = pr.failure_threshold.unwrap_or(3).max(10) * 3;
            f.fix.push(Fix::cmd(
                format!("Allow more startup failures ({ft} x period)"),
                super::json_patch_add(w, &[(format!("{ptr}/failureThreshold"), ft.to_string())]),
            ));
        }
        _ => f.fix.push(Fix::text("Add a startupProbe (or raise initialDelaySeconds) so the app can finish starting")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_paths_from_access_logs() {
        let lines: Vec<String> = [
            r#"INFO:     10.0.1.23:60621 - "GET /health HTTP/1.1" 200 OK"#,
            r#"INFO:     10.0.1.23:57208 - "GET /healthz HTTP/1.1" 404 Not Found"#,
            r#"10.0.0.1 - - [20/Nov/2026:10:00:00 +0000] "GET /ready HTTP/1.1" 204 0 "-" "kube-probe/1.31""#,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(served_paths(&lines), vec!["/health".to_string(), "/ready".to_string()]);
    }

    #[test]
    fn describes_probes_with_defaults() {
        let pr: Probe =
            serde_json::from_str(r#"{"httpGet":{"path":"/healthz","port":8000},"initialDelaySeconds":15}"#).unwrap();
        assert_eq!(
            describe_probe(&pr),
            "httpGet /healthz on port 8000, initialDelaySeconds 15, periodSeconds 10, timeoutSeconds 1, failureThreshold 3"
        );
    }
}
