use ks_core::manifest::FieldPath;
use ks_core::{Cause, Finding, Fix, ManifestDoc, RuleKind, RuleMeta, Severity, declare_rule};
use serde_json::{Map, Value};

use super::xref_bundle::{
    api_group, at, is_placeholder, ns_compatible, ns_flag, scalar_text, show_labels, show_map, template_labels,
};
use super::xref_refs::quote;
use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A Service whose `spec.selector` matches the labels of no pod template in the bundle
    /// (counting the labels controllers add, such as `statefulset.kubernetes.io/pod-name`),
    /// while a pod template of its namespace uses one of the selector's label keys with
    /// another value: a near miss such as `app: backend-api` against pods labelled
    /// `app: backend`. A Service for pods deployed elsewhere is common, so a namespace without
    /// any workload of the bundle is skipped, and so are selectors whose keys no template of
    /// the namespace uses (pods of an operator, of another release, or labelled at run time),
    /// Services without a selector (endpoints managed by hand), and selectors that name a
    /// custom resource of the namespace (an operator's `Prometheus`, `ThanosRuler`, ...).
    ///
    /// ### Why it breaks
    /// A Service routes to the ready pods whose labels contain every pair of its selector.
    /// With one label off (`app: web` against pods labelled `app: frontend`) it has no
    /// endpoints: clients get `connection refused` or time out, an Ingress answers 503, and
    /// nothing fails at apply time.
    ///
    /// ### How to confirm
    /// `kubectl -n NS get endpointslices -l kubernetes.io/service-name=NAME` shows no
    /// endpoints; `kubectl -n NS get pods -l KEY=VALUE` with the selector's pairs lists no pod.
    ///
    /// ### Fix
    /// Make the selector a subset of the pod template's labels: correct the Service's
    /// selector, or add the missing labels to `spec.template.metadata.labels` (a Deployment's
    /// own selector is immutable, its template labels are not).
    ///
    /// ### Prevention
    /// Generate selectors and template labels from one value (a chart helper, kustomize
    /// `labels` with `includeSelectors`), and lint the bundle in CI.
    ///
    /// ### Example
    /// Service shop/frontend selects `app: frontend-web` while the Deployment's pods are
    /// labelled `app: frontend`; the Ingress in front of it returns 503 (seed S3.5's
    /// "backend Service without endpoints").
    pub static META = {
        id: "KS1107",
        name: "service-selector-matches-no-template",
        cause: Cause::NetServiceNoEndpoints,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a Service selector matches no pod template of the bundle in its namespace",
    }
}

pub struct ServiceSelectorMatchesNoTemplate;

/// How close a template's labels come to a selector: (pairs equal, keys present).
fn closeness(selector: &Map<String, Value>, labels: &[(&str, String)]) -> (usize, usize) {
    let mut pairs = 0;
    let mut keys = 0;
    for (k, v) in selector {
        if let Some((_, have)) = labels.iter().find(|(lk, _)| *lk == k.as_str()) {
            keys += 1;
            if Some(have) == scalar_text(v).as_ref() {
                pairs += 1;
            }
        }
    }
    (pairs, keys)
}

/// API groups of custom resources that configure traffic, monitoring, certificates or
/// secrets and never run pods of their own.
const PODLESS_GROUPS: &[&str] = &[
    "cert-manager.io",
    "networking.istio.io",
    "security.istio.io",
    "telemetry.istio.io",
    "external-secrets.io",
    "bitnami.com",
    "keda.sh",
    "cilium.io",
    "traefik.io",
    "traefik.containo.us",
    "policy.kyverno.io",
    "kyverno.io",
];

/// Custom resources of the bundle that may run pods through an operator.
fn pod_making_resources(docs: &[ManifestDoc]) -> Vec<&ManifestDoc> {
    docs.iter()
        .filter(|d| {
            let group = api_group(&d.api_version);
            let custom = group.contains('.') && !group.ends_with(".k8s.io") && !PODLESS_GROUPS.contains(&group);
            // Prometheus-operator's monitors and rules select or configure; they run nothing.
            let podless = group == "monitoring.coreos.com"
                && (d.kind.ends_with("Monitor")
                    || d.kind.ends_with("Rule")
                    || d.kind.ends_with("Config")
                    || d.kind == "Probe");
            custom && !podless && d.value["spec"].is_object()
        })
        .collect()
}

