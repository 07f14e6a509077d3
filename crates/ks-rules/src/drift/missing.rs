use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};

use super::{DocDrift, effective_namespace};
use crate::lint::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Objects defined in the manifests that do not exist in the cluster, for kinds the
    /// cluster source collected (a kind it could not list is never reported missing).
    ///
    /// ### Why it breaks
    /// Whatever depends on the object fails: a Deployment never created, a Service or
    /// ConfigMap deleted by hand, an apply that stopped at an earlier error.
    ///
    /// ### How to confirm
    /// `kubectl -n NS get KIND NAME` answers NotFound.
    ///
    /// ### Fix
    /// `kubectl apply -f FILE`, or delete the manifest if the object is gone on purpose.
    ///
    /// ### Prevention
    /// Deploy from Git with pruning (Argo CD, Flux, `kubectl apply --prune`), and run
    /// `kubesleuth drift` on a schedule.
    ///
    /// ### Example
    /// `ConfigMap shop/storefront-config` is in Git but not in the cluster.
    pub static META = {
        id: "KS1403",
        name: "missing-in-cluster",
        cause: Cause::DriftSpec,
        severity: Severity::Warning,
        kind: RuleKind::Drift,
        summary: "an object defined in Git does not exist in the cluster",
    }
}

pub struct MissingInCluster;

impl Rule for MissingInCluster {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for (doc, drift) in cx.ev.manifests.iter().zip(cx.drift()) {
            let Some(DocDrift::Missing) = drift else { continue };
            let ns = effective_namespace(doc);
            let mut f = doc_finding(
                &META,
                doc,
                &ks_core::FieldPath::parse("metadata.name"),
                format!("{} is in Git but not in the cluster", doc_name(doc)),
                format!(
                    "The manifests define {} {}{}, and the cluster has no such object.",
                    doc.kind,
                    ns.as_deref().map(|n| format!("{n}/")).unwrap_or_default(),
                    doc.name
                ),
            );
            f.object.namespace = ns;
            f.fix.push(Fix::cmd("Create it from Git", format!("kubectl apply {}", doc.kubectl_source())));
            out.push(f);
        }
    }
}
