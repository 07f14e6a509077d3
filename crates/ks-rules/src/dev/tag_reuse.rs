use ks_core::build::{SkaffoldConfig, TagPolicy, TagPolicyKind};
use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{WorkloadContainer, image_matches, quote_skaffold, skaffold_ref, workload_containers};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A Skaffold `build.tagPolicy` that gives every build the same tag — `sha256` (which
    /// tags `latest`), an `envTemplate` or `customTemplate` without any template field — for
    /// an image that a workload in the same lint run pulls with `imagePullPolicy:
    /// IfNotPresent` (or `Never`) by tag rather than by digest.
    ///
    /// ### Why it breaks
    /// Skaffold itself deploys `image:tag@sha256:...`, but anything that applies the
    /// manifests as written (`kubectl apply`, Helm, Argo CD, a rollout restart of what is
    /// running, a manual `podman build` + push) asks for the reused tag. A node that already
    /// has an image under that tag uses it without asking the registry, so pods keep running
    /// the old build after every push; a kind node's containerd cache does the same.
    ///
    /// ### How to confirm
    /// `kubectl get pod <pod> -o jsonpath='{.status.containerStatuses[*].imageID}'` differs
    /// from the digest the registry now has for the tag (`crane digest <image>:<tag>` or
    /// `curl -s -H 'Accept: application/vnd.oci.image.index.v1+json'
    /// http://localhost:5001/v2/<repo>/manifests/<tag>`).
    ///
    /// ### Fix
    /// Use a tag policy that changes with the content: `gitCommit` (optionally with a
    /// `prefix: dev-`) or `inputDigest`; where a tag must be reused, pull it with
    /// `imagePullPolicy: Always`.
    ///
    /// ### Prevention
    /// Never deploy a reused tag with `IfNotPresent`; let the deploy tool write digests into
    /// the manifests, and deploy through one tool.
    ///
    /// ### Example
    /// `tagPolicy: {sha256: {}}` for `localhost:5001/angzarr-topology` while the Deployment
    /// has `image: localhost:5001/angzarr-topology:latest` and `imagePullPolicy: IfNotPresent`.
    pub static META = {
        id: "KS1505",
        name: "skaffold-tag-reused",
        cause: Cause::DevTagPolicy,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a Skaffold tag policy reuses one tag for an image that is pulled with IfNotPresent",
    }
}

pub struct SkaffoldTagReused;

/// Why the policy gives every build the same tag, if it does.
fn reuses(p: &TagPolicy) -> Option<String> {
    let has_field = |t: &str| t.contains("{{");
    match &p.kind {
        TagPolicyKind::Sha256 => Some("the sha256 tagger tags every build `latest`".to_string()),
        TagPolicyKind::EnvTemplate => match &p.template {
            Some(t) if !has_field(t) => {
                Some(format!("envTemplate `{t}` has no template field, so every build is `{t}`"))
            }
            _ => None,
        },
        TagPolicyKind::CustomTemplate => match &p.template {
            Some(t) if !has_field(t) => {
                Some(format!("customTemplate `{t}` has no template field, so every build is `{t}`"))
            }
            Some(t) if !p.components.is_empty() && p.components.iter().all(|(_, k)| *k == TagPolicyKind::Sha256) => {
                Some(format!("customTemplate `{t}` only uses sha256 components, which are `latest`"))
            }
            _ => None,
        },
        _ => None,
    }
}

impl Rule for SkaffoldTagReused {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let containers = workload_containers(cx.ev);
        for c in &cx.ev.build.skaffold {
            let Some(policy) = &c.tag_policy else { continue };
            let Some(why) = reuses(policy) else { continue };
            for a in &c.artifacts {
                let hits: Vec<&WorkloadContainer<'_>> = containers
                    .iter()
                    .filter(|w| {
                        let image = w.container.image.as_deref().unwrap_or_default();
                        let policy = w.container.image_pull_policy.as_deref();
                        image_matches(image, &a.image)
                            && !image.contains('@')
                            && matches!(policy, Some("IfNotPresent") | Some("Never"))
                    })
                    .collect();
                if !hits.is_empty() {
                    out.push(finding(c, policy, &why, &a.image, &hits));
                }
            }
        }
    }
}

fn finding(c: &SkaffoldConfig, p: &TagPolicy, why: &str, image: &str, hits: &[&WorkloadContainer<'_>]) -> Finding {
    let names: Vec<String> = hits.iter().map(|w| w.workload.qualified_name()).collect();
    let mut f = util::finding(
        &META,
        skaffold_ref(c),
        format!("tag policy {} reuses one tag for {image}, pulled with IfNotPresent", p.kind.as_str()),
        format!(
            "In {}, {why}. {} pull{} {image} by that tag with imagePullPolicy {}, so a node that has the tag \
             cached keeps running the old build after every push.",
            c.label(),
            util::join_names(&names),
            if hits.len() == 1 { "s" } else { "" },
            hits[0].container.image_pull_policy.as_deref().unwrap_or("IfNotPresent"),
        ),
    );
    f.location = Some(c.location(p.pos));
    f.affected = hits.iter().map(|w| w.workload.clone()).collect();
    f.evidence.push(quote_skaffold(c, p.pos.line, format!("build.tagPolicy: {}", p.kind.as_str())));
    for w in hits {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!(
                "container {} image {} imagePullPolicy {}",
                w.container.name,
                w.container.image.as_deref().unwrap_or_default(),
                w.container.image_pull_policy.as_deref().unwrap_or_default()
            ),
            Some(w.workload.clone()),
        ));
    }
    f.fix.push(Fix::cmd(
        format!("Tag each build by its commit in {} (replace the {} tagger)", c.path, p.kind.as_str()),
        "tagPolicy: {gitCommit: {prefix: dev-}}",
    ));
    for w in hits {
        f.fix.push(Fix::cmd(
            format!("Or pull the reused tag on every start: {} container {}", w.workload, w.container.name),
            format!(
                "kubectl {}patch {} --type strategic -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"containers\":[{{\"name\":\"{}\",\"imagePullPolicy\":\"Always\"}}]}}}}}}}}'",
                w.workload.ns_flag(),
                w.workload.kubectl_ref(),
                w.container.name
            ),
        ));
    }
    f.root_key = format!("tag-reuse:{}:{image}", c.path);
    f
}
