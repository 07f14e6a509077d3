use std::sync::LazyLock;

use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};
use regex::Regex;

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Workloads whose pods a LimitRange refuses: `FailedCreate` events or the
    /// `ReplicaFailure` condition with `maximum memory usage per Container is 1Gi, but limit
    /// is 2Gi`, `minimum cpu usage per Container is 100m, but request is 50m`, `... No limit
    /// is specified` or `max limit to request ratio per Container is 2, but provided ratio is
    /// 4.000000`, while the workload still lacks pods.
    ///
    /// ### Why it breaks
    /// A LimitRange bounds each container's (or pod's) requests and limits in a namespace. A
    /// pod outside the bounds is refused at admission, so its ReplicaSet keeps failing to
    /// create it and no pod appears.
    ///
    /// ### How to confirm
    /// `kubectl describe limitrange -n <ns>` shows the bounds; `kubectl describe rs` shows the
    /// `FailedCreate` events naming the resource and the value.
    ///
    /// ### Fix
    /// Set the container's request or limit inside the bounds (`kubectl set resources`), or
    /// change the LimitRange if the bound is wrong for this workload.
    ///
    /// ### Prevention
    /// Keep charts' default resources inside the namespace's LimitRange; check with `kubectl
    /// apply --dry-run=server`.
    ///
    /// ### Example
    /// `pods "web-7c5d-abc" is forbidden: maximum memory usage per Container is 1Gi, but limit
    /// is 2Gi`.
    pub static META = {
        id: "KS0404",
        name: "limit-range-rejected",
        cause: Cause::AdmissionLimitRange,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a limit range refuses the workload's pods",
    }
}

pub struct LimitRangeRejected;

/// Every bound violation in a message (LimitRanger joins several into one error).
static ENTRIES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    crate::signatures::admission::TABLE
        .iter()
        .filter(|s| s.cause == Cause::AdmissionLimitRange)
        .filter_map(|s| Regex::new(&format!("(?i){}", s.pattern)).ok())
        .collect()
});

#[derive(Debug, PartialEq)]
struct Bound {
    /// `minimum`, `maximum` or `ratio`.
    bound: String,
    resource: String,
    scope: String,
    value: String,
    /// `limit` or `request`.
    which: String,
    /// The pod's value; empty when it sets none.
    actual: String,
}

fn bounds(reason: &str) -> Vec<Bound> {
    let mut out = Vec::new();
    for (i, re) in ENTRIES.iter().enumerate() {
        for c in re.captures_iter(reason) {
            let g = |n: &str| c.name(n).map(|m| m.as_str().to_string()).unwrap_or_default();
            let ratio = i > 0;
            out.push(Bound {
                bound: if ratio { "ratio".to_string() } else { g("bound").to_ascii_lowercase() },
                resource: g("resource"),
                scope: g("scope"),
                value: g("value"),
                which: if ratio {
                    "ratio".to_string()
                } else {
                    let w = g("which");
                    if w.is_empty() { g("which2") } else { w }
                },
                actual: g("actual"),
            });
        }
    }
    out
}

impl Bound {
    fn describe(&self) -> String {
        match (self.bound.as_str(), self.actual.is_empty()) {
            ("ratio", _) => format!(
                "{} limit/request ratio {} is above the maximum {} per {}",
                self.resource, self.actual, self.value, self.scope
            ),
            (b, true) => {
                format!("no {} {} is set, but the {b} per {} is {}", self.resource, self.which, self.scope, self.value)
            }
            ("maximum", false) => format!(
                "{} {} {} is above the maximum {} per {}",
                self.resource, self.which, self.actual, self.value, self.scope
            ),
            (_, false) => format!(
                "{} {} {} is below the minimum {} per {}",
                self.resource, self.which, self.actual, self.value, self.scope
            ),
        }
    }
}

