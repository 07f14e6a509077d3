//! Facts derived once per scan from the evidence: which containers are failing and why,
//! which pods cannot be scheduled. Rules read these instead of re-walking every pod, so the
//! rule pass stays linear in the number of objects.

use std::collections::BTreeMap;

use ks_core::k8s_openapi::api::core::v1::{ContainerStateTerminated, ContainerStatus, Pod};
use ks_core::{Cause, EventRecord, Evidence, EvidenceItem, EvidenceSource, LogKey, ObjectRef};

use crate::signatures::{self, Match};

/// What kind of failure a container shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The image cannot be pulled.
    Pull,
    /// The kubelet cannot build the container's config (env refs, user checks).
    Config,
    /// The container starts and exits, or cannot be started.
    Crash,
}

/// A failing container and its classified cause.
#[derive(Clone, Debug)]
pub struct ContainerProblem {
    /// Index into `Evidence::pods`.
    pub pod: usize,
    pub container: String,
    pub init: bool,
    pub kind: ProblemKind,
    pub cause: Cause,
    /// Which signature classified it (`None` when none matched).
    pub signature: Option<&'static str>,
    /// Kubelet reason: `ImagePullBackOff`, `CreateContainerConfigError`, `CrashLoopBackOff`…
    pub reason: String,
    /// The message that settled the cause.
    pub message: String,
    /// Named captures of the signature (key, name, module, host…).
    pub details: BTreeMap<String, String>,
    pub evidence: Vec<EvidenceItem>,
    pub exit_code: Option<i32>,
    pub restarts: i32,
    pub image: String,
    /// The last log lines (previous instance first, at most [`LOG_TAIL_LINES`]).
    pub log_tail: Vec<String>,
    /// Whether logs were available at all.
    pub had_logs: bool,
}

/// A pod the scheduler cannot place.
#[derive(Clone, Debug)]
pub struct PendingPod {
    pub pod: usize,
    pub cause: Cause,
    pub message: String,
    pub total_nodes: u32,
    /// `(count, reason)` entries of the scheduler's message.
    pub entries: Vec<(u32, String)>,
    pub evidence: Vec<EvidenceItem>,
}

/// A volume the kubelet cannot mount or attach for a pod (`FailedMount`,
/// `FailedAttachVolume` events on a pod that is not running).
#[derive(Clone, Debug)]
pub struct MountFailure {
    pub pod: usize,
    pub cause: Cause,
    pub signature: &'static str,
    pub details: BTreeMap<String, String>,
    pub message: String,
    pub evidence: Vec<EvidenceItem>,
}

#[derive(Debug, Default)]
pub struct Facts {
    pub problems: Vec<ContainerProblem>,
    pub pending: Vec<PendingPod>,
    pub mounts: Vec<MountFailure>,
}

const PULL_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "RegistryUnavailable",
    "ImageInspectError",
    "SignatureValidationFailed",
];

/// How recent a termination must be to count as a current crash loop for a pod that is not
/// in `CrashLoopBackOff` right now (seconds before the snapshot's newest timestamp).
pub const RECENT_SECS: i64 = 15 * 60;

pub fn pod_ref(pod: &Pod) -> ObjectRef {
    ObjectRef::new("Pod", pod.metadata.namespace.as_deref(), pod.metadata.name.as_deref().unwrap_or_default())
}

fn details(m: &Match<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    // Alternative spellings of one capture are named `x`, `x2`, `x3`: fold them.
    for name in m.caps_names() {
        if let Some(v) = m.caps.name(name) {
            let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
            out.entry(base.to_string()).or_insert_with(|| v.as_str().to_string());
        }
    }
    out
}

impl Facts {
    pub fn derive(ev: &Evidence) -> Facts {
        let mut facts = Facts::default();
        for (i, pod) in ev.pods.iter().enumerate() {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default();
            if phase == "Succeeded" {
                continue;
            }
            let ns = pod.metadata.namespace.as_deref();
            let name = pod.metadata.name.as_deref().unwrap_or_default();
            let events = ev.events_for("Pod", ns, name);
            if let Some(p) = pending(ev, i, pod, &events) {
                facts.pending.push(p);
            }
            if phase == "Pending" {
                facts.mounts.extend(mount_failures(i, pod, &events));
            }
            let Some(status) = &pod.status else { continue };
            let lists =
                [(status.init_container_statuses.as_deref(), true), (status.container_statuses.as_deref(), false)];
            for (list, init) in lists {
                for cs in list.into_iter().flatten() {
                    if let Some(p) = classify(ev, i, pod, phase, cs, init, &events) {
                        facts.problems.push(p);
                    }
                }
            }
        }
        facts
    }
}

