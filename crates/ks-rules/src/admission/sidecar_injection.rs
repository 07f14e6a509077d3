use ks_core::k8s_openapi::api::core::v1::ContainerStatus;
use ks_core::{
    Cause, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, LogKey, ObjectRef, RuleKind, RuleMeta, Severity,
    declare_rule,
};

use super::injectors::{self, Injected, Injector};
use super::webhook::{self, CallError};
use crate::facts::{ProblemKind, pod_ref};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Sidecar injection that fails: the injector's mutating webhook
    /// (`sidecar-injector.istio.io`, `namespace.sidecar-injector.istio.io`,
    /// `sidecar-injector.dapr.io`, `linkerd-proxy-injector.linkerd.io`) cannot be called or
    /// refuses the pod, so the workload's controller cannot create pods; or an injected sidecar
    /// (`istio-proxy`, `daprd`, `linkerd-proxy`) that stays unready or keeps exiting while the
    /// app container is fine.
    ///
    /// ### Why it breaks
    /// Namespaces labelled for injection send every new pod through the injector's webhook.
    /// With `failurePolicy: Fail`, an injector the API server cannot reach (a firewall between
    /// control plane and nodes blocking istiod's port 15017, injector pods down) blocks every
    /// pod. Once injected, the sidecar is part of the pod: if it never gets ready (no
    /// configuration from its control plane, wrong app port), the pod is never Ready.
    ///
    /// ### How to confirm
    /// `kubectl describe rs` shows `failed calling webhook "...sidecar-injector..."`;
    /// `kubectl get pods` shows `1/2` ready with the sidecar unready;
    /// `kubectl logs <pod> -c istio-proxy` says why.
    ///
    /// ### Fix
    /// Make the injector reachable from the control plane (open its port, restore its pods),
    /// or fix the sidecar's configuration; as a stopgap, turn injection off for the namespace.
    ///
    /// ### Prevention
    /// Open the injector's webhook port when creating private clusters; monitor the injector's
    /// pods; run `istioctl analyze` / `linkerd check` after mesh upgrades.
    ///
    /// ### Example
    /// `Internal error occurred: failed calling webhook "sidecar-injector.istio.io": Post
    /// https://istiod.istio-system.svc:443/inject?timeout=30s: dial tcp 10.228.0.5:15017: i/o
    /// timeout`.
    pub static META = {
        id: "KS0406",
        name: "sidecar-injection-failed",
        cause: Cause::SidecarInjection,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "an injected sidecar cannot be injected or does not start",
    }
}

pub struct SidecarInjectionFailed;

/// A sidecar must have been running this long before "not ready" is a failure (seconds).
pub const SIDECAR_GRACE_SECS: i64 = 5 * 60;

impl Rule for SidecarInjectionFailed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        webhook_failures(cx, out);
        sidecar_failures(cx, out);
    }
}

/// The stopgap that turns injection off, per injector.
fn disable_injection(inj: &Injector, ns: &str, w: &ObjectRef) -> Fix {
    match inj.name {
        "Istio" => Fix::cmd(
            format!("Stopgap only: stop injecting into {ns} (its pods then run outside the mesh)"),
            format!("kubectl label namespace {ns} istio-injection- istio.io/rev-"),
        ),
        "Dapr" => Fix::cmd(
            format!("Stopgap only: run {} without Dapr", w.name),
            super::patch_template_meta(w, serde_json::json!({"annotations": {"dapr.io/enabled": "false"}})),
        ),
        "Linkerd" => Fix::cmd(
            format!("Stopgap only: stop injecting into {ns} (its pods then run outside the mesh)"),
            format!("kubectl annotate namespace {ns} linkerd.io/inject-"),
        ),
        _ => Fix::text(format!("Stopgap only: turn {} injection off for {}", inj.name, w.name)),
    }
}

