use ks_core::{
    Cause, DynObject, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity,
    declare_rule,
};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Workloads whose pods an admission webhook refuses (`admission webhook "x" denied the
    /// request: ...`) or cannot be asked (`failed calling webhook "x": ...`), seen in
    /// `FailedCreate` events or the `ReplicaFailure` condition while the workload still lacks
    /// pods. Failures of sidecar injectors' webhooks are reported by KS0406.
    ///
    /// ### Why it breaks
    /// Validating and mutating webhooks see every pod before it is stored. A policy engine
    /// (Gatekeeper, Kyverno) that denies the pod, or a webhook with `failurePolicy: Fail` whose
    /// Service is down, unreachable from the control plane, or serving a certificate the
    /// caBundle does not trust, blocks every pod the controller creates.
    ///
    /// ### How to confirm
    /// `kubectl describe rs` shows the events; `kubectl get
    /// validatingwebhookconfigurations,mutatingwebhookconfigurations` lists the webhooks and
    /// `kubectl get endpoints -n <ns> <service>` shows whether the webhook has pods behind it.
    ///
    /// ### Fix
    /// For a denial, change the pod template to satisfy the policy the message names. For a
    /// failed call, bring the webhook's pods back, open the port from the control plane to
    /// the nodes, fix the caBundle, or delete the configuration left behind by an uninstalled
    /// product.
    ///
    /// ### Prevention
    /// Run policy checks in CI (`gator`, `kyverno apply`); give webhooks several replicas, a
    /// PodDisruptionBudget and a namespaceSelector that excludes their own namespace.
    ///
    /// ### Example
    /// `admission webhook "validation.gatekeeper.sh" denied the request: [userpodlimits]
    /// container <cudasample> has no cpu limit`.
    pub static META = {
        id: "KS0405",
        name: "admission-webhook-failed",
        cause: Cause::AdmissionWebhook,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "an admission webhook denies the workload's pods or cannot be called",
    }
}

pub struct AdmissionWebhookFailed;

/// A webhook as its configuration declares it.
#[derive(Debug, Clone)]
pub struct WebhookConfig<'a> {
    pub obj: &'a DynObject,
    /// `(namespace, name, port)` of its Service.
    pub service: Option<(String, String, Option<i64>)>,
    pub url: Option<String>,
    pub failure_policy: Option<String>,
}

impl WebhookConfig<'_> {
    pub fn describe(&self, webhook: &str) -> String {
        let target = match (&self.service, &self.url) {
            (Some((ns, name, port)), _) => match port {
                Some(p) => format!("service {ns}/{name}:{p}"),
                None => format!("service {ns}/{name}"),
            },
            (None, Some(u)) => format!("url {u}"),
            _ => "no target".to_string(),
        };
        format!(
            "{} {}: webhook {webhook} -> {target}, failurePolicy {}",
            self.obj.kind,
            self.obj.name(),
            self.failure_policy.as_deref().unwrap_or("Fail")
        )
    }
}

/// The (validating or mutating) webhook configuration that declares `webhook`.
pub fn find_config<'a>(ev: &'a Evidence, webhook: &str) -> Option<WebhookConfig<'a>> {
    ev.other
        .iter()
        .filter(|o| o.kind == "ValidatingWebhookConfiguration" || o.kind == "MutatingWebhookConfiguration")
        .find_map(|o| {
            let hooks = o.value.get("webhooks")?.as_array()?;
            let h = hooks.iter().find(|h| h.get("name").and_then(|n| n.as_str()) == Some(webhook))?;
            let cc = h.get("clientConfig");
            let service = cc.and_then(|c| c.get("service")).map(|s| {
                let g = |k: &str| s.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                (g("namespace"), g("name"), s.get("port").and_then(|p| p.as_i64()))
            });
            let url = cc.and_then(|c| c.get("url")).and_then(|u| u.as_str()).map(str::to_string);
            let failure_policy = h.get("failurePolicy").and_then(|v| v.as_str()).map(str::to_string);
            Some(WebhookConfig { obj: o, service, url, failure_policy })
        })
}

