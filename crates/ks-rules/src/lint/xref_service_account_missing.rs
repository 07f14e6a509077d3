use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::xref_bundle::RefKind;
use super::xref_refs::not_in_bundle;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A pod template whose `serviceAccountName` (or the deprecated `serviceAccount`) names a
    /// ServiceAccount no manifest of the bundle defines. `default`, which every namespace has,
    /// is never reported.
    ///
    /// ### Why it breaks
    /// The ServiceAccount admission plugin rejects every pod whose ServiceAccount does not
    /// exist, so the ReplicaSet (or Job, StatefulSet...) creates no pods: `Error creating:
    /// pods "backend-7c5d-" is forbidden: error looking up service account shop/backend:
    /// serviceaccount "backend" not found`. The workload shows 0 ready replicas and no pod to
    /// describe. It may be created elsewhere, so this is a warning.
    ///
    /// ### How to confirm
    /// `kubectl -n NS get serviceaccount NAME`; once applied,
    /// `kubectl -n NS describe replicaset` shows the `FailedCreate` event.
    ///
    /// ### Fix
    /// Create the ServiceAccount (`kubectl -n shop create serviceaccount backend`) or add its
    /// manifest (with the RoleBindings it needs) to the bundle.
    ///
    /// ### Prevention
    /// Ship a workload's ServiceAccount and RBAC in the same bundle as the workload.
    ///
    /// ### Example
    /// A chart rendered with `serviceAccount.create=false` and `serviceAccount.name=backend`
    /// while nothing creates `backend`.
    pub static META = {
        id: "KS1105",
        name: "service-account-not-in-bundle",
        cause: Cause::ConfigServiceAccountMissing,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a pod template runs as a ServiceAccount that no manifest of the bundle defines",
    }
}

pub struct ServiceAccountNotInBundle;

impl Rule for ServiceAccountNotInBundle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        not_in_bundle(cx, &META, RefKind::ServiceAccount, out);
    }
}
