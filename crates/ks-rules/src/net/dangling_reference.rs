use std::collections::{BTreeMap, HashSet};

use ks_core::k8s_openapi::api::core::v1::PodSpec;
use ks_core::{
    Cause, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::hosts::{ClusterName, cluster_name, hosts_in, is_platform_name, is_secret_name, names_a_host, redact};
use super::{closest, service_names, some_names};
use crate::facts::pod_ref;
use crate::util::{self, ns_flag};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Container configuration naming an in-cluster host that has no Service: env values
    /// (literal, or read from a ConfigMap through `configMapKeyRef`/`envFrom`), `args` and
    /// `command`, in the forms `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`,
    /// bare or inside `scheme://host:port` URLs and `host:port`. A bare word counts only when
    /// the variable says it is a host (`…_HOST`, `…_ADDR`, `…_URL`, `…_ENDPOINT`,
    /// `…_SERVER`). A container log line saying the name does not resolve (`could not
    /// translate host name "postgres"`, `getaddrinfo ENOTFOUND`) is reported too. Only
    /// namespaces in the snapshot are judged, and only when Services were collected.
    ///
    /// ### Why it breaks
    /// Cluster DNS only answers for Services. A Service that was never created, was renamed,
    /// or lives in another namespace than the address says leaves the name unresolvable: the
    /// app fails with `Name or service not known`, `no such host` or connection timeouts, and
    /// often crash-loops, while the Deployment itself looks correct.
    ///
    /// ### How to confirm
    /// `kubectl -n <ns> get svc <name>` returns NotFound; `kubectl exec` into the pod and
    /// `nslookup <host>` fails.
    ///
    /// ### Fix
    /// Create the Service the address names (often `kubectl expose` of the workload that
    /// should serve it), or correct the address to a Service that exists.
    ///
    /// ### Prevention
    /// Build addresses from the Service name in one place (Helm helper, kustomize
    /// replacement) instead of literals, and deploy the dependency's Service with the app.
    ///
    /// ### Example
    /// `BUILDKIT_ADDRESS=tcp://buildkitd.buildkit.svc.cluster.local:1234` while namespace
    /// `buildkit` has no Service `buildkitd`.
    pub static META = {
        id: "KS0804",
        name: "dangling-service-reference",
        cause: Cause::NetDanglingReference,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "configuration names an in-cluster host that has no Service",
    }
}

pub struct DanglingServiceReference;

/// One place a host is named.
struct Reference {
    container: String,
    /// `env BUILDKIT_ADDRESS`, `ConfigMap app-config key DB_HOST (env DB_HOST)`, `args`.
    place: String,
    /// The redacted value, for quoting.
    quoted: String,
    host: String,
    port: Option<u16>,
    /// For a literal env value without credentials: the env var name, so the fix can patch it.
    env_literal: Option<(String, String)>,
    /// The ConfigMap and key the value comes from.
    configmap: Option<(String, String)>,
}

/// Everything a workload names that does not exist, per target Service.
struct Dangling {
    target: ClusterName,
    namespace_missing: bool,
    refs: Vec<Reference>,
    logs: Vec<EvidenceItem>,
}

struct Scan<'a> {
    ev: &'a Evidence,
    services: HashSet<(&'a str, &'a str)>,
    scope: super::ServiceScope,
    /// Hosts a mesh resolves without a Service (Istio ServiceEntry `spec.hosts`).
    mesh_hosts: HashSet<String>,
    namespaces_collected: bool,
}

