//! Helpers rules share to build findings: the base finding from a rule's metadata, and
//! kubectl commands with the real names filled in.

use ks_core::{Cause, Evidence, Finding, Fix, ObjectRef, RuleMeta};

use crate::Context;
use crate::facts::{ContainerProblem, ProblemKind, pod_ref};

/// How close a name of the bundle (`candidate`) is to the `wanted` one, when it is a likely
/// intent: a normalized Levenshtein similarity of at least `min`, or one name containing the
/// other (a candidate of at least `min_contained` bytes). The edit distance is at least the
/// difference in length, which rules most pairs out before the distance is computed: a
/// bundle of fixtures holds thousands of names in one namespace.
pub fn similar_name(candidate: &str, wanted: &str, min: f64, min_contained: usize) -> Option<f64> {
    let contained = candidate.len() >= min_contained && (wanted.contains(candidate) || candidate.contains(wanted));
    if !contained {
        let (a, b) = (candidate.chars().count(), wanted.chars().count());
        let longest = a.max(b);
        if longest > 0 && 1.0 - (a.abs_diff(b) as f64 / longest as f64) < min {
            return None;
        }
    }
    let s = strsim::normalized_levenshtein(candidate, wanted);
    (contained || s >= min).then_some(s)
}

/// A finding carrying the rule's id, name, cause, severity and prevention text.
pub fn finding(
    meta: &'static RuleMeta,
    object: ObjectRef,
    title: impl Into<String>,
    root_cause: impl Into<String>,
) -> Finding {
    Finding {
        rule: meta.id.to_string(),
        name: meta.name.to_string(),
        severity: meta.severity,
        cause: meta.cause,
        object,
        affected: Vec::new(),
        scope: None,
        title: title.into(),
        root_cause: root_cause.into(),
        evidence: Vec::new(),
        fix: Vec::new(),
        prevention: meta.prevention_paragraph().map(str::to_string),
        related: Vec::new(),
        location: None,
        root_key: String::new(),
        caused_by: None,
    }
}

/// A finding for a failing container, reported through the pod's owning workload.
pub fn problem_finding(
    meta: &'static RuleMeta,
    cx: &Context<'_>,
    p: &ContainerProblem,
    title: String,
    root_cause: String,
) -> Finding {
    let pod = &cx.ev.pods[p.pod];
    let mut f = finding(meta, cx.ev.workload_of(p.pod).clone(), title, root_cause);
    f.affected.push(pod_ref(pod));
    f.evidence = p.evidence.clone();
    f
}

/// The failing containers a rule handles.
pub fn problems<'c>(
    cx: &'c Context<'_>,
    kind: ProblemKind,
    cause: Cause,
) -> impl Iterator<Item = &'c ContainerProblem> {
    cx.facts.problems.iter().filter(move |p| p.kind == kind && p.cause == cause)
}

/// `-n ns` (with a trailing space) for kubectl.
pub fn ns_flag(ns: &str) -> String {
    if ns.is_empty() { String::new() } else { format!("-n {ns} ") }
}

/// The namespace and name of pod `i`.
pub fn pod_names(ev: &Evidence, i: usize) -> (&str, &str) {
    let m = &ev.pods[i].metadata;
    (m.namespace.as_deref().unwrap_or_default(), m.name.as_deref().unwrap_or_default())
}

/// `kubectl -n ns describe pod name`.
pub fn describe_pod(ev: &Evidence, i: usize) -> Fix {
    let (ns, name) = pod_names(ev, i);
    Fix::cmd("See the pod's events and container states", format!("kubectl {}describe pod {name}", ns_flag(ns)))
}

/// `kubectl -n ns logs name -c c --previous`.
pub fn logs_previous(ev: &Evidence, i: usize, container: &str) -> Fix {
    let (ns, name) = pod_names(ev, i);
    Fix::cmd(
        "Read the crashed instance's log",
        format!("kubectl {}logs {name} -c {container} --previous --tail=50", ns_flag(ns)),
    )
}

/// `kubectl -n ns rollout restart deployment/x` for a workload that has a rollout.
pub fn restart_workload(w: &ObjectRef) -> Option<Fix> {
    matches!(w.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet").then(|| {
        Fix::cmd(
            "Restart the pods once the cause is fixed",
            format!("kubectl {}rollout restart {}", w.ns_flag(), w.kubectl_ref()),
        )
    })
}

/// The container spec of a pod's container, regular or init.
pub fn container_spec<'a>(
    ev: &'a Evidence,
    pod: usize,
    name: &str,
) -> Option<&'a ks_core::k8s_openapi::api::core::v1::Container> {
    let spec = ev.pods[pod].spec.as_ref()?;
    spec.containers.iter().chain(spec.init_containers.iter().flatten()).find(|c| c.name == name)
}

