use std::collections::BTreeMap;

use ks_core::k8s_openapi::api::core::v1::Taint;
use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::{node_name, taint_text, untolerated};
use crate::facts::PendingPod;
use crate::signatures::sched::is_control_plane_taint;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Pods the scheduler cannot place because the nodes carry `NoSchedule`/`NoExecute`
    /// taints the pod does not tolerate: `node(s) had untolerated taint {key: value}`,
    /// `node(s) had untolerated taint(s)`, and cordoned or not-ready nodes
    /// (`node(s) were unschedulable`), named from the nodes in the evidence.
    ///
    /// ### Why it breaks
    /// A taint repels every pod without a matching toleration. kubeadm taints control-plane
    /// nodes (`node-role.kubernetes.io/control-plane:NoSchedule`), so a single-node cluster
    /// accepts no workloads until the taint is removed; dedicated pools (GPU, spot) are
    /// tainted on purpose; the node lifecycle controller taints NotReady and pressured nodes.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `FailedScheduling ... untolerated taint`;
    /// `kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints` lists
    /// the taints; `kubectl get pod <pod> -o jsonpath='{.spec.tolerations}'` the tolerations.
    ///
    /// ### Fix
    /// Remove the taint when it is not wanted (`kubectl taint nodes <node> <key>:<effect>-`),
    /// add a matching toleration to the pod template when the pod belongs on those nodes, or
    /// add untainted worker nodes. Cordoned nodes: `kubectl uncordon <node>`.
    ///
    /// ### Prevention
    /// On single-node and lab clusters remove the control-plane taint at install time; ship
    /// tolerations with the workloads meant for dedicated pools and keep a general-purpose
    /// pool for everything else.
    ///
    /// ### Example
    /// `0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }`
    /// on a one-node kubeadm cluster.
    pub static META = {
        id: "KS0502",
        name: "untolerated-taint",
        cause: Cause::SchedTaint,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the nodes carry taints the pod does not tolerate",
    }
}

pub struct UntoleratedTaint;

impl Rule for UntoleratedTaint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pending_findings(cx, &META, Cause::SchedTaint, out, |p, f| explain(cx, p, f));
    }
}

/// Taints the node lifecycle controller and the kubelet set from node conditions.
fn condition_taint(key: &str) -> bool {
    key.starts_with("node.kubernetes.io/")
}

