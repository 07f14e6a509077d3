use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Workloads whose controller cannot create pods because their ServiceAccount does not
    /// exist: `FailedCreate` events on the ReplicaSet, StatefulSet, DaemonSet or Job (or the
    /// Deployment's `ReplicaFailure` condition) reading `Error creating: pods "x" is forbidden:
    /// error looking up service account NS/NAME: serviceaccount "NAME" not found`, while the
    /// workload still lacks pods.
    ///
    /// ### Why it breaks
    /// The ServiceAccount admission plugin refuses pods whose `serviceAccountName` does not
    /// exist in the namespace. The Deployment is accepted, but no pod is ever created, so
    /// `kubectl get pods` shows nothing and only the ReplicaSet's events say why. Charts with
    /// `serviceAccount.create: false` and a name that was never created do this.
    ///
    /// ### How to confirm
    /// `kubectl describe rs -l app=<name>` shows the events; `kubectl get serviceaccount
    /// <name> -n <ns>` returns NotFound.
    ///
    /// ### Fix
    /// Create the ServiceAccount (`kubectl create serviceaccount`), or point
    /// `serviceAccountName` at one that exists.
    ///
    /// ### Prevention
    /// Let the chart create its ServiceAccount (`serviceAccount.create: true`), or create it in
    /// the same release as the workload.
    ///
    /// ### Example
    /// `Error creating: pods "backend-7c5d-" is forbidden: error looking up service account
    /// shop/backend: serviceaccount "backend" not found`.
    pub static META = {
        id: "KS0205",
        name: "service-account-missing",
        cause: Cause::ConfigServiceAccountMissing,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a workload's service account does not exist, so no pod can be created",
    }
}

pub struct ServiceAccountMissing;

impl Rule for ServiceAccountMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        let failures = crate::admission::create_failures(cx);
        for fl in failures.iter().filter(|f| f.sig.cause == Cause::ConfigServiceAccountMissing) {
            let ns = if fl.get("ns").is_empty() { fl.ns().to_string() } else { fl.get("ns").to_string() };
            let sa = fl.get("name").to_string();
            if sa.is_empty() {
                continue;
            }
            let collected = ev.has_collected("ServiceAccount");
            // Created since: the controller's next retry succeeds.
            if collected && ev.index.service_accounts.contains_key(&(ns.clone(), sa.clone())) {
                continue;
            }
            let w = fl.workload.clone();
            let existing: Vec<String> = if collected {
                let mut v: Vec<(f64, String)> = ev
                    .service_accounts
                    .iter()
                    .filter(|s| s.metadata.namespace.as_deref() == Some(ns.as_str()))
                    .filter_map(|s| s.metadata.name.clone())
                    .map(|n| (strsim::normalized_levenshtein(&n, &sa), n))
                    .filter(|(s, n)| *s >= 0.6 || (n.len() >= 4 && (n.contains(&sa) || sa.contains(n.as_str()))))
                    .collect();
                v.sort_by(|a, b| b.0.total_cmp(&a.0));
                v.into_iter().map(|(_, n)| n).take(3).collect()
            } else {
                Vec::new()
            };
            let mut root = format!(
                "{} {} runs its pods as ServiceAccount {sa}, which does not exist in namespace {ns}, so the API server refuses every pod{}.",
                w.kind,
                w.name,
                crate::admission::replicas_phrase(fl)
            );
            if !existing.is_empty() {
                root.push_str(&format!(
                    " Namespace {ns} has similarly named ServiceAccounts: {}.",
                    existing.join(", ")
                ));
            }
            let mut f = util::finding(&META, w.clone(), format!("ServiceAccount {ns}/{sa} does not exist"), root);
            f.evidence = fl.evidence.clone();
            if let Some((spec, _)) = util::pod_template(ev, &w)
                && let Some(n) = spec.service_account_name.as_deref()
            {
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Spec,
                    format!("serviceAccountName: {n}"),
                    Some(w.clone()),
                ));
            }
            f.root_key = format!("serviceaccount:{ns}/{sa}");
            f.fix.push(Fix::cmd(
                format!("Create the ServiceAccount {sa} in {ns}"),
                format!("kubectl -n {ns} create serviceaccount {sa}"),
            ));
            if let Some(other) = existing.first() {
                f.fix.push(crate::admission::template_fix(
                    &w,
                    format!("or, if {other} is the one meant, run the pods as it"),
                    serde_json::json!({"serviceAccountName": other}),
                ));
            }
            let helm = ev
                .index
                .deployments
                .get(&(ns.clone(), w.name.clone()))
                .map(|&i| &ev.deployments[i].metadata)
                .and_then(|m| m.annotations.as_ref())
                .and_then(|a| a.get("meta.helm.sh/release-name"));
            if let Some(release) = helm {
                f.fix.push(Fix::text(format!(
                    "{} {} comes from Helm release {release}: set serviceAccount.create=true (or the chart's equivalent) so the chart creates {sa}",
                    w.kind, w.name
                )));
            }
            out.push(f);
        }
    }
}