/// Whether a custom resource in the namespace may be what creates the selected pods: an
/// operator labels its pods after the resource's kind or name (`prometheus: k8s`,
/// `app.kubernetes.io/name: thanos-ruler`, rook's `rook_cluster: rook-ceph`), so a selector
/// value naming one is its.
fn operator_may_make_pods(crs: &[&ManifestDoc], ns: Option<&str>, selector: &Map<String, Value>) -> bool {
    let values: Vec<String> = selector.values().filter_map(scalar_text).map(|v| v.to_ascii_lowercase()).collect();
    crs.iter().filter(|d| ns_compatible(d.namespace.as_deref(), ns)).any(|d| {
        let kind = d.kind.to_ascii_lowercase();
        let name = d.name.to_ascii_lowercase();
        values.iter().any(|v| v.replace(['-', '_'], "") == kind || *v == name)
    })
}

impl Rule for ServiceSelectorMatchesNoTemplate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let x = cx.xref();
        let crs = pod_making_resources(&cx.ev.manifests);
        for s in &x.services {
            if !s.ns_has_templates || !s.selected(&x.templates).is_empty() {
                continue;
            }
            let placeholder = is_placeholder(&s.doc.name)
                || s.selector
                    .iter()
                    .any(|(k, v)| is_placeholder(k) || scalar_text(v).is_none_or(|v| is_placeholder(&v)));
            let ns = s.doc.namespace.as_deref();
            if placeholder || operator_may_make_pods(&crs, ns, s.selector) {
                continue;
            }
            // Only a near miss is evidence of a mistake: a template of the namespace that
            // uses one of the selector's label keys with another value. A selector whose
            // keys no template uses is for pods made elsewhere (an operator, a controller
            // that labels its own pods, another release).
            let Some((t, labels)) = s
                .near(&x.templates)
                .into_iter()
                .map(|t| (t, template_labels(t)))
                .filter(|(_, l)| closeness(s.selector, l).1 > 0)
                .max_by_key(|(_, l)| closeness(s.selector, l))
            else {
                continue;
            };
            let sel = show_map(s.selector);
            let svc = doc_name(s.doc);
            let scope = match ns {
                Some(ns) => format!("namespace {ns}"),
                None => "this bundle".to_string(),
            };
            let sel_path = FieldPath::parse("spec.selector");
            let labels_path = t.meta_path().key("labels");
            let mut f = doc_finding(
                &META,
                s.doc,
                &sel_path,
                format!("{svc} selects {sel}, which no pod template in this bundle carries"),
                format!(
                    "The selector of {svc} ({sel}) matches none of the pod templates of {scope}; the closest, {}, is labelled {}. Unless pods created elsewhere carry these labels, the Service has no endpoints and connections to it are refused or time out.",
                    doc_name(t.doc),
                    show_labels(&labels)
                ),
            );
            f.evidence.push(quote(t.doc, &labels_path));
            let name = &s.doc.name;
            let n = ns_flag(ns);
            let pairs = |m: &Map<String, Value>| -> Vec<String> {
                m.iter().map(|(k, v)| format!("{k}={}", scalar_text(v).unwrap_or_default())).collect()
            };
            f.fix.push(Fix::cmd(
                "After applying, list the pods the selector reaches (none means no endpoints)",
                format!("kubectl {n}get pods -l {}", pairs(s.selector).join(",")),
            ));
            // The selector with the template's values for the keys they share.
            let fixed: Map<String, Value> = s
                .selector
                .keys()
                .filter_map(|k| {
                    let v = labels.iter().find(|(lk, _)| *lk == k.as_str())?;
                    Some((k.clone(), Value::String(v.1.clone())))
                })
                .collect();
            let fixed_json = Value::Object(fixed);
            f.fix.push(Fix::text(format!(
                "Set the selector to the labels of {}: `selector: {fixed_json}` at {}",
                doc_name(t.doc),
                at(s.doc, &sel_path)
            )));
            f.fix.push(Fix::cmd(
                "Or fix the Service in the cluster",
                format!(
                    "kubectl {n}patch service {name} --type json -p '[{{\"op\":\"replace\",\"path\":\"/spec/selector\",\"value\":{fixed_json}}}]'"
                ),
            ));
            let missing: Vec<String> = s
                .selector
                .iter()
                .filter(|(k, v)| {
                    !labels.iter().any(|(lk, lv)| *lk == k.as_str() && Some(lv) == scalar_text(v).as_ref())
                })
                .map(|(k, v)| format!("{k}: {}", scalar_text(v).unwrap_or_default()))
                .collect();
            f.fix.push(Fix::text(format!(
                "Or, if the Service is right, add `{}` to the labels of {} at {} (a workload's selector is immutable; its template labels are not)",
                missing.join(", "),
                doc_name(t.doc),
                at(t.doc, &labels_path)
            )));
            out.push(f);
        }
    }
}
