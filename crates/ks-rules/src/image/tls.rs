use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::Explained;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Pods whose image pull fails on TLS: `x509: certificate signed by unknown authority`,
    /// `x509: certificate has expired`, `x509: certificate is valid for X, not Y`, or
    /// `http: server gave HTTP response to HTTPS client` (a plain-HTTP registry).
    ///
    /// ### Why it breaks
    /// The container runtime on each node verifies the registry's certificate against the
    /// node's trust store, not the cluster's: a registry with a private or self-signed CA is
    /// refused until that CA is installed for the runtime. A registry that speaks plain HTTP
    /// must be declared as such to the runtime. An imagePullSecret only carries credentials,
    /// it cannot fix trust.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows the `x509:` or `HTTP response to HTTPS client` error;
    /// `openssl s_client -connect <registry>:443 -showcerts` from a node shows the issuer.
    ///
    /// ### Fix
    /// Install the registry's CA for the runtime on every node (containerd:
    /// `/etc/containerd/certs.d/<host>/ca.crt` plus `hosts.toml`; Docker:
    /// `/etc/docker/certs.d/<host>/ca.crt`; CRI-O: `/etc/containers/certs.d/<host>/ca.crt`),
    /// or declare the plain-HTTP registry in `hosts.toml`, or give the registry a certificate
    /// from a public CA.
    ///
    /// ### Prevention
    /// Bake the registry CA into the node image or bootstrap (cloud-init, DaemonSet), and
    /// monitor the registry certificate's expiry.
    ///
    /// ### Example
    /// `failed to do request: Head "https://harbor.corp.example/v2/platform/api/manifests/3.1":
    /// tls: failed to verify certificate: x509: certificate signed by unknown authority`.
    pub static META = {
        id: "KS0105",
        name: "registry-tls-error",
        cause: Cause::ImageTls,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the node cannot talk TLS to the registry (untrusted CA, expired or mismatched certificate, HTTP registry)",
    }
}

pub struct RegistryTlsError;

