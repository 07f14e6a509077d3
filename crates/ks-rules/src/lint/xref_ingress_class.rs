use ks_core::manifest::FieldPath;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::xref_bundle::{api_group, at, ns_flag};
use super::xref_ingress::ingresses;
use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// An Ingress with neither `spec.ingressClassName` nor the older
    /// `kubernetes.io/ingress.class` annotation, in a bundle that has no IngressClass marked
    /// default (`ingressclass.kubernetes.io/is-default-class: "true"`). The cluster may have a
    /// default class of its own, so this is a warning.
    ///
    /// ### Why it breaks
    /// Controllers only serve Ingresses of their class. The API server fills in the class at
    /// creation only when an IngressClass is marked default; otherwise the Ingress has no
    /// class, ingress-nginx (since 1.0) ignores it, and requests hit the controller's default
    /// backend (404) although the Ingress, Service and pods all look fine.
    ///
    /// ### How to confirm
    /// `kubectl get ingressclass` lists the classes (the default is marked `(default)`);
    /// `kubectl -n NS get ingress NAME` shows an empty CLASS and no ADDRESS.
    ///
    /// ### Fix
    /// Set `spec.ingressClassName` to the class of the controller that should serve it.
    ///
    /// ### Prevention
    /// Always set `ingressClassName` (charts usually expose `ingress.className`), and mark
    /// exactly one IngressClass of each cluster as default.
    ///
    /// ### Example
    /// Seed S3.5: Ingress klinematrix-prod/klinematrix-ingress is not routed until
    /// `ingressClassName: nginx` is set.
    pub static META = {
        id: "KS1112",
        name: "ingress-class-unset",
        cause: Cause::NetIngressClass,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "an Ingress names no class and the bundle marks no IngressClass default",
    }
}

pub struct IngressClassUnset;

const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
const DEFAULT_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

impl Rule for IngressClassUnset {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let classes: Vec<&ks_core::ManifestDoc> = cx
            .ev
            .manifests
            .iter()
            .filter(|d| d.kind == "IngressClass" && api_group(&d.api_version) == "networking.k8s.io")
            .collect();
        let has_default =
            classes.iter().any(|d| d.value["metadata"]["annotations"][DEFAULT_ANNOTATION].as_str() == Some("true"));
        if has_default {
            return;
        }
        for ing in ingresses(&cx.ev.manifests) {
            let v = &ing.value;
            if v["spec"]["ingressClassName"].as_str().is_some_and(|c| !c.is_empty())
                || v["metadata"]["annotations"][CLASS_ANNOTATION].as_str().is_some_and(|c| !c.is_empty())
            {
                continue;
            }
            let path = FieldPath::parse("spec.ingressClassName");
            let names: Vec<&str> = classes.iter().map(|d| d.name.as_str()).collect();
            let known = if names.is_empty() {
                "The bundle defines no IngressClass".to_string()
            } else {
                format!("The bundle's IngressClasses ({}) are not marked default", names.join(", "))
            };
            let mut f = doc_finding(
                &META,
                ing,
                &path,
                format!("{} names no ingress class", doc_name(ing)),
                format!(
                    "{} has no `spec.ingressClassName` and no `{CLASS_ANNOTATION}` annotation. {known}, so unless the cluster marks one default, no controller serves it and its hosts get the controller's default backend (404).",
                    doc_name(ing)
                ),
            );
            let class = match names.as_slice() {
                [only] => only.to_string(),
                _ => "<class>".to_string(),
            };
            f.fix.push(Fix::cmd("See the cluster's classes (the default one is marked)", "kubectl get ingressclass"));
            f.fix.push(Fix::text(format!("Set `ingressClassName: {class}` under `spec` at {}", at(ing, &path))));
            f.fix.push(Fix::cmd(
                "Or set it on the Ingress in the cluster",
                format!(
                    "kubectl {}patch ingress {} --type merge -p '{{\"spec\":{{\"ingressClassName\":\"{class}\"}}}}'",
                    ns_flag(ing.namespace.as_deref()),
                    ing.name
                ),
            ));
            out.push(f);
        }
    }
}
