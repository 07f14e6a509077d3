use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::refs::Kind;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A container whose `env[].valueFrom.configMapKeyRef` (or a configMap volume's
    /// `items[].key`) names a key that the ConfigMap does not have: the pod sits in
    /// `CreateContainerConfigError` (or `ContainerCreating` for volumes).
    ///
    /// ### Why it breaks
    /// The ConfigMap exists, so nothing fails at apply time, but the key was renamed,
    /// misspelt, or never added (a chart value that renders a different key name). The kubelet
    /// will not start the container until the key exists or the reference is marked
    /// `optional: true`.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `couldn't find key <key> in ConfigMap <ns>/<name>` (or
    /// `configmap references non-existent config key: <key>`); `kubectl get configmap <name>
    /// -o yaml` lists the keys that exist.
    ///
    /// ### Fix
    /// Add the key to the ConfigMap, or point the reference at the key that exists.
    ///
    /// ### Prevention
    /// Generate the ConfigMap and the workload that reads it from one source (one chart, one
    /// kustomization) and check configMapKeyRef keys in CI.
    ///
    /// ### Example
    /// `couldn't find key log.level in ConfigMap shop/app-config` while the ConfigMap holds
    /// `log-level`.
    pub static META = {
        id: "KS0204",
        name: "configmap-key-missing",
        cause: Cause::ConfigConfigmapKeyMissing,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a configMapKeyRef names a key the ConfigMap does not have",
    }
}

pub struct ConfigmapKeyMissing;

impl Rule for ConfigmapKeyMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::key_missing_findings(cx, &META, Kind::ConfigMap, out);
    }
}