/// Why the API server could not get an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallError {
    Timeout,
    Refused,
    NoEndpoints,
    Tls,
    ServiceMissing,
    Dns,
    Other,
}

pub fn classify(detail: &str) -> CallError {
    let d = detail.to_ascii_lowercase();
    if d.contains("no endpoints available") {
        CallError::NoEndpoints
    } else if d.contains("x509:") || d.contains("certificate") || d.contains("tls:") {
        CallError::Tls
    } else if d.contains("i/o timeout") || d.contains("deadline exceeded") || d.contains("timeout awaiting") {
        CallError::Timeout
    } else if d.contains("connection refused") {
        CallError::Refused
    } else if d.contains("service \"") && d.contains("not found") {
        CallError::ServiceMissing
    } else if d.contains("no such host") {
        CallError::Dns
    } else {
        CallError::Other
    }
}

impl CallError {
    pub fn explain(self) -> &'static str {
        match self {
            CallError::Timeout => {
                "the call timed out: the control plane cannot reach the webhook's pods (a firewall that lets the API server reach nodes only on 443 and 10250, as in GKE private clusters, or a NetworkPolicy), or the webhook is too slow"
            }
            CallError::Refused => {
                "nothing accepts the connection: the webhook's pods are down or the Service targets the wrong port"
            }
            CallError::NoEndpoints => "the webhook's Service has no ready pods behind it",
            CallError::Tls => {
                "TLS fails: the caBundle in the webhook configuration does not match the certificate the webhook serves"
            }
            CallError::ServiceMissing => {
                "the webhook's Service does not exist: the product was removed and its webhook configuration left behind"
            }
            CallError::Dns => "the webhook's host name does not resolve",
            CallError::Other => "the call fails",
        }
    }
}

/// `host.ns.svc` and `ip:port` named in a failed call.
pub fn call_target(detail: &str) -> (Option<(String, String)>, Option<String>) {
    let svc = detail.split(['/', '"', ' ']).find_map(|part| {
        let host = part.split(':').next()?;
        let mut it = host.split('.');
        let (name, ns, svc) = (it.next()?, it.next()?, it.next()?);
        (svc == "svc" && !name.is_empty() && !ns.is_empty()).then(|| (ns.to_string(), name.to_string()))
    });
    let dial = detail.find("dial tcp ").map(|p| {
        detail[p + 9..].split([':', ' ']).take(2).collect::<Vec<_>>().join(":").trim_end_matches(':').to_string()
    });
    (svc, dial)
}

/// `Service ns/name has no ready endpoints` when the snapshot shows it.
pub fn service_state(ev: &Evidence, ns: &str, name: &str) -> Option<EvidenceItem> {
    let obj = ObjectRef::new("Service", Some(ns), name);
    if ev.has_collected("Service") && ev.service(ns, name).is_none() {
        return Some(EvidenceItem::new(
            EvidenceSource::Status,
            format!("Service {ns}/{name} does not exist"),
            Some(obj),
        ));
    }
    let &i = ev.index.endpoints.get(&(ns.to_string(), name.to_string()))?;
    let ready: usize = ev.endpoints[i].subsets.iter().flatten().map(|s| s.addresses.as_ref().map_or(0, Vec::len)).sum();
    let text = if ready == 0 {
        format!("Service {ns}/{name} has no ready endpoints")
    } else {
        format!("Service {ns}/{name} has {ready} ready endpoint{}", if ready == 1 { "" } else { "s" })
    };
    Some(EvidenceItem::new(EvidenceSource::Status, text, Some(obj)))
}

