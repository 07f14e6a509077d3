use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{Explained, ImageRef, LocalCluster};
use crate::facts::ContainerProblem;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Pods whose image pull cannot reach the registry: `dial tcp ...: i/o timeout`,
    /// `no such host`, `connection refused`, `network is unreachable`, `net/http: request
    /// canceled while waiting for connection`, `RegistryUnavailable`, or a registry answering
    /// `503 Service Unavailable`. One finding per registry host, shared by every workload
    /// pulling from it.
    ///
    /// ### Why it breaks
    /// The node (not the pod: the container runtime pulls) has no working path to the
    /// registry: egress is blocked by a firewall, security group or missing NAT gateway, the
    /// nodes need a proxy the runtime does not use, node DNS cannot resolve the host, or the
    /// registry is down. A registry at `localhost` is the node itself: in kind or minikube the
    /// node is a container, so `localhost:5001` on the laptop is not `localhost` inside it.
    ///
    /// ### How to confirm
    /// Pull from the node the pod runs on: `kubectl debug node/<node> -it --image=busybox --
    /// chroot /host crictl pull <image>`, and resolve the host with `nslookup`. The same error
    /// there settles it.
    ///
    /// ### Fix
    /// Open egress from the nodes to the registry (or configure the runtime's proxy), fix node
    /// DNS, or copy the image to a registry the cluster can reach. For a local registry,
    /// connect it to the cluster's network and map `localhost:<port>` to it in containerd, or
    /// load the image straight into the nodes.
    ///
    /// ### Prevention
    /// Serve images from a registry or pull-through cache inside the cluster's network, and
    /// monitor egress from the nodes to it.
    ///
    /// ### Example
    /// `failed to do request: Head "https://registry-1.docker.io/v2/library/redis/manifests/7.2-alpine":
    /// dial tcp 54.236.113.205:443: i/o timeout`.
    pub static META = {
        id: "KS0104",
        name: "registry-unreachable",
        cause: Cause::ImageNetwork,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the node cannot reach the image registry (timeout, DNS, refused connection)",
    }
}

pub struct RegistryUnreachable;

/// How the connection fails, from the runtime's error text: a kind, the words for the root
/// cause, and a short label for the title.
fn failure(p: &ContainerProblem) -> (&'static str, String, String) {
    let m = p.message.to_ascii_lowercase();
    let f = |kind: &'static str, how: &str, short: &str| (kind, how.to_string(), short.to_string());
    if let Some(status) = p.details.get("status") {
        return ("server-error", format!("answers HTTP {status}"), format!("HTTP {status}"));
    }
    if m.contains("no such host") || m.contains("server misbehaving") {
        return f("dns", "cannot be resolved", "no such host");
    }
    if m.contains("connection refused") {
        return f("refused", "refuses the connection", "connection refused");
    }
    if m.contains("network is unreachable") || m.contains("no route to host") {
        return f("unreachable", "has no route from the node", "network is unreachable");
    }
    if m.contains("connection reset") || m.ends_with("eof") {
        return f("reset", "drops the connection", "connection reset");
    }
    if m.contains("tls handshake timeout") {
        return f("timeout", "does not complete the TLS handshake in time", "TLS handshake timeout");
    }
    if m.contains("timeout") || m.contains("deadline exceeded") || m.contains("request canceled") {
        return f("timeout", "does not answer", "i/o timeout");
    }
    f("unavailable", "is unavailable", "registry unavailable")
}

