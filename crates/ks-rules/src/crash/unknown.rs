use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::{ContainerProblem, pod_ref};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers that keep exiting (CrashLoopBackOff, a failed run-once pod, repeated
    /// recent deaths) where no known signature explains why. It never guesses: it shows the
    /// exit code and what the code means, the termination message, the salient log line and
    /// the last log lines, and says so when the snapshot holds no log.
    ///
    /// ### Why it breaks
    /// The process exits by itself. Exit code 0 in a restart loop means the main process
    /// finishes on its own (a script that runs once, a server that daemonises, a command
    /// that returns); other codes are the application's own failure, or a signal (128+N:
    /// 137 SIGKILL, 139 SIGSEGV, 143 SIGTERM).
    ///
    /// ### How to confirm
    /// `kubectl logs <pod> -c <container> --previous` shows the last run's output;
    /// `kubectl describe pod` shows the exit code and the termination message.
    ///
    /// ### Fix
    /// Read the previous instance's log and fix what it reports; for exit code 0, keep the
    /// main process in the foreground or run the task as a Job.
    ///
    /// ### Prevention
    /// Log the reason before exiting; write it to `/dev/termination-log` (or set
    /// `terminationMessagePolicy: FallbackToLogsOnError`) so it shows in the pod status.
    ///
    /// ### Example
    /// `Last State: Terminated, Reason: Completed, Exit Code: 0` with CrashLoopBackOff: the
    /// container's command starts the server in the background and returns.
    pub static META = {
        id: "KS0310",
        name: "crash-unexplained",
        cause: Cause::CrashUnknown,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a container keeps exiting and no known signature explains why",
    }
}

pub struct CrashUnexplained;

impl Rule for CrashUnexplained {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashUnknown, out, |p, f| explain(cx, p, f));
    }
}

/// What an exit code says by itself.
pub fn exit_meaning(code: i32) -> Option<&'static str> {
    Some(match code {
        0 => "the process finished successfully",
        1 => "the application reported a generic error",
        2 => "a usage error (bad arguments or shell syntax)",
        126 => "the command exists but is not executable",
        127 => "the shell could not find the command",
        128 => "the runtime could not start the process",
        130 => "interrupted (SIGINT)",
        134 => "aborted (SIGABRT): an assertion or a native runtime abort",
        137 => {
            "killed with SIGKILL: by the kernel (a process over the memory limit), a failed liveness probe, or the runtime"
        }
        139 => {
            "a segmentation fault (SIGSEGV): a native crash, often a binary or library built for another CPU or libc"
        }
        143 => "stopped with SIGTERM from outside the container",
        _ => return None,
    })
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let pref = pod_ref(&ev.pods[p.pod]);
    let kind = if p.init { "Init container" } else { "Container" };
    let code = p.exit_code;
    let failed_pod = ev.pods[p.pod].status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed");
    let verb = if failed_pod && p.restarts == 0 { "failed" } else { "keeps exiting" };
    f.title = match code {
        Some(0) => format!("{kind} {} exits with code 0: its main process ends on its own", p.container),
        Some(c) => format!("{kind} {} {verb} with exit code {c}; the evidence does not say why", p.container),
        None => format!("{kind} {} {verb}; the evidence does not say why", p.container),
    };
    let head = format!("{kind} {} of {} {}", p.container, w.kind, w.qualified_name());
    let mut root = match code {
        Some(0) => format!(
            "{head} exits with code 0 (Completed){} and is restarted every time: its main process finishes on its own. A Deployment's container must keep running; a command that runs once, starts a server in the background, or returns, ends the container.",
            super::restarts_phrase(p)
        ),
        Some(c) => {
            let meaning = exit_meaning(c).map(|m| format!(" ({m})")).unwrap_or_default();
            format!("{head} {verb} with exit code {c}{meaning}{}.", super::restarts_phrase(p))
        }
        None => format!("{head} {verb}{}.", super::restarts_phrase(p)),
    };
    let tail = super::tail(p, 8);
    if !p.had_logs {
        root.push_str(" The snapshot holds no log for it, so the reason is unknown: its previous log settles it.");
    } else if tail.is_empty() {
        root.push_str(" It wrote nothing to its log before exiting.");
    } else if code != Some(0) {
        match p.signature {
            Some(_) => root.push_str(&format!(
                " No known failure matches its log; the line that stands out: `{}`.",
                p.message.trim()
            )),
            None => root.push_str(" No known failure matches its log; its last lines are quoted below."),
        }
    }
    f.root_cause = root;
    if !tail.is_empty() {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Log,
            format!("last lines:\n{}", tail.join("\n")),
            Some(pref.clone()),
        ));
    }
    if code == Some(0) {
        if let Some(l) = util::container_spec(ev, p.pod, &p.container).and_then(super::command_line) {
            f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, l, Some(w.clone())));
        }
        f.fix.push(Fix::text(
            "Run the server in the foreground as the container's main process (exec it; no `&`, no daemon mode), or run a one-off task as a Job instead of a Deployment",
        ));
    }
    let log = super::read_log(ev, p);
    if !p.had_logs {
        f.fix.push(Fix {
            description: "The command that settles it: the failed instance's log".into(),
            command: log.command,
        });
    } else {
        f.fix.push(log);
    }
    f.fix.push(util::describe_pod(ev, p.pod));
    f.root_key = format!("crash.unknown:{}:{}", w.qualified_name(), p.container);
}

#[cfg(test)]
mod tests {
    #[test]
    fn exit_codes() {
        assert!(super::exit_meaning(137).is_some_and(|m| m.contains("SIGKILL")));
        assert_eq!(super::exit_meaning(42), None);
    }
}
