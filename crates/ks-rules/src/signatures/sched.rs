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

#[cfg(test)]
mod tests {
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
}
