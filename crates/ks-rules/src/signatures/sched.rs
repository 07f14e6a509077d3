//! Scheduler `FailedScheduling` histogram entries (`0/N nodes are available: ...`).
//! Entries are matched one at a time after the message is split.

use super::Signature;
use ks_core::Cause;

pub static TABLE: &[Signature] = &[
    Signature {
        id: "sched-pvc-unbound",
        cause: Cause::SchedPvcUnbound,
        pattern: r"pod has unbound immediate PersistentVolumeClaims|persistentvolumeclaim \S+ not found|unbound PersistentVolumeClaim",
    },
    Signature {
        id: "sched-volume-node-affinity",
        cause: Cause::SchedVolumeNodeAffinity,
        pattern: r"had volume node affinity conflict|didn't match PersistentVolume's node affinity|didn't find available persistent volumes to bind|bound to non-existent pv",
    },
    Signature {
        id: "sched-insufficient",
        cause: Cause::SchedInsufficientResources,
        pattern: r"Insufficient (?P<resource>\S+)|Too many pods|did not have enough free storage|didn't have free ports",
    },
    Signature {
        id: "sched-taint",
        cause: Cause::SchedTaint,
        pattern: r"had (?:untolerated )?taints?(?:\(s\))?(?: \{(?P<taint>[^}]*)\})?|were unschedulable|had (?:memory|disk|pid) pressure|were not ready",
    },
    Signature {
        id: "sched-affinity",
        cause: Cause::SchedAffinity,
        pattern: r"didn't match (?:Pod's node affinity|node selector|pod affinity|pod anti-affinity|scheduler-enforced node affinity|the requested node name|the requested hostname|pod topology spread)|didn't satisfy existing pods anti-affinity|pod affinity terms conflict",
    },
];

super::matcher!(MATCHER, TABLE);

/// One histogram entry, `2 Insufficient cpu`.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub count: u32,
    pub reason: &'a str,
}

/// Split `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s).
/// preemption: ...` into `(total nodes, entries)`. The preemption part is dropped: it only
/// says whether evicting would help. A PreFilter message (no counts) comes back as one entry
/// with count 0.
pub fn parse_fit_error(msg: &str) -> Option<(u32, Vec<Entry<'_>>)> {
    let start = msg.find("0/")?;
    let rest = &msg[start + 2..];
    let (total, rest) = rest.split_once(" nodes are available")?;
    let total: u32 = total.trim().parse().ok()?;
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    let body = match rest.find("preemption:") {
        Some(p) => &rest[..p],
        None => rest,
    };
    let body = body.trim().trim_end_matches('.');
    let mut entries = Vec::new();
    // Entries are ", "-separated; a ". " ends the filter part (a PostFilter message follows).
    let filter_part = body.split(". ").next().unwrap_or(body);
    for part in filter_part.split(", ") {
        let part = part.trim().trim_end_matches('.');
        if part.is_empty() {
            continue;
        }
        match part.split_once(' ') {
            Some((n, reason)) if n.chars().all(|c| c.is_ascii_digit()) => {
                entries.push(Entry { count: n.parse().unwrap_or(0), reason });
            }
            _ => entries.push(Entry { count: 0, reason: part }),
        }
    }
    Some((total, entries))
}

/// Whether a histogram entry names a control-plane taint (`{node-role.kubernetes.io/control-plane: }`).
pub fn is_control_plane_taint(reason: &str) -> bool {
    reason.contains("node-role.kubernetes.io/control-plane") || reason.contains("node-role.kubernetes.io/master")
}

