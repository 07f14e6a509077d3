use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::xref_bundle::RefKind;
use super::xref_refs::key_missing;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A `configMapKeyRef` (or a configMap volume's `items[].key`) naming a key that the
    /// ConfigMap of the same bundle does not have in `data` or `binaryData`. ConfigMaps
    /// written without data, and those a kustomize `configMapGenerator` makes, are not
    /// checked. References marked `optional: true` are skipped.
    ///
    /// ### Why it breaks
    /// The apply succeeds, but the kubelet refuses to start the container (`couldn't find key
    /// LOG_LEVEL in ConfigMap shop/app-config`, CreateContainerConfigError) or to mount the
    /// volume (`configmap references non-existent config key`).
    ///
    /// ### How to confirm
    /// Compare the reference's `key` with the ConfigMap's keys:
    /// `kubectl -n NS get configmap NAME -o jsonpath='{.data}'`, or its manifest.
    ///
    /// ### Fix
    /// Add the key to the ConfigMap, or point the reference at a key it has.
    ///
    /// ### Prevention
    /// Keep the ConfigMap and its readers in one chart or kustomization, and lint in CI.
    ///
    /// ### Example
    /// Deployment shop/backend reads `cache-ttl` from ConfigMap shop/backend-config, which
    /// defines `cache_ttl`.
    pub static META = {
        id: "KS1104",
        name: "configmap-key-not-in-bundle-configmap",
        cause: Cause::ConfigConfigmapKeyMissing,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "a pod template reads a key that the bundle's ConfigMap does not have",
    }
}

pub struct ConfigMapKeyNotInBundleConfigMap;

impl Rule for ConfigMapKeyNotInBundleConfigMap {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        key_missing(cx, &META, RefKind::ConfigMap, out);
    }
}