impl Scan<'_> {
    /// Whether `cn` names nothing: Some(namespace_missing) when dangling.
    fn dangling(&self, cn: &ClusterName) -> Option<bool> {
        if self.mesh_hosts.contains(&format!("{}.{}.svc.cluster.local", cn.service, cn.namespace)) {
            return None;
        }
        if !self.ev.index.namespaces_seen.contains(&cn.namespace) {
            // An unknown namespace is only proof for an unmistakable cluster DNS name, when
            // Namespaces were listed, or when an all-namespaces Service listing has the Service
            // under another namespace (the address names the wrong one).
            let elsewhere =
                self.scope.listed_everywhere() && self.services.iter().any(|(_, name)| *name == cn.service.as_str());
            return (cn.cluster_form && (self.namespaces_collected || elsewhere)).then_some(true);
        }
        if !self.scope.known(self.ev, &cn.namespace) {
            return None;
        }
        (!self.services.contains(&(cn.namespace.as_str(), cn.service.as_str()))).then_some(false)
    }

    fn scan_spec(&self, ns: &str, spec: &PodSpec, out: &mut BTreeMap<(String, String), Dangling>) {
        // Pods that resolve through the node's DNS or extra search domains are not judged on
        // short names.
        let short_ok = spec.dns_config.as_ref().and_then(|d| d.searches.as_ref()).is_none_or(|s| s.is_empty())
            && spec.dns_policy.as_deref() != Some("Default")
            && !(spec.host_network == Some(true) && spec.dns_policy.as_deref() != Some("ClusterFirstWithHostNet"));
        let aliases: Vec<String> = spec
            .host_aliases
            .iter()
            .flatten()
            .flat_map(|a| a.hostnames.iter().flatten())
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let own: Vec<String> = [spec.hostname.clone(), spec.subdomain.clone()].into_iter().flatten().collect();
        let mut add = |container: &str,
                       place: String,
                       value: &str,
                       bare: bool,
                       env_name: Option<&str>,
                       cm: Option<(&str, &str)>| {
            for h in hosts_in(value, bare) {
                if aliases.contains(&h.host) || own.contains(&h.host) {
                    continue;
                }
                if self.mesh_hosts.contains(&h.host) {
                    continue;
                }
                let Some(cn) = cluster_name(&h.host, ns, &self.ev.index.namespaces_seen) else { continue };
                if !cn.explicit_ns && !short_ok {
                    continue;
                }
                let Some(namespace_missing) = self.dangling(&cn) else { continue };
                let entry = out.entry((cn.namespace.clone(), cn.service.clone())).or_insert_with(|| Dangling {
                    target: cn.clone(),
                    namespace_missing,
                    refs: Vec::new(),
                    logs: Vec::new(),
                });
                if entry.refs.iter().any(|r| r.container == container && r.place == place) {
                    continue;
                }
                let literal = env_name.filter(|_| cm.is_none() && !value.contains('@'));
                entry.refs.push(Reference {
                    container: container.to_string(),
                    place: place.clone(),
                    quoted: redact(value),
                    host: h.host.clone(),
                    port: h.port,
                    env_literal: literal.map(|n| (n.to_string(), value.to_string())),
                    configmap: cm.map(|(n, k)| (n.to_string(), k.to_string())),
                });
            }
        };
        let containers = spec.init_containers.iter().flatten().chain(spec.containers.iter());
        for c in containers {
            for e in c.env.iter().flatten() {
                if is_secret_name(&e.name) || is_platform_name(&e.name) {
                    continue;
                }
                let bare = names_a_host(&e.name);
                if let Some(v) = &e.value {
                    add(&c.name, format!("env {}", e.name), v, bare, Some(&e.name), None);
                } else if let Some(r) = e.value_from.as_ref().and_then(|f| f.config_map_key_ref.as_ref())
                    && let Some(v) = self.ev.config_map(ns, &r.name).and_then(|m| m.data.get(&r.key))
                {
                    let place = format!("env {} <- ConfigMap {} key {}", e.name, r.name, r.key);
                    add(&c.name, place, v, bare, Some(&e.name), Some((&r.name, &r.key)));
                }
            }
            for ef in c.env_from.iter().flatten() {
                let Some(r) = &ef.config_map_ref else { continue };
                let Some(cm) = self.ev.config_map(ns, &r.name) else { continue };
                let prefix = ef.prefix.clone().unwrap_or_default();
                for (k, v) in &cm.data {
                    if is_secret_name(k) || is_platform_name(k) {
                        continue;
                    }
                    let place = format!("env {prefix}{k} <- ConfigMap {} (envFrom)", r.name);
                    add(&c.name, place, v, names_a_host(k), Some(k), Some((&r.name, k)));
                }
            }
            let args = c.command.iter().flatten().chain(c.args.iter().flatten());
            let mut prev_names_host = false;
            for a in args {
                let field = "args";
                add(&c.name, field.to_string(), a, prev_names_host, None, None);
                prev_names_host = a.starts_with('-') && !a.contains('=') && names_a_host(a);
            }
        }
    }
}

