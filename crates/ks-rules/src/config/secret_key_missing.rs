use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::refs::Kind;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A container whose `env[].valueFrom.secretKeyRef` (or a secret volume's `items[].key`)
    /// names a key that the Secret does not have. The kubelet refuses to create the container:
    /// the pod sits in `CreateContainerConfigError` (or `ContainerCreating` for volumes).
    ///
    /// ### Why it breaks
    /// The Secret exists, so nothing fails at apply time, but the key was renamed, misspelt,
    /// or never added. The kubelet will not start the container until the key exists or the
    /// reference is marked `optional: true`.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `couldn't find key <key> in Secret <ns>/<name>` (or
    /// `MountVolume.SetUp failed for volume "<v>" : references non-existent secret key: <key>`);
    /// `kubectl get secret <name> -o jsonpath='{.data}'` lists the keys that exist.
    ///
    /// ### Fix
    /// Add the key to the Secret, or point the reference at the key that exists.
    ///
    /// ### Prevention
    /// Lint manifests in CI: `kubesleuth lint` checks secretKeyRef keys against the Secrets in
    /// the bundle. Keep Secret generation and the Deployment that reads it in one release.
    ///
    /// ### Example
    /// `couldn't find key mongodb-url in Secret shop/backend-secrets` while the Secret holds
    /// `mongo-url`.
    pub static META = {
        id: "KS0201",
        name: "secret-key-missing",
        cause: Cause::ConfigSecretKeyMissing,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a secretKeyRef names a key the Secret does not have",
    }
}

pub struct SecretKeyMissing;

impl Rule for SecretKeyMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::key_missing_findings(cx, &META, Kind::Secret, out);
    }
}