fn webhook_failures(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let ev = cx.ev;
    for fl in super::create_failures(cx).iter().filter(|f| f.sig.cause == Cause::AdmissionWebhook) {
        let hook = fl.get("webhook").to_string();
        let Some(inj) = injectors::by_webhook(&hook) else { continue };
        let ns = fl.ns().to_string();
        let w = fl.workload.clone();
        let detail = fl.get("detail").to_string();
        let cfg = webhook::find_config(ev, &hook);
        let mut evidence = fl.evidence.clone();
        if let Some(c) = &cfg {
            evidence.push(EvidenceItem::new(EvidenceSource::Spec, c.describe(&hook), Some(c.obj.object_ref())));
        }
        // The namespace label that turned injection on.
        if let Some(labels) = ev
            .namespaces
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(ns.as_str()))
            .and_then(|n| n.metadata.labels.as_ref())
        {
            let on: Vec<String> = labels
                .iter()
                .filter(|(k, _)| {
                    matches!(k.as_str(), "istio-injection" | "istio.io/rev" | "linkerd.io/inject")
                        || k.starts_with("dapr.io/")
                })
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if !on.is_empty() {
                evidence.push(EvidenceItem::new(
                    EvidenceSource::Spec,
                    format!("namespace labels: {}", on.join(", ")),
                    Some(ObjectRef::new("Namespace", None, &ns)),
                ));
            }
        }
        let (title, root, mut fixes) = if fl.sig.id == "admission-webhook-denied" {
            (
                format!("The {} sidecar injector refuses the pods of {} {}", inj.name, w.kind, w.name),
                format!(
                    "The {} sidecar injector's webhook {hook} refuses every pod {} {} tries to create{}: {}",
                    inj.name,
                    w.kind,
                    w.name,
                    super::replicas_phrase(fl),
                    detail.lines().next().unwrap_or_default().trim()
                ),
                vec![Fix::cmd(
                    format!("Read the {} injector's log for the refusal", inj.name),
                    format!("kubectl -n {} logs -l {} --tail=50", control_ns(inj, cfg.as_ref()), inj.selector),
                )],
            )
        } else {
            let err = webhook::classify(&detail);
            let (svc_in_msg, dial) = webhook::call_target(&detail);
            let svc =
                cfg.as_ref().and_then(|c| c.service.as_ref()).map(|(n, s, _)| (n.clone(), s.clone())).or(svc_in_msg);
            if let Some(e) = svc.as_ref().and_then(|(n, s)| webhook::service_state(ev, n, s)) {
                evidence.push(e);
            }
            let port = dial.as_deref().and_then(|d| d.rsplit(':').next()).map(str::to_string);
            let mut fixes =
                webhook::call_fixes(&hook, cfg.as_ref(), err, svc.as_ref(), port.as_deref(), Some(inj.selector));
            if svc.is_none() {
                fixes.insert(
                    0,
                    Fix::cmd(
                        format!("Check the {} injector's pods", inj.name),
                        format!("kubectl -n {} get pods -l {} -o wide", control_ns(inj, cfg.as_ref()), inj.selector),
                    ),
                );
            }
            let target = svc.as_ref().map(|(n, s)| format!(" (Service {n}/{s})")).unwrap_or_default();
            let port_note = match (err, port.as_deref()) {
                (CallError::Timeout, Some(p)) => format!(
                    " The API server dials the injector pod's port {p} directly, so that port must be open from the control plane to the nodes."
                ),
                _ => String::new(),
            };
            (
                format!(
                    "The {} sidecar injector cannot be reached: {} {} cannot create pods",
                    inj.name, w.kind, w.name
                ),
                format!(
                    "Injection is enabled for the pods of {} {}, so the API server calls the {} injector's webhook {hook}{target} for each of them; every pod is refused{} because {}.{port_note}",
                    w.kind,
                    w.name,
                    inj.name,
                    super::replicas_phrase(fl),
                    err.explain()
                ),
                fixes,
            )
        };
        fixes.push(disable_injection(inj, &ns, &w));
        let mut f = util::finding(&META, w, title, root);
        f.evidence = evidence;
        f.fix = fixes;
        f.root_key = format!("sidecar-injector:{hook}");
        out.push(f);
    }
}

