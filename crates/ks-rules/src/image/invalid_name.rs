use ks_core::{Cause, Finding, RuleKind, RuleMeta, Severity, declare_rule};

use super::{Explained, ImageRef};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Containers whose image reference cannot be parsed: `InvalidImageName` with
    /// `Failed to apply default image tag "...": couldn't parse image reference "...": invalid
    /// reference format`, and CRI-O's `short-name "x" did not resolve to an alias` when the
    /// node has no unqualified-search registries.
    ///
    /// ### Why it breaks
    /// The kubelet parses the reference before pulling; a malformed one is never pulled.
    /// Usual causes: a templated tag that rendered empty (`repo:`), uppercase letters in the
    /// repository, a URL scheme (`https://`), spaces, or characters a tag may not contain.
    ///
    /// ### How to confirm
    /// `kubectl get pod -o jsonpath='{.spec.containers[*].image}'` shows the reference as the
    /// kubelet sees it; the waiting reason is `InvalidImageName`.
    ///
    /// ### Fix
    /// Set a valid reference with `kubectl set image`, and fix the source that rendered it
    /// (Helm values, kustomize `images:`, CI variables).
    ///
    /// ### Prevention
    /// Validate rendered manifests in CI (`kubesleuth lint`), and fail the render when an
    /// image tag variable is empty.
    ///
    /// ### Example
    /// `couldn't parse image reference "registry.example.com/team/api:": invalid reference
    /// format`.
    pub static META = {
        id: "KS0107",
        name: "image-name-invalid",
        cause: Cause::ImageInvalidName,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the image reference cannot be parsed",
    }
}

pub struct ImageNameInvalid;

impl Rule for ImageNameInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pull_findings(cx, &META, Cause::ImageInvalidName, out, |p, image| {
            let spec = super::spec_image(cx, p);
            let image = if spec.is_empty() { image.to_string() } else { spec };
            let (problem, suggestion) = if p.signature == Some("pull-short-name") {
                let r = ImageRef::parse(&image);
                let full = match &r.tag {
                    Some(t) => format!("{}:{t}", r.repository()),
                    None => r.repository(),
                };
                (
                    format!(
                        "is a short name, and the node's CRI-O has no unqualified-search registries to resolve it (it does not assume docker.io); write it fully qualified, e.g. {full}"
                    ),
                    Some(full),
                )
            } else {
                diagnose(&image)
            };
            let why = format!(
                "Container {} has image \"{image}\": it {problem}. The kubelet cannot parse it, so it never pulls and the container never starts.",
                p.container
            );
            let target = suggestion.clone().unwrap_or_else(|| "<registry>/<repository>:<tag>".to_string());
            let fixes = super::set_image(cx, p, &target, &format!("Set a valid image for container {}", p.container));
            Explained::new(format!("Image reference \"{image}\" is not valid"), why, fixes)
                .key(format!("{}:{image}", Cause::ImageInvalidName.as_str()))
        });
    }
}

/// What is wrong with a reference, and a corrected one when it can be derived.
fn diagnose(image: &str) -> (String, Option<String>) {
    if image.trim().is_empty() {
        return ("is empty".into(), None);
    }
    if image != image.trim() {
        return ("has leading or trailing spaces".into(), Some(image.trim().to_string()));
    }
    if image.contains(char::is_whitespace) {
        return ("contains spaces".into(), None);
    }
    if let Some((_, rest)) = image.split_once("://") {
        return ("starts with a URL scheme, which references never carry".into(), Some(rest.to_string()));
    }
    let name = image.split('@').next().unwrap_or(image);
    if let Some(repo) = name.strip_suffix(':') {
        return (
            "ends with ':' and an empty tag (a templated tag, such as Helm's image.tag, rendered empty)".into(),
            Some(format!("{repo}:<tag>")),
        );
    }
    if image.ends_with('@') || image.split_once('@').is_some_and(|(_, d)| !d.contains(':')) {
        return ("has a malformed digest (it must read @sha256:<64 hex digits>)".into(), None);
    }
    if name.contains("//") || name.ends_with('/') || name.starts_with('/') {
        return (
            "has an empty path component ('//' or a leading or trailing '/')".into(),
            Some(name.replace("//", "/").trim_matches('/').to_string()),
        );
    }
    // Uppercase is allowed in the registry host and the tag, not in the repository path.
    let r = ImageRef::parse(name);
    let has_host = name
        .split_once('/')
        .is_some_and(|(first, _)| first.contains('.') || first.contains(':') || first == "localhost");
    let path = if has_host { name.split_once('/').map_or(name, |(_, rest)| rest) } else { name };
    let path_no_tag = match path.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => path,
    };
    if path_no_tag.chars().any(|c| c.is_ascii_uppercase()) {
        let fixed = name.replacen(path_no_tag, &path_no_tag.to_ascii_lowercase(), 1);
        return ("has uppercase letters in the repository name, which must be lowercase".into(), Some(fixed));
    }
    if let Some(tag) = &r.tag
        && (tag.is_empty()
            || tag.len() > 128
            || !tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            || tag.starts_with(['.', '-']))
    {
        return (
            format!(
                "has tag \"{tag}\", but a tag may only hold letters, digits, '_', '.' and '-' (128 at most, not starting with '.' or '-')"
            ),
            None,
        );
    }
    if path_no_tag.chars().any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c))) {
        return (
            "has characters a repository name may not contain (only a-z, 0-9, '.', '_', '-' and '/')".into(),
            None,
        );
    }
    ("is not a valid reference".into(), None)
}

#[cfg(test)]
mod tests {
    use super::diagnose;

    #[test]
    fn diagnoses_common_mistakes() {
        assert_eq!(
            diagnose("registry.example.com/team/api:").1.as_deref(),
            Some("registry.example.com/team/api:<tag>")
        );
        assert_eq!(diagnose("Acme/Web:1.0").1.as_deref(), Some("acme/web:1.0"));
        assert_eq!(diagnose("Registry.Example.com/team/api:V1").0, "is not a valid reference");
        assert_eq!(diagnose("https://ghcr.io/acme/api:1").1.as_deref(), Some("ghcr.io/acme/api:1"));
        assert!(diagnose("acme/api:1.0+build").0.contains("tag"));
        assert!(diagnose("acme/api@sha256").0.contains("digest"));
    }
}