fn explain(cx: &Context<'_>, p: &PendingPod, f: &mut Finding) {
    let ev = cx.ev;
    let pod = &ev.pods[p.pod];
    let w = f.object.clone();
    let (_, pod_name) = util::pod_names(ev, p.pod);

    // Untolerated taints per node, from the nodes in the evidence.
    let mut by_taint: BTreeMap<String, (Taint, Vec<String>)> = BTreeMap::new();
    for n in &ev.nodes {
        for t in untolerated(pod, n) {
            by_taint.entry(taint_text(t)).or_insert_with(|| (t.clone(), Vec::new())).1.push(node_name(n).to_string());
        }
    }
    let cordoned: Vec<String> = ev
        .nodes
        .iter()
        .filter(|n| n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false))
        .map(|n| node_name(n).to_string())
        .collect();
    // Without nodes in the evidence, the message may still name the taint (`{key: value}`).
    if by_taint.is_empty() {
        for (_, reason) in &p.entries {
            if let Some(m) = crate::signatures::sched::MATCHER.first(reason) {
                let t = m.get("taint");
                if let Some((k, v)) = t.split_once(':') {
                    let taint = Taint {
                        key: k.trim().to_string(),
                        value: Some(v.trim().to_string()).filter(|v| !v.is_empty()),
                        effect: "NoSchedule".to_string(),
                        time_added: None,
                    };
                    by_taint.entry(taint_text(&taint)).or_insert_with(|| (taint, Vec::new()));
                }
            }
        }
    }
    for (text, (_, nodes)) in &by_taint {
        let on = if nodes.is_empty() { String::new() } else { format!(" on {}", util::join_names(nodes)) };
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Node,
            format!("taint {text}{on}"),
            nodes.first().map(|n| ObjectRef::new("Node", None, n)),
        ));
    }
    let tolerations: Vec<String> = pod
        .spec
        .iter()
        .flat_map(|s| s.tolerations.iter().flatten())
        .map(|t| {
            format!(
                "{}{}{}",
                t.key.as_deref().unwrap_or("*"),
                t.value.as_deref().filter(|v| !v.is_empty()).map(|v| format!("={v}")).unwrap_or_default(),
                t.effect.as_deref().filter(|e| !e.is_empty()).map(|e| format!(":{e}")).unwrap_or_default()
            )
        })
        .collect();
    // The default not-ready/unreachable NoExecute tolerations every pod gets are noise here.
    let own_tolerations: Vec<&String> = tolerations
        .iter()
        .filter(|t| !t.starts_with("node.kubernetes.io/not-ready") && !t.starts_with("node.kubernetes.io/unreachable"))
        .collect();
    let tol_text = if own_tolerations.is_empty() {
        "The pod has no tolerations of its own.".to_string()
    } else {
        format!("The pod tolerates only {}.", util::join_names(&own_tolerations))
    };

    let total = if p.total_nodes > 0 { p.total_nodes as usize } else { ev.nodes.len() };
    let user: Vec<(&String, &(Taint, Vec<String>))> =
        by_taint.iter().filter(|(_, (t, _))| !condition_taint(&t.key) && !is_control_plane_taint(&t.key)).collect();
    let control: Vec<(&String, &(Taint, Vec<String>))> =
        by_taint.iter().filter(|(_, (t, _))| is_control_plane_taint(&t.key)).collect();
    let conditions: Vec<(&String, &(Taint, Vec<String>))> =
        by_taint.iter().filter(|(_, (t, _))| condition_taint(&t.key)).collect();
    let reason_cordoned = p.entries.iter().any(|(_, r)| r.contains("were unschedulable"));

    let taint_list = |v: &[(&String, &(Taint, Vec<String>))]| -> String {
        util::join_names(
            &v.iter()
                .map(|(t, (_, n))| if n.is_empty() { (*t).clone() } else { format!("{t} ({})", util::join_names(n)) })
                .collect::<Vec<_>>(),
        )
    };

    let mut fixes = Vec::new();
    // How many nodes are control-plane nodes, from the nodes or from the message's counts.
    let cp_nodes = control
        .iter()
        .map(|(_, (_, n))| n.len())
        .max()
        .unwrap_or(0)
        .max(p.entries.iter().filter(|(_, r)| is_control_plane_taint(r)).map(|(n, _)| *n as usize).sum());
    if !control.is_empty() && user.is_empty() && conditions.is_empty() && cp_nodes >= total.max(1) {
        // Every node is a control-plane node: a single-node (or control-plane-only) cluster.
        let (text, (taint, nodes)) = control[0];
        let node = nodes.first().cloned();
        f.title = match (&node, total) {
            (Some(n), 1) => format!("The only node, {n}, is a control-plane node tainted {text}"),
            _ => format!("Every node is a control-plane node tainted {text}"),
        };
        f.root_cause = format!(
            "The cluster has no worker nodes: {} carr{} the control-plane taint {text}, and pod {pod_name} does not tolerate it, so it stays Pending. {tol_text}",
            node.as_deref().map(|n| format!("node {n}")).unwrap_or_else(|| "the control-plane node".to_string()),
            if nodes.len() > 1 { "y" } else { "ies" }
        );
        f.root_key = format!("taint:{}", taint.key);
        fixes.push(Fix::cmd(
            "On a single-node or lab cluster, let workloads run on the control-plane node by removing the taint",
            match (&node, nodes.len()) {
                (Some(n), 1) => format!("kubectl taint nodes {n} {}:{}-", taint.key, taint.effect),
                _ => format!("kubectl taint nodes --all {}-", taint.key),
            },
        ));
        fixes.push(Fix::text("Or join worker nodes to the cluster (kubeadm join) so workloads have somewhere to run"));
    } else if !conditions.is_empty() && user.is_empty() {
        let nodes: Vec<String> = conditions.iter().flat_map(|(_, (_, n))| n.iter().cloned()).collect();
        let mut uniq = nodes.clone();
        uniq.sort();
        uniq.dedup();
        f.title = format!(
            "The nodes are tainted by their condition: {}",
            conditions.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(", ")
        );
        f.root_cause = format!(
            "Pod {pod_name} cannot go to {} because the node lifecycle controller tainted {} ({}); the node must recover before it takes pods.",
            util::join_names(&uniq),
            if uniq.len() == 1 { "it" } else { "them" },
            taint_list(&conditions)
        );
        f.root_key = if uniq.len() == 1 {
            let key = &conditions[0].1.0.key;
            if key.contains("pressure") {
                format!(
                    "node-pressure:{}:{}",
                    uniq[0],
                    key.trim_start_matches("node.kubernetes.io/").trim_end_matches("-pressure")
                )
            } else {
                format!("node:{}", uniq[0])
            }
        } else {
            format!("taint:{}", conditions[0].1.0.key)
        };
        for n in uniq.iter().take(3) {
            fixes.push(Fix::cmd(format!("See why node {n} is unhealthy"), format!("kubectl describe node {n}")));
        }
    } else if user.is_empty() && control.is_empty() && (reason_cordoned || !cordoned.is_empty()) {
        f.title = if cordoned.is_empty() {
            "The nodes are cordoned (unschedulable)".to_string()
        } else {
            format!(
                "Node{} {} cordoned",
                if cordoned.len() == 1 { " is" } else { "s are" },
                util::join_names(&cordoned)
            )
        };
        f.root_cause = format!(
            "Pod {pod_name} cannot be placed: {} marked unschedulable (kubectl cordon or drain), and no other node takes it.",
            if cordoned.is_empty() {
                "the nodes are".to_string()
            } else {
                format!("{} {}", util::join_names(&cordoned), if cordoned.len() == 1 { "is" } else { "are" })
            }
        );
        f.root_key = "sched.cordoned".to_string();
        for n in cordoned.iter().take(3) {
            fixes.push(Fix::cmd(format!("Uncordon {n} once its maintenance is done"), format!("kubectl uncordon {n}")));
        }
        if cordoned.is_empty() {
            fixes.push(Fix::cmd(
                "Find the cordoned nodes",
                "kubectl get nodes --field-selector spec.unschedulable=true",
            ));
        }
    } else {
        // Dedicated pools and other user taints (control-plane nodes counted alongside).
        let shown: Vec<(&String, &(Taint, Vec<String>))> =
            if user.is_empty() { by_taint.iter().collect() } else { user.clone() };
        let names = if shown.is_empty() { "the nodes' taints".to_string() } else { taint_list(&shown) };
        f.title = match shown.first() {
            Some((t, (_, n))) if shown.len() == 1 => {
                format!(
                    "Pod does not tolerate taint {t}{}",
                    if n.is_empty() {
                        String::new()
                    } else {
                        format!(" on {} node{}", n.len(), if n.len() == 1 { "" } else { "s" })
                    }
                )
            }
            _ => "Pod does not tolerate the nodes' taints".to_string(),
        };
        f.root_cause = format!(
            "Every node that could take pod {pod_name} carries a taint it does not tolerate: {names}. {tol_text}"
        );
        if cp_nodes > 0 && !user.is_empty() {
            f.root_cause
                .push_str(&format!(" {cp_nodes} more node(s) are control-plane nodes, which take no workloads."));
        }
        f.root_key =
            shown.first().map(|(_, (t, _))| format!("taint:{}", t.key)).unwrap_or_else(|| "taint:unknown".to_string());
        if let Some((_, (taint, nodes))) = shown.first() {
            let op = if taint.value.as_deref().is_some_and(|v| !v.is_empty()) { "Equal" } else { "Exists" };
            let value = taint
                .value
                .as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!(",\"value\":\"{v}\""))
                .unwrap_or_default();
            let tol =
                format!("{{\"key\":\"{}\",\"operator\":\"{op}\"{value},\"effect\":\"{}\"}}", taint.key, taint.effect);
            let has_tols =
                util::pod_template(ev, &w).is_some_and(|(s, _)| s.tolerations.as_ref().is_some_and(|t| !t.is_empty()));
            let cmd = if has_tols {
                super::template_patch(ev, &w, "add", "tolerations/-", Some(&tol))
            } else {
                super::template_patch(ev, &w, "add", "tolerations", Some(&format!("[{tol}]")))
            };
            match cmd {
                Some(c) => fixes.push(Fix::cmd(format!("If {} belongs on those nodes, tolerate the taint", w.name), c)),
                None => fixes.push(Fix::text(format!(
                    "If the pod belongs on those nodes, add to its spec: tolerations: [{tol}]"
                ))),
            }
            let remove = match nodes.as_slice() {
                [one] => format!("kubectl taint nodes {one} {}:{}-", taint.key, taint.effect),
                _ => format!("kubectl taint nodes --all {}:{}-", taint.key, taint.effect),
            };
            fixes.push(Fix::cmd("Or, if the taint is not wanted, remove it", remove));
        }
    }
    f.root_cause.push_str(&super::other_entries(p, Cause::SchedTaint));
    f.fix = fixes;
}
