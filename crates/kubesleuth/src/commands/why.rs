//! `kubesleuth why KIND/NAME`: one workload's chain, owner -> pods -> containers ->
//! events/logs -> cause, then its findings.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use ks_core::{Evidence, LogKey, ObjectRef, Summary};

use crate::cli::{FormatArg, WhyArgs};
use crate::output::write_report;

pub fn run(args: &WhyArgs) -> anyhow::Result<ExitCode> {
    let Some((kind, name)) = args.target.split_once('/') else {
        bail!("expected KIND/NAME, e.g. deployment/backend; got {:?}", args.target);
    };
    let Some(kind) = ks_core::kinds::kind_of_resource(kind) else {
        bail!(
            "unknown kind {kind:?}; use deployment, statefulset, daemonset, job, cronjob, pod, service, ingress, node, pvc or certificate"
        );
    };
    let d = super::diagnose(&args.source)?;
    let ev = &d.evidence;
    // Find the namespace: the one given, else the only one holding such an object.
    let candidates: Vec<ObjectRef> = candidates(ev, kind, name)
        .into_iter()
        .filter(|o| args.source.namespace.as_ref().is_none_or(|n| o.namespace.as_ref() == Some(n)))
        .collect();
    let target = match candidates.as_slice() {
        [one] => one.clone(),
        [] => bail!(
            "{kind} {name} is not in the snapshot{}",
            args.source.namespace.as_ref().map(|n| format!(" (namespace {n})")).unwrap_or_default()
        ),
        many => {
            let nss: Vec<String> = many.iter().filter_map(|o| o.namespace.clone()).collect();
            bail!("{kind} {name} exists in several namespaces ({}); pass -n NS", nss.join(", "))
        }
    };
    let findings: Vec<_> = d
        .findings
        .iter()
        .filter(|f| {
            same_object(&f.object, &target)
                || f.affected.iter().any(|a| same_object(a, &target))
                || f.related.iter().any(|r| same_object(r, &target))
        })
        .cloned()
        .collect();
    if args.output.format == FormatArg::Text && args.output.output.is_none() {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        write_chain(ev, &target, &mut out)?;
        if findings.is_empty() {
            writeln!(out, "=> no problem found for {target}")?;
        }
        for f in &findings {
            writeln!(out, "=> cause: {} ({}[{}]) {}", f.cause, f.severity, f.rule, f.title)?;
        }
        writeln!(out)?;
    }
    let summary = Summary::count(&findings, ev.object_count(), d.started.elapsed().as_millis() as u64);
    write_report(&args.output, &findings, &ev.gaps, summary)
}

/// Kind, namespace and name match (API versions are not always known on both sides).
fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
}

fn candidates(ev: &Evidence, kind: &str, name: &str) -> Vec<ObjectRef> {
    let mut out = Vec::new();
    let mut push = |ns: Option<&str>, n: Option<&str>| {
        if n == Some(name) {
            out.push(ObjectRef::new(kind, ns, name));
        }
    };
    macro_rules! scan {
        ($list:expr) => {
            for o in &$list {
                push(o.metadata.namespace.as_deref(), o.metadata.name.as_deref());
            }
        };
    }
    match kind {
        "Deployment" => scan!(ev.deployments),
        "StatefulSet" => scan!(ev.stateful_sets),
        "DaemonSet" => scan!(ev.daemon_sets),
        "Job" => scan!(ev.jobs),
        "CronJob" => scan!(ev.cron_jobs),
        "ReplicaSet" => scan!(ev.replica_sets),
        "Pod" => scan!(ev.pods),
        "Service" => scan!(ev.services),
        "Ingress" => scan!(ev.ingresses),
        "Node" => scan!(ev.nodes),
        "PersistentVolumeClaim" => scan!(ev.pvcs),
        _ => {
            for o in ev.other.iter().filter(|o| o.kind == kind) {
                push(o.namespace(), Some(o.name()));
            }
        }
    }
    // A workload known only through its pods (the snapshot lacks the object itself).
    if out.is_empty() {
        for w in ev.index.pods_by_workload.keys() {
            if w.kind == kind && w.name == name {
                out.push(w.clone());
            }
        }
    }
    out
}

