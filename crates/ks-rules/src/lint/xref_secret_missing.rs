use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::xref_bundle::RefKind;
use super::xref_refs::not_in_bundle;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A pod template that reads a Secret no manifest of the bundle defines: an
    /// `env[].valueFrom.secretKeyRef`, an `envFrom[].secretRef`, a `secret` volume or projected
    /// source, a volume driver's secret (`csi.nodePublishSecretRef`, `cephfs.secretRef`, ...) or
    /// an `imagePullSecrets` entry. References marked `optional: true` are skipped, and so are
    /// Secrets that a resource of the bundle makes a controller create (SealedSecret,
    /// ExternalSecret, cert-manager Certificate, SecretProviderClass `secretObjects`, Vault
    /// Secrets Operator, Crossplane `writeConnectionSecretToRef`, kustomize `secretGenerator`)
    /// or that a component of the bundle creates at run time: a container started with
    /// `--secret-name=NAME` (webhook certificate Jobs), or a Role that may create Secrets and
    /// names NAME in `resourceNames`. Secrets written with `data: {}` count as defined.
    ///
    /// ### Why it breaks
    /// Nothing checks the reference at apply time. If the Secret is not in the namespace when
    /// the pod starts, the kubelet refuses to start the container (`secret "backend-secrets"
    /// not found`, CreateContainerConfigError), cannot mount the volume (FailedMount), or pulls
    /// without credentials (ImagePullBackOff). Secrets are often created outside the bundle
    /// (by hand, by a secret manager), so this is a warning that names exactly what must exist.
    ///
    /// ### How to confirm
    /// `kubectl -n NS get secret NAME` shows whether the Secret exists where the workload is
    /// deployed; `kubectl -n NS get secret NAME -o jsonpath='{.data}'` lists its keys.
    ///
    /// ### Fix
    /// Create the Secret with the keys the pod reads
    /// (`kubectl -n shop create secret generic backend-secrets --from-literal=mongodb-url=<value>`),
    /// add its manifest (or a SealedSecret/ExternalSecret) to the bundle, or mark the
    /// reference `optional: true` if the app can run without it.
    ///
    /// ### Prevention
    /// Keep the Secret's source (SealedSecret, ExternalSecret, secretGenerator) in the same
    /// bundle as the workload that reads it, and lint the bundle in CI.
    ///
    /// ### Example
    /// Seed S3.4: Deployment klinematrix-prod/backend reads `mongodb-url` of Secret
    /// `backend-secrets`, which was created by hand (`kubectl create secret generic`) and is
    /// missing from a new cluster: `secret "backend-secrets" not found`.
    pub static META = {
        id: "KS1101",
        name: "secret-not-in-bundle",
        cause: Cause::ConfigSecretMissing,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a pod template reads a Secret that no manifest of the bundle defines",
    }
}

pub struct SecretNotInBundle;

impl Rule for SecretNotInBundle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        not_in_bundle(cx, &META, RefKind::Secret, out);
    }
}
