use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};

use super::{DocDrift, effective_namespace, is_image_path, show};
use crate::lint::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A container whose image in the cluster differs from the image in the manifest kept in
    /// Git: a different tag or digest. It says which side is newer when the tags are
    /// versions (`2.8.1` in Git, `2.8.0` live: the change was never applied; the reverse:
    /// someone ran `kubectl set image` and Git is behind).
    ///
    /// ### Why it breaks
    /// Nobody sees an error: the code in Git is simply not what runs. A hand-made
    /// `kubectl set image` is undone by the next apply from Git, and an apply that never ran
    /// (a failed pipeline step, a wrong context) leaves the old release serving traffic.
    ///
    /// ### How to confirm
    /// `kubectl diff -f FILE` shows the image line; `kubectl -n NS get deploy NAME -o
    /// jsonpath='{.spec.template.spec.containers[*].image}'` prints what the cluster has.
    ///
    /// ### Fix
    /// Apply Git (`kubectl apply -f FILE`) when Git is right; when the live change is the one
    /// you want, commit it to the manifest at the file and line shown.
    ///
    /// ### Prevention
    /// Deploy only from Git (a GitOps controller, or CI applying on merge), and run
    /// `kubesleuth drift` on a schedule.
    ///
    /// ### Example
    /// Seed 003: `storefront` runs `registry.example.com/shop/storefront:2.8.0` while Git says
    /// `2.8.1`.
    pub static META = {
        id: "KS1401",
        name: "image-drift",
        cause: Cause::DriftImage,
        severity: Severity::Warning,
        kind: RuleKind::Drift,
        summary: "the image running in the cluster differs from the image in the manifest kept in Git",
    }
}

pub struct DriftImage;

/// `registry/repo:1.2.3` → the tag as numbers, when it is a version.
fn version_of(image: &str) -> Option<Vec<u64>> {
    let tag = image.rsplit_once(':').map(|(_, t)| t).filter(|t| !t.contains('/'))?;
    let tag = tag.trim_start_matches('v');
    let parts: Option<Vec<u64>> = tag.split(['.', '-']).take(3).map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

fn repo_of(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => no_digest,
    }
}

impl Rule for DriftImage {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for (doc, drift) in cx.ev.manifests.iter().zip(cx.drift()) {
            let Some(DocDrift::Changed(diffs)) = drift else { continue };
            for d in diffs.iter().filter(|d| is_image_path(&d.path)) {
                let (git, live) = (show(&d.git), show(&d.live));
                let container = d
                    .path
                    .0
                    .len()
                    .checked_sub(1)
                    .and_then(|n| d.path.get(&doc.value).and(Some(n)))
                    .and_then(|n| ks_core::FieldPath(d.path.0[..n].to_vec()).get(&doc.value))
                    .and_then(|c| c["name"].as_str())
                    .unwrap_or("?")
                    .to_string();
                let newer = match (version_of(&git), version_of(&live)) {
                    _ if repo_of(&git) != repo_of(&live) => "the repositories differ".to_string(),
                    (Some(g), Some(l)) if g > l => "Git is newer: the change in Git was never applied".to_string(),
                    (Some(g), Some(l)) if g < l => {
                        "the cluster is newer: it was changed by hand (kubectl set image?) and Git is behind"
                            .to_string()
                    }
                    _ => "which is newer cannot be told from the tags".to_string(),
                };
                let ns = effective_namespace(doc).unwrap_or_default();
                let mut f = doc_finding(
                    &META,
                    doc,
                    &d.path,
                    format!("{} runs {live} but Git says {git}", doc_name(doc)),
                    format!(
                        "Container {container} of {} runs image {live} in the cluster; the manifest in Git sets {git} ({newer}).",
                        doc_name(doc)
                    ),
                );
                f.object.namespace = Some(ns.clone());
                f.evidence.push(ks_core::EvidenceItem::new(
                    ks_core::EvidenceSource::Spec,
                    format!("live {}: {live}", d.path),
                    Some(f.object.clone()),
                ));
                f.fix.push(Fix::cmd("See the whole difference", format!("kubectl diff {}", doc.kubectl_source())));
                f.fix.push(Fix::cmd(
                    "Run what Git says",
                    format!(
                        "kubectl -n {ns} set image {}/{} {container}={git}",
                        doc.kind.to_ascii_lowercase(),
                        doc.name
                    ),
                ));
                let loc = f.location.as_ref().map(|l| format!("{}:{}", l.file, l.line)).unwrap_or_default();
                f.fix.push(Fix::text(format!("or keep the live image: set `image: {live}` at {loc} and commit")));
                out.push(f);
            }
        }
    }
}