fn control_ns(inj: &Injector, cfg: Option<&webhook::WebhookConfig<'_>>) -> String {
    cfg.and_then(|c| c.service.as_ref()).map(|(ns, _, _)| ns.clone()).unwrap_or_else(|| inj.namespace.to_string())
}

/// Injected sidecars that stay unready or keep exiting while the app containers are fine.
fn sidecar_failures(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let ev = cx.ev;
    for (i, pod) in ev.pods.iter().enumerate() {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(status) = &pod.status else { continue };
        if status.phase.as_deref() != Some("Running") {
            continue;
        }
        let regular = status.container_statuses.as_deref().unwrap_or_default();
        let init = status.init_container_statuses.as_deref().unwrap_or_default();
        let injected: Vec<(&ContainerStatus, Injected)> = regular
            .iter()
            .chain(init)
            .filter_map(|cs| injectors::injected(ev, i, &cs.name).map(|inj| (cs, inj)))
            .collect();
        if injected.is_empty() {
            continue;
        }
        let apps: Vec<&ContainerStatus> =
            regular.iter().filter(|cs| !injected.iter().any(|(s, _)| s.name == cs.name)).collect();
        if apps.is_empty() || !apps.iter().all(|cs| cs.ready) {
            continue;
        }
        for (cs, inj) in &injected {
            // Native sidecars are init containers that keep running; finished init containers
            // (istio-init) are not sidecars.
            let running = cs.state.as_ref().and_then(|s| s.running.as_ref());
            if cs.ready || (init.iter().any(|c| c.name == cs.name) && running.is_none()) {
                continue;
            }
            let problem = cx.facts.problems.iter().find(|p| p.pod == i && p.container == cs.name);
            // A container the other rules explain (a config error, a pull, a known crash
            // cause) is theirs: one root cause, one finding.
            let crashing = match problem {
                Some(p) if p.kind == ProblemKind::Crash && p.cause == Cause::CrashUnknown => true,
                Some(_) => continue,
                None => false,
            };
            let running_for = running.and_then(|r| ev.age_secs(r.started_at.as_ref().map(|t| t.0)));
            if !crashing && running_for.is_none_or(|a| a < SIDECAR_GRACE_SECS) {
                continue;
            }
            out.push(sidecar_finding(cx, i, cs, inj, &apps, crashing, running_for));
        }
    }
}

