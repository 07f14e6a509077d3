use ks_core::k8s_openapi::api::core::v1::Service;
use ks_core::{
    Cause, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use crate::facts::ContainerProblem;
use crate::signatures::logs::MATCHER;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers that exit because a database or service they need does not answer: DNS
    /// failures (`could not translate host name "postgres"`, `getaddrinfo ENOTFOUND redis`,
    /// `lookup x: no such host`, nginx `host not found in upstream`), refused or timed-out
    /// connections (`ECONNREFUSED`, `Connection refused`, `ServerSelectionTimeoutError`), and
    /// rejected logins (`password authentication failed for user`). It names the host and,
    /// for in-cluster names (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`), says whether the
    /// Service exists and has ready endpoints.
    ///
    /// ### Why it breaks
    /// The app treats its dependency as required at start and exits when it is missing:
    /// the Service name is wrong or in another namespace, the Service does not exist or
    /// selects no ready pods, the app connects to `localhost` (another pod is never on
    /// localhost), egress or DNS to an external host is blocked, or the credentials do not
    /// match the database's.
    ///
    /// ### How to confirm
    /// `kubectl get svc,endpoints -n <ns>` shows whether the name exists and has addresses;
    /// `kubectl run dns-check --rm -it --restart=Never --image=busybox:1.36 -- nslookup
    /// <host>` resolves it from inside the cluster.
    ///
    /// ### Fix
    /// Point the app at the Service that exists (the right name and namespace), create the
    /// missing Service, fix the database pods behind an empty Service, or make the app wait
    /// and retry instead of exiting.
    ///
    /// ### Prevention
    /// Keep connection settings next to the dependency's release; let apps retry with
    /// back-off on start; lint env values that name in-cluster hosts against the Services
    /// in the bundle.
    ///
    /// ### Example
    /// `pymongo.errors.ServerSelectionTimeoutError: mongodb:27017: [Errno -2] Name or
    /// service not known` while the namespace's Service is called `mongo`.
    pub static META = {
        id: "KS0307",
        name: "dependency-unreachable",
        cause: Cause::CrashDependencyUnreachable,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the app exits because it cannot reach a database or service it needs",
    }
}

pub struct DependencyUnreachable;

impl Rule for DependencyUnreachable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashDependencyUnreachable, out, |p, f| explain(cx, p, f));
    }
}

/// What a host names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Localhost,
    /// An in-cluster Service name: `(service, namespace)`.
    Service(String, String),
    /// An IP address.
    Ip(String),
    External(String),
}

/// Classify a host as the pod in `pod_ns` would resolve it.
pub fn target_of(host: &str, pod_ns: &str, namespaces: &std::collections::BTreeSet<String>) -> Target {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if matches!(h.as_str(), "localhost" | "127.0.0.1" | "::1" | "0.0.0.0") {
        return Target::Localhost;
    }
    if h.parse::<std::net::IpAddr>().is_ok() {
        return Target::Ip(h);
    }
    let labels: Vec<&str> = h.split('.').collect();
    match labels.as_slice() {
        [svc] => Target::Service(svc.to_string(), pod_ns.to_string()),
        [svc, ns] if namespaces.contains(*ns) => Target::Service(svc.to_string(), ns.to_string()),
        [svc, ns, "svc", ..] => Target::Service(svc.to_string(), ns.to_string()),
        _ => Target::External(h),
    }
}

/// `host` and `port` of `backend:8080`, `[::1]:5432`, `db`.
pub fn split_host_port(s: &str) -> (String, Option<String>) {
    match s.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') => {
            (h.trim_matches(['[', ']']).to_string(), Some(p.to_string()))
        }
        _ => (s.to_string(), None),
    }
}

