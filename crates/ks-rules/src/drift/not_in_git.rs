use std::collections::{BTreeMap, HashSet};

use ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use ks_core::{Cause, EvidenceItem, EvidenceSource, Fix, ObjectRef, RuleKind, Severity, declare_rule};

use super::effective_namespace;
use crate::util::finding;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Objects in the cluster that the manifests in Git do not define, in a namespace the
    /// manifests own (they define the `Namespace` itself) and of a kind they define there,
    /// that no controller owns: a
    /// Deployment created by hand during an incident, a Service applied from a laptop, a
    /// ConfigMap whose manifest was deleted without pruning. Objects Kubernetes and common
    /// controllers create themselves (the `default` ServiceAccount, `kube-root-ca.crt`,
    /// service-account tokens, Helm release records, cert-manager's certificate Secrets) are
    /// not reported. Namespaces the manifests only deploy into, without defining them, are
    /// left alone: other tools (a Helm release, another repository) may deploy there too.
    ///
    /// ### Why it breaks
    /// Nothing in Git explains them: a hand-made Deployment keeps serving traffic through a
    /// Service selector nobody remembers, a stale ConfigMap is mounted by a pod that should
    /// read the new one, and the next cluster rebuilt from Git lacks them.
    ///
    /// ### How to confirm
    /// `kubectl -n NS get KIND NAME -o yaml`: `metadata.managedFields[].manager` says which
    /// client created it (`kubectl-create`, `kubectl-client-side-apply`, ...) and when.
    ///
    /// ### Fix
    /// Add the object to Git if it is meant to stay (`kubectl get ... -o yaml`, then remove
    /// the server-set fields), or delete it from the cluster.
    ///
    /// ### Prevention
    /// Deploy from Git with pruning (Argo CD, Flux, `kubectl apply --prune -l ...`), give
    /// people read-only access to production, and run `kubesleuth drift` on a schedule.
    ///
    /// ### Example
    /// `Deployment shop/storefront-hotfix` is in the cluster but not in Git.
    pub static META = {
        id: "KS1404",
        name: "not-in-git",
        cause: Cause::DriftSpec,
        severity: Severity::Warning,
        kind: RuleKind::Drift,
        summary: "an object in the cluster is not defined in Git",
    }
}

pub struct NotInGit;

/// A cluster object of a kind drift compares: its kind, metadata and Secret type.
struct Live<'a> {
    kind: &'static str,
    meta: &'a ObjectMeta,
    secret_type: Option<&'a str>,
}

fn live_objects<'a>(ev: &'a ks_core::Evidence) -> Vec<Live<'a>> {
    let mut out = Vec::new();
    let mut add = |kind: &'static str, meta: &'a ObjectMeta, secret_type: Option<&'a str>| {
        out.push(Live { kind, meta, secret_type })
    };
    ev.deployments.iter().for_each(|o| add("Deployment", &o.metadata, None));
    ev.stateful_sets.iter().for_each(|o| add("StatefulSet", &o.metadata, None));
    ev.daemon_sets.iter().for_each(|o| add("DaemonSet", &o.metadata, None));
    ev.cron_jobs.iter().for_each(|o| add("CronJob", &o.metadata, None));
    ev.services.iter().for_each(|o| add("Service", &o.metadata, None));
    ev.ingresses.iter().for_each(|o| add("Ingress", &o.metadata, None));
    ev.service_accounts.iter().for_each(|o| add("ServiceAccount", &o.metadata, None));
    ev.pvcs.iter().for_each(|o| add("PersistentVolumeClaim", &o.metadata, None));
    ev.config_maps.iter().for_each(|o| add("ConfigMap", &o.metadata, None));
    ev.secrets.iter().for_each(|o| add("Secret", &o.metadata, o.type_.as_deref()));
    out
}

