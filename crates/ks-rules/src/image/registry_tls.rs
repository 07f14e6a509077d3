use ks_core::registry::RegistryErrorKind;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::digests::{self, HostProblem};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A registry kubesleuth could not talk TLS with while checking running tags: an
    /// untrusted or expired certificate, a name mismatch, or a registry that speaks plain HTTP
    /// on a port asked over HTTPS. One finding per registry host.
    ///
    /// ### Why it breaks
    /// Without a trusted connection there is no answer to compare the running images with.
    /// kubesleuth asks `localhost`, `127.0.0.1` and `[::1]` registries over plain HTTP and
    /// every other host over HTTPS unless it is named with `--insecure-registry`, as Docker
    /// does.
    ///
    /// ### How to confirm
    /// `openssl s_client -connect <host:port> -servername <host> </dev/null` shows the
    /// certificate chain, or a non-TLS answer for an HTTP registry.
    ///
    /// ### Fix
    /// For a plain-HTTP registry, pass `--insecure-registry <host:port>`. For a private CA,
    /// add it to this machine's trust store. For an expired certificate, renew it.
    ///
    /// ### Prevention
    /// Serve registries with certificates from a CA the machines that use them trust.
    ///
    /// ### Example
    /// `TLS with registry.lan:5000 failed: received corrupt message of type InvalidContentType`
    /// (the registry speaks HTTP).
    pub static META = {
        id: "KS1308",
        name: "registry-check-tls-failed",
        cause: Cause::ImageTls,
        severity: Severity::Info,
        kind: RuleKind::Runtime,
        summary: "the TLS connection to a registry failed, so running images could not be checked",
    }
}

pub struct RegistryCheckTlsFailed;

impl Rule for RegistryCheckTlsFailed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.ev.registry.is_empty() {
            return;
        }
        let checked = digests::check(cx.ev);
        for p in digests::host_problems(cx.ev, &checked, RegistryErrorKind::Tls) {
            out.push(finding(cx, &p));
        }
    }
}

fn finding(cx: &Context<'_>, p: &HostProblem<'_, '_>) -> Finding {
    let host = p.host;
    let m = p.error.message.to_ascii_lowercase();
    let plain_http = m.contains("invalidcontenttype") || m.contains("corrupt message") || m.contains("http response");
    let title = format!("TLS with registry {host} failed: {} not checked", digests::tags_phrase(p));
    let mut root_cause = format!("{}.", p.error.message.trim_end_matches('.'));
    let mut fixes = Vec::new();
    if plain_http {
        root_cause.push_str(&format!(
            " {host} answered the TLS handshake with something that is not TLS: it speaks plain HTTP. kubesleuth (like Docker) only uses plain HTTP for hosts named as insecure."
        ));
        fixes.push(Fix::cmd(
            format!("Check again, asking {host} over plain HTTP"),
            format!("kubesleuth images --snapshot <dir> --insecure-registry {host}"),
        ));
    } else {
        root_cause.push_str(&format!(
            " This machine does not trust {host}'s certificate (or it has expired or names another host), so kubesleuth did not send the request."
        ));
        fixes.push(Fix::cmd(
            format!("See the certificate {host} presents"),
            format!(
                "openssl s_client -connect {} -servername {} </dev/null",
                if host.contains(':') { host.to_string() } else { format!("{host}:443") },
                host.split(':').next().unwrap_or(host)
            ),
        ));
        fixes.push(Fix::text(format!("Add the CA that signed {host}'s certificate to this machine's trust store, or renew the certificate if it expired")));
    }
    digests::host_problem_finding(cx.ev, &META, p, title, root_cause, fixes)
}