/// The fixes for a failed call that apply to any webhook.
pub fn call_fixes(
    webhook: &str,
    cfg: Option<&WebhookConfig<'_>>,
    err: CallError,
    svc: Option<&(String, String)>,
    port: Option<&str>,
    selector: Option<&str>,
) -> Vec<Fix> {
    let mut fixes = Vec::new();
    let check = svc.map(|(ns, name)| {
        let pods = match selector {
            Some(sel) => format!("kubectl -n {ns} get pods -l {sel} -o wide"),
            None => format!("kubectl -n {ns} get pods -o wide"),
        };
        Fix::cmd(
            format!("Check that the webhook's Service {ns}/{name} has ready pods"),
            format!("kubectl -n {ns} get endpoints {name} && {pods}"),
        )
    });
    // A timeout is usually the network path: say that first.
    if err != CallError::Timeout {
        fixes.extend(check.clone());
    }
    match err {
        CallError::Timeout => {
            let port = port.unwrap_or("<webhook target port>");
            fixes.push(Fix::text(format!(
                "Allow the control plane to reach the nodes on TCP {port} (the webhook pod's port): on GKE private clusters add it to the master-to-node firewall rule, e.g. `gcloud compute firewall-rules update <gke-master-rule> --allow tcp:10250,tcp:443,tcp:{port}`; check NetworkPolicies in the webhook's namespace"
            )));
        }
        CallError::Tls => fixes.push(Fix::text(
            "Re-issue the webhook certificate and update the configuration's caBundle (with cert-manager, check the cainjector and the Certificate behind the webhook)",
        )),
        _ => {}
    }
    if err == CallError::Timeout {
        fixes.extend(check);
    }
    if let Some(cfg) = cfg {
        let kind = cfg.obj.kind.to_ascii_lowercase();
        fixes.push(Fix::cmd(
            format!("See how {webhook} is declared (service, failurePolicy, namespaceSelector, timeoutSeconds)"),
            format!("kubectl get {kind} {} -o yaml", cfg.obj.name()),
        ));
        if err == CallError::ServiceMissing || err == CallError::NoEndpoints {
            fixes.push(Fix::cmd(
                format!(
                    "If the product behind {webhook} was uninstalled, delete the configuration it left behind (otherwise restore its pods)"
                ),
                format!("kubectl delete {kind} {}", cfg.obj.name()),
            ));
        }
    } else {
        fixes.push(Fix::cmd(
            format!("Find the configuration that declares {webhook}"),
            format!(
                "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations -o custom-columns=NAME:.metadata.name,WEBHOOKS:.webhooks[*].name | grep -F {webhook}"
            ),
        ));
    }
    fixes
}

