//! Correlation: one root cause, one finding.
//!
//! Rules report per pod or per object. Here:
//! 1. findings of one rule about one object with one root key merge, their affected pods
//!    and evidence united (40 pods failing on one Secret key are one finding);
//! 2. symptom findings (a stuck rollout, a failed Job) fold into a concrete cause found for
//!    the same object, their evidence kept;
//! 3. findings about different objects that share a root key are linked
//!    ("3 workloads share this cause");
//! 4. each finding gets its scope ("3 of 4 pods") and the list is sorted.

use std::collections::{BTreeMap, HashMap};

use ks_core::{Cause, Evidence, Finding, Fix, ObjectRef};

/// Causes that describe a symptom of something else when another cause is known.
const SYMPTOMS: &[Cause] =
    &[Cause::WorkloadRolloutStuck, Cause::JobBackoffLimit, Cause::JobDeadline, Cause::NetReadiness];

/// How many evidence items a merged finding keeps.
const MAX_EVIDENCE: usize = 8;

/// `(from, into)`: on one object, a finding with the first cause is the same story as one
/// with the second and is folded into it. The app crashing because it cannot reach `mongodb`
/// and its env naming a Service `mongodb` that does not exist are one root cause; the crash
/// finding is what the user sees, and it already says the Service is missing.
const FOLD_INTO: &[(Cause, Cause)] = &[
    (Cause::NetDanglingReference, Cause::CrashDependencyUnreachable),
    (Cause::NetReadiness, Cause::CrashDependencyUnreachable),
];

pub fn correlate(ev: &Evidence, findings: Vec<Finding>) -> Vec<Finding> {
    let merged = merge_same(findings);
    let explained = fold_pairs(merged);
    let consequences = fold_consequences(explained);
    let folded = fold_symptoms(consequences);
    let mut linked = link_shared(folded);
    for f in &mut linked {
        f.scope = scope(ev, f);
        f.affected.sort();
    }
    linked.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.object.namespace.cmp(&b.object.namespace))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.object.kind.cmp(&b.object.kind))
            .then_with(|| a.object.name.cmp(&b.object.name))
            .then_with(|| a.title.cmp(&b.title))
    });
    linked
}

fn push_unique<T: PartialEq>(into: &mut Vec<T>, item: T) {
    if !into.contains(&item) {
        into.push(item);
    }
}

/// Fixes merge by description: forty pods needing "read the crashed instance's log" get one
/// example command, not forty.
fn push_fix(into: &mut Vec<Fix>, fix: Fix) {
    if !into.iter().any(|f| f.description == fix.description) {
        into.push(fix);
    }
}

fn merge_same(findings: Vec<Finding>) -> Vec<Finding> {
    let mut order: Vec<(String, ObjectRef, String)> = Vec::new();
    let mut by_key: HashMap<(String, ObjectRef, String), Finding> = HashMap::new();
    for f in findings {
        // Without a root key, the title tells distinct causes apart.
        let root = if f.root_key.is_empty() { f.title.clone() } else { f.root_key.clone() };
        let key = (f.rule.clone(), f.object.clone(), root);
        match by_key.get_mut(&key) {
            Some(existing) => {
                for a in f.affected {
                    push_unique(&mut existing.affected, a);
                }
                for e in f.evidence {
                    // One quote per distinct text: 40 pods saying the same thing is one line.
                    if existing.evidence.len() < MAX_EVIDENCE && !existing.evidence.iter().any(|x| x.text == e.text) {
                        existing.evidence.push(e);
                    }
                }
                for fx in f.fix {
                    push_fix(&mut existing.fix, fx);
                }
            }
            None => {
                order.push(key.clone());
                by_key.insert(key, f);
            }
        }
    }
    order.into_iter().filter_map(|k| by_key.remove(&k)).collect()
}

/// Move `from`'s evidence, affected objects and fixes into `into`, with a sentence saying so.
fn absorb(into: &mut Finding, from: Finding, note: Option<String>) {
    for e in from.evidence {
        if into.evidence.len() < MAX_EVIDENCE + 4 && !into.evidence.iter().any(|x| x.text == e.text) {
            into.evidence.push(e);
        }
    }
    for a in from.affected {
        push_unique(&mut into.affected, a);
    }
    if let Some(n) = note {
        into.root_cause.push(' ');
        into.root_cause.push_str(&n);
    }
}

