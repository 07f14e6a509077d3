//! Admission: the API server refuses the pods a controller tries to create. Controllers say so
//! in `FailedCreate` events (`Error creating: %v`) and in the `ReplicaFailure` condition that
//! the ReplicaSet controller sets and the Deployment copies. [`create_failures`] collects the
//! current ones once per rule pass; each rule here words one cause and reports it through the
//! workload the user manages, never the ReplicaSet.

pub mod injectors;
pub mod limit_range;
pub mod pod_security;
pub mod quota;
pub mod sidecar_injection;
pub mod webhook;

#[cfg(test)]
mod pasted;

use std::collections::BTreeMap;

use jiff::Timestamp;
use ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use ks_core::{EventRecord, Evidence, EvidenceItem, EvidenceSource, ObjectRef};

use crate::signatures::{self, Signature};
use crate::{Context, Rule};

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[
    &pod_security::PodSecurityRejected,
    &quota::QuotaExceeded,
    &limit_range::LimitRangeRejected,
    &webhook::AdmissionWebhookFailed,
    &sidecar_injection::SidecarInjectionFailed,
];

/// A `FailedCreate` counts as current when it was last seen this recently (seconds before the
/// snapshot's now). Events live an hour by default, so older ones are history.
pub const RECENT_SECS: i64 = 60 * 60;

/// A pod create the API server refused, and is still refusing.
#[derive(Clone, Debug)]
pub struct CreateFailure {
    /// What the user manages: the Deployment of a ReplicaSet, the CronJob of a Job.
    pub workload: ObjectRef,
    /// The object whose controller failed (the ReplicaSet, StatefulSet, Job...).
    pub source: ObjectRef,
    pub sig: &'static Signature,
    /// The API error without the controller's and the API server's wrappers.
    pub reason: String,
    /// Named captures of the signature.
    pub details: BTreeMap<String, String>,
    /// Quoted events, conditions and replica counts.
    pub evidence: Vec<EvidenceItem>,
    /// `(have, want)` pods when the workload's status was collected.
    pub replicas: Option<(i64, i64)>,
}

impl CreateFailure {
    /// A named capture, or "".
    pub fn get(&self, name: &str) -> &str {
        self.details.get(name).map(String::as_str).unwrap_or_default()
    }

    /// The workload's namespace.
    pub fn ns(&self) -> &str {
        self.workload.namespace.as_deref().unwrap_or_default()
    }

    /// `Deployment shop/web`.
    pub fn workload_name(&self) -> String {
        format!("{} {}", self.workload.kind, self.workload.qualified_name())
    }
}

/// The named captures of a match, alternative spellings (`x2`) folded into `x`.
pub(crate) fn captures(sig: &Signature, caps: &regex::Captures<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = sig.pattern;
    while let Some(p) = rest.find("(?P<") {
        rest = &rest[p + 4..];
        let Some(end) = rest.find('>') else { break };
        let name = &rest[..end];
        rest = &rest[end..];
        if let Some(v) = caps.name(name) {
            let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
            out.entry(base.to_string()).or_insert_with(|| v.as_str().trim().to_string());
        }
    }
    out
}

/// The API error inside a controller's message: drops `(combined from similar events): `,
/// `Error creating: `, the StatefulSet's `create Pod x in StatefulSet y failed error: `, and
/// the API server's `pods "x" is forbidden: ` / `Internal error occurred: ` wrappers.
pub fn api_error(message: &str) -> &str {
    let mut m = message.trim();
    m = m.strip_prefix("(combined from similar events): ").unwrap_or(m);
    m = m.strip_prefix("Error creating: ").unwrap_or(m);
    if m.starts_with("create Pod ")
        && let Some(i) = m.find(" failed error: ")
    {
        m = &m[i + " failed error: ".len()..];
    }
    if (m.starts_with("pods ") || m.starts_with("pod "))
        && let Some(i) = m.find(" is forbidden: ")
    {
        m = &m[i + " is forbidden: ".len()..];
    }
    m = m.strip_prefix("Internal error occurred: ").unwrap_or(m);
    m.trim()
}

