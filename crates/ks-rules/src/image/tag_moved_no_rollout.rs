use ks_core::registry::PullPolicy;
use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::digests::{self, Group, short};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A Deployment, StatefulSet or DaemonSet whose image tag was pushed again after its pods
    /// started, while its pod template still names that same tag and its last rollout is
    /// complete: applying the manifests again changes nothing, so no rollout happens and the
    /// pods keep the old image. With `imagePullPolicy: IfNotPresent` it is only reported when
    /// the registry says the new image was built after every stale pod started (otherwise a
    /// node cache, KS1304, explains it better). When some pods already run the new image,
    /// KS1302 reports the workload instead. Needs registry facts.
    ///
    /// ### Why it breaks
    /// Kubernetes rolls a workload out when its pod template changes. Pushing a new image
    /// under the tag the template already names changes nothing Kubernetes can see: `kubectl
    /// apply` reports `unchanged`, no ReplicaSet is created, and the running pods never pull.
    ///
    /// ### How to confirm
    /// `kubectl rollout history <kind>/<name>` shows no revision since the push; the pods'
    /// `imageID` differs from `crane digest <image>`.
    ///
    /// ### Fix
    /// Change the template so it names the new image: `kubectl set image <kind>/<name>
    /// <container>=<repo>@sha256:<digest>` (a rollout starts and the digest is recorded). With
    /// `imagePullPolicy: Always`, `kubectl rollout restart` also pulls the new image, but the
    /// template still does not say which build runs.
    ///
    /// ### Prevention
    /// Tag every build uniquely and write that tag (or the digest) into the manifests, e.g.
    /// Kustomize `images: [{name: app, newTag: <git-sha>}]`, so that applying them changes the
    /// template.
    ///
    /// ### Example
    /// `deployment/backend` names `registry.example.com/backend:prod`; the tag was pushed at
    /// 09:30, the pods started at 08:00 and run the previous digest; `kubectl apply -k` said
    /// `deployment.apps/backend unchanged`.
    pub static META = {
        id: "KS1303",
        name: "tag-moved-without-rollout",
        cause: Cause::WorkloadUpdateNotApplied,
        severity: Severity::Warning,
        kind: RuleKind::Runtime,
        summary: "an image tag moved but the workload's template did not change, so no rollout happened",
    }
}

pub struct TagMovedWithoutRollout;

