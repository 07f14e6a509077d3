use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::refs::Kind;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Pods that reference a ConfigMap their namespace does not have: env `configMapKeyRef` or
    /// `envFrom` (`CreateContainerConfigError: configmap "x" not found`) or a configMap volume
    /// (`FailedMount: MountVolume.SetUp failed for volume "cfg" : configmap "x" not found`).
    /// When ConfigMaps were collected, it lists similarly named ConfigMaps in the namespace and
    /// ConfigMaps of the same name in other namespaces. A missing `kube-root-ca.crt` points at
    /// kube-controller-manager instead.
    ///
    /// ### Why it breaks
    /// A pod can only read ConfigMaps of its own namespace. A ConfigMap created in another
    /// namespace, renamed by a chart (release-name prefixes), or not created yet keeps the
    /// container from starting or the volume from mounting, unless the reference is
    /// `optional: true`.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `configmap "x" not found`; `kubectl get configmap x -n
    /// <ns>` returns NotFound.
    ///
    /// ### Fix
    /// Create the ConfigMap in the pod's namespace with the keys the pod reads, copy it from
    /// where it exists, or point the reference at the ConfigMap that exists.
    ///
    /// ### Prevention
    /// Ship ConfigMaps in the same release as the workloads that read them; with kustomize
    /// `configMapGenerator`, reference the generator's name so the hash suffix is applied.
    ///
    /// ### Example
    /// `MountVolume.SetUp failed for volume "config" : configmap "web-config" not found`.
    pub static META = {
        id: "KS0203",
        name: "configmap-missing",
        cause: Cause::ConfigConfigmapMissing,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a pod references a configmap that does not exist in its namespace",
    }
}

pub struct ConfigmapMissing;

impl Rule for ConfigmapMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::missing_findings(cx, &META, Kind::ConfigMap, out);
    }
}
