use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};

use super::{DocDrift, effective_namespace, is_image_path, show};
use crate::lint::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Fields that the manifest in Git sets and the live object has with another value
    /// (replicas, env, resources, probes, ports, labels...), and list items only one side has
    /// (a container or env var added by hand). Fields Git does not set are ignored, so
    /// server-side defaults (`strategy`, `clusterIP`, `terminationMessagePath`,
    /// `imagePullPolicy`) and status are never drift. Secrets are compared by key names only.
    ///
    /// ### Why it breaks
    /// A hand-made change (`kubectl scale`, `kubectl edit`) fixes an incident and is then
    /// silently undone by the next deploy from Git, or the Git change never reached the
    /// cluster: both make the repository lie about production.
    ///
    /// ### How to confirm
    /// `kubectl diff -f FILE` prints the same differences.
    ///
    /// ### Fix
    /// Re-apply Git, or commit the live change into the manifest at the line shown.
    ///
    /// ### Prevention
    /// Deploy only from Git; alert on drift (`kubesleuth drift` in a scheduled job). An HPA
    /// owns `replicas`: leave it out of the manifest when one is attached.
    ///
    /// ### Example
    /// `spec.replicas`: Git 3, cluster 2 after a `kubectl scale`.
    pub static META = {
        id: "KS1402",
        name: "spec-drift",
        cause: Cause::DriftSpec,
        severity: Severity::Warning,
        kind: RuleKind::Drift,
        summary: "a field the manifest in Git sets has another value in the cluster",
    }
}

pub struct DriftSpec;

/// Findings list at most this many differing fields each; the rest are counted.
const MAX_FIELDS: usize = 8;

impl Rule for DriftSpec {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for (doc, drift) in cx.ev.manifests.iter().zip(cx.drift()) {
            let Some(DocDrift::Changed(diffs)) = drift else { continue };
            let diffs: Vec<_> = diffs.iter().filter(|d| !is_image_path(&d.path)).collect();
            let Some(first) = diffs.first() else { continue };
            let lines: Vec<String> = diffs
                .iter()
                .take(MAX_FIELDS)
                .map(|d| format!("{}: Git {} / cluster {}", d.path, show(&d.git), show(&d.live)))
                .collect();
            let more = diffs.len().saturating_sub(MAX_FIELDS);
            let title = if diffs.len() == 1 {
                format!(
                    "{} differs from Git at {}: Git {}, cluster {}",
                    doc_name(doc),
                    first.path,
                    show(&first.git),
                    show(&first.live)
                )
            } else {
                format!("{} differs from Git in {} fields", doc_name(doc), diffs.len())
            };
            let ns = effective_namespace(doc);
            let mut f = doc_finding(
                &META,
                doc,
                &first.path,
                title,
                format!(
                    "The live {} does not match the manifest in Git: {}{}.",
                    doc_name(doc),
                    lines.join("; "),
                    if more > 0 { format!(" (+{more} more)") } else { String::new() }
                ),
            );
            f.object.namespace = ns;
            for l in &lines {
                f.evidence.push(ks_core::EvidenceItem::new(
                    ks_core::EvidenceSource::Spec,
                    l.clone(),
                    Some(f.object.clone()),
                ));
            }
            f.fix.push(Fix::cmd("See the difference", format!("kubectl diff {}", doc.kubectl_source())));
            f.fix.push(Fix::cmd("Make the cluster match Git", format!("kubectl apply {}", doc.kubectl_source())));
            f.fix.push(Fix::text("or commit the live values into the manifest if they are the ones you want"));
            out.push(f);
        }
    }
}
