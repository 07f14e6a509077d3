use std::collections::{BTreeMap, BTreeSet};

use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::{EVICTION_MATCHER, eviction_usage, node_ref};
use crate::facts::pod_ref;
use crate::sched::{format_quantity, quantity};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Pods the kubelet evicted (`status.reason: Evicted`), grouped per node and per resource
    /// the node ran low on (`The node was low on resource: ephemeral-storage.`) and naming
    /// the workloads that lost pods, or per workload when the pods exceeded their own
    /// ephemeral-storage limit. It quotes which container used how much against its
    /// request, and gives the cleanup command for the Failed pods evictions leave behind.
    ///
    /// ### Why it breaks
    /// When a node runs short of memory, disk or PIDs, the kubelet evicts pods, first those
    /// using the most above their requests; a container with no ephemeral-storage request
    /// that writes logs or scratch data is first in line on a small disk. Controllers replace
    /// the pods, often onto the same pressured nodes, and the evicted ones stay listed as
    /// Failed until deleted.
    ///
    /// ### How to confirm
    /// `kubectl get pods -A --field-selector status.phase=Failed` lists them;
    /// `kubectl get pod <pod> -o jsonpath='{.status.message}'` names the resource and the
    /// container; `kubectl describe node` shows the pressure condition.
    ///
    /// ### Fix
    /// Give the container requests (and limits) for the resource it really uses, give the
    /// nodes more disk or memory, then delete the evicted pods.
    ///
    /// ### Prevention
    /// Set ephemeral-storage and memory requests on every container; size node disks for
    /// images, logs and emptyDir use; set `ttlSecondsAfterFinished` on Jobs so failed pods
    /// do not pile up.
    ///
    /// ### Example
    /// `The node was low on resource: ephemeral-storage. Container hush-house-worker was using
    /// 73712Ki, which exceeds its request of 0.` on GKE nodes with a 10GiB disk.
    pub static META = {
        id: "KS0603",
        name: "pods-evicted",
        cause: Cause::NodeEviction,
        severity: Severity::Warning,
        kind: RuleKind::Runtime,
        summary: "pods were evicted by a kubelet under resource pressure",
    }
}

pub struct PodsEvicted;

/// What an eviction message says ran out, and whether it was the pod's own limit.
fn resource_of(message: &str) -> (String, bool) {
    let Some(m) = EVICTION_MATCHER.first(message) else { return ("an unnamed resource".to_string(), false) };
    match m.sig.id {
        "evict-low-on-resource" => (m.get("resource").to_string(), false),
        "evict-node-condition" => (
            match m.get("condition") {
                "MemoryPressure" => "memory".to_string(),
                "PIDPressure" => "pids".to_string(),
                _ => "ephemeral-storage".to_string(),
            },
            false,
        ),
        _ => ("ephemeral-storage".to_string(), true),
    }
}

/// The node-pressure kind a resource belongs to, as KS0602 keys it.
fn pressure_kind(resource: &str) -> &'static str {
    match resource {
        "memory" => "memory",
        "pids" => "pid",
        _ => "disk",
    }
}

#[derive(Default)]
struct Group {
    pods: Vec<usize>,
    messages: Vec<(usize, String)>,
    /// Workload → container → largest usage seen, with the request quoted next to it.
    usage: BTreeMap<ObjectRef, BTreeMap<String, (f64, String, String)>>,
}

/// What the evictions are grouped under: the node that ran short (node pressure), or the
/// workload whose own limit was exceeded.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Node(String, String),
    OwnLimit(ObjectRef),
}

