//! Nodes: NotReady nodes, nodes under memory/disk/PID pressure, and the pods their kubelets
//! evicted. Node findings are reported on the Node; evictions on the workloads that lost pods.

pub mod evicted;
pub mod not_ready;
pub mod pressure;

use ks_core::k8s_openapi::api::core::v1::{Node, NodeCondition};
use ks_core::{Cause, Evidence, ObjectRef};

use crate::Rule;
use crate::signatures::{Signature, matcher};

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[&not_ready::NodeNotReady, &pressure::NodePressure, &evicted::PodsEvicted];

pub fn node_ref(name: &str) -> ObjectRef {
    ObjectRef::new("Node", None, name).with_api_version("v1")
}

pub fn condition<'n>(node: &'n Node, type_: &str) -> Option<&'n NodeCondition> {
    node.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

/// Pods on `node` that are meant to run (not Succeeded or Failed), by index.
pub fn live_pods_on(ev: &Evidence, node: &str) -> Vec<usize> {
    ev.index
        .pods_by_node
        .get(node)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| {
            let phase = ev.pods[i].status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default();
            phase != "Succeeded" && phase != "Failed"
        })
        .collect()
}

/// The workloads of `pods`, with how many pods each: `Deployment shop/web (3)`.
pub fn workloads_of(ev: &Evidence, pods: &[usize]) -> Vec<String> {
    let mut counts: Vec<(ObjectRef, usize)> = Vec::new();
    for &i in pods {
        let w = ev.workload_of(i);
        match counts.iter_mut().find(|(o, _)| o == w) {
            Some((_, n)) => *n += 1,
            None => counts.push((w.clone(), 1)),
        }
    }
    counts.into_iter().map(|(w, n)| format!("{} {} ({n})", w.kind, w.qualified_name())).collect()
}

/// Kubelet eviction messages (`pkg/kubelet/eviction/helpers.go`), matched one sentence at a
/// time; see `shared/reference/k8s-messages.md` §6.
pub static EVICTION_TABLE: &[Signature] = &[
    Signature {
        id: "evict-low-on-resource",
        cause: Cause::NodeEviction,
        pattern: r"The node was low on resource: (?P<resource>[\w./-]+)\.",
    },
    Signature {
        id: "evict-node-condition",
        cause: Cause::NodeEviction,
        pattern: r"The node had condition: \[(?P<condition>\w+)\]",
    },
    Signature {
        id: "evict-pod-storage-limit",
        cause: Cause::NodeEviction,
        pattern: r"Pod ephemeral local storage usage exceeds the total limit of containers (?P<limit>[^\s.]+)",
    },
    Signature {
        id: "evict-container-storage-limit",
        cause: Cause::NodeEviction,
        pattern: r#"Container (?P<container>\S+) exceeded its local ephemeral storage limit "(?P<limit>[^"]+)""#,
    },
    Signature {
        id: "evict-emptydir-limit",
        cause: Cause::NodeEviction,
        pattern: r#"Usage of EmptyDir volume "(?P<volume>[^"]+)" exceeds the limit "(?P<limit>[^"]+)""#,
    },
];

matcher!(EVICTION_MATCHER, EVICTION_TABLE);

/// Per-container usage in an eviction message: `(container, using, request)`, from both
/// the older (`which exceeds its request of`) and newer (`request is`) wordings.
pub fn eviction_usage(message: &str) -> Vec<(String, String, String)> {
    static RE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"Container (\S+) was using (\S+), (?:which exceeds its request of|request is) ([^,.\s]+)")
            .ok()
    });
    let Some(re) = RE.as_ref() else { return Vec::new() };
    re.captures_iter(message).map(|c| (c[1].to_string(), c[2].to_string(), c[3].to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_messages_parse() {
        let old = "The node was low on resource: ephemeral-storage. Container hush-house-worker was using 73712Ki, which exceeds its request of 0. ";
        let m = EVICTION_MATCHER.first(old).unwrap();
        assert_eq!((m.sig.id, m.get("resource")), ("evict-low-on-resource", "ephemeral-storage"));
        assert_eq!(eviction_usage(old), vec![("hush-house-worker".into(), "73712Ki".into(), "0".into())]);
        let new = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 89Mi. Container app was using 1200Mi, request is 256Mi, has larger consumption of memory. ";
        assert_eq!(EVICTION_MATCHER.first(new).unwrap().get("resource"), "memory");
        assert_eq!(eviction_usage(new), vec![("app".into(), "1200Mi".into(), "256Mi".into())]);
        assert_eq!(
            EVICTION_MATCHER.first("The node had condition: [DiskPressure]. ").unwrap().get("condition"),
            "DiskPressure"
        );
        let m = EVICTION_MATCHER
            .first("Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ")
            .unwrap();
        assert_eq!(m.get("limit"), "1Gi");
        let m = EVICTION_MATCHER.first("Container app exceeded its local ephemeral storage limit \"500Mi\". ").unwrap();
        assert_eq!((m.get("container"), m.get("limit")), ("app", "500Mi"));
        let m = EVICTION_MATCHER.first("Usage of EmptyDir volume \"cache\" exceeds the limit \"1Gi\". ").unwrap();
        assert_eq!(m.get("volume"), "cache");
        for s in EVICTION_TABLE {
            assert!(regex::Regex::new(&format!("(?i){}", s.pattern)).is_ok(), "{}", s.id);
        }
    }

    #[test]
    fn pasted_eviction_incident_parses() {
        let Some(text) = crate::signatures::sched::tests::pasted("058-") else {
            eprintln!("skipping pasted case 058: shared/corpus/pasted not present");
            return;
        };
        // The YAML folds the message over lines: unfold it.
        let joined: String = text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        let m = EVICTION_MATCHER.first(&joined).expect("058 names the resource");
        assert_eq!(m.get("resource"), "ephemeral-storage");
        let usage = eviction_usage(&joined);
        assert_eq!(usage.first().map(|u| u.0.as_str()), Some("hush-house-worker"));
    }
}