impl Rule for TagMovedWithoutRollout {
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

/// Whether the workload's last rollout is complete, with the evidence line saying so.
fn rolled_out(cx: &Context<'_>, w: &ObjectRef) -> Option<String> {
    let ev = cx.ev;
    let key = (w.namespace.clone().unwrap_or_default(), w.name.clone());
    let gen_ok = |generation: Option<i64>, observed: Option<i64>| match (generation, observed) {
        (Some(g), Some(o)) => o >= g,
        _ => true,
    };
    match w.kind.as_str() {
        "Deployment" => {
            let d = &ev.deployments[*ev.index.deployments.get(&key)?];
            let s = d.status.as_ref()?;
            let (generation, observed) = (d.metadata.generation, s.observed_generation);
            let done = gen_ok(generation, observed) && s.updated_replicas.unwrap_or(0) == s.replicas.unwrap_or(0);
            done.then(|| {
                format!(
                    "generation {}, observedGeneration {}, {} of {} replicas updated: no rollout in progress",
                    generation.unwrap_or(0),
                    observed.unwrap_or(0),
                    s.updated_replicas.unwrap_or(0),
                    s.replicas.unwrap_or(0)
                )
            })
        }
        "StatefulSet" => {
            let o = &ev.stateful_sets[*ev.index.stateful_sets.get(&key)?];
            let s = o.status.as_ref()?;
            let same = s.current_revision.is_some() && s.current_revision == s.update_revision;
            (same && gen_ok(o.metadata.generation, s.observed_generation)).then(|| {
                format!(
                    "currentRevision = updateRevision = {}: no rollout in progress",
                    s.current_revision.as_deref().unwrap_or("")
                )
            })
        }
        "DaemonSet" => {
            let o = &ev.daemon_sets[*ev.index.daemon_sets.get(&key)?];
            let s = o.status.as_ref()?;
            let done = gen_ok(o.metadata.generation, s.observed_generation)
                && s.updated_number_scheduled.unwrap_or(0) == s.desired_number_scheduled;
            done.then(|| {
                format!(
                    "{} of {} pods updated: no rollout in progress",
                    s.updated_number_scheduled.unwrap_or(0),
                    s.desired_number_scheduled
                )
            })
        }
        _ => None,
    }
}

fn finding(cx: &Context<'_>, g: &Group<'_, '_>) -> Option<Finding> {
    let ev = cx.ev;
    let first = g.first_stale()?;
    let w = g.workload;
    // Pinned templates are KS1304's story; when some pods already run the new image, KS1302's.
    if first.pinned_tag || g.current().next().is_some() {
        return None;
    }
    // The template must still name the tag the pods run: then applying it again is a no-op.
    let (spec, _) = util::pod_template(ev, w)?;
    let template_image = spec.containers.iter().find(|c| c.name == g.container)?.image.as_deref()?;
    if template_image != first.rc.image {
        return None;
    }
    let rollout = rolled_out(cx, w)?;
    let before_push = digests::all_started_before_push(g);
    match first.policy {
        PullPolicy::Always => {}
        _ if before_push == Some(true) => {}
        _ => return None,
    }
    let tag_digest = g.fact.digest.as_deref()?;
    let old = g.stale_digests();
    let olds = old.iter().map(|d| short(d)).collect::<Vec<_>>().join(", ");
    let n = g.stale().count();
    let title = format!("{w} was not rolled out after {} was pushed again", template_image);
    let when = match before_push {
        Some(true) => format!(
            " after its pods started (the new image was built {})",
            g.fact.created.map(|c| c.to_string()).unwrap_or_default()
        ),
        _ => " after its pods started".to_string(),
    };
    let mut root_cause = format!(
        "Tag {} now names {}, pushed{when}, but the pod template of {} still names {template_image}: applying the manifests again changes nothing, so no rollout happened and {} still run{} {olds}.",
        g.fact.tag,
        short(tag_digest),
        w.kubectl_ref(),
        if n == 1 { "its pod".to_string() } else { format!("{n} pods") },
        if n == 1 { "s" } else { "" },
    );
    let mut fixes: Vec<Fix> = digests::pin_command(first, tag_digest).into_iter().collect();
    if first.policy == PullPolicy::Always {
        if let Some(f) = util::restart_workload(w) {
            fixes.push(Fix::cmd(
                "Or restart it: imagePullPolicy Always pulls the tag again (the template still does not record which build runs)",
                f.command.unwrap_or_default(),
            ));
        }
    } else {
        root_cause.push_str(&format!(
            " With imagePullPolicy {} a rollout restart would not help either: nodes start the cached old image.",
            first.policy.as_str()
        ));
    }
    fixes.push(Fix::text(format!(
        "In the manifests, name each build by a unique tag or digest (Kustomize: images: [{{name: {}, newTag: <git-sha>}}]) so that applying them changes the template",
        first.spec_repository()
    )));
    let mut f = util::finding(&META, w.clone(), title, root_cause);
    f.affected = g.stale().map(|c| c.pod_ref(ev)).collect();
    f.evidence.push(EvidenceItem::new(
        EvidenceSource::Spec,
        format!("{} template: container {} image {template_image}; {rollout}", w.kubectl_ref(), g.container),
        Some(w.clone()),
    ));
    f.evidence.extend(g.stale().take(2).map(|c| digests::status_evidence(ev, c)));
    f.evidence.push(digests::registry_evidence(ev, g.fact));
    f.fix = fixes;
    f.root_key = format!("{}:{}", Cause::WorkloadUpdateNotApplied.as_str(), g.tag_key);
    Some(f)
}
