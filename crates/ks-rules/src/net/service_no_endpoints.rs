use std::collections::{BTreeMap, HashMap};

use ks_core::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::{Backends, labels_text, pod_gone, pod_ready, selector_matches};
use crate::facts::pod_ref;
use crate::util::{self, ns_flag};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A Service with a selector whose Endpoints (or EndpointSlices) hold no ready address,
    /// and why: no pod in the namespace carries the selector's labels (shown next to the
    /// closest label set that exists), the pods that match are not ready (named, with their
    /// own problem), the workload behind the selector has no pods, or `targetPort` names a
    /// port no container declares. Headless Services count only when an Ingress routes to
    /// them; Services without a selector (hand-written Endpoints) and `ExternalName` ones
    /// are skipped.
    ///
    /// ### Why it breaks
    /// A Service forwards only to ready pods whose labels contain every `key: value` of its
    /// selector. One differing key or value (`app: backend` against `app: backend-api`,
    /// `name:` against `app:`) and the Service has no backends: clients get `connection
    /// refused`, Ingresses answer 503, and nothing in the Service itself says so.
    ///
    /// ### How to confirm
    /// `kubectl get endpoints <svc>` shows `<none>` (`subsets: []`);
    /// `kubectl get pods -l <selector>` returns nothing, or pods that are not `READY`;
    /// `kubectl get pods --show-labels` shows the labels that exist.
    ///
    /// ### Fix
    /// Make the selector equal to the pod template's labels (or relabel the template), fix
    /// what keeps the matching pods unready, or point `targetPort` at a port the container
    /// declares.
    ///
    /// ### Prevention
    /// Generate the Service selector and the pod labels from one value (Helm
    /// `selectorLabels`, kustomize `labels`), and check `kubectl get endpoints` in the deploy
    /// pipeline after each rollout.
    ///
    /// ### Example
    /// Service `nginx-ing-svc` selects `name=nginx-ingress` while its pods carry
    /// `app=nginx-ingress`: `kubectl get endpoints nginx-ing-svc` shows `subsets: []`.
    pub static META = {
        id: "KS0801",
        name: "service-no-endpoints",
        cause: Cause::NetServiceNoEndpoints,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a Service selects no ready pod: label mismatch, unready pods or a wrong targetPort",
    }
}

pub struct ServiceNoEndpoints;

/// Pods younger than this that are merely starting are not a problem yet.
const STARTING_GRACE_SECS: i64 = 120;

/// A label set that exists in the namespace: a workload's pod template or a lone pod's labels.
struct LabelSet<'a> {
    source: ObjectRef,
    labels: &'a BTreeMap<String, String>,
}

