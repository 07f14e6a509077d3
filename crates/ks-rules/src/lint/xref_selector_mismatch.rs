use ks_core::manifest::FieldPath;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};
use serde_json::Value;

use super::xref_bundle::{
    api_group, at, label_selector_matches, map_matches, scalar_text, show_labels, show_map, template_labels,
};
use super::xref_refs::quote;
use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A Deployment, StatefulSet, DaemonSet, ReplicaSet, Job (with a `selector`),
    /// ReplicationController or OpenShift DeploymentConfig whose `spec.selector` does not
    /// match the labels of its own pod template, or an `apps/v1` selector with neither
    /// `matchLabels` nor `matchExpressions`.
    ///
    /// ### Why it breaks
    /// A controller finds its pods by its selector, so the API server rejects a template its
    /// selector would not match: `The Deployment "web" is invalid:
    /// spec.template.metadata.labels: Invalid value: {"app":"frontend"}: `selector` does not
    /// match template `labels``. The apply fails, and in a multi-object apply the rest of the
    /// release goes out without this workload.
    ///
    /// ### How to confirm
    /// `kubectl apply --dry-run=server -f FILE` returns the error above.
    ///
    /// ### Fix
    /// Add the selector's labels to `spec.template.metadata.labels`. Change the template, not
    /// the selector: the selector of an existing Deployment, StatefulSet or DaemonSet is
    /// immutable, and changing it means deleting and recreating the object.
    ///
    /// ### Prevention
    /// Generate the selector and the template labels from one value (a chart's
    /// `selectorLabels` helper, kustomize `labels`), and lint in CI.
    ///
    /// ### Example
    /// `selector.matchLabels: {app: web}` with `template.metadata.labels: {app: frontend}`.
    pub static META = {
        id: "KS1113",
        name: "selector-does-not-match-template",
        cause: Cause::WorkloadBadSpec,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "a workload's selector does not match its own pod template labels",
    }
}

pub struct SelectorDoesNotMatchTemplate;

