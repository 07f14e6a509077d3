use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::{node_labels, node_name, requirement_matches, requirement_text, untolerated};
use crate::facts::PendingPod;
use crate::volume::{pod_claims, pv, pvc};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Pods the scheduler cannot place because a volume they mount can only be used where
    /// the pod cannot go: `node(s) had volume node affinity conflict`, `node(s) didn't match
    /// PersistentVolume's node affinity`, `node(s) didn't find available persistent volumes
    /// to bind`, or a claim bound to a PersistentVolume that no longer exists. It names the
    /// PersistentVolume, the zone or node it is pinned to, and why the nodes there are out.
    ///
    /// ### Why it breaks
    /// Zonal disks (EBS, Persistent Disk, Azure Disk) attach only in their zone, and local
    /// volumes only on their node. When the pod's nodeSelector, the node pool, a taint or a
    /// lost node leaves no schedulable node there, the pod waits forever. Claims bound at
    /// creation (`volumeBindingMode: Immediate`) pick a zone before the pod does.
    ///
    /// ### How to confirm
    /// `kubectl get pv <pv> -o jsonpath='{.spec.nodeAffinity}'` shows where the volume lives;
    /// `kubectl get nodes -L topology.kubernetes.io/zone` shows which nodes are there.
    ///
    /// ### Fix
    /// Add a node in the volume's zone (scale that zone's node pool), remove the pod's
    /// constraint that excludes it, or, when the data can go, delete the claim so it is
    /// provisioned again where the pod runs.
    ///
    /// ### Prevention
    /// Use StorageClasses with `volumeBindingMode: WaitForFirstConsumer` so volumes are
    /// created in the zone the pod is scheduled to; keep node pools in every zone that holds
    /// volumes.
    ///
    /// ### Example
    /// `0/3 nodes are available: 3 node(s) had volume node affinity conflict.` for a pod whose
    /// EBS volume is in `eu-west-1a` while the node group now spans only `eu-west-1b`.
    pub static META = {
        id: "KS0505",
        name: "volume-zone-conflict",
        cause: Cause::SchedVolumeNodeAffinity,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the pod's volume lives in a zone or on a node the pod cannot go to",
    }
}

pub struct VolumeZoneConflict;

impl Rule for VolumeZoneConflict {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pending_findings(cx, &META, Cause::SchedVolumeNodeAffinity, out, |p, f| explain(cx, p, f));
    }
}

