use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::{ContainerProblem, pod_ref};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Databases and stateful servers that exit because their data directory is locked:
    /// MongoDB `DBPathInUse: Unable to lock the lock file`, PostgreSQL `lock file
    /// "postmaster.pid" already exists`, InnoDB `Unable to lock ./ibdata1`, Elasticsearch
    /// `failed to obtain node locks`, Prometheus `lock DB directory`. It looks for other pods
    /// in the namespace that mount the same PersistentVolumeClaim and names them.
    ///
    /// ### Why it breaks
    /// Two processes share one data directory. Usually a Deployment with a
    /// `ReadWriteOnce`/`ReadWriteMany` volume uses the default `RollingUpdate` strategy, so
    /// the new pod starts while the old one still runs and holds the lock; or two workloads
    /// (or replicas) point at one claim. Less often, a killed instance left a stale lock.
    ///
    /// ### How to confirm
    /// `kubectl get pods -o
    /// custom-columns=NAME:.metadata.name,CLAIMS:.spec.volumes[*].persistentVolumeClaim.claimName`
    /// lists who mounts the claim; `kubectl get deploy <name> -o
    /// jsonpath='{.spec.strategy.type}'` shows `RollingUpdate`.
    ///
    /// ### Fix
    /// Give the Deployment `strategy: Recreate` so the old pod stops before the new one
    /// starts, or run the database as a StatefulSet with `volumeClaimTemplates` (one claim
    /// per replica); never point two database workloads at one claim.
    ///
    /// ### Prevention
    /// Run databases as StatefulSets; lint Deployments that mount a PVC with more than one
    /// replica or a RollingUpdate strategy.
    ///
    /// ### Example
    /// MongoDB Deployment `angzarr-db-mongodb` crash-loops with `DBPathInUse` while the old
    /// pod of the same rollout still runs on claim `angzarr-db-mongodb`.
    pub static META = {
        id: "KS0305",
        name: "data-dir-locked",
        cause: Cause::CrashLockFile,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the data directory is locked by another instance or a stale lock file",
    }
}

pub struct DataDirLocked;

impl Rule for DataDirLocked {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashLockFile, out, |p, f| explain(cx, p, f));
    }
}

/// The PersistentVolumeClaims a pod mounts.
fn claims(pod: &ks_core::k8s_openapi::api::core::v1::Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| Some(v.persistent_volume_claim.as_ref()?.claim_name.clone()))
        .collect()
}

