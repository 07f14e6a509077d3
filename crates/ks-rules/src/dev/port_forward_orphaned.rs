use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// `kubectl port-forward` processes whose parent is gone (re-parented to PID 1), still
    /// listening on local ports — left behind by scripts that started them with `&`.
    ///
    /// ### Why it breaks
    /// The next `kubectl port-forward` to the same port fails with `unable to listen on port
    /// 8080: ... address already in use`, or a test talks to the old forward, which points
    /// at a pod that no longer exists and answers `connection refused`/`lost connection to
    /// pod`. The processes pile up across runs.
    ///
    /// ### How to confirm
    /// `ps -o pid,ppid,args -C kubectl` shows `port-forward` with parent 1; `ss -ltnp` (or
    /// `lsof -iTCP -sTCP:LISTEN`) shows the port held by that pid.
    ///
    /// ### Fix
    /// Stop those processes by pid.
    ///
    /// ### Prevention
    /// In scripts, remember the pid (`kubectl port-forward ... & pf=$!`) and `trap 'kill $pf'
    /// EXIT`; use unique local ports per script.
    ///
    /// ### Example
    /// `kubectl port-forward -n angzarr svc/gateway 19099:9099` with parent 1, holding port
    /// 19099.
    pub static META = {
        id: "KS1515",
        name: "port-forward-orphaned",
        cause: Cause::DevPortForward,
        severity: Severity::Warning,
        kind: RuleKind::Local,
        summary: "a leftover kubectl port-forward process still holds a local port",
    }
}

pub struct PortForwardOrphaned;

impl Rule for PortForwardOrphaned {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(local) = &cx.ev.build.local else { return };
        for p in local.port_forwards.iter().filter(|p| p.ppid == Some(1)) {
            let ports: Vec<String> = p.ports.iter().map(u16::to_string).collect();
            let held = if ports.is_empty() {
                "no port it could name".to_string()
            } else {
                format!("port {}", ports.join(", "))
            };
            let mut f = util::finding(
                &META,
                ObjectRef::new("Process", None, &p.pid.to_string()),
                format!("orphaned kubectl port-forward (pid {}) holds {held}", p.pid),
                format!(
                    "Process {} (`{}`) lost its parent and still listens on {held}; a new port-forward to the same \
                     port fails with `address already in use`.",
                    p.pid, p.command
                ),
            );
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("pid {} ppid 1: {}", p.pid, p.command),
                None,
            ));
            f.fix.push(Fix::cmd(format!("Stop process {}", p.pid), format!("kill {}", p.pid)));
            f.root_key = format!("port-forward:{}", p.pid);
            out.push(f);
        }
    }
}
