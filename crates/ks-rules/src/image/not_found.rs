use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{Explained, ImageRef};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Pods whose image does not exist in the registry: containerd's
    /// `failed to resolve reference "...": ...: not found`, `manifest unknown`, a `404 Not
    /// Found` from the registry, Docker's `manifest for X not found`, CRI-O's `reading manifest
    /// T in R: manifest unknown`.
    ///
    /// ### Why it breaks
    /// The registry has no manifest for that repository and tag (or digest): the tag was
    /// mistyped, never pushed (the build or push step failed), deleted by a retention policy,
    /// or derived from a chart's `appVersion` that was never published. Every retry fails the
    /// same way.
    ///
    /// ### How to confirm
    /// `crane ls <registry>/<repository>` (or the registry's UI) lists the tags that exist;
    /// `docker manifest inspect <image>` answers `no such manifest`.
    ///
    /// ### Fix
    /// Point the container at a tag that exists (`kubectl set image`), or push the missing
    /// tag. For Helm releases set the tag in the values, or the next upgrade reverts it.
    ///
    /// ### Prevention
    /// Deploy immutable tags or digests produced by the same pipeline run that pushed them,
    /// and fail the pipeline when the push fails.
    ///
    /// ### Example
    /// `failed to resolve reference "docker.io/acme/billing:2.4.1":
    /// docker.io/acme/billing:2.4.1: not found`.
    pub static META = {
        id: "KS0102",
        name: "image-not-found",
        cause: Cause::ImageNotFound,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the image's repository, tag or digest does not exist in the registry",
    }
}

pub struct ImageNotFound;

impl Rule for ImageNotFound {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pull_findings(cx, &META, Cause::ImageNotFound, out, |p, _| {
            let spec = super::spec_image(cx, p);
            let r = ImageRef::parse(&spec);
            let repo = r.repository();
            let host = r.host.as_str();
            let msg = p.message.to_ascii_lowercase();
            let repo_missing = msg.contains("name unknown")
                || msg.contains("name_unknown")
                || (msg.contains("repository") && (msg.contains("not found") || msg.contains("not known")));
            let blob_missing = msg.contains("content at ");
            let what = match (&r.digest, &r.tag) {
                _ if repo_missing => format!("repository {repo}"),
                (Some(d), _) => format!("digest {d} of {repo}"),
                (None, Some(t)) => format!("tag {t} of {repo}"),
                (None, None) => format!("tag latest of {repo} (no tag given, so the runtime asks for latest)"),
            };
            let why = if blob_missing {
                format!(
                    "Container {} pulls {spec}, but a layer or manifest that image references is missing from {host} (a partial push or a deleted blob), so every pull fails with not found.",
                    p.container
                )
            } else {
                format!(
                    "Container {} asks for {spec}, but {host} has no {what}: the tag is mistyped, was never pushed, or was deleted, so every pull fails with not found.",
                    p.container
                )
            };
            let title = if repo_missing {
                format!("Repository {repo} does not exist on {host}")
            } else {
                format!("Image {spec} does not exist on {host}")
            };
            let mut fixes = vec![
                Fix::cmd(format!("List the tags that exist in {repo}"), format!("crane ls {repo}")),
                Fix::cmd("Or check one tag directly", format!("docker manifest inspect {}", r.qualified())),
            ];
            let placeholder = format!("{}:<existing-tag>", spec.split('@').next().map(strip_tag).unwrap_or(&spec));
            fixes.extend(super::set_image(
                cx,
                p,
                &placeholder,
                &format!("Point container {} at a tag that exists (or push {spec})", p.container),
            ));
            Explained::new(title, why, fixes).key(format!("{}:{}", Cause::ImageNotFound.as_str(), r.qualified()))
        });
    }
}

/// `repo:tag` → `repo` (a `:` before the last `/` is a registry port, not a tag).
fn strip_tag(image: &str) -> &str {
    match image.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => r,
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_tags_not_ports() {
        assert_eq!(super::strip_tag("acme/billing:2.4.1"), "acme/billing");
        assert_eq!(super::strip_tag("localhost:5001/app"), "localhost:5001/app");
        assert_eq!(super::strip_tag("localhost:5001/app:dev"), "localhost:5001/app");
    }
}
