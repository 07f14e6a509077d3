//! Containers that start and exit. The cause is classified once in [`crate::facts`] from, in
//! order: termination reason and exit code, termination message, the runtime's start error,
//! probe kill events, the last log lines of the previous and current instance. Each rule
//! here words one cause; the helpers below read what several of them need from the pod spec.

pub mod build_context;
pub mod build_dependency;
pub mod build_dockerfile;
pub mod build_network;
pub mod config;
pub mod dependency;
pub mod exec_not_found;
pub mod lock_file;
pub mod missing_dependency;
pub mod oom;
pub mod permission;
pub mod port_in_use;
pub mod probe;
pub mod unknown;

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[
    &oom::ContainerOomKilled,
    &missing_dependency::ModuleMissing,
    &permission::PermissionDenied,
    &config::ConfigInvalid,
    &lock_file::DataDirLocked,
    &exec_not_found::CommandNotFound,
    &dependency::DependencyUnreachable,
    &probe::LivenessProbeKills,
    &port_in_use::PortInUse,
    &unknown::CrashUnexplained,
    &build_dockerfile::BuildDockerfileMissing,
    &build_context::BuildContextTooLarge,
    &build_dependency::BuildDependencyConflict,
    &build_network::BuildNetworkFailure,
];

use ks_core::k8s_openapi::api::core::v1::{Container, PodSpec};
use ks_core::{Cause, Evidence, Finding, Fix, ObjectRef, RuleMeta};

use crate::Context;
use crate::facts::{ContainerProblem, ProblemKind};
use crate::util;

/// Emit one finding per failing container with `cause`. `explain` fills in the title, root
/// cause, the rule's own fixes, extra evidence and the root key on a finding that already
/// carries the workload, the pod and the status/log evidence; the step that reads the
/// container's log is added after the rule's fixes.
pub fn crash_findings(
    cx: &Context<'_>,
    meta: &'static RuleMeta,
    cause: Cause,
    out: &mut Vec<Finding>,
    explain: impl Fn(&ContainerProblem, &mut Finding),
) {
    for p in util::problems(cx, ProblemKind::Crash, cause) {
        // An injected sidecar that crashes for no known reason is KS0406's finding.
        if cause == Cause::CrashUnknown && crate::admission::injectors::injected(cx.ev, p.pod, &p.container).is_some() {
            continue;
        }
        // A pod invented for a pasted log that names none: an unexplained log is no evidence
        // that anything crashes, so say nothing rather than guess.
        let synthetic = cx.ev.pods[p.pod]
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.get(ks_core::evidence::SYNTHETIC_ANNOTATION).is_some_and(|v| v == "true"));
        if cause == Cause::CrashUnknown && synthetic && p.reason == "CrashLoopBackOff" && p.exit_code.is_none() {
            continue;
        }
        let mut f = util::problem_finding(meta, cx, p, String::new(), String::new());
        explain(p, &mut f);
        // Changing the pod template rolls the workload out by itself.
        let rolls = f.fix.iter().filter_map(|x| x.command.as_deref()).any(|c| {
            [
                " set env ",
                " set image ",
                " set resources ",
                " patch deployment ",
                " patch statefulset ",
                " patch daemonset ",
            ]
            .iter()
            .any(|k| c.contains(k))
        });
        if rolls {
            f.fix.retain(|x| !x.command.as_deref().is_some_and(|c| c.contains(" rollout restart ")));
        }
        let log = read_log(cx.ev, p);
        if !f.fix.iter().any(|x| x.command == log.command) {
            f.fix.push(log);
        }
        out.push(f);
    }
}

/// ` (restarted N times)` for a sentence about a container.
pub fn restarts_phrase(p: &ContainerProblem) -> String {
    match p.restarts {
        0 => String::new(),
        1 => " (restarted once)".to_string(),
        n => format!(" (restarted {n} times)"),
    }
}

/// `kubectl logs` for the failed instance: `--previous` when the container restarted in
/// place, the plain log for a run-once pod that stays terminated.
pub fn read_log(ev: &Evidence, p: &ContainerProblem) -> Fix {
    let (ns, pod) = util::pod_names(ev, p.pod);
    let terminated_now = ev.pods[p.pod].status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed");
    if p.restarts > 0 && !terminated_now {
        util::logs_previous(ev, p.pod, &p.container)
    } else {
        Fix::cmd(
            "Read the failed container's log",
            format!("kubectl {}logs {pod} -c {} --tail=50", util::ns_flag(ns), p.container),
        )
    }
}