/// Every current pod-creation refusal the admission table recognises, one per workload,
/// signature and API error. Collected on first use and shared by every rule of the scan.
pub fn create_failures<'c>(cx: &'c Context<'_>) -> &'c [CreateFailure] {
    cx.create_failures.get_or_init(|| collect_create_failures(cx.ev))
}

/// Record one refusal with its first piece of evidence and the workload's replica state.
fn record(
    out: &mut Vec<CreateFailure>,
    (workload, state): (ObjectRef, Replicas),
    source: ObjectRef,
    m: &signatures::Match<'_>,
    reason: &str,
    first: EvidenceItem,
) {
    let mut evidence = vec![first];
    if let Replicas::Known { text, obj, .. } = &state {
        evidence.push(EvidenceItem::new(EvidenceSource::Status, text.clone(), Some(obj.clone())));
    }
    push(
        out,
        CreateFailure {
            workload,
            source,
            sig: m.sig,
            details: captures(m.sig, &m.caps),
            reason: reason.to_string(),
            evidence,
            replicas: state.counts(),
        },
    );
}

fn collect_create_failures(ev: &Evidence) -> Vec<CreateFailure> {
    let mut out: Vec<CreateFailure> = Vec::new();
    // 1. FailedCreate events on controllers, newest per object and message.
    let mut newest: BTreeMap<(ObjectRef, String), &EventRecord> = BTreeMap::new();
    for e in &ev.events {
        if e.reason != "FailedCreate" || !CONTROLLERS.contains(&e.involved.kind.as_str()) {
            continue;
        }
        let ns = e.involved.namespace.as_deref().or(e.namespace.as_deref());
        let source = ObjectRef::new(&e.involved.kind, ns, &e.involved.name);
        let key = (source, api_error(&e.message).to_string());
        match newest.get(&key) {
            Some(old) if old.last >= e.last => {}
            _ => {
                newest.insert(key, e);
            }
        }
    }
    for ((source, reason), e) in newest {
        let Some(m) = signatures::admission::MATCHER.first(&reason) else { continue };
        // Only a current failure: recent, not followed by a successful create, and the
        // workload still short of pods.
        if ev.age_secs(e.last).is_some_and(|a| a > RECENT_SECS) {
            continue;
        }
        if superseded(ev, &source, e.last) {
            continue;
        }
        let (workload, state) = owner(ev, &source);
        if matches!(state, Replicas::Known { lacking: false, .. }) {
            continue;
        }
        let first = EvidenceItem::new(
            EvidenceSource::Event,
            format!("{}{}", e.message.trim(), e.count_suffix()),
            Some(source.clone()),
        );
        record(&mut out, (workload, state), source, &m, &reason, first);
    }
    // 2. ReplicaFailure conditions: set while creation fails, removed once it succeeds.
    let mut conds: Vec<Cond<'_>> = Vec::new();
    for d in &ev.deployments {
        for c in d.status.as_ref().and_then(|s| s.conditions.as_ref()).into_iter().flatten() {
            conds.push(("Deployment", &d.metadata, c.type_.as_deref(), c.status.as_deref(), c.message.as_deref()));
        }
    }
    for rs in &ev.replica_sets {
        for c in rs.status.as_ref().and_then(|s| s.conditions.as_ref()).into_iter().flatten() {
            conds.push(("ReplicaSet", &rs.metadata, c.type_.as_deref(), c.status.as_deref(), c.message.as_deref()));
        }
    }
    for (kind, meta, type_, status, message) in conds {
        {
            if type_ != Some("ReplicaFailure") || status != Some("True") {
                continue;
            }
            let Some(message) = message else { continue };
            let reason = api_error(message).to_string();
            let Some(m) = signatures::admission::MATCHER.first(&reason) else { continue };
            let source = object_ref(kind, meta);
            let (workload, state) = owner(ev, &source);
            if matches!(state, Replicas::Known { lacking: false, .. }) {
                continue;
            }
            let first = EvidenceItem::new(
                EvidenceSource::Status,
                format!("condition ReplicaFailure: {}", message.trim()),
                Some(source.clone()),
            );
            record(&mut out, (workload, state), source, &m, &reason, first);
        }
    }
    out
}

