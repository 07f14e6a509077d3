use ks_core::registry::PullPolicy;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::digests::{self, Group, short};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A tag that was pushed again (the registry names a new digest while pods run an older
    /// one) used in a way that keeps the old image running:
    /// - `imagePullPolicy: IfNotPresent` (the default for any tag but `latest`, and often set
    ///   explicitly on `:latest`): a node that has the tag cached never asks the registry, so
    ///   `kubectl rollout restart` starts the old image again;
    /// - a template that pins `app:tag@sha256:…`, as Skaffold's `sha256` tag policy and other
    ///   deploy tools write it: the pods run the pinned digest whatever the tag names.
    ///
    /// Needs registry facts (`kubesleuth images`, `scan --registries`).
    ///
    /// ### Why it breaks
    /// A tag is a movable name; nodes cache images by name. Rebuilding under the same tag and
    /// relying on restarts works on a fresh node and silently fails on every node that pulled
    /// the tag before, which is every node of a one-node dev cluster (kind, minikube).
    ///
    /// ### How to confirm
    /// The pod's `imageID` differs from the registry's digest for the tag even for pods started
    /// after the push; `crictl images --digests` on the node shows the cached digest.
    ///
    /// ### Fix
    /// Pin the workload to the new digest with the `kubectl set image ...@sha256:…` command
    /// below, or build with a unique tag per build (`TAG=dev-$(git rev-parse --short HEAD)`)
    /// and deploy that tag. `imagePullPolicy: Always` also works for a reused tag.
    ///
    /// ### Prevention
    /// Never reuse a tag for new code: tag builds by git commit (Skaffold `tagPolicy:
    /// gitCommit`), and let the deploy tool write that tag into the manifests.
    ///
    /// ### Example
    /// `localhost:5001/agg-order:v2` was rebuilt and pushed; the Deployment uses
    /// `imagePullPolicy: IfNotPresent`, the kind node had `v2` cached, and the pod created by
    /// `kubectl rollout restart` still runs `sha256:ade2…` instead of `sha256:e57b…`.
    pub static META = {
        id: "KS1304",
        name: "reused-tag-cached",
        cause: Cause::DevTagPolicy,
        severity: Severity::Warning,
        kind: RuleKind::Runtime,
        summary: "a reused image tag keeps an old image running: cached with IfNotPresent, or pinned by digest",
    }
}

pub struct ReusedTagCached;

impl Rule for ReusedTagCached {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.ev.registry.is_empty() {
            return;
        }
        let checked = digests::check(cx.ev);
        for g in digests::stale_groups(&checked) {
            out.extend(finding(cx, &g));
        }
    }
}

fn finding(cx: &Context<'_>, g: &Group<'_, '_>) -> Option<Finding> {
    let ev = cx.ev;
    let first = g.first_stale()?;
    let w = g.workload;
    let tag_digest = g.fact.digest.as_deref()?;
    let olds = g.stale_digests().iter().map(|d| short(d)).collect::<Vec<_>>().join(", ");
    let (title, root_cause) = if first.pinned_tag {
        let written = first.rc.image;
        (
            format!(
                "{w} pins {} to a digest, so pushes to the tag never reach it",
                written.split('@').next().unwrap_or(written)
            ),
            format!(
                "The pod template names {written}: a tag and a digest, as deploy tools such as Skaffold (tagPolicy sha256) write it. The runtime pulls the digest and ignores the tag, so kubectl rollout restart starts {olds} again and the image pushed since is never used: tag {} names {} now{}.",
                g.fact.tag,
                short(tag_digest),
                digests::built(g.fact)
            ),
        )
    } else if first.policy != PullPolicy::Always {
        let policy = first.policy.as_str();
        let mut text = format!(
            "Tag {} was pushed again and names {} now{}, but container {} pulls with imagePullPolicy {policy}: a node that has the tag cached starts its old copy without asking the registry, so {} still run{} {olds} and kubectl rollout restart will not help.",
            g.fact.tag,
            short(tag_digest),
            digests::built(g.fact),
            g.container,
            digests::stale_pod_names(ev, g),
            if g.stale().count() == 1 { "s" } else { "" },
        );
        if let Some(created) = g.fact.created {
            let late: Vec<&str> = g
                .stale()
                .filter(|c| c.rc.started.is_some_and(|s| s > created))
                .map(|c| util::pod_names(ev, c.rc.pod).1)
                .collect();
            if !late.is_empty() {
                text.push_str(&format!(
                    " {} started after the new image was built and still run{} the old one: the node's cache served it.",
                    util::join_names(&late),
                    if late.len() == 1 { "s" } else { "" }
                ));
            }
        }
        (format!("{w} reuses tag {} with imagePullPolicy {policy}: nodes keep the old image", first.rc.image), text)
    } else {
        return None;
    };
    let mut fixes: Vec<Fix> = digests::pin_command(first, tag_digest).into_iter().collect();
    if first.pinned_tag {
        fixes.push(Fix::text(
            "Or deploy again with the tool that pinned it (e.g. `skaffold run`), which writes the new digest",
        ));
    } else {
        fixes.push(Fix::text(format!(
            "Or build every change under a new tag and deploy that tag: docker build -t {repo}:dev-$(git rev-parse --short HEAD) . && docker push {repo}:dev-$(git rev-parse --short HEAD)",
            repo = first.spec_repository()
        )));
    }
    let mut f = util::finding(&META, w.clone(), title, root_cause);
    f.affected = g.stale().map(|c| c.pod_ref(ev)).collect();
    f.evidence.push(digests::spec_evidence(ev, first));
    f.evidence.extend(g.stale().take(2).map(|c| digests::status_evidence(ev, c)));
    f.evidence.push(digests::registry_evidence(ev, g.fact));
    f.fix = fixes;
    f.root_key = format!("{}:{}", Cause::DevTagPolicy.as_str(), g.tag_key);
    Some(f)
}