/// The image a container runs: the spec's reference (what a user edits), else the status's.
pub fn image_of(cx: &Context<'_>, p: &ContainerProblem) -> String {
    util::container_spec(cx.ev, p.pod, &p.container)
        .and_then(|c| c.image.clone())
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| p.image.clone())
}

/// The pod's spec and the container's spec.
pub fn specs<'a>(ev: &'a Evidence, p: &ContainerProblem) -> (Option<&'a PodSpec>, Option<&'a Container>) {
    (ev.pods[p.pod].spec.as_ref(), util::container_spec(ev, p.pod, &p.container))
}

/// The user a container runs as, as far as the spec says: the container's
/// `securityContext` over the pod's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunAs {
    pub user: Option<i64>,
    pub non_root: Option<bool>,
    pub fs_group: Option<i64>,
    pub read_only_root: bool,
}

impl RunAs {
    /// The spec says the process is not root.
    pub fn non_root(&self) -> bool {
        self.user.is_some_and(|u| u != 0) || (self.non_root == Some(true) && self.user.is_none())
    }

    /// `runAsUser: 1000` / `runAsNonRoot: true`, for quoting.
    pub fn describe(&self) -> Option<String> {
        match (self.user, self.non_root) {
            (Some(u), _) => Some(format!("runAsUser: {u}")),
            (None, Some(true)) => Some("runAsNonRoot: true".to_string()),
            _ => None,
        }
    }
}

pub fn run_as(ev: &Evidence, p: &ContainerProblem) -> RunAs {
    let (pod, c) = specs(ev, p);
    let psc = pod.and_then(|s| s.security_context.as_ref());
    let csc = c.and_then(|c| c.security_context.as_ref());
    RunAs {
        user: csc.and_then(|s| s.run_as_user).or_else(|| psc.and_then(|s| s.run_as_user)),
        non_root: csc.and_then(|s| s.run_as_non_root).or_else(|| psc.and_then(|s| s.run_as_non_root)),
        fs_group: psc.and_then(|s| s.fs_group),
        read_only_root: csc.and_then(|s| s.read_only_root_filesystem).unwrap_or(false),
    }
}

/// JSON-pointer of a container in the workload's pod template
/// (`/spec/template/spec/containers/0`), for `kubectl patch --type json`.
pub fn template_container_pointer(ev: &Evidence, w: &ObjectRef, container: &str) -> Option<String> {
    // A Job's pod template is immutable: it is re-created, not patched.
    if w.kind == "Job" {
        return None;
    }
    let (spec, prefix) = util::pod_template(ev, w)?;
    if let Some(i) = spec.containers.iter().position(|c| c.name == container) {
        return Some(format!("{prefix}/containers/{i}"));
    }
    let i = spec.init_containers.as_ref()?.iter().position(|c| c.name == container)?;
    Some(format!("{prefix}/initContainers/{i}"))
}

/// `kubectl patch KIND NAME --type json -p '[{"op":"add","path":P,"value":V}, ...]'` with
/// raw JSON values. `add` replaces a member that exists and creates one that does not.
pub fn json_patch_add(w: &ObjectRef, ops: &[(String, String)]) -> String {
    let ops: Vec<String> =
        ops.iter().map(|(path, value)| format!("{{\"op\":\"add\",\"path\":\"{path}\",\"value\":{value}}}")).collect();
    format!(
        "kubectl {}patch {} {} --type json -p '[{}]'",
        w.ns_flag(),
        w.kind.to_ascii_lowercase(),
        w.name,
        ops.join(",")
    )
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The container's `command` and `args`, quoted as in a manifest.
pub fn command_line(c: &Container) -> Option<String> {
    let q = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    match (&c.command, &c.args) {
        (Some(cmd), Some(args)) => Some(format!("command: {} args: {}", q(cmd), q(args))),
        (Some(cmd), None) => Some(format!("command: {}", q(cmd))),
        (None, Some(args)) => Some(format!(
            "args: {} (no command: they go to the image's ENTRYPOINT, or run as the command when it has none)",
            q(args)
        )),
        (None, None) => None,
    }
}

/// `deployment/x` style reference for `kubectl set` commands; pods without an owner as
/// `pod/x`.
pub fn set_target(w: &ObjectRef) -> String {
    w.kubectl_ref()
}

/// The volume a path lives on, from the container's mounts (the longest mount path that
/// contains it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountedVolume {
    pub name: String,
    pub mount_path: String,
    pub read_only: bool,
    /// `persistentVolumeClaim`, `hostPath`, `emptyDir`, `configMap`, `secret`, `nfs`, …
    pub kind: &'static str,
    pub claim: Option<String>,
    /// NFS directly or through the PersistentVolume bound to the claim.
    pub nfs: bool,
}

