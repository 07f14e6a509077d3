//! Workloads as a whole: rollouts that stop progressing and Jobs that give up. These are
//! symptoms; when the pods carry a concrete cause, correlation folds these findings into it
//! (`ks-correlate`), so the object's own finding must use the same object reference as
//! `Evidence::workload_of` (kind, namespace, name, apiVersion).

pub mod job_backoff;
pub mod job_deadline;
pub mod rollout_stuck;

use ks_core::k8s_openapi::api::batch::v1::Job;
use ks_core::k8s_openapi::api::core::v1::Pod;
use ks_core::{Evidence, ObjectRef};

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] =
    &[&rollout_stuck::RolloutStuck, &job_backoff::JobBackoffLimit, &job_deadline::JobDeadline];

/// One line on what a pod is doing: `Pending: 0/3 nodes are available...`,
/// `container app waiting: CrashLoopBackOff`, `Running, not Ready (container app)`.
pub fn pod_state(ev: &Evidence, i: usize) -> String {
    let pod = &ev.pods[i];
    let Some(st) = &pod.status else { return "no status".to_string() };
    let phase = st.phase.as_deref().unwrap_or("Unknown");
    let statuses: Vec<_> =
        st.init_container_statuses.iter().flatten().chain(st.container_statuses.iter().flatten()).collect();
    for cs in &statuses {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.as_deref().unwrap_or("waiting");
            if reason != "PodInitializing" {
                return format!("container {} waiting: {reason}", cs.name);
            }
        }
    }
    if phase == "Pending" {
        let cond = st.conditions.iter().flatten().find(|c| c.type_ == "PodScheduled" && c.status == "False");
        return match cond.and_then(|c| c.reason.as_deref()) {
            Some(r) => format!("Pending ({r})"),
            None => "Pending".to_string(),
        };
    }
    if phase == "Running" {
        let unready: Vec<&str> = statuses.iter().filter(|c| !c.ready).map(|c| c.name.as_str()).collect();
        if !unready.is_empty() {
            return format!("Running but not Ready: container {}", unready.join(", "));
        }
    }
    phase.to_string()
}

/// When pod `i` stopped (or never started) being Ready: the Ready condition's transition
/// time when it is False, else the pod's creation time.
pub fn unready_since(pod: &Pod) -> Option<jiff::Timestamp> {
    let st = pod.status.as_ref()?;
    let ready = st.conditions.iter().flatten().find(|c| c.type_ == "Ready");
    match ready {
        Some(c) if c.status == "True" => None,
        Some(c) => {
            c.last_transition_time.as_ref().map(|t| t.0).or(pod.metadata.creation_timestamp.as_ref().map(|t| t.0))
        }
        None => pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
    }
}

/// The object a Job's findings are reported on: its CronJob when it has one (as
/// `Evidence::workload_of` resolves its pods), else the Job.
pub fn job_object(job: &Job) -> ObjectRef {
    let ns = job.metadata.namespace.as_deref();
    let owner =
        job.metadata.owner_references.iter().flatten().find(|o| o.kind == "CronJob" && o.controller == Some(true));
    match owner {
        Some(o) => ObjectRef::new("CronJob", ns, &o.name).with_api_version("batch/v1"),
        None => {
            ObjectRef::new("Job", ns, job.metadata.name.as_deref().unwrap_or_default()).with_api_version("batch/v1")
        }
    }
}

/// Pods a Job created (controller owner reference), by index.
pub fn job_pods(ev: &Evidence, job: &Job) -> Vec<usize> {
    let ns = job.metadata.namespace.clone().unwrap_or_default();
    let name = job.metadata.name.as_deref().unwrap_or_default();
    ev.index
        .pods_by_namespace
        .get(&ns)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| ev.pods[i].metadata.owner_references.iter().flatten().any(|o| o.kind == "Job" && o.name == name))
        .collect()
}

/// Whether a newer Job of the same CronJob has succeeded since `job` (the schedule has
/// recovered, so the old failure is history).
pub fn superseded(ev: &Evidence, job: &Job) -> bool {
    let obj = job_object(job);
    if obj.kind != "CronJob" {
        return false;
    }
    let created = job.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let ns = job.metadata.namespace.as_deref();
    ev.jobs.iter().any(|other| {
        other.metadata.namespace.as_deref() == ns
            && job_object(other) == obj
            && other.metadata.creation_timestamp.as_ref().map(|t| t.0) > created
            && other
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Complete" && c.status == "True"))
    })
}

/// The `(reason, message)` of a Job's terminal failure condition (`Failed`, or the interim
/// `FailureTarget` newer releases set first).
pub fn job_failure(job: &Job) -> Option<(String, String)> {
    let conds = job.status.as_ref()?.conditions.as_ref()?;
    conds
        .iter()
        .filter(|c| c.status == "True" && (c.type_ == "Failed" || c.type_ == "FailureTarget"))
        .map(|c| (c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default()))
        .next()
}

/// `exit code 137 (OOMKilled)`-style lines for a Job's failed pods, newest first, with the
/// exit codes seen.
pub fn failed_pod_lines(ev: &Evidence, pods: &[usize]) -> (Vec<(usize, String)>, Vec<i32>) {
    let mut sorted: Vec<usize> = pods
        .iter()
        .copied()
        .filter(|&i| ev.pods[i].status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed"))
        .collect();
    sorted.sort_by_key(|&i| std::cmp::Reverse(ev.pods[i].metadata.creation_timestamp.as_ref().map(|t| t.0)));
    let mut lines = Vec::new();
    let mut codes = Vec::new();
    for i in sorted {
        let pod = &ev.pods[i];
        let (_, name) = crate::util::pod_names(ev, i);
        let st = pod.status.as_ref();
        let mut parts = Vec::new();
        for cs in st
            .into_iter()
            .flat_map(|s| s.init_container_statuses.iter().flatten().chain(s.container_statuses.iter().flatten()))
        {
            let t = cs
                .state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .or_else(|| cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()));
            if let Some(t) = t.filter(|t| t.exit_code != 0) {
                codes.push(t.exit_code);
                let mut p = format!("container {} exit code {}", cs.name, t.exit_code);
                if let Some(r) = t.reason.as_deref().filter(|r| !r.is_empty()) {
                    p.push_str(&format!(" ({r})"));
                }
                if let Some(m) = t.message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
                    let short: String = m.chars().take(160).collect();
                    p.push_str(&format!(": {short}"));
                }
                parts.push(p);
            }
        }
        if parts.is_empty() {
            let reason = st.and_then(|s| s.reason.clone()).unwrap_or_else(|| "Failed".to_string());
            let msg = st.and_then(|s| s.message.clone()).unwrap_or_default();
            parts.push(if msg.is_empty() { reason } else { format!("{reason}: {}", msg.trim()) });
        }
        lines.push((i, format!("pod {name}: {}", parts.join("; "))));
    }
    (lines, codes)
}

/// What an exit code usually means.
pub fn exit_meaning(code: i32) -> Option<&'static str> {
    match code {
        1 => Some("the program failed (its own error)"),
        2 => Some("misuse of a shell builtin or bad arguments"),
        126 => Some("the command is not executable"),
        127 => Some("the command was not found in the image"),
        128 => Some("the container could not be started"),
        137 => Some("killed by SIGKILL (out of memory, or a deadline)"),
        139 => Some("segmentation fault"),
        143 => Some("terminated by SIGTERM"),
        _ => None,
    }
}