/// `(kind, metadata, type, status, message)` of a workload condition.
type Cond<'a> = (&'static str, &'a ObjectMeta, Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// Controllers whose `FailedCreate` events carry the API server's refusal.
const CONTROLLERS: &[&str] = &["ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"];

/// Merge a failure into one already seen for the same workload and API error (the old and
/// the new ReplicaSet of one Deployment, or an event and the condition that copies it).
fn push(out: &mut Vec<CreateFailure>, f: CreateFailure) {
    let same = out.iter_mut().find(|o| o.workload == f.workload && o.sig.id == f.sig.id && same_error(o, &f));
    match same {
        Some(o) => {
            let has_event = o.evidence.iter().any(|x| x.source == EvidenceSource::Event);
            for e in f.evidence {
                // The condition repeats the event's message; the event has the count.
                let repeat = has_event && e.text.starts_with("condition ReplicaFailure: ");
                if !repeat && !o.evidence.iter().any(|x| x.text == e.text) {
                    o.evidence.push(e);
                }
            }
            if o.replicas.is_none() {
                o.replicas = f.replicas;
            }
        }
        None => out.push(f),
    }
}

fn same_error(a: &CreateFailure, b: &CreateFailure) -> bool {
    // Pod names differ between attempts; the captures are what the rules print.
    a.details.iter().filter(|(k, _)| k.as_str() != "pod").eq(b.details.iter().filter(|(k, _)| k.as_str() != "pod"))
}

fn object_ref(kind: &str, meta: &ObjectMeta) -> ObjectRef {
    ObjectRef::new(kind, meta.namespace.as_deref(), meta.name.as_deref().unwrap_or_default())
}

/// Whether a `SuccessfulCreate` on the same object came after the failure.
fn superseded(ev: &Evidence, source: &ObjectRef, failed_at: Option<Timestamp>) -> bool {
    let Some(failed_at) = failed_at else { return false };
    ev.events_for(&source.kind, source.namespace.as_deref(), &source.name)
        .iter()
        .any(|e| e.reason == "SuccessfulCreate" && e.last.is_some_and(|t| t > failed_at))
}

/// What the workload's status says about its pods.
enum Replicas {
    Unknown,
    Known { lacking: bool, have: i64, want: i64, text: String, obj: ObjectRef },
}

impl Replicas {
    fn counts(&self) -> Option<(i64, i64)> {
        match self {
            Replicas::Known { have, want, .. } => Some((*have, *want)),
            Replicas::Unknown => None,
        }
    }
}

fn known(have: i64, want: i64, obj: ObjectRef, text: String) -> Replicas {
    Replicas::Known { lacking: have < want, have, want, text, obj }
}