pub fn volume_at(ev: &Evidence, p: &ContainerProblem, path: &str) -> Option<MountedVolume> {
    let (pod, c) = specs(ev, p);
    let m = c?
        .volume_mounts
        .iter()
        .flatten()
        .filter(|m| {
            let mp = m.mount_path.trim_end_matches('/');
            path == mp || path.starts_with(&format!("{mp}/"))
        })
        .max_by_key(|m| m.mount_path.len())?;
    let v = pod?.volumes.iter().flatten().find(|v| v.name == m.name)?;
    let kind = if v.persistent_volume_claim.is_some() {
        "persistentVolumeClaim"
    } else if v.host_path.is_some() {
        "hostPath"
    } else if v.empty_dir.is_some() {
        "emptyDir"
    } else if v.config_map.is_some() {
        "configMap"
    } else if v.secret.is_some() {
        "secret"
    } else if v.nfs.is_some() {
        "nfs"
    } else if v.projected.is_some() {
        "projected"
    } else {
        "volume"
    };
    let claim = v.persistent_volume_claim.as_ref().map(|c| c.claim_name.clone());
    let ns = ev.pods[p.pod].metadata.namespace.clone().unwrap_or_default();
    let pv_nfs = claim
        .as_ref()
        .and_then(|c| ev.index.pvcs.get(&(ns, c.clone())))
        .and_then(|&i| ev.pvcs[i].spec.as_ref()?.volume_name.clone())
        .and_then(|pv| ev.index.pvs.get(&pv).map(|&i| &ev.pvs[i]))
        .and_then(|pv| pv.spec.as_ref())
        .is_some_and(|s| s.nfs.is_some() || s.csi.as_ref().is_some_and(|c| c.driver.contains("nfs")));
    Some(MountedVolume {
        name: m.name.clone(),
        mount_path: m.mount_path.clone(),
        read_only: m.read_only.unwrap_or(false),
        kind,
        claim,
        nfs: v.nfs.is_some() || pv_nfs,
    })
}

/// What an image build was asked to build, from the build container's args (buildctl
/// `--local context=`/`--opt filename=`, kaniko `--context`/`--dockerfile`, docker `-f`),
/// and the state of the pod's init containers (the clone step).
pub struct BuildFacts {
    pub head: String,
    pub args: Vec<String>,
    pub init: Vec<(String, String)>,
}

pub fn build_facts(ev: &Evidence, p: &ContainerProblem) -> BuildFacts {
    let w = ev.workload_of(p.pod);
    let head = format!("Build container {} of {} {}", p.container, w.kind, w.qualified_name());
    let keys = ["context", "dockerfile", "filename", "--file", "-f", "--target", "frontend"];
    let tokens: Vec<String> = util::container_spec(ev, p.pod, &p.container)
        .into_iter()
        .flat_map(|c| c.command.iter().flatten().chain(c.args.iter().flatten()))
        .flat_map(|a| a.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let mut args = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if !t.starts_with('-') {
            continue;
        }
        let next = tokens.get(i + 1).filter(|n| !n.starts_with('-') && !t.contains('='));
        let shown = match next {
            Some(n) => format!("{t} {n}"),
            None => t.clone(),
        };
        if keys.iter().any(|k| shown.contains(k)) {
            args.push(shown);
        }
    }
    let init = ev.pods[p.pod]
        .status
        .iter()
        .flat_map(|s| s.init_container_statuses.iter().flatten())
        .map(|cs| {
            let state = match cs.state.as_ref() {
                Some(s) if s.terminated.is_some() => {
                    let t = s.terminated.as_ref().map(|t| (t.exit_code, t.reason.clone().unwrap_or_default()));
                    match t {
                        Some((0, _)) => "completed".to_string(),
                        Some((c, r)) => format!("failed ({r}, exit code {c})"),
                        None => String::new(),
                    }
                }
                Some(s) if s.running.is_some() => "running".to_string(),
                _ => "waiting".to_string(),
            };
            (cs.name.clone(), state)
        })
        .collect();
    BuildFacts { head, args, init }
}

