use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Workloads whose pods a ResourceQuota refuses: `FailedCreate` events or the
    /// `ReplicaFailure` condition with `exceeded quota: <name>, requested: ..., used: ...,
    /// limited: ...`, `failed quota: <name>: must specify ...` or `insufficient quota to match
    /// these scopes`, while the workload still lacks pods.
    ///
    /// ### Why it breaks
    /// A ResourceQuota caps the sum of requests, limits or object counts in a namespace. When
    /// the pods that already run use it up, the API server refuses every new pod, including the
    /// surge pod a rolling update needs, so the rollout stalls half done. A quota on
    /// requests or limits also refuses pods whose containers do not set them.
    ///
    /// ### How to confirm
    /// `kubectl describe resourcequota <name> -n <ns>` shows Used next to Hard;
    /// `kubectl describe rs` shows the `exceeded quota` events.
    ///
    /// ### Fix
    /// Raise the quota, lower the pods' requests/limits, scale other workloads down, or roll
    /// out with `maxSurge: 0` so a rollout does not need room for an extra pod. For `must
    /// specify`, set requests and limits on every container (or a LimitRange default).
    ///
    /// ### Prevention
    /// Size quotas for replicas × limits plus the rollout surge; alert on quota usage above
    /// 80%; give every container requests and limits.
    ///
    /// ### Example
    /// `exceeded quota: namespace-quota, requested: limits.cpu=1,limits.memory=2Gi, used:
    /// limits.cpu=6,limits.memory=12Gi, limited: limits.cpu=6,limits.memory=12Gi`.
    pub static META = {
        id: "KS0403",
        name: "quota-exceeded",
        cause: Cause::AdmissionQuota,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a resource quota refuses the workload's pods",
    }
}

pub struct QuotaExceeded;

/// `limits.cpu=1,limits.memory=2Gi` → `[("limits.cpu", "1"), ("limits.memory", "2Gi")]`.
fn pairs(list: &str) -> Vec<(String, String)> {
    list.trim_end_matches(['.', ','])
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

const SUFFIXES: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1048576.0),
    ("Gi", 1073741824.0),
    ("Ti", 1099511627776.0),
    ("m", 0.001),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("", 1.0),
];

/// A quantity in base units and its suffix (`2Gi` → 2147483648, "Gi").
fn qty(s: &str) -> Option<(f64, &'static str)> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (n, suffix) = s.split_at(split);
    let n: f64 = n.parse().ok()?;
    let &(sfx, mult) = SUFFIXES.iter().find(|(x, _)| *x == suffix)?;
    Some((n * mult, sfx))
}

/// `a + b` written in `a`'s unit, when that is exact.
fn add(a: &str, b: &str) -> Option<String> {
    let ((x, sfx), (y, _)) = (qty(a)?, qty(b)?);
    let mult = SUFFIXES.iter().find(|(s, _)| *s == sfx)?.1;
    let n = (x + y) / mult;
    (n.fract().abs() < 1e-9).then(|| format!("{}{sfx}", n.round() as i64))
}

