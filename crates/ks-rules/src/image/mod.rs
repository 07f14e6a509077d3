//! Image pulls: what the kubelet and the container runtime say when an image cannot be
//! fetched. Every rule here reads the pull problems classified once in [`crate::facts`].

pub mod auth;

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[&auth::ImagePullUnauthorized];

use ks_core::{Cause, Finding, Fix, RuleMeta};

use crate::Context;
use crate::facts::{ContainerProblem, ProblemKind};
use crate::util;

/// The registry host of an image reference (`docker.io` when none is given).
pub fn registry_host(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// The image a pull problem is about: the quoted one in the message, else the container's.
pub fn image_of(cx: &Context<'_>, p: &ContainerProblem) -> String {
    if let Some(i) = p.details.get("image").filter(|i| !i.is_empty()) {
        return i.clone();
    }
    if let Some(c) = util::container_spec(cx.ev, p.pod, &p.container) {
        if let Some(i) = &c.image {
            return i.clone();
        }
    }
    p.image.clone()
}

/// Emit one finding per failing container with `cause`, built by `explain`, which returns
/// the title, the root cause and the fixes specific to the rule.
pub fn pull_findings(
    cx: &Context<'_>,
    meta: &'static RuleMeta,
    cause: Cause,
    out: &mut Vec<Finding>,
    explain: impl Fn(&ContainerProblem, &str) -> (String, String, Vec<Fix>),
) {
    for p in util::problems(cx, ProblemKind::Pull, cause) {
        let image = image_of(cx, p);
        let (title, root, fixes) = explain(p, &image);
        let mut f = util::problem_finding(meta, cx, p, title, root);
        // Pods failing to pull from one registry for one cause share it.
        f.root_key = format!("{}:{}", cause.as_str(), registry_host(&image));
        f.fix = fixes;
        f.fix.push(util::describe_pod(cx.ev, p.pod));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::registry_host;

    #[test]
    fn registry_hosts() {
        assert_eq!(registry_host("nginx"), "docker.io");
        assert_eq!(registry_host("library/nginx:1"), "docker.io");
        assert_eq!(registry_host("myacr.azurecr.io/app:1"), "myacr.azurecr.io");
        assert_eq!(registry_host("localhost:5001/app"), "localhost:5001");
    }
}
