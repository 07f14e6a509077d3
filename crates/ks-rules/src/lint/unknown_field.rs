use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};

use super::{container_field_at_pod_level, doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Fields the Kubernetes API does not have at the place they are written: typos
    /// (`replicaz`), fields at the wrong level (`nodeSelector` inside a container), fields of
    /// a newer API version. It names the full path, the place where the same name is valid
    /// when one exists in the object, or the known field a typo most likely meant. Built-in
    /// kinds are checked against the API types of k8s-openapi, or against the JSON schemas of
    /// `--schema-dir` (another Kubernetes version); custom resources against the schema of
    /// their CRD (among the inputs or in `--crds DIR`), where fields the CRD does not declare
    /// are pruned unless it preserves unknown fields.
    ///
    /// ### Why it breaks
    /// The API server drops unknown fields. `kubectl apply` prints only a warning
    /// (`Warning: unknown field "spec.replicaz"`) that scrolls past in CI, and the object is
    /// created without the setting: the replicas, the limits or the security setting you
    /// wrote simply do not exist in the cluster.
    ///
    /// ### How to confirm
    /// `kubectl apply --dry-run=server --validate=strict -f FILE` rejects the object with
    /// `unknown field`; `kubectl explain KIND.PATH` lists the fields a level really has.
    ///
    /// ### Fix
    /// Move the field to where it belongs, or correct its name; then re-apply.
    ///
    /// ### Prevention
    /// Run `kubesleuth lint` in CI, and apply with `--validate=strict` so the API server
    /// rejects unknown fields instead of warning.
    ///
    /// ### Example
    /// `spec.template.spec.containers[0].nodeSelector`: `nodeSelector` is a pod-level field;
    /// move it to `spec.template.spec`.
    pub static META = {
        id: "KS1001",
        name: "unknown-field",
        cause: Cause::WorkloadBadSpec,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "a manifest sets a field the Kubernetes API does not have there, so it is silently dropped",
    }
}

pub struct UnknownField;

impl Rule for UnknownField {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for (doc, report) in cx.ev.manifests.iter().zip(cx.schema()) {
            for u in &report.unknown {
                if container_field_at_pod_level::is_container_field_at_pod_level(doc, u) {
                    continue; // KS1201 says it with its security meaning.
                }
                let Some(name) = u.path.0.last().map(|s| match s {
                    ks_core::manifest::Seg::Key(k) => k.clone(),
                    ks_core::manifest::Seg::Index(i) => i.to_string(),
                }) else {
                    continue;
                };
                let (title, hint, fix) = match (&u.belongs, &u.did_you_mean) {
                    (Some(place), _) => (
                        format!("`{name}` is not valid at {}; it belongs in {}", u.path, place.generic()),
                        format!("The field `{name}` exists in {} of this object.", place.generic()),
                        Fix::text(format!("Move `{name}` from {} to {}", u.path, place)),
                    ),
                    (None, Some(meant)) => (
                        format!("unknown field `{name}` at {} (did you mean `{meant}`?)", u.path),
                        format!("This level has `{meant}`, the closest name."),
                        Fix::text(format!("Rename `{name}` to `{meant}` at {}", u.path)),
                    ),
                    // The schema's maker knows why the field is absent.
                    (None, None) if let Some(why) = &u.why => (
                        format!("unknown field `{name}` at {}: {}", u.path, why.reason),
                        why.explanation.clone(),
                        Fix::text(why.fix.clone()),
                    ),
                    (None, None) => (
                        format!("unknown field `{name}` at {}", u.path),
                        "No field of that name exists at this level of the API.".to_string(),
                        Fix::text(format!("Remove `{name}`, or check `kubectl explain` for the intended field")),
                    ),
                };
                // Custom resources and `--schema-dir` kinds name the schema they were checked against.
                let api = match &report.source {
                    Some(source) => format!("schema of {} ({source})", doc.kind),
                    None => format!("{} API", doc.kind),
                };
                let mut f = doc_finding(
                    &META,
                    doc,
                    &u.path,
                    title,
                    format!(
                        "{} ({}) sets `{}`, which the {api} does not have there. {hint} The API server drops it with only a warning, so the setting never takes effect.",
                        doc_name(doc),
                        doc.api_version,
                        u.path,
                    ),
                );
                f.fix.push(fix);
                f.fix.push(Fix::cmd(
                    "Confirm with the API server's strict validation",
                    format!("kubectl apply --dry-run=server --validate=strict {}", doc.kubectl_source()),
                ));
                out.push(f);
            }
        }
    }
}