impl Rule for ServiceNoEndpoints {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        let backends = super::backends_by_service(ev);
        // Pods by one label pair, so a selector is matched against its candidates only.
        let mut by_label: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
        for (i, p) in ev.pods.iter().enumerate() {
            let ns = p.metadata.namespace.as_deref().unwrap_or_default();
            for (k, v) in p.metadata.labels.iter().flatten() {
                by_label.entry((ns, k.as_str(), v.as_str())).or_default().push(i);
            }
        }
        // Ingresses routing to each Service, so an Ingress-facing Service names its users.
        let mut routed: HashMap<(String, String), Vec<ObjectRef>> = HashMap::new();
        for ing in &ev.ingresses {
            let ns = ing.metadata.namespace.clone().unwrap_or_default();
            let iref = ObjectRef::new("Ingress", Some(&ns), ing.metadata.name.as_deref().unwrap_or_default());
            for r in super::ingress_routes(ing) {
                let v = routed.entry((ns.clone(), r.backend.name.clone())).or_default();
                if !v.contains(&iref) {
                    v.push(iref.clone());
                }
            }
        }
        for svc in &ev.services {
            let Some(spec) = &svc.spec else { continue };
            let Some(selector) = spec.selector.as_ref().filter(|s| !s.is_empty()) else { continue };
            if spec.type_.as_deref() == Some("ExternalName") {
                continue;
            }
            let ns = svc.metadata.namespace.clone().unwrap_or_default();
            let name = svc.metadata.name.clone().unwrap_or_default();
            let ingresses = routed.get(&(ns.clone(), name.clone())).cloned().unwrap_or_default();
            let headless = spec.cluster_ip.as_deref() == Some("None");
            if headless && ingresses.is_empty() {
                continue;
            }
            let b = backends.get(&(ns.clone(), name.clone())).copied();
            if b.is_some_and(|b| b.ready > 0) {
                continue;
            }
            // Without endpoint evidence the pods decide, and only if pods were collected.
            if b.is_none() && !ev.has_collected("Pod") {
                continue;
            }
            let svc_ref = ObjectRef::new("Service", Some(&ns), &name).with_api_version("v1");
            let ns_pods: &[usize] = ev.index.pods_by_namespace.get(&ns).map(Vec::as_slice).unwrap_or_default();
            let candidates: &[usize] = selector
                .iter()
                .map(|(k, v)| {
                    by_label.get(&(ns.as_str(), k.as_str(), v.as_str())).map(Vec::as_slice).unwrap_or_default()
                })
                .min_by_key(|c| c.len())
                .unwrap_or_default();
            let matching: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| !pod_gone(&ev.pods[i]) && selector_matches(selector, ev.pods[i].metadata.labels.as_ref()))
                .collect();
            // Pods without a status are manifests, not cluster state: they prove nothing about
            // endpoints. Without endpoint evidence, the namespace must show live pods.
            let live = |i: &usize| ev.pods[*i].status.as_ref().is_some_and(|s| s.phase.is_some());
            if b.is_none() && !ns_pods.iter().any(live) {
                continue;
            }
            if !matching.is_empty() && !matching.iter().any(live) {
                continue;
            }
            let mut base =
                Base { cx, svc_ref: svc_ref.clone(), ns: &ns, name: &name, selector, backends: b, ingresses };
            let f = if matching.is_empty() {
                base.no_pods_match(ns_pods)
            } else {
                let ready: Vec<usize> = matching.iter().copied().filter(|&i| pod_ready(&ev.pods[i])).collect();
                if ready.is_empty() {
                    base.none_ready(&matching)
                } else {
                    base.named_port_missing(spec.ports.as_deref().unwrap_or_default(), &ready)
                }
            };
            if let Some(f) = f {
                out.push(f);
            }
        }
    }
}

struct Base<'c, 'a> {
    cx: &'c Context<'a>,
    svc_ref: ObjectRef,
    ns: &'c str,
    name: &'c str,
    selector: &'c BTreeMap<String, String>,
    backends: Option<Backends>,
    ingresses: Vec<ObjectRef>,
}

