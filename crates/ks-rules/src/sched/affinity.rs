use std::collections::{BTreeMap, BTreeSet};

use ks_core::k8s_openapi::api::core::v1::{NodeSelectorRequirement, Pod};
use ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{node_labels, node_name, requirement_text};
use crate::facts::{PendingPod, pod_ref};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Pods the scheduler cannot place because their `nodeSelector` or required node
    /// affinity matches no node (`node(s) didn't match Pod's node affinity/selector`,
    /// `node(s) didn't match node selector`), or their required pod (anti-)affinity or
    /// topology spread constraints cannot be met. It shows the selector and the labels the
    /// nodes really carry.
    ///
    /// ### Why it breaks
    /// A required selector is a hard filter: a label that no node carries (a typo, a chart
    /// default such as `application/clickhouse=true`, a node pool that was replaced) leaves
    /// the pod Pending. Required anti-affinity on `kubernetes.io/hostname` allows one replica
    /// per node, so more replicas than nodes never schedule.
    ///
    /// ### How to confirm
    /// `kubectl get pod <pod> -o jsonpath='{.spec.nodeSelector}{.spec.affinity}'` shows the
    /// constraint; `kubectl get nodes -L <label-key>` shows which nodes carry the label.
    ///
    /// ### Fix
    /// Label the nodes that should run the pod (`kubectl label node <node> key=value`),
    /// correct or remove the selector in the workload (or the chart values that render it),
    /// or turn required anti-affinity into `preferredDuringSchedulingIgnoredDuringExecution`.
    ///
    /// ### Prevention
    /// Keep node labels and workload selectors in one place (node pool definition and chart
    /// values reviewed together); prefer soft affinity unless a hard rule is really needed.
    ///
    /// ### Example
    /// `0/6 nodes are available: 6 node(s) didn't match node selector.` for a ClickHouse pod
    /// requiring `application/clickhouse=true`, a label no node has.
    pub static META = {
        id: "KS0503",
        name: "node-affinity-mismatch",
        cause: Cause::SchedAffinity,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the pod's node selector or (anti-)affinity matches no node",
    }
}

pub struct NodeAffinityMismatch;

impl Rule for NodeAffinityMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pending_findings(cx, &META, Cause::SchedAffinity, out, |p, f| explain(cx, p, f));
    }
}

/// JSON-pointer escaping of a map key (`/` and `~`).
fn pointer_key(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

fn selector_text(s: &LabelSelector) -> String {
    let mut parts: Vec<String> = s.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    for e in s.match_expressions.iter().flatten() {
        let vals = e.values.as_deref().unwrap_or_default();
        parts.push(if vals.is_empty() {
            format!("{} {}", e.key, e.operator)
        } else {
            format!("{} {} ({})", e.key, e.operator, vals.join(", "))
        });
    }
    parts.join(", ")
}

/// The required node-affinity requirements, one list per ORed selector term.
fn required_terms(pod: &Pod) -> Vec<Vec<NodeSelectorRequirement>> {
    pod.spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref())
        .map(|r| r.node_selector_terms.iter().map(|t| t.match_expressions.clone().unwrap_or_default()).collect())
        .unwrap_or_default()
}

