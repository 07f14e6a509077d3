use std::collections::HashSet;
use std::sync::LazyLock;

use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};

use super::pod_templates::ContainerAt;
use super::{doc_finding, doc_name};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers that request no CPU and no memory: no `resources.requests` and no
    /// `resources.limits` (a limit alone sets the request to the same value), in a
    /// namespace without a LimitRange in the lint run that gives containers default
    /// requests.
    ///
    /// ### Why it breaks
    /// The scheduler places pods by their requests, so a container without any is
    /// counted as needing nothing: nodes get packed beyond what they can run. Under memory
    /// pressure the kubelet evicts BestEffort pods (no requests or limits in any container)
    /// first and the kernel's OOM killer picks them first, so these pods are the ones that
    /// disappear when a neighbour grows. The cause code is `node.eviction` because that is
    /// how the failure shows: the pod always schedules (so not
    /// `sched.insufficient_resources`), and it has no limit to exceed (so not `crash.oom`).
    ///
    /// ### How to confirm
    /// `kubectl get pod POD -o jsonpath='{.status.qosClass}'` prints `BestEffort`;
    /// `kubectl describe node NODE` shows the node's `Allocated resources` far below its
    /// real use.
    ///
    /// ### Fix
    /// Set `resources.requests` for cpu and memory to the container's normal use (from
    /// `kubectl top pod --containers` or your metrics), and a memory limit.
    ///
    /// ### Prevention
    /// Require requests in CI (this rule), or give each namespace a LimitRange with
    /// `defaultRequest`.
    ///
    /// ### Example
    /// `containers: [{name: web, image: shop/web:1.4}]` with no `resources` block.
    pub static META = {
        id: "KS1208",
        name: "no-resource-requests",
        cause: Cause::NodeEviction,
        severity: Severity::Info,
        kind: RuleKind::Static,
        summary: "containers request no cpu or memory, so the scheduler counts them as free and evicts them first",
    }
}

pub struct NoResourceRequests;

/// The resources block the fix suggests, the same in every finding.
static EXAMPLE: LazyLock<String> = LazyLock::new(|| {
    let example = serde_json::json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}});
    super::pod_templates::yaml_block(&serde_json::json!({ "resources": example }), 0)
});

/// Whether a container asks for cpu or memory (a limit sets the request when it is absent).
fn requests_something(c: &ContainerAt<'_>) -> bool {
    let r = &c.value["resources"];
    ["requests", "limits"].iter().any(|k| ["cpu", "memory"].iter().any(|res| !r[k][res].is_null()))
}

/// The namespaces (`None`: left to the apply) whose LimitRange in the lint run gives
/// containers default requests or limits.
fn namespaces_with_defaults<'a>(cx: &Context<'a>) -> HashSet<Option<&'a str>> {
    cx.ev
        .manifests
        .iter()
        .filter(|d| d.kind == "LimitRange")
        .filter(|d| {
            d.value["spec"]["limits"].as_array().is_some_and(|ls| {
                ls.iter().any(|l| {
                    l["type"].as_str() == Some("Container")
                        && (l["defaultRequest"].is_object() || l["default"].is_object())
                })
            })
        })
        .map(|d| d.namespace.as_deref())
        .collect()
}

impl Rule for NoResourceRequests {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        let defaults = namespaces_with_defaults(cx);
        for tpl in cx.pod_templates() {
            let doc = tpl.doc;
            if defaults.contains(&doc.namespace.as_deref()) {
                continue;
            }
            let containers: Vec<ContainerAt<'_>> = tpl.containers().into_iter().filter(|c| c.runs_with_app()).collect();
            let bare: Vec<&ContainerAt<'_>> = containers.iter().filter(|c| !requests_something(c)).collect();
            let Some(first) = bare.first() else { continue };
            let names: Vec<&str> = bare.iter().map(|c| c.name).collect();
            let best_effort = bare.len() == containers.len();
            let at = if first.value.get("resources").is_some() { first.field("resources") } else { first.path() };
            let mut f = doc_finding(
                &META,
                doc,
                &at,
                format!(
                    "{} {} no cpu or memory requests",
                    if names.len() == 1 {
                        format!("Container {}", names[0])
                    } else {
                        format!("Containers {}", util::join_names(&names))
                    },
                    if names.len() == 1 {
                        format!("of {} has", doc_name(doc))
                    } else {
                        format!("of {} have", doc_name(doc))
                    },
                ),
                format!(
                    "The scheduler counts {} as needing nothing, so nodes fill beyond what they can run{}.",
                    util::join_names(&names),
                    if best_effort {
                        "; with no requests or limits in any container the pods are BestEffort, the first the kubelet evicts (and the kernel OOM-kills) under memory pressure"
                    } else {
                        "; under memory pressure these containers are the first the kernel OOM-kills in their pods"
                    }
                ),
            );
            f.fix.push(Fix::text(format!(
                "In {}, give each of {} a resources block sized from its real use (`kubectl top pod --containers`), e.g. in {}:\n{}",
                doc.file,
                util::join_names(&names),
                first.path(),
                *EXAMPLE
            )));
            // `kubectl set resources` handles these kinds; a Pod's resources cannot be changed.
            let settable = matches!(
                doc.kind.as_str(),
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController"
            );
            if settable {
                f.fix.push(Fix::cmd(
                    "or set them on the live object until the manifest is applied",
                    format!(
                        "kubectl {}set resources {} -c {} --requests=cpu=100m,memory=128Mi --limits=memory=256Mi",
                        tpl.ns_flag(),
                        tpl.kubectl_ref(),
                        first.name
                    ),
                ));
            }
            f.root_key = format!("KS1208:{}", doc.key_string());
            out.push(f);
        }
    }
}