impl Rule for QuotaExceeded {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for fl in super::create_failures(cx).iter().filter(|f| f.sig.cause == Cause::AdmissionQuota) {
            let ns = fl.ns().to_string();
            let w = fl.workload.clone();
            let quota = fl.get("quota").to_string();
            let describe = Fix::cmd(
                "See the quota's usage next to its hard limits",
                if quota.is_empty() {
                    format!("kubectl -n {ns} describe resourcequota")
                } else {
                    format!("kubectl -n {ns} describe resourcequota {quota}")
                },
            );
            let mut fixes = Vec::new();
            let (title, root) = match fl.sig.id {
                "admission-quota" => {
                    let requested = pairs(fl.get("requested"));
                    let used = pairs(fl.get("used"));
                    let limited = pairs(fl.get("limited"));
                    let mut lines = Vec::new();
                    let mut raise = serde_json::Map::new();
                    for (res, req) in &requested {
                        let u = used.iter().find(|(k, _)| k == res).map(|(_, v)| v.as_str()).unwrap_or("?");
                        let l = limited.iter().find(|(k, _)| k == res).map(|(_, v)| v.as_str()).unwrap_or("?");
                        lines.push(format!("{res}: {u} of {l} used, the pod needs {req} more"));
                        if let Some(new) = add(u, req) {
                            raise.insert(res.clone(), serde_json::Value::String(new));
                        }
                    }
                    fixes.push(describe.clone());
                    if !raise.is_empty() {
                        fixes.push(Fix::cmd(
                            format!("Raise {quota} so one more pod fits (or more, for every pod still missing)"),
                            format!(
                                "kubectl -n {ns} patch resourcequota {quota} --type merge -p '{}'",
                                serde_json::json!({"spec": {"hard": raise}})
                            ),
                        ));
                    }
                    // A rollout blocked while the old pods still run: the surge pod does not fit.
                    if let Some(d) = rollout_blocked(ev, &w) {
                        fixes.push(Fix::cmd(
                            format!(
                                "or let the rollout of {d} replace pods one at a time within the quota (no surge pod)"
                            ),
                            format!(
                                "kubectl -n {ns} patch deployment {d} -p '{{\"spec\":{{\"strategy\":{{\"rollingUpdate\":{{\"maxSurge\":0,\"maxUnavailable\":1}}}}}}}}'"
                            ),
                        ));
                    }
                    fixes.push(Fix::text(format!(
                        "or lower the requests/limits of {} {}, or scale down other workloads in {ns}",
                        w.kind, w.name
                    )));
                    let surge = if rollout_blocked(ev, &w).is_some() {
                        " The pods that already run use it up, so the rolling update cannot add the new pod it needs and stops half done."
                    } else {
                        ""
                    };
                    (
                        format!("ResourceQuota {ns}/{quota} is used up: {} {} cannot create pods", w.kind, w.name),
                        format!(
                            "ResourceQuota {quota} in namespace {ns} refuses every new pod of {} {}{}: {}.{surge}",
                            w.kind,
                            w.name,
                            super::replicas_phrase(fl),
                            lines.join("; ")
                        ),
                    )
                }
                "admission-quota-must-specify" => {
                    let resources = fl.get("resources").replace(',', ", ");
                    let flags = set_resources_flags(&resources);
                    fixes.push(Fix::cmd(
                        format!(
                            "Give every container of {} {} requests and limits (size them for the app)",
                            w.kind, w.name
                        ),
                        format!("kubectl -n {ns} set resources {} {flags}", w.kubectl_ref()),
                    ));
                    fixes.push(describe.clone());
                    (
                        format!(
                            "ResourceQuota {ns}/{quota} requires requests/limits that {} {} does not set",
                            w.kind, w.name
                        ),
                        format!(
                            "ResourceQuota {quota} in namespace {ns} tracks {resources}, so the API server refuses pods whose containers do not set them; {} {} sets none{}.",
                            w.kind,
                            w.name,
                            super::replicas_phrase(fl)
                        ),
                    )
                }
                _ => {
                    fixes.push(Fix::cmd(
                        "List the namespace's quotas and their scopes",
                        format!("kubectl -n {ns} get resourcequota -o custom-columns=NAME:.metadata.name,SCOPES:.spec.scopeSelector"),
                    ));
                    fixes.push(Fix::text(format!(
                        "Create a ResourceQuota in {ns} whose scopes cover the pods (e.g. their PriorityClass), or change the pods' priorityClassName"
                    )));
                    (
                        format!("No ResourceQuota in {ns} covers the pods of {} {}", w.kind, w.name),
                        format!(
                            "The API server requires a ResourceQuota matching the pods' scopes ({}) and none in namespace {ns} does, so {} {} cannot create pods{}.",
                            fl.get("scopes"),
                            w.kind,
                            w.name,
                            super::replicas_phrase(fl)
                        ),
                    )
                }
            };
            let mut f = util::finding(&META, w.clone(), title, root);
            f.evidence = fl.evidence.clone();
            if let Some(q) = ev.custom("ResourceQuota", Some(&ns), &quota) {
                let hard = q.value.pointer("/status/hard").or_else(|| q.value.pointer("/spec/hard"));
                let used = q.value.pointer("/status/used");
                if let (Some(h), Some(u)) = (hard.and_then(|v| v.as_object()), used.and_then(|v| v.as_object())) {
                    let s: Vec<String> = h
                        .iter()
                        .map(|(k, hv)| {
                            format!(
                                "{k} {}/{}",
                                u.get(k).and_then(|v| v.as_str()).unwrap_or("0"),
                                hv.as_str().unwrap_or("?")
                            )
                        })
                        .collect();
                    f.evidence.push(EvidenceItem::new(
                        EvidenceSource::Status,
                        format!("ResourceQuota {quota} used/hard: {}", s.join(", ")),
                        Some(q.object_ref()),
                    ));
                }
            }
            f.root_key = format!("quota:{ns}/{quota}");
            f.fix = fixes;
            out.push(f);
        }
    }
}

