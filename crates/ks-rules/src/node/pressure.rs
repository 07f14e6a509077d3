use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{live_pods_on, node_ref};
use crate::sched::{format_quantity, node_use, quantity};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Nodes reporting `MemoryPressure`, `DiskPressure` or `PIDPressure` as `True`: the
    /// kubelet has crossed an eviction threshold and is evicting pods, and the node is tainted
    /// so no new pods land on it. It shows the node's capacity, what the pods on it reserve,
    /// and the pods most likely to be the cause or the next victims.
    ///
    /// ### Why it breaks
    /// Requests are promises, not limits: pods without memory limits, containers writing
    /// logs or data to their writable layer or `emptyDir`, images piling up on a small boot
    /// disk, or a fork bomb push the node past its thresholds. The kubelet then evicts pods
    /// (BestEffort first) until the pressure clears, and the scheduler keeps new pods away.
    ///
    /// ### How to confirm
    /// `kubectl describe node <node>` shows the condition and the
    /// `node.kubernetes.io/<kind>-pressure` taint; `kubectl top node` and `kubectl top pods -A
    /// --sort-by=memory` show usage; `kubectl get pods -A --field-selector status.phase=Failed`
    /// shows the evicted pods.
    ///
    /// ### Fix
    /// Find and fix the consumer (memory limits, ephemeral-storage limits, log rotation),
    /// free disk (unused images), or give the node more memory or disk; add nodes if the
    /// cluster is simply full.
    ///
    /// ### Prevention
    /// Set memory and ephemeral-storage requests and limits on every container, size node
    /// disks for images plus logs, and alert on node conditions before evictions start.
    ///
    /// ### Example
    /// `DiskPressure True KubeletHasDiskPressure kubelet has disk pressure` on a node with a
    /// 10GiB boot disk.
    pub static META = {
        id: "KS0602",
        name: "node-pressure",
        cause: Cause::NodePressure,
        severity: Severity::Warning,
        kind: RuleKind::Runtime,
        summary: "a node reports memory, disk or PID pressure",
    }
}

pub struct NodePressure;

