use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::volume::{diagnose_pvc, pod_claims, pvc};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Pods the scheduler holds back because a PersistentVolumeClaim they mount is not bound
    /// (`pod has unbound immediate PersistentVolumeClaims`) or does not exist
    /// (`persistentvolumeclaim "x" not found`), and why the claim is not bound: no
    /// storageClassName and no default StorageClass, a StorageClass that does not exist, a
    /// provisioner that fails or never answers.
    ///
    /// ### Why it breaks
    /// A pod cannot be placed before its immediate-binding claims are bound to a volume. A
    /// cluster without a default StorageClass (self-managed, kubeadm, bare metal) leaves every
    /// chart's claim Pending, and the pod with it.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `FailedScheduling ... unbound immediate
    /// PersistentVolumeClaims`; `kubectl describe pvc <claim>` shows the claim's events;
    /// `kubectl get storageclass` shows whether a class is marked `(default)`.
    ///
    /// ### Fix
    /// Install a provisioner and mark its StorageClass default, recreate the claim with an
    /// existing class, or create a matching PersistentVolume by hand.
    ///
    /// ### Prevention
    /// Make a default StorageClass part of cluster bootstrap; set `storageClassName`
    /// explicitly in chart values for environments without one.
    ///
    /// ### Example
    /// `0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims.` for a
    /// JupyterHub hub whose claim `hub-db-dir` has no StorageClass on a cluster with none.
    pub static META = {
        id: "KS0504",
        name: "pvc-unbound",
        cause: Cause::SchedPvcUnbound,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the pod waits for a PersistentVolumeClaim that is not bound",
    }
}

pub struct PvcUnbound;

impl Rule for PvcUnbound {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for p in cx.facts.pending.iter().filter(|p| p.cause == Cause::SchedPvcUnbound) {
            let (ns, pod_name) = util::pod_names(ev, p.pod);
            let claims = pod_claims(&ev.pods[p.pod]);
            // Claims bound since the failure need nothing: the next attempt places the pod.
            let mut unbound: Vec<String> = claims
                .iter()
                .filter(|c| {
                    pvc(ev, ns, c).is_none_or(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound"))
                })
                .cloned()
                .collect();
            if !claims.is_empty() && unbound.is_empty() {
                continue;
            }
            // The claim the message names when the pod's spec does not list it.
            if unbound.is_empty() {
                unbound.extend(
                    p.message
                        .split_once("persistentvolumeclaim \"")
                        .and_then(|(_, rest)| rest.split('"').next())
                        .map(str::to_string),
                );
            }
            let mut f = super::pending_finding(cx, &META, p);
            match unbound.first() {
                None => {
                    f.title = "Pod waits for a PersistentVolumeClaim that is not bound".to_string();
                    f.root_cause = format!(
                        "Pod {pod_name} mounts a PersistentVolumeClaim that is not bound; the evidence does not name the claim."
                    );
                    f.root_key = format!("pvc:{ns}/?");
                    f.fix.push(Fix::cmd(
                        "List the namespace's claims and their state",
                        format!("kubectl {}get pvc", util::ns_flag(ns)),
                    ));
                }
                Some(first) => {
                    let d = diagnose_pvc(ev, ns, first);
                    // A claim still within its provisioning grace period: the pod just waits.
                    if !d.problem && pvc(ev, ns, first).is_some() {
                        continue;
                    }
                    f.title =
                        if d.title.is_empty() { format!("PVC {ns}/{first} is not bound") } else { d.title.clone() };
                    let others = if unbound.len() > 1 {
                        format!(" (also unbound: {})", util::join_names(&unbound[1..]))
                    } else {
                        String::new()
                    };
                    f.root_cause = format!(
                        "Pod {pod_name} mounts PersistentVolumeClaim {first}{others}, which is not bound, so the scheduler holds it back. {}",
                        if d.why.is_empty() {
                            "The claim's events do not say why yet.".to_string()
                        } else {
                            d.why.clone()
                        }
                    );
                    f.evidence.extend(d.evidence);
                    f.fix = d.fixes;
                    f.root_key = d.root_key;
                }
            }
            f.fix.push(util::describe_pod(ev, p.pod));
            out.push(f);
        }
    }
}
