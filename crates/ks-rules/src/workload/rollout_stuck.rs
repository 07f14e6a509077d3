use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::{pod_state, unready_since};
use crate::facts::pod_ref;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Rollouts that stopped progressing: a Deployment whose `Progressing` condition is
    /// `False` with reason `ProgressDeadlineExceeded` (`ReplicaSet "x" has timed out
    /// progressing.`), or a StatefulSet or DaemonSet whose pods have been unavailable for
    /// longer than a progress deadline (600 s, the Deployment default) by the snapshot's
    /// clock. A rollout still within its deadline is not reported. When the new pods have a
    /// concrete failure (image pull, crash, scheduling), that finding carries this one.
    ///
    /// ### Why it breaks
    /// The controller keeps old pods until new ones are Ready. New pods that never become
    /// Ready (crashing, unpullable, unschedulable, failing readiness) freeze the rollout
    /// half-way: the old version keeps serving, or nothing does.
    ///
    /// ### How to confirm
    /// `kubectl rollout status deployment/<name>` prints `exceeded its progress deadline`;
    /// `kubectl describe deployment` shows the Progressing condition and the new ReplicaSet;
    /// `kubectl get pods -l pod-template-hash=<hash>` shows the new pods.
    ///
    /// ### Fix
    /// Fix what keeps the new pods from becoming Ready (see their events and logs), or roll
    /// back with `kubectl rollout undo`.
    ///
    /// ### Prevention
    /// Gate deploys on `kubectl rollout status --timeout`, keep readiness probes honest,
    /// and roll back automatically when the deadline passes.
    ///
    /// ### Example
    /// `Progressing False ProgressDeadlineExceeded ReplicaSet "backend-7d9f8c6b5" has timed
    /// out progressing.` with 1 of 3 replicas updated.
    pub static META = {
        id: "KS0701",
        name: "rollout-stuck",
        cause: Cause::WorkloadRolloutStuck,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a Deployment, StatefulSet or DaemonSet rollout does not progress",
    }
}

pub struct RolloutStuck;

/// The Deployment default, used for StatefulSets and DaemonSets, which have no deadline.
const DEFAULT_DEADLINE: i64 = 600;

impl Rule for RolloutStuck {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        deployments(cx, out);
        pod_based(cx, out);
    }
}

fn workload_ref(kind: &str, ns: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef::new(kind, ns, name).with_api_version("apps/v1")
}

/// Pods of a workload that are not Ready, with when that started.
fn unavailable(cx: &Context<'_>, w: &ObjectRef) -> Vec<(usize, Option<jiff::Timestamp>)> {
    cx.ev
        .index
        .pods_by_workload
        .get(w)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| {
            let p = &cx.ev.pods[i];
            p.metadata.deletion_timestamp.is_none()
                && !matches!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
        })
        .filter_map(|i| {
            let pod = &cx.ev.pods[i];
            let ready = pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                .is_some_and(|c| c.status == "True");
            (!ready).then(|| (i, unready_since(pod)))
        })
        .collect()
}

fn pod_lines(cx: &Context<'_>, f: &mut Finding, pods: &[usize]) {
    for &i in pods.iter().take(4) {
        f.evidence.push(EvidenceItem::new(EvidenceSource::Status, pod_state(cx.ev, i), Some(pod_ref(&cx.ev.pods[i]))));
    }
    f.affected.extend(pods.iter().map(|&i| pod_ref(&cx.ev.pods[i])));
}