/// Ready and not-ready endpoint addresses of a Service, when its Endpoints or
/// EndpointSlices are in the snapshot.
fn endpoints(ev: &Evidence, ns: &str, svc: &str) -> Option<(usize, usize)> {
    let key = (ns.to_string(), svc.to_string());
    if let Some(&i) = ev.index.endpoints.get(&key) {
        let e = &ev.endpoints[i];
        let ready = e.subsets.iter().flatten().map(|s| s.addresses.as_ref().map_or(0, Vec::len)).sum();
        let not_ready = e.subsets.iter().flatten().map(|s| s.not_ready_addresses.as_ref().map_or(0, Vec::len)).sum();
        return Some((ready, not_ready));
    }
    let slices: Vec<_> = ev
        .endpoint_slices
        .iter()
        .filter(|s| {
            s.metadata.namespace.as_deref() == Some(ns)
                && s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("kubernetes.io/service-name"))
                    .is_some_and(|n| n == svc)
        })
        .collect();
    if slices.is_empty() {
        return None;
    }
    let (mut ready, mut not_ready) = (0, 0);
    for e in slices.iter().flat_map(|s| s.endpoints.iter().flatten()) {
        if e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true) {
            ready += 1;
        } else {
            not_ready += 1;
        }
    }
    Some((ready, not_ready))
}

fn service_ports(s: &Service) -> Vec<i32> {
    s.spec.iter().flat_map(|s| s.ports.iter().flatten()).map(|p| p.port).collect()
}

/// The host the app tries to reach: from the matched line, else from any earlier line.
fn host_of(p: &ContainerProblem) -> Option<(String, Option<String>)> {
    let port = p.details.get("port").cloned().filter(|s| !s.is_empty());
    if let Some(h) = p.details.get("host").filter(|h| !h.is_empty()) {
        let (h, hp) = split_host_port(h);
        return Some((h, hp.or(port)));
    }
    p.log_tail.iter().rev().find_map(|l| {
        let m = MATCHER.first(l).filter(|m| m.sig.cause == Cause::CrashDependencyUnreachable)?;
        let host = ["host", "host2", "host3", "host4", "host5", "host6", "host7", "host8", "host9"]
            .iter()
            .map(|n| m.get(n))
            .find(|h| !h.is_empty())?;
        let port = ["port", "port2", "port3", "port4", "port5", "port6", "port7", "port8"]
            .iter()
            .map(|n| m.get(n))
            .find(|p| !p.is_empty())
            .map(str::to_string);
        let (h, hp) = split_host_port(host);
        Some((h, hp.or(port)))
    })
}

