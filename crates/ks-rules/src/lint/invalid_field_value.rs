use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};

use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Manifest values the API server will reject: a field of the wrong type (a string
    /// `"http"` where `containerPort` must be a number, `replicas: "3"`, a boolean from an
    /// unquoted `yes`/`on` where a string is expected), a missing required field
    /// (`containers`, a port's `port`), invalid base64 in a Secret's `data`, and a missing
    /// `metadata.name`. Custom resources are checked against their CRD's schema (types,
    /// required fields, enums, patterns, bounds, and the string formats the API server
    /// checks, with Go's semantics: `date-time`, `date`, `duration` such as `1h30m`, `byte`,
    /// `cidr`, `ipv4`, `ipv6`, `hostname`, `mac`, `uuid`, `hexcolor`, `rgbcolor`, `isbn`,
    /// `ssn`, `creditcard`, `quantity`, from Kubernetes 1.34 `k8s-short-name` and
    /// `k8s-long-name`, and the certain errors of `email` and `uri`) and its CEL rules (`x-kubernetes-validations`,
    /// evaluated with kube-cel and the Kubernetes CEL libraries; transition rules, which need
    /// the object's previous version, and rules that cannot be evaluated offline are not
    /// judged); with `--schema-dir`, built-in kinds against those JSON schemas instead of the
    /// k8s-openapi types.
    ///
    /// ### Why it breaks
    /// `kubectl apply` fails for the whole file or, in a pipeline that applies many files,
    /// for this object only, so a release goes out half applied. YAML 1.1 turns unquoted
    /// `yes`, `no`, `on` and `off` into booleans and `0644` into octal 420, which is what the
    /// API server sees.
    ///
    /// ### How to confirm
    /// `kubectl apply --dry-run=server -f FILE` prints the same error from the API server.
    ///
    /// ### Fix
    /// Give the field the type the API expects (quote strings such as `"yes"` and `"8080"`
    /// where a string is expected), or add the required field.
    ///
    /// ### Prevention
    /// Run `kubesleuth lint` in CI before `kubectl apply`.
    ///
    /// ### Example
    /// `spec.template.spec.containers[0].ports[0].containerPort: invalid type: string "http",
    /// expected i32`; for a custom resource, `spec.start: must be of type date-time:
    /// "2025-03-01 02:00" (e.g. 2025-03-01T02:00:00Z)`.
    pub static META = {
        id: "KS1002",
        name: "invalid-field-value",
        cause: Cause::WorkloadBadSpec,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "a manifest field has the wrong type or a required field is missing, so the API server rejects it",
    }
}

pub struct InvalidFieldValue;

impl Rule for InvalidFieldValue {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for (doc, report) in cx.ev.manifests.iter().zip(cx.schema()) {
            let mut problems = Vec::new();
            for (path, msg) in &report.invalid {
                problems.push((path.clone(), clean_message(msg)));
            }
            for path in &report.missing {
                let field = path.0.last().map(|s| match s {
                    ks_core::manifest::Seg::Key(k) => k.clone(),
                    ks_core::manifest::Seg::Index(i) => i.to_string(),
                });
                problems.push((path.clone(), format!("missing required field `{}`", field.unwrap_or_default())));
            }
            if doc.name.is_empty() && is_api_object(doc, report.known_kind) {
                problems.push((ks_core::FieldPath::parse("metadata"), "missing field `name`".to_string()));
            }
            for (path, msg) in problems {
                let at = if path.0.is_empty() { "the object".to_string() } else { format!("`{path}`") };
                let mut f = doc_finding(
                    &META,
                    doc,
                    &path,
                    format!("{} is invalid at {at}: {msg}", doc_name(doc)),
                    format!(
                        "The API server will reject {} ({}): {msg} at {at}{}. Nothing in this object is applied until it is fixed.",
                        doc_name(doc),
                        doc.api_version,
                        report.source.as_ref().map(|s| format!(" (per the {s})")).unwrap_or_default()
                    ),
                );
                f.fix.push(Fix::text(format!("Correct {at} ({msg})")));
                f.fix.push(Fix::cmd(
                    "Check with the API server",
                    format!("kubectl apply --dry-run=server {}", doc.kubectl_source()),
                ));
                out.push(f);
            }
        }
    }
}

/// Whether a document is meant for the API server, which requires `metadata.name` (or
/// `generateName`): every kind with a known schema, and other kinds that carry `metadata`.
/// Tool configuration files shaped like objects (a `Kustomization`, kyverno CLI `Values`,
/// an `AdmissionReview` sample, a scheduler `Policy`) have no `metadata` and never reach it.
fn is_api_object(doc: &ks_core::ManifestDoc, known_kind: bool) -> bool {
    known_kind || doc.value.get("metadata").is_some_and(serde_json::Value::is_object)
}

/// serde's "invalid type: string \"http\", expected i32 at line 1 column 2" without the
/// serde_json position (which is not the file's).
fn clean_message(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
