use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A kind cluster whose node containers have no containerd registry config for the local
    /// registry (`/etc/containerd/certs.d/localhost:5001/hosts.toml`, nor a
    /// `registry.mirrors."localhost:5001"` entry in `/etc/containerd/config.toml`), or whose
    /// `hosts.toml` points at a host other than the registry container.
    ///
    /// ### Why it breaks
    /// Inside a node, `localhost:5001` is the node itself, not the host. Only the mirror
    /// config tells containerd to fetch `localhost:5001/...` from `http://kind-registry:5000`.
    /// Without it, pulls fail with `dial tcp 127.0.0.1:5001: connect: connection refused`
    /// although `docker push localhost:5001/...` worked on the host.
    ///
    /// ### How to confirm
    /// `docker exec <node> cat /etc/containerd/certs.d/localhost:5001/hosts.toml` fails or
    /// names another host; pod events show `connection refused` for `localhost:5001`.
    ///
    /// ### Fix
    /// Write the `hosts.toml` into every node (kind's local-registry recipe); containerd reads
    /// it on the next pull, no restart needed when the cluster was created with
    /// `config_path = "/etc/containerd/certs.d"`.
    ///
    /// ### Prevention
    /// Create kind clusters through one script that adds the containerd patch, writes
    /// `hosts.toml` to each node, and connects the registry to the network.
    ///
    /// ### Example
    /// `kind-control-plane` without `/etc/containerd/certs.d/localhost:5001/hosts.toml`.
    pub static META = {
        id: "KS1512",
        name: "kind-node-registry-mirror-missing",
        cause: Cause::DevLocalRegistry,
        severity: Severity::Warning,
        kind: RuleKind::Local,
        summary: "kind nodes lack the containerd config that maps localhost:5001 to the registry container",
    }
}

pub struct KindNodeRegistryMirrorMissing;

impl Rule for KindNodeRegistryMirrorMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(local) = &cx.ev.build.local else { return };
        let Some(r) = &local.registry else { return };
        let host_port = r.host_port.as_deref().and_then(|p| p.rsplit(':').next()).unwrap_or("5001");
        let reg_host = format!("localhost:{host_port}");
        let endpoint = format!("{}:{}", r.name, r.container_port.as_deref().unwrap_or("5000"));
        for cluster in &local.kind_clusters {
            let mut bad = Vec::new();
            for n in &cluster.nodes {
                if n.error.is_some() {
                    continue;
                }
                match &n.hosts_toml {
                    Some(t) if t.contains(&endpoint) || t.contains(&r.name) => {}
                    Some(t) => bad.push((n, format!("hosts.toml does not name {endpoint}: {}", first_host(t)))),
                    None if n.config_mirror == Some(true) => {}
                    None => bad.push((n, format!("no /etc/containerd/certs.d/{reg_host}/hosts.toml"))),
                }
            }
            if bad.is_empty() {
                continue;
            }
            let names: Vec<&str> = bad.iter().map(|(n, _)| n.name.as_str()).collect();
            let mut f = util::finding(
                &META,
                ObjectRef::new("KindCluster", None, &cluster.name),
                format!("kind cluster {}: nodes do not map {reg_host} to {}", cluster.name, r.name),
                format!(
                    "containerd in {} has no registry config sending {reg_host} to http://{endpoint}; inside a node \
                     {reg_host} is the node itself, so pulls of {reg_host}/... are refused.",
                    util::join_names(&names)
                ),
            );
            for (n, why) in &bad {
                f.evidence.push(EvidenceItem::new(EvidenceSource::Node, format!("{}: {why}", n.name), None));
            }
            f.fix.push(Fix::cmd(
                format!("Write the registry config into every node of {}", cluster.name),
                format!(
                    "for node in $(kind get nodes --name {c}); do {tool} exec \"$node\" mkdir -p \
                     /etc/containerd/certs.d/{reg_host}; printf '[host.\"http://{endpoint}\"]\\n' | {tool} exec -i \
                     \"$node\" cp /dev/stdin /etc/containerd/certs.d/{reg_host}/hosts.toml; done",
                    c = cluster.name,
                    tool = r.tool,
                ),
            ));
            f.root_key = format!("node-mirror:{}", cluster.name);
            out.push(f);
        }
    }
}

fn first_host(toml: &str) -> String {
    toml.lines().find(|l| l.trim_start().starts_with("[host")).unwrap_or("no [host] section").trim().to_string()
}
