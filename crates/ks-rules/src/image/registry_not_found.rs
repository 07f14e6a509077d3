use ks_core::registry::RegistryErrorKind;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::digests::{self, HostProblem, short};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Running containers whose image tag the registry no longer has: it answers 404
    /// `MANIFEST_UNKNOWN` (tag deleted or renamed) or `NAME_UNKNOWN` (repository gone) when
    /// kubesleuth asks which digest the tag names. One finding per registry host.
    ///
    /// ### Why it breaks
    /// The pods run because their nodes pulled the image before it was deleted. A pod that
    /// lands on another node (a reschedule, a scale-up, a node replaced) cannot pull it and
    /// stays in `ErrImagePull`: `manifest unknown`.
    ///
    /// ### How to confirm
    /// List the repository's tags: `curl -s https://<host>/v2/<repo>/tags/list`, or `crane ls
    /// <host>/<repo>`.
    ///
    /// ### Fix
    /// Push the tag again, or point the workload at an image that exists. If the registry
    /// still has the digest the pods run, pin it: `kubectl set image <kind>/<name>
    /// <container>=<repo>@<digest>`.
    ///
    /// ### Prevention
    /// Do not delete tags that running workloads use; registry retention policies should keep
    /// whatever is deployed (or deploy by digest and retain digests).
    ///
    /// ### Example
    /// `127.0.0.1:5000 answered HTTP 404 Not Found for shop/api:v1: MANIFEST_UNKNOWN: manifest
    /// unknown`.
    pub static META = {
        id: "KS1306",
        name: "running-tag-missing-from-registry",
        cause: Cause::ImageNotFound,
        severity: Severity::Warning,
        kind: RuleKind::Runtime,
        summary: "a tag running pods use no longer exists in its registry",
    }
}

pub struct RunningTagMissingFromRegistry;

impl Rule for RunningTagMissingFromRegistry {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.ev.registry.is_empty() {
            return;
        }
        let checked = digests::check(cx.ev);
        for p in digests::host_problems(cx.ev, &checked, RegistryErrorKind::NotFound) {
            out.push(finding(cx, &p));
        }
    }
}

fn finding(cx: &Context<'_>, p: &HostProblem<'_, '_>) -> Finding {
    let host = p.host;
    let repo_gone = p.error.code.as_deref() == Some("NAME_UNKNOWN");
    let title = match p.tags.as_slice() {
        [one] if repo_gone => format!("The repository of {one} no longer exists in registry {host}"),
        [one] => format!("Tag {one} no longer exists in registry {host}"),
        many => format!("{} image tags running pods use no longer exist in registry {host}", many.len()),
    };
    let names: Vec<String> = p.workloads.iter().map(|w| w.to_string()).collect();
    let root_cause = format!(
        "{host} answers 404 for {}, which {} run{}. The running pods keep the image their nodes already pulled, but a pod scheduled on another node will fail to pull it (ErrImagePull: manifest unknown).",
        util::join_names(&p.tags),
        util::join_names(&names),
        if names.len() == 1 { "s" } else { "" },
    );
    let ex = p.example;
    let mut fixes = Vec::new();
    if let Some(name) = ex.rc.name.as_ref() {
        fixes.push(Fix::cmd(
            format!("List the tags {host} has for {}", name.repository),
            format!("curl -s {}/v2/{}/tags/list", p.fact.map(|h| h.endpoint.as_str()).unwrap_or(host), name.repository),
        ));
    }
    if let Some(running) = ex.running {
        let mut pin = digests::pin_command(ex, running);
        if let Some(f) = pin.as_mut() {
            f.description = format!(
                "If {host} still has the digest the pods run ({}), pin {} to it so new pods can pull it",
                short(running),
                ex.workload.kubectl_ref()
            );
        }
        fixes.extend(pin);
    }
    fixes.push(Fix::text(format!("Or push the tag again: docker push {}", ex.rc.image)));
    digests::host_problem_finding(cx.ev, &META, p, title, root_cause, fixes)
}
