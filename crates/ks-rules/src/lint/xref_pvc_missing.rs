use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::xref_bundle::RefKind;
use super::xref_refs::not_in_bundle;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A pod template with a `persistentVolumeClaim.claimName` that no PersistentVolumeClaim
    /// of the bundle defines. The claims a StatefulSet's `volumeClaimTemplates` make, and
    /// generic ephemeral volumes, are created by their controllers and never reported.
    ///
    /// ### Why it breaks
    /// The scheduler will not place a pod whose claim does not exist: it stays Pending with
    /// `persistentvolumeclaim "data" not found`. Claims often outlive the workloads that use
    /// them and are created once by hand, so this is a warning naming what must exist.
    ///
    /// ### How to confirm
    /// `kubectl -n NS get pvc NAME` shows whether the claim exists (and is Bound).
    ///
    /// ### Fix
    /// Create the claim, add its manifest to the bundle, or use a StatefulSet
    /// `volumeClaimTemplates` entry so the controller makes one per replica.
    ///
    /// ### Prevention
    /// Keep claims in the same bundle as the workload (with `helm.sh/resource-policy: keep`
    /// when they must survive an uninstall).
    ///
    /// ### Example
    /// Deployment shop/mongodb mounts claim `mongo-data`, which was created by hand in the
    /// staging cluster and never in production.
    pub static META = {
        id: "KS1106",
        name: "pvc-not-in-bundle",
        cause: Cause::SchedPvcUnbound,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a pod template mounts a PersistentVolumeClaim that no manifest of the bundle defines",
    }
}

pub struct PvcNotInBundle;

impl Rule for PvcNotInBundle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        not_in_bundle(cx, &META, RefKind::Pvc, out);
    }
}
