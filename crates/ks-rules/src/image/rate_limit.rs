use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{Explained, ImageRef, Scope};
use crate::util;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Pods whose image pull is throttled by the registry: `429 Too Many Requests`,
    /// `toomanyrequests: You have reached your pull rate limit`.
    ///
    /// ### Why it breaks
    /// The registry limits how many pulls it serves. Docker Hub counts anonymous pulls per
    /// source IP address, so every node behind one NAT gateway shares one small allowance;
    /// a rollout, an autoscaling burst or `imagePullPolicy: Always` uses it up and pulls fail
    /// until the window resets.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `toomanyrequests` or `429 Too Many Requests` in the
    /// `Failed to pull image` event; other pods pulling from the same registry fail alike.
    ///
    /// ### Fix
    /// Authenticate the pulls (a pull secret for the registry, attached to the ServiceAccount),
    /// or serve the image from a mirror or pull-through cache the cluster owns.
    ///
    /// ### Prevention
    /// Pull through a registry mirror or cache, pin tags with `imagePullPolicy: IfNotPresent`,
    /// and authenticate every pull from Docker Hub.
    ///
    /// ### Example
    /// `429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate
    /// limit.`
    pub static META = {
        id: "KS0103",
        name: "image-pull-rate-limited",
        cause: Cause::ImageRateLimit,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the registry throttles the node's image pulls (toomanyrequests)",
    }
}

pub struct ImagePullRateLimited;

impl Rule for ImagePullRateLimited {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pull_findings(cx, &META, Cause::ImageRateLimit, out, |p, _| {
            let ev = cx.ev;
            let spec = super::spec_image(cx, p);
            let r = ImageRef::parse(&spec);
            let host = r.host.as_str();
            let hub = host == "docker.io";
            let pod = &ev.pods[p.pod];
            let (ns, _) = util::pod_names(ev, p.pod);
            let sa = super::service_account(pod);
            let authenticated =
                pod.spec.as_ref().is_some_and(|s| s.image_pull_secrets.as_ref().is_some_and(|l| !l.is_empty()));
            let registry = if hub { "Docker Hub".to_string() } else { format!("Registry {host}") };
            let who = if authenticated {
                "The pod pulls with credentials, so the account's own pull allowance is used up".to_string()
            } else if hub {
                "The node pulls anonymously, and Docker Hub counts anonymous pulls per source IP address, so all nodes behind one NAT share one small allowance".to_string()
            } else {
                "The node's pulls exceed the registry's limit".to_string()
            };
            let why = format!(
                "{registry} answers 429 toomanyrequests when the node pulls {spec}. {who}; pulls keep failing until the limit window resets."
            );
            let mut fixes = Vec::new();
            if !authenticated {
                let secret = if hub { "dockerhub" } else { "regcred" };
                fixes.push(super::create_registry_secret(ns, secret, host, Scope::Pull));
                fixes.push(Fix::cmd(
                    format!("Attach it to ServiceAccount {sa} so every pod using it pulls authenticated"),
                    format!(
                        "kubectl {}patch serviceaccount {sa} -p '{{\"imagePullSecrets\":[{{\"name\":\"{secret}\"}}]}}'",
                        util::ns_flag(ns)
                    ),
                ));
                fixes.extend(super::recreate_pods(cx, p.pod));
            }
            let mirrored = format!("<your-registry>/{}", r.repo);
            let target = match (&r.tag, &r.digest) {
                (Some(t), _) => format!("{mirrored}:{t}"),
                (None, Some(d)) => format!("{mirrored}@{d}"),
                (None, None) => format!("{mirrored}:latest"),
            };
            fixes.push(Fix::cmd(
                "Or copy the image to a registry you own (or a pull-through cache) once",
                format!("crane copy {} {target}", r.qualified()),
            ));
            fixes.extend(super::set_image(cx, p, &target, "and pull it from there"));
            let policy = util::container_spec(ev, p.pod, &p.container).and_then(|c| c.image_pull_policy.clone());
            let always = policy.as_deref() == Some("Always")
                || (policy.is_none() && r.digest.is_none() && r.tag.as_deref().is_none_or(|t| t == "latest"));
            if always {
                fixes.push(Fix::text(format!(
                    "Container {} pulls on every start (imagePullPolicy Always, or the latest tag): pin a tag and use imagePullPolicy IfNotPresent so nodes reuse their copy",
                    p.container
                )));
            }
            Explained::new(format!("{registry} rate-limits pulls of {spec}"), why, fixes)
        });
    }
}
