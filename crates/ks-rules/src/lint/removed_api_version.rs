use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};

use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Objects written with an API version that Kubernetes has removed by the target version
    /// (`--kube-version`, default: the newest this build knows): `extensions/v1beta1` and
    /// `networking.k8s.io/v1beta1` Ingress, `apps/v1beta1`/`v1beta2` workloads,
    /// `policy/v1beta1` PodSecurityPolicy and PodDisruptionBudget, `batch/v1beta1` CronJob,
    /// `autoscaling/v2beta1`/`v2beta2`, the v1beta1 RBAC, CRD and webhook APIs, and others.
    /// It names the replacement version, or that the kind is gone.
    ///
    /// ### Why it breaks
    /// The API server answers `no matches for kind "Ingress" in version
    /// "extensions/v1beta1"` and nothing is created; a cluster upgrade breaks a pipeline that
    /// worked the day before.
    ///
    /// ### How to confirm
    /// `kubectl api-versions` on the cluster does not list the version.
    ///
    /// ### Fix
    /// Change `apiVersion` to the replacement and adapt the fields that changed with it
    /// (an Ingress backend becomes `service.name`/`service.port.number`; a Deployment needs a
    /// `selector`). PodSecurityPolicy has no replacement kind: use Pod Security Admission
    /// labels on the namespace.
    ///
    /// ### Prevention
    /// Lint with `--kube-version` set to the cluster's next version before upgrading.
    ///
    /// ### Example
    /// `apiVersion: extensions/v1beta1`, `kind: Ingress`: removed in 1.22, use
    /// `networking.k8s.io/v1`.
    pub static META = {
        id: "KS1004",
        name: "removed-api-version",
        cause: Cause::WorkloadBadSpec,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "an object uses an API version the target Kubernetes version no longer serves",
    }
}

/// `(apiVersion, kind or "*", removed in 1.x, replacement)`. From the Kubernetes
/// deprecated API migration guide.
pub static REMOVED: &[(&str, &str, u32, &str)] = &[
    ("extensions/v1beta1", "Ingress", 22, "networking.k8s.io/v1"),
    ("extensions/v1beta1", "Deployment", 16, "apps/v1"),
    ("extensions/v1beta1", "DaemonSet", 16, "apps/v1"),
    ("extensions/v1beta1", "ReplicaSet", 16, "apps/v1"),
    ("extensions/v1beta1", "NetworkPolicy", 16, "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy", 16, "policy/v1beta1 (itself removed in 1.25)"),
    ("apps/v1beta1", "*", 16, "apps/v1"),
    ("apps/v1beta2", "*", 16, "apps/v1"),
    ("networking.k8s.io/v1beta1", "Ingress", 22, "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass", 22, "networking.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "*", 22, "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1alpha1", "*", 22, "rbac.authorization.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", 22, "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "APIService", 22, "apiregistration.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "*", 22, "admissionregistration.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass", 22, "scheduling.k8s.io/v1"),
    ("scheduling.k8s.io/v1alpha1", "PriorityClass", 17, "scheduling.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "Lease", 22, "coordination.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest", 22, "certificates.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIDriver", 22, "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSINode", 22, "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "StorageClass", 22, "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment", 22, "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity", 27, "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob", 25, "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice", 25, "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event", 25, "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler", 25, "autoscaling/v2"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler", 26, "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget", 25, "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy", 25, "none: use Pod Security Admission namespace labels"),
    ("node.k8s.io/v1beta1", "RuntimeClass", 25, "node.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*", 26, "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*", 29, "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*", 32, "flowcontrol.apiserver.k8s.io/v1"),
];

/// The newest minor version this build's API types describe.
pub const NEWEST_MINOR: u32 = 37;

pub struct RemovedApiVersion;

impl Rule for RemovedApiVersion {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        let target = cx.ev.kube_version.map(|(_, minor)| minor).unwrap_or(NEWEST_MINOR);
        for doc in &cx.ev.manifests {
            let Some((_, _, removed, replacement)) =
                REMOVED.iter().find(|(api, kind, _, _)| *api == doc.api_version && (*kind == "*" || *kind == doc.kind))
            else {
                continue;
            };
            if *removed > target {
                continue;
            }
            let mut f = doc_finding(
                &META,
                doc,
                &ks_core::FieldPath::parse("apiVersion"),
                format!("{} uses {}, removed in Kubernetes 1.{removed}", doc_name(doc), doc.api_version),
                format!(
                    "Kubernetes 1.{removed} and later do not serve {} {}; applying it fails with `no matches for kind \"{}\" in version \"{}\"`. Replacement: {replacement}.",
                    doc.api_version, doc.kind, doc.kind, doc.api_version
                ),
            );
            if replacement.contains('/') && !replacement.contains(' ') {
                f.fix.push(Fix::text(format!(
                    "Set `apiVersion: {replacement}` and adapt the fields that changed (`kubectl explain {} --api-version={replacement}`)",
                    doc.kind.to_ascii_lowercase()
                )));
            } else {
                f.fix.push(Fix::text(format!("Replace {}: {replacement}", doc.kind)));
            }
            out.push(f);
        }
    }
}
