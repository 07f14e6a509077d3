use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::xref_bundle::RefKind;
use super::xref_refs::not_in_bundle;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A pod template that reads a ConfigMap no manifest of the bundle defines: an
    /// `env[].valueFrom.configMapKeyRef`, an `envFrom[].configMapRef`, a `configMap` volume or
    /// projected source. References marked `optional: true` are skipped, and so are the
    /// ConfigMaps the cluster puts in every namespace (`kube-root-ca.crt`, OpenShift's
    /// `openshift-service-ca.crt`, Istio's `istio-ca-root-cert`) and those a kustomize
    /// `configMapGenerator` of the bundle makes.
    ///
    /// ### Why it breaks
    /// Nothing checks the reference at apply time. If the ConfigMap is not in the namespace
    /// when the pod starts, the kubelet refuses to start the container (`configmap "app-config"
    /// not found`, CreateContainerConfigError) or cannot mount the volume (FailedMount, the pod
    /// stays in ContainerCreating). It may be created elsewhere, so this is a warning that
    /// names exactly what must exist.
    ///
    /// ### How to confirm
    /// `kubectl -n NS get configmap NAME` shows whether it exists where the workload runs.
    ///
    /// ### Fix
    /// Create the ConfigMap (`kubectl -n shop create configmap app-config
    /// --from-literal=LOG_LEVEL=<value>`), add its manifest to the bundle, or mark the
    /// reference `optional: true`.
    ///
    /// ### Prevention
    /// Keep configuration in the same bundle (or kustomization) as the workload that reads
    /// it, and lint the bundle in CI.
    ///
    /// ### Example
    /// Deployment shop/frontend mounts ConfigMap `nginx-conf`, which lives in another repo:
    /// `MountVolume.SetUp failed for volume "conf" : configmap "nginx-conf" not found`.
    pub static META = {
        id: "KS1103",
        name: "configmap-not-in-bundle",
        cause: Cause::ConfigConfigmapMissing,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a pod template reads a ConfigMap that no manifest of the bundle defines",
    }
}

pub struct ConfigMapNotInBundle;

impl Rule for ConfigMapNotInBundle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        not_in_bundle(cx, &META, RefKind::ConfigMap, out);
    }
}
