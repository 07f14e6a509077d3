use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::{failed_pod_lines, job_failure, job_object, job_pods, pod_state, superseded};
use crate::facts::pod_ref;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Jobs killed for running longer than `activeDeadlineSeconds`: condition `Failed` (or
    /// `FailureTarget`) with reason `DeadlineExceeded` (`Job was active longer than specified
    /// deadline`). It shows the deadline, how long the Job ran and what its pods were doing
    /// (a pod that never got scheduled or never pulled its image points at that cause
    /// instead). A CronJob whose later run succeeded is not reported.
    ///
    /// ### Why it breaks
    /// The deadline counts from the Job's start, including time spent Pending or pulling
    /// images. When it passes, the controller kills the running pods and marks the Job
    /// Failed, with no retry.
    ///
    /// ### How to confirm
    /// `kubectl describe job <job>` shows `DeadlineExceeded` and `Active Deadline Seconds`;
    /// the pods' events show whether they waited (scheduling, image pull) or ran slowly.
    ///
    /// ### Fix
    /// Fix what delayed the pods, or raise `activeDeadlineSeconds` to what the work needs
    /// (in the CronJob's `jobTemplate` for scheduled jobs).
    ///
    /// ### Prevention
    /// Measure the job's real duration and set the deadline with headroom; alert on failed
    /// Jobs; keep the job's inputs bounded.
    ///
    /// ### Example
    /// `Job was active longer than specified deadline` for a nightly backup with
    /// `activeDeadlineSeconds: 600` that now takes 25 minutes.
    pub static META = {
        id: "KS0703",
        name: "job-deadline",
        cause: Cause::JobDeadline,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a Job was killed for running longer than activeDeadlineSeconds",
    }
}

pub struct JobDeadline;

impl Rule for JobDeadline {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for job in &ev.jobs {
            let Some((reason, message)) = job_failure(job) else { continue };
            if reason != "DeadlineExceeded" || superseded(ev, job) {
                continue;
            }
            let ns = job.metadata.namespace.clone().unwrap_or_default();
            let name = job.metadata.name.clone().unwrap_or_default();
            let obj = job_object(job);
            let deadline = job.spec.as_ref().and_then(|s| s.active_deadline_seconds);
            let status = job.status.as_ref();
            let start = status.and_then(|s| s.start_time.as_ref()).map(|t| t.0);
            let end = status
                .and_then(|s| s.conditions.as_ref())
                .and_then(|c| {
                    c.iter().find(|c| (c.type_ == "Failed" || c.type_ == "FailureTarget") && c.status == "True")
                })
                .and_then(|c| c.last_transition_time.as_ref().map(|t| t.0));
            let ran = match (start, end) {
                (Some(s), Some(e)) => Some(e.as_second() - s.as_second()),
                _ => None,
            };
            let pods = job_pods(ev, job);
            let (lines, _) = failed_pod_lines(ev, &pods);

            let mut f = util::finding(&META, obj.clone(), String::new(), String::new());
            f.root_key = format!("job:{}", obj.qualified_name());
            let job_ref = ObjectRef::new("Job", Some(&ns), &name).with_api_version("batch/v1");
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("Failed DeadlineExceeded: {}", message.trim()),
                Some(job_ref.clone()),
            ));
            let deadline_text = deadline.map(|d| format!("{d}s")).unwrap_or_else(|| "its deadline".to_string());
            if let Some(d) = deadline {
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Spec,
                    format!(
                        "activeDeadlineSeconds: {d}{}",
                        ran.map(|r| format!(" (the Job ran {r}s before it was stopped)")).unwrap_or_default()
                    ),
                    Some(job_ref.clone()),
                ));
            }
            // What the pods were doing when the deadline hit.
            let states: Vec<String> =
                pods.iter().take(3).map(|&i| format!("{} ({})", util::pod_names(ev, i).1, pod_state(ev, i))).collect();
            for (i, l) in lines.iter().take(3) {
                f.evidence.push(EvidenceItem::new(EvidenceSource::Status, l.clone(), Some(pod_ref(&ev.pods[*i]))));
            }
            f.affected = pods.iter().map(|&i| pod_ref(&ev.pods[i])).collect();
            let of = if obj.kind == "CronJob" { format!(" (run of CronJob {})", obj.name) } else { String::new() };
            f.title = format!("Job {name} exceeded its activeDeadlineSeconds ({deadline_text})");
            f.root_cause = format!(
                "Job {name}{of} was still running after {deadline_text}, so the Job controller killed its pods and marked it Failed; it is not retried.{}",
                if states.is_empty() { String::new() } else { format!(" Its pods: {}.", states.join(", ")) }
            );
            let flag = util::ns_flag(&ns);
            if let Some(&i) = pods.first() {
                let (_, pod) = util::pod_names(ev, i);
                f.fix.push(Fix::cmd("See what the pod spent its time on", format!("kubectl {flag}describe pod {pod}")));
            }
            f.fix.push(Fix::cmd("See the Job's timeline and events", format!("kubectl {flag}describe job {name}")));
            let raised = deadline.map(|d| d * 2).unwrap_or(3600);
            if obj.kind == "CronJob" {
                f.fix.push(Fix::cmd(
                    format!("If the work legitimately takes longer, raise the deadline (here to {raised}s; size it from real runs)"),
                    format!(
                        "kubectl {flag}patch cronjob {} --type merge -p '{{\"spec\":{{\"jobTemplate\":{{\"spec\":{{\"activeDeadlineSeconds\":{raised}}}}}}}}}'",
                        obj.name
                    ),
                ));
            } else {
                f.fix.push(Fix::text(format!(
                    "If the work legitimately takes longer, set activeDeadlineSeconds to about {raised} in the Job manifest, then delete Job {name} and apply it again"
                )));
            }
            out.push(f);
        }
    }
}