impl Rule for DanglingServiceReference {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        if !ev.has_collected("Service") {
            return;
        }
        let scan = Scan {
            ev,
            services: ev
                .services
                .iter()
                .map(|s| {
                    (
                        s.metadata.namespace.as_deref().unwrap_or_default(),
                        s.metadata.name.as_deref().unwrap_or_default(),
                    )
                })
                .collect(),
            mesh_hosts: ev
                .other
                .iter()
                .filter(|o| o.kind == "ServiceEntry" && o.api_version.starts_with("networking.istio.io/"))
                .filter_map(|o| o.value.pointer("/spec/hosts").and_then(|h| h.as_array()))
                .flatten()
                .filter_map(|h| h.as_str().map(str::to_ascii_lowercase))
                .collect(),
            namespaces_collected: ev.has_collected("Namespace"),
            scope: super::ServiceScope::new(ev),
        };
        let mut found: BTreeMap<ObjectRef, BTreeMap<(String, String), Dangling>> = BTreeMap::new();
        let mut scanned: HashSet<ObjectRef> = HashSet::new();
        for (w, ns, spec) in workload_specs(ev) {
            scanned.insert(w.clone());
            let mut m = BTreeMap::new();
            scan.scan_spec(&ns, spec, &mut m);
            if !m.is_empty() {
                found.insert(w, m);
            }
        }
        // Pods whose workload is not in the evidence are read from their own spec.
        for (i, p) in ev.pods.iter().enumerate() {
            let w = ev.workload_of(i);
            if scanned.contains(w) || super::pod_gone(p) {
                continue;
            }
            let Some(spec) = &p.spec else { continue };
            scanned.insert(w.clone());
            let mut m = BTreeMap::new();
            scan.scan_spec(p.metadata.namespace.as_deref().unwrap_or_default(), spec, &mut m);
            if !m.is_empty() {
                found.insert(w.clone(), m);
            }
        }
        // Log lines of crashing containers that say a short name does not resolve.
        for p in cx.facts.problems.iter().filter(|p| p.cause == Cause::CrashDependencyUnreachable) {
            let Some(host) = p.details.get("host").map(|h| h.to_ascii_lowercase()) else { continue };
            let (ns, _) = util::pod_names(ev, p.pod);
            let Some(cn) = cluster_name(&host, ns, &ev.index.namespaces_seen) else { continue };
            let Some(namespace_missing) = scan.dangling(&cn) else { continue };
            let w = ev.workload_of(p.pod).clone();
            let entry =
                found.entry(w).or_default().entry((cn.namespace.clone(), cn.service.clone())).or_insert_with(|| {
                    Dangling { target: cn.clone(), namespace_missing, refs: Vec::new(), logs: Vec::new() }
                });
            for e in p.evidence.iter().filter(|e| e.source == EvidenceSource::Log) {
                if !entry.logs.iter().any(|x| x.text == e.text) {
                    entry.logs.push(e.clone());
                }
            }
        }
        for (w, targets) in found {
            for (_, d) in targets {
                out.push(finding(ev, &w, d));
            }
        }
    }
}