impl Rule for NodePressure {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for node in &ev.nodes {
            let name = node.metadata.name.as_deref().unwrap_or_default();
            for c in node.status.iter().flat_map(|s| s.conditions.iter().flatten()) {
                let (kind, resource) = match c.type_.as_str() {
                    "MemoryPressure" => ("memory", "memory"),
                    "DiskPressure" => ("disk", "ephemeral-storage"),
                    "PIDPressure" => ("PID", "pid"),
                    _ => continue,
                };
                if c.status != "True" {
                    continue;
                }
                let mut f = util::finding(
                    &META,
                    node_ref(name),
                    format!("Node {name} is under {kind} pressure"),
                    String::new(),
                );
                f.root_key = format!("node-pressure:{name}:{}", kind.to_ascii_lowercase());
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Node,
                    format!(
                        "{}=True {}: {}",
                        c.type_,
                        c.reason.as_deref().unwrap_or_default(),
                        c.message.as_deref().unwrap_or_default().trim()
                    ),
                    Some(node_ref(name)),
                ));
                let status = node.status.as_ref();
                let cap =
                    status.and_then(|s| s.capacity.as_ref()).and_then(|m| m.get(resource)).and_then(|q| quantity(&q.0));
                let pods = live_pods_on(ev, name);
                let evicted = ev
                    .index
                    .pods_by_node
                    .get(name)
                    .into_iter()
                    .flatten()
                    .filter(|&&i| ev.pods[i].status.as_ref().and_then(|s| s.reason.as_deref()) == Some("Evicted"))
                    .count();
                let evicted_text = if evicted > 0 {
                    format!(" It has evicted {evicted} pod{} so far.", if evicted == 1 { "" } else { "s" })
                } else {
                    String::new()
                };
                let ssh = |cmd: &str| format!("ssh {name} '{cmd}'");
                match kind {
                    "memory" => {
                        let usage = node_use(ev, node, "memory");
                        let unlimited: Vec<String> = pods
                            .iter()
                            .filter(|&&i| {
                                ev.pods[i].spec.as_ref().is_some_and(|s| {
                                    s.containers.iter().any(|c| {
                                        c.resources
                                            .as_ref()
                                            .and_then(|r| r.limits.as_ref())
                                            .and_then(|l| l.get("memory"))
                                            .is_none()
                                    })
                                })
                            })
                            .map(|&i| {
                                let (ns, n) = util::pod_names(ev, i);
                                format!("{ns}/{n}")
                            })
                            .collect();
                        if let Some(u) = &usage {
                            f.evidence.push(EvidenceItem::new(
                                EvidenceSource::Node,
                                format!(
                                    "memory allocatable {}, requested by {} pods {}",
                                    format_quantity("memory", u.allocatable),
                                    u.pods.len(),
                                    format_quantity("memory", u.requested)
                                ),
                                Some(node_ref(name)),
                            ));
                        }
                        let unlimited_text = if unlimited.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " Pods on it without a memory limit, which can grow until the node runs out: {}.",
                                util::join_names(&unlimited.iter().take(5).cloned().collect::<Vec<_>>())
                            )
                        };
                        f.root_cause = format!(
                            "The kubelet on {name} reports MemoryPressure: available memory fell below its eviction threshold, so it evicts pods (BestEffort first) and the node takes no new pods.{unlimited_text}{evicted_text}"
                        );
                        f.fix.push(Fix::cmd(
                            "Find the pods using the most memory",
                            "kubectl top pods -A --sort-by=memory",
                        ));
                        f.fix.push(Fix::text(
                            "Give every container a memory limit near its real peak (kubectl set resources ... --limits=memory=...), so one pod cannot take the node down",
                        ));
                    }
                    "disk" => {
                        if let Some(cap) = cap {
                            f.evidence.push(EvidenceItem::new(
                                EvidenceSource::Node,
                                format!("ephemeral-storage capacity {}", format_quantity("ephemeral-storage", cap)),
                                Some(node_ref(name)),
                            ));
                        }
                        let small = cap.filter(|c| *c < 30.0 * 1024.0 * 1024.0 * 1024.0).map(|c| {
                            format!(
                                " Its disk holds only {}, little room for images, logs and emptyDir volumes.",
                                format_quantity("ephemeral-storage", c)
                            )
                        });
                        f.root_cause = format!(
                            "The kubelet on {name} reports DiskPressure: free space (or inodes) on the node's filesystem or image filesystem fell below the eviction threshold, so it removes unused images and evicts pods, and the node takes no new pods.{}{evicted_text}",
                            small.unwrap_or_default()
                        );
                        f.fix.push(Fix::cmd(
                            "See what fills the disk, and remove unused images",
                            ssh("sudo du -xh --max-depth=2 /var/lib | sort -h | tail -n 15; sudo crictl rmi --prune"),
                        ));
                        f.fix.push(Fix::text(
                            "Set ephemeral-storage requests and limits on containers that write a lot, rotate logs, and give the nodes larger disks",
                        ));
                    }
                    _ => {
                        f.root_cause = format!(
                            "The kubelet on {name} reports PIDPressure: the processes on the node approach the kernel's PID limit (a process leak or fork bomb in some container), so it evicts pods.{evicted_text}"
                        );
                        f.fix.push(Fix::cmd(
                            "Count processes per container on the node",
                            ssh("ps -eo cgroup= | sort | uniq -c | sort -n | tail"),
                        ));
                        f.fix.push(Fix::text(
                            "Limit processes per pod with the kubelet's podPidsLimit, and fix the leaking process",
                        ));
                    }
                }
                f.fix.push(Fix::cmd(
                    format!("List the pods on {name}"),
                    format!("kubectl get pods -A -o wide --field-selector spec.nodeName={name}"),
                ));
                f.fix.push(Fix::cmd(
                    "See the node's conditions, taints and allocated resources",
                    format!("kubectl describe node {name}"),
                ));
                out.push(f);
            }
        }
    }
}
