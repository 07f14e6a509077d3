use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::ContainerProblem;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Containers that exit because the port they listen on is taken: `bind() to
    /// 0.0.0.0:80 failed (98: Address already in use)`, `listen tcp :8080: bind: address
    /// already in use`, `EADDRINUSE`, Spring's `Port 8080 was already in use`. It names the
    /// port and the other container of the pod that declares it, or the node port it
    /// collides with under `hostNetwork`.
    ///
    /// ### Why it breaks
    /// All containers of a pod share one network namespace: two containers (an app and a
    /// sidecar, or two copies of one image) cannot listen on one port. With `hostNetwork:
    /// true` the pod shares the node's ports, so another pod or a node daemon may hold it.
    /// An app that starts two servers on one port fails the same way.
    ///
    /// ### How to confirm
    /// `kubectl get pod -o jsonpath='{range .spec.containers[*]}{.name} {.ports}{"\n"}{end}'`
    /// lists the ports per container; `hostNetwork` shows in the pod spec.
    ///
    /// ### Fix
    /// Give each container its own port (and point the Service's `targetPort` at it), or
    /// drop `hostNetwork`.
    ///
    /// ### Prevention
    /// Declare every listening port in `ports` so duplicates are visible in review; avoid
    /// `hostNetwork` for applications.
    ///
    /// ### Example
    /// A metrics sidecar and the app both listening on 8080 in one pod.
    pub static META = {
        id: "KS0309",
        name: "port-in-use",
        cause: Cause::CrashPortInUse,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the app cannot bind its port because something else holds it",
    }
}

pub struct PortInUse;

impl Rule for PortInUse {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashPortInUse, out, |p, f| explain(cx, p, f));
    }
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let quote = super::short_quote(&p.message);
    let head = format!("Container {} of {} {}{}", p.container, w.kind, w.qualified_name(), super::restarts_phrase(p));
    let port = p
        .details
        .get("port")
        .and_then(|s| s.parse::<u16>().ok())
        .or_else(|| p.details.get("addr").and_then(|a| super::permission::port_of(a)));
    let spec = ev.pods[p.pod].spec.as_ref();
    let host_network = spec.and_then(|s| s.host_network).unwrap_or(false);
    // Other containers of the pod that declare the port.
    let others: Vec<String> = match (spec, port) {
        (Some(s), Some(port)) => s
            .containers
            .iter()
            .chain(s.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always")))
            .filter(|c| c.name != p.container)
            .filter(|c| c.ports.iter().flatten().any(|x| x.container_port == i32::from(port)))
            .map(|c| c.name.clone())
            .collect(),
        _ => Vec::new(),
    };
    let port_s = port.map(|p| p.to_string()).unwrap_or_else(|| "its port".to_string());
    f.root_key = format!("crash.port_in_use:{}:{port_s}", w.qualified_name());
    if !others.is_empty() {
        f.title =
            format!("Containers {} and {} both listen on port {port_s}", p.container, crate::util::join_names(&others));
        f.root_cause = format!(
            "{head} exits with `{quote}`: containers of one pod share its network namespace, and {} also declares port {port_s}, so only one of them can bind it.",
            crate::util::join_names(&others)
        );
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("containers {} and {} declare containerPort {port_s}", p.container, others.join(", ")),
            Some(w.clone()),
        ));
        f.fix.push(Fix::text(format!(
            "Make {} listen on another port (its listen flag or env) and update its containerPort and any Service targetPort that points at it",
            p.container
        )));
    } else if host_network {
        let node = spec.and_then(|s| s.node_name.clone()).unwrap_or_default();
        let same_node: Vec<String> = ev
            .index
            .pods_by_node
            .get(&node)
            .into_iter()
            .flatten()
            .filter(|&&i| i != p.pod)
            .filter(|&&i| ev.pods[i].spec.as_ref().and_then(|s| s.host_network).unwrap_or(false))
            .filter(|&&i| {
                port.is_some_and(|port| {
                    ev.pods[i].spec.iter().flat_map(|s| s.containers.iter()).any(|c| {
                        c.ports
                            .iter()
                            .flatten()
                            .any(|x| x.container_port == i32::from(port) || x.host_port == Some(i32::from(port)))
                    })
                })
            })
            .filter_map(|&i| ev.pods[i].metadata.name.clone())
            .collect();
        f.title = format!("Port {port_s} is taken on node {node} (hostNetwork)");
        let holder = if same_node.is_empty() {
            "another process on the node (a daemon, or another hostNetwork pod) holds it".to_string()
        } else {
            format!("pod {} on the same node also uses it", crate::util::join_names(&same_node))
        };
        f.root_cause = format!(
            "{head} exits with `{quote}`: the pod uses hostNetwork: true, so it binds port {port_s} on node {node} itself, and {holder}."
        );
        f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, "hostNetwork: true", Some(w.clone())));
        f.fix.push(Fix::text(
            "Drop hostNetwork from the pod template, or move the app to a port that is free on the nodes (and give the pods anti-affinity if two replicas may land on one node)",
        ));
    } else {
        f.title = format!("Container {} cannot bind port {port_s}: it is already in use", p.container);
        f.root_cause = format!(
            "{head} exits with `{quote}`: something in the pod already listens on port {port_s}. No other container declares it, so another process in the same container or an undeclared sidecar holds it, or the app starts two servers on one port (e.g. the metrics and the main server, or a worker started twice)."
        );
        f.fix.push(Fix::text(format!(
            "Find what else listens on {port_s} (the app's server and metrics settings, the image's entrypoint starting a second process) and give one of them another port"
        )));
    }
}