fn explain(cx: &Context<'_>, p: &PendingPod, f: &mut Finding) {
    let ev = cx.ev;
    let pod = &ev.pods[p.pod];
    let (ns, pod_name) = util::pod_names(ev, p.pod);
    let claims = pod_claims(pod);
    let no_pv_to_bind = p.entries.iter().any(|(_, r)| r.contains("didn't find available persistent volumes"));
    let lost_pv = p.entries.iter().any(|(_, r)| r.contains("non-existent pv"));

    // The first claim bound to a PV with node affinity (or to a PV that is gone).
    for c in &claims {
        let Some(claim) = pvc(ev, ns, c) else { continue };
        let Some(vol) = claim.spec.as_ref().and_then(|s| s.volume_name.clone()).filter(|v| !v.is_empty()) else {
            continue;
        };
        let pv_ref = ObjectRef::new("PersistentVolume", None, &vol).with_api_version("v1");
        let Some(volume) = pv(ev, &vol) else {
            if ev.has_collected("PersistentVolume") || lost_pv {
                f.title = format!("PVC {ns}/{c} is bound to PersistentVolume {vol}, which no longer exists");
                f.root_cause = format!(
                    "Pod {pod_name} mounts claim {c}, bound to PersistentVolume {vol}; that volume was deleted, so no node can provide it."
                );
                f.root_key = format!("pv:{vol}");
                f.fix.push(Fix::cmd(
                    format!("Recreate the claim so it binds to a new volume (the old data is gone with {vol})"),
                    format!("kubectl {}delete pvc {c}", util::ns_flag(ns)),
                ));
                return;
            }
            continue;
        };
        let terms: Vec<Vec<_>> = volume
            .spec
            .as_ref()
            .and_then(|s| s.node_affinity.as_ref())
            .and_then(|a| a.required.as_ref())
            .map(|r| r.node_selector_terms.iter().map(|t| t.match_expressions.clone().unwrap_or_default()).collect())
            .unwrap_or_default();
        if terms.is_empty() {
            continue;
        }
        let where_text: Vec<String> =
            terms.iter().map(|t| t.iter().map(requirement_text).collect::<Vec<_>>().join(" and ")).collect();
        let where_text = where_text.join(" or ");
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("PersistentVolume {vol} (claim {c}) node affinity: {where_text}"),
            Some(pv_ref.clone()),
        ));
        // The nodes where the volume can be used, and why each is out for this pod.
        let mut there = Vec::new();
        for n in &ev.nodes {
            let l = node_labels(n);
            if !terms.iter().any(|t| t.iter().all(|r| requirement_matches(&l, r))) {
                continue;
            }
            let mut why = Vec::new();
            let taints = untolerated(pod, n);
            if !taints.is_empty() {
                why.push(format!(
                    "tainted {}",
                    taints.iter().map(|t| super::taint_text(t)).collect::<Vec<_>>().join(", ")
                ));
            }
            if n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false) {
                why.push("cordoned".to_string());
            }
            let ready = n
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                .map(|c| c.status == "True");
            if ready == Some(false) {
                why.push("NotReady".to_string());
            }
            let sel = pod.spec.as_ref().and_then(|s| s.node_selector.clone()).unwrap_or_default();
            let off: Vec<String> =
                sel.iter().filter(|(k, v)| l.get(*k) != Some(*v)).map(|(k, v)| format!("{k}={v}")).collect();
            if !off.is_empty() {
                why.push(format!("outside the pod's nodeSelector {}", off.join(", ")));
            }
            there.push((node_name(n).to_string(), why));
        }
        let (title, detail) = if ev.nodes.is_empty() {
            (format!("PersistentVolume {vol} can only be used where the pod cannot go ({where_text})"), String::new())
        } else if there.is_empty() {
            // What the nodes have instead, for the first key the volume pins.
            let key = terms.first().and_then(|t| t.first()).map(|r| r.key.clone()).unwrap_or_default();
            let mut have: Vec<String> = ev.nodes.iter().filter_map(|n| node_labels(n).get(&key).cloned()).collect();
            have.sort();
            have.dedup();
            let have_text = if have.is_empty() {
                String::new()
            } else {
                format!(" (the nodes have {key} {})", util::join_names(&have))
            };
            (
                format!("No node can use PersistentVolume {vol}: it is pinned to {where_text}"),
                format!(
                    " None of the {} nodes satisfies that{have_text}: the node or zone the volume was created in has no nodes any more.",
                    ev.nodes.len()
                ),
            )
        } else {
            let list: Vec<String> = there
                .iter()
                .map(|(n, why)| if why.is_empty() { n.clone() } else { format!("{n} ({})", why.join("; ")) })
                .collect();
            (
                format!("PersistentVolume {vol} is pinned to {where_text}, where the pod cannot run"),
                format!(" The nodes there: {}.", list.join(", ")),
            )
        };
        f.title = title;
        f.root_cause = format!(
            "Pod {pod_name} mounts claim {c}, bound to PersistentVolume {vol}, which can only be used on nodes with {where_text}.{detail}{}",
            super::other_entries(p, Cause::SchedVolumeNodeAffinity)
        );
        f.root_key = format!("pv:{vol}");
        f.fix.push(Fix::cmd(
            "Add a schedulable node where the volume lives (scale that zone's node pool), then check",
            format!(
                "kubectl get nodes -L {}",
                terms.first().and_then(|t| t.first()).map(|r| r.key.as_str()).unwrap_or("topology.kubernetes.io/zone")
            ),
        ));
        let w = &f.object;
        if w.kind == "StatefulSet" {
            f.fix.push(Fix::cmd(
                format!("Or, if the data in {vol} can be discarded, delete the claim and the pod; the StatefulSet recreates both where the pod can run"),
                format!("kubectl {0}delete pvc {c} --wait=false && kubectl {0}delete pod {pod_name}", util::ns_flag(ns)),
            ));
        } else {
            f.fix.push(Fix::text(format!(
                "Or, if the data in {vol} can be discarded, delete claim {c} and apply its manifest again so it is provisioned where the pod can run"
            )));
        }
        return;
    }
    if no_pv_to_bind {
        f.title = "No available PersistentVolume fits the pod's claims on any node".to_string();
        f.root_cause = format!(
            "Pod {pod_name} has WaitForFirstConsumer claims ({}) that must bind to pre-created PersistentVolumes, and no free PersistentVolume of matching class, size and access modes is usable on a node the pod can go to.",
            util::join_names(&claims)
        );
        f.root_key = format!("pv-unavailable:{ns}/{}", claims.first().map(String::as_str).unwrap_or("?"));
        f.fix.push(Fix::cmd(
            "List the PersistentVolumes, their class, size, phase and node affinity",
            "kubectl get pv -o wide",
        ));
        return;
    }
    f.title = "The pod's volume is pinned where the pod cannot go".to_string();
    f.root_cause = format!(
        "The scheduler reports a volume node affinity conflict for pod {pod_name}; the claims' PersistentVolumes ({}) are not in the evidence to say where they live.",
        util::join_names(&claims)
    );
    f.root_key = format!("volume-affinity:{ns}/{}", claims.first().map(String::as_str).unwrap_or("?"));
    f.fix.push(Fix::cmd(
        "See where the volumes live",
        format!("kubectl {}get pvc -o wide && kubectl get pv -o custom-columns=NAME:.metadata.name,CLAIM:.spec.claimRef.name,AFFINITY:.spec.nodeAffinity", util::ns_flag(ns)),
    ));
}