fn deployments(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let ev = cx.ev;
    for d in &ev.deployments {
        let ns = d.metadata.namespace.as_deref();
        let name = d.metadata.name.as_deref().unwrap_or_default();
        let spec = &d.spec;
        if spec.paused.unwrap_or(false) {
            continue;
        }
        let Some(status) = &d.status else { continue };
        let Some(cond) = status.conditions.iter().flatten().find(|c| c.type_.as_deref() == Some("Progressing")) else {
            continue;
        };
        if cond.status.as_deref() != Some("False") || cond.reason.as_deref() != Some("ProgressDeadlineExceeded") {
            continue;
        }
        let want = spec.replicas.unwrap_or(1);
        let updated = status.updated_replicas.unwrap_or(0);
        let available = status.available_replicas.unwrap_or(0);
        // A finished rollout whose condition has not been refreshed yet.
        if updated >= want && available >= want && status.unavailable_replicas.unwrap_or(0) == 0 {
            continue;
        }
        let w = workload_ref("Deployment", ns, name);
        let message = cond.message.clone().unwrap_or_default();
        let new_rs = message.split('"').nth(1).map(str::to_string).filter(|_| message.starts_with("ReplicaSet"));
        let deadline = spec.progress_deadline_seconds.unwrap_or(DEFAULT_DEADLINE as i32);
        let mut f = util::finding(&META, w.clone(), String::new(), String::new());
        f.root_key = format!("rollout:{}", w.qualified_name());
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Status,
            format!("Progressing=False ProgressDeadlineExceeded: {}", message.trim()),
            Some(w.clone()),
        ));
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Status,
            format!("replicas {want} wanted, {updated} updated, {available} available"),
            Some(w.clone()),
        ));
        // The new ReplicaSet's pods, and why they are not Ready.
        let new_pods: Vec<usize> = match &new_rs {
            Some(rs) => ev
                .index
                .pods_by_workload
                .get(&w)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&i| {
                    ev.pods[i]
                        .metadata
                        .owner_references
                        .iter()
                        .flatten()
                        .any(|o| o.kind == "ReplicaSet" && &o.name == rs)
                })
                .collect(),
            None => Vec::new(),
        };
        let stuck: Vec<usize> = unavailable(cx, &w)
            .into_iter()
            .map(|(i, _)| i)
            .filter(|i| new_pods.is_empty() || new_pods.contains(i))
            .collect();
        pod_lines(cx, &mut f, &stuck);
        let rs_text =
            new_rs.as_deref().map(|r| format!("ReplicaSet {r}")).unwrap_or_else(|| "the new ReplicaSet".to_string());
        let pods_text = if stuck.is_empty() {
            // No new pods at all: the ReplicaSet cannot create them.
            let failed = new_rs.as_deref().and_then(|rs| {
                ev.events_for("ReplicaSet", ns, rs).into_iter().rev().find(|e| e.reason == "FailedCreate").cloned()
            });
            match failed {
                Some(e) => {
                    f.evidence.push(EvidenceItem::new(
                        EvidenceSource::Event,
                        format!("{}{}", e.message, e.count_suffix()),
                        new_rs.as_deref().map(|r| ObjectRef::new("ReplicaSet", ns, r)),
                    ));
                    format!(" {rs_text} cannot create its pods: {}", e.message.trim())
                }
                None => format!(" {rs_text} has no Ready pods."),
            }
        } else {
            let states: Vec<String> =
                stuck.iter().take(3).map(|&i| format!("{} ({})", util::pod_names(ev, i).1, pod_state(ev, i))).collect();
            format!(" Its new pods are not Ready: {}.", states.join(", "))
        };
        f.title = format!("Rollout of Deployment {name} is stuck: {rs_text} made no progress in {deadline}s");
        f.root_cause = format!(
            "Deployment {name} wants {want} replicas of its new template; after its progress deadline of {deadline}s, {updated} of {want} run it and {available} are available.{pods_text}"
        );
        let flag = util::ns_flag(ns.unwrap_or_default());
        if let Some(rs) = &new_rs {
            f.fix.push(Fix::cmd(
                format!("See why {rs}'s pods are not Ready"),
                format!("kubectl {flag}describe rs {rs}"),
            ));
        }
        if let Some(&i) = stuck.first() {
            f.fix.push(util::describe_pod(ev, i));
        }
        f.fix.push(Fix::cmd(
            "Or roll back to the previous version while you fix it",
            format!("kubectl {flag}rollout undo deployment/{name}"),
        ));
        out.push(f);
    }
}

