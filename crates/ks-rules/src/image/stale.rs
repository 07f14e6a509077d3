use ks_core::registry::PullPolicy;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::digests::{self, Group, short};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Workloads whose running pods all run an older image than their tag names in the
    /// registry now: the container's `imageID` digest is neither the tag's digest nor, for a
    /// multi-platform tag, one of its platform manifests. Also a pod template that pins
    /// `app:tag@sha256:…` while the tag has moved on. Needs registry facts: `kubesleuth images`,
    /// `kubesleuth scan --registries`, or a recorded `RegistryFacts` document in the snapshot.
    ///
    /// ### Why it breaks
    /// Nothing fails: the new build was pushed, but the pods were started before the push and
    /// nothing made them pull again, or the node had the tag cached (`IfNotPresent`), or a
    /// deploy tool wrote a digest into the template. The old code keeps serving while
    /// everyone believes the fix is deployed.
    ///
    /// ### How to confirm
    /// Compare `kubectl get pod <pod> -o jsonpath='{.status.containerStatuses[*].imageID}'`
    /// with the registry: `crane digest <image>` or `curl -sI -H 'Accept:
    /// application/vnd.oci.image.index.v1+json' https://<host>/v2/<repo>/manifests/<tag>`
    /// (header `Docker-Content-Digest`).
    ///
    /// ### Fix
    /// Pin the workload to the digest the tag names now with `kubectl set image
    /// <kind>/<name> <container>=<repo>@sha256:<digest>`; with `imagePullPolicy: Always` a
    /// `kubectl rollout restart` also pulls the new image.
    ///
    /// ### Prevention
    /// Give every build its own tag (git SHA, build number) and deploy that tag, or deploy by
    /// digest; never reuse a tag for new code.
    ///
    /// ### Example
    /// Pod `api-7c9d-x2` runs `127.0.0.1:5000/shop/api@sha256:1b2c…` while
    /// `127.0.0.1:5000/shop/api:latest` names `sha256:9f8e…` (built after the pod started).
    pub static META = {
        id: "KS1301",
        name: "image-stale",
        cause: Cause::ImageStale,
        severity: Severity::Warning,
        kind: RuleKind::Runtime,
        summary: "pods run an older digest than their image tag names in the registry now",
    }
}

pub struct ImageStale;

impl Rule for ImageStale {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.ev.registry.is_empty() {
            return;
        }
        let checked = digests::check(cx.ev);
        for g in digests::stale_groups(&checked) {
            // Some pods already run the current digest: KS1302 tells that story.
            if g.current().next().is_some() {
                continue;
            }
            out.extend(stale_finding(cx, &g));
        }
    }
}

fn stale_finding(cx: &Context<'_>, g: &Group<'_, '_>) -> Option<Finding> {
    let ev = cx.ev;
    let first = g.first_stale()?;
    let w = g.workload;
    let now = first.registry_digest().or(g.fact.digest.as_deref()).unwrap_or("?");
    let tag_digest = g.fact.digest.as_deref().unwrap_or(now);
    let olds = g.stale_digests();
    let old = olds.first().copied().unwrap_or("?");
    let n = g.stale().count();
    let pods = if n == 1 { "its pod runs".to_string() } else { format!("all {n} pods run") };
    let runs = if olds.len() > 1 {
        format!(
            "{} different older digests ({})",
            olds.len(),
            olds.iter().map(|d| short(d)).collect::<Vec<_>>().join(", ")
        )
    } else {
        short(old)
    };
    let (title, mut root_cause) = if first.pinned_tag {
        (
            format!("{w} pins an older digest of {} than the tag names now", tag_of(first.rc.image)),
            format!(
                "The pod template pins {} to {}, but tag {} in the registry names {} now{}: the pods run the pinned digest, and pushes to the tag never reach them.",
                first.rc.image.split('@').next().unwrap_or(first.rc.image),
                short(old),
                g.fact.tag,
                short(tag_digest),
                digests::built(g.fact)
            ),
        )
    } else {
        (
            format!("{w} runs an older image than {} names now", first.rc.image),
            format!(
                "Container {} of {} uses tag {} of {}/{}, which names {} in the registry now{}, but {pods} {runs}.",
                g.container,
                w.kubectl_ref(),
                g.fact.tag,
                g.fact.host,
                g.fact.repository,
                short(tag_digest),
                digests::built(g.fact),
            ),
        )
    };
    let mut fixes = Vec::new();
    match (first.pinned_tag, first.policy) {
        (false, PullPolicy::Always) => {
            root_cause.push_str(" The pods were started before the tag moved and nothing has restarted them since; with imagePullPolicy Always a restart pulls the new image.");
            if let Some(f) = util::restart_workload(w) {
                fixes.push(Fix::cmd("Restart the pods: imagePullPolicy Always pulls the tag again", f.command.unwrap_or_default()));
            }
        }
        (false, _) => root_cause.push_str(&format!(
            " With imagePullPolicy {} a node that has the tag cached keeps starting the old image, so a restart is not enough.",
            first.policy.as_str()
        )),
        (true, _) => {}
    }
    fixes.extend(digests::pin_command(first, tag_digest));
    if fixes.is_empty() {
        fixes.push(Fix::text(format!(
            "{} cannot change its pod template: set the image to {}@{tag_digest} in its manifest and create it again",
            w,
            first.spec_repository()
        )));
    }
    let (ns, pod) = util::pod_names(ev, first.rc.pod);
    fixes.push(Fix::cmd(
        "Check which digest the pods run afterwards",
        format!(
            "kubectl {}get pod {pod} -o jsonpath='{{.status.containerStatuses[?(@.name==\"{}\")].imageID}}'",
            util::ns_flag(ns),
            g.container
        ),
    ));
    let mut f = util::finding(&META, w.clone(), title, root_cause);
    f.affected = g.stale().map(|c| c.pod_ref(ev)).collect();
    f.evidence.extend(g.stale().take(3).map(|c| digests::status_evidence(ev, c)));
    f.evidence.push(digests::registry_evidence(ev, g.fact));
    f.evidence.push(digests::spec_evidence(ev, first));
    f.fix = fixes;
    f.root_key = format!("{}:{}", Cause::ImageStale.as_str(), g.tag_key);
    Some(f)
}

/// `repo:tag` of a `repo:tag@digest` reference.
fn tag_of(image: &str) -> &str {
    image.split('@').next().unwrap_or(image)
}