impl Base<'_, '_> {
    fn finding(&self, title: String, root: String) -> Finding {
        let mut f = util::finding(&META, self.svc_ref.clone(), title, root);
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("Service {}/{} selector: {}", self.ns, self.name, labels_text(self.selector)),
            Some(self.svc_ref.clone()),
        ));
        let ep = ObjectRef::new("Endpoints", Some(self.ns), self.name);
        match self.backends {
            Some(b) if b.not_ready > 0 => f.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("Endpoints {}/{}: 0 ready addresses, {} not ready", self.ns, self.name, b.not_ready),
                Some(ep),
            )),
            Some(_) => f.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("Endpoints {}/{} has no addresses (subsets: [])", self.ns, self.name),
                Some(ep),
            )),
            None => {}
        }
        for i in &self.ingresses {
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("Ingress {} routes to Service {}", i.qualified_name(), self.name),
                Some(i.clone()),
            ));
            f.affected.push(i.clone());
        }
        f
    }

    fn users(&self) -> String {
        if self.ingresses.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = self.ingresses.iter().map(|i| i.name.clone()).collect();
            format!(" Ingress {} answers 503 for its routes to it.", util::join_names(&names))
        }
    }

    fn verify(&self) -> Fix {
        Fix::cmd(
            "Check that the Service has endpoints again",
            format!("kubectl {}get endpoints {}", ns_flag(self.ns), self.name),
        )
    }

    /// No pod carries the selector's labels.
    fn no_pods_match(&mut self, ns_pods: &[usize]) -> Option<Finding> {
        let ev = self.cx.ev;
        let sets = label_sets(self.cx, self.ns, ns_pods);
        // The selector's labels are on a workload's template, but that workload has no pods.
        if let Some((w, replicas)) = templates(self.cx, self.ns).into_iter().find(|(w, _)| {
            sets.iter().any(|s| {
                s.source.kind == w.kind && s.source.name == w.name && selector_matches(self.selector, Some(s.labels))
            })
        }) {
            if replicas == Some(0) {
                // Scaled to zero on purpose is only worth saying when an Ingress still routes here.
                if self.ingresses.is_empty() {
                    return None;
                }
                let mut f = self.finding(
                    format!("Service {}/{} has no endpoints: {} is scaled to 0 replicas", self.ns, self.name, w),
                    format!(
                        "Service {} selects the pods of {w}, which is scaled to 0 replicas, so nothing serves it.{}",
                        self.name,
                        self.users()
                    ),
                );
                f.root_key = format!("service-endpoints:{}/{}", self.ns, self.name);
                f.fix.push(Fix::cmd(
                    format!("Scale {w} back up"),
                    format!("kubectl {}scale {} --replicas=1", w.ns_flag(), w.kubectl_ref()),
                ));
                f.fix.push(self.verify());
                return Some(f);
            }
            // Only claim "no pods" when pods of this namespace were collected.
            if !ev.has_collected("Pod") {
                return None;
            }
            let mut f = self.finding(
                format!("Service {}/{} has no endpoints: {w} has no pods", self.ns, self.name),
                format!(
                    "Service {} selects the pods of {w}, but none exist: the workload cannot create or keep its pods; its own finding says why.{}",
                    self.name,
                    self.users()
                ),
            );
            f.root_key = format!("service-endpoints:{}/{}", self.ns, self.name);
            f.caused_by = Some(w.clone());
            f.fix.push(Fix::cmd(
                format!("See why {w} has no pods"),
                format!("kubectl {}describe {}", w.ns_flag(), w.kubectl_ref()),
            ));
            f.fix.push(self.verify());
            return Some(f);
        }
        // Nothing in the namespace to compare with and no endpoint evidence: too little to judge.
        if sets.is_empty() && self.backends.is_none() {
            return None;
        }
        let best = sets
            .iter()
            .map(|s| (score(self.selector, s.labels), s))
            .filter(|(sc, _)| *sc > 0.25)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, s)| s);
        let mut root = format!(
            "Service {} selects pods labelled {}, but no pod in namespace {} carries all of these labels, so the Service has no backends.",
            self.name,
            labels_text(self.selector),
            self.ns
        );
        let mut fixes = Vec::new();
        let mut extra = Vec::new();
        if let Some(best) = best {
            let diffs = differences(self.selector, best.labels);
            root.push_str(&format!(" The closest pods, those of {}, have {}.", best.source, diffs.join("; ")));
            extra.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("{} labels: {}", best.source, labels_text(best.labels)),
                Some(best.source.clone()),
            ));
            let proposed = proposed_selector(self.selector, best.labels);
            if !proposed.is_empty() {
                let value = proposed.iter().map(|(k, v)| format!("\"{k}\":\"{v}\"")).collect::<Vec<_>>().join(",");
                fixes.push(Fix::cmd(
                    format!("Select the labels the pods of {} carry", best.source),
                    format!(
                        "kubectl {}patch service {} --type json -p '[{{\"op\":\"replace\",\"path\":\"/spec/selector\",\"value\":{{{value}}}}}]'",
                        ns_flag(self.ns),
                        self.name
                    ),
                ));
            }
        } else if sets.is_empty() {
            root.push_str(&format!(" There are no pods in namespace {} at all.", self.ns));
        }
        root.push_str(&self.users());
        fixes.push(Fix::cmd(
            "Compare with the labels that exist",
            format!("kubectl {}get pods --show-labels", ns_flag(self.ns)),
        ));
        fixes.push(self.verify());
        let mut f = self.finding(
            format!(
                "Service {}/{} selects no pods: no pod has labels {}",
                self.ns,
                self.name,
                labels_text(self.selector)
            ),
            root,
        );
        f.evidence.extend(extra);
        f.fix = fixes;
        f.root_key = format!("service-endpoints:{}/{}", self.ns, self.name);
        Some(f)
    }

    /// Pods match but none is ready.
    fn none_ready(&mut self, matching: &[usize]) -> Option<Finding> {
        let cx = self.cx;
        let ev = cx.ev;
        // Pods that are only starting (young, no known problem) will be ready soon.
        let starting = matching.iter().all(|&i| {
            let young = ev
                .age_secs(ev.pods[i].metadata.creation_timestamp.as_ref().map(|t| t.0))
                .is_some_and(|a| a < STARTING_GRACE_SECS);
            young
                && !cx.facts.problems.iter().any(|p| p.pod == i)
                && !cx.facts.pending.iter().any(|p| p.pod == i)
                && !cx.facts.mounts.iter().any(|p| p.pod == i)
        });
        if starting {
            return None;
        }
        let mut workloads: Vec<ObjectRef> = Vec::new();
        let mut lines = Vec::new();
        for &i in matching.iter().take(5) {
            let (_, pod) = util::pod_names(ev, i);
            lines.push(format!("{pod} ({})", super::pod_trouble(cx, i)));
            let w = ev.workload_of(i).clone();
            if !workloads.contains(&w) {
                workloads.push(w);
            }
        }
        // A bare pod is named as a pod, not as "the pods of Pod x".
        let wnames: Vec<String> =
            workloads.iter().map(|w| if w.kind == "Pod" { format!("pod {}", w.name) } else { w.to_string() }).collect();
        let more = matching.len().saturating_sub(5);
        let root = format!(
            "Service {} selects {} pod{} ({}), but none is ready, so the Service has no backends: {}{}. Fix what keeps the pods of {} unready; the Service will follow.{}",
            self.name,
            matching.len(),
            if matching.len() == 1 { "" } else { "s" },
            util::join_names(&wnames),
            lines.join("; "),
            if more > 0 { format!("; and {more} more") } else { String::new() },
            util::join_names(&wnames),
            self.users()
        );
        let mut f = self.finding(
            format!(
                "Service {}/{} has no ready endpoints: the pods of {} are not ready",
                self.ns,
                self.name,
                util::join_names(&wnames)
            ),
            root,
        );
        for &i in matching {
            f.affected.push(pod_ref(&ev.pods[i]));
        }
        f.related = workloads.clone();
        // The pods' own problem is the root cause; correlation folds this into its finding.
        if let [w] = workloads.as_slice() {
            f.caused_by = Some(w.clone());
        }
        f.root_key = format!("service-endpoints:{}/{}", self.ns, self.name);
        if let Some(&first) = matching.first() {
            f.fix.push(Fix::cmd("See why the pods are not ready", {
                let (_, pod) = util::pod_names(ev, first);
                format!("kubectl {}describe pod {pod}", ns_flag(self.ns))
            }));
        }
        let sel = self.selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        f.fix.push(Fix::cmd("Watch them become ready", format!("kubectl {}get pods -l {sel} -w", ns_flag(self.ns))));
        f.fix.push(self.verify());
        Some(f)
    }

    /// Pods match and are ready, yet no endpoint: a named targetPort no container declares.
    fn named_port_missing(
        &mut self,
        ports: &[ks_core::k8s_openapi::api::core::v1::ServicePort],
        ready: &[usize],
    ) -> Option<Finding> {
        let ev = self.cx.ev;
        let declared: Vec<(String, i32)> = ready
            .iter()
            .flat_map(|&i| ev.pods[i].spec.iter().flat_map(|s| s.containers.iter()))
            .flat_map(|c| c.ports.iter().flatten())
            .map(|p| (p.name.clone().unwrap_or_default(), p.container_port))
            .collect();
        let (pi, port, tname) = ports.iter().enumerate().find_map(|(i, p)| match &p.target_port {
            Some(IntOrString::String(n)) if !declared.iter().any(|(d, _)| d == n) => Some((i, p, n.clone())),
            _ => None,
        })?;
        let names: Vec<String> = declared.iter().filter(|(n, _)| !n.is_empty()).map(|(n, _)| n.clone()).collect();
        let w = ev.workload_of(ready[0]).clone();
        let mut root = format!(
            "Port {} of Service {} targets the container port named {tname}, but no container of {w} declares a port with that name, so the endpoints controller cannot resolve it and adds no address.",
            port.port, self.name
        );
        if !declared.is_empty() {
            let list: Vec<String> =
                declared.iter().map(|(n, p)| if n.is_empty() { p.to_string() } else { format!("{n} ({p})") }).collect();
            root.push_str(&format!(" The containers declare: {}.", list.join(", ")));
        }
        root.push_str(&self.users());
        let mut f =
            self.finding(format!("Service {}/{} targetPort {tname} is not declared by {w}", self.ns, self.name), root);
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("ports[{pi}]: port {} -> targetPort {tname}", port.port),
            Some(self.svc_ref.clone()),
        ));
        f.root_key = format!("service-endpoints:{}/{}", self.ns, self.name);
        let target = super::closest(&tname, &names, 0.3).map(|n| format!("\"{n}\"")).or_else(|| {
            let nums: Vec<i32> = declared.iter().map(|(_, p)| *p).collect();
            (nums.len() == 1).then(|| nums[0].to_string())
        });
        if let Some(t) = target {
            f.fix.push(Fix::cmd(
                "Target a port the container declares",
                format!(
                    "kubectl {}patch service {} --type json -p '[{{\"op\":\"replace\",\"path\":\"/spec/ports/{pi}/targetPort\",\"value\":{t}}}]'",
                    ns_flag(self.ns),
                    self.name
                ),
            ));
        } else {
            f.fix.push(Fix::text(format!(
                "Declare a port named {tname} in the container (ports[].name) or set targetPort to the container's port number"
            )));
        }
        f.fix.push(self.verify());
        Some(f)
    }
}

