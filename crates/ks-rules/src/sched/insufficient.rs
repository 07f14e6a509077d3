use std::cell::RefCell;
use std::collections::HashMap;

use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::{NodeUse, format_quantity, kubectl_quantity, node_use};
use crate::facts::PendingPod;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Pods the scheduler cannot place because no node that would accept them has enough
    /// unrequested cpu, memory, ephemeral storage, GPUs or pod slots left:
    /// `0/3 nodes are available: 3 Insufficient memory`, `1 Too many pods`.
    ///
    /// ### Why it breaks
    /// The scheduler places pods by their *requests*, not by real usage: a node's allocatable
    /// minus the requests of the pods already on it must cover the new pod's requests (the sum
    /// over its containers). A chart default such as a 16Gi memory request, a cluster that
    /// has grown full, or a node type with a low pod limit (EKS: ENI/IP limit) leaves the pod
    /// Pending for good; nothing retries differently until capacity or requests change.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `FailedScheduling ... Insufficient <resource>`;
    /// `kubectl describe nodes | grep -A 8 "Allocated resources"` shows each node's requests
    /// against its allocatable; `kubectl get pod <pod> -o jsonpath='{.spec.containers[*].resources}'`
    /// shows what the pod asks for.
    ///
    /// ### Fix
    /// Lower the request to what the process really needs (`kubectl set resources`), add or
    /// enlarge nodes (scale the node pool, enable the cluster autoscaler), or free capacity
    /// by scaling down workloads that reserve more than they use.
    ///
    /// ### Prevention
    /// Set requests from observed usage (`kubectl top`, VPA recommendations), review chart
    /// defaults before installing, and run the cluster autoscaler with headroom.
    ///
    /// ### Example
    /// `0/2 nodes are available: 2 Insufficient memory.` for a MinIO pod requesting 16Gi on
    /// nodes with 8Gi allocatable.
    pub static META = {
        id: "KS0501",
        name: "insufficient-resources",
        cause: Cause::SchedInsufficientResources,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "no node has enough unrequested resources left for the pod",
    }
}

pub struct InsufficientResources;

/// What a histogram entry says is short.
fn short_resource(reason: &str) -> Option<String> {
    let m = crate::signatures::sched::MATCHER.first(reason)?;
    if m.sig.cause != Cause::SchedInsufficientResources {
        return None;
    }
    let r = m.get("resource");
    Some(if !r.is_empty() {
        r.trim_end_matches(['.', ',']).to_string()
    } else if reason.contains("Too many pods") {
        "pods".to_string()
    } else if reason.contains("free ports") {
        "hostPort".to_string()
    } else {
        "storage capacity".to_string()
    })
}

impl Rule for InsufficientResources {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // Node usage is the same for every pending pod: compute it once per node and resource.
        let cache = UseCache::default();
        super::pending_findings(cx, &META, Cause::SchedInsufficientResources, out, |p, f| explain(cx, &cache, p, f));
    }
}

#[derive(Default)]
struct UseCache(RefCell<HashMap<(usize, String), Option<NodeUse>>>);

impl UseCache {
    fn get(&self, ev: &ks_core::Evidence, node: usize, res: &str) -> Option<NodeUse> {
        let key = (node, res.to_string());
        if let Some(u) = self.0.borrow().get(&key) {
            return u.clone();
        }
        let u = node_use(ev, &ev.nodes[node], res);
        self.0.borrow_mut().insert(key, u.clone());
        u
    }
}

/// A resource the pod asks for that no eligible node has left.
struct Short {
    res: String,
    req: f64,
    best: Option<NodeUse>,
}