/// StatefulSets and DaemonSets: no progress condition, so time the unavailable pods.
fn pod_based(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let ev = cx.ev;
    let sets = ev
        .stateful_sets
        .iter()
        .map(|s| {
            let strategy = s.spec.update_strategy.as_ref().and_then(|u| u.type_.clone());
            let st = s.status.as_ref();
            let want = s.spec.replicas.unwrap_or(1);
            let text = st.map(|st| {
                let rev = match (&st.current_revision, &st.update_revision) {
                    (Some(c), Some(u)) if c != u => format!(", updating {c} -> {u}"),
                    _ => String::new(),
                };
                format!(
                    "replicas {want} wanted, {} ready, {} updated{rev}",
                    st.ready_replicas.unwrap_or(0),
                    st.updated_replicas.unwrap_or(0)
                )
            });
            ("StatefulSet", &s.metadata, strategy, text)
        })
        .chain(ev.daemon_sets.iter().map(|d| {
            let strategy = d.spec.update_strategy.as_ref().and_then(|u| u.type_.clone());
            let text = d.status.as_ref().map(|st| {
                format!(
                    "{} nodes should run it, {} ready, {} updated, {} unavailable",
                    st.desired_number_scheduled,
                    st.number_ready,
                    st.updated_number_scheduled.unwrap_or(0),
                    st.number_unavailable.unwrap_or(0)
                )
            });
            ("DaemonSet", &d.metadata, strategy, text)
        }));
    for (kind, meta, strategy, status_text) in sets {
        // OnDelete updates wait for a person on purpose.
        if strategy.as_deref() == Some("OnDelete") {
            continue;
        }
        let ns = meta.namespace.as_deref();
        let name = meta.name.as_deref().unwrap_or_default();
        let w = workload_ref(kind, ns, name);
        let pods = unavailable(cx, &w);
        let oldest = pods.iter().filter_map(|(_, t)| *t).min();
        let Some(stuck_for) = ev.age_secs(oldest) else { continue };
        if stuck_for <= DEFAULT_DEADLINE {
            continue;
        }
        let stuck: Vec<usize> = pods.iter().map(|(i, _)| *i).collect();
        let mut f = util::finding(&META, w.clone(), String::new(), String::new());
        f.root_key = format!("rollout:{}", w.qualified_name());
        if let Some(t) = status_text {
            f.evidence.push(EvidenceItem::new(EvidenceSource::Status, t, Some(w.clone())));
        }
        pod_lines(cx, &mut f, &stuck);
        let states: Vec<String> =
            stuck.iter().take(3).map(|&i| format!("{} ({})", util::pod_names(ev, i).1, pod_state(ev, i))).collect();
        f.title = format!("{kind} {name} has had unavailable pods for {} min", stuck_for / 60);
        f.root_cause = format!(
            "{} pod{} of {kind} {name} {} not been Ready for {} min, longer than the {}s a rollout may take: {}.{}",
            stuck.len(),
            if stuck.len() == 1 { "" } else { "s" },
            if stuck.len() == 1 { "has" } else { "have" },
            stuck_for / 60,
            DEFAULT_DEADLINE,
            states.join(", "),
            if kind == "StatefulSet" {
                " A StatefulSet updates pods in order, so the rest of the rollout waits for this one."
            } else {
                ""
            }
        );
        if let Some(&i) = stuck.first() {
            f.fix.push(util::describe_pod(ev, i));
        }
        f.fix.push(Fix::cmd(
            "Or roll back to the previous revision while you fix it",
            format!("kubectl {}rollout undo {}", w.ns_flag(), w.kubectl_ref()),
        ));
        out.push(f);
    }
}