/// Workloads of a namespace with their replica count (None for DaemonSets).
fn templates(cx: &Context<'_>, ns: &str) -> Vec<(ObjectRef, Option<i32>)> {
    let ev = cx.ev;
    let mut out = Vec::new();
    let in_ns = |m: &ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.namespace.as_deref().unwrap_or_default() == ns
    };
    for d in ev.deployments.iter().filter(|d| in_ns(&d.metadata)) {
        let r = d.spec.replicas.or(Some(1));
        out.push((ObjectRef::new("Deployment", Some(ns), d.metadata.name.as_deref().unwrap_or_default()), r));
    }
    for s in ev.stateful_sets.iter().filter(|s| in_ns(&s.metadata)) {
        let r = s.spec.replicas.or(Some(1));
        out.push((ObjectRef::new("StatefulSet", Some(ns), s.metadata.name.as_deref().unwrap_or_default()), r));
    }
    for d in ev.daemon_sets.iter().filter(|d| in_ns(&d.metadata)) {
        out.push((ObjectRef::new("DaemonSet", Some(ns), d.metadata.name.as_deref().unwrap_or_default()), None));
    }
    out
}

/// The label sets that exist in a namespace: workload templates, then pods whose workload
/// has no template in the evidence (one set per workload).
fn label_sets<'a>(cx: &'a Context<'_>, ns: &str, ns_pods: &[usize]) -> Vec<LabelSet<'a>> {
    let ev = cx.ev;
    let mut out: Vec<LabelSet<'a>> = Vec::new();
    let in_ns = |m: &ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.namespace.as_deref().unwrap_or_default() == ns
    };
    for d in ev.deployments.iter().filter(|d| in_ns(&d.metadata)) {
        if let Some(l) = d.spec.template.metadata.as_ref().and_then(|m| m.labels.as_ref()) {
            out.push(LabelSet {
                source: ObjectRef::new("Deployment", Some(ns), d.metadata.name.as_deref().unwrap_or_default()),
                labels: l,
            });
        }
    }
    for s in ev.stateful_sets.iter().filter(|s| in_ns(&s.metadata)) {
        if let Some(l) = s.spec.template.metadata.as_ref().and_then(|m| m.labels.as_ref()) {
            out.push(LabelSet {
                source: ObjectRef::new("StatefulSet", Some(ns), s.metadata.name.as_deref().unwrap_or_default()),
                labels: l,
            });
        }
    }
    for d in ev.daemon_sets.iter().filter(|d| in_ns(&d.metadata)) {
        if let Some(l) = d.spec.template.metadata.as_ref().and_then(|m| m.labels.as_ref()) {
            out.push(LabelSet {
                source: ObjectRef::new("DaemonSet", Some(ns), d.metadata.name.as_deref().unwrap_or_default()),
                labels: l,
            });
        }
    }
    for &i in ns_pods {
        let p = &ev.pods[i];
        if pod_gone(p) {
            continue;
        }
        let Some(l) = p.metadata.labels.as_ref() else { continue };
        let w = ev.workload_of(i);
        // One set per workload: its template when present (compared without apiVersion).
        if out.iter().any(|s| s.source.kind == w.kind && s.source.name == w.name) {
            continue;
        }
        out.push(LabelSet { source: w.clone(), labels: l });
    }
    out
}

