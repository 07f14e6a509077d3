//! Pods the scheduler cannot place. The cause is settled once in [`crate::facts`] from the
//! `FailedScheduling` message (see [`crate::signatures::sched::dominant_cause`]); each rule
//! here explains one cause with the pod's spec and the nodes in the evidence.

pub mod affinity;
pub mod insufficient;
pub mod pvc_unbound;
pub mod taint;
pub mod volume_zone;

use std::collections::BTreeMap;

use ks_core::k8s_openapi::api::core::v1::{Node, NodeSelectorRequirement, Pod, Taint, Toleration};
use ks_core::{Cause, Evidence, Finding, RuleMeta};

use crate::facts::{PendingPod, pod_ref};
use crate::{Context, Rule, util};

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[
    &insufficient::InsufficientResources,
    &taint::UntoleratedTaint,
    &affinity::NodeAffinityMismatch,
    &pvc_unbound::PvcUnbound,
    &volume_zone::VolumeZoneConflict,
];

/// Emit one finding per pending pod with `cause`; `explain` fills in the title, the root
/// cause, the root key and the rule's own fixes, after which `kubectl describe pod` is added.
pub fn pending_findings(
    cx: &Context<'_>,
    meta: &'static RuleMeta,
    cause: Cause,
    out: &mut Vec<Finding>,
    explain: impl Fn(&PendingPod, &mut Finding),
) {
    for p in cx.facts.pending.iter().filter(|p| p.cause == cause) {
        let mut f = pending_finding(cx, meta, p);
        explain(p, &mut f);
        f.fix.push(util::describe_pod(cx.ev, p.pod));
        out.push(f);
    }
}

/// The base finding for a pending pod: its workload, the pod, the scheduler's message.
pub fn pending_finding(cx: &Context<'_>, meta: &'static RuleMeta, p: &PendingPod) -> Finding {
    let mut f = util::finding(meta, cx.ev.workload_of(p.pod).clone(), String::new(), String::new());
    f.affected.push(pod_ref(&cx.ev.pods[p.pod]));
    f.evidence = p.evidence.clone();
    f
}

/// The histogram entries other than those of `cause`, as a sentence ("The other nodes: 2
/// node(s) didn't match pod affinity rules."), or "".
pub fn other_entries(p: &PendingPod, cause: Cause) -> String {
    let others: Vec<String> = p
        .entries
        .iter()
        .filter(|(_, r)| crate::signatures::sched::MATCHER.first(r).is_some_and(|m| m.sig.cause != cause))
        .map(|(n, r)| if *n == 0 { r.clone() } else { format!("{n} {r}") })
        .collect();
    if others.is_empty() { String::new() } else { format!(" The other nodes: {}.", others.join(", ")) }
}

// ---- quantities ----------------------------------------------------------------------------

/// A Kubernetes quantity in base units (cores for cpu, bytes for memory): `500m`, `1.5`,
/// `16Gi`, `1G`, `1e9`. None for forms that are not quantities.
pub fn quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let (base, exponent) = quantity_suffix(suffix)?;
    Some(n * f64::from(base).powi(exponent))
}

/// The power of ten or two a quantity suffix stands for, as apimachinery's
/// `quantitySuffixer.interpret` reads it: `(10, 3)` for `k`, `(2, 30)` for `Gi`, `(10, e)`
/// for `e<e>` or `E<e>` (Go keeps the low 32 bits of `e`). None for any other suffix.
pub fn quantity_suffix(suffix: &str) -> Option<(u8, i32)> {
    Some(match suffix {
        "" => (10, 0),
        "n" => (10, -9),
        "u" => (10, -6),
        "m" => (10, -3),
        "k" => (10, 3),
        "M" => (10, 6),
        "G" => (10, 9),
        "T" => (10, 12),
        "P" => (10, 15),
        "E" => (10, 18),
        "Ki" => (2, 10),
        "Mi" => (2, 20),
        "Gi" => (2, 30),
        "Ti" => (2, 40),
        "Pi" => (2, 50),
        "Ei" => (2, 60),
        _ => (10, suffix.strip_prefix(['e', 'E'])?.parse::<i64>().ok()? as i32),
    })
}