impl Rule for SelectorDoesNotMatchTemplate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for doc in &cx.ev.manifests {
            let group = api_group(&doc.api_version);
            // `LabelSelector` (true) or the plain map of a ReplicationController (false).
            let label_selector = match (doc.kind.as_str(), group) {
                ("Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet", "apps" | "extensions") => true,
                ("Job", "batch") => true,
                // OpenShift validates a DeploymentConfig's map selector against its template
                // the same way.
                ("ReplicationController", "") | ("DeploymentConfig", "" | "apps.openshift.io") => false,
                _ => continue,
            };
            let Some(t) = super::pod_templates::pod_template(doc) else { continue };
            let sel_path = FieldPath::parse("spec.selector");
            let sel = &doc.value["spec"]["selector"];
            // No selector: older API versions and Jobs default it from the template; an
            // `apps/v1` object without one is the schema rule's (required field).
            if !sel.is_object() {
                continue;
            }
            let labels = template_labels(&t);
            let labels_path = t.meta_path().key("labels");
            let (matches, shown) = if label_selector {
                let ml = sel["matchLabels"].as_object().filter(|m| !m.is_empty());
                let me = sel["matchExpressions"].as_array().filter(|m| !m.is_empty());
                if ml.is_none() && me.is_none() {
                    // Labels written straight under `selector` (the map form of a Service or
                    // ReplicationController): a LabelSelector has no such fields and the
                    // API server drops them, leaving the selector empty.
                    let stray: serde_json::Map<String, Value> = sel
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, v)| !matches!(k.as_str(), "matchLabels" | "matchExpressions") && v.is_string())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let plain = if stray.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (`{}` is written directly under `selector`, where a LabelSelector has no such field, so it is dropped)",
                            show_map(&stray)
                        )
                    };
                    if doc.api_version.starts_with("apps/") {
                        let mut f = doc_finding(
                            &META,
                            doc,
                            &sel_path,
                            format!("{} has an empty selector", doc_name(doc)),
                            format!(
                                "`spec.selector` of {} has neither `matchLabels` nor `matchExpressions`{plain}; the API server rejects an empty selector for an {} object (it would select every pod in the namespace).",
                                doc_name(doc),
                                doc.api_version
                            ),
                        );
                        if !plain.is_empty() {
                            f.fix.push(Fix::text(format!(
                                "Move the labels under `matchLabels`: `selector: {{matchLabels: {}}}` at {}",
                                Value::Object(stray.clone()),
                                at(doc, &sel_path)
                            )));
                            out.push(f);
                            continue;
                        }
                        let want: serde_json::Map<String, Value> = labels
                            .iter()
                            .filter(|(k, _)| !k.contains("pod-template-hash"))
                            .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
                            .collect();
                        f.fix.push(Fix::text(if want.is_empty() {
                            format!(
                                "Give the pod template labels at {} and select them with `spec.selector.matchLabels`",
                                at(doc, &labels_path)
                            )
                        } else {
                            format!(
                                "Set `spec.selector.matchLabels: {}` at {}",
                                Value::Object(want),
                                at(doc, &sel_path)
                            )
                        }));
                        out.push(f);
                    }
                    continue;
                }
                let Some(m) = label_selector_matches(sel, &labels) else { continue };
                let mut shown = ml.map(show_map).unwrap_or_default();
                if let Some(me) = me {
                    let exprs: Vec<String> = me
                        .iter()
                        .map(|e| {
                            let vals: Vec<String> =
                                e["values"].as_array().into_iter().flatten().filter_map(scalar_text).collect();
                            format!(
                                "{} {} [{}]",
                                e["key"].as_str().unwrap_or("?"),
                                e["operator"].as_str().unwrap_or("?"),
                                vals.join(",")
                            )
                        })
                        .collect();
                    if !shown.is_empty() {
                        shown.push_str(", ");
                    }
                    shown.push_str(&exprs.join(", "));
                }
                (m, shown)
            } else {
                let Some(map) = sel.as_object().filter(|m| !m.is_empty()) else { continue };
                (map_matches(map, &labels), show_map(map))
            };
            if matches {
                continue;
            }
            let mut f = doc_finding(
                &META,
                doc,
                &sel_path,
                format!(
                    "{}: `selector` does not match template `labels` (selector {shown}; labels {})",
                    doc_name(doc),
                    show_labels(&labels)
                ),
                format!(
                    "The API server rejects {}: `spec.template.metadata.labels: Invalid value: ...: `selector` does not match template `labels``. A workload finds its pods by its selector, so its template must carry every label the selector requires ({shown}); it has {}.",
                    doc_name(doc),
                    show_labels(&labels)
                ),
            );
            f.evidence.push(quote(doc, &labels_path));
            let ml = if label_selector { sel["matchLabels"].as_object() } else { sel.as_object() };
            let missing: Vec<String> = ml
                .into_iter()
                .flatten()
                .filter(|(k, v)| {
                    !labels.iter().any(|(lk, lv)| *lk == k.as_str() && Some(lv) == scalar_text(v).as_ref())
                })
                .map(|(k, v)| format!("{k}: {}", scalar_text(v).unwrap_or_default()))
                .collect();
            if missing.is_empty() {
                f.fix.push(Fix::text(format!(
                    "Change the template labels at {} so that the selector's expressions ({shown}) hold",
                    at(doc, &labels_path)
                )));
            } else {
                f.fix.push(Fix::text(format!(
                    "Add `{}` to the template labels at {} (keep the selector: it is immutable once the object exists)",
                    missing.join(", "),
                    at(doc, &labels_path)
                )));
            }
            f.fix.push(Fix::cmd(
                "Check the fixed manifest against the API server before applying",
                format!("kubectl apply --dry-run=server {}", doc.kubectl_source()),
            ));
            out.push(f);
        }
    }
}