/// Objects the API server or a controller creates without an owner reference.
fn made_by_the_cluster(o: &Live<'_>) -> bool {
    let name = o.meta.name.as_deref().unwrap_or_default();
    let annotated = |k: &str| o.meta.annotations.as_ref().is_some_and(|a| a.contains_key(k));
    match o.kind {
        "ServiceAccount" => name == "default",
        "ConfigMap" => matches!(name, "kube-root-ca.crt" | "istio-ca-root-cert" | "openshift-service-ca.crt"),
        "Service" => name == "kubernetes" && o.meta.namespace.as_deref() == Some("default"),
        "Secret" => {
            matches!(o.secret_type, Some("kubernetes.io/service-account-token" | "helm.sh/release.v1"))
                || annotated("cert-manager.io/certificate-name")
                || annotated("kubernetes.io/service-account.name")
        }
        _ => false,
    }
}

/// The client that created the object and when, from its managed fields.
fn created_by(meta: &ObjectMeta) -> Option<String> {
    let first = meta
        .managed_fields
        .iter()
        .flatten()
        .filter(|m| m.manager.is_some())
        .min_by_key(|m| m.time.as_ref().map(|t| t.0))?;
    let manager = first.manager.as_deref()?;
    Some(match &first.time {
        Some(t) => format!("{manager} at {}", t.0),
        None => manager.to_string(),
    })
}

impl Rule for NotInGit {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        let ev = cx.ev;
        // Only namespaces Git defines are Git's alone; (namespace, kind) pairs the manifests
        // deploy there, with how many objects each.
        let owned: HashSet<&str> =
            ev.manifests.iter().filter(|d| d.kind == "Namespace").map(|d| d.name.as_str()).collect();
        let mut deployed: BTreeMap<(String, &str), usize> = BTreeMap::new();
        let mut in_git: HashSet<(&str, String, &str)> = HashSet::new();
        for doc in &ev.manifests {
            let Some(ns) = effective_namespace(doc).filter(|ns| owned.contains(ns.as_str())) else { continue };
            *deployed.entry((ns.clone(), doc.kind.as_str())).or_default() += 1;
            in_git.insert((doc.kind.as_str(), ns, doc.name.as_str()));
        }
        if deployed.is_empty() {
            return;
        }
        for o in live_objects(ev) {
            let (Some(ns), Some(name)) = (o.meta.namespace.as_deref(), o.meta.name.as_deref()) else { continue };
            let Some(&defined) = deployed.get(&(ns.to_string(), o.kind)) else { continue };
            if in_git.contains(&(o.kind, ns.to_string(), name))
                || o.meta.owner_references.as_ref().is_some_and(|r| !r.is_empty())
                || made_by_the_cluster(&o)
            {
                continue;
            }
            let object = ObjectRef::new(o.kind, Some(ns), name);
            let origin = created_by(o.meta);
            let kinds = if defined == 1 { format!("one {}", o.kind) } else { format!("{defined} {}s", o.kind) };
            let mut f = finding(
                &META,
                object.clone(),
                format!("{} {ns}/{name} is in the cluster but not in Git", o.kind),
                format!(
                    "The manifests define namespace {ns} and {kinds} in it; {} {ns}/{name} is not among them \
                     and no controller owns it{}. It was made outside Git (by hand, or from another checkout), or its \
                     manifest was deleted without pruning the object.",
                    o.kind,
                    origin.as_deref().map(|c| format!(" (created by {c})")).unwrap_or_default()
                ),
            );
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!(
                    "{} {ns}/{name}: no ownerReferences{}",
                    o.kind,
                    origin.map(|c| format!("; managedFields: {c}")).unwrap_or_default()
                ),
                Some(object.clone()),
            ));
            let resource = object.kubectl_ref();
            f.fix.push(Fix::cmd(
                "If it is meant to stay, add it to Git (then remove status and the server-set metadata)",
                format!("kubectl -n {ns} get {resource} -o yaml > {}-{name}.yaml", o.kind.to_ascii_lowercase()),
            ));
            f.fix.push(Fix::cmd("If not, delete it", format!("kubectl -n {ns} delete {resource}")));
            out.push(f);
        }
    }
}