impl Rule for RegistryTlsError {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pull_findings(cx, &META, Cause::ImageTls, out, |p, image| {
            let host = super::registry_host(image).to_string();
            let spec = super::spec_image(cx, p);
            let pod = &cx.ev.pods[p.pod];
            let node = super::node_of(pod).unwrap_or("<node>");
            let runtime = cx
                .ev
                .node(node)
                .and_then(|n| n.status.as_ref())
                .and_then(|s| s.node_info.as_ref())
                .map(|i| i.container_runtime_version.clone())
                .unwrap_or_default();
            let m = p.message.to_ascii_lowercase();
            let d = format!("/etc/containerd/certs.d/{host}");
            let (title, why, mut fixes) = if m.contains("http response to https client") {
                (
                    format!("Registry {host} speaks plain HTTP but the node pulls over HTTPS"),
                    format!(
                        "Registry {host} answers plain HTTP, and the container runtime on node {node} pulls {spec} over HTTPS unless the registry is declared as an HTTP registry on the node."
                    ),
                    match runtime_kind(&runtime) {
                        "docker" => vec![Fix::text(format!(
                            "On every node, add \"{host}\" to \"insecure-registries\" in /etc/docker/daemon.json and restart Docker (or serve the registry over TLS)"
                        ))],
                        "cri-o" => vec![Fix::text(format!(
                            "On every node, add a [[registry]] entry with location = \"{host}\" and insecure = true to /etc/containers/registries.conf and restart CRI-O (or serve the registry over TLS)"
                        ))],
                        _ => vec![Fix::cmd(
                            "On every node, declare the registry as plain HTTP for containerd (needs config_path = /etc/containerd/certs.d in containerd's config), or serve it over TLS",
                            format!(
                                "sudo mkdir -p {d} && printf 'server = \"http://{host}\"\\n\\n[host.\"http://{host}\"]\\n  capabilities = [\"pull\", \"resolve\"]\\n' | sudo tee {d}/hosts.toml"
                            ),
                        )],
                    },
                )
            } else if m.contains("expired or is not yet valid") || m.contains("has expired") {
                (
                    format!("Registry {host}'s TLS certificate has expired (or is not yet valid)"),
                    format!(
                        "Node {node} refuses {host}'s certificate as expired or not yet valid while pulling {spec}: the certificate needs renewing, or the node's clock is wrong."
                    ),
                    vec![
                        Fix::cmd(
                            "Check the certificate's validity dates from a node",
                            format!(
                                "openssl s_client -connect {} -servername {} </dev/null 2>/dev/null | openssl x509 -noout -dates",
                                with_port(&host),
                                host_name(&host)
                            ),
                        ),
                        Fix::text(format!(
                            "Renew {host}'s certificate, or fix the node's clock (timedatectl) if the dates are right"
                        )),
                    ],
                )
            } else if m.contains("certificate is valid for") || m.contains("doesn't contain any ip sans") {
                (
                    format!("Registry {host}'s TLS certificate does not cover the name {}", host_name(&host)),
                    format!(
                        "Node {node} pulls {spec} from {host}, but the registry's certificate is issued for other names, so the runtime refuses it."
                    ),
                    vec![Fix::text(format!(
                        "Use a registry host name that the certificate lists in the image reference, or reissue the certificate with {} as a subject alternative name",
                        host_name(&host)
                    ))],
                )
            } else {
                let ca_fix = match runtime_kind(&runtime) {
                    "docker" => Fix::cmd(
                        "On every node, trust the registry's CA for Docker",
                        format!(
                            "sudo mkdir -p /etc/docker/certs.d/{host} && sudo cp ca.crt /etc/docker/certs.d/{host}/ca.crt"
                        ),
                    ),
                    "cri-o" => Fix::cmd(
                        "On every node, trust the registry's CA for CRI-O",
                        format!(
                            "sudo mkdir -p /etc/containers/certs.d/{host} && sudo cp ca.crt /etc/containers/certs.d/{host}/ca.crt"
                        ),
                    ),
                    _ => Fix::cmd(
                        "On every node, trust the registry's CA for containerd (needs config_path = /etc/containerd/certs.d in containerd's config)",
                        format!(
                            "sudo mkdir -p {d} && sudo cp ca.crt {d}/ca.crt && printf 'server = \"https://{host}\"\\n\\n[host.\"https://{host}\"]\\n  ca = \"{d}/ca.crt\"\\n' | sudo tee {d}/hosts.toml"
                        ),
                    ),
                };
                (
                    format!("Nodes do not trust the TLS certificate of registry {host}"),
                    format!(
                        "Registry {host} presents a certificate from a CA that the container runtime on node {node} does not trust (a private or self-signed CA), so the pull of {spec} fails before any credentials are sent; an imagePullSecret cannot fix this."
                    ),
                    vec![
                        Fix::cmd(
                            format!("Fetch the certificate chain {host} presents (run from a machine that reaches it)"),
                            format!(
                                "openssl s_client -connect {} -servername {} -showcerts </dev/null",
                                with_port(&host),
                                host_name(&host)
                            ),
                        ),
                        ca_fix,
                    ],
                )
            };
            if runtime.is_empty() {
                fixes.push(Fix::text("Nodes running Docker use /etc/docker/certs.d/<host>/ca.crt; CRI-O uses /etc/containers/certs.d/<host>/ca.crt"));
            }
            let mut e = Explained::new(title, why, fixes);
            if !runtime.is_empty() {
                e = e.evidence(ks_core::EvidenceItem::new(
                    ks_core::EvidenceSource::Node,
                    format!("node {node}: nodeInfo.containerRuntimeVersion={runtime}"),
                    Some(ks_core::ObjectRef::new("Node", None, node)),
                ));
            }
            e
        });
    }
}

/// `containerd`, `docker` or `cri-o` from `nodeInfo.containerRuntimeVersion`
/// (`containerd://1.7.13`); containerd when unknown, the default of most clusters.
fn runtime_kind(version: &str) -> &'static str {
    match version.split("://").next().unwrap_or_default() {
        "docker" => "docker",
        "cri-o" => "cri-o",
        _ => "containerd",
    }
}

/// `host:443` unless the host names a port.
fn with_port(host: &str) -> String {
    if host.contains(':') { host.to_string() } else { format!("{host}:443") }
}

/// The host name without port.
fn host_name(host: &str) -> &str {
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}