impl Rule for AdmissionWebhookFailed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for fl in super::create_failures(cx).iter().filter(|f| f.sig.cause == Cause::AdmissionWebhook) {
            let webhook = fl.get("webhook").to_string();
            // Sidecar injectors are KS0406's: one event, one finding.
            if super::injectors::by_webhook(&webhook).is_some() {
                continue;
            }
            let w = fl.workload.clone();
            let detail = fl.get("detail").to_string();
            let cfg = find_config(ev, &webhook);
            let mut evidence = fl.evidence.clone();
            if let Some(c) = &cfg {
                evidence.push(EvidenceItem::new(EvidenceSource::Spec, c.describe(&webhook), Some(c.obj.object_ref())));
            }
            let (title, root, fixes) = if fl.sig.id == "admission-webhook-denied" {
                let policy = if detail.is_empty() { "no reason given".to_string() } else { detail.clone() };
                let immutable = if matches!(w.kind.as_str(), "Job" | "Pod") {
                    format!(" (a {}'s pod template cannot be changed: delete it and create it again)", w.kind)
                } else {
                    String::new()
                };
                let mut fixes = vec![Fix::text(format!(
                    "Change the pod template of {} {} to satisfy the policy{immutable}: {}",
                    w.kind,
                    w.name,
                    first_line(&policy)
                ))];
                let lw = webhook.to_ascii_lowercase();
                if lw.contains("gatekeeper") {
                    let constraint =
                        detail.strip_prefix('[').and_then(|d| d.split_once(']')).map(|(c, _)| c.to_string());
                    fixes.push(Fix::cmd(
                        "See the Gatekeeper constraint that denies it",
                        match constraint {
                            Some(c) => format!("kubectl get constraints -o wide | grep -F {c}"),
                            None => "kubectl get constraints -o wide".to_string(),
                        },
                    ));
                } else if lw.contains("kyverno") {
                    fixes.push(Fix::cmd(
                        "See the Kyverno policies and reports for the namespace",
                        format!("kubectl get clusterpolicies,policies -A && kubectl -n {} get policyreports", fl.ns()),
                    ));
                } else {
                    fixes.push(Fix::cmd(
                        format!("Find the configuration that declares {webhook}"),
                        format!(
                            "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations -o custom-columns=NAME:.metadata.name,WEBHOOKS:.webhooks[*].name | grep -F {webhook}"
                        ),
                    ));
                }
                (
                    format!("Admission webhook {webhook} denies the pods of {} {}", w.kind, w.name),
                    format!(
                        "The admission webhook {webhook} refuses every pod {} {} tries to create{}: {}",
                        w.kind,
                        w.name,
                        super::replicas_phrase(fl),
                        first_line(&policy)
                    ),
                    fixes,
                )
            } else {
                let err = classify(&detail);
                let (svc_in_msg, dial) = call_target(&detail);
                let svc = cfg
                    .as_ref()
                    .and_then(|c| c.service.as_ref())
                    .map(|(n, s, _)| (n.clone(), s.clone()))
                    .or(svc_in_msg);
                if let Some(e) = svc.as_ref().and_then(|(n, s)| service_state(ev, n, s)) {
                    evidence.push(e);
                }
                let port = dial.as_deref().and_then(|d| d.rsplit(':').next()).map(str::to_string);
                let policy = cfg.as_ref().and_then(|c| c.failure_policy.clone()).unwrap_or_else(|| "Fail".to_string());
                let fixes = call_fixes(&webhook, cfg.as_ref(), err, svc.as_ref(), port.as_deref(), None);
                let target = svc.as_ref().map(|(n, s)| format!(" (Service {n}/{s})")).unwrap_or_default();
                (
                    format!("Admission webhook {webhook} cannot be called: {} {} cannot create pods", w.kind, w.name),
                    format!(
                        "The API server must call the webhook {webhook}{target} for every pod {} {} creates and, with failurePolicy {policy}, refuses the pod when the call fails{}; {}.",
                        w.kind,
                        w.name,
                        super::replicas_phrase(fl),
                        err.explain()
                    ),
                    fixes,
                )
            };
            let mut f = util::finding(&META, w, title, root);
            f.evidence = evidence;
            f.fix = fixes;
            f.root_key = format!("webhook:{webhook}");
            out.push(f);
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_call_target_and_the_error() {
        let d =
            r#"Post https://istiod.istio-system.svc:443/inject?timeout=30s: dial tcp 10.228.0.5:15017: i/o timeout"#;
        let (svc, dial) = call_target(d);
        assert_eq!(svc, Some(("istio-system".to_string(), "istiod".to_string())));
        assert_eq!(dial.as_deref(), Some("10.228.0.5:15017"));
        assert_eq!(classify(d), CallError::Timeout);
        assert_eq!(
            classify(
                r#"failed to call webhook: Post "https://k.kyverno.svc:443/x": no endpoints available for service "kyverno-svc""#
            ),
            CallError::NoEndpoints
        );
        assert_eq!(
            classify(r#"Post "https://x.y.svc:443/": x509: certificate signed by unknown authority"#),
            CallError::Tls
        );
        assert_eq!(
            classify(r#"failed to call webhook: service "gatekeeper-webhook-service" not found"#),
            CallError::ServiceMissing
        );
    }
}
