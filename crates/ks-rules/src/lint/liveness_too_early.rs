use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};
use serde_json::Value;

use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A container with a liveness probe, no startup probe, and a start-up budget under 10
    /// seconds: `initialDelaySeconds + failureThreshold × periodSeconds < 10` (defaults 0,
    /// 3 and 10 give 30 s, so only probes tuned down are reported).
    ///
    /// ### Why it breaks
    /// The liveness probe starts counting as soon as its initial delay ends. A container
    /// that needs longer than the budget to open its port — a JVM, a Python app importing
    /// a large framework, anything that migrates or warms a cache at start, or any app on a
    /// busy node — is killed before it ever answers, restarted, killed again, and ends in
    /// CrashLoopBackOff with `Liveness probe failed: … connection refused` although nothing
    /// is wrong with it.
    ///
    /// ### How to confirm
    /// `kubectl describe pod POD` shows `Liveness probe failed` events a few seconds after
    /// each start and `Last State: Terminated, Reason: Error/Completed, Exit Code: 137`;
    /// the container's log stops in the middle of its start-up.
    ///
    /// ### Fix
    /// Add a `startupProbe` with the same check and a generous budget (`failureThreshold:
    /// 30`, `periodSeconds: 2` allows 60 s); the liveness probe only starts after it
    /// succeeds. Or raise `initialDelaySeconds`.
    ///
    /// ### Prevention
    /// Measure the slowest start-up (cold node, image not cached) and give every
    /// container that has a liveness probe a startup probe covering it.
    ///
    /// ### Example
    /// `livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 2,
    /// failureThreshold: 3}` on a Spring Boot service that takes 25 s to start.
    pub static META = {
        id: "KS1210",
        name: "liveness-too-early",
        cause: Cause::CrashProbe,
        severity: Severity::Info,
        kind: RuleKind::Static,
        summary: "a liveness probe without a startup probe kills a container that is not up within 10 seconds",
    }
}

pub struct LivenessTooEarly;

/// Below this many seconds of start-up budget the rule speaks up.
const MIN_BUDGET: i64 = 10;

/// `initialDelaySeconds + failureThreshold × periodSeconds` with the API defaults.
pub fn budget(probe: &Value) -> i64 {
    let n = |k: &str, d: i64| probe[k].as_i64().unwrap_or(d);
    n("initialDelaySeconds", 0) + n("failureThreshold", 3) * n("periodSeconds", 10)
}

impl Rule for LivenessTooEarly {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for tpl in cx.pod_templates() {
            let doc = tpl.doc;
            for c in tpl.containers().into_iter().filter(|c| c.runs_with_app()) {
                let live = &c.value["livenessProbe"];
                if !live.is_object() || c.value["startupProbe"].is_object() {
                    continue;
                }
                let secs = budget(live);
                if secs >= MIN_BUDGET {
                    continue;
                }
                let n = |k: &str, d: i64| live[k].as_i64().unwrap_or(d);
                let (delay, threshold, period) =
                    (n("initialDelaySeconds", 0), n("failureThreshold", 3), n("periodSeconds", 10));
                let at = if live.get("initialDelaySeconds").is_some() {
                    c.field("livenessProbe").key("initialDelaySeconds")
                } else {
                    c.field("livenessProbe")
                };
                let mut f = doc_finding(
                    &META,
                    doc,
                    &at,
                    format!(
                        "Liveness probe of container {} in {} kills it unless it is up within {secs} s",
                        c.name,
                        doc_name(doc)
                    ),
                    format!(
                        "Container {} has a liveness probe (initialDelaySeconds {delay}, failureThreshold {threshold} × periodSeconds {period} = {secs} s) and no startupProbe: if it takes longer than {secs} s to start (a cold node, an uncached image, a slow runtime), the kubelet kills it before it answers, over and over (CrashLoopBackOff).",
                        c.name
                    ),
                );
                let mut startup = live.clone();
                if let Some(m) = startup.as_object_mut() {
                    m.remove("initialDelaySeconds");
                    m.remove("successThreshold");
                    m.insert("periodSeconds".into(), 2.into());
                    m.insert("failureThreshold".into(), 30.into());
                }
                f.fix.push(Fix::text(format!(
                    "In {}, add a startup probe with the same check next to the liveness probe (60 s to start; liveness begins after it succeeds), in {}:\n{}",
                    doc.file,
                    c.path(),
                    super::pod_templates::yaml_block(&serde_json::json!({ "startupProbe": startup }), 0)
                )));
                f.fix.push(Fix::text(format!(
                    "or raise initialDelaySeconds of the liveness probe above the slowest start-up you have measured (currently {delay})"
                )));
                f.root_key = format!("KS1210:{}:{}", doc.key_string(), c.name);
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn budget_uses_api_defaults() {
        assert_eq!(budget(&json!({"httpGet": {"port": 80}})), 30);
        assert_eq!(budget(&json!({"periodSeconds": 2})), 6);
        assert_eq!(budget(&json!({"initialDelaySeconds": 5, "periodSeconds": 1, "failureThreshold": 3})), 8);
        assert_eq!(budget(&json!({"initialDelaySeconds": 10, "periodSeconds": 1, "failureThreshold": 1})), 11);
    }
}
