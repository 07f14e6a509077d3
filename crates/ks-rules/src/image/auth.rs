use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::{Explained, Scope};
use crate::util::{self, join_names};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Pods whose image pull is refused by the registry: `pull access denied`,
    /// `unauthorized: authentication required`, `no basic auth credentials`, `401 Unauthorized`.
    ///
    /// ### Why it breaks
    /// The registry wants credentials the node does not have: the pod (or its ServiceAccount)
    /// has no `imagePullSecrets`, the secret names another registry host, or the token expired.
    /// ServiceAccount pull secrets are copied into a pod only when it is created, so pods
    /// created before the ServiceAccount got them pull anonymously. Docker Hub answers a
    /// misspelt repository the same way, so check the name too.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `Failed to pull image ... unauthorized` or `pull access
    /// denied`; `kubectl get pod -o jsonpath='{.spec.imagePullSecrets}'` is empty or names a
    /// Secret that does not exist or holds credentials for another host.
    ///
    /// ### Fix
    /// Create a `docker-registry` Secret for the registry host and reference it from the pod
    /// template or the ServiceAccount, then re-create the pods.
    ///
    /// ### Prevention
    /// Attach the pull secret to the namespace's default ServiceAccount, and lint for private
    /// registry images without imagePullSecrets (`kubesleuth lint`).
    ///
    /// ### Example
    /// `Failed to pull image "myacr.azurecr.io/backend:1.4": ... 401 Unauthorized`.
    pub static META = {
        id: "KS0101",
        name: "image-pull-unauthorized",
        cause: Cause::ImageAuth,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the registry refuses to serve the image without valid credentials",
    }
}

pub struct ImagePullUnauthorized;

/// Secret types the kubelet reads registry credentials from; it ignores any other type.
const PULL_SECRET_TYPES: &[&str] = &["kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"];