/// How close a label set is to a selector, 0..=1: equal pairs count fully, the same value
/// under another key or a similar value under the same key count partly.
fn score(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> f64 {
    let mut total = 0.0;
    for (k, v) in selector {
        let s = match labels.get(k) {
            Some(lv) if lv == v => 1.0,
            Some(lv) => 0.3 + 0.6 * strsim::normalized_levenshtein(lv, v),
            None if labels.values().any(|lv| lv == v) => 0.7,
            None => 0.3 * labels.values().map(|lv| strsim::normalized_levenshtein(lv, v)).fold(0.0, f64::max),
        };
        total += s;
    }
    total / selector.len().max(1) as f64
}

/// `app: backend-api where the selector wants app: backend` for each differing pair.
fn differences(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in selector {
        match labels.get(k) {
            Some(lv) if lv == v => {}
            Some(lv) => out.push(format!("{k}: {lv} where the selector wants {k}: {v}")),
            None => match labels.iter().find(|(_, lv)| *lv == v) {
                Some((lk, lv)) => out.push(format!("{lk}: {lv} where the selector wants {k}: {v}")),
                None => out.push(format!("no label {k} (the selector wants {k}: {v})")),
            },
        }
    }
    out
}

/// The selector rewritten to what the closest pods carry; pairs with no counterpart dropped.
fn proposed_selector(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in selector {
        if let Some(lv) = labels.get(k) {
            out.insert(k.clone(), lv.clone());
        } else if let Some((lk, lv)) = labels.iter().find(|(_, lv)| *lv == v) {
            out.insert(lk.clone(), lv.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn closest_label_sets_and_proposals() {
        let sel = m(&[("name", "nginx-ingress")]);
        let pods = m(&[("app", "nginx-ingress")]);
        assert!(score(&sel, &pods) > 0.6);
        assert_eq!(differences(&sel, &pods), ["app: nginx-ingress where the selector wants name: nginx-ingress"]);
        assert_eq!(proposed_selector(&sel, &pods), pods);
        let sel = m(&[("app", "backend")]);
        let pods = m(&[("app", "backend-api"), ("pod-template-hash", "x")]);
        assert!(score(&sel, &pods) > score(&sel, &m(&[("app", "frontend")])));
        assert_eq!(proposed_selector(&sel, &pods), m(&[("app", "backend-api")]));
    }
}