fn explain(cx: &Context<'_>, cache: &UseCache, p: &PendingPod, f: &mut Finding) {
    let ev = cx.ev;
    let pod = &ev.pods[p.pod];
    let (_, pod_name) = util::pod_names(ev, p.pod);
    let w = f.object.clone();
    let mut resources: Vec<(u32, String)> =
        p.entries.iter().filter_map(|(n, r)| short_resource(r).map(|res| (*n, res))).collect();
    resources.dedup_by(|a, b| a.1 == b.1);
    if resources.is_empty() {
        resources.push((0, "resources".to_string()));
    }
    let names: Vec<String> = resources.iter().map(|(_, r)| r.clone()).collect();
    f.root_key = format!("sched.insufficient:{}", names.join(","));
    let total = p.total_nodes;
    let nodes_of = |count: u32| {
        if count > 0 && total > 0 {
            format!("{count} of {total} node{}", if total == 1 { "" } else { "s" })
        } else {
            "every node".to_string()
        }
    };

    // The nodes that would take the pod but for capacity: no untolerated taint, not cordoned.
    let eligible: Vec<usize> = ev
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| super::untolerated(pod, n).is_empty())
        .filter(|(_, n)| !n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false))
        .map(|(i, _)| i)
        .collect();

    let mut sentences = Vec::new();
    let mut title_parts = Vec::new();
    let mut fixes = Vec::new();
    let mut node_lines = Vec::new();
    let mut shorts: Vec<Short> = Vec::new();
    let mut counts = Vec::new();
    for (count, res) in &resources {
        let nodes = nodes_of(*count);
        match res.as_str() {
            "hostPort" => {
                let ports: Vec<String> = pod
                    .spec
                    .iter()
                    .flat_map(|s| s.containers.iter())
                    .flat_map(|c| c.ports.iter().flatten().filter_map(|p| p.host_port.map(|h| (c.name.clone(), h))))
                    .map(|(c, h)| format!("{h} (container {c})"))
                    .collect();
                let ports_text =
                    if ports.is_empty() { "a hostPort".to_string() } else { format!("hostPort {}", ports.join(", ")) };
                title_parts.push(format!("{ports_text} is taken on {nodes}"));
                sentences.push(format!(
                    "Pod {pod_name} asks for {ports_text}, which is already taken on {nodes}: a hostPort admits one pod per node, so there can be no more replicas than nodes."
                ));
                fixes.push(Fix::text(
                    "Drop hostPort from the container ports and reach the pods through a Service, or keep replicas at or below the number of nodes",
                ));
            }
            "storage capacity" => {
                title_parts.push(format!("no node has enough free storage for the pod's volumes ({nodes})"));
                sentences.push(format!(
                    "The CSI driver's storage capacity tracking reports too little free storage for the pod's new volumes on {nodes}."
                ));
                fixes.push(Fix::cmd(
                    "See the storage capacity the driver reports",
                    "kubectl get csistoragecapacities -A",
                ));
            }
            "pods" => {
                let uses: Vec<NodeUse> = eligible.iter().filter_map(|&n| cache.get(ev, n, "pods")).collect();
                let full: Vec<&NodeUse> = uses.iter().filter(|u| u.pods.len() as f64 >= u.allocatable).collect();
                title_parts.push(match full.as_slice() {
                    [one] => format!(
                        "node {} is at its limit of {} pods",
                        one.node,
                        format_quantity("pods", one.allocatable)
                    ),
                    _ => format!("{nodes} are at their pod limit"),
                });
                let limits: Vec<String> = full
                    .iter()
                    .map(|u| {
                        format!(
                            "{} runs {} of the {} pods it allows",
                            u.node,
                            u.pods.len(),
                            format_quantity("pods", u.allocatable)
                        )
                    })
                    .collect();
                sentences.push(if limits.is_empty() {
                    format!("{nodes} already run as many pods as they allow (Too many pods).")
                } else {
                    format!(
                        "The node{} that would take pod {pod_name} {} full: {}.",
                        if full.len() == 1 { "" } else { "s" },
                        if full.len() == 1 { "is" } else { "are" },
                        limits.join(", ")
                    )
                });
                for u in full.iter().take(4) {
                    node_lines.push(EvidenceItem::new(
                        EvidenceSource::Node,
                        format!(
                            "{}: {} of {} pods allocatable in use",
                            u.node,
                            u.pods.len(),
                            format_quantity("pods", u.allocatable)
                        ),
                        Some(ObjectRef::new("Node", None, &u.node)),
                    ));
                }
                if let Some(u) = full.first() {
                    fixes.push(Fix::cmd(
                        format!("See what runs on {}: finished or unneeded pods there free slots", u.node),
                        format!("kubectl get pods -A -o wide --field-selector spec.nodeName={}", u.node),
                    ));
                }
            }
            res => {
                let req = super::pod_request(pod, res);
                let uses: Vec<NodeUse> = eligible.iter().filter_map(|&n| cache.get(ev, n, res)).collect();
                let best = uses.iter().max_by(|a, b| a.free().total_cmp(&b.free())).cloned();
                let per_container: Vec<String> = super::container_requests(pod, res)
                    .iter()
                    .map(|(c, v)| format!("{c}: {}", format_quantity(res, *v)))
                    .collect();
                if req > 0.0 {
                    f.evidence.push(EvidenceItem::new(
                        EvidenceSource::Spec,
                        format!(
                            "requests {res}: {}{}",
                            format_quantity(res, req),
                            if per_container.is_empty() {
                                String::new()
                            } else {
                                format!(" ({})", per_container.join(", "))
                            }
                        ),
                        Some(crate::facts::pod_ref(pod)),
                    ));
                }
                let mut sorted: Vec<&NodeUse> = uses.iter().collect();
                sorted.sort_by(|a, b| b.free().total_cmp(&a.free()));
                for u in sorted.iter().take(4) {
                    let top: Vec<String> = u
                        .pods
                        .iter()
                        .filter(|(_, r)| *r > 0.0)
                        .take(3)
                        .map(|(i, r)| {
                            let (ns, n) = util::pod_names(ev, *i);
                            format!("{ns}/{n} {}", format_quantity(res, *r))
                        })
                        .collect();
                    node_lines.push(EvidenceItem::new(
                        EvidenceSource::Node,
                        format!(
                            "{}: {res} allocatable {}, requested {}, free {}{}",
                            u.node,
                            format_quantity(res, u.allocatable),
                            format_quantity(res, u.requested),
                            format_quantity(res, u.free().max(0.0)),
                            if top.is_empty() { String::new() } else { format!("; largest: {}", top.join(", ")) }
                        ),
                        Some(ObjectRef::new("Node", None, &u.node)),
                    ));
                }
                if shorts.is_empty()
                    && let Some(fullest) = sorted.last()
                {
                    let sort = if res == "cpu" { "cpu" } else { "memory" };
                    fixes.push(Fix::cmd(
                        format!("Find the pods that reserve the most {res} (requests count, not usage)"),
                        format!(
                            "kubectl describe node {} | grep -A 12 'Allocated resources'; kubectl top pods -A --sort-by={sort}",
                            fullest.node
                        ),
                    ));
                }
                counts.push(*count);
                shorts.push(Short { res: res.to_string(), req, best });
            }
        }
    }

    // cpu, memory and the like in one sentence: what the pod asks, what is left where.
    if !shorts.is_empty() {
        let asks: Vec<String> = shorts
            .iter()
            .map(|s| {
                if s.req > 0.0 {
                    format!("{} {}", format_quantity(&s.res, s.req), s.res)
                } else {
                    format!("{} (no request of its own set)", s.res)
                }
            })
            .collect();
        let res_names: Vec<String> = shorts.iter().map(|s| s.res.clone()).collect();
        let nodes = nodes_of(counts.iter().copied().max().unwrap_or(0));
        let left: Vec<String> = shorts
            .iter()
            .filter_map(|s| {
                let b = s.best.as_ref()?;
                Some(format!(
                    "{} {} on {} ({} allocatable, {} requested by its pods)",
                    format_quantity(&s.res, b.free().max(0.0)),
                    s.res,
                    b.node,
                    format_quantity(&s.res, b.allocatable),
                    format_quantity(&s.res, b.requested)
                ))
            })
            .collect();
        title_parts.insert(0, format!("no node has {} left unrequested", util::join_names(&asks)));
        sentences.insert(
            0,
            format!(
                "Pod {pod_name} requests {}, and {nodes} lack that much unrequested {}{}.",
                util::join_names(&asks),
                util::join_names(&res_names),
                if left.is_empty() {
                    String::new()
                } else {
                    format!("; the most any eligible node has left is {}", util::join_names(&left))
                }
            ),
        );
        fixes.splice(0..0, lower_request_fix(cx, p, &w, &shorts));
    }
    f.evidence.extend(node_lines);
    f.title = capitalize(&title_parts.join(", "));
    // Nodes the pod cannot use for other reasons, named: a pressure taint is worth seeing.
    let mut other = super::other_entries(p, Cause::SchedInsufficientResources);
    let tainted: Vec<String> = ev
        .nodes
        .iter()
        .filter_map(|n| {
            let t = super::untolerated(pod, n);
            (!t.is_empty()).then(|| {
                format!(
                    "{} is tainted {}",
                    super::node_name(n),
                    t.iter().map(|t| super::taint_text(t)).collect::<Vec<_>>().join(", ")
                )
            })
        })
        .take(3)
        .collect();
    if !other.is_empty() && !tainted.is_empty() {
        other = format!("{} ({}).", other.trim_end_matches('.'), util::join_names(&tainted));
    }
    f.root_cause = format!("{}{other}", sentences.join(" "));

    let needs_nodes = resources.iter().any(|(_, r)| r != "hostPort" && r != "storage capacity");
    if needs_nodes {
        let eks = ev
            .nodes
            .iter()
            .any(|n| n.metadata.labels.as_ref().is_some_and(|l| l.keys().any(|k| k.starts_with("eks.amazonaws.com/"))));
        if names.iter().any(|r| r == "pods") && eks {
            fixes.push(Fix::cmd(
                "On EKS the pod limit follows the instance's ENI/IP limit: enable prefix delegation (new nodes then allow 110 pods) or use larger instance types",
                "kubectl -n kube-system set env daemonset/aws-node ENABLE_PREFIX_DELEGATION=true",
            ));
        }
        fixes.push(Fix::cmd(
            "Or add capacity: scale the node pool up (or let the cluster autoscaler do it); compare what each node can offer",
            "kubectl get nodes -o custom-columns=NAME:.metadata.name,CPU:.status.allocatable.cpu,MEMORY:.status.allocatable.memory,PODS:.status.allocatable.pods",
        ));
    }
    f.fix = fixes;
}