/// A quantity of `resource` for people: `250m`/`2` cores, `512Mi`/`1.5Gi` bytes, plain counts.
pub fn format_quantity(resource: &str, v: f64) -> String {
    if resource == "cpu" {
        let milli = (v * 1000.0).round();
        return if milli % 1000.0 == 0.0 { format!("{}", milli / 1000.0) } else { format!("{milli}m") };
    }
    if is_bytes(resource) {
        let units = [("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)];
        for (u, shift) in units {
            let size = (1u64 << shift) as f64;
            if v.abs() >= size {
                let x = v / size;
                return if (x - x.round()).abs() < 0.05 { format!("{}{u}", x.round()) } else { format!("{x:.1}{u}") };
            }
        }
        return format!("{}", v.round());
    }
    if (v - v.round()).abs() < 1e-9 { format!("{}", v.round()) } else { format!("{v:.2}") }
}

/// A value that is safe to put in `kubectl set resources`: rounded down to whole Mi or m.
pub fn kubectl_quantity(resource: &str, v: f64) -> String {
    if resource == "cpu" {
        return format!("{}m", ((v * 1000.0).floor() as i64).max(1));
    }
    if is_bytes(resource) {
        let mi = (v / (1024.0 * 1024.0)).floor() as i64;
        return if mi >= 1024 && mi % 1024 == 0 { format!("{}Gi", mi / 1024) } else { format!("{}Mi", mi.max(1)) };
    }
    format!("{}", v.floor() as i64)
}

fn is_bytes(resource: &str) -> bool {
    matches!(resource, "memory" | "ephemeral-storage" | "storage") || resource.starts_with("hugepages-")
}

/// What a pod asks of `resource`: the containers' requests summed, or its largest init
/// container when that is larger (init containers run one at a time, before the others),
/// plus the pod overhead. Requests default to limits when only limits are set.
pub fn pod_request(pod: &Pod, resource: &str) -> f64 {
    let Some(spec) = &pod.spec else { return 0.0 };
    if resource == "pods" {
        return 1.0;
    }
    let one = |c: &ks_core::k8s_openapi::api::core::v1::Container| -> f64 {
        let r = c.resources.as_ref();
        r.and_then(|r| r.requests.as_ref())
            .and_then(|m| m.get(resource))
            .or_else(|| r.and_then(|r| r.limits.as_ref()).and_then(|m| m.get(resource)))
            .and_then(|q| quantity(&q.0))
            .unwrap_or(0.0)
    };
    let sum: f64 = spec.containers.iter().map(one).sum();
    let init = spec.init_containers.iter().flatten().map(one).fold(0.0, f64::max);
    let overhead = spec.overhead.as_ref().and_then(|o| o.get(resource)).and_then(|q| quantity(&q.0)).unwrap_or(0.0);
    sum.max(init) + overhead
}

/// The per-container requests of `resource`, for the `kubectl set resources` fix.
pub fn container_requests(pod: &Pod, resource: &str) -> Vec<(String, f64)> {
    let Some(spec) = &pod.spec else { return Vec::new() };
    spec.containers
        .iter()
        .filter_map(|c| {
            let r = c.resources.as_ref()?;
            let q = r.requests.as_ref().and_then(|m| m.get(resource)).or_else(|| r.limits.as_ref()?.get(resource))?;
            Some((c.name.clone(), quantity(&q.0)?))
        })
        .collect()
}

/// A node's allocatable `resource` and what the pods on it that hold resources (not
/// Succeeded or Failed) request, as far as the evidence shows them.
#[derive(Debug, Clone)]
pub struct NodeUse {
    pub node: String,
    pub allocatable: f64,
    pub requested: f64,
    /// The pods on the node, biggest request first: `(pod index, request)`.
    pub pods: Vec<(usize, f64)>,
}

impl NodeUse {
    pub fn free(&self) -> f64 {
        self.allocatable - self.requested
    }
}

pub fn node_use(ev: &Evidence, node: &Node, resource: &str) -> Option<NodeUse> {
    let name = node.metadata.name.clone().unwrap_or_default();
    let alloc = node.status.as_ref()?.allocatable.as_ref()?.get(resource).and_then(|q| quantity(&q.0))?;
    let mut pods: Vec<(usize, f64)> = ev
        .index
        .pods_by_node
        .get(&name)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| {
            let phase = ev.pods[i].status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default();
            phase != "Succeeded" && phase != "Failed"
        })
        .map(|i| (i, pod_request(&ev.pods[i], resource)))
        .collect();
    pods.sort_by(|a, b| b.1.total_cmp(&a.1));
    let requested = pods.iter().map(|(_, r)| r).sum();
    Some(NodeUse { node: name, allocatable: alloc, requested, pods })
}

// ---- taints and tolerations ----------------------------------------------------------------

/// `key=value:Effect` or `key:Effect`.
pub fn taint_text(t: &Taint) -> String {
    match t.value.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => format!("{}={v}:{}", t.key, t.effect),
        None => format!("{}:{}", t.key, t.effect),
    }
}

/// Whether `tol` tolerates `taint`, by the API's rules: an empty key with `Exists` matches
/// every taint, an empty effect every effect; `Equal` (the default) compares values.
pub fn tolerates(tol: &Toleration, taint: &Taint) -> bool {
    if let Some(e) = tol.effect.as_deref().filter(|e| !e.is_empty())
        && e != taint.effect
    {
        return false;
    }
    let key = tol.key.as_deref().unwrap_or_default();
    let op = tol.operator.as_deref().unwrap_or("Equal");
    if key.is_empty() {
        return op == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match op {
        "Exists" => true,
        _ => tol.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default(),
    }
}

/// The taints of `node` that keep `pod` off it (NoSchedule and NoExecute ones it does not
/// tolerate).
pub fn untolerated<'n>(pod: &Pod, node: &'n Node) -> Vec<&'n Taint> {
    let tolerations: &[Toleration] = pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or_default();
    node.spec
        .iter()
        .flat_map(|s| s.taints.iter().flatten())
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .filter(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
        .collect()
}