/// The cause that explains a scheduler message best.
///
/// Every node is counted under the first filter that rejects it, and the filters run in a
/// fixed order (taints, node affinity, resources, volumes, pod affinity), so:
/// - a PVC or PV problem blocks the pod wherever it goes, and comes first;
/// - nodes reported as full passed the taint and affinity filters: the nodes meant for the
///   pod are full, whatever excluded the others;
/// - otherwise taints and affinity compete by how many nodes each excludes, not counting
///   control-plane nodes, which no workload is meant for (`control_plane_nodes` is how many
///   the evidence shows).
pub fn dominant_cause(message: &str, control_plane_nodes: u32) -> Option<Cause> {
    let Some((_, entries)) = parse_fit_error(message) else {
        return MATCHER.first(message).map(|m| m.sig.cause);
    };
    let classified: Vec<(u32, Cause, &str)> =
        entries.iter().filter_map(|e| MATCHER.first(e.reason).map(|m| (e.count, m.sig.cause, e.reason))).collect();
    if classified.is_empty() {
        return MATCHER.first(message).map(|m| m.sig.cause);
    }
    for c in [Cause::SchedPvcUnbound, Cause::SchedVolumeNodeAffinity, Cause::SchedInsufficientResources] {
        if classified.iter().any(|(_, cause, _)| *cause == c) {
            return Some(c);
        }
    }
    let (mut taint, mut affinity, mut any_affinity) = (0u64, 0u64, false);
    let mut cp_left = control_plane_nodes;
    for (count, cause, reason) in &classified {
        // A message without counts (PreFilter) excludes every node.
        let n = if *count == 0 { u64::from(u32::MAX) } else { u64::from(*count) };
        match cause {
            Cause::SchedTaint => {
                let discount = if is_control_plane_taint(reason) {
                    n
                } else if reason.contains("taint") {
                    let d = n.min(u64::from(cp_left));
                    cp_left -= d as u32;
                    d
                } else {
                    0
                };
                taint += n - discount;
            }
            Cause::SchedAffinity => {
                affinity += n;
                any_affinity = true;
            }
            _ => {}
        }
    }
    if any_affinity && affinity > taint {
        return Some(Cause::SchedAffinity);
    }
    if taint == 0 && any_affinity {
        return Some(Cause::SchedAffinity);
    }
    Some(Cause::SchedTaint)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn parses_current_and_older_fit_errors() {
        let (n, e) = parse_fit_error("0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.").unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            e,
            vec![Entry { count: 2, reason: "Insufficient cpu" }, Entry { count: 2, reason: "Insufficient memory" }]
        );
        let (_, e) = parse_fit_error("0/3 nodes are available: 3 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate.").unwrap();
        assert_eq!(MATCHER.first(e[0].reason).map(|m| m.sig.cause), Some(Cause::SchedTaint));
        let (_, e) = parse_fit_error("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.").unwrap();
        assert_eq!(MATCHER.first(e[0].reason).map(|m| m.sig.cause), Some(Cause::SchedPvcUnbound));
        let (_, e) = parse_fit_error("0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 node(s) had untolerated taint(s).").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(MATCHER.first(e[0].reason).map(|m| m.sig.cause), Some(Cause::SchedAffinity));
    }

    #[test]
    fn every_signature_has_a_reference_wording() {
        let cases = [
            ("pod has unbound immediate PersistentVolumeClaims", Cause::SchedPvcUnbound),
            ("persistentvolumeclaim \"data\" not found", Cause::SchedPvcUnbound),
            ("node(s) had volume node affinity conflict", Cause::SchedVolumeNodeAffinity),
            ("node(s) didn't match PersistentVolume's node affinity", Cause::SchedVolumeNodeAffinity),
            ("node(s) didn't find available persistent volumes to bind", Cause::SchedVolumeNodeAffinity),
            (
                "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)",
                Cause::SchedVolumeNodeAffinity,
            ),
            ("Insufficient nvidia.com/gpu", Cause::SchedInsufficientResources),
            ("Too many pods", Cause::SchedInsufficientResources),
            ("node(s) did not have enough free storage", Cause::SchedInsufficientResources),
            ("node(s) didn't have free ports for the requested pod ports", Cause::SchedInsufficientResources),
            ("node(s) had untolerated taint(s)", Cause::SchedTaint),
            ("node(s) had untolerated taint {dedicated: gpu}", Cause::SchedTaint),
            ("node(s) were unschedulable", Cause::SchedTaint),
            ("node(s) had disk pressure", Cause::SchedTaint),
            ("node(s) were not ready", Cause::SchedTaint),
            ("node(s) didn't match Pod's node affinity/selector", Cause::SchedAffinity),
            ("node(s) didn't match node selector", Cause::SchedAffinity),
            ("node(s) didn't match pod anti-affinity rules", Cause::SchedAffinity),
            ("node(s) didn't satisfy existing pods anti-affinity rules", Cause::SchedAffinity),
            ("node(s) didn't match pod topology spread constraints", Cause::SchedAffinity),
            ("pod affinity terms conflict", Cause::SchedAffinity),
        ];
        for (text, cause) in cases {
            assert_eq!(MATCHER.first(text).map(|m| m.sig.cause), Some(cause), "{text}");
        }
        let m = MATCHER.first("node(s) had untolerated taint {dedicated: gpu}").unwrap();
        assert_eq!(m.get("taint"), "dedicated: gpu");
        assert_eq!(MATCHER.first("Insufficient ephemeral-storage").unwrap().get("resource"), "ephemeral-storage");
    }

    #[test]
    fn the_dominant_cause_is_the_one_to_fix() {
        // Full nodes passed the taint and affinity filters: capacity is the problem.
        let m = "0/5 nodes are available: 1 Insufficient memory, 4 node(s) didn't match Pod's node affinity/selector.";
        assert_eq!(dominant_cause(m, 0), Some(Cause::SchedInsufficientResources));
        // Control-plane nodes are not meant for workloads: the worker's selector is.
        let m = "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 node(s) had untolerated taint(s).";
        assert_eq!(dominant_cause(m, 3), Some(Cause::SchedAffinity));
        assert_eq!(dominant_cause(m, 0), Some(Cause::SchedTaint));
        let m = "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.";
        assert_eq!(dominant_cause(m, 1), Some(Cause::SchedTaint));
        let m = "0/3 nodes are available: 3 node(s) had volume node affinity conflict.";
        assert_eq!(dominant_cause(m, 0), Some(Cause::SchedVolumeNodeAffinity));
        assert_eq!(dominant_cause("persistentvolumeclaim \"data\" not found", 0), Some(Cause::SchedPvcUnbound));
        assert_eq!(dominant_cause("0/2 nodes are available: 2 something new.", 0), None);
    }

    /// The text of a pasted incident, when the shared corpus is present.
    pub(crate) fn pasted(prefix: &str) -> Option<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/pasted");
        let entry =
            std::fs::read_dir(dir).ok()?.flatten().find(|e| e.file_name().to_string_lossy().starts_with(prefix))?;
        std::fs::read_to_string(entry.path().join("evidence.txt")).ok()
    }

    /// Scheduler messages in pasted text: event lines, or a YAML `message:` folded over lines.
    fn scheduler_messages(text: &str) -> Vec<String> {
        let lines: Vec<&str> = text.lines().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            i += 1;
            let Some(start) = line.find("0/") else { continue };
            if !line[start..].contains("nodes are available") {
                continue;
            }
            let mut msg = line[start..].trim_end().to_string();
            if line.contains("message: '") {
                while i < lines.len() && (!msg.ends_with('\'') || msg.ends_with("''")) {
                    msg.push(' ');
                    msg.push_str(lines[i].trim());
                    i += 1;
                }
                msg = msg.trim_end_matches('\'').replace("''", "'");
            }
            out.push(msg);
        }
        out
    }

    #[test]
    fn pasted_scheduler_incidents_get_their_labelled_cause() {
        let cases = [
            ("023-", Cause::SchedInsufficientResources),
            ("025-", Cause::SchedTaint),
            ("026-", Cause::SchedAffinity),
            ("028-", Cause::SchedPvcUnbound),
            ("065-", Cause::SchedInsufficientResources),
        ];
        for (prefix, cause) in cases {
            let Some(text) = pasted(prefix) else {
                eprintln!("skipping pasted case {prefix}: shared/corpus/pasted not present");
                continue;
            };
            let msgs = scheduler_messages(&text);
            assert!(!msgs.is_empty(), "{prefix}: no scheduler message found");
            for m in msgs {
                assert_eq!(dominant_cause(&m, 0), Some(cause), "{prefix}: {m}");
            }
        }
    }
}