fn write_chain(ev: &Evidence, target: &ObjectRef, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{target}")?;
    let pods: Vec<usize> = if target.kind == "Pod" {
        ev.index
            .pods
            .get(&(target.namespace.clone().unwrap_or_default(), target.name.clone()))
            .copied()
            .into_iter()
            .collect()
    } else {
        ev.index
            .pods_by_workload
            .iter()
            .filter(|(w, _)| same_object(w, target))
            .flat_map(|(_, pods)| pods.iter().copied())
            .collect()
    };
    let ns = target.namespace.as_deref();
    for e in ev.events_for(&target.kind, ns, &target.name).iter().filter(|e| e.is_warning()).rev().take(3) {
        writeln!(out, "│  event   {} {}{}", e.reason, e.message, e.count_suffix())?;
    }
    if pods.is_empty() && target.kind != "Pod" {
        writeln!(out, "└─ no pods")?;
    }
    for (n, &pi) in pods.iter().enumerate() {
        let pod = &ev.pods[pi];
        let last_pod = n + 1 == pods.len();
        let (branch, cont) = if last_pod { ("└─", "   ") } else { ("├─", "│  ") };
        let st = pod.status.as_ref();
        let phase = st.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown");
        let statuses = st.and_then(|s| s.container_statuses.as_ref());
        let ready = statuses.map(|c| c.iter().filter(|c| c.ready).count()).unwrap_or(0);
        let total = pod.spec.as_ref().map(|s| s.containers.len()).unwrap_or(0);
        let owner = pod
            .metadata
            .owner_references
            .as_ref()
            .and_then(|o| o.first())
            .map(|o| format!(" (via {} {})", o.kind, o.name))
            .unwrap_or_default();
        let pname = pod.metadata.name.as_deref().unwrap_or_default();
        writeln!(out, "{branch} Pod {pname}{owner}  {phase}  ready {ready}/{total}")?;
        if let Some(reason) = st.and_then(|s| s.reason.as_deref()) {
            writeln!(out, "{cont}│  status  {reason}: {}", st.and_then(|s| s.message.as_deref()).unwrap_or_default())?;
        }
        let all = st
            .into_iter()
            .flat_map(|s| s.init_container_statuses.iter().flatten().chain(s.container_statuses.iter().flatten()));
        for cs in all {
            let state = cs.state.as_ref();
            let now = if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
                format!(
                    "waiting {}: {}",
                    w.reason.as_deref().unwrap_or_default(),
                    w.message.as_deref().unwrap_or_default()
                )
            } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
                format!("terminated {} (exit {})", t.reason.as_deref().unwrap_or_default(), t.exit_code)
            } else if state.and_then(|s| s.running.as_ref()).is_some() {
                "running".to_string()
            } else {
                "unknown".to_string()
            };
            writeln!(
                out,
                "{cont}├─ container {}  {}  restarts {}",
                cs.name,
                now.trim_end_matches(": "),
                cs.restart_count
            )?;
            if let Some(t) = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()) {
                writeln!(
                    out,
                    "{cont}│    last terminated {} (exit {})",
                    t.reason.as_deref().unwrap_or_default(),
                    t.exit_code
                )?;
            }
            let key = |previous| LogKey {
                namespace: pod.metadata.namespace.clone().unwrap_or_default(),
                pod: pname.to_string(),
                container: cs.name.clone(),
                previous,
            };
            for previous in [true, false] {
                if let Some(l) = ev.logs.get(&key(previous)) {
                    let label = if previous { "previous log" } else { "log" };
                    for line in l.lines.iter().rev().take(3).rev() {
                        writeln!(out, "{cont}│    {label}: {line}")?;
                    }
                }
            }
        }
        let events = ev.events_for("Pod", pod.metadata.namespace.as_deref(), pname);
        for e in events.iter().rev().take(5).rev() {
            writeln!(out, "{cont}└─ event {} {}: {}{}", e.type_, e.reason, e.message, e.count_suffix())?;
        }
    }
    Ok(())
}