// ---- node selection ------------------------------------------------------------------------

/// Whether a node's labels satisfy one node-selector requirement.
pub fn requirement_matches(labels: &BTreeMap<String, String>, r: &NodeSelectorRequirement) -> bool {
    let values = r.values.as_deref().unwrap_or_default();
    let have = labels.get(&r.key);
    match r.operator.as_str() {
        "In" => have.is_some_and(|v| values.contains(v)),
        "NotIn" => have.is_none_or(|v| !values.contains(v)),
        "Exists" => have.is_some(),
        "DoesNotExist" => have.is_none(),
        "Gt" | "Lt" => {
            let (Some(h), Some(w)) =
                (have.and_then(|v| v.parse::<i64>().ok()), values.first().and_then(|v| v.parse::<i64>().ok()))
            else {
                return false;
            };
            if r.operator == "Gt" { h > w } else { h < w }
        }
        _ => false,
    }
}

/// `key In (a, b)`, `key Exists`.
pub fn requirement_text(r: &NodeSelectorRequirement) -> String {
    let values = r.values.as_deref().unwrap_or_default();
    if values.is_empty() {
        format!("{} {}", r.key, r.operator)
    } else {
        format!("{} {} ({})", r.key, r.operator, values.join(", "))
    }
}

pub fn node_labels(node: &Node) -> BTreeMap<String, String> {
    node.metadata.labels.clone().unwrap_or_default()
}

pub fn node_name(node: &Node) -> &str {
    node.metadata.name.as_deref().unwrap_or_default()
}

/// `kubectl patch` of a pod template field with one JSON-patch op (`value` is JSON), or None
/// when the workload's template is not in the evidence (a bare pod) or cannot be patched (a
/// Job's pod template is immutable: it must be re-created).
pub fn template_patch(
    ev: &Evidence,
    w: &ks_core::ObjectRef,
    op: &str,
    field: &str,
    value: Option<&str>,
) -> Option<String> {
    if w.kind == "Job" {
        return None;
    }
    let (_, prefix) = util::pod_template(ev, w)?;
    let value = value.map(|v| format!(",\"value\":{v}")).unwrap_or_default();
    Some(format!(
        "kubectl {}patch {} {} --type json -p '[{{\"op\":\"{op}\",\"path\":\"{prefix}/{field}\"{value}}}]'",
        w.ns_flag(),
        w.kind.to_ascii_lowercase(),
        w.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_and_print() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("16Gi"), Some(16.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("73712Ki"), Some(73712.0 * 1024.0));
        assert_eq!(quantity("abc"), None);
        // The suffix table gives the same values as the literals it replaced.
        assert_eq!(quantity("7n"), Some(7.0 * 1e-9));
        assert_eq!(quantity("3u"), Some(3.0 * 1e-6));
        assert_eq!(quantity("5P"), Some(5.0 * 1e15));
        assert_eq!(quantity("2Ei"), Some(2.0 * 1024f64.powi(6)));
        assert_eq!(quantity_suffix("Gi"), Some((2, 30)));
        assert_eq!(quantity_suffix("e-3"), Some((10, -3)));
        assert_eq!(quantity_suffix("mi"), None);
        assert_eq!(format_quantity("cpu", 0.25), "250m");
        assert_eq!(format_quantity("cpu", 2.0), "2");
        assert_eq!(format_quantity("memory", 16.0 * 1024.0 * 1024.0 * 1024.0), "16Gi");
        assert_eq!(format_quantity("memory", 1.5 * 1024.0 * 1024.0 * 1024.0), "1.5Gi");
        assert_eq!(format_quantity("pods", 17.0), "17");
        assert_eq!(kubectl_quantity("memory", 3.7 * 1024.0 * 1024.0 * 1024.0), "3788Mi");
        assert_eq!(kubectl_quantity("cpu", 0.3333), "333m");
    }

    #[test]
    fn tolerations_follow_the_api_rules() {
        let taint =
            Taint { key: "dedicated".into(), value: Some("gpu".into()), effect: "NoSchedule".into(), time_added: None };
        let tol = |key: Option<&str>, op: Option<&str>, value: Option<&str>, effect: Option<&str>| Toleration {
            key: key.map(Into::into),
            operator: op.map(Into::into),
            value: value.map(Into::into),
            effect: effect.map(Into::into),
            toleration_seconds: None,
        };
        assert!(tolerates(&tol(Some("dedicated"), None, Some("gpu"), None), &taint));
        assert!(!tolerates(&tol(Some("dedicated"), None, Some("cpu"), None), &taint));
        assert!(tolerates(&tol(Some("dedicated"), Some("Exists"), None, Some("NoSchedule")), &taint));
        assert!(!tolerates(&tol(Some("dedicated"), Some("Exists"), None, Some("NoExecute")), &taint));
        assert!(tolerates(&tol(None, Some("Exists"), None, None), &taint));
        assert!(!tolerates(&tol(None, None, None, None), &taint));
    }
}
