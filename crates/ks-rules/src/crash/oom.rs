use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers killed by the kernel's OOM killer for exceeding their memory limit:
    /// `lastState.terminated.reason: OOMKilled` (exit code 137), usually in `CrashLoopBackOff`.
    /// Runtime-level out-of-memory errors in the log (`java.lang.OutOfMemoryError`,
    /// `JavaScript heap out of memory`) are reported here too.
    ///
    /// ### Why it breaks
    /// The process needs more memory than `resources.limits.memory` allows (or leaks), so the
    /// cgroup kills it every time it reaches the limit.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `Last State: Terminated, Reason: OOMKilled, Exit Code: 137`;
    /// `kubectl top pod` shows usage near the limit before each restart.
    ///
    /// ### Fix
    /// Raise the memory limit (and request) to what the process really needs, or cap the
    /// runtime's heap below the limit (`-Xmx`, `--max-old-space-size`).
    ///
    /// ### Prevention
    /// Size limits from observed peak usage plus headroom; alert on container memory near its
    /// limit; set runtime heap caps from the limit.
    ///
    /// ### Example
    /// `Last State: Terminated  Reason: OOMKilled  Exit Code: 137` with a 300Mi limit.
    pub static META = {
        id: "KS0301",
        name: "container-oom-killed",
        cause: Cause::CrashOom,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a container is killed for exceeding its memory limit",
    }
}

pub struct ContainerOomKilled;

impl Rule for ContainerOomKilled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashOom, out, |p, f| {
            let limit = util::container_spec(cx.ev, p.pod, &p.container)
                .and_then(|c| c.resources.as_ref())
                .and_then(|r| r.limits.as_ref())
                .and_then(|l| l.get("memory"))
                .map(|q| q.0.clone());
            let w = cx.ev.workload_of(p.pod);
            let root = match (&limit, p.signature) {
                (Some(l), Some("terminated-oomkilled")) => format!(
                    "Container {} is killed by the kernel when it exceeds its memory limit of {l}{}; it needs more memory than that, or leaks.",
                    p.container,
                    super::restarts_phrase(p)
                ),
                (None, Some("terminated-oomkilled")) => format!(
                    "Container {} was OOMKilled{}: the node ran out of memory for it (it has no memory limit of its own).",
                    p.container,
                    super::restarts_phrase(p)
                ),
                _ => format!("Container {} runs out of memory inside its runtime: {}", p.container, p.message.trim()),
            };
            let new_limit = limit.as_deref().and_then(double_quantity).unwrap_or_else(|| "512Mi".to_string());
            f.fix.push(Fix::cmd(
                match &limit {
                    Some(l) => format!(
                        "Raise the memory limit of {} from {l} (here to {new_limit}; size it from real peak usage)",
                        p.container
                    ),
                    None => format!(
                        "Give {} a memory request and limit (here {new_limit}; size it from real peak usage)",
                        p.container
                    ),
                },
                format!(
                    "kubectl {}set resources {} -c {} --limits=memory={new_limit} --requests=memory={new_limit}",
                    w.ns_flag(),
                    w.kubectl_ref(),
                    p.container
                ),
            ));
            if p.signature != Some("terminated-oomkilled") {
                // The runtime's own heap cap is hit before the cgroup limit: raise that too.
                f.fix.push(Fix::text(format!(
                    "If the limit is already generous, raise the runtime's heap cap instead: JAVA_TOOL_OPTIONS=-XX:MaxRAMPercentage=75 for the JVM, NODE_OPTIONS=--max-old-space-size=<MiB> for Node (kubectl {}set env {} -c {} ...)",
                    w.ns_flag(),
                    w.kubectl_ref(),
                    p.container
                )));
            }
            f.title = match (&limit, p.signature) {
                (Some(l), Some("terminated-oomkilled")) => {
                    format!("Container {} is OOMKilled at its {l} memory limit", p.container)
                }
                (None, Some("terminated-oomkilled")) => format!("Container {} is OOMKilled", p.container),
                _ => format!("Container {} runs out of memory", p.container),
            };
            f.root_cause = root;
        });
    }
}

/// `300Mi` → `600Mi`; `1Gi` → `2Gi`. None for forms we do not rewrite.
fn double_quantity(q: &str) -> Option<String> {
    let split = q.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = q.split_at(split);
    let n: u64 = n.parse().ok()?;
    matches!(unit, "Mi" | "Gi" | "M" | "G" | "Ki").then(|| format!("{}{unit}", n * 2))
}

#[cfg(test)]
mod tests {
    #[test]
    fn doubles_quantities() {
        assert_eq!(super::double_quantity("300Mi").as_deref(), Some("600Mi"));
        assert_eq!(super::double_quantity("1Gi").as_deref(), Some("2Gi"));
        assert_eq!(super::double_quantity("0.5Gi"), None);
    }
}
