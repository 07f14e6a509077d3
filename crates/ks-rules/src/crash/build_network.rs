use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::ContainerProblem;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Image builds that fail because they cannot reach a package index or registry: pip
    /// `Retrying ... after connection broken by` / `ReadTimeoutError` / `Could not fetch
    /// URL`, npm `ETIMEDOUT` / `EAI_AGAIN`, apt `Temporary failure resolving
    /// 'deb.debian.org'`, apk `temporary error`, the Go module proxy timing out, `failed to
    /// fetch ...: connection timeout`. It names the host.
    ///
    /// ### Why it breaks
    /// The build pod has no working DNS or egress to the internet: a NetworkPolicy or
    /// firewall blocks it, the cluster needs an HTTP proxy the build does not use, the
    /// cluster DNS is failing, or the index is down. Package downloads then time out and
    /// the build stops.
    ///
    /// ### How to confirm
    /// Run a throwaway pod in the build namespace and resolve and fetch the host: `nslookup
    /// pypi.org`, `wget -S --spider https://pypi.org/simple/`.
    ///
    /// ### Fix
    /// Allow egress from the build namespace to the index (or through the proxy, passing
    /// `HTTP_PROXY`/`HTTPS_PROXY` as build args), or point the build at a reachable mirror
    /// (`PIP_INDEX_URL`, `npm config set registry`); then retry the build.
    ///
    /// ### Prevention
    /// Give build namespaces an explicit egress policy; use an in-cluster package mirror or
    /// cache for builds.
    ///
    /// ### Example
    /// `ERROR: failed to fetch flask-3.0.0.tar.gz: connection timeout` in a BuildKit Job.
    pub static META = {
        id: "KS0314",
        name: "build-network-failure",
        cause: Cause::BuildNetwork,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the image build cannot reach a package index or registry",
    }
}

pub struct BuildNetworkFailure;

impl Rule for BuildNetworkFailure {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::BuildNetwork, out, |p, f| explain(cx, p, f));
    }
}

/// The index a build tool talks to when the log does not name the host.
fn default_host(line: &str) -> Option<&'static str> {
    let l = line.to_ascii_lowercase();
    if l.contains("pip") || l.contains("/simple/") || l.contains("pypi") {
        Some("pypi.org")
    } else if l.contains("npm") {
        Some("registry.npmjs.org")
    } else if l.contains("golang.org") {
        Some("proxy.golang.org")
    } else {
        None
    }
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let b = super::build_facts(ev, p);
    let quote = super::short_quote(super::strip_build_prefix(&p.message));
    let host =
        p.details.get("host").cloned().filter(|h| !h.is_empty()).or_else(|| default_host(&quote).map(str::to_string));
    let (ns, _) = util::pod_names(ev, p.pod);
    f.title = match &host {
        Some(h) => format!("Image build in {} {} cannot reach {h}", w.kind, w.name),
        None => format!("Image build in {} {} cannot download its packages", w.kind, w.name),
    };
    let target = host.clone().unwrap_or_else(|| "the package index".to_string());
    f.root_cause = format!(
        "{} fails with `{quote}`: the build pod cannot resolve or connect to {target}. Egress from namespace {ns} is blocked (NetworkPolicy, firewall, a proxy the build does not use), cluster DNS fails, or the index is down.",
        b.head
    );
    let h = host.clone().unwrap_or_else(|| "pypi.org".to_string());
    f.fix.push(Fix::cmd(
        format!("Test DNS and HTTPS to {h} from namespace {ns}"),
        format!(
            "kubectl {}run net-check --rm -it --restart=Never --image=busybox:1.36 -- sh -c 'nslookup {h} && wget -q -S --spider https://{h}/'",
            util::ns_flag(ns)
        ),
    ));
    f.fix.push(Fix::text(format!(
        "Allow egress from {ns} to {target} (or pass HTTP_PROXY/HTTPS_PROXY as build args, or use a reachable mirror such as PIP_INDEX_URL), then re-run the build"
    )));
    f.root_key = format!("build.network:{}", host.unwrap_or_default());
}
