use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};

use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A key written twice in one YAML mapping, e.g. two `env:` lists in one container or two
    /// `resources:` blocks after a merge conflict.
    ///
    /// ### Why it breaks
    /// The Kubernetes YAML decoder keeps the last occurrence and silently drops the first:
    /// the environment variables, limits or labels written first never reach the cluster.
    ///
    /// ### How to confirm
    /// `kubectl apply --dry-run=server -o yaml -f FILE` shows only the second value.
    ///
    /// ### Fix
    /// Merge the two entries into one.
    ///
    /// ### Prevention
    /// Lint manifests in CI; resolve merge conflicts in YAML by reading the whole mapping.
    ///
    /// ### Example
    /// `env:` appears at lines 21 and 30 of one container; the first list is lost.
    pub static META = {
        id: "KS1003",
        name: "duplicate-key",
        cause: Cause::WorkloadBadSpec,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a YAML mapping has the same key twice and the first value is silently lost",
    }
}

pub struct DuplicateKey;

impl Rule for DuplicateKey {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for doc in &cx.ev.manifests {
            for (path, pos) in &doc.duplicate_keys {
                let rel = strip_prefix(path, &doc.prefix);
                let mut f = doc_finding(
                    &META,
                    doc,
                    &rel,
                    format!("`{rel}` is written twice in {}; the first value is lost", doc_name(doc)),
                    format!(
                        "The key `{rel}` appears twice in one mapping. The Kubernetes YAML decoder keeps only the last one (line {}), so whatever the first one set never reaches the cluster.",
                        pos.line
                    ),
                );
                f.location = Some(doc.location_at(*pos));
                f.fix.push(Fix::text(format!("Merge the two `{rel}` entries into one")));
                out.push(f);
            }
        }
    }
}

fn strip_prefix(path: &ks_core::FieldPath, prefix: &ks_core::FieldPath) -> ks_core::FieldPath {
    if path.0.starts_with(&prefix.0) { ks_core::FieldPath(path.0[prefix.0.len()..].to_vec()) } else { path.clone() }
}
