use ks_core::registry::ImageName;
use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};

use super::{doc_finding, doc_name};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A container whose image is a mutable tag — `:latest`, or no tag at all, which means
    /// `:latest` — and no digest, pulled with an explicit `imagePullPolicy: IfNotPresent`.
    /// Without the explicit policy Kubernetes defaults such images to `Always`; writing
    /// `IfNotPresent` turns that off. Images that a Skaffold artifact in the same lint run
    /// builds are left to KS1505 (Skaffold rewrites them at deploy time).
    ///
    /// ### Why it breaks
    /// A node that already has an image under that tag starts it without asking the
    /// registry. After a new image is pushed under the same tag, pods on nodes that pulled
    /// the old one keep running it, `kubectl rollout restart` restarts the old build, and
    /// pods of one Deployment run different code depending on their node; a kind or
    /// minikube node serves its cached copy forever.
    ///
    /// ### How to confirm
    /// `kubectl get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{" "}{.status.containerStatuses[*].imageID}{"\n"}{end}'`
    /// shows different digests per node, or a digest older than the registry's
    /// (`docker buildx imagetools inspect IMAGE`).
    ///
    /// ### Fix
    /// Deploy an immutable reference: a version tag per build (`:1.4.2`, `:git-3f2c1ab`) or
    /// a digest (`image@sha256:…`). If a moving tag is intended, use `imagePullPolicy:
    /// Always` (or leave the policy out).
    ///
    /// ### Prevention
    /// Tag every build uniquely in CI (git commit), and let the deploy tool write that tag
    /// into the manifests.
    ///
    /// ### Example
    /// Seed 000 (S0.9): `localhost:5001/agg-order-rs:latest` with `imagePullPolicy:
    /// IfNotPresent` on a kind node kept running `sha256:ade2…` after `sha256:e57b…` was
    /// pushed.
    pub static META = {
        id: "KS1206",
        name: "mutable-tag-if-not-present",
        cause: Cause::DevTagPolicy,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a container pulls a mutable tag (:latest or none) with imagePullPolicy IfNotPresent",
    }
}

pub struct MutableTagIfNotPresent;

impl Rule for MutableTagIfNotPresent {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        let artifacts: Vec<&str> =
            cx.ev.build.skaffold.iter().flat_map(|s| s.artifacts.iter().map(|a| a.image.as_str())).collect();
        for tpl in cx.pod_templates() {
            let doc = tpl.doc;
            for c in tpl.containers() {
                if c.value["imagePullPolicy"].as_str() != Some("IfNotPresent") {
                    continue;
                }
                let Some(image) = c.image() else { continue };
                let Some(name) = ImageName::parse(image) else { continue };
                if name.digest.is_some() || name.tag.as_deref().is_some_and(|t| t != "latest") {
                    continue;
                }
                if artifacts.iter().any(|a| crate::dev::image_matches(image, a)) {
                    continue;
                }
                let repo = image.split('@').next().unwrap_or(image);
                let repo = match repo.rsplit_once(':') {
                    Some((r, t)) if !t.contains('/') => r,
                    _ => repo,
                };
                let untagged = if name.tag.is_none() { " (no tag means :latest)" } else { "" };
                let mut f = doc_finding(
                    &META,
                    doc,
                    &c.field("image"),
                    format!(
                        "Container {} of {} pulls the mutable tag {image}{untagged} with imagePullPolicy: IfNotPresent",
                        c.name,
                        doc_name(doc)
                    ),
                    format!(
                        "{image} is a moving name, and imagePullPolicy: IfNotPresent makes every node that already has an image under it start that copy without asking the registry: after a new push, pods keep running (and `kubectl rollout restart` restarts) whatever each node cached."
                    ),
                );
                let policy = c.field("imagePullPolicy");
                let loc = doc.locate(&policy);
                f.evidence.push(ks_core::EvidenceItem::new(
                    ks_core::EvidenceSource::Manifest,
                    format!("{}:{}: imagePullPolicy: IfNotPresent", loc.file, loc.line),
                    Some(doc.object_ref()),
                ));
                f.fix.push(Fix::text(format!(
                    "In {}, set {} to an immutable reference: a tag built once (`{repo}:<version>`) or the digest (`{repo}@sha256:<digest>`)",
                    doc.file,
                    c.field("image")
                )));
                f.fix.push(Fix::cmd(
                    "The digest the tag names now",
                    format!("docker buildx imagetools inspect {image} --format '{{{{json .Manifest.Digest}}}}'"),
                ));
                f.fix.push(Fix::text(format!(
                    "or, if the tag is meant to move, pull it every time: `imagePullPolicy: Always` at {policy} (the default for :latest)"
                )));
                f.root_key = format!("KS1206:{}:{}", doc.key_string(), c.name);
                out.push(f);
            }
        }
    }
}
