use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{pod_claims, pv, pvc};
use crate::facts::pod_ref;
use crate::signatures::volume::split_list;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Pods stuck in `ContainerCreating` because a ReadWriteOnce volume they need is still
    /// attached to another node: `Multi-Attach error for volume "pvc-..." Volume is already
    /// used by pod(s) ...`. It names the volume, its claim and the pods holding it, and tells
    /// apart the usual stories: a rolling update of a single-volume Deployment, several
    /// replicas sharing one RWO claim, a holder stuck on a dead node.
    ///
    /// ### Why it breaks
    /// A ReadWriteOnce block volume attaches to one node at a time. A Deployment's default
    /// RollingUpdate starts the new pod before the old one stops; when the new pod lands on
    /// another node it waits for the volume the old pod keeps, and the old pod waits for the
    /// new one to become ready: a deadlock. A pod on a node that died keeps the attachment
    /// until it is deleted.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `FailedAttachVolume ... Multi-Attach error`;
    /// `kubectl get volumeattachments | grep <pv>` shows the node holding it;
    /// `kubectl get pod <holder> -o wide` shows where the holder runs.
    ///
    /// ### Fix
    /// For a one-replica Deployment on an RWO claim use `strategy: Recreate`; give each
    /// replica its own volume (StatefulSet `volumeClaimTemplates`) or use ReadWriteMany
    /// storage; force-delete a holder stuck on a dead node.
    ///
    /// ### Prevention
    /// Lint Deployments that mount an RWO claim: they need `strategy: Recreate` and
    /// `replicas: 1`; use StatefulSets for per-replica storage.
    ///
    /// ### Example
    /// `Multi-Attach error for volume "pvc-bca43bf8-..." Volume is already used by pod(s)
    /// vm-import-controller-7f4bf5l9ln9` during an upgrade of a Deployment on a Longhorn RWO
    /// volume.
    pub static META = {
        id: "KS0507",
        name: "volume-multi-attach",
        cause: Cause::VolumeMultiAttach,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a ReadWriteOnce volume the pod needs is still attached to another node",
    }
}

pub struct VolumeMultiAttach;

const GRACE_SECS: i64 = 30;

impl Rule for VolumeMultiAttach {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for m in cx.facts.mounts.iter().filter(|m| m.cause == Cause::VolumeMultiAttach) {
            let pod = &ev.pods[m.pod];
            if ev.age_secs(pod.metadata.creation_timestamp.as_ref().map(|t| t.0)).is_some_and(|a| a < GRACE_SECS) {
                continue;
            }
            let (ns, pod_name) = util::pod_names(ev, m.pod);
            let w = ev.workload_of(m.pod).clone();
            let volume = m.details.get("volume").cloned().unwrap_or_default();
            let holders = split_list(m.details.get("holders").map(String::as_str).unwrap_or_default());
            // The claim: the PV's claimRef, else the pod's claim bound to that PV.
            let claim_name =
                pv(ev, &volume).and_then(|p| p.spec.as_ref()?.claim_ref.as_ref()?.name.clone()).or_else(|| {
                    pod_claims(pod).into_iter().find(|c| {
                        pvc(ev, ns, c).and_then(|c| c.spec.as_ref()?.volume_name.clone()).as_deref()
                            == Some(volume.as_str())
                    })
                });
            let modes: Vec<String> = claim_name
                .as_deref()
                .and_then(|c| pvc(ev, ns, c))
                .and_then(|c| c.spec.as_ref()?.access_modes.clone())
                .unwrap_or_default();
            let claim_text = match &claim_name {
                Some(c) if !modes.is_empty() => format!(" (PVC {c}, {})", modes.join(", ")),
                Some(c) => format!(" (PVC {c})"),
                None => String::new(),
            };

            let mut f = util::finding(&META, w.clone(), String::new(), String::new());
            f.affected.push(pod_ref(pod));
            f.evidence = m.evidence.clone();
            f.root_key = format!("multi-attach:{volume}");

