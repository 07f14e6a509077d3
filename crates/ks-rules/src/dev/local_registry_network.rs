use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// The local registry container (`kind-registry`) is not attached to the `kind` network
    /// that the kind cluster's node containers use.
    ///
    /// ### Why it breaks
    /// kind nodes reach the registry by container name (`kind-registry:5000`) over the `kind`
    /// network; containerd's mirror config for `localhost:5001` points there. When the
    /// cluster was re-created (which re-creates the network) or the registry was started
    /// without `--network kind`, the name does not resolve from the nodes, and pulls of
    /// `localhost:5001/...` fail while pushes from the host still work.
    ///
    /// ### How to confirm
    /// `docker inspect -f '{{json .NetworkSettings.Networks}}' kind-registry` lacks `kind`;
    /// `docker exec <cluster>-control-plane crictl pull localhost:5001/<image>` fails with a
    /// DNS or connection error.
    ///
    /// ### Fix
    /// Connect the registry to the `kind` network.
    ///
    /// ### Prevention
    /// Run `docker network connect kind kind-registry` in the setup script every time a
    /// cluster is created (kind's own script does, when it reaches that step).
    ///
    /// ### Example
    /// `kind-registry` on `bridge` only, after `kind delete cluster && kind create cluster`.
    pub static META = {
        id: "KS1511",
        name: "local-registry-off-kind-network",
        cause: Cause::DevLocalRegistry,
        severity: Severity::Error,
        kind: RuleKind::Local,
        summary: "the local registry container is not on the kind network, so the nodes cannot reach it",
    }
}

pub struct LocalRegistryOffKindNetwork;

impl Rule for LocalRegistryOffKindNetwork {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(local) = &cx.ev.build.local else { return };
        let Some(r) = &local.registry else { return };
        if local.kind_network != Some(true) || r.networks.iter().any(|n| n == "kind") {
            return;
        }
        let nets = if r.networks.is_empty() { "no network".to_string() } else { r.networks.join(", ") };
        let clusters: Vec<&str> = local.kind_clusters.iter().map(|c| c.name.as_str()).collect();
        let mut f = util::finding(
            &META,
            ObjectRef::new("Container", None, &r.name),
            format!("local registry {} is not on the kind network", r.name),
            format!(
                "{} is attached to {nets}, not to `kind`, where the kind nodes{} run. The nodes cannot reach \
                 {}:{}, so pulls of localhost:{}/... fail.",
                r.name,
                if clusters.is_empty() { String::new() } else { format!(" of {}", util::join_names(&clusters)) },
                r.name,
                r.container_port.as_deref().unwrap_or("5000"),
                r.host_port.as_deref().and_then(|p| p.rsplit(':').next()).unwrap_or("5001"),
            ),
        );
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Status,
            format!("{} inspect {}: NetworkSettings.Networks = {nets}", r.tool, r.name),
            None,
        ));
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Status,
            format!("{} network ls: a network named kind exists", r.tool),
            None,
        ));
        f.fix.push(Fix::cmd(
            format!("Attach {} to the kind network", r.name),
            format!("{} network connect kind {}", r.tool, r.name),
        ));
        f.root_key = format!("local-registry-network:{}", r.name);
        out.push(f);
    }
}