/// `(resource, new request, "old -> new (why)")` for one container.
type Change = (String, String, String);

/// One `kubectl set resources` lowering the biggest container's requests so the pod fits the
/// emptiest eligible node; half of today's when the nodes are not in the evidence.
fn lower_request_fix(cx: &Context<'_>, p: &PendingPod, w: &ObjectRef, shorts: &[Short]) -> Vec<Fix> {
    let pod = &cx.ev.pods[p.pod];
    // Per container: the new values, and why.
    let mut plan: Vec<(String, Vec<Change>)> = Vec::new();
    let mut impossible = Vec::new();
    for s in shorts.iter().filter(|s| s.req > 0.0) {
        let res = s.res.as_str();
        let containers = super::container_requests(pod, res);
        let Some((container, creq)) = containers.iter().max_by(|a, b| a.1.total_cmp(&b.1)).cloned() else {
            continue;
        };
        let (target, why) = match &s.best {
            Some(b) => {
                (creq - (s.req - b.free()), format!("{} left on {}", format_quantity(res, b.free().max(0.0)), b.node))
            }
            None => (creq / 2.0, "half of today's; size it from `kubectl top pod`".to_string()),
        };
        let target = nice_floor(res, target);
        if target <= 0.0 || target >= creq {
            impossible.push(res.to_string());
            continue;
        }
        let entry = (
            res.to_string(),
            kubectl_quantity(res, target),
            format!("{} -> {} ({why})", format_quantity(res, creq), kubectl_quantity(res, target)),
        );
        match plan.iter_mut().find(|(c, _)| *c == container) {
            Some((_, v)) => v.push(entry),
            None => plan.push((container, vec![entry])),
        }
    }
    let mut out = Vec::new();
    for (container, changes) in &plan {
        let set: Vec<String> = changes.iter().map(|(r, v, _)| format!("{r}={v}")).collect();
        let why: Vec<String> = changes.iter().map(|(r, _, w)| format!("{r} {w}")).collect();
        if w.kind == "Pod" {
            out.push(Fix::text(format!(
                "Recreate pod {} with smaller requests for container {container} ({}); a bare pod's requests cannot be changed in place",
                w.name,
                why.join("; ")
            )));
        } else {
            out.push(Fix::cmd(
                format!("If {container} can run with less, lower its requests: {}", why.join("; ")),
                format!(
                    "kubectl {}set resources {} -c {container} --requests={}",
                    w.ns_flag(),
                    w.kubectl_ref(),
                    set.join(",")
                ),
            ));
        }
    }
    for res in impossible {
        out.push(Fix::text(format!(
            "Lowering the {res} request cannot make the pod fit: every eligible node is already fully requested"
        )));
    }
    let helm = pod.metadata.labels.as_ref().is_some_and(|l| {
        l.get("app.kubernetes.io/managed-by").or_else(|| l.get("heritage")).is_some_and(|v| v == "Helm")
    });
    if helm && !plan.is_empty() {
        out.push(Fix::text(
            "The workload is managed by Helm: set the same resources.requests in the chart values, or the next upgrade restores them",
        ));
    }
    out
}

/// Round a request down to a value people write: multiples of 64Mi (memory) or 50m (cpu).
fn nice_floor(res: &str, v: f64) -> f64 {
    let step = match res {
        "cpu" => 0.05,
        "memory" | "ephemeral-storage" => 64.0 * 1024.0 * 1024.0,
        _ => return v,
    };
    if v < 2.0 * step { v } else { (v / step).floor() * step }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