/// Env vars of the container whose (non-secret) values mention the host; secret-sourced
/// ones are named by their reference.
fn env_mentioning(ev: &Evidence, p: &ContainerProblem, host: &str) -> Vec<(String, Option<String>)> {
    let Some(c) = util::container_spec(ev, p.pod, &p.container) else { return Vec::new() };
    let mut out = Vec::new();
    for e in c.env.iter().flatten() {
        if let Some(v) = &e.value {
            let hit = v
                .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '.'))
                .any(|t| t.eq_ignore_ascii_case(host));
            if hit && !super::config::is_secret_name(&e.name) {
                out.push((e.name.clone(), Some(v.clone())));
            }
        }
    }
    out
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let (pod_ns, _) = util::pod_names(ev, p.pod);
    let pod_ns = pod_ns.to_string();
    let quote = super::short_quote(&p.message);
    let head = format!("Container {} of {} {}{}", p.container, w.kind, w.qualified_name(), super::restarts_phrase(p));

    if p.signature == Some("log-dependency-auth") {
        let user = p.details.get("user").cloned().filter(|u| !u.is_empty());
        let who = user.as_ref().map(|u| format!(" as user {u}")).unwrap_or_default();
        f.title = format!("{} {} cannot log in to its database{who}", w.kind, w.name);
        let refs: Vec<String> = util::container_spec(ev, p.pod, &p.container)
            .into_iter()
            .flat_map(|c| c.env.iter().flatten())
            .filter(|e| super::config::is_secret_name(&e.name) || e.name.to_ascii_uppercase().contains("USER"))
            .filter_map(|e| {
                let r = e.value_from.as_ref()?.secret_key_ref.as_ref()?;
                Some(format!("{} <- Secret {}/{}", e.name, r.name, r.key))
            })
            .collect();
        let from =
            if refs.is_empty() { String::new() } else { format!(" The credentials come from {}.", refs.join(", ")) };
        f.root_cause = format!(
            "{head} exits with `{quote}`: the database is reachable but rejects the credentials{who}. The password in the app's configuration does not match the one the database was initialised with (database volumes keep the first password), or the user/database does not exist.{from}"
        );
        for r in &refs {
            f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, format!("env {r}"), Some(w.clone())));
        }
        f.fix.push(Fix::text(
            "Make the app's Secret and the database agree: update the Secret to the database's real password, or change the user's password in the database (ALTER USER ... PASSWORD ...); a re-created Secret does not change a database that was already initialised",
        ));
        f.root_key = format!("crash.dependency_unreachable:auth:{}:{}", pod_ns, user.unwrap_or_default());
        if let Some(r) = util::restart_workload(&w) {
            f.fix.push(r);
        }
        return;
    }

    let Some((host, port)) = host_of(p) else {
        f.title = format!("{} {} cannot reach a service it needs", w.kind, w.name);
        f.root_cause = format!(
            "{head} exits with `{quote}`: a dependency it connects to at start does not answer. The log does not name the host; check the connection settings in the container's env."
        );
        f.fix.push(Fix::cmd(
            "List the container's connection settings",
            format!(
                "kubectl {}set env {} -c {} --list | grep -i -E 'host|url|uri|addr|server|port'",
                w.ns_flag(),
                super::set_target(&w),
                p.container
            ),
        ));
        f.root_key = format!("crash.dependency_unreachable:{}", w.qualified_name());
        return;
    };
    let port_s = port.as_ref().map(|p| format!(":{p}")).unwrap_or_default();
    let target = target_of(&host, &pod_ns, &ev.index.namespaces_seen);
    let mentions = env_mentioning(ev, p, &host);
    for (name, value) in &mentions {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("env {name}={}", value.clone().unwrap_or_default()),
            Some(w.clone()),
        ));
    }
    let via = match mentions.first() {
        Some((n, _)) => format!(" (from env {n})"),
        None => String::new(),
    };
    // Replace the host in the env var that names it.
    let repoint = |new_host: &str, f: &mut Finding| {
        if let Some((name, Some(value))) = mentions.first() {
            let new_value = replace_host(value, &host, new_host);
            f.fix.push(Fix::cmd(
                format!("Point {name} at {new_host}"),
                format!(
                    "kubectl {}set env {} -c {} {name}={new_value}",
                    w.ns_flag(),
                    super::set_target(&w),
                    p.container
                ),
            ));
        } else {
            f.fix.push(Fix::text(format!(
                "Change the host {host} in the app's connection setting (env, ConfigMap or Secret) to {new_host}"
            )));
        }
    };
    match target {
        Target::Localhost => {
            f.title = format!("{} {} connects to {host}{port_s}, which is its own pod", w.kind, w.name);
            f.root_cause = format!(
                "{head} exits with `{quote}`: it connects to {host}{port_s}{via}. In Kubernetes localhost is the pod itself; a database in another pod is only reachable through its Service name."
            );
            let svcs = service_names(ev, &pod_ns);
            let guess = port.as_ref().and_then(|pt| {
                ev.services.iter().find(|s| {
                    s.metadata.namespace.as_deref() == Some(pod_ns.as_str())
                        && service_ports(s).iter().any(|x| x.to_string() == *pt)
                })
            });
            match guess.and_then(|s| s.metadata.name.clone()) {
                Some(g) => repoint(&g, f),
                None => repoint("<database-service>", f),
            }
            if !svcs.is_empty() {
                f.fix.push(Fix::text(format!("Services in namespace {pod_ns}: {}", some(&svcs, 8))));
            }
            f.root_key = format!("crash.dependency_unreachable:{}:localhost{port_s}", w.qualified_name());
        }
        Target::Ip(ip) => {
            let svc =
                ev.services.iter().find(|s| s.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some(ip.as_str()));
            let pod = ev.pods.iter().find(|x| x.status.as_ref().and_then(|s| s.pod_ip.as_deref()) == Some(ip.as_str()));
            match (svc, pod) {
                (Some(s), _) => {
                    let (name, ns) =
                        (s.metadata.name.clone().unwrap_or_default(), s.metadata.namespace.clone().unwrap_or_default());
                    let eps = endpoints(ev, &ns, &name);
                    f.title = format!("{} {} cannot reach Service {ns}/{name} ({ip}{port_s})", w.kind, w.name);
                    let state = match eps {
                        Some((0, nr)) => format!(
                            " Service {ns}/{name} has no ready endpoints ({nr} not ready): the pods behind it are down or not ready."
                        ),
                        Some((r, _)) => format!(
                            " Service {ns}/{name} has {r} ready endpoint(s); check the port and whether the app started before its dependency was ready."
                        ),
                        None => String::new(),
                    };
                    f.root_cause =
                        format!("{head} exits with `{quote}`: {ip} is the ClusterIP of Service {ns}/{name}.{state}");
                    f.fix.push(Fix::cmd(
                        format!("See the pods behind Service {name}"),
                        format!("kubectl -n {ns} describe service {name} && kubectl -n {ns} get endpoints {name}"),
                    ));
                    // The key net.dangling_reference uses too, so workloads that need one Service link.
                    f.root_key = format!("service:{ns}/{name}");
                }
                (None, Some(pd)) => {
                    let (name, ns) = (
                        pd.metadata.name.clone().unwrap_or_default(),
                        pd.metadata.namespace.clone().unwrap_or_default(),
                    );
                    f.title = format!("{} {} connects to pod IP {ip}{port_s} (pod {ns}/{name})", w.kind, w.name);
                    f.root_cause = format!(
                        "{head} exits with `{quote}`: {ip} is the IP of pod {ns}/{name}. Pod IPs change whenever a pod is recreated; connect through a Service name instead."
                    );
                    repoint("<service-name>", f);
                    f.root_key = format!("crash.dependency_unreachable:{ip}");
                }
                (None, None) => {
                    f.title = format!("{} {} cannot reach {ip}{port_s}", w.kind, w.name);
                    f.root_cause = format!(
                        "{head} exits with `{quote}`: nothing answers at {ip}{port_s}{via}; no Service or pod in the snapshot has that IP (a stale address, or a host outside the cluster)."
                    );
                    f.root_key = format!("crash.dependency_unreachable:{ip}");
                }
            }
        }
        Target::Service(svc, ns) => {
            let fq = if ns == pod_ns { svc.clone() } else { format!("{svc}.{ns}") };
            // The key net.dangling_reference uses too, so workloads that need one Service link.
            f.root_key = format!("service:{ns}/{svc}");
            match ev.service(&ns, &svc) {
                Some(s) => {
                    let ports = service_ports(s);
                    let eps = endpoints(ev, &ns, &svc);
                    let obj = ObjectRef::new("Service", Some(&ns), &svc);
                    let ports_s = ports.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
                    let wrong_port = port
                        .as_ref()
                        .is_some_and(|pt| !ports.is_empty() && !ports.iter().any(|x| x.to_string() == *pt));
                    f.evidence.push(EvidenceItem::new(
                        EvidenceSource::Spec,
                        format!(
                            "Service {ns}/{svc} ports {ports_s}; {}",
                            match eps {
                                Some((r, nr)) => format!("{r} ready, {nr} not-ready endpoint(s)"),
                                None => "endpoints not in the snapshot".to_string(),
                            }
                        ),
                        Some(obj),
                    ));
                    if wrong_port {
                        f.title = format!(
                            "{} {} connects to {fq}{port_s}, but Service {svc} listens on {ports_s}",
                            w.kind, w.name
                        );
                        f.root_cause = format!(
                            "{head} exits with `{quote}`: Service {ns}/{svc} exists, but exposes port {ports_s}, not {}{via}.",
                            port.clone().unwrap_or_default()
                        );
                        let new_host = format!("{host}:{}", ports.first().copied().unwrap_or_default());
                        if let Some((name, Some(value))) = mentions.first() {
                            let new_value = value.replace(&format!("{host}{port_s}"), &new_host);
                            f.fix.push(Fix::cmd(
                                format!("Use the Service's port in {name}"),
                                format!(
                                    "kubectl {}set env {} -c {} {name}={new_value}",
                                    w.ns_flag(),
                                    super::set_target(&w),
                                    p.container
                                ),
                            ));
                        }
                    } else if eps.is_some_and(|(r, _)| r == 0) {
                        let nr = eps.map(|(_, n)| n).unwrap_or(0);
                        f.title = format!(
                            "{} {} cannot reach {fq}{port_s}: Service {svc} has no ready endpoints",
                            w.kind, w.name
                        );
                        f.root_cause = format!(
                            "{head} exits with `{quote}`: Service {ns}/{svc} exists but has no ready endpoints ({nr} not ready), so nothing answers behind it. Fix the pods the Service selects (they are down, not ready, or the selector matches none)."
                        );
                        f.fix.push(Fix::cmd(
                            format!("See why Service {svc} has no ready pods"),
                            format!("kubectl -n {ns} describe service {svc} && kubectl -n {ns} get endpoints {svc}"),
                        ));
                    } else {
                        f.title = format!("{} {} cannot reach {fq}{port_s} at start", w.kind, w.name);
                        f.root_cause = format!(
                            "{head} exits with `{quote}`: Service {ns}/{svc} exists{}. The app gave up before its dependency was ready, or a NetworkPolicy blocks it; the app should wait and retry instead of exiting.",
                            match eps {
                                Some((r, _)) => format!(" and has {r} ready endpoint(s)"),
                                None => String::new(),
                            }
                        );
                        let pt = port
                            .clone()
                            .or_else(|| ports.first().map(i32::to_string))
                            .unwrap_or_else(|| "<port>".into());
                        f.fix.push(Fix::text(format!(
                            "Wait for the dependency before starting: an init container running `until nc -z {fq} {pt}; do sleep 2; done`, or retries with back-off in the app"
                        )));
                        f.fix.push(Fix::cmd(
                            "Check that it answers from inside the namespace",
                            format!("kubectl -n {pod_ns} run conn-check --rm -it --restart=Never --image=busybox:1.36 -- nc -zv -w 3 {fq} {pt}"),
                        ));
                    }
                }
                None if !ev.has_collected("Service") => {
                    f.title = format!("{} {} cannot reach {fq}{port_s}", w.kind, w.name);
                    f.root_cause = format!(
                        "{head} exits with `{quote}`: it needs {host}{port_s}{via}, which names Service {svc} in namespace {ns}. Services were not in the snapshot, so whether it exists is unknown."
                    );
                    f.fix.push(Fix::cmd("Check the Service", format!("kubectl -n {ns} get service {svc}")));
                }
                None => {
                    let names = service_names(ev, &ns);
                    let close = names
                        .iter()
                        .map(|n| (strsim::normalized_levenshtein(n, &svc), n))
                        .filter(|(s, n)| *s >= 0.5 || n.starts_with(&svc) || svc.starts_with(n.as_str()))
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                        .map(|(_, n)| n.clone());
                    let elsewhere: Vec<String> = ev
                        .services
                        .iter()
                        .filter(|s| {
                            s.metadata.name.as_deref() == Some(svc.as_str())
                                && s.metadata.namespace.as_deref() != Some(ns.as_str())
                        })
                        .filter_map(|s| s.metadata.namespace.clone())
                        .collect();
                    f.title =
                        format!("{} {} needs {host}{port_s}, but namespace {ns} has no Service {svc}", w.kind, w.name);
                    let hint = match (&close, elsewhere.first()) {
                        (_, Some(other)) => {
                            format!(" A Service {svc} exists in namespace {other}: from {ns} it is {svc}.{other}.")
                        }
                        (Some(c), None) => format!(" The namespace has a Service {c}."),
                        (None, None) if names.is_empty() => format!(" Namespace {ns} has no Services at all."),
                        (None, None) => format!(" Services in {ns}: {}.", some(&names, 8)),
                    };
                    f.root_cause = format!(
                        "{head} exits with `{quote}`: it connects to {host}{port_s}{via}, the in-cluster name of Service {svc} in namespace {ns}, and no such Service exists, so the name does not resolve.{hint}"
                    );
                    match (&close, elsewhere.first()) {
                        (_, Some(other)) => repoint(&format!("{svc}.{other}"), f),
                        (Some(c), None) => repoint(c, f),
                        (None, None) => {
                            let backing = ev
                                .stateful_sets
                                .iter()
                                .map(|s| ("statefulset", &s.metadata))
                                .chain(ev.deployments.iter().map(|d| ("deployment", &d.metadata)))
                                .find(|(_, m)| {
                                    m.namespace.as_deref() == Some(ns.as_str())
                                        && m.name
                                            .as_deref()
                                            .is_some_and(|n| n == svc || n.starts_with(&format!("{svc}-")))
                                });
                            match (backing, port.as_ref()) {
                                (Some((kind, m)), Some(pt)) => f.fix.push(Fix::cmd(
                                    format!("Create Service {svc} for {kind} {}", m.name.clone().unwrap_or_default()),
                                    format!("kubectl -n {ns} expose {kind} {} --name={svc} --port={pt}", m.name.clone().unwrap_or_default()),
                                )),
                                _ => f.fix.push(Fix::text(format!(
                                    "Create a Service named {svc} in namespace {ns} selecting the dependency's pods, or change the host in the app's configuration to a Service that exists"
                                ))),
                            }
                        }
                    }
                }
            }
        }
        Target::External(h) => {
            f.title = format!("{} {} cannot reach {h}{port_s}", w.kind, w.name);
            f.root_cause = format!(
                "{head} exits with `{quote}`: {h}{via} is outside the cluster (or not a cluster name), and the pod cannot resolve or connect to it: check cluster DNS, egress rules (NetworkPolicy, firewall, proxy) and the host name."
            );
            f.fix.push(Fix::cmd(
                format!("Resolve {h} from inside the cluster"),
                format!(
                    "kubectl -n {pod_ns} run dns-check --rm -it --restart=Never --image=busybox:1.36 -- nslookup {h}"
                ),
            ));
            f.root_key = format!("crash.dependency_unreachable:{h}");
        }
    }
    if let Some(r) = util::restart_workload(&w) {
        f.fix.push(r);
    }
}

