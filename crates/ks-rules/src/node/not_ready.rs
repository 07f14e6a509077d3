use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{condition, live_pods_on, node_ref, workloads_of};
use crate::facts::pod_ref;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Nodes whose `Ready` condition is `False` or `Unknown`, with the reason: the kubelet
    /// stopped posting status (`Kubelet stopped posting node status.`: machine down, kubelet
    /// dead, network partition), the CNI is not ready (`container runtime network not
    /// ready`), the container runtime is down, or PLEG is unhealthy. It names the pods stuck
    /// on the node.
    ///
    /// ### Why it breaks
    /// The scheduler places nothing on a NotReady node, the node lifecycle controller taints
    /// it and, after five minutes, evicts its pods; pods of StatefulSets and pods with local
    /// volumes stay stuck (`Terminating`/`Unknown`) until the node returns or they are
    /// force-deleted.
    ///
    /// ### How to confirm
    /// `kubectl get nodes` shows `NotReady`; `kubectl describe node <node>` shows the Ready
    /// condition's reason and message and the last heartbeat; on the machine,
    /// `journalctl -u kubelet` and `systemctl status containerd` tell the rest.
    ///
    /// ### Fix
    /// Bring the kubelet back (restart it, fix its certificates or config), repair the CNI
    /// pod on the node, restart a hung container runtime, or replace the machine. Drain the
    /// node if it will not return.
    ///
    /// ### Prevention
    /// Alert on NotReady nodes and kubelet/runtime health; reserve resources for system
    /// daemons (`kube-reserved`, `system-reserved`) so load cannot starve the kubelet; run
    /// node auto-repair where the platform offers it.
    ///
    /// ### Example
    /// `Ready Unknown NodeStatusUnknown Kubelet stopped posting node status.` on `worker-2`,
    /// with 12 pods still listed on it.
    pub static META = {
        id: "KS0601",
        name: "node-not-ready",
        cause: Cause::NodeNotReady,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a node is NotReady or has stopped reporting",
    }
}

pub struct NodeNotReady;

/// A node younger than this that is not Ready yet is still joining.
const JOIN_GRACE_SECS: i64 = 3 * 60;

impl Rule for NodeNotReady {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for node in &ev.nodes {
            let Some(ready) = condition(node, "Ready") else { continue };
            if ready.status == "True" {
                continue;
            }
            if ev.age_secs(node.metadata.creation_timestamp.as_ref().map(|t| t.0)).is_some_and(|a| a < JOIN_GRACE_SECS)
            {
                continue;
            }
            let name = node.metadata.name.as_deref().unwrap_or_default();
            let reason = ready.reason.clone().unwrap_or_default();
            let message = ready.message.clone().unwrap_or_default();
            let lower = message.to_ascii_lowercase();
            let since = ev
                .age_secs(ready.last_transition_time.as_ref().map(|t| t.0))
                .map(|s| format!(" for {}", human(s)))
                .unwrap_or_default();
            let heartbeat = ev
                .age_secs(ready.last_heartbeat_time.as_ref().map(|t| t.0))
                .filter(|s| *s > 60)
                .map(|s| format!("; last heartbeat {} ago", human(s)))
                .unwrap_or_default();
            let pods = live_pods_on(ev, name);
            let stuck = workloads_of(ev, &pods);