impl Rule for LimitRangeRejected {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for fl in super::create_failures(cx).iter().filter(|f| f.sig.cause == Cause::AdmissionLimitRange) {
            let ns = fl.ns().to_string();
            let w = fl.workload.clone();
            let bs = bounds(&fl.reason);
            let what: Vec<String> = bs.iter().map(Bound::describe).collect();
            let title = format!(
                "LimitRange in {ns} refuses the pods of {} {}: {}",
                w.kind,
                w.name,
                what.first().cloned().unwrap_or_else(|| fl.reason.clone())
            );
            let root = format!(
                "A LimitRange in namespace {ns} bounds each container's resources, and the pods of {} {} fall outside it ({}); the API server refuses them{}.",
                w.kind,
                w.name,
                what.join("; "),
                super::replicas_phrase(fl)
            );
            let mut f = util::finding(&META, w.clone(), title, root);
            f.evidence = fl.evidence.clone();
            f.root_key = format!("limit-range:{ns}");
            let ranges: Vec<&ks_core::DynObject> =
                ev.other.iter().filter(|o| o.kind == "LimitRange" && o.namespace() == Some(ns.as_str())).collect();
            for r in &ranges {
                let limits = r.value.pointer("/spec/limits").and_then(|v| v.as_array()).cloned().unwrap_or_default();
                let mut parts = Vec::new();
                for l in &limits {
                    let t = l.get("type").and_then(|v| v.as_str()).unwrap_or("?");
                    for key in ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"] {
                        if let Some(m) = l.get(key).and_then(|v| v.as_object()) {
                            let kv: Vec<String> = m
                                .iter()
                                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(&v.to_string())))
                                .collect();
                            parts.push(format!("{t} {key} {}", kv.join(",")));
                        }
                    }
                }
                if !parts.is_empty() {
                    f.evidence.push(EvidenceItem::new(
                        EvidenceSource::Spec,
                        format!("LimitRange {}: {}", r.name(), parts.join("; ")),
                        Some(r.object_ref()),
                    ));
                }
            }
            let template = util::pod_template(ev, &w).map(|(s, _)| s);
            for b in &bs {
                if b.bound == "ratio" {
                    f.fix.push(Fix::text(format!(
                        "Raise the {} request (or lower the limit) of {} {} so that limit/request is at most {}",
                        b.resource, w.kind, w.name, b.value
                    )));
                    continue;
                }
                let flag = if b.which == "limit" { "--limits" } else { "--requests" };
                // The containers whose value the message quotes, or that set none.
                let containers: Vec<String> = template
                    .map(|s| {
                        s.containers
                            .iter()
                            .filter(|c| {
                                let r = c.resources.as_ref();
                                let m = if b.which == "limit" {
                                    r.and_then(|r| r.limits.as_ref())
                                } else {
                                    r.and_then(|r| r.requests.as_ref())
                                };
                                let v = m.and_then(|m| m.get(&b.resource)).map(|q| q.0.as_str());
                                if b.actual.is_empty() { v.is_none() } else { v == Some(b.actual.as_str()) }
                            })
                            .map(|c| c.name.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                let target = if containers.len() == 1 { format!(" -c {}", containers[0]) } else { String::new() };
                let who = if containers.len() == 1 {
                    format!("container {}", containers[0])
                } else {
                    format!("{} {}", w.kind, w.name)
                };
                f.fix.push(Fix::cmd(
                    format!(
                        "Set the {} {} of {who} to the LimitRange's {} ({})",
                        b.resource, b.which, b.bound, b.value
                    ),
                    format!(
                        "kubectl -n {ns} set resources {}{target} {flag}={}={}",
                        w.kubectl_ref(),
                        b.resource,
                        b.value
                    ),
                ));
            }
            f.fix.push(Fix::cmd(
                format!("or, if the bound is wrong for this workload, change the LimitRange in {ns}"),
                match ranges.as_slice() {
                    [one] => format!("kubectl -n {ns} edit limitrange {}", one.name()),
                    _ => format!("kubectl -n {ns} describe limitrange"),
                },
            ));
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_bound_in_a_joined_message() {
        let b = bounds(
            "[maximum memory usage per Container is 1Gi, but limit is 2Gi, minimum cpu usage per Container is 100m.  No request is specified, cpu max limit to request ratio per Container is 4, but provided ratio is 10.000000]",
        );
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].bound.as_str(), b[0].which.as_str(), b[0].actual.as_str()), ("maximum", "limit", "2Gi"));
        assert_eq!((b[1].bound.as_str(), b[1].which.as_str(), b[1].actual.as_str()), ("minimum", "request", ""));
        assert_eq!((b[2].bound.as_str(), b[2].value.as_str()), ("ratio", "4"));
        assert_eq!(b[0].describe(), "memory limit 2Gi is above the maximum 1Gi per Container");
    }
}