fn explain(cx: &Context<'_>, p: &PendingPod, f: &mut Finding) {
    let ev = cx.ev;
    let pod = &ev.pods[p.pod];
    let w = f.object.clone();
    let (ns, pod_name) = util::pod_names(ev, p.pod);
    let reasons: Vec<&str> = p
        .entries
        .iter()
        .map(|(_, r)| r.as_str())
        .filter(|r| crate::signatures::sched::MATCHER.first(r).is_some_and(|m| m.sig.cause == Cause::SchedAffinity))
        .collect();
    let pod_level = reasons.iter().any(|r| r.contains("pod affinity") || r.contains("anti-affinity"));
    let spread = reasons.iter().any(|r| r.contains("topology spread"));
    let node_level = reasons.is_empty()
        || reasons.iter().any(|r| {
            r.contains("node affinity")
                || r.contains("node selector")
                || r.contains("node name")
                || r.contains("hostname")
        });

    let selector: BTreeMap<String, String> =
        pod.spec.as_ref().and_then(|s| s.node_selector.clone()).unwrap_or_default();
    let terms = required_terms(pod);
    let mut fixes = Vec::new();

    if node_level && (!selector.is_empty() || !terms.is_empty()) {
        // Which labels exist on the nodes, for each key the pod asks about.
        let mut keys: BTreeSet<String> = selector.keys().cloned().collect();
        keys.extend(terms.iter().flatten().map(|r| r.key.clone()));
        if !selector.is_empty() {
            let text: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("nodeSelector: {}", text.join(", ")),
                Some(pod_ref(pod)),
            ));
        }
        for (i, t) in terms.iter().enumerate() {
            let text: Vec<String> = t.iter().map(requirement_text).collect();
            let or = if terms.len() > 1 {
                format!(" (term {} of {}, any may match)", i + 1, terms.len())
            } else {
                String::new()
            };
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("required node affinity{or}: {}", text.join(" and ")),
                Some(pod_ref(pod)),
            ));
        }
        let mut missing = Vec::new();
        let mut label_facts = Vec::new();
        if !ev.nodes.is_empty() {
            for k in &keys {
                let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for n in &ev.nodes {
                    if let Some(v) = node_labels(n).get(k) {
                        values.entry(v.clone()).or_default().push(node_name(n).to_string());
                    }
                }
                if values.is_empty() {
                    missing.push(k.clone());
                    label_facts.push(format!("no node has label {k}"));
                } else {
                    let vals: Vec<String> =
                        values.iter().map(|(v, ns)| format!("{k}={v} on {}", util::join_names(ns))).collect();
                    label_facts.push(vals.join("; "));
                }
            }
            for l in &label_facts {
                f.evidence.push(EvidenceItem::new(EvidenceSource::Node, l.clone(), None));
            }
        }
        let wanted: Vec<String> = selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .chain(terms.first().into_iter().flatten().map(requirement_text))
            .collect();
        f.title = if missing.len() == 1 {
            format!("No node carries the label {} the pod requires", missing[0])
        } else {
            format!("No node matches the pod's node selector {}", wanted.join(", "))
        };
        let nodes_sentence = if ev.nodes.is_empty() {
            String::new()
        } else if missing.is_empty() {
            format!(" The nodes carry: {}.", label_facts.join("; "))
        } else {
            format!(" None of the {} nodes has the label {}.", ev.nodes.len(), util::join_names(&missing))
        };
        f.root_cause = format!(
            "Pod {pod_name} may only run on nodes with {}, and no node qualifies.{nodes_sentence}",
            wanted.join(" and ")
        );
        f.root_key = format!("node-selector:{}", wanted.join(","));
        // Fix 1: label a node that could take the pod.
        let candidate = ev.nodes.iter().find(|n| super::untolerated(pod, n).is_empty()).or(ev.nodes.first());
        let node = candidate.map(node_name).unwrap_or("<node>");
        let labels: Vec<String> = selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .chain(terms.first().into_iter().flatten().filter_map(|r| {
                match (r.operator.as_str(), r.values.as_deref()) {
                    ("In", Some([v, ..])) => Some(format!("{}={v}", r.key)),
                    ("Exists", _) => Some(format!("{}=true", r.key)),
                    _ => None,
                }
            }))
            .collect();
        if !labels.is_empty() {
            fixes.push(Fix::cmd(
                format!("If {node} should run it, give it the label{}", if labels.len() == 1 { "" } else { "s" }),
                format!("kubectl label node {node} {} --overwrite", labels.join(" ")),
            ));
        }
        // Fix 2: point the selector at a value that exists, or drop it.
        for (k, v) in &selector {
            let existing: BTreeSet<String> = ev.nodes.iter().filter_map(|n| node_labels(n).get(k).cloned()).collect();
            if let Some(e) = existing.iter().next().filter(|e| *e != v)
                && let Some(c) = super::template_patch(
                    ev,
                    &w,
                    "replace",
                    &format!("nodeSelector/{}", pointer_key(k)),
                    Some(&format!("\"{e}\"")),
                )
            {
                fixes.push(Fix::cmd(format!("Or select the value the nodes carry ({k}={e})"), c));
            }
        }
        if !selector.is_empty()
            && let Some(c) = super::template_patch(ev, &w, "remove", "nodeSelector", None)
        {
            fixes.push(Fix::cmd(format!("Or drop the nodeSelector from {}", w.kubectl_ref()), c));
        }
        if !terms.is_empty()
            && let Some(c) = super::template_patch(ev, &w, "remove", "affinity/nodeAffinity", None)
        {
            fixes.push(Fix::cmd(format!("Or drop the required node affinity from {}", w.kubectl_ref()), c));
        }
        if is_helm(pod) {
            fixes.push(Fix::text(
                "The workload is rendered by Helm: change nodeSelector/affinity in the chart values as well, or the next upgrade puts it back",
            ));
        }
    } else if pod_level {
        let aff = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
        let anti: Vec<String> = aff
            .and_then(|a| a.pod_anti_affinity.as_ref())
            .and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())
            .into_iter()
            .flatten()
            .map(|t| {
                format!(
                    "no two pods matching {} share a {}",
                    t.label_selector.as_ref().map(selector_text).unwrap_or_default(),
                    t.topology_key
                )
            })
            .collect();
        let with: Vec<String> = aff
            .and_then(|a| a.pod_affinity.as_ref())
            .and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())
            .into_iter()
            .flatten()
            .map(|t| {
                format!(
                    "run in the same {} as pods matching {}",
                    t.topology_key,
                    t.label_selector.as_ref().map(selector_text).unwrap_or_default()
                )
            })
            .collect();
        for t in anti.iter().chain(with.iter()) {
            f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, format!("required: {t}"), Some(pod_ref(pod))));
        }
        let replicas = ev.index.pods_by_workload.get(&w).map(|v| v.len()).unwrap_or(1);
        let nodes = ev.nodes.len();
        if !anti.is_empty() || reasons.iter().any(|r| r.contains("anti-affinity")) {
            f.title = "Required pod anti-affinity leaves no node for the pod".to_string();
            f.root_cause = format!(
                "Pod {pod_name} must not share {} with the pods its anti-affinity names, and every node already runs one{}.",
                if anti.iter().any(|a| a.contains("kubernetes.io/hostname")) { "a node" } else { "a topology domain" },
                if nodes > 0 {
                    format!(" ({replicas} pods of {} for {nodes} nodes)", w.kubectl_ref())
                } else {
                    String::new()
                }
            );
            f.root_key = format!("anti-affinity:{}", w.qualified_name());
            if nodes > 0 && matches!(w.kind.as_str(), "Deployment" | "StatefulSet") {
                fixes.push(Fix::cmd(
                    format!("Run no more replicas than there are nodes ({nodes})"),
                    format!("kubectl {}scale {} --replicas={nodes}", w.ns_flag(), w.kubectl_ref()),
                ));
            }
            fixes.push(Fix::text(
                "Or make the rule soft: move the term to preferredDuringSchedulingIgnoredDuringExecution, or add nodes",
            ));
        } else {
            f.title = "Required pod affinity matches no node".to_string();
            f.root_cause = format!(
                "Pod {pod_name} must {}, and no node runs such pods (or those nodes are excluded).",
                with.first().cloned().unwrap_or_else(|| "run next to other pods".to_string())
            );
            f.root_key = format!("pod-affinity:{}", w.qualified_name());
            fixes.push(Fix::cmd(
                "Check that the pods the affinity names exist and are running",
                format!("kubectl {}get pods -o wide --show-labels", util::ns_flag(ns)),
            ));
            fixes.push(Fix::text(
                "Or make the rule soft: move the term to preferredDuringSchedulingIgnoredDuringExecution",
            ));
        }
    } else if spread {
        let constraints: Vec<String> = pod
            .spec
            .iter()
            .flat_map(|s| s.topology_spread_constraints.iter().flatten())
            .map(|c| format!("maxSkew {} over {} ({})", c.max_skew, c.topology_key, c.when_unsatisfiable))
            .collect();
        for c in &constraints {
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("topologySpreadConstraint: {c}"),
                Some(pod_ref(pod)),
            ));
        }
        let missing_label = reasons.iter().any(|r| r.contains("missing required label"));
        f.title = "Topology spread constraints leave no node for the pod".to_string();
        f.root_cause = format!(
            "Pod {pod_name} has a DoNotSchedule topology spread constraint that no node can satisfy{}.",
            if missing_label { ": the nodes lack the topology key label" } else { " without exceeding maxSkew" }
        );
        f.root_key = format!("topology-spread:{}", w.qualified_name());
        fixes.push(Fix::text(
            "Set whenUnsatisfiable: ScheduleAnyway, raise maxSkew, or add nodes in the under-filled topology domains",
        ));
    } else {
        let text = reasons.first().copied().unwrap_or("the node affinity");
        f.title = format!("No node satisfies the pod's placement constraints ({text})");
        f.root_cause = format!(
            "The scheduler reports that {text} for pod {pod_name}; the pod's spec in the evidence carries no nodeSelector or required affinity to compare."
        );
        f.root_key = format!("affinity:{}", w.qualified_name());
        fixes.push(Fix::cmd(
            "See the pod's placement constraints",
            format!(
                "kubectl {}get pod {pod_name} -o jsonpath='{{.spec.nodeSelector}}{{.spec.affinity}}{{.spec.nodeName}}'",
                util::ns_flag(ns)
            ),
        ));
    }
    f.root_cause.push_str(&super::other_entries(p, Cause::SchedAffinity));
    f.fix = fixes;
}

fn is_helm(pod: &Pod) -> bool {
    pod.metadata.labels.as_ref().is_some_and(|l| {
        l.get("app.kubernetes.io/managed-by").or_else(|| l.get("heritage")).is_some_and(|v| v == "Helm")
    })
}
