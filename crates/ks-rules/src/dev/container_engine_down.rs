use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// `docker` or `podman` is installed, but no container engine answers (`docker info` /
    /// `podman info` fail) — neither client reaches a running daemon or machine.
    ///
    /// ### Why it breaks
    /// Builds, kind clusters and the local registry all run on the engine: `docker build`,
    /// `skaffold dev` and `kind create cluster` fail with `Cannot connect to the Docker daemon at
    /// unix:///var/run/docker.sock. Is the docker daemon running?`, and a kind cluster's nodes
    /// are down with it.
    ///
    /// ### How to confirm
    /// `docker info` / `podman info`; `docker context ls` shows which endpoint the client
    /// uses; `podman machine list` on macOS and Windows.
    ///
    /// ### Fix
    /// Start the engine (the Docker service or Docker Desktop; `podman machine start`), or
    /// point the client at the engine that runs (`docker context use`).
    ///
    /// ### Prevention
    /// Enable the engine at login; with several engines, set `DOCKER_HOST` or the docker
    /// context explicitly in the project's scripts.
    ///
    /// ### Example
    /// `Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker
    /// daemon running?`
    pub static META = {
        id: "KS1514",
        name: "container-engine-down",
        cause: Cause::DevContainerEngine,
        severity: Severity::Error,
        kind: RuleKind::Local,
        summary: "docker/podman is installed but no container engine answers",
    }
}

pub struct ContainerEngineDown;

impl Rule for ContainerEngineDown {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(local) = &cx.ev.build.local else { return };
        if local.engines.is_empty() || local.engines.iter().any(|e| e.running) {
            return;
        }
        let tools: Vec<&str> = local.engines.iter().map(|e| e.tool.as_str()).collect();
        let mut f = util::finding(
            &META,
            ObjectRef::new("ContainerEngine", None, &tools.join(",")),
            format!("no container engine answers ({})", tools.join(", ")),
            format!(
                "{} {} installed, but no engine answered `info`: builds, kind nodes and the local registry cannot run.",
                util::join_names(&tools),
                if tools.len() == 1 { "is" } else { "are" }
            ),
        );
        for e in &local.engines {
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("{} info: {}", e.tool, e.error.as_deref().unwrap_or("no answer")),
                None,
            ));
            match e.tool.as_str() {
                "podman" => f.fix.push(Fix::cmd(
                    "Start Podman's engine (machine on macOS/Windows, socket on Linux)",
                    "podman machine start || systemctl --user start podman.socket",
                )),
                _ => f.fix.push(Fix::cmd(
                    "Start the Docker engine (Docker Desktop on macOS/Windows)",
                    "sudo systemctl start docker",
                )),
            }
        }
        f.root_key = "container-engine".to_string();
        out.push(f);
    }
}