/// `value` with the host `host` replaced: whole host tokens only, never a URL scheme
/// (`mongodb://mongodb:27017` → `mongodb://mongo:27017`).
pub fn replace_host(value: &str, host: &str, new_host: &str) -> String {
    let is_host_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_';
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find(host) {
        let before = rest[..i].chars().last();
        let after = &rest[i + host.len()..];
        let bounded = before.is_none_or(|c| !is_host_char(c)) && after.chars().next().is_none_or(|c| !is_host_char(c));
        out.push_str(&rest[..i]);
        out.push_str(if bounded && !after.starts_with("://") { new_host } else { host });
        rest = after;
    }
    out.push_str(rest);
    out
}

fn service_names(ev: &Evidence, ns: &str) -> Vec<String> {
    let mut v: Vec<String> = ev
        .services
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(ns))
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    v.sort();
    v
}

fn some(names: &[String], n: usize) -> String {
    if names.len() <= n {
        util::join_names(names)
    } else {
        format!("{} and {} more", names[..n].join(", "), names.len() - n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let ns: std::collections::BTreeSet<String> = ["data".to_string(), "shop".to_string()].into();
        assert_eq!(target_of("postgres", "shop", &ns), Target::Service("postgres".into(), "shop".into()));
        assert_eq!(target_of("postgres.data", "shop", &ns), Target::Service("postgres".into(), "data".into()));
        assert_eq!(
            target_of("postgres.data.svc.cluster.local", "shop", &ns),
            Target::Service("postgres".into(), "data".into())
        );
        assert_eq!(target_of("db.example.com", "shop", &ns), Target::External("db.example.com".into()));
        assert_eq!(target_of("127.0.0.1", "shop", &ns), Target::Localhost);
        assert_eq!(target_of("10.96.0.15", "shop", &ns), Target::Ip("10.96.0.15".into()));
        assert_eq!(split_host_port("backend:8080"), ("backend".to_string(), Some("8080".to_string())));
        assert_eq!(split_host_port("db"), ("db".to_string(), None));
        assert_eq!(replace_host("mongodb://mongodb:27017/market", "mongodb", "mongo"), "mongodb://mongo:27017/market");
        assert_eq!(replace_host("postgres", "postgres", "db.data"), "db.data");
        assert_eq!(replace_host("postgres-replica:5432", "postgres", "db"), "postgres-replica:5432");
    }
}