/// The Deployment whose rollout is blocked with all its old pods still available.
fn rollout_blocked(ev: &ks_core::Evidence, w: &ks_core::ObjectRef) -> Option<String> {
    if w.kind != "Deployment" {
        return None;
    }
    let &i = ev.index.deployments.get(&(w.namespace.clone().unwrap_or_default(), w.name.clone()))?;
    let d = &ev.deployments[i];
    let want = d.spec.replicas.unwrap_or(1);
    let st = d.status.as_ref()?;
    (st.available_replicas.unwrap_or(0) >= want && st.updated_replicas.unwrap_or(0) < want).then(|| w.name.clone())
}

/// `kubectl set resources` flags for the resources a quota says must be specified.
fn set_resources_flags(resources: &str) -> String {
    let mut req = Vec::new();
    let mut lim = Vec::new();
    for r in resources.split([',', ';']).map(|r| r.split(" for:").next().unwrap_or(r).trim()) {
        match r {
            "requests.cpu" | "cpu" => req.push("cpu=100m"),
            "requests.memory" | "memory" => req.push("memory=128Mi"),
            "limits.cpu" => lim.push("cpu=500m"),
            "limits.memory" => lim.push("memory=512Mi"),
            _ => {}
        }
    }
    req.dedup();
    let mut out = Vec::new();
    if !req.is_empty() {
        out.push(format!("--requests={}", req.join(",")));
    }
    if !lim.is_empty() {
        out.push(format!("--limits={}", lim.join(",")));
    }
    if out.is_empty() {
        out.push("--requests=cpu=100m,memory=128Mi --limits=cpu=500m,memory=512Mi".to_string());
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_quantities_in_the_quota_unit() {
        assert_eq!(add("6", "1").as_deref(), Some("7"));
        assert_eq!(add("12Gi", "2Gi").as_deref(), Some("14Gi"));
        assert_eq!(add("1500m", "500m").as_deref(), Some("2000m"));
        assert_eq!(add("12Gi", "512Mi").as_deref(), None);
        assert_eq!(add("10", "x"), None);
        assert_eq!(
            pairs("limits.cpu=1,limits.memory=2Gi"),
            [("limits.cpu".to_string(), "1".to_string()), ("limits.memory".to_string(), "2Gi".to_string())]
        );
    }

    #[test]
    fn resource_flags_follow_the_quota() {
        assert_eq!(set_resources_flags("limits.cpu,limits.memory"), "--limits=cpu=500m,memory=512Mi");
        assert_eq!(
            set_resources_flags("limits.cpu for: web; requests.memory for: web"),
            "--requests=memory=128Mi --limits=cpu=500m"
        );
    }
}