fn sidecar_finding(
    cx: &Context<'_>,
    i: usize,
    cs: &ContainerStatus,
    inj: &Injected,
    apps: &[&ContainerStatus],
    crashing: bool,
    running_for: Option<i64>,
) -> Finding {
    let ev = cx.ev;
    let pod = &ev.pods[i];
    let pref = pod_ref(pod);
    let (ns, pod_name) = util::pod_names(ev, i);
    let w = ev.workload_of(i).clone();
    let c = &cs.name;
    let app_names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
    let app_phrase = format!(
        "the app container{} {} {} ready",
        if app_names.len() == 1 { "" } else { "s" },
        util::join_names(&app_names),
        if app_names.len() == 1 { "is" } else { "are" }
    );
    let mut evidence = Vec::new();
    let state = if crashing {
        let exit = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()).map(|t| t.exit_code);
        format!(
            "{c}: not ready, restarted {} times{}",
            cs.restart_count,
            exit.map(|e| format!(", last exit code {e}")).unwrap_or_default()
        )
    } else {
        format!("{c}: running for {}, not ready", minutes(running_for.unwrap_or_default()))
    };
    evidence.push(EvidenceItem::new(EvidenceSource::Status, format!("{state}; {app_phrase}"), Some(pref.clone())));
    let events = ev.events_for("Pod", Some(ns), pod_name);
    if let Some(e) = events.iter().rev().find(|e| {
        (e.reason == "Unhealthy" || e.reason == "BackOff")
            && e.involved.field_path.as_deref().is_some_and(|fp| fp.contains(&format!("{{{c}}}")))
    }) {
        evidence.push(EvidenceItem::new(
            EvidenceSource::Event,
            format!("{}{}", e.message, e.count_suffix()),
            Some(pref.clone()),
        ));
    }
    let line = log_line(ev, ns, pod_name, c);
    if let Some(l) = &line {
        evidence.push(EvidenceItem::new(EvidenceSource::Log, l.clone(), Some(pref.clone())));
    }
    evidence.push(EvidenceItem::new(EvidenceSource::Spec, inj.sign.clone(), Some(pref.clone())));
    let name = inj.injector.name;
    let why = match (name, line.as_deref()) {
        (_, Some(l)) if l.contains("config not received from") || l.contains("XDS") => {
            " Its log says it gets no configuration from its control plane."
        }
        ("Dapr", _) => " daprd waits for the app on dapr.io/app-port and for its components and control plane.",
        _ => "",
    };
    let doing = if crashing {
        format!("keeps exiting (restarted {} times)", cs.restart_count)
    } else {
        format!("has been running for {} without becoming ready", minutes(running_for.unwrap_or_default()))
    };
    let root = format!(
        "The {name} sidecar {c}, added to the pod by the {name} injector ({}), {doing} while {app_phrase}, so the pod is not Ready and receives no Service traffic.{why}",
        inj.sign
    );
    let mut f = util::finding(&META, w.clone(), format!("Injected {name} sidecar {c} is not ready"), root);
    f.affected.push(pref);
    f.evidence = evidence;
    let prev = if crashing { " --previous" } else { "" };
    // One command for the workload, not one per pod: the findings of its pods merge.
    let target = match w.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => w.kubectl_ref(),
        _ => pod_name.to_string(),
    };
    f.fix.push(Fix::cmd("Read the sidecar's log", format!("kubectl -n {ns} logs {target} -c {c}{prev} --tail=50")));
    match name {
        "Istio" => {
            f.fix.push(Fix::cmd(
                "Check that istiod runs and pushes configuration to the proxy",
                "kubectl -n istio-system get pods -l app=istiod && istioctl proxy-status",
            ));
        }
        "Dapr" => {
            f.fix.push(Fix::text(format!(
                "Check that the dapr.io/app-port annotation of {} {} is the port the app listens on, and that the Dapr components in {ns} load (errors in the daprd log)",
                w.kind, w.name
            )));
            f.fix.push(Fix::cmd("Check the Dapr control plane", "kubectl -n dapr-system get pods"));
        }
        "Linkerd" => {
            f.fix.push(Fix::cmd("Check the proxies and the control plane", format!("linkerd check --proxy -n {ns}")));
        }
        _ => {
            f.fix.push(Fix::cmd(
                format!("Check the {name} control plane"),
                format!("kubectl -n {} get pods -l {}", inj.injector.namespace, inj.injector.selector),
            ));
        }
    }
    if let Some(r) = util::restart_workload(&w) {
        f.fix.push(r);
    }
    f.root_key = format!("sidecar-unready:{name}:{c}");
    f
}

fn minutes(secs: i64) -> String {
    match secs {
        s if s >= 7200 => format!("{}h", s / 3600),
        s => format!("{}m", s / 60),
    }
}

/// The most telling line of the sidecar's log: the last warning or error, else the last line.
fn log_line(ev: &Evidence, ns: &str, pod: &str, container: &str) -> Option<String> {
    let mut lines: Vec<&String> = Vec::new();
    for previous in [true, false] {
        let key = LogKey { namespace: ns.into(), pod: pod.into(), container: container.into(), previous };
        if let Some(l) = ev.logs.get(&key) {
            lines.extend(l.lines.iter());
        }
    }
    let telling = lines.iter().rev().find(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("error") || l.contains("warn") || l.contains("not ready") || l.contains("fail")
    });
    telling.or(lines.last()).map(|l| l.trim().chars().take(300).collect())
}