            let mut f = util::finding(&META, node_ref(name), String::new(), String::new());
            f.root_key = format!("node:{name}");
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Node,
                format!("Ready={} {reason}: {}{heartbeat}", ready.status, message.trim().trim_end_matches('.')),
                Some(node_ref(name)),
            ));
            for t in node
                .spec
                .iter()
                .flat_map(|s| s.taints.iter().flatten())
                .filter(|t| t.key.starts_with("node.kubernetes.io/"))
            {
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Node,
                    format!("taint {}", crate::sched::taint_text(t)),
                    Some(node_ref(name)),
                ));
            }
            let ssh = |cmd: &str| format!("ssh {name} '{cmd}'");
            let (what, why) = if reason == "NodeStatusUnknown" || lower.contains("stopped posting node status") {
                f.fix.push(Fix::cmd(
                    "Check that the machine is up and the kubelet runs (from the cloud console if SSH fails)",
                    ssh("sudo systemctl status kubelet --no-pager; sudo journalctl -u kubelet -n 100 --no-pager"),
                ));
                (
                    "has stopped reporting".to_string(),
                    "the kubelet stopped posting node status, so the machine is down, the kubelet died (or cannot reach the API server with its credentials), or the network between them is partitioned".to_string(),
                )
            } else if lower.contains("never posted node status") {
                f.fix.push(Fix::cmd(
                    "Read the kubelet's log on the machine",
                    ssh("sudo journalctl -u kubelet -n 100 --no-pager"),
                ));
                (
                    "has never reported".to_string(),
                    "its kubelet never posted node status since the node object was created".to_string(),
                )
            } else if lower.contains("network not ready")
                || lower.contains("networkpluginnotready")
                || lower.contains("cni")
            {
                f.fix.push(Fix::cmd(
                    format!("Find the CNI pod on {name} (calico, cilium, flannel, aws-node...) and see why it is not running"),
                    format!("kubectl get pods -A -o wide --field-selector spec.nodeName={name}"),
                ));
                ("has no working pod network".to_string(), "the container runtime reports the network (CNI) as not ready: the CNI DaemonSet pod on the node is missing or failing, or has not written its config".to_string())
            } else if lower.contains("pleg") {
                f.fix.push(Fix::cmd(
                    "Check the container runtime on the machine; restarting it (then the kubelet) usually clears a stuck PLEG",
                    ssh("sudo crictl ps -a | wc -l; sudo systemctl restart containerd kubelet"),
                ));
                ("has an unhealthy kubelet (PLEG)".to_string(), "the kubelet's pod lifecycle event generator is stuck relisting the container runtime (hung runtime, too many containers, or slow disk I/O)".to_string())
            } else if lower.contains("container runtime not ready") || lower.contains("container runtime is down") {
                f.fix.push(Fix::cmd(
                    "Check and restart the container runtime",
                    ssh("sudo systemctl status containerd --no-pager; sudo systemctl restart containerd"),
                ));
                (
                    "has no working container runtime".to_string(),
                    "the container runtime (containerd/CRI-O) is down or unhealthy".to_string(),
                )
            } else {
                f.fix.push(Fix::cmd(
                    "Read the kubelet's log on the machine",
                    ssh("sudo journalctl -u kubelet -n 100 --no-pager"),
                ));
                (
                    "is NotReady".to_string(),
                    format!(
                        "its Ready condition is {} ({})",
                        ready.status,
                        if message.is_empty() { reason.clone() } else { message.trim().to_string() }
                    ),
                )
            };
            f.title = format!("Node {name} {what}");
            let pods_text = if pods.is_empty() {
                String::new()
            } else {
                format!(
                    " {} pod{} on it {} stuck until it returns or is removed: {}.",
                    pods.len(),
                    if pods.len() == 1 { "" } else { "s" },
                    if pods.len() == 1 { "is" } else { "are" },
                    stuck.join(", ")
                )
            };
            f.root_cause = format!("Node {name} has been NotReady{since}: {why}.{pods_text}");
            f.affected = pods.iter().take(20).map(|&i| pod_ref(&ev.pods[i])).collect();
            f.fix.push(Fix::cmd("See the node's conditions and events", format!("kubectl describe node {name}")));
            f.fix.push(Fix::cmd(
                "If the node will not come back, move its pods elsewhere and remove it",
                format!("kubectl drain {name} --ignore-daemonsets --delete-emptydir-data --force && kubectl delete node {name}"),
            ));
            out.push(f);
        }
    }
}

fn human(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}