trait CapNames {
    fn caps_names(&self) -> Vec<&'static str>;
}

impl CapNames for Match<'_> {
    fn caps_names(&self) -> Vec<&'static str> {
        // Capture names are static pattern text; look them up by re-scanning the pattern.
        let mut names = Vec::new();
        let mut rest = self.sig.pattern;
        while let Some(p) = rest.find("(?P<") {
            rest = &rest[p + 4..];
            if let Some(end) = rest.find('>') {
                names.push(&rest[..end]);
                rest = &rest[end..];
            }
        }
        names
    }
}

fn pending(ev: &Evidence, i: usize, pod: &Pod, events: &[&EventRecord]) -> Option<PendingPod> {
    let status = pod.status.as_ref()?;
    if status.phase.as_deref() != Some("Pending") {
        return None;
    }
    if pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some() {
        return None;
    }
    let conds = || status.conditions.iter().flatten();
    // A scheduled pod is not waiting on the scheduler, whatever older events say.
    if conds().any(|c| c.type_ == "PodScheduled" && c.status == "True") {
        return None;
    }
    let cond = conds()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False" && c.reason.as_deref() == Some("Unschedulable"));
    let event = events.iter().rev().find(|e| e.reason == "FailedScheduling");
    // Bound after the failure (a snapshot taken while binding): the failure is history.
    if let (Some(f), Some(s)) = (event, events.iter().rev().find(|e| e.reason == "Scheduled"))
        && s.last >= f.last
        && cond.is_none()
    {
        return None;
    }
    let (message, source) = match (cond.and_then(|c| c.message.as_deref()), event) {
        (_, Some(e)) => (e.message.as_str(), EvidenceSource::Event),
        (Some(m), None) => (m, EvidenceSource::Status),
        (None, None) => return None,
    };
    let (total, entries) = signatures::sched::parse_fit_error(message).unwrap_or((0, Vec::new()));
    let control_plane = ev
        .nodes
        .iter()
        .filter(|n| {
            n.spec
                .iter()
                .flat_map(|s| s.taints.iter().flatten())
                .any(|t| signatures::sched::is_control_plane_taint(&t.key))
        })
        .count() as u32;
    let cause = signatures::sched::dominant_cause(message, control_plane)?;
    let mut evidence = vec![EvidenceItem::new(source, message.trim(), Some(pod_ref(pod)))];
    if let Some(e) = event
        && e.count > 1
    {
        evidence[0].text = format!("{}{}", message.trim(), e.count_suffix());
    }
    Some(PendingPod {
        pod: i,
        cause,
        message: message.to_string(),
        total_nodes: total,
        entries: entries.iter().map(|e| (e.count, e.reason.to_string())).collect(),
        evidence,
    })
}

fn mount_failures(i: usize, pod: &Pod, events: &[&EventRecord]) -> Vec<MountFailure> {
    let mut out: Vec<MountFailure> = Vec::new();
    let mut waits: Vec<MountFailure> = Vec::new();
    for e in events.iter().rev() {
        if e.reason != "FailedMount" && e.reason != "FailedAttachVolume" {
            continue;
        }
        let Some(m) = signatures::volume::MATCHER.first(&e.message) else { continue };
        let d = details(&m);
        let list = if m.sig.id == "volume-wait-timeout" { &mut waits } else { &mut out };
        // One failure per signature and volume: the newest event says it best.
        if list.iter().any(|o| o.signature == m.sig.id && o.details.get("volume") == d.get("volume")) {
            continue;
        }
        list.push(MountFailure {
            pod: i,
            cause: m.sig.cause,
            signature: m.sig.id,
            details: d,
            message: e.message.clone(),
            evidence: vec![EvidenceItem::new(
                EvidenceSource::Event,
                format!("{}{}", e.message, e.count_suffix()),
                Some(pod_ref(pod)),
            )],
        });
    }
    // The timed-out wait (`Unable to attach or mount volumes`) only names the volumes; when
    // another event gives the inner cause, that is the failure, and the wait is quoted with it.
    if out.is_empty() {
        return waits;
    }
    if let Some(w) = waits.first() {
        for f in out.iter_mut().filter(|f| {
            matches!(f.cause, Cause::VolumeMountFailed | Cause::VolumeMultiAttach | Cause::VolumePvcPending)
        }) {
            f.evidence.extend(w.evidence.iter().cloned());
        }
    }
    out
}

