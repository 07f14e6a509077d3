use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::doc_finding;
use super::doc_name;
use super::xref_bundle::{at, is_placeholder, ns_flag, qualified};
use super::xref_ingress::{backends, ingresses, json_pointer};
use super::xref_refs::quote;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// An Ingress backend (a rule's path or the default backend) naming a Service that no
    /// manifest of the bundle defines in the Ingress's namespace. The Service may be deployed
    /// by another bundle, so this is a warning that names exactly what must exist, and a
    /// Service of the bundle with a similar name is suggested.
    ///
    /// ### Why it breaks
    /// An Ingress routes only to Services in its own namespace. With the Service absent (or
    /// misnamed), the controller has no endpoints for those routes and answers 503, while the
    /// Ingress itself is accepted and gets an address.
    ///
    /// ### How to confirm
    /// `kubectl -n NS get service NAME`; `kubectl -n NS describe ingress NAME` lists each
    /// backend with `<error: services "NAME" not found>`.
    ///
    /// ### Fix
    /// Point the backend at the Service that exists, or deploy the Service.
    ///
    /// ### Prevention
    /// Ship the Ingress with the Service it routes to, and lint the bundle in CI.
    ///
    /// ### Example
    /// Seed S3.5: Ingress klinematrix-prod/klinematrix-ingress routes `/api` to
    /// `backend-service`, while the bundle's Service is called `backend`.
    pub static META = {
        id: "KS1110",
        name: "ingress-service-not-in-bundle",
        cause: Cause::NetIngressBackendMissing,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "an Ingress routes to a Service that no manifest of the bundle defines",
    }
}

pub struct IngressServiceNotInBundle;

impl Rule for IngressServiceNotInBundle {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let bundle = &cx.xref().bundle;
        for ing in ingresses(&cx.ev.manifests) {
            let ns = ing.namespace.as_deref();
            let all = backends(ing);
            let mut done: Vec<&str> = Vec::new();
            for b in &all {
                if done.contains(&b.service) || is_placeholder(b.service) || bundle.services.has(ns, b.service) {
                    continue;
                }
                done.push(b.service);
                let same: Vec<_> = all.iter().filter(|o| o.service == b.service).collect();
                let routes: Vec<&str> = same.iter().map(|o| o.route.as_str()).collect();
                let q = qualified(ns, b.service);
                let port = b.port.as_ref().map(|p| format!(" (port {p})")).unwrap_or_default();
                let mut f = doc_finding(
                    &META,
                    ing,
                    &b.name_path,
                    format!(
                        "Service {q}{port} must exist in the cluster; {} routes to it and it is not in this bundle",
                        doc_name(ing)
                    ),
                    format!(
                        "{} sends {} to Service {q}, and no manifest in this bundle defines it. It may be deployed elsewhere, but if it is not in the Ingress's namespace, the controller has no endpoints for these routes and answers 503.",
                        doc_name(ing),
                        routes.join(", ")
                    ),
                );
                for o in same.iter().skip(1).take(4) {
                    f.evidence.push(quote(ing, &o.name_path));
                }
                f.root_key = format!("{}:{}:{}", META.id, doc_name(ing), b.service);
                f.fix.push(Fix::cmd(
                    format!("Check whether Service {q} exists in the cluster"),
                    format!("kubectl {}get service {}", ns_flag(ns), b.service),
                ));
                // A Service of the bundle with a close name is the likely intent.
                let mut similar: Vec<(f64, &str)> = bundle
                    .services
                    .names_near(ns)
                    .into_iter()
                    .filter_map(|n| crate::util::similar_name(n, b.service, 0.6, 4).map(|s| (s, n)))
                    .collect();
                similar.sort_by(|a, b| b.0.total_cmp(&a.0));
                if let Some((_, name)) = similar.first() {
                    let lines: Vec<String> = same.iter().map(|o| at(ing, &o.name_path)).collect();
                    f.fix.push(Fix::text(format!(
                        "If it should be this bundle's Service `{name}`, set `{}: {name}` at {}",
                        super::xref_bundle::last_key(&b.name_path),
                        lines.join(", ")
                    )));
                    let ops: Vec<String> = same
                        .iter()
                        .map(|o| {
                            format!(
                                "{{\"op\":\"replace\",\"path\":\"{}\",\"value\":\"{name}\"}}",
                                json_pointer(&o.name_path)
                            )
                        })
                        .collect();
                    f.fix.push(Fix::cmd(
                        "Or fix the Ingress in the cluster",
                        format!(
                            "kubectl {}patch ingress {} --type json -p '[{}]'",
                            ns_flag(ns),
                            ing.name,
                            ops.join(",")
                        ),
                    ));
                } else {
                    f.fix.push(Fix::text(format!(
                        "Otherwise add Service {q} to this bundle, or point the backend at {} to a Service that exists",
                        at(ing, &b.name_path)
                    )));
                }
                out.push(f);
            }
        }
    }
}
