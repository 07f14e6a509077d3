use ks_core::registry::{AuthSource, RegistryErrorKind};
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::digests::{self, HostProblem};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A registry that refused kubesleuth's own request while checking which digest a
    /// running tag names (HTTP 401 or 403, a token service refusing a pull token, or a
    /// registry that requires a login kubesleuth has no credentials for). One finding per
    /// registry host, listing the workloads whose images could not be checked.
    ///
    /// ### Why it breaks
    /// Without an answer, kubesleuth cannot tell whether the pods run what their tags name.
    /// kubesleuth asks with the credentials of the machine it runs on (the docker config and
    /// its credential helpers); pods pull with their own imagePullSecrets, which a snapshot
    /// never holds, so this finding says nothing about whether the nodes can pull.
    ///
    /// ### How to confirm
    /// `curl -s -o /dev/null -w '%{http_code}\n' https://<host>/v2/` answers 401, and `docker
    /// login <host>` has not been run on this machine (or its credentials expired).
    ///
    /// ### Fix
    /// `docker login <host>` (kubesleuth reads `$DOCKER_CONFIG/config.json` or
    /// `~/.docker/config.json`, including `credsStore` and `credHelpers`), then run the check
    /// again.
    ///
    /// ### Prevention
    /// Run registry checks from a machine (or CI job) logged in to every registry the cluster
    /// pulls from, with a read-only token.
    ///
    /// ### Example
    /// `registry.example.com answered HTTP 401 Unauthorized for shop/api:latest: UNAUTHORIZED:
    /// authentication required`.
    pub static META = {
        id: "KS1305",
        name: "registry-check-unauthorized",
        cause: Cause::ImageAuth,
        severity: Severity::Info,
        kind: RuleKind::Runtime,
        summary: "a registry refused kubesleuth's credentials, so running images could not be checked",
    }
}

pub struct RegistryCheckUnauthorized;

impl Rule for RegistryCheckUnauthorized {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.ev.registry.is_empty() {
            return;
        }
        let checked = digests::check(cx.ev);
        for p in digests::host_problems(cx.ev, &checked, RegistryErrorKind::Auth) {
            out.push(finding(cx, &p));
        }
    }
}

fn finding(cx: &Context<'_>, p: &HostProblem<'_, '_>) -> Finding {
    let host = p.host;
    let status = p.error.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
    let title =
        format!("Registry {host} refused kubesleuth's request{status}: {} not checked", digests::tags_phrase(p));
    let how = match p.fact.map(|h| h.auth) {
        Some(AuthSource::DockerConfig) => "with the credentials in your docker config, which it refused",
        Some(AuthSource::PullSecret) => "with the pods' imagePullSecret, which it refused",
        _ => "anonymously: there are no credentials for it in your docker config",
    };
    let root_cause = format!(
        "kubesleuth asked {host} {how}, so it cannot tell whether {} run{} what {} name{} now. Pods pull with their own imagePullSecrets (a snapshot never holds them), so this does not mean the nodes cannot pull.",
        crate::util::join_names(&p.workloads.iter().map(|w| w.to_string()).collect::<Vec<_>>()),
        if p.workloads.len() == 1 { "s" } else { "" },
        if p.tags.len() == 1 { "its tag" } else { "their tags" },
        if p.tags.len() == 1 { "s" } else { "" },
    );
    let login = if host == "docker.io" { "docker login".to_string() } else { format!("docker login {host}") };
    let fixes = vec![
        Fix::cmd(
            format!(
                "Log in to {host} on this machine (kubesleuth reads the docker config and its credential helpers), then check again"
            ),
            login,
        ),
        Fix::cmd(format!("Check what {host} answers"), digests::curl_v2(p, "")),
    ];
    digests::host_problem_finding(cx.ev, &META, p, title, root_cause, fixes)
}