impl Rule for ImagePullUnauthorized {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        super::pull_findings(cx, &META, Cause::ImageAuth, out, |p, image| {
            let host = super::registry_host(image);
            let pod = &ev.pods[p.pod];
            let (ns, pod_name) = util::pod_names(ev, p.pod);
            let sa_name = super::service_account(pod);
            let sa =
                ev.index.service_accounts.get(&(ns.to_string(), sa_name.to_string())).map(|&i| &ev.service_accounts[i]);
            let pod_secrets: Vec<String> =
                pod.spec.iter().flat_map(|s| s.image_pull_secrets.iter().flatten()).map(|r| r.name.clone()).collect();
            let sa_secrets: Vec<String> =
                sa.iter().flat_map(|s| s.image_pull_secrets.iter().flatten()).map(|r| r.name.clone()).collect();
            // The ServiceAccount admission plugin copies its pull secrets into a pod only at
            // creation and only when the pod lists none: later additions reach new pods only.
            let sa_added_later = pod_secrets.is_empty() && !sa_secrets.is_empty();
            let effective = if pod_secrets.is_empty() { &sa_secrets } else { &pod_secrets };
            let secrets_known = ev.has_collected("Secret");
            let missing: Vec<&String> =
                effective.iter().filter(|s| secrets_known && ev.secret(ns, s).is_none()).collect();
            let wrong_type: Vec<String> = effective
                .iter()
                .filter_map(|s| ev.secret(ns, s))
                .filter(|s| s.type_.as_deref().is_some_and(|t| !PULL_SECRET_TYPES.contains(&t)))
                .map(|s| {
                    format!(
                        "{} ({})",
                        s.metadata.name.as_deref().unwrap_or_default(),
                        s.type_.as_deref().unwrap_or_default()
                    )
                })
                .collect();
            let docker_hub_hint = if host == "docker.io" && p.message.contains("pull access denied") {
                format!(
                    " Docker Hub gives the same answer for a repository that does not exist, so also check that {} exists (a locally built image that was never pushed fails this way).",
                    super::ImageRef::parse(image).repository()
                )
            } else {
                String::new()
            };

            let mut fixes = Vec::new();
            let mut evidence = Vec::new();
            let secret = effective.first().cloned().unwrap_or_else(|| "regcred".to_string());
            let why = if sa_added_later && missing.is_empty() && wrong_type.is_empty() {
                evidence.push(EvidenceItem::new(
                    EvidenceSource::Spec,
                    format!(
                        "ServiceAccount {sa_name} imagePullSecrets: {}; pod {pod_name} imagePullSecrets: none",
                        sa_secrets.join(", ")
                    ),
                    Some(ObjectRef::new("ServiceAccount", Some(ns), sa_name)),
                ));
                fixes.extend(super::recreate_pods(cx, p.pod).into_iter().map(|mut f| {
                    if f.description.starts_with("Restart the pods") {
                        f.description = format!(
                            "Restart the pods so they are created with ServiceAccount {sa_name}'s pull secrets"
                        );
                    }
                    f
                }));
                format!(
                    "ServiceAccount {sa_name} lists imagePullSecrets {}, but pod {pod_name} has none: it was created before they were added (they are copied into a pod only at creation), so the node pulls {image} anonymously and {host} refuses.",
                    join_names(&sa_secrets)
                )
            } else if effective.is_empty() {
                let whose = if sa.is_some() {
                    format!("Neither pod {pod_name} nor its ServiceAccount {sa_name} lists imagePullSecrets")
                } else {
                    format!("Pod {pod_name} has no imagePullSecrets")
                };
                let mut why =
                    format!("{whose}, so the node pulls {image} anonymously and {host} refuses.{docker_hub_hint}");
                match existing_credentials(cx, p.pod, host) {
                    Some(Existing::Proven { secret, pod }) => {
                        why.push_str(&format!(
                            " Pod {pod} in the same namespace pulls from {host} with Secret {secret} and runs: this workload only lacks the reference."
                        ));
                        evidence.push(EvidenceItem::new(
                            EvidenceSource::Spec,
                            format!("pod {pod} (running, image from {host}) imagePullSecrets: {secret}"),
                            Some(ObjectRef::new("Pod", Some(ns), &pod)),
                        ));
                        fixes.extend(super::reference_pull_secret(cx, p.pod, sa_name, &secret));
                    }
                    Some(Existing::Candidate(secret)) => {
                        why.push_str(&format!(
                            " Secret {secret} in namespace {ns} holds registry credentials; if they are for {host}, referencing it is enough."
                        ));
                        fixes.push(super::secret_hosts_cmd(ns, &secret));
                        fixes.extend(super::reference_pull_secret(cx, p.pod, sa_name, &secret));
                        fixes.push(super::create_registry_secret(ns, "regcred", host, Scope::Pull));
                    }
                    None => {
                        fixes.push(super::create_registry_secret(ns, &secret, host, Scope::Pull));
                        fixes.extend(super::reference_pull_secret(cx, p.pod, sa_name, &secret));
                    }
                }
                why
            } else if !missing.is_empty() {
                let from = if sa_added_later { format!("ServiceAccount {sa_name}'s") } else { "The pod's".to_string() };
                for m in &missing {
                    fixes.push(super::create_registry_secret(ns, m, host, Scope::Pull));
                }
                fixes.extend(super::recreate_pods(cx, p.pod));
                format!(
                    "{from} imagePullSecrets name {}, which does not exist in namespace {ns}, so the node has no credentials for {host}.",
                    join_names(&missing)
                )
            } else if !wrong_type.is_empty() {
                fixes.push(super::create_registry_secret(ns, &secret, host, Scope::Pull));
                fixes.extend(super::recreate_pods(cx, p.pod));
                format!(
                    "The pull secret {} is not of type kubernetes.io/dockerconfigjson, and the kubelet ignores any other type, so the node pulls {image} without credentials and {host} refuses.",
                    join_names(&wrong_type)
                )
            } else {
                fixes.push(super::secret_hosts_cmd(ns, &secret));
                fixes.push(super::create_registry_secret(ns, &secret, host, Scope::Pull));
                fixes.extend(super::recreate_pods(cx, p.pod));
                format!(
                    "The pod pulls with imagePullSecrets {}, but {host} rejects those credentials (they are for another host, expired, or lack access to this repository), or the repository name is wrong.{docker_hub_hint}",
                    join_names(effective)
                )
            };
            if let Some(region) = super::ecr_region(host).filter(|_| effective.is_empty()) {
                fixes.push(Fix::text(format!(
                    "On EKS, nodes pull from ECR with their instance role: attach AmazonEC2ContainerRegistryReadOnly to the node role (or enable the kubelet ECR credential provider) instead of a pull secret; region {region}"
                )));
            }
            if let Some(acr) = host.strip_suffix(".azurecr.io").filter(|_| effective.is_empty()) {
                fixes.push(Fix::cmd(
                    "On AKS, let the cluster's kubelet identity pull from the registry instead of a pull secret",
                    format!("az aks update --name <cluster> --resource-group <group> --attach-acr {acr}"),
                ));
            }
            let mut e = Explained::new(format!("Registry {host} refuses to serve {image} to the node"), why, fixes);
            for item in evidence {
                e = e.evidence(item);
            }
            e
        });
    }
}

/// A pull secret already in the namespace that would serve the failing pod.
enum Existing {
    /// A running pod pulls from the same registry host with it.
    Proven { secret: String, pod: String },
    /// A registry-credential Secret of the namespace, host unknown.
    Candidate(String),
}

fn existing_credentials(cx: &Context<'_>, pod: usize, host: &str) -> Option<Existing> {
    let ev = cx.ev;
    let (ns, _) = util::pod_names(ev, pod);
    for &i in ev.index.pods_by_namespace.get(ns).into_iter().flatten() {
        let other = &ev.pods[i];
        let Some(spec) = &other.spec else { continue };
        let same_host = other.status.iter().flat_map(|s| s.container_statuses.iter().flatten()).any(|cs| {
            cs.state.as_ref().is_some_and(|s| s.running.is_some()) && super::registry_host(&cs.image) == host
        });
        if !same_host {
            continue;
        }
        let usable = spec
            .image_pull_secrets
            .iter()
            .flatten()
            .map(|r| r.name.clone())
            .find(|s| !ev.has_collected("Secret") || ev.secret(ns, s).is_some());
        if let Some(secret) = usable {
            return Some(Existing::Proven { secret, pod: other.metadata.name.clone().unwrap_or_default() });
        }
    }
    // Otherwise a lone registry-credential Secret in the namespace is a good guess.
    let candidates: Vec<&str> = ev
        .secrets
        .iter()
        .filter(|s| s.metadata.namespace.as_deref() == Some(ns))
        .filter(|s| s.type_.as_deref().is_some_and(|t| PULL_SECRET_TYPES.contains(&t)))
        .filter_map(|s| s.metadata.name.as_deref())
        .collect();
    match candidates.as_slice() {
        [one] => Some(Existing::Candidate(one.to_string())),
        _ => None,
    }
}