fn latest_event<'a>(
    events: &[&'a EventRecord],
    container: &str,
    pred: impl Fn(&EventRecord) -> bool,
) -> Option<&'a EventRecord> {
    events.iter().rev().copied().find(|e| {
        pred(e)
            && e.involved
                .field_path
                .as_deref()
                .is_none_or(|fp| fp.contains(&format!("{{{container}}}")) || fp.is_empty())
    })
}

/// The log lines of a container, previous instance first, and whether any log was in the
/// snapshot at all.
fn log_lines(ev: &Evidence, pod: &Pod, container: &str) -> (Vec<String>, bool) {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut lines = Vec::new();
    let mut had = false;
    for previous in [true, false] {
        let key = LogKey { namespace: ns.clone(), pod: name.clone(), container: container.to_string(), previous };
        if let Some(l) = ev.logs.get(&key) {
            had = true;
            lines.extend(l.lines.iter().cloned());
        }
    }
    (lines, had)
}

/// The container's termination: the current state when it is terminated, else the last one.
fn term_of(cs: &ContainerStatus) -> Option<&ContainerStateTerminated> {
    cs.state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .or_else(|| cs.last_state.as_ref().and_then(|s| s.terminated.as_ref()))
}

/// How many log lines a crash problem keeps for the rules (the unknown-cause rule quotes
/// the last of them; others read hosts, conflicts and tracebacks out of them).
pub const LOG_TAIL_LINES: usize = 20;

/// Whether the Job that owns a pod has completed: a failed attempt of a Job that later
/// succeeded is history, not a problem.
fn owner_job_complete(ev: &Evidence, pod: &Pod) -> bool {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    pod.metadata.owner_references.iter().flatten().filter(|o| o.kind == "Job").any(|o| {
        ev.index.jobs.get(&(ns.clone(), o.name.clone())).is_some_and(|&j| {
            ev.jobs[j].status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|cs| {
                cs.iter().any(|c| (c.type_ == "Complete" || c.type_ == "SuccessCriteriaMet") && c.status == "True")
            })
        })
    })
}

/// Whether a probe kill explains the last termination: the container was killed by a
/// signal (137, 143) or stopped cleanly on the kubelet's SIGTERM (0), or the kill event is
/// within a minute of the termination. A container that exits 1 on its own before the
/// probe fires is explained by its log instead.
fn probe_explains(ev: &Evidence, kill: &EventRecord, term: Option<&ContainerStateTerminated>) -> bool {
    let Some(t) = term else { return true };
    if matches!(t.exit_code, 0 | 137 | 143) {
        return true;
    }
    let finished = t.finished_at.as_ref().map(|f| f.0);
    match (kill.last, finished) {
        (Some(k), Some(f)) => (k.as_second() - f.as_second()).abs() <= 60,
        _ => ev.now().is_none(),
    }
}

