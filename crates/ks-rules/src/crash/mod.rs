//! Containers that start and exit. The cause is classified once in [`crate::facts`] from, in
//! order: termination reason and exit code, termination message, the last log lines of the
//! previous and current instance, probe kill events. Each rule here words one cause.

pub mod oom;

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[&oom::ContainerOomKilled];

use ks_core::{Cause, Finding, Fix, RuleMeta};

use crate::Context;
use crate::facts::{ContainerProblem, ProblemKind};
use crate::util;

/// Emit one finding per crashing container with `cause`, built by `explain`, which returns
/// the title, the root cause and the rule's own fixes. The generic "read the previous log"
/// and "describe" steps are added after them.
pub fn crash_findings(
    cx: &Context<'_>,
    meta: &'static RuleMeta,
    cause: Cause,
    out: &mut Vec<Finding>,
    explain: impl Fn(&ContainerProblem) -> (String, String, Vec<Fix>),
) {
    for p in util::problems(cx, ProblemKind::Crash, cause) {
        let (title, root, fixes) = explain(p);
        let mut f = util::problem_finding(meta, cx, p, title, root);
        f.fix = fixes;
        f.fix.push(util::logs_previous(cx.ev, p.pod, &p.container));
        out.push(f);
    }
}

/// `container X of pod Y` wording with restart count.
pub fn restarts_phrase(p: &ContainerProblem) -> String {
    match p.restarts {
        0 => String::new(),
        1 => " (restarted once)".to_string(),
        n => format!(" (restarted {n} times)"),
    }
}