fn fold_pairs(findings: Vec<Finding>) -> Vec<Finding> {
    let mut keep: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    for &(symptom, explanation) in FOLD_INTO {
        let explainers: HashMap<ObjectRef, usize> = keep
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().filter(|f| f.cause == explanation).map(|f| (f.object.clone(), i)))
            .collect();
        for i in 0..keep.len() {
            let Some(f) = keep[i].as_ref() else { continue };
            if f.cause != symptom {
                continue;
            }
            let Some(&target) = explainers.get(&f.object) else { continue };
            if let Some(s) = keep[i].take() {
                // The absorbing finding already names the missing Service; its evidence is kept.
                if let Some(t) = keep[target].as_mut() {
                    absorb(t, s, None);
                }
            }
        }
    }
    keep.into_iter().flatten().collect()
}

fn fold_consequences(findings: Vec<Finding>) -> Vec<Finding> {
    let mut first_for: HashMap<ObjectRef, usize> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.caused_by.is_none() {
            first_for.entry(f.object.clone()).or_insert(i);
        }
    }
    let mut keep: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    for i in 0..keep.len() {
        let Some(cause_obj) = keep[i].as_ref().and_then(|f| f.caused_by.clone()) else { continue };
        let Some(&target) = first_for.get(&cause_obj) else { continue };
        if let Some(c) = keep[i].take() {
            let note = format!("As a result: {}.", c.title.trim_end_matches('.'));
            let obj = c.object.clone();
            if let Some(t) = keep[target].as_mut() {
                push_unique(&mut t.affected, obj);
                absorb(t, c, Some(note));
            }
        }
    }
    keep.into_iter().flatten().collect()
}

fn fold_symptoms(findings: Vec<Finding>) -> Vec<Finding> {
    // Objects that have a concrete (non-symptom) cause.
    let mut concrete: HashMap<ObjectRef, usize> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        if !SYMPTOMS.contains(&f.cause) && f.cause != Cause::CrashUnknown {
            concrete.entry(f.object.clone()).or_insert(i);
        }
    }
    let mut keep: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    for i in 0..keep.len() {
        let Some(f) = keep[i].as_ref() else { continue };
        if !SYMPTOMS.contains(&f.cause) {
            continue;
        }
        let Some(&target) = concrete.get(&f.object) else { continue };
        let Some(symptom) = keep[i].take() else { continue };
        if let Some(t) = keep[target].as_mut() {
            absorb(t, symptom, None);
        }
    }
    // A crash.unknown next to a symptom on one object (a Job whose pods exit for no known
    // reason): the symptom finding carries the crash's evidence instead of a second finding.
    let symptom_at: HashMap<ObjectRef, usize> = keep
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.as_ref().filter(|f| SYMPTOMS.contains(&f.cause)).map(|f| (f.object.clone(), i)))
        .collect();
    for i in 0..keep.len() {
        let Some(f) = keep[i].as_ref() else { continue };
        if f.cause != Cause::CrashUnknown {
            continue;
        }
        let Some(&target) = symptom_at.get(&f.object) else { continue };
        let Some(mut unknown) = keep[i].take() else { continue };
        if let Some(t) = keep[target].as_mut() {
            for fx in std::mem::take(&mut unknown.fix) {
                push_fix(&mut t.fix, fx);
            }
            absorb(t, unknown, None);
        }
    }
    keep.into_iter().flatten().collect()
}

fn link_shared(mut findings: Vec<Finding>) -> Vec<Finding> {
    let mut by_root: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if !f.root_key.is_empty() {
            by_root.entry(f.root_key.clone()).or_default().push(i);
        }
    }
    for idxs in by_root.values() {
        let objects: Vec<ObjectRef> = idxs.iter().map(|&i| findings[i].object.clone()).collect();
        let mut distinct = objects.clone();
        distinct.sort();
        distinct.dedup();
        if distinct.len() < 2 {
            continue;
        }
        for &i in idxs {
            let me = findings[i].object.clone();
            let others: Vec<ObjectRef> = distinct.iter().filter(|o| **o != me).cloned().collect();
            let names: Vec<String> = others.iter().map(|o| format!("{} {}", o.kind, o.qualified_name())).collect();
            let f = &mut findings[i];
            f.root_cause.push_str(&format!(
                " {} objects share this cause; the others: {}.",
                distinct.len(),
                names.join(", ")
            ));
            f.related = others;
        }
    }
    findings
}