impl Rule for RegistryUnreachable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pull_findings(cx, &META, Cause::ImageNetwork, out, |p, image| {
            let ev = cx.ev;
            let spec = super::spec_image(cx, p);
            let r = ImageRef::parse(&spec);
            let host = super::registry_host(image).to_string();
            let pod = &ev.pods[p.pod];
            let node = super::node_of(pod).unwrap_or("<node>");
            let (kind, how, short) = failure(p);
            // The endpoint the runtime dialled: the DNS name it looked up, else the URL's host.
            let endpoint =
                p.details.get("host").map(String::as_str).or_else(|| super::url_host(&p.message)).unwrap_or(&host);
            let endpoint = endpoint.to_string();
            let via = if endpoint != host { format!(" (endpoint {endpoint})") } else { String::new() };
            let key = format!("{}:{host}", Cause::ImageNetwork.as_str());

            if super::is_loopback(&host) {
                return local_registry(cx, p, &spec, &host, node, &short).key(key);
            }

            let why = match kind {
                "dns" => format!(
                    "Node {node} cannot resolve {endpoint}, so it cannot pull {spec} from {host}: the registry host name is wrong, or the node's DNS cannot resolve it."
                ),
                "server-error" => format!(
                    "Registry {host}{via} {how} when node {node} pulls {spec}: the registry (or a proxy in front of it) is failing, not the node."
                ),
                _ => format!(
                    "Registry {host}{via} {how} ({short}) when node {node} pulls {spec}: the container runtime on the node has no working path to it (blocked egress, firewall or security group, missing NAT or proxy)."
                ),
            };
            let mut fixes = vec![Fix::cmd(
                format!(
                    "Reproduce the pull on node {node} (use an image the node already has if busybox cannot be pulled either)"
                ),
                format!("kubectl debug node/{node} -it --image=busybox -- chroot /host crictl pull {}", r.qualified()),
            )];
            match kind {
                "dns" => {
                    fixes.insert(
                        0,
                        Fix::cmd(
                            format!("Check that {endpoint} resolves from node {node}"),
                            format!("kubectl debug node/{node} -it --image=busybox -- nslookup {endpoint}"),
                        ),
                    );
                    fixes.push(Fix::text(
                        "If the name is right, fix the nodes' resolver (/etc/resolv.conf, VPC DNS); if it is wrong, correct the registry host in the image reference",
                    ));
                }
                "server-error" => fixes.push(Fix::text(format!("Check {host}'s status page or logs; retry once it recovers"))),
                _ => fixes.push(Fix::text(format!(
                    "Allow egress from the nodes to {endpoint}:443 (firewall, security group, NAT gateway), or set HTTPS_PROXY/NO_PROXY for containerd (systemd drop-in) if the nodes must use a proxy"
                ))),
            }
            let target =
                format!("<registry-reachable-from-the-cluster>/{}:{}", r.repo, r.tag.as_deref().unwrap_or("latest"));
            fixes.push(Fix::cmd(
                format!("Or mirror {spec} to a registry the cluster can reach"),
                format!("crane copy {} {target}", r.qualified()),
            ));
            fixes.extend(super::set_image(cx, p, &target, "and pull it from there"));
            let title = match kind {
                "dns" => format!("Nodes cannot resolve registry host {endpoint}"),
                _ => format!("Registry {host} is unreachable from the nodes ({short})"),
            };
            Explained::new(title, why, fixes).key(key)
        });
    }
}

/// A registry on `localhost`: inside a kind or minikube node, localhost is the node itself.
fn local_registry(
    cx: &Context<'_>,
    p: &ContainerProblem,
    spec: &str,
    host: &str,
    node: &str,
    short: &str,
) -> Explained {
    let port = host.rsplit_once(':').map(|(_, p)| p).unwrap_or("5000");
    let local = super::local_cluster(cx, node);
    let why = format!(
        "Container {} pulls {spec} from {host}, but the container runtime pulls from inside node {node}, where localhost is the node itself, not your machine: no registry listens on port {port} there ({short}). A registry on your machine's localhost is not reachable from the cluster's nodes.",
        p.container
    );
    let mut fixes = Vec::new();
    match &local {
        Some(LocalCluster::Kind(cluster)) => {
            fixes.push(Fix::cmd(
                "Put the registry container on kind's network (kind's local-registry setup names it kind-registry)",
                "docker network connect kind kind-registry",
            ));
            fixes.push(Fix::cmd(
                format!(
                    "Map {host} to it in containerd on node {node}, and every other node (needs config_path = /etc/containerd/certs.d, as kind's local-registry guide sets up)"
                ),
                format!(
                    "docker exec {node} sh -c 'mkdir -p /etc/containerd/certs.d/{host} && printf \"[host.\\\"http://kind-registry:5000\\\"]\\n\" > /etc/containerd/certs.d/{host}/hosts.toml'"
                ),
            ));
            fixes.push(Fix::cmd(
                "Or skip the registry and load the image into the nodes",
                format!("kind load docker-image {spec} --name {cluster}"),
            ));
        }
        Some(LocalCluster::Minikube(profile)) => {
            fixes.push(Fix::cmd("Load the image into the minikube node", format!("minikube -p {profile} image load {spec}")));
            fixes.push(Fix::cmd(
                "Or run minikube's own registry, reachable from the node",
                format!("minikube -p {profile} addons enable registry"),
            ));
        }
        Some(LocalCluster::K3d(cluster)) => {
            fixes.push(Fix::cmd("Import the image into the k3d nodes", format!("k3d image import {spec} -c {cluster}")));
        }
        None => fixes.push(Fix::text(format!(
            "Use an address of the registry that the nodes can reach (its host name or cluster Service) instead of {host}"
        ))),
    }
    Explained::new(format!("Registry {host} is not reachable from inside node {node}"), why, fixes)
}