/// Pod templates of the workloads in the evidence. Jobs of a CronJob in the evidence are
/// read through the CronJob.
fn workload_specs(ev: &Evidence) -> Vec<(ObjectRef, String, &PodSpec)> {
    let mut out = Vec::new();
    let nsn = |m: &ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        (m.namespace.clone().unwrap_or_default(), m.name.clone().unwrap_or_default())
    };
    for d in &ev.deployments {
        let (ns, n) = nsn(&d.metadata);
        if let Some(s) = d.spec.template.spec.as_ref() {
            out.push((ObjectRef::new("Deployment", Some(&ns), &n).with_api_version("apps/v1"), ns, s));
        }
    }
    for d in &ev.stateful_sets {
        let (ns, n) = nsn(&d.metadata);
        if let Some(s) = d.spec.template.spec.as_ref() {
            out.push((ObjectRef::new("StatefulSet", Some(&ns), &n).with_api_version("apps/v1"), ns, s));
        }
    }
    for d in &ev.daemon_sets {
        let (ns, n) = nsn(&d.metadata);
        if let Some(s) = d.spec.template.spec.as_ref() {
            out.push((ObjectRef::new("DaemonSet", Some(&ns), &n).with_api_version("apps/v1"), ns, s));
        }
    }
    for c in &ev.cron_jobs {
        let (ns, n) = nsn(&c.metadata);
        if let Some(s) = c.spec.job_template.spec.as_ref().and_then(|s| s.template.spec.as_ref()) {
            out.push((ObjectRef::new("CronJob", Some(&ns), &n).with_api_version("batch/v1"), ns, s));
        }
    }
    for j in &ev.jobs {
        let (ns, n) = nsn(&j.metadata);
        let by_cron = j
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.kind == "CronJob" && ev.index.cron_jobs.contains_key(&(ns.clone(), o.name.clone())));
        if by_cron {
            continue;
        }
        if let Some(s) = j.spec.as_ref().and_then(|s| s.template.spec.as_ref()) {
            out.push((ObjectRef::new("Job", Some(&ns), &n).with_api_version("batch/v1"), ns, s));
        }
    }
    out
}

fn finding(ev: &Evidence, w: &ObjectRef, d: Dangling) -> Finding {
    let (ns, svc) = (&d.target.namespace, &d.target.service);
    let first = d.refs.first();
    let named_by = match first {
        Some(r) => format!("{} of container {}", r.place, r.container),
        None => "its log".to_string(),
    };
    let host = first.map(|r| r.host.clone()).unwrap_or_else(|| svc.clone());
    // Where a Service of that name does live, when the address names the wrong namespace.
    let mut elsewhere: Vec<String> = ev
        .services
        .iter()
        .filter(|s| s.metadata.name.as_deref() == Some(svc.as_str()))
        .filter_map(|s| s.metadata.namespace.clone())
        .filter(|n| n != ns)
        .collect();
    elsewhere.sort();
    let title = match (d.namespace_missing, first.is_some()) {
        (true, _) if !elsewhere.is_empty() => {
            format!("{w} names {host}, but Service {svc} is in namespace {}, not {ns}", elsewhere.join(", "))
        }
        (true, _) => format!("{w} names {host}, but namespace {ns} does not exist"),
        (false, true) => format!("{w} names host {host}, but Service {ns}/{svc} does not exist"),
        (false, false) => format!("{w} cannot resolve host {host}: Service {ns}/{svc} does not exist"),
    };
    let existing = service_names(ev, ns);
    let mut root = match (first, d.namespace_missing) {
        (_, true) if !elsewhere.is_empty() => format!(
            "{named_by} points at {host}, a Service in namespace {ns}, but the snapshot lists Services across the cluster and none in a namespace {ns}, so the name does not resolve."
        ),
        (_, true) => format!(
            "{named_by} points at {host}, a Service in namespace {ns}, but there is no namespace {ns} in the cluster, so the name does not resolve."
        ),
        (Some(_), false) => format!(
            "{named_by} points at {host}, which cluster DNS resolves only if Service {svc} exists in namespace {ns}; it does not, so every connection fails with a name-resolution error."
        ),
        (None, false) => format!(
            "The container cannot resolve {host}: there is no Service {svc} in namespace {ns}, and cluster DNS only answers for Services."
        ),
    };
    if d.namespace_missing && !elsewhere.is_empty() {
        root.push_str(&format!(
            " Service {svc} exists in namespace {}: the address names the wrong namespace.",
            util::join_names(&elsewhere)
        ));
    }
    if !d.namespace_missing {
        root.push_str(&if existing.is_empty() {
            format!(" Namespace {ns} has no Services.")
        } else {
            format!(" Services in {ns}: {}.", some_names(&existing, 8))
        });
    }
    if !d.logs.is_empty() && first.is_some() {
        root.push_str(" The container's log shows the lookup failing.");
    }
    let mut f = util::finding(&META, w.clone(), title, root);
    for r in d.refs.iter().take(4) {
        let text = match r.place.split_once(' ') {
            Some(("env", rest)) if r.configmap.is_none() => format!("container {}: {}={}", r.container, rest, r.quoted),
            _ => format!("container {}: {}: {}", r.container, r.place, r.quoted),
        };
        let obj = r
            .configmap
            .as_ref()
            .map(|(c, _)| ObjectRef::new("ConfigMap", Some(ns_of(w)), c))
            .unwrap_or_else(|| w.clone());
        f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, text, Some(obj)));
    }
    f.evidence.extend(d.logs.iter().take(2).cloned());
    for other in elsewhere.iter().take(3) {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("Service {other}/{svc} exists"),
            Some(ObjectRef::new("Service", Some(other), svc)),
        ));
    }
    if !d.namespace_missing {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!(
                "Services in {ns}: {}",
                if existing.is_empty() { "none".to_string() } else { some_names(&existing, 8) }
            ),
            None,
        ));
    }
    for &i in ev.index.pods_by_workload.get(w).map(Vec::as_slice).unwrap_or_default() {
        if !super::pod_gone(&ev.pods[i]) {
            f.affected.push(pod_ref(&ev.pods[i]));
        }
    }
    f.root_key = format!("service:{ns}/{svc}");
    fixes(ev, w, &d, &existing, &mut f);
    f
}

