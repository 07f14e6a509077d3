use std::collections::HashMap;

use ks_core::k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use ks_core::{
    Cause, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::signatures::INGRESS_LOG_MATCHER;
use crate::util::{self, ns_flag};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// An Ingress no controller will serve: it has no `spec.ingressClassName` and no
    /// `kubernetes.io/ingress.class` annotation while no IngressClass is marked default, it
    /// names a class that does not exist, or the controller of its class has no running pod.
    /// An ingress controller's own log line `"Ignoring ingress because of error while
    /// validating ingress class"` for the Ingress settles it. An Ingress that already has an
    /// address in `status.loadBalancer` is served and never reported.
    ///
    /// ### Why it breaks
    /// Each controller only programs Ingresses of its own class. Since ingress-nginx 1.0 an
    /// Ingress without a class is ignored unless the controller runs with
    /// `--watch-ingress-without-class`, and the API server only fills in the class at creation
    /// when an IngressClass is marked default. Requests then reach the controller's default
    /// backend and get 404, although the Ingress, Service and pods all look fine.
    ///
    /// ### How to confirm
    /// `kubectl get ingress` shows an empty CLASS and no ADDRESS; `kubectl get ingressclass`
    /// lists the classes (the default one is marked `(default)`); the controller's log says
    /// `Ignoring ingress because of error while validating ingress class`.
    ///
    /// ### Fix
    /// Set `spec.ingressClassName` to a class that exists, e.g.
    /// `kubectl patch ingress web -p '{"spec":{"ingressClassName":"nginx"}}'`, or install the
    /// controller the class names.
    ///
    /// ### Prevention
    /// Always set `ingressClassName` in Ingress manifests (charts usually expose
    /// `ingress.className`), and mark exactly one IngressClass as default with
    /// `ingressclass.kubernetes.io/is-default-class: "true"`.
    ///
    /// ### Example
    /// `"Ignoring ingress because of error while validating ingress class"
    /// ingress="default/gateway-ingress" error="ingress does not contain a valid IngressClass"`.
    pub static META = {
        id: "KS0802",
        name: "ingress-class-missing",
        cause: Cause::NetIngressClass,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "an Ingress has no usable ingress class, so no controller serves it",
    }
}

pub struct IngressClassMissing;

const LEGACY_ANNOTATION: &str = "kubernetes.io/ingress.class";
const DEFAULT_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

/// A controller log line about one Ingress.
struct LogHit {
    line: String,
    error: String,
    pod: ObjectRef,
}

fn is_default(c: &IngressClass) -> bool {
    c.metadata.annotations.as_ref().and_then(|a| a.get(DEFAULT_ANNOTATION)).is_some_and(|v| v == "true")
}

fn has_address(ing: &Ingress) -> bool {
    ing.status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref())
        .is_some_and(|v| v.iter().any(|i| i.ip.is_some() || i.hostname.is_some()))
}

/// Controller log lines saying an Ingress is ignored for its class, newest per Ingress.
fn log_hits(ev: &Evidence) -> HashMap<(String, String), LogHit> {
    let mut out = HashMap::new();
    for (key, log) in &ev.logs {
        for line in &log.lines {
            // Cheap prefilter before the regex: these lines are rare.
            if !line.contains("gnoring ingress") {
                continue;
            }
            if let Some(m) = INGRESS_LOG_MATCHER.first(line) {
                let pod = ObjectRef::new("Pod", Some(&key.namespace), &key.pod);
                out.insert(
                    (m.get("ns").to_string(), m.get("name").to_string()),
                    LogHit { line: line.trim().to_string(), error: m.get("error").replace("\\\"", "\""), pod },
                );
            }
        }
    }
    out
}

