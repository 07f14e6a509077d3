use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::refs::Kind;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Pods that reference a Secret their namespace does not have: env `secretKeyRef` or
    /// `envFrom` (`CreateContainerConfigError: secret "x" not found`) or a secret volume
    /// (`FailedMount: MountVolume.SetUp failed for volume "tls" : secret "x" not found`).
    /// When Secrets were collected, it lists similarly named Secrets in the namespace and
    /// Secrets of the same name in other namespaces. A missing `imagePullSecrets` entry is an
    /// image pull problem (KS0101), not this.
    ///
    /// ### Why it breaks
    /// A pod can only read Secrets of its own namespace. A Secret created in the wrong
    /// namespace (`kubectl create secret` without `-n`), created after the deploy script
    /// needed it, renamed by a chart, or never created leaves the container unable to start:
    /// the kubelet retries but will not run it without the Secret (unless the reference is
    /// `optional: true`).
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `secret "x" not found`; `kubectl get secret x -n <ns>`
    /// returns NotFound; `kubectl get secrets -A --field-selector metadata.name=x` finds it
    /// elsewhere.
    ///
    /// ### Fix
    /// Create the Secret in the pod's namespace with the keys the pod reads, copy it from the
    /// namespace it was created in, or point the reference at the Secret that exists.
    ///
    /// ### Prevention
    /// Create Secrets in the same release or pipeline step as the workloads that read them
    /// (ordered first), always with an explicit `-n`; use External Secrets or Sealed Secrets so
    /// the Secret is part of the desired state.
    ///
    /// ### Example
    /// `Error: secret "backend-secrets" not found` while namespace shop has only
    /// `backend-secret`.
    pub static META = {
        id: "KS0202",
        name: "secret-missing",
        cause: Cause::ConfigSecretMissing,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a pod references a secret that does not exist in its namespace",
    }
}

pub struct SecretMissing;

impl Rule for SecretMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::missing_findings(cx, &META, Kind::Secret, out);
    }
}
