use std::collections::HashMap;

use ks_core::ManifestDoc;
use ks_core::manifest::FieldPath;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::xref_bundle::{api_group, at, is_placeholder, ns_compatible, ns_flag, qualified};
use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A HorizontalPodAutoscaler whose `spec.scaleTargetRef` names a workload (kind and name)
    /// that no manifest of the bundle defines in the HPA's namespace. The workload may be
    /// deployed elsewhere, so this is a warning; a workload of the same kind with a similar
    /// name in the bundle is suggested.
    ///
    /// ### Why it breaks
    /// The HPA cannot read the target's scale subresource: its `AbleToScale` condition is
    /// False with reason `FailedGetScale`, and it never scales anything. The apply succeeds,
    /// so a renamed Deployment silently loses its autoscaling.
    ///
    /// ### How to confirm
    /// `kubectl -n NS describe hpa NAME` shows `FailedGetScale` and the target `not found`;
    /// `kubectl -n NS get KIND NAME` fails.
    ///
    /// ### Fix
    /// Point `scaleTargetRef` at the workload's real kind and name, or deploy the workload.
    ///
    /// ### Prevention
    /// Render the HPA from the same chart value as the workload's name, and lint in CI.
    ///
    /// ### Example
    /// HPA shop/web targets `Deployment web-frontend` after the Deployment was renamed `web`.
    pub static META = {
        id: "KS1114",
        name: "hpa-target-not-in-bundle",
        cause: Cause::WorkloadBadSpec,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a HorizontalPodAutoscaler scales a workload that no manifest of the bundle defines",
    }
}

pub struct HpaTargetNotInBundle;

impl Rule for HpaTargetNotInBundle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let docs = &cx.ev.manifests;
        // Workload documents by kind, for lookups that stay linear in the bundle's size.
        let mut by_kind: HashMap<&str, Vec<&ManifestDoc>> = HashMap::new();
        let mut by_name: HashMap<(&str, &str), Vec<Option<&str>>> = HashMap::new();
        for d in docs {
            by_kind.entry(d.kind.as_str()).or_default().push(d);
            by_name.entry((d.kind.as_str(), d.name.as_str())).or_default().push(d.namespace.as_deref());
        }
        for hpa in
            docs.iter().filter(|d| d.kind == "HorizontalPodAutoscaler" && api_group(&d.api_version) == "autoscaling")
        {
            let target = &hpa.value["spec"]["scaleTargetRef"];
            let (Some(kind), Some(name)) = (target["kind"].as_str(), target["name"].as_str()) else { continue };
            if is_placeholder(name) {
                continue;
            }
            let ns = hpa.namespace.as_deref();
            let same_kind = || {
                by_kind.get(kind).into_iter().flatten().copied().filter(|d| ns_compatible(d.namespace.as_deref(), ns))
            };
            if by_name.get(&(kind, name)).is_some_and(|v| v.iter().any(|n| ns_compatible(*n, ns))) {
                continue;
            }
            let path = FieldPath::parse("spec.scaleTargetRef.name");
            let q = qualified(ns, name);
            let mut f = doc_finding(
                &META,
                hpa,
                &path,
                format!("{} scales {kind} {q}, which is not in this bundle", doc_name(hpa)),
                format!(
                    "`spec.scaleTargetRef` of {} names {kind} {name}, and no manifest in this bundle defines it. Unless it is deployed elsewhere, the HPA cannot read its scale (`AbleToScale` False, reason FailedGetScale) and never scales anything.",
                    doc_name(hpa)
                ),
            );
            f.fix.push(Fix::cmd(
                format!("Check whether {kind} {q} exists in the cluster"),
                format!("kubectl {}get {} {name}", ns_flag(ns), kind.to_ascii_lowercase()),
            ));
            let mut similar: Vec<(f64, &str)> = same_kind()
                .filter_map(|d| crate::util::similar_name(&d.name, name, 0.5, 3).map(|s| (s, d.name.as_str())))
                .collect();
            similar.sort_by(|a, b| b.0.total_cmp(&a.0));
            match similar.first() {
                Some((_, n)) => {
                    f.fix.push(Fix::text(format!("If it should scale this bundle's {kind} `{n}`, set `name: {n}` at {}", at(hpa, &path))));
                    f.fix.push(Fix::cmd(
                        "Or fix the HPA in the cluster",
                        format!(
                            "kubectl {}patch hpa {} --type merge -p '{{\"spec\":{{\"scaleTargetRef\":{{\"name\":\"{n}\"}}}}}}'",
                            ns_flag(ns),
                            hpa.name
                        ),
                    ));
                }
                None => f.fix.push(Fix::text(format!(
                    "Point `spec.scaleTargetRef` at {} to the workload it should scale, or add {kind} {name} to this bundle",
                    at(hpa, &path)
                ))),
            }
            out.push(f);
        }
    }
}