/// The workload a user manages for a controller object, and whether it lacks pods.
fn owner(ev: &Evidence, source: &ObjectRef) -> (ObjectRef, Replicas) {
    let ns = source.namespace.clone().unwrap_or_default();
    let key = (ns.clone(), source.name.clone());
    let ix = &ev.index;
    match source.kind.as_str() {
        "ReplicaSet" => {
            let rs = ix.replica_sets.get(&key).map(|&i| &ev.replica_sets[i]);
            let deploy_name = match rs {
                Some(rs) => controller(&rs.metadata).filter(|o| o.kind == "Deployment").map(|o| o.name.clone()),
                // Without the ReplicaSet, a Deployment whose name plus a hash is its name.
                None => ev
                    .deployments
                    .iter()
                    .filter(|d| d.metadata.namespace.as_deref() == Some(ns.as_str()))
                    .filter_map(|d| d.metadata.name.as_deref())
                    .find(|d| {
                        source
                            .name
                            .strip_prefix(d)
                            .and_then(|r| r.strip_prefix('-'))
                            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric()))
                    })
                    .map(str::to_string),
            };
            let workload = match &deploy_name {
                Some(d) => ObjectRef::new("Deployment", Some(&ns), d).with_api_version("apps/v1"),
                None => source.clone().with_api_version("apps/v1"),
            };
            if let Some(rs) = rs {
                let want = rs.spec.replicas.unwrap_or(1) as i64;
                let have = rs.status.as_ref().map(|s| s.replicas).unwrap_or(0) as i64;
                let text = format!("ReplicaSet {} has {have} of {want} pods", source.name);
                return (workload, known(have, want, source.clone(), text));
            }
            if let Some(d) = deploy_name.as_ref().and_then(|d| ix.deployments.get(&(ns.clone(), d.clone()))) {
                return (workload.clone(), deployment_state(&ev.deployments[*d], &workload));
            }
            (workload, Replicas::Unknown)
        }
        "StatefulSet" => {
            let w = source.clone().with_api_version("apps/v1");
            let Some(s) = ix.stateful_sets.get(&key).map(|&i| &ev.stateful_sets[i]) else {
                return (w, Replicas::Unknown);
            };
            let want = s.spec.replicas.unwrap_or(1) as i64;
            let have = s.status.as_ref().map(|s| s.replicas).unwrap_or(0) as i64;
            let text = format!("StatefulSet {} has {have} of {want} pods", source.name);
            (w.clone(), known(have, want, w, text))
        }
        "DaemonSet" => {
            let w = source.clone().with_api_version("apps/v1");
            let Some(st) = ix.daemon_sets.get(&key).and_then(|&i| ev.daemon_sets[i].status.as_ref()) else {
                return (w, Replicas::Unknown);
            };
            let (have, want) = (st.current_number_scheduled as i64, st.desired_number_scheduled as i64);
            let text = format!("DaemonSet {} runs on {have} of {want} nodes", source.name);
            (w.clone(), known(have, want, w, text))
        }
        "Job" => {
            let job = ix.jobs.get(&key).map(|&i| &ev.jobs[i]);
            let w = match job.and_then(|j| controller(&j.metadata)).filter(|o| o.kind == "CronJob") {
                Some(cj) => ObjectRef::new("CronJob", Some(&ns), &cj.name).with_api_version("batch/v1"),
                None => source.clone().with_api_version("batch/v1"),
            };
            let Some(job) = job else { return (w, Replicas::Unknown) };
            let st = job.status.as_ref();
            let finished = st.and_then(|s| s.conditions.as_ref()).into_iter().flatten().any(|c| {
                (c.type_ == "Complete" || c.type_ == "Failed" || c.type_ == "FailureTarget") && c.status == "True"
            });
            let want = if finished { 0 } else { job.spec.as_ref().and_then(|s| s.parallelism).unwrap_or(1) as i64 };
            let have = st.and_then(|s| s.active).unwrap_or(0) as i64;
            let text = format!("Job {} has {have} active of {want} wanted pods", source.name);
            (w, known(have, want, source.clone(), text))
        }
        "Deployment" => {
            let w = source.clone().with_api_version("apps/v1");
            match ix.deployments.get(&key) {
                Some(&i) => (w.clone(), deployment_state(&ev.deployments[i], &w)),
                None => (w, Replicas::Unknown),
            }
        }
        _ => (source.clone(), Replicas::Unknown),
    }
}

