use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// The local registry container of a kind setup (`kind-registry`, as created by kind's
    /// local-registry script) exists but is not running (`exited`, `created`, `paused`).
    ///
    /// ### Why it breaks
    /// Nothing listens on the registry's port (`localhost:5001`): `docker push
    /// localhost:5001/...` fails with `connection refused`, and pods whose images live there
    /// sit in `ImagePullBackOff`. Re-running the setup script does not help either: `docker
    /// run --name kind-registry` fails with `name "kind-registry" is in use: container already
    /// exists` while the old container is stopped.
    ///
    /// ### How to confirm
    /// `docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' kind-registry` (or `podman
    /// inspect`) prints `exited`; `curl -s http://localhost:5001/v2/` fails.
    ///
    /// ### Fix
    /// Start it; if it will not start, remove and recreate it on the `kind` network with the
    /// same name, port and volume.
    ///
    /// ### Prevention
    /// Create the registry with `--restart=always`; make setup scripts handle a container in
    /// any state (`docker rm -f` before `docker run`, or `docker start` when it exists).
    ///
    /// ### Example
    /// `kind-registry` in state `exited` after a reboot, while pods fail to pull
    /// `localhost:5001/angzarr-topology:latest`.
    pub static META = {
        id: "KS1510",
        name: "local-registry-stopped",
        cause: Cause::DevLocalRegistry,
        severity: Severity::Error,
        kind: RuleKind::Local,
        summary: "the local registry container for the kind cluster exists but is not running",
    }
}

pub struct LocalRegistryStopped;

impl Rule for LocalRegistryStopped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(local) = &cx.ev.build.local else { return };
        let Some(r) = &local.registry else { return };
        if r.running {
            return;
        }
        let port = r.host_port.clone().unwrap_or_else(|| "127.0.0.1:5001".to_string());
        let host_port = port.rsplit(':').next().unwrap_or("5001");
        let container_port = r.container_port.as_deref().unwrap_or("5000");
        let exit = r.exit_code.map(|c| format!(" (exit code {c})")).unwrap_or_default();
        let mut f = util::finding(
            &META,
            ObjectRef::new("Container", None, &r.name),
            format!("local registry {} is {}", r.name, r.status),
            format!(
                "The {} container {} is {}{exit}, so nothing answers on {port}: pushes to localhost:{host_port} \
                 fail and pods pulling localhost:{host_port}/... get connection refused.",
                r.tool, r.name, r.status
            ),
        );
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Status,
            format!("{} inspect {}: State.Status={}{exit}", r.tool, r.name, r.status),
            None,
        ));
        f.fix.push(Fix::cmd(format!("Start {}", r.name), format!("{} start {}", r.tool, r.name)));
        f.fix.push(Fix::cmd(
            "If it will not start, recreate it on the kind network (the image data stays in the volume)",
            format!(
                "{tool} rm -f {name} && {tool} run -d --restart=always --network kind -p {port}:{container_port} \
                 -v {name}-data:/var/lib/registry --name {name} docker.io/library/registry:2",
                tool = r.tool,
                name = r.name,
            ),
        ));
        f.root_key = format!("local-registry-stopped:{}", r.name);
        out.push(f);
    }
}