/// Whether the pod may still run (not Succeeded/Failed).
fn alive(pod: &ks_core::k8s_openapi::api::core::v1::Pod) -> bool {
    !matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let (ns, _) = util::pod_names(ev, p.pod);
    let ns = ns.to_string();
    let quote = super::short_quote(&p.message);
    let path = p.details.get("path").cloned().unwrap_or_default();
    let head = format!("Container {} of {} {}{}", p.container, w.kind, w.qualified_name(), super::restarts_phrase(p));
    // The claim holding the data directory: the one mounted at the locked path, else any.
    let my_claims = claims(&ev.pods[p.pod]);
    let claim = super::volume_at(ev, p, &path)
        .and_then(|v| v.claim)
        .or_else(|| {
            util::container_spec(ev, p.pod, &p.container).and_then(|c| {
                c.volume_mounts.iter().flatten().find_map(|m| {
                    ev.pods[p.pod]
                        .spec
                        .as_ref()?
                        .volumes
                        .as_ref()?
                        .iter()
                        .find(|v| v.name == m.name)?
                        .persistent_volume_claim
                        .as_ref()
                        .map(|c| c.claim_name.clone())
                })
            })
        })
        .or_else(|| my_claims.first().cloned());
    // Other pods of the namespace on the same claim.
    let sharers: Vec<usize> = match &claim {
        Some(c) => ev
            .index
            .pods_by_namespace
            .get(&ns)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| i != p.pod && alive(&ev.pods[i]) && claims(&ev.pods[i]).contains(c))
            .collect(),
        None => Vec::new(),
    };
    let same: Vec<usize> = sharers.iter().copied().filter(|&i| ev.workload_of(i) == &w).collect();
    let other: Vec<usize> = sharers.iter().copied().filter(|&i| ev.workload_of(i) != &w).collect();
    let name_of = |i: usize| ev.pods[i].metadata.name.clone().unwrap_or_default();
    let strategy = (w.kind == "Deployment")
        .then(|| ev.index.deployments.get(&(ns.clone(), w.name.clone())).map(|&i| &ev.deployments[i]))
        .flatten()
        .map(|d| {
            let s =
                d.spec.strategy.as_ref().and_then(|s| s.type_.clone()).unwrap_or_else(|| "RollingUpdate".to_string());
            (s, d.spec.replicas.unwrap_or(1))
        });
    let path_s = if path.is_empty() { "its data directory".to_string() } else { path.clone() };
    let on_claim = claim.as_ref().map(|c| format!(" on PersistentVolumeClaim {c}")).unwrap_or_default();
    for &i in &sharers {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!(
                "pod {} ({} {}) also mounts PersistentVolumeClaim {}",
                name_of(i),
                ev.workload_of(i).kind,
                ev.workload_of(i).qualified_name(),
                claim.clone().unwrap_or_default()
            ),
            Some(pod_ref(&ev.pods[i])),
        ));
    }
    let recreate = Fix::cmd(
        format!("Stop the old pod before the new one starts: strategy Recreate for Deployment {}", w.name),
        format!(
            "kubectl {}patch deployment {} -p '{{\"spec\":{{\"strategy\":{{\"type\":\"Recreate\",\"rollingUpdate\":null}}}}}}'",
            w.ns_flag(),
            w.name
        ),
    );
    let statefulset = Fix::text(format!(
        "or run it as a StatefulSet with volumeClaimTemplates, so every replica gets its own claim instead of sharing {}",
        claim.clone().unwrap_or_else(|| "one".to_string())
    ));
    f.root_key = match &claim {
        Some(c) => format!("crash.lock_file:pvc:{ns}/{c}"),
        None => format!("crash.lock_file:{}", w.qualified_name()),
    };
    if !other.is_empty() {
        let names: Vec<String> = other
            .iter()
            .map(|&i| {
                format!("pod {} of {} {}", name_of(i), ev.workload_of(i).kind, ev.workload_of(i).qualified_name())
            })
            .collect();
        let first = ev.workload_of(other[0]).clone();
        f.title = format!("{} {} and {} {} share one data volume{on_claim}", w.kind, w.name, first.kind, first.name);
        f.root_cause = format!(
            "{head} exits with `{quote}`: {path_s}{on_claim} is already locked by another database process: {} mounts the same claim. Two database instances cannot share one data directory.",
            util::join_names(&names)
        );
        f.fix.push(Fix::text(format!(
            "Give {} {} its own PersistentVolumeClaim (or point it at the existing instance as a client) instead of mounting {}",
            w.kind,
            w.name,
            claim.clone().unwrap_or_default()
        )));
        return;
    }
    let deploy_rolling = strategy.as_ref().is_some_and(|(s, _)| s == "RollingUpdate");
    if !same.is_empty() {
        let names: Vec<String> = same.iter().map(|&i| name_of(i)).collect();
        let terminating = same.iter().any(|&i| ev.pods[i].metadata.deletion_timestamp.is_some());
        f.title = format!("Two pods of {} {} share one data volume{on_claim}", w.kind, w.name);
        let why = match &strategy {
            Some((_, r)) if *r > 1 => format!(
                " The Deployment runs {r} replicas on one claim, so all but one find the data directory locked."
            ),
            Some((s, _)) if s == "RollingUpdate" => format!(
                " The Deployment uses strategy RollingUpdate, so during a rollout the new pod starts while the old pod {} still runs{} and holds the lock.",
                util::join_names(&names),
                if terminating { " (terminating)" } else { "" }
            ),
            _ => String::new(),
        };
        f.root_cause = format!(
            "{head} exits with `{quote}`: {path_s}{on_claim} is locked by pod {} of the same {}, which mounts the same claim.{why}",
            util::join_names(&names),
            w.kind
        );
        if w.kind == "Deployment" {
            if let Some((_, r)) = &strategy
                && *r > 1
            {
                f.fix.push(Fix::cmd(
                    "Run one replica on the claim",
                    format!("kubectl {}scale deployment {} --replicas=1", w.ns_flag(), w.name),
                ));
            }
            f.fix.push(recreate);
            f.fix.push(statefulset);
        } else {
            f.fix.push(statefulset);
        }
        return;
    }
    // Nobody else visible: the old pod may be gone already, or the lock is stale.
    f.title = format!("{} {} finds {path_s} locked", w.kind, w.name);
    if deploy_rolling && claim.is_some() {
        f.root_cause = format!(
            "{head} exits with `{quote}`: another process holds the lock on {path_s}{on_claim}. Deployment {} mounts the claim with strategy RollingUpdate, so each rollout starts the new pod while the old one still holds the lock; no other pod on the claim is in the snapshot now, so if the error persists the lock file is stale.",
            w.name
        );
        f.fix.push(recreate);
        f.fix.push(statefulset);
    } else {
        f.root_cause = format!(
            "{head} exits with `{quote}`: another process holds the lock on {path_s}{on_claim}, or a killed instance left a stale lock file. No other pod in the snapshot mounts the same claim."
        );
        if !path.is_empty() {
            f.fix.push(Fix::text(format!(
                "If no other instance runs, remove the stale lock {path} from the volume (from a debug pod mounting the claim), or run the database's repair (mongod --repair)"
            )));
        }
    }
}