            // Where the holders are, and whether their node is gone.
            let mut dead_holders = Vec::new();
            let mut holder_lines = Vec::new();
            let mut same_workload = false;
            for h in &holders {
                let Some(&hi) = ev.index.pods.get(&(ns.to_string(), h.clone())) else { continue };
                let hp = &ev.pods[hi];
                let hnode = hp.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
                let terminating = hp.metadata.deletion_timestamp.is_some();
                let node_ready = ev.node(&hnode).and_then(|n| {
                    n.status
                        .as_ref()?
                        .conditions
                        .as_ref()?
                        .iter()
                        .find(|c| c.type_ == "Ready")
                        .map(|c| c.status == "True")
                });
                if ev.workload_of(hi) == &w {
                    same_workload = true;
                }
                let mut state = vec![format!("on node {hnode}")];
                if terminating {
                    state.push("terminating".to_string());
                }
                if node_ready == Some(false) {
                    state.push("node NotReady".to_string());
                    dead_holders.push(h.clone());
                }
                holder_lines.push(format!("{h} ({})", state.join(", ")));
            }
            if !holder_lines.is_empty() {
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Status,
                    format!("held by {}", holder_lines.join("; ")),
                    holders.first().map(|h| ks_core::ObjectRef::new("Pod", Some(ns), h)),
                ));
            }
            let holders_text = if holders.is_empty() { "another pod".to_string() } else { util::join_names(&holders) };
            let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
            let on_node = node.map(|n| format!(" on node {n}")).unwrap_or_default();
            let rwo = modes.is_empty() || modes.iter().any(|m| m == "ReadWriteOnce" || m == "ReadWriteOncePod");

            let deployment = (w.kind == "Deployment")
                .then(|| ev.index.deployments.get(&(ns.to_string(), w.name.clone())).map(|&i| &ev.deployments[i]))
                .flatten();
            let strategy = deployment
                .and_then(|d| d.spec.strategy.as_ref()?.type_.clone())
                .unwrap_or_else(|| "RollingUpdate".to_string());
            let replicas = deployment.and_then(|d| d.spec.replicas).unwrap_or(1);

            if !dead_holders.is_empty() {
                f.title = format!("Volume {volume} is still attached for pod {} on a NotReady node", dead_holders[0]);
                f.root_cause = format!(
                    "Pod {pod_name}{on_node} needs ReadWriteOnce volume {volume}{claim_text}, which stays attached to the node of {}, and that node is NotReady: the attachment is not released until the old pod is deleted.",
                    util::join_names(&dead_holders)
                );
                for h in &dead_holders {
                    f.fix.push(Fix::cmd(
                        format!("Force-delete {h}: its node is gone, so the kubelet cannot confirm it stopped"),
                        format!("kubectl {}delete pod {h} --grace-period=0 --force", util::ns_flag(ns)),
                    ));
                }
            } else if w.kind == "Deployment" && replicas > 1 && rwo {
                f.title = format!("{replicas} replicas of Deployment {} share ReadWriteOnce volume {volume}", w.name);
                f.root_cause = format!(
                    "Deployment {} runs {replicas} replicas that all mount volume {volume}{claim_text}; a ReadWriteOnce volume attaches to one node, so pod {pod_name}{on_node} waits while {holders_text} holds it elsewhere.",
                    w.name
                );
                f.fix.push(Fix::cmd(
                    "Run one replica on the ReadWriteOnce volume",
                    format!("kubectl {}scale deployment {} --replicas=1", w.ns_flag(), w.name),
                ));
                f.fix.push(Fix::text(
                    "Or give each replica its own volume (a StatefulSet with volumeClaimTemplates), or use ReadWriteMany storage",
                ));
            } else if w.kind == "Deployment" && strategy == "RollingUpdate" {
                f.title =
                    format!("Rolling update of Deployment {} needs ReadWriteOnce volume {volume} on two nodes", w.name);
                f.root_cause = format!(
                    "Deployment {} mounts volume {volume}{claim_text} with the RollingUpdate strategy: the new pod {pod_name}{on_node} starts before the old pod {holders_text} stops, and the volume cannot attach to a second node. The old pod is only removed once the new one is ready, so the rollout never finishes.",
                    w.name
                );
                f.fix.push(Fix::cmd(
                    "Switch the Deployment to the Recreate strategy, so the old pod releases the volume first",
                    format!(
                        "kubectl {}patch deployment {} --type merge -p '{{\"spec\":{{\"strategy\":{{\"type\":\"Recreate\",\"rollingUpdate\":null}}}}}}'",
                        w.ns_flag(),
                        w.name
                    ),
                ));
                if !holders.is_empty() && same_workload {
                    f.fix.push(Fix::cmd(
                        format!("Then delete the old pod to unblock the current rollout ({})", holders[0]),
                        format!("kubectl {}delete pod {}", util::ns_flag(ns), holders[0]),
                    ));
                }
            } else {
                f.title = format!("Volume {volume} is still attached to another node");
                f.root_cause = format!(
                    "Pod {pod_name}{on_node} needs ReadWriteOnce volume {volume}{claim_text}, which is still attached to another node for {holders_text}; it cannot attach to a second node until that pod stops and the volume detaches."
                );
                if let Some(h) = holders.first() {
                    f.fix.push(Fix::cmd(
                        format!("Find out why {h} still holds the volume, and stop it if it should not"),
                        format!("kubectl {}get pod {h} -o wide", util::ns_flag(ns)),
                    ));
                }
            }
            f.fix.push(Fix::cmd(
                "See which node the volume is attached to",
                format!("kubectl get volumeattachments | grep {volume}"),
            ));
            out.push(f);
        }
    }
}