/// `--ingress-class=X` values of ingress-nginx controller pods: the annotation values they
/// accept (ingress-nginx defaults to `nginx`).
fn accepted_annotation_values(ev: &Evidence, pods: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    for &i in pods {
        for c in ev.pods[i].spec.iter().flat_map(|s| s.containers.iter()) {
            let args = c.args.iter().flatten().chain(c.command.iter().flatten());
            let mut found = false;
            for a in args {
                if let Some(v) = a.strip_prefix("--ingress-class=") {
                    out.push(v.trim_matches('"').to_string());
                    found = true;
                }
            }
            if !found && c.image.as_deref().is_some_and(|i| i.contains("ingress-nginx/controller")) {
                out.push("nginx".to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether a controller pod runs with `--watch-ingress-without-class` (it serves Ingresses
/// that have no class).
fn watches_classless(ev: &Evidence, pods: &[usize]) -> bool {
    pods.iter().flat_map(|&i| ev.pods[i].spec.iter().flat_map(|s| s.containers.iter())).any(|c| {
        c.args
            .iter()
            .flatten()
            .chain(c.command.iter().flatten())
            .any(|a| a == "--watch-ingress-without-class" || a == "--watch-ingress-without-class=true")
    })
}

impl Rule for IngressClassMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        let collected = ev.has_collected("IngressClass");
        let hits = if ev.logs.is_empty() { HashMap::new() } else { log_hits(ev) };
        let classes: Vec<&IngressClass> = ev.ingress_classes.iter().collect();
        let class_names: Vec<String> = classes.iter().filter_map(|c| c.metadata.name.clone()).collect();
        let has_default = classes.iter().any(|c| is_default(c));
        let controllers = super::any_controller_pods(ev);
        let classless_served = watches_classless(ev, &controllers);
        // When IngressClasses were not collected, the running controller's class is the
        // best suggestion.
        let controller_classes = accepted_annotation_values(ev, &controllers);
        for ing in &ev.ingresses {
            // An address means a controller adopted the Ingress; only a dead controller can
            // still break it then.
            let adopted = has_address(ing);
            let ns = ing.metadata.namespace.clone().unwrap_or_default();
            let name = ing.metadata.name.clone().unwrap_or_default();
            let spec_class = ing.spec.as_ref().and_then(|s| s.ingress_class_name.clone());
            let annotation = ing.metadata.annotations.as_ref().and_then(|a| a.get(LEGACY_ANNOTATION)).cloned();
            let class = spec_class.clone().or(annotation.clone());
            let hit = hits.get(&(ns.clone(), name.clone()));
            let exists = class.as_ref().is_some_and(|c| class_names.contains(c));
            let iref = ObjectRef::new("Ingress", Some(&ns), &name).with_api_version("networking.k8s.io/v1");
            let x = Explain {
                ev,
                ns: &ns,
                name: &name,
                iref: iref.clone(),
                class_names: &class_names,
                classes: &classes,
                controller_classes: &controller_classes,
            };
            let f = match &class {
                None if adopted => continue,
                None => {
                    let log_says = hit.filter(|h| !h.error.contains("no object matching key"));
                    if log_says.is_none() && !(collected && !has_default && !classless_served) {
                        continue;
                    }
                    x.no_class(log_says, collected)
                }
                Some(c) => {
                    let log_says =
                        hit.filter(|h| h.error.contains(&format!("\"{c}\"")) || h.error.contains("annotation"));
                    let log_says = log_says.filter(|_| !(adopted || (collected && exists)));
                    if let Some(h) = log_says {
                        x.unknown_class(c, Some(h), collected)
                    } else if collected && !exists && !adopted {
                        if spec_class.is_none() {
                            // A legacy annotation works without an IngressClass object when a
                            // controller's --ingress-class accepts it; judge only when the
                            // controllers are in the evidence and none does.
                            let accepted = accepted_annotation_values(ev, &controllers);
                            if controllers.is_empty() || accepted.contains(c) {
                                continue;
                            }
                        }
                        x.unknown_class(c, None, collected)
                    } else if exists {
                        match x.controller_down(c, cx) {
                            Some(f) => f,
                            None => continue,
                        }
                    } else {
                        continue;
                    }
                }
            };
            out.push(f);
        }
    }
}

struct Explain<'a> {
    ev: &'a Evidence,
    ns: &'a str,
    name: &'a str,
    iref: ObjectRef,
    class_names: &'a [String],
    classes: &'a [&'a IngressClass],
    controller_classes: &'a [String],
}

impl Explain<'_> {
    /// The class to suggest: the only one, else the one whose controller has ready pods,
    /// else the first.
    fn suggested(&self) -> Option<String> {
        if self.class_names.len() == 1 {
            return self.class_names.first().cloned();
        }
        self.classes
            .iter()
            .find(|c| {
                let ctl = c.spec.as_ref().and_then(|s| s.controller.as_deref()).unwrap_or_default();
                super::controller_pods(self.ev, ctl).iter().any(|&i| super::pod_ready(&self.ev.pods[i]))
            })
            .and_then(|c| c.metadata.name.clone())
            .or_else(|| self.class_names.first().cloned())
    }

    fn base(&self, title: String, root: String, hit: Option<&LogHit>) -> Finding {
        let mut f = util::finding(&META, self.iref.clone(), title, root);
        if let Some(h) = hit {
            f.evidence.push(EvidenceItem::new(EvidenceSource::Log, h.line.clone(), Some(h.pod.clone())));
        }
        f
    }

    fn classes_evidence(&self, f: &mut Finding, collected: bool) {
        if !collected {
            return;
        }
        let text = if self.classes.is_empty() {
            "IngressClasses: none".to_string()
        } else {
            let list: Vec<String> = self
                .classes
                .iter()
                .map(|c| {
                    let n = c.metadata.name.clone().unwrap_or_default();
                    let ctl = c.spec.as_ref().and_then(|s| s.controller.clone()).unwrap_or_default();
                    let d = if is_default(c) { " (default)" } else { "" };
                    format!("{n}{d} -> {ctl}")
                })
                .collect();
            format!("IngressClasses: {}", list.join(", "))
        };
        f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, text, None));
    }

    fn patch_fixes(&self, f: &mut Finding) {
        if self.class_names.is_empty()
            && let Some(c) = self.controller_classes.first()
        {
            f.fix.push(Fix::cmd(
                format!(
                    "Give the Ingress the class of the running controller ({c}; kubectl get ingressclass lists them)"
                ),
                format!(
                    "kubectl {}patch ingress {} -p '{{\"spec\":{{\"ingressClassName\":\"{c}\"}}}}'",
                    ns_flag(self.ns),
                    self.name
                ),
            ));
            f.fix.push(Fix::cmd(
                "Check that a controller picked it up (ADDRESS is filled)",
                format!("kubectl {}get ingress {}", ns_flag(self.ns), self.name),
            ));
            return;
        }
        match self.suggested() {
            Some(c) => f.fix.push(Fix::cmd(
                format!("Give the Ingress the class {c}, which exists"),
                format!(
                    "kubectl {}patch ingress {} -p '{{\"spec\":{{\"ingressClassName\":\"{c}\"}}}}'",
                    ns_flag(self.ns),
                    self.name
                ),
            )),
            None => {
                f.fix.push(Fix::cmd(
                    "No IngressClass exists: install a controller (ingress-nginx creates the class nginx)",
                    "helm upgrade --install ingress-nginx ingress-nginx --repo https://kubernetes.github.io/ingress-nginx --namespace ingress-nginx --create-namespace",
                ));
                f.fix.push(Fix::cmd(
                    "then give the Ingress that class",
                    format!(
                        "kubectl {}patch ingress {} -p '{{\"spec\":{{\"ingressClassName\":\"nginx\"}}}}'",
                        ns_flag(self.ns),
                        self.name
                    ),
                ));
            }
        }
        f.fix.push(Fix::cmd(
            "Check that a controller picked it up (ADDRESS is filled)",
            format!("kubectl {}get ingress {}", ns_flag(self.ns), self.name),
        ));
    }

    fn no_class(&self, hit: Option<&LogHit>, collected: bool) -> Finding {
        let why = match hit {
            Some(h) => format!("The ingress controller ignores it: \"{}\".", h.error),
            None if self.classes.is_empty() => {
                "No IngressClass exists in the cluster either, so no controller claims it.".to_string()
            }
            None => format!(
                "None of the IngressClasses ({}) is marked default, so no controller claims it.",
                util::join_names(self.class_names)
            ),
        };
        let root = format!(
            "Ingress {} has neither spec.ingressClassName nor a {LEGACY_ANNOTATION} annotation. {why} Requests for its hosts reach the controller's default backend and get 404.",
            self.name
        );
        let mut f = self.base(
            format!("Ingress {}/{} has no ingress class, so no controller serves it", self.ns, self.name),
            root,
            hit,
        );
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("Ingress {}/{}: no spec.ingressClassName, no {LEGACY_ANNOTATION} annotation", self.ns, self.name),
            Some(self.iref.clone()),
        ));
        self.classes_evidence(&mut f, collected);
        f.root_key = "ingress-class:none".to_string();
        self.patch_fixes(&mut f);
        f
    }

    fn unknown_class(&self, class: &str, hit: Option<&LogHit>, collected: bool) -> Finding {
        let exists_text = if !collected {
            String::new()
        } else if self.class_names.is_empty() {
            " No IngressClass exists in the cluster.".to_string()
        } else {
            format!(" The classes that exist: {}.", util::join_names(self.class_names))
        };
        let close =
            super::closest(class, self.class_names, 0.5).map(|c| format!(" Did you mean {c}?")).unwrap_or_default();
        let root = format!(
            "Ingress {} asks for ingress class {class}, but no IngressClass {class} exists, so no controller serves it and its hosts get 404.{exists_text}{close}",
            self.name
        );
        let mut f = self.base(
            format!("Ingress {}/{} names ingress class {class}, which does not exist", self.ns, self.name),
            root,
            hit,
        );
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("Ingress {}/{} ingress class: {class}", self.ns, self.name),
            Some(self.iref.clone()),
        ));
        self.classes_evidence(&mut f, collected);
        f.root_key = format!("ingress-class:{class}");
        self.patch_fixes(&mut f);
        f
    }

    /// The class exists but its controller's pods are all down.
    fn controller_down(&self, class: &str, cx: &Context<'_>) -> Option<Finding> {
        let ic = self.classes.iter().find(|c| c.metadata.name.as_deref() == Some(class))?;
        let ctl = ic.spec.as_ref().and_then(|s| s.controller.clone())?;
        let pods = super::controller_pods(self.ev, &ctl);
        if pods.is_empty()
            || pods.iter().any(|&i| super::pod_ready(&self.ev.pods[i]) && !super::pod_gone(&self.ev.pods[i]))
        {
            return None;
        }
        let troubles: Vec<String> = pods
            .iter()
            .take(3)
            .map(|&i| format!("{} ({})", util::pod_names(self.ev, i).1, super::pod_trouble(cx, i)))
            .collect();
        let w = self.ev.workload_of(pods[0]).clone();
        let root = format!(
            "Ingress {} uses class {class}, whose controller {ctl} runs as {w}, but none of its pods is ready: {}. Until it runs, nothing serves the Ingress.",
            self.name,
            troubles.join("; ")
        );
        let mut f = self.base(format!("The controller of ingress class {class} is not running"), root, None);
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("IngressClass {class} -> controller {ctl}"),
            Some(ObjectRef::new("IngressClass", None, class)),
        ));
        for &i in pods.iter().take(3) {
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                super::pod_trouble(cx, i),
                Some(crate::facts::pod_ref(&self.ev.pods[i])),
            ));
        }
        f.related.push(w.clone());
        f.caused_by = Some(w.clone());
        f.root_key = format!("ingress-controller:{ctl}");
        f.fix.push(Fix::cmd(
            format!("See why {w} is not ready"),
            format!("kubectl {}describe {}", w.ns_flag(), w.kubectl_ref()),
        ));
        f.fix.push(Fix::cmd(
            "Read the controller's log",
            format!("kubectl {}logs {} --tail=50", w.ns_flag(), w.kubectl_ref()),
        ));
        Some(f)
    }
}
