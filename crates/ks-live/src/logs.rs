//! Which container logs a live scan reads: only those the rules may quote. A healthy pod's
//! log is never fetched, so the number of log requests follows the number of failing
//! containers, with a bound in total. There is no bound per workload: the rules classify
//! each pod's crash from its own log, and a pod without one would be reported apart.

use ks_core::LogKey;
use ks_core::k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};

/// Lines asked for (`tailLines`), the same bound the snapshot source keeps.
pub const TAIL_LINES: usize = ks_core::LogExcerpt::MAX_LINES;
/// Bytes asked for (`limitBytes`).
pub const LIMIT_BYTES: usize = 256 * 1024;
/// Log requests per scan at most.
pub const MAX_LOGS: usize = 1000;

/// Waiting reasons of a container that ran and failed (its last output explains why).
const FAILING_WAITING: &[&str] = &["CrashLoopBackOff", "RunContainerError", "CreateContainerError", "Error"];

/// The logs to fetch, at most `max` requests: every failing container's current log first
/// (the rules classify each pod's crash from it, and it is what `kubectl cluster-info dump`
/// keeps), then previous instances while the bound allows. Also returns how many were left
/// out.
pub fn select<'a>(pods: impl IntoIterator<Item = &'a Pod>, max: usize) -> (Vec<LogKey>, usize) {
    let mut current = Vec::new();
    let mut previous = Vec::new();
    for pod in pods {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        for (container, has_previous) in wanted_containers(pod) {
            let key = LogKey { namespace: ns.clone(), pod: name.clone(), container, previous: false };
            if has_previous {
                previous.push(LogKey { previous: true, ..key.clone() });
            }
            current.push(key);
        }
    }
    let total = current.len() + previous.len();
    let mut out = current;
    out.extend(previous);
    out.truncate(max);
    let skipped = total - out.len();
    (out, skipped)
}

/// Containers of `pod` whose log a rule may read, and whether a previous instance exists.
fn wanted_containers(pod: &Pod) -> Vec<(String, bool)> {
    let Some(status) = &pod.status else { return Vec::new() };
    let phase = status.phase.as_deref().unwrap_or_default();
    if phase == "Succeeded" || pod.metadata.deletion_timestamp.is_some() {
        return Vec::new();
    }
    let specs: Vec<&Container> =
        pod.spec.iter().flat_map(|s| s.init_containers.iter().flatten().chain(s.containers.iter())).collect();
    let statuses = status.init_container_statuses.iter().flatten().chain(status.container_statuses.iter().flatten());
    let mut out = Vec::new();
    for cs in statuses {
        let spec = specs.iter().find(|c| c.name == cs.name).copied();
        if failing(cs, phase) || spec.is_some_and(is_ingress_controller) {
            let previous = cs.restart_count > 0 && cs.last_state.as_ref().is_some_and(|s| s.terminated.is_some());
            out.push((cs.name.clone(), previous));
        }
    }
    out
}

fn failing(cs: &ContainerStatus, phase: &str) -> bool {
    let state = cs.state.as_ref();
    let waiting = state.and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref());
    if waiting.is_some_and(|r| FAILING_WAITING.contains(&r)) {
        return true;
    }
    let terminated = state.and_then(|s| s.terminated.as_ref());
    if terminated.is_some_and(|t| t.exit_code != 0) && (phase == "Failed" || !cs.ready) {
        return true;
    }
    let died_before = cs.restart_count > 0 && cs.last_state.as_ref().is_some_and(|s| s.terminated.is_some());
    if !cs.ready && (died_before || state.is_some_and(|s| s.running.is_some())) {
        // Restarting and not ready, or running and never ready (a sidecar that will not
        // come up): its own words say why.
        return true;
    }
    false
}

/// Ingress controllers log which Ingresses they ignore; the ingress-class rule quotes that.
fn is_ingress_controller(c: &Container) -> bool {
    let args = c.args.iter().flatten().chain(c.command.iter().flatten());
    let flagged = args.into_iter().any(|a| a.starts_with("--ingress-class") || a.starts_with("--controller-class"));
    flagged || c.image.as_deref().is_some_and(|i| i.contains("ingress-nginx/controller"))
}

/// The query for one log.
pub fn path(key: &LogKey) -> String {
    format!(
        "/api/v1/namespaces/{}/pods/{}/log?container={}&tailLines={TAIL_LINES}&limitBytes={LIMIT_BYTES}{}",
        key.namespace,
        key.pod,
        crate::collect::encode(&key.container),
        if key.previous { "&previous=true" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ks_core::Evidence;
    use serde_json::json;

    fn pod(name: &str, statuses: serde_json::Value) -> Box<Pod> {
        Box::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "shop", "uid": name,
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "rs-1"}]},
                "spec": {"containers": [{"name": "app", "image": "shop/app:1"}]},
                "status": {"phase": "Running", "containerStatuses": statuses}
            }))
            .unwrap(),
        )
    }

    #[test]
    fn only_failing_containers_are_read() {
        let mut ev = Evidence::default();
        ev.pods.push(pod(
            "healthy",
            json!([{"name": "app", "image": "x", "imageID": "", "ready": true, "restartCount": 0, "state": {"running": {}}}]),
        ));
        ev.pods.push(pod(
            "crashing",
            json!([{"name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1}}}]),
        ));
        let (keys, skipped) = select(ev.pods.iter().map(|p| &**p), 100);
        assert_eq!(skipped, 0);
        let got: Vec<(&str, bool)> = keys.iter().map(|k| (k.pod.as_str(), k.previous)).collect();
        assert_eq!(got, vec![("crashing", false), ("crashing", true)]);
        assert!(path(&keys[1]).ends_with("&previous=true"));
    }

    #[test]
    fn the_total_is_bounded() {
        let mut ev = Evidence::default();
        for i in 0..20 {
            ev.pods.push(pod(
                &format!("p{i}"),
                json!([{"name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]),
            ));
        }
        let (keys, skipped) = select(ev.pods.iter().map(|p| &**p), 100);
        assert_eq!((keys.len(), skipped), (20, 0));
        let (keys, skipped) = select(ev.pods.iter().map(|p| &**p), 5);
        assert_eq!((keys.len(), skipped), (5, 15));
    }

    #[test]
    fn current_logs_come_before_previous_ones_under_the_bound() {
        let mut ev = Evidence::default();
        for i in 0..3 {
            ev.pods.push(pod(
                &format!("p{i}"),
                json!([{"name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 2,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {"terminated": {"exitCode": 1}}}]),
            ));
        }
        let (keys, skipped) = select(ev.pods.iter().map(|p| &**p), 4);
        let got: Vec<(&str, bool)> = keys.iter().map(|k| (k.pod.as_str(), k.previous)).collect();
        assert_eq!(got, vec![("p0", false), ("p1", false), ("p2", false), ("p0", true)]);
        assert_eq!(skipped, 2);
    }
}