fn scope(ev: &Evidence, f: &Finding) -> Option<String> {
    let pods = f.affected.iter().filter(|a| a.kind == "Pod").count();
    if pods == 0 || f.object.kind == "Pod" {
        return None;
    }
    let total = ev.index.pods_by_workload.get(&f.object).map(|v| v.len()).unwrap_or(pods).max(pods);
    Some(format!("{pods} of {total} pod{}", if total == 1 { "" } else { "s" }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ks_core::{EvidenceItem, EvidenceSource, Severity};

    fn f(rule: &str, cause: Cause, kind: &str, name: &str, pod: &str, key: &str) -> Finding {
        Finding {
            rule: rule.into(),
            name: "n".into(),
            severity: Severity::Error,
            cause,
            object: ObjectRef::new(kind, Some("shop"), name),
            affected: vec![ObjectRef::new("Pod", Some("shop"), pod)],
            scope: None,
            title: "t".into(),
            root_cause: "r.".into(),
            evidence: vec![EvidenceItem::new(EvidenceSource::Status, "same message", None)],
            fix: vec![],
            prevention: None,
            related: vec![],
            location: None,
            root_key: key.into(),
            caused_by: None,
        }
    }

    #[test]
    fn merges_pods_of_one_workload_and_links_workloads_sharing_a_key() {
        let ev = Evidence::default();
        let out = correlate(
            &ev,
            vec![
                f("KS0201", Cause::ConfigSecretKeyMissing, "Deployment", "backend", "backend-1", "k"),
                f("KS0201", Cause::ConfigSecretKeyMissing, "Deployment", "backend", "backend-2", "k"),
                f("KS0201", Cause::ConfigSecretKeyMissing, "Deployment", "worker", "worker-1", "k"),
            ],
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].affected.len(), 2);
        assert_eq!(out[0].evidence.len(), 1, "identical quotes are kept once");
        assert_eq!(out[0].related, vec![ObjectRef::new("Deployment", Some("shop"), "worker")]);
        assert!(out[0].root_cause.contains("2 objects share this cause"));
    }

    #[test]
    fn a_stuck_rollout_folds_into_its_concrete_cause() {
        let ev = Evidence::default();
        let out = correlate(
            &ev,
            vec![
                f("KS0701", Cause::WorkloadRolloutStuck, "Deployment", "backend", "backend-1", ""),
                f("KS0101", Cause::ImageAuth, "Deployment", "backend", "backend-1", "image.auth:reg"),
            ],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].cause, Cause::ImageAuth);
    }

    #[test]
    fn a_symptom_alone_stays() {
        let ev = Evidence::default();
        let out = correlate(&ev, vec![f("KS0702", Cause::JobBackoffLimit, "Job", "build", "build-1", "")]);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn a_service_without_endpoints_folds_into_its_workloads_finding() {
        let ev = Evidence::default();
        let mut svc =
            f("KS0801", Cause::NetServiceNoEndpoints, "Service", "api", "api-1", "service-endpoints:shop/api");
        svc.caused_by = Some(ObjectRef::new("Deployment", Some("shop"), "api"));
        let out = correlate(&ev, vec![svc, f("KS0301", Cause::CrashOom, "Deployment", "api", "api-1", "")]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].cause, Cause::CrashOom);
        assert!(out[0].affected.contains(&ObjectRef::new("Service", Some("shop"), "api")));
        assert!(out[0].root_cause.contains("As a result"));
    }

    #[test]
    fn a_consequence_stays_when_its_cause_has_no_finding() {
        let ev = Evidence::default();
        let mut svc = f("KS0801", Cause::NetServiceNoEndpoints, "Service", "api", "api-1", "");
        svc.caused_by = Some(ObjectRef::new("Deployment", Some("shop"), "other"));
        assert_eq!(correlate(&ev, vec![svc]).len(), 1);
    }

    #[test]
    fn a_missing_service_reference_folds_into_the_crash_it_causes() {
        let ev = Evidence::default();
        let out = correlate(
            &ev,
            vec![
                f("KS0307", Cause::CrashDependencyUnreachable, "Deployment", "inventory", "inv-1", "a"),
                f("KS0804", Cause::NetDanglingReference, "Deployment", "inventory", "inv-1", "b"),
            ],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].cause, Cause::CrashDependencyUnreachable);
        assert_eq!(out[0].evidence.len(), 1, "the same quote is kept once");
    }
}