/// A log line short enough to quote inside a sentence: at most 200 characters, cut at a
/// word boundary (the evidence keeps the whole line).
pub fn short_quote(line: &str) -> String {
    const MAX: usize = 200;
    let readable = json_log_text(line);
    let t = readable.as_deref().unwrap_or(line).trim();
    if t.chars().count() <= MAX {
        return t.to_string();
    }
    let cut: String = t.chars().take(MAX).collect();
    let cut = cut.rsplit_once(' ').map(|(a, _)| a).filter(|a| a.len() > MAX / 2).unwrap_or(&cut);
    format!("{}…", cut.trim_end_matches([',', ';', ':']))
}

/// The message of a structured (JSON) log line: `msg: error` from the usual field names
/// (`msg`/`message`, `error`/`err`, MongoDB's `attr.error`).
pub fn json_log_text(line: &str) -> Option<String> {
    let t = line.trim();
    if !t.starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(t).ok()?;
    let field = |names: &[&str]| {
        names.iter().find_map(|n| {
            let x = v.pointer(n)?;
            x.as_str().map(str::to_string).or_else(|| x.is_object().then(|| x.to_string()))
        })
    };
    let msg = field(&["/msg", "/message", "/MESSAGE"]);
    let err = field(&["/error", "/err", "/attr/error", "/exception"]);
    match (msg, err) {
        (Some(m), Some(e)) => Some(format!("{m}: {e}")),
        (Some(m), None) => Some(m),
        (None, Some(e)) => Some(e),
        (None, None) => None,
    }
}

/// A build log line without BuildKit's step and time prefix (`#8 6.901 `).
pub fn strip_build_prefix(line: &str) -> &str {
    let t = line.trim();
    let Some(rest) = t.strip_prefix('#') else { return t };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    if !rest.starts_with(' ') {
        return t;
    }
    let rest = rest.trim_start();
    // An optional elapsed time (`6.901`).
    match rest.split_once(' ') {
        Some((time, after)) if time.chars().all(|c| c.is_ascii_digit() || c == '.') && time.contains('.') => {
            after.trim()
        }
        _ => rest,
    }
}

/// The last `n` non-empty log lines, for quoting.
pub fn tail(p: &ContainerProblem, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = p.log_tail.iter().map(|l| l.trim_end()).filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_patches_and_strings() {
        let w = ObjectRef::new("Deployment", Some("shop"), "api");
        assert_eq!(
            json_patch_add(
                &w,
                &[("/spec/template/spec/containers/0/livenessProbe/initialDelaySeconds".into(), "30".into())]
            ),
            r#"kubectl -n shop patch deployment api --type json -p '[{"op":"add","path":"/spec/template/spec/containers/0/livenessProbe/initialDelaySeconds","value":30}]'"#
        );
        assert_eq!(json_str("a\"b"), r#""a\"b""#);
    }

    #[test]
    fn short_quotes() {
        assert_eq!(short_quote("  short line "), "short line");
        let long = "word ".repeat(60);
        let q = short_quote(&long);
        assert!(q.ends_with('…') && q.chars().count() <= 201, "{q}");
    }

    #[test]
    fn json_log_lines() {
        assert_eq!(
            json_log_text(r#"{"level":"fatal","msg":"http server failed","error":"listen tcp :8080: bind: address already in use"}"#)
                .as_deref(),
            Some("http server failed: listen tcp :8080: bind: address already in use")
        );
        assert_eq!(
            json_log_text(
                r#"{"s":"E","msg":"DBException in initAndListen, terminating","attr":{"error":"DBPathInUse: x"}}"#
            )
            .as_deref(),
            Some("DBException in initAndListen, terminating: DBPathInUse: x")
        );
        assert_eq!(json_log_text("plain text"), None);
    }

    #[test]
    fn build_prefixes() {
        assert_eq!(strip_build_prefix("#8 6.901 ERROR: Cannot install"), "ERROR: Cannot install");
        assert_eq!(strip_build_prefix("#8 ERROR: process failed"), "ERROR: process failed");
        assert_eq!(strip_build_prefix("#8 6.901"), "6.901");
        assert_eq!(strip_build_prefix("ERROR: context too large"), "ERROR: context too large");
    }

    #[test]
    fn run_as_non_root() {
        assert!(RunAs { user: Some(1000), ..Default::default() }.non_root());
        assert!(RunAs { non_root: Some(true), ..Default::default() }.non_root());
        assert!(!RunAs { user: Some(0), non_root: Some(true), ..Default::default() }.non_root());
        assert!(!RunAs::default().non_root());
    }
}