impl Rule for PodsEvicted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
        for (i, pod) in ev.pods.iter().enumerate() {
            let Some(status) = &pod.status else { continue };
            if status.reason.as_deref() != Some("Evicted") || pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let message = status.message.clone().unwrap_or_default();
            let (resource, own_limit) = resource_of(&message);
            let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
            let key = match node {
                Some(n) if !own_limit => Key::Node(n, resource),
                _ => Key::OwnLimit(ev.workload_of(i).clone()),
            };
            let g = groups.entry(key).or_default();
            g.pods.push(i);
            if !g.messages.iter().any(|(_, m)| *m == message) {
                g.messages.push((i, message.clone()));
            }
            let per = g.usage.entry(ev.workload_of(i).clone()).or_default();
            for (c, using, request) in eviction_usage(&message) {
                let v = quantity(&using).unwrap_or(0.0);
                let e = per.entry(c).or_insert((0.0, using.clone(), request.clone()));
                if v > e.0 {
                    *e = (v, using, request);
                }
            }
        }
        for (key, g) in groups {
            let n = g.pods.len();
            let pods_word = if n == 1 { "1 pod".to_string() } else { format!("{n} pods") };
            // Evicted pods per workload: `3 pods of Deployment nasiko/k8s-build-worker`.
            let mut per_workload: BTreeMap<ObjectRef, usize> = BTreeMap::new();
            for &i in &g.pods {
                *per_workload.entry(ev.workload_of(i).clone()).or_default() += 1;
            }
            let whose: Vec<String> = per_workload
                .iter()
                .map(|(w, c)| {
                    format!(
                        "{} of {} {}",
                        if *c == 1 { "1 pod".to_string() } else { format!("{c} pods") },
                        w.kind,
                        w.qualified_name()
                    )
                })
                .collect();
            let namespaces: BTreeSet<String> = per_workload.keys().filter_map(|w| w.namespace.clone()).collect();
            let usage: Vec<String> = g
                .usage
                .values()
                .flat_map(|m| m.iter())
                .map(|(c, (v, using, req))| {
                    let human = format_quantity("memory", *v);
                    let using = if human == *using { using.clone() } else { format!("{using} ({human})") };
                    format!("container {c} was using {using} against a request of {req}")
                })
                .collect();
            let usage_text =
                if usage.is_empty() { String::new() } else { format!(" At eviction, {}.", util::join_names(&usage)) };

            let (object, resource) = match &key {
                Key::Node(node, resource) => (node_ref(node), resource.clone()),
                Key::OwnLimit(w) => (w.clone(), "ephemeral-storage".to_string()),
            };
            let mut f = util::finding(&META, object, String::new(), String::new());
            f.affected = g.pods.iter().map(|&i| pod_ref(&ev.pods[i])).collect();
            for (i, m) in g.messages.iter().take(3) {
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Status,
                    format!("Evicted: {}", m.trim()),
                    Some(pod_ref(&ev.pods[*i])),
                ));
            }
            match &key {
                Key::OwnLimit(w) => {
                    f.title = format!(
                        "{} of {} evicted for exceeding their ephemeral-storage limit",
                        capitalize(&pods_word),
                        w.name
                    );
                    f.root_cause = format!(
                        "The kubelet evicted {pods_word} of {} {} because they wrote more to their writable layer, logs and emptyDir volumes than their ephemeral-storage limits allow.",
                        w.kind,
                        w.qualified_name()
                    );
                    f.root_key = format!("eviction-limit:{}", w.qualified_name());
                    f.fix.push(Fix::text(format!(
                        "Raise the ephemeral-storage limit (or emptyDir sizeLimit) of {} to what it needs, or move large scratch data to a volume",
                        w.kubectl_ref()
                    )));
                }
                Key::Node(node, _) => {
                    let kind = pressure_kind(&resource);
                    f.title = format!("Node {node} ran low on {resource} and evicted {pods_word}");
                    f.root_cause = format!(
                        "The kubelet on node {node} ran short of {resource} and evicted {}, picking the pods that use the most above their requests.{usage_text} Evicted pods stay listed as Failed until deleted.",
                        util::join_names(&whose)
                    );
                    f.root_key = format!("node-pressure:{node}:{kind}");
                    let res = if kind == "disk" { "ephemeral-storage" } else { "memory" };
                    if let Some(c) = ev
                        .node(node)
                        .and_then(|n| n.status.as_ref()?.capacity.as_ref()?.get(res).cloned())
                        .and_then(|q| quantity(&q.0))
                    {
                        f.evidence.push(EvidenceItem::new(
                            EvidenceSource::Node,
                            format!("{res} capacity {}", format_quantity(res, c)),
                            Some(node_ref(node)),
                        ));
                    }
                    // Requests sized from the usage at eviction, so the scheduler accounts for it.
                    let res_flag = if resource == "memory" { "memory" } else { "ephemeral-storage" };
                    for (w, containers) in &g.usage {
                        for (c, (v, using, _)) in containers.iter().filter(|(_, (v, _, _))| *v > 0.0).take(2) {
                            let mi = round_up_mi(*v);
                            let set = if resource == "memory" {
                                format!("--requests=memory={}", mi_text(mi))
                            } else {
                                format!(
                                    "--requests=ephemeral-storage={} --limits=ephemeral-storage={}",
                                    mi_text(mi),
                                    mi_text(mi * 2)
                                )
                            };
                            let article = if res_flag.starts_with('e') { "an" } else { "a" };
                            if matches!(w.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") {
                                f.fix.push(Fix::cmd(
                                    format!(
                                        "Give container {c} of {} {article} {res_flag} request near what it used ({using} at eviction; size it from real peaks)",
                                        w.kubectl_ref()
                                    ),
                                    format!("kubectl {}set resources {} -c {c} {set}", w.ns_flag(), w.kubectl_ref()),
                                ));
                            } else {
                                f.fix.push(Fix::text(format!(
                                    "Give container {c} of {} {article} {res_flag} request of at least {} in its pod template ({using} at eviction)",
                                    w.kubectl_ref(),
                                    mi_text(mi)
                                )));
                            }
                        }
                    }
                    for w in per_workload.keys().filter(|w| g.usage.get(*w).is_none_or(|m| m.is_empty())) {
                        f.fix.push(Fix::text(format!(
                            "Give the containers of {} {res_flag} requests (and limits) that match what they really use",
                            w.kubectl_ref()
                        )));
                    }
                    let disk = ev
                        .node(node)
                        .and_then(|n| n.status.as_ref()?.capacity.as_ref()?.get("ephemeral-storage").cloned())
                        .and_then(|q| quantity(&q.0));
                    // A small boot disk is a cause of its own; a large one points at the pods.
                    if kind == "disk" && disk.is_none_or(|d| d < 50.0 * 1024.0 * 1024.0 * 1024.0) {
                        f.fix.push(Fix::text(format!(
                            "Give {node} a larger disk (images, logs and emptyDir volumes share the node's disk)"
                        )));
                    }
                    f.fix.push(Fix::cmd(
                        format!("See {node}'s pressure conditions"),
                        format!("kubectl describe node {node}"),
                    ));
                }
            }
            for ns in &namespaces {
                f.fix.push(Fix::cmd(
                    format!("Delete the evicted (Failed) pods left in namespace {ns}"),
                    format!("kubectl {}delete pods --field-selector=status.phase=Failed", util::ns_flag(ns)),
                ));
            }
            out.push(f);
        }
    }
}

/// Usage in Mi rounded up to what people write: whole Gi above 1Gi, else 64Mi steps.
fn round_up_mi(bytes: f64) -> i64 {
    let mi = (bytes / (1024.0 * 1024.0)).ceil().max(1.0) as i64;
    if mi > 1024 { (mi + 1023) / 1024 * 1024 } else { (mi + 63) / 64 * 64 }
}

fn mi_text(mi: i64) -> String {
    if mi % 1024 == 0 { format!("{}Gi", mi / 1024) } else { format!("{mi}Mi") }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
