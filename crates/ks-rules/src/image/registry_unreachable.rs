use ks_core::registry::RegistryErrorKind;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::digests::{self, HostProblem};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A registry that did not answer kubesleuth while it checked which digest running tags
    /// name: connection refused, timeout, DNS failure, or the registry answering 5xx. One
    /// finding per registry host, however many pods use it.
    ///
    /// ### Why it breaks
    /// The running images could not be compared with their tags. The check runs from this
    /// machine, not from the nodes: a registry only reachable inside the cluster's network
    /// (or a `localhost` registry of another machine) looks down from here and may be fine
    /// for the nodes; KS0104 reports nodes that cannot pull.
    ///
    /// ### How to confirm
    /// `curl -sS https://<host>/v2/` from the same machine; for a local registry, `docker ps`
    /// shows whether its container runs and on which port.
    ///
    /// ### Fix
    /// Start the registry (or reconnect to the network that reaches it) and check again; use
    /// `--insecure-registry <host:port>` for a registry that speaks plain HTTP.
    ///
    /// ### Prevention
    /// Run registry checks from a machine that reaches every registry the cluster uses.
    ///
    /// ### Example
    /// `cannot connect to 127.0.0.1:5000: tcp connect error: Connection refused (os error
    /// 111)`.
    pub static META = {
        id: "KS1307",
        name: "registry-check-unreachable",
        cause: Cause::ImageNetwork,
        severity: Severity::Info,
        kind: RuleKind::Runtime,
        summary: "a registry did not answer kubesleuth, so running images could not be checked",
    }
}

pub struct RegistryCheckUnreachable;

impl Rule for RegistryCheckUnreachable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.ev.registry.is_empty() {
            return;
        }
        let checked = digests::check(cx.ev);
        for p in digests::host_problems(cx.ev, &checked, RegistryErrorKind::Network) {
            out.push(finding(cx, &p));
        }
    }
}

fn finding(cx: &Context<'_>, p: &HostProblem<'_, '_>) -> Finding {
    let host = p.host;
    let how = match p.error.status {
        Some(s) => format!("answered HTTP {s}"),
        None if p.error.message.contains("timeout") => "did not answer in time".to_string(),
        None => "did not answer".to_string(),
    };
    let title = format!("Registry {host} {how}: {} not checked", digests::tags_phrase(p));
    let names: Vec<String> = p.workloads.iter().map(|w| w.to_string()).collect();
    let root_cause = format!(
        "{}. kubesleuth could not compare what {} run{} with {}. This is the view from the machine kubesleuth runs on; the nodes may reach {host} by another network (KS0104 reports nodes that cannot pull).",
        p.error.message,
        crate::util::join_names(&names),
        if names.len() == 1 { "s" } else { "" },
        if p.tags.len() == 1 { "its tag".to_string() } else { format!("their {} tags", p.tags.len()) },
    );
    let fixes = vec![
        Fix::cmd(format!("Check whether {host} answers from this machine"), digests::curl_v2(p, "")),
        Fix::text(format!("Start the registry or connect to a network that reaches {host}, then check again")),
    ];
    digests::host_problem_finding(cx.ev, &META, p, title, root_cause, fixes)
}