fn deployment_state(d: &ks_core::k8s_openapi::api::apps::v1::Deployment, w: &ObjectRef) -> Replicas {
    let want = d.spec.replicas.unwrap_or(1) as i64;
    let st = d.status.as_ref();
    let updated = st.and_then(|s| s.updated_replicas).unwrap_or(0) as i64;
    let available = st.and_then(|s| s.available_replicas).unwrap_or(0) as i64;
    let text = format!("Deployment {}: {updated} of {want} pods up to date, {available} available", w.name);
    // A rollout blocked on its new ReplicaSet leaves the old pods available: count both.
    Replicas::Known { lacking: updated.min(available) < want, have: updated.min(available), want, text, obj: w.clone() }
}

fn controller(meta: &ObjectMeta) -> Option<&ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference> {
    let owners = meta.owner_references.as_ref()?;
    owners.iter().find(|o| o.controller == Some(true)).or_else(|| owners.first())
}

/// `kubectl patch` for the pod template of a workload, with a strategic-merge patch of its pod
/// spec (`pod_spec` is the JSON of the fields to set under `spec.template.spec`).
pub fn patch_template(w: &ObjectRef, pod_spec: serde_json::Value) -> String {
    let body = match w.kind.as_str() {
        "CronJob" => serde_json::json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}}),
        _ => serde_json::json!({"spec": {"template": {"spec": pod_spec}}}),
    };
    format!("kubectl {}patch {} {} -p '{}'", w.ns_flag(), w.kind.to_ascii_lowercase(), w.name, body)
}

/// A fix that changes the pod template: a patch, or for a Job or a bare pod (whose pod
/// template cannot be changed) the instruction to recreate it with the change.
pub fn template_fix(w: &ObjectRef, description: String, pod_spec: serde_json::Value) -> ks_core::Fix {
    match w.kind.as_str() {
        "Job" | "Pod" => ks_core::Fix::text(format!(
            "{description}: the pod template of {} {} cannot be changed in place, so delete it and create it again with {pod_spec} in its pod spec",
            w.kind, w.name
        )),
        _ => ks_core::Fix::cmd(description, patch_template(w, pod_spec)),
    }
}

/// `kubectl patch` of the pod template's metadata (annotations, labels).
pub fn patch_template_meta(w: &ObjectRef, meta: serde_json::Value) -> String {
    let body = match w.kind.as_str() {
        "CronJob" => serde_json::json!({"spec": {"jobTemplate": {"spec": {"template": {"metadata": meta}}}}}),
        _ => serde_json::json!({"spec": {"template": {"metadata": meta}}}),
    };
    format!("kubectl {}patch {} {} -p '{}'", w.ns_flag(), w.kind.to_ascii_lowercase(), w.name, body)
}

/// Which of the template's lists holds a container: `containers` or `initContainers`.
pub fn container_list(ev: &Evidence, w: &ObjectRef, container: &str) -> &'static str {
    let init = crate::util::pod_template(ev, w)
        .and_then(|(s, _)| s.init_containers.as_ref())
        .is_some_and(|l| l.iter().any(|c| c.name == container));
    if init { "initContainers" } else { "containers" }
}

/// The replica phrase for a root cause: ` (0 of 3 pods exist)`.
pub fn replicas_phrase(f: &CreateFailure) -> String {
    match f.replicas {
        Some((have, want)) => format!(" ({have} of {want} pods)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controller_and_api_wrappers() {
        assert_eq!(
            api_error(
                r#"(combined from similar events): Error creating: pods "a-1" is forbidden: exceeded quota: q, requested: cpu=1, used: cpu=1, limited: cpu=1"#
            ),
            "exceeded quota: q, requested: cpu=1, used: cpu=1, limited: cpu=1"
        );
        assert_eq!(
            api_error(
                r#"create Pod web-0 in StatefulSet web failed error: pods "web-0" is forbidden: violates PodSecurity "baseline:latest": privileged (container "web" must not set securityContext.privileged=true)"#
            ),
            r#"violates PodSecurity "baseline:latest": privileged (container "web" must not set securityContext.privileged=true)"#
        );
        assert_eq!(
            api_error(r#"Error creating: Internal error occurred: failed calling webhook "w": x"#),
            r#"failed calling webhook "w": x"#
        );
    }
}
