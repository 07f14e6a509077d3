use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{exit_meaning, failed_pod_lines, job_failure, job_object, job_pods, superseded};
use crate::facts::pod_ref;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Jobs that gave up after too many failed pods: condition `Failed` (or the interim
    /// `FailureTarget`) with reason `BackoffLimitExceeded` (`Job has reached the specified
    /// backoff limit`), or a `podFailurePolicy` / per-index limit that failed the Job. It
    /// quotes the failed pods' exit codes and termination reasons. A CronJob whose later run
    /// succeeded is not reported. When the pods' failure has a known cause (image pull,
    /// crash signature), that finding carries this one.
    ///
    /// ### Why it breaks
    /// The Job controller retries a failing pod `backoffLimit` times (default 6) with growing
    /// delays, then marks the Job Failed and stops. The cause is in the pods: their exit codes
    /// and logs.
    ///
    /// ### How to confirm
    /// `kubectl describe job <job>` shows `BackoffLimitExceeded`; `kubectl get pods -l
    /// job-name=<job>` lists the failed pods; `kubectl logs <pod>` shows why each exited.
    ///
    /// ### Fix
    /// Fix the failure the pods' logs show, then run the Job again (delete and re-create it,
    /// or `kubectl create job --from=cronjob/<name>`). Raise `backoffLimit` only for
    /// genuinely flaky work.
    ///
    /// ### Prevention
    /// Test the job's command and image before scheduling it; set
    /// `ttlSecondsAfterFinished` so failed Jobs and pods do not pile up; alert on failed
    /// Jobs.
    ///
    /// ### Example
    /// `Job has reached the specified backoff limit` for build job `job-a2a-agent-1766`, whose
    /// 7 pods exited with code 1.
    pub static META = {
        id: "KS0702",
        name: "job-backoff-limit",
        cause: Cause::JobBackoffLimit,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a Job failed because its pods failed more often than backoffLimit allows",
    }
}

pub struct JobBackoffLimit;

const REASONS: &[&str] = &["BackoffLimitExceeded", "PodFailurePolicy", "MaxFailedIndexesExceeded", "FailedIndexes"];

impl Rule for JobBackoffLimit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for job in &ev.jobs {
            let Some((reason, message)) = job_failure(job) else { continue };
            if !REASONS.contains(&reason.as_str()) || superseded(ev, job) {
                continue;
            }
            let ns = job.metadata.namespace.clone().unwrap_or_default();
            let name = job.metadata.name.clone().unwrap_or_default();
            let obj = job_object(job);
            let limit = job.spec.as_ref().and_then(|s| s.backoff_limit).unwrap_or(6);
            let failed = job.status.as_ref().and_then(|s| s.failed).unwrap_or(0);
            let pods = job_pods(ev, job);
            let (lines, codes) = failed_pod_lines(ev, &pods);

            let mut f = util::finding(&META, obj.clone(), String::new(), String::new());
            f.root_key = format!("job:{}", obj.qualified_name());
            let job_ref = ks_core::ObjectRef::new("Job", Some(&ns), &name).with_api_version("batch/v1");
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("Failed {reason}: {}", message.trim()),
                Some(job_ref.clone()),
            ));
            for (i, l) in lines.iter().take(4) {
                f.evidence.push(EvidenceItem::new(EvidenceSource::Status, l.clone(), Some(pod_ref(&ev.pods[*i]))));
            }
            f.affected = lines.iter().map(|(i, _)| pod_ref(&ev.pods[*i])).collect();
            let mut uniq = codes.clone();
            uniq.sort();
            uniq.dedup();
            let codes_text = if uniq.is_empty() {
                String::new()
            } else {
                let parts: Vec<String> = uniq
                    .iter()
                    .map(|c| match exit_meaning(*c) {
                        Some(m) => format!("{c}: {m}"),
                        None => c.to_string(),
                    })
                    .collect();
                format!(" The pods exited with code {}.", parts.join("; "))
            };
            let of = if obj.kind == "CronJob" { format!(" (run of CronJob {})", obj.name) } else { String::new() };
            let what = match reason.as_str() {
                "PodFailurePolicy" => "a podFailurePolicy rule marked the Job failed".to_string(),
                "BackoffLimitExceeded" => format!(
                    "its pods failed {failed} time{} and the backoff limit is {limit}",
                    if failed == 1 { "" } else { "s" }
                ),
                _ => "too many of its indexes failed".to_string(),
            };
            f.title = format!(
                "Job {name} failed: {}",
                if reason == "BackoffLimitExceeded" {
                    format!("backoff limit ({limit}) reached")
                } else {
                    reason.clone()
                }
            );
            f.root_cause = format!("Job {name}{of} gave up: {what}.{codes_text}");
            let flag = util::ns_flag(&ns);
            match lines.first() {
                Some((i, _)) => {
                    let (_, pod) = util::pod_names(ev, *i);
                    f.fix.push(Fix::cmd(
                        "Read why the last pod failed",
                        format!("kubectl {flag}logs {pod} --all-containers --tail=50"),
                    ));
                }
                None => f.fix.push(Fix::cmd(
                    "Read the pods' logs",
                    format!("kubectl {flag}logs job/{name} --all-containers --tail=50"),
                )),
            }
            if obj.kind == "CronJob" {
                f.fix.push(Fix::cmd(
                    "Once fixed, run the CronJob's job once by hand to check",
                    format!("kubectl {flag}create job {}-manual --from=cronjob/{}", obj.name, obj.name),
                ));
            } else {
                f.fix.push(Fix::cmd(
                    "Once fixed, re-run the Job: a failed Job never restarts, so delete it and apply its manifest again",
                    format!("kubectl {flag}delete job {name}"),
                ));
            }
            f.fix.push(Fix::cmd(
                format!("Clean up failed Jobs (and their pods) in {ns}"),
                format!("kubectl {flag}delete jobs --field-selector status.successful=0"),
            ));
            out.push(f);
        }
    }
}