/// Quote a list of names: `a, b and c`.
pub fn join_names<S: AsRef<str>>(names: &[S]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].as_ref().to_string(),
        n => {
            let head: Vec<&str> = names[..n - 1].iter().map(|s| s.as_ref()).collect();
            format!("{} and {}", head.join(", "), names[n - 1].as_ref())
        }
    }
}

/// The pod template of a workload in the evidence (Deployment, StatefulSet, DaemonSet, Job,
/// CronJob), with the JSON-pointer prefix of its pod spec.
pub fn pod_template<'a>(
    ev: &'a Evidence,
    w: &ObjectRef,
) -> Option<(&'a ks_core::k8s_openapi::api::core::v1::PodSpec, &'static str)> {
    let key = (w.namespace.clone().unwrap_or_default(), w.name.clone());
    let ix = &ev.index;
    match w.kind.as_str() {
        "Deployment" => ix
            .deployments
            .get(&key)
            .and_then(|&i| ev.deployments[i].spec.template.spec.as_ref())
            .map(|s| (s, "/spec/template/spec")),
        "StatefulSet" => ix
            .stateful_sets
            .get(&key)
            .and_then(|&i| ev.stateful_sets[i].spec.template.spec.as_ref())
            .map(|s| (s, "/spec/template/spec")),
        "DaemonSet" => ix
            .daemon_sets
            .get(&key)
            .and_then(|&i| ev.daemon_sets[i].spec.template.spec.as_ref())
            .map(|s| (s, "/spec/template/spec")),
        "Job" => ix
            .jobs
            .get(&key)
            .and_then(|&i| ev.jobs[i].spec.as_ref())
            .and_then(|s| s.template.spec.as_ref())
            .map(|s| (s, "/spec/template/spec")),
        "CronJob" => ix
            .cron_jobs
            .get(&key)
            .and_then(|&i| ev.cron_jobs[i].spec.job_template.spec.as_ref())
            .and_then(|s| s.template.spec.as_ref())
            .map(|s| (s, "/spec/jobTemplate/spec/template/spec")),
        _ => None,
    }
}

/// JSON-pointer of `env[name]` of `container` in the workload's template, for
/// `kubectl patch --type json`.
pub fn template_env_pointer(ev: &Evidence, w: &ObjectRef, container: &str, env: &str) -> Option<String> {
    let (spec, prefix) = pod_template(ev, w)?;
    let (list, ci) =
        spec.containers.iter().position(|c| c.name == container).map(|i| ("containers", i)).or_else(|| {
            spec.init_containers.as_ref()?.iter().position(|c| c.name == container).map(|i| ("initContainers", i))
        })?;
    let c = if list == "containers" { &spec.containers[ci] } else { &spec.init_containers.as_ref()?[ci] };
    let ei = c.env.as_ref()?.iter().position(|e| e.name == env)?;
    Some(format!("{prefix}/{list}/{ci}/env/{ei}"))
}

/// `kubectl patch KIND NAME --type json -p '[{"op":"replace","path":P,"value":V}]'`.
pub fn json_patch_replace(w: &ObjectRef, pointer: &str, value: &str) -> String {
    format!(
        "kubectl {}patch {} {} --type json -p '[{{\"op\":\"replace\",\"path\":\"{pointer}\",\"value\":\"{value}\"}}]'",
        w.ns_flag(),
        w.kind.to_ascii_lowercase(),
        w.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The length bound only skips work: the same names pass as with the distance computed
    /// for every pair.
    #[test]
    fn similar_name_keeps_what_the_distance_keeps() {
        let names = [
            "web",
            "web-api",
            "api",
            "frontend",
            "front-end",
            "backend",
            "backend-svc",
            "db",
            "redis",
            "redis-master",
            "nginx",
            "nginx-ingress",
            "prometheus",
            "grafana",
            "é-web",
            "",
        ];
        for wanted in names {
            for candidate in names {
                for (min, contained) in [(0.6, 4), (0.5, 3)] {
                    let s = strsim::normalized_levenshtein(candidate, wanted);
                    let keep = s >= min
                        || (candidate.len() >= contained && (wanted.contains(candidate) || candidate.contains(wanted)));
                    assert_eq!(
                        similar_name(candidate, wanted, min, contained),
                        keep.then_some(s),
                        "{candidate} / {wanted}"
                    );
                }
            }
        }
        assert_eq!(similar_name("prometheus", "db", 0.5, 3), None);
        assert!(similar_name("backend-svc", "backend", 0.6, 4).is_some());
    }
}
