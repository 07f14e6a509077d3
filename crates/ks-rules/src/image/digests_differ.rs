use ks_core::registry::PullPolicy;
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::digests::{self, Group, short};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Pods of one workload that run different images for the same tag: some run the digest
    /// the tag names in the registry now, others an older one. Platform manifests of one
    /// multi-platform index count as the same image, so an amd64 and an arm64 node running
    /// their own builds of one tag are not reported. Needs registry facts (`kubesleuth images`,
    /// `scan --registries`).
    ///
    /// ### Why it breaks
    /// The tag was pushed again while the workload ran. Pods started since then pulled the new
    /// image; the others keep the old one, and with `imagePullPolicy: IfNotPresent` a node
    /// that has the old image cached starts it again for every new pod it gets. Requests land
    /// on two versions of the code at random.
    ///
    /// ### How to confirm
    /// `kubectl get pods -l <selector> -o
    /// custom-columns=POD:.metadata.name,NODE:.spec.nodeName,IMAGE:.status.containerStatuses[*].imageID`
    /// shows the digests side by side, and which nodes hold the old one.
    ///
    /// ### Fix
    /// Pin the workload to the digest the tag names now (`kubectl set image ...@sha256:…`):
    /// every pod is replaced and runs the same image. Deleting the old pods only helps with
    /// `imagePullPolicy: Always`.
    ///
    /// ### Prevention
    /// Deploy unique tags or digests; a tag that is rebuilt in place is cached per node.
    ///
    /// ### Example
    /// `shop/api` has 3 pods: `api-1` and `api-2` run `sha256:9f8e…` (what `:v2` names now),
    /// `api-3` on node `worker-2` runs `sha256:1b2c…`.
    pub static META = {
        id: "KS1302",
        name: "image-digests-differ",
        cause: Cause::ImageStale,
        severity: Severity::Warning,
        kind: RuleKind::Runtime,
        summary: "pods of one workload run different digests for the same image tag",
    }
}

pub struct ImageDigestsDiffer;

impl Rule for ImageDigestsDiffer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.ev.registry.is_empty() {
            return;
        }
        let checked = digests::check(cx.ev);
        for g in digests::stale_groups(&checked) {
            if g.current().next().is_none() {
                continue;
            }
            out.extend(finding(cx, &g));
        }
    }
}

fn finding(cx: &Context<'_>, g: &Group<'_, '_>) -> Option<Finding> {
    let ev = cx.ev;
    let first = g.first_stale()?;
    let w = g.workload;
    let tag_digest = g.fact.digest.as_deref()?;
    let stale = g.stale().count();
    let total = g.members.len();
    let old = g.stale_digests();
    let old_text = old.iter().map(|d| short(d)).collect::<Vec<_>>().join(", ");
    let mut nodes: Vec<&str> =
        g.stale().filter_map(|c| ev.pods[c.rc.pod].spec.as_ref()?.node_name.as_deref()).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let on_nodes = if nodes.is_empty() {
        String::new()
    } else {
        format!(" on node{} {}", if nodes.len() == 1 { "" } else { "s" }, util::join_names(&nodes))
    };
    let title = format!(
        "Pods of {w} run different images for {}: {stale} of {total} {} an older digest",
        first.rc.image,
        if stale == 1 { "runs" } else { "run" }
    );
    let mut root_cause = format!(
        "Tag {} of {}/{} names {} now{}; {} run{} it, but {}{on_nodes} run{} {old_text}.",
        g.fact.tag,
        g.fact.host,
        g.fact.repository,
        short(tag_digest),
        digests::built(g.fact),
        plural(total - stale, "pod"),
        if total - stale == 1 { "s" } else { "" },
        digests::stale_pod_names(ev, g),
        if stale == 1 { "s" } else { "" },
    );
    let mut fixes: Vec<Fix> = digests::pin_command(first, tag_digest).into_iter().collect();
    if first.policy == PullPolicy::Always && !first.pinned_tag {
        root_cause.push_str(" The tag was pushed again after those pods started.");
        let names: Vec<&str> = g.stale().map(|c| util::pod_names(ev, c.rc.pod).1).collect();
        let (ns, _) = util::pod_names(ev, first.rc.pod);
        fixes.push(Fix::cmd(
            "Or delete the old pods: imagePullPolicy Always makes their replacements pull the tag again",
            format!("kubectl {}delete pod {}", util::ns_flag(ns), names.join(" ")),
        ));
    } else {
        root_cause.push_str(&format!(
            " With imagePullPolicy {} the node{} keep{} starting the cached old image for this tag; deleting the pods does not help.",
            first.policy.as_str(),
            if nodes.len() == 1 { "" } else { "s" },
            if nodes.len() == 1 { "s" } else { "" },
        ));
    }
    if fixes.is_empty() {
        fixes.push(Fix::text(format!(
            "Set the image to {}@{tag_digest} in {w}'s manifest and create it again",
            first.spec_repository()
        )));
    }
    let mut f = util::finding(&META, w.clone(), title, root_cause);
    f.affected = g.stale().map(|c| c.pod_ref(ev)).collect();
    f.evidence.extend(g.stale().take(3).map(|c| digests::status_evidence(ev, c)));
    f.evidence.extend(g.current().take(1).map(|c| digests::status_evidence(ev, c)));
    f.evidence.push(digests::registry_evidence(ev, g.fact));
    f.fix = fixes;
    f.root_key = format!("{}:{}", Cause::ImageStale.as_str(), g.tag_key);
    Some(f)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}
