use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::{claim_users, diagnose_pvc, pvc_ref};
use crate::facts::pod_ref;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// PersistentVolumeClaims that stay `Pending`, whether or not a pod uses them yet: no
    /// `storageClassName` and no default StorageClass (`no persistent volumes available for
    /// this claim and no storage class is set`), a StorageClass that does not exist
    /// (`storageclass.storage.k8s.io "x" not found`), a provisioner that fails
    /// (`ProvisioningFailed`) or never answers. It lists the StorageClasses that exist and
    /// which one is the default.
    ///
    /// ### Why it breaks
    /// A claim binds only to a volume that a provisioner creates for its class, or to a
    /// matching PersistentVolume created by hand. Without either the claim waits forever,
    /// and every pod that mounts it stays Pending.
    ///
    /// ### How to confirm
    /// `kubectl describe pvc <claim>` shows the events; `kubectl get storageclass` shows the
    /// classes and the `(default)` marker; the provisioner's pods show whether it runs.
    ///
    /// ### Fix
    /// Mark a StorageClass default (or install a provisioner first), recreate the claim
    /// with a class that exists (`storageClassName` is immutable), or fix what the
    /// provisioner's error names (credentials, quota, zone).
    ///
    /// ### Prevention
    /// Bootstrap every cluster with a default StorageClass and its provisioner; set the
    /// class explicitly in chart values per environment.
    ///
    /// ### Example
    /// Claim `hub-db-dir` with no StorageClass on a self-managed cluster that has none:
    /// `no persistent volumes available for this claim and no storage class is set`.
    pub static META = {
        id: "KS0508",
        name: "pvc-pending",
        cause: Cause::VolumePvcPending,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a PersistentVolumeClaim stays Pending and never binds",
    }
}

pub struct PvcPending;

impl Rule for PvcPending {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for claim in &ev.pvcs {
            if claim.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let phase = claim.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
            if phase != "Pending" {
                continue;
            }
            let ns = claim.metadata.namespace.as_deref().unwrap_or_default();
            let name = claim.metadata.name.as_deref().unwrap_or_default();
            let d = diagnose_pvc(ev, ns, name);
            if !d.problem {
                continue;
            }
            let users = claim_users(ev, ns, name);
            let mut f = util::finding(&META, pvc_ref(ns, name), d.title, String::new());
            let used = if users.is_empty() {
                " No pod in the evidence uses it yet.".to_string()
            } else {
                let names: Vec<&str> = users.iter().map(|&i| util::pod_names(ev, i).1).collect();
                format!(" Pods waiting on it: {}.", util::join_names(&names))
            };
            f.root_cause = format!("{}{used}", d.why);
            f.affected = users.iter().map(|&i| pod_ref(&ev.pods[i])).collect();
            f.evidence = d.evidence;
            f.fix = d.fixes;
            f.root_key = d.root_key;
            out.push(f);
        }
    }
}