fn classify(
    ev: &Evidence,
    i: usize,
    pod: &Pod,
    phase: &str,
    cs: &ContainerStatus,
    init: bool,
    events: &[&EventRecord],
) -> Option<ContainerProblem> {
    let pref = pod_ref(pod);
    let waiting = cs.state.as_ref().and_then(|s| s.waiting.as_ref());
    let reason = waiting.and_then(|w| w.reason.clone()).unwrap_or_default();
    let wmsg = waiting.and_then(|w| w.message.clone()).unwrap_or_default();
    let mut p = ContainerProblem {
        pod: i,
        container: cs.name.clone(),
        init,
        kind: ProblemKind::Crash,
        cause: Cause::CrashUnknown,
        signature: None,
        reason: reason.clone(),
        message: String::new(),
        details: BTreeMap::new(),
        evidence: Vec::new(),
        exit_code: None,
        restarts: cs.restart_count,
        image: cs.image.clone(),
        log_tail: Vec::new(),
        had_logs: false,
    };

    // 1. Image pulls.
    if PULL_REASONS.contains(&reason.as_str()) {
        p.kind = ProblemKind::Pull;
        let failed =
            latest_event(events, &cs.name, |e| e.reason == "Failed" && e.message.starts_with("Failed to pull image"));
        let candidates: Vec<(String, EvidenceSource)> = [(wmsg.clone(), EvidenceSource::Status)]
            .into_iter()
            .chain(failed.map(|e| (format!("{}{}", e.message, e.count_suffix()), EvidenceSource::Event)))
            .filter(|(m, _)| !m.is_empty())
            .collect();
        if !wmsg.is_empty() {
            p.evidence.push(EvidenceItem::new(EvidenceSource::Status, format!("{reason}: {wmsg}"), Some(pref.clone())));
        } else {
            p.evidence.push(EvidenceItem::new(
                EvidenceSource::Status,
                format!("waiting: {reason}"),
                Some(pref.clone()),
            ));
        }
        if let Some(e) = failed {
            p.evidence.push(EvidenceItem::new(
                EvidenceSource::Event,
                format!("{}{}", e.message, e.count_suffix()),
                Some(pref.clone()),
            ));
        }
        // The most detailed candidate that matches wins; the event usually carries the
        // runtime's error chain when the waiting message is only "Back-off pulling image".
        let mut matched = None;
        for (m, _) in candidates.iter().rev() {
            if let Some(mm) = signatures::pull::MATCHER.first(m) {
                matched = Some((mm.sig.cause, mm.sig.id, details(&mm), m.clone()));
                break;
            }
        }
        match matched {
            Some((cause, id, d, m)) => {
                p.cause = cause;
                p.signature = Some(id);
                p.details = d;
                p.message = m;
            }
            None => {
                p.cause = match reason.as_str() {
                    "InvalidImageName" => Cause::ImageInvalidName,
                    "ErrImageNeverPull" => Cause::ImageNeverPull,
                    "RegistryUnavailable" => Cause::ImageNetwork,
                    _ => Cause::ImageUnknown,
                };
                p.message = wmsg.clone();
            }
        }
        return Some(p);
    }

    // 2. The kubelet cannot build the container config.
    if reason == "CreateContainerConfigError" {
        p.kind = ProblemKind::Config;
        let failed = latest_event(events, &cs.name, |e| e.reason == "Failed" && e.message.starts_with("Error: "));
        let text = if wmsg.is_empty() {
            failed.map(|e| e.message.trim_start_matches("Error: ").to_string()).unwrap_or_default()
        } else {
            wmsg.clone()
        };
        p.evidence.push(EvidenceItem::new(EvidenceSource::Status, format!("{reason}: {text}"), Some(pref.clone())));
        if let Some(m) = signatures::config::MATCHER.first(&text) {
            p.cause = m.sig.cause;
            p.signature = Some(m.sig.id);
            p.details = details(&m);
        } else {
            p.cause = Cause::CrashConfig;
        }
        p.message = text;
        return Some(p);
    }

    // 3. Crashes: a back-off loop now, a start failure, a failed run-once pod (unless its
    //    Job succeeded on a later attempt), or a container that died recently and is not
    //    ready. A pod that restarted long ago and is ready now is healthy; Succeeded pods
    //    never get here.
    let term = term_of(cs);
    let crash_now = reason == "CrashLoopBackOff" || reason == "RunContainerError" || reason == "CreateContainerError";
    let failed_once = phase == "Failed"
        && pod.status.as_ref().and_then(|s| s.reason.as_deref()) != Some("Evicted")
        && term.is_some_and(|t| t.exit_code != 0)
        && !owner_job_complete(ev, pod);
    let recent_death = !cs.ready
        && cs.restart_count >= 2
        && cs
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .is_some_and(|t| ev.age_secs(t.finished_at.as_ref().map(|f| f.0)).is_some_and(|a| a <= RECENT_SECS));
    if !(crash_now || failed_once || recent_death) {
        return None;
    }
    p.kind = ProblemKind::Crash;
    if !wmsg.is_empty() {
        p.evidence.push(EvidenceItem::new(EvidenceSource::Status, format!("{reason}: {wmsg}"), Some(pref.clone())));
    } else if !reason.is_empty() {
        p.evidence.push(EvidenceItem::new(EvidenceSource::Status, format!("waiting: {reason}"), Some(pref.clone())));
    }
    // The log is read once: rules quote its tail whatever the cause.
    let (lines, had) = log_lines(ev, pod, &cs.name);
    p.had_logs = had;
    p.log_tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].to_vec();
    if let Some(t) = term {
        p.exit_code = Some(t.exit_code);
        let treason = t.reason.clone().unwrap_or_default();
        let mut text =
            format!("last terminated: {} (exit code {})", if treason.is_empty() { "-" } else { &treason }, t.exit_code);
        if let Some(m) = t.message.as_deref().filter(|m| !m.trim().is_empty()) {
            text.push_str(&format!(": {}", m.trim()));
        }
        p.evidence.push(EvidenceItem::new(EvidenceSource::Status, text, Some(pref.clone())));
        // a. Termination reason and exit code.
        if treason == "OOMKilled" {
            p.cause = Cause::CrashOom;
            p.signature = Some("terminated-oomkilled");
            p.message = "OOMKilled".to_string();
            return Some(p);
        }
        // b. Termination message (StartError carries the runtime's error).
        if let Some(m) = t.message.as_deref().and_then(|m| signatures::logs::MATCHER.first(m)) {
            p.cause = m.sig.cause;
            p.signature = Some(m.sig.id);
            p.details = details(&m);
            p.message = t.message.clone().unwrap_or_default();
            return Some(p);
        }
    }
    if (reason == "RunContainerError" || reason == "CreateContainerError")
        && let Some(m) = signatures::logs::MATCHER.first(&wmsg)
    {
        p.cause = m.sig.cause;
        p.signature = Some(m.sig.id);
        p.details = details(&m);
        p.message = wmsg.clone();
        return Some(p);
    }
    // The runtime's start error is also in the `Failed` event (`Error: failed to create
    // containerd task: ... exec: "x": executable file not found in $PATH`).
    if let Some(e) = latest_event(events, &cs.name, |e| e.reason == "Failed" && e.message.starts_with("Error: "))
        .filter(|_| term.is_none_or(|t| t.reason.as_deref() == Some("StartError") || t.exit_code == 128))
        && let Some(m) = signatures::logs::MATCHER.first(&e.message)
    {
        p.cause = m.sig.cause;
        p.signature = Some(m.sig.id);
        p.details = details(&m);
        p.message = e.message.clone();
        p.evidence.push(EvidenceItem::new(
            EvidenceSource::Event,
            format!("{}{}", e.message, e.count_suffix()),
            Some(pref.clone()),
        ));
        return Some(p);
    }
    let log_match = signatures::logs::MATCHER.first_in_lines(&lines);
    // c. Probe kills: the kubelet killed the container, so what the log shows is what the
    //    app was doing when it was killed, not why it stopped.
    let probe = latest_event(events, &cs.name, |e| {
        e.reason == "Killing"
            && (e.message.contains("failed liveness probe") || e.message.contains("failed startup probe"))
    });
    if let Some(k) = probe.filter(|k| log_match.is_none() || probe_explains(ev, k, term)) {
        let kind = if k.message.contains("failed startup probe") { "startup" } else { "liveness" };
        p.cause = Cause::CrashProbe;
        p.signature = Some("event-probe-kill");
        p.message = k.message.clone();
        p.details.insert("probe".into(), kind.into());
        p.evidence.push(EvidenceItem::new(
            EvidenceSource::Event,
            format!("{}{}", k.message, k.count_suffix()),
            Some(pref.clone()),
        ));
        let prefix = if kind == "startup" { "Startup probe" } else { "Liveness probe" };
        if let Some(u) = latest_event(events, &cs.name, |e| e.reason == "Unhealthy" && e.message.starts_with(prefix))
            .or_else(|| {
                latest_event(events, &cs.name, |e| e.reason == "Unhealthy" && !e.message.starts_with("Readiness"))
            })
        {
            p.evidence.push(EvidenceItem::new(
                EvidenceSource::Event,
                format!("{}{}", u.message, u.count_suffix()),
                Some(pref.clone()),
            ));
            p.details.insert("probe_output".into(), u.message.clone());
        }
        if let Some((_, line)) = &log_match {
            p.details.insert("log_line".into(), line.trim().to_string());
        }
        return Some(p);
    }
    // d. Logs of the previous and the current instance.
    if let Some((m, line)) = log_match {
        p.cause = m.sig.cause;
        p.signature = Some(m.sig.id);
        p.details = details(&m);
        p.message = line.to_string();
        p.evidence.push(EvidenceItem::new(EvidenceSource::Log, line.trim(), Some(pref.clone())));
        return Some(p);
    }
    // e. Nothing explains it: say so, with the exit code and the last lines.
    if term.is_none_or(|t| t.exit_code == 0) && !crash_now && !failed_once {
        return None;
    }
    p.cause = Cause::CrashUnknown;
    if let Some((m, line)) = signatures::logs::SALIENT_MATCHER.first_in_lines(&lines) {
        p.signature = Some(m.sig.id);
        p.message = line.to_string();
        p.evidence.push(EvidenceItem::new(EvidenceSource::Log, line.trim(), Some(pref)));
    }
    Some(p)
}
