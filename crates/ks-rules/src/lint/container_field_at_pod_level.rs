use ks_core::manifest::Seg;
use ks_core::{Cause, Fix, ManifestDoc, RuleKind, Severity, declare_rule};

use super::schema::UnknownField;
use super::{doc_finding, doc_name, pod_spec_path};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Container-only security settings written in the pod-level `securityContext`:
    /// `capabilities`, `privileged`, `allowPrivilegeEscalation`, `readOnlyRootFilesystem`,
    /// `procMount`. The pod-level `PodSecurityContext` has none of them.
    ///
    /// ### Why it breaks
    /// The API server drops the field with only a warning (`unknown field
    /// "spec.template.spec.securityContext.capabilities"`), so the capability is never added
    /// or dropped and the container runs with defaults: a network tool lacks `NET_ADMIN`, or
    /// a hardening policy you believe is enforced is not.
    ///
    /// ### How to confirm
    /// `kubectl get deploy NAME -o jsonpath='{.spec.template.spec.securityContext}'` shows
    /// the field missing from the live object.
    ///
    /// ### Fix
    /// Move the setting into each container's `securityContext`
    /// (`spec.template.spec.containers[*].securityContext.capabilities`).
    ///
    /// ### Prevention
    /// Lint manifests in CI and apply with `--validate=strict`.
    ///
    /// ### Example
    /// Seed 002: `capabilities: {add: [NET_ADMIN]}` under the pod's `securityContext` in a
    /// Dapr-enabled Deployment.
    pub static META = {
        id: "KS1201",
        name: "container-field-at-pod-level",
        cause: Cause::SecurityInvalidField,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "a container-only security setting is written in the pod-level securityContext and is ignored",
    }
}

/// Fields of a container's SecurityContext that PodSecurityContext lacks.
const CONTAINER_ONLY: &[&str] =
    &["capabilities", "privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem", "procMount"];

/// Whether an unknown field is one of the container-only settings at pod level.
pub fn is_container_field_at_pod_level(doc: &ManifestDoc, u: &UnknownField) -> bool {
    let Some(pod) = pod_spec_path(&doc.kind) else { return false };
    let n = pod.0.len();
    u.path.0.len() == n + 2
        && u.path.0[..n] == pod.0[..]
        && u.path.0[n] == Seg::Key("securityContext".into())
        && matches!(&u.path.0[n + 1], Seg::Key(k) if CONTAINER_ONLY.contains(&k.as_str()))
}

pub struct ContainerFieldAtPodLevel;

impl Rule for ContainerFieldAtPodLevel {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for (doc, report) in cx.ev.manifests.iter().zip(cx.schema()) {
            for u in report.unknown.iter().filter(|u| is_container_field_at_pod_level(doc, u)) {
                let Some(Seg::Key(field)) = u.path.0.last() else { continue };
                let pod = pod_spec_path(&doc.kind).unwrap_or_default();
                let containers: Vec<String> = pod
                    .clone()
                    .key("containers")
                    .get(&doc.value)
                    .and_then(|c| c.as_array())
                    .map(|a| a.iter().filter_map(|c| c["name"].as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                let value = u.path.get(&doc.value).map(|v| v.to_string()).unwrap_or_default();
                let mut f = doc_finding(
                    &META,
                    doc,
                    &u.path,
                    format!("`{field}` in the pod-level securityContext of {} is ignored", doc_name(doc)),
                    format!(
                        "`{field}` is a container-level field; the pod-level securityContext has no such field, so the API server drops `{}: {value}` with only a warning and the containers ({}) run without it.",
                        u.path,
                        if containers.is_empty() { "all".to_string() } else { containers.join(", ") }
                    ),
                );
                f.fix.push(Fix::text(format!(
                    "Move `{field}: {value}` to {}.containers[*].securityContext (for each container that needs it) and remove it from {}.securityContext",
                    pod, pod
                )));
                out.push(f);
            }
        }
    }
}