fn ns_of(w: &ObjectRef) -> &str {
    w.namespace.as_deref().unwrap_or_default()
}

fn fixes(ev: &Evidence, w: &ObjectRef, d: &Dangling, existing: &[String], f: &mut Finding) {
    let (ns, svc) = (&d.target.namespace, &d.target.service);
    let port = d.refs.iter().find_map(|r| r.port);
    let host = d.refs.first().map(|r| r.host.clone()).unwrap_or_else(|| svc.clone());
    if d.namespace_missing {
        let real: Vec<String> = ev
            .services
            .iter()
            .filter(|s| s.metadata.name.as_deref() == Some(svc.as_str()))
            .filter_map(|s| s.metadata.namespace.clone())
            .filter(|n| n != ns)
            .collect();
        if let [other] = real.as_slice() {
            let patchable = d.refs.iter().find_map(|r| r.env_literal.as_ref().map(|l| (r, l)));
            let wrong = format!("{svc}.{ns}.");
            let right = format!("{svc}.{other}.");
            match patchable {
                Some((r, (env, value))) if value.contains(&wrong) => {
                    let new_value = value.replacen(&wrong, &right, 1);
                    let new_host = r.host.replacen(&wrong, &right, 1);
                    match util::template_env_pointer(ev, w, &r.container, env) {
                        Some(ptr) => f.fix.push(Fix::cmd(
                            format!("Point {env} at {new_host} instead of {}, where Service {svc} runs", r.host),
                            util::json_patch_replace(w, &format!("{ptr}/value"), &new_value),
                        )),
                        None => f.fix.push(Fix::text(format!(
                            "Point {env} at {new_host} instead of {}, where Service {svc} runs",
                            r.host
                        ))),
                    }
                }
                _ => f.fix.push(Fix::text(format!(
                    "Change the address {host} to {}, where Service {svc} runs",
                    host.replacen(&wrong, &right, 1)
                ))),
            }
            if let Some(r) = util::restart_workload(w) {
                f.fix.push(r);
            }
            return;
        }
        f.fix.push(Fix::text(format!(
            "Deploy {svc} into a namespace {ns} (kubectl create namespace {ns}), or correct the address to where {svc} really runs"
        )));
        f.fix.push(Fix::cmd("Find where it runs", format!("kubectl get svc -A --field-selector metadata.name={svc}")));
        return;
    }
    // A workload of that name without a Service: expose it.
    let key = (ns.clone(), svc.clone());
    let workload = if ev.index.deployments.contains_key(&key) {
        Some("deployment")
    } else if ev.index.stateful_sets.contains_key(&key) {
        Some("statefulset")
    } else {
        None
    };
    if let Some(k) = workload {
        let port = port.map(|p| p.to_string()).unwrap_or_else(|| "<port>".to_string());
        f.fix.push(Fix::cmd(
            format!("{} {svc} runs in namespace {ns} without a Service: create it, so {host} resolves", capitalize(k)),
            format!("kubectl {}expose {k}/{svc} --port={port}", ns_flag(ns)),
        ));
    }
    // A similar Service name is a likely typo; with a same-named workload, exposing it is the fix.
    let near = closest(svc, existing, if workload.is_some() { 0.8 } else { 0.6 });
    let empty = near.is_some_and(|n| {
        super::backends_by_service(ev).get(&(ns.clone(), n.to_string())).is_some_and(|b| b.ready == 0)
    });
    let exists =
        if empty { "which exists but has no ready endpoints either (see its own finding)" } else { "which exists" };
    // After the expose step the rest are alternatives.
    let step = |text: String| if workload.is_some() { format!("or {text}") } else { capitalize(&text) };
    let cm = d.refs.iter().find_map(|r| r.configmap.as_ref().map(|c| (r, c)));
    match (near, cm) {
        (Some(near), Some((r, (cm, key)))) => f.fix.push(Fix::cmd(
            step(format!(
                "change host {} to {} in ConfigMap {cm}, key {key}",
                r.host,
                r.host.replacen(svc.as_str(), near, 1)
            )),
            format!("kubectl {}edit configmap {cm}", ns_flag(ns_of(w))),
        )),
        (Some(near), None) => {
            let patchable = d.refs.iter().find_map(|r| r.env_literal.as_ref().map(|l| (r, l)));
            match patchable {
                Some((r, (env, value))) => {
                    let new_host = r.host.replacen(svc.as_str(), near, 1);
                    let new_value = value.replacen(&r.host, &new_host, 1);
                    match util::template_env_pointer(ev, w, &r.container, env) {
                        Some(ptr) => f.fix.push(Fix::cmd(
                            step(format!("point {env} at Service {near}, {exists}")),
                            util::json_patch_replace(w, &format!("{ptr}/value"), &new_value),
                        )),
                        None => f.fix.push(Fix::text(step(format!(
                            "point {env} at Service {near}, {exists} ({new_value})"
                        )))),
                    }
                }
                None => {
                    f.fix.push(Fix::text(step(format!("change the address to Service {near} in {ns}, {exists}"))))
                }
            }
        }
        (None, Some((_, (cm, key)))) => f.fix.push(Fix::cmd(
            step(format!("correct the address in ConfigMap {cm}, key {key}, where it comes from")),
            format!("kubectl {}edit configmap {cm}", ns_flag(ns_of(w))),
        )),
        (None, None) if workload.is_none() => f.fix.push(Fix::text(format!(
            "Create Service {svc} in namespace {ns} for the pods that serve it{}, so {host} resolves, or correct the address",
            port.map(|p| format!(" (port {p})")).unwrap_or_default()
        ))),
        (None, None) => {}
    }
    f.fix.push(Fix::cmd("Check the Services in that namespace", format!("kubectl {}get svc", ns_flag(ns))));
    if let Some(r) = util::restart_workload(w) {
        f.fix.push(r);
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
