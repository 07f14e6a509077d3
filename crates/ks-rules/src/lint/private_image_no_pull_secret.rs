use std::collections::{BTreeMap, HashMap};

use ks_core::registry::ImageName;
use ks_core::{Cause, EvidenceItem, EvidenceSource, Fix, ManifestDoc, ObjectKey, RuleKind, Severity, declare_rule};
use serde_json::Value;

use super::pod_templates::PodTemplate;
use super::{doc_finding, doc_name};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A pod template that pulls an image from a private registry while neither the pod
    /// nor its ServiceAccount (when the ServiceAccount is in the lint run) has
    /// `imagePullSecrets`. A registry counts as private when its host is not a public one
    /// and not a local development registry:
    /// - public (never reported): Docker Hub, quay.io, ghcr.io, registry.k8s.io, gcr.io,
    ///   mcr.microsoft.com, public.ecr.aws, registry.gitlab.com and other vendor registries
    ///   that serve anonymous pulls;
    /// - local (never reported): `localhost:5001` (the kind registry), `127.0.0.1`, IP
    ///   addresses, `*.local`, `*.localhost`, `*.internal`, in-cluster `*.svc` names — these
    ///   run without authentication (kind's `registry:2` has none);
    /// - private only when the bundle says so: Amazon ECR, Google Artifact Registry and
    ///   Alibaba Cloud registries, whose pulls usually work through node identity (EKS node
    ///   role, GKE node service account) or which also host public mirrors — reported only
    ///   when another workload in the lint run pulls from the same host with a pull secret;
    /// - private: every other registry host (a name with a dot or a port): Azure Container
    ///   Registry, DigitalOcean, Harbor, GitLab or Artifactory instances, company registries.
    ///
    /// ### Why it breaks
    /// Without credentials the kubelet pulls anonymously and the registry refuses:
    /// `Failed to pull image "…": … unauthorized: authentication required`, and the pod sits
    /// in `ImagePullBackOff`. It works on a laptop that ran `docker login`, and on nodes
    /// that still have the image cached, which hides it until a new node or tag.
    ///
    /// ### How to confirm
    /// `kubectl get sa SA -n NS -o jsonpath='{.imagePullSecrets}'` (empty), then
    /// `kubectl describe pod` shows the `unauthorized` pull error. Nodes can also carry
    /// credentials (kubelet credential providers, ACR attached to AKS, DOKS registry
    /// integration); check those before adding a secret.
    ///
    /// ### Fix
    /// Create a `docker-registry` Secret in the namespace and reference it from the pod
    /// (`imagePullSecrets`) or from its ServiceAccount; or give the nodes access (`az aks
    /// update --attach-acr`, `doctl kubernetes cluster registry add`).
    ///
    /// ### Prevention
    /// Put `imagePullSecrets` on the namespace's ServiceAccount in the same bundle as the
    /// workloads, so every pod of the namespace gets it.
    ///
    /// ### Example
    /// Seed 003 (S3.1): an ACK cluster pulling `….azurecr.io/klinecubic/backend:prod-v0.6.0`
    /// without `imagePullSecrets`; seed 001 (S1.3): an agent pod pulling from
    /// `registry.digitalocean.com` without one.
    pub static META = {
        id: "KS1207",
        name: "private-image-without-pull-secret",
        cause: Cause::ImageAuth,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "an image from a private registry is pulled without imagePullSecrets on the pod or its ServiceAccount",
    }
}

pub struct PrivateImageWithoutPullSecret;

/// Registries that serve anonymous pulls (public images may sit next to private ones, but
/// nothing in a manifest tells them apart).
const PUBLIC: &[&str] = &[
    "docker.io",
    "quay.io",
    "ghcr.io",
    "registry.k8s.io",
    "k8s.gcr.io",
    "gcr.io",
    "mirror.gcr.io",
    "mcr.microsoft.com",
    "public.ecr.aws",
    "registry.gitlab.com",
    "docker.elastic.co",
    "registry.access.redhat.com",
    "registry.suse.com",
    "registry.opensuse.org",
    "registry.fedoraproject.org",
    "cgr.dev",
    "nvcr.io",
    "icr.io",
    "lscr.io",
    "cr.l5d.io",
    "registry.istio.io",
    "docker.redpanda.com",
    "cr.fluentbit.io",
    "reg.kyverno.io",
    "oci.external-secrets.io",
    "registry.opensource.zalan.do",
    "registry.developers.crunchydata.com",
    "xpkg.upbound.io",
    "codeberg.org",
    "container-registry.oracle.com",
];

/// Host suffixes of registries whose pulls normally go through node identity, or that
/// host public mirrors: private only when the bundle shows a pull secret for them.
const NODE_OR_PUBLIC_SUFFIXES: &[&str] =
    &[".gcr.io", ".pkg.dev", ".amazonaws.com", ".amazonaws.com.cn", ".aliyuncs.com"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryClass {
    Public,
    Local,
    /// ECR, Artifact Registry, Alibaba: see [`NODE_OR_PUBLIC_SUFFIXES`].
    NodeOrPublic,
    Private,
}

/// How a registry host is treated.
pub fn classify(host: &str) -> RegistryClass {
    let h = host.to_ascii_lowercase();
    let name = match h.rsplit_once(':') {
        // `[::1]:5000` and `host:port`.
        Some((n, port)) if port.chars().all(|c| c.is_ascii_digit()) => n.to_string(),
        _ => h.clone(),
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if PUBLIC.contains(&name) || name.ends_with(".docker.io") {
        return RegistryClass::Public;
    }
    let is_ip = name.parse::<std::net::IpAddr>().is_ok();
    let local = is_ip
        || name == "localhost"
        || !name.contains('.')
        || [".local", ".localhost", ".internal", ".svc", ".cluster.local", ".lan", ".test", ".home.arpa"]
            .iter()
            .any(|s| name.ends_with(s));
    if local {
        return RegistryClass::Local;
    }
    if NODE_OR_PUBLIC_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return RegistryClass::NodeOrPublic;
    }
    RegistryClass::Private
}

/// The ServiceAccounts of the lint run by key.
fn service_accounts(docs: &[ManifestDoc]) -> HashMap<ObjectKey, &ManifestDoc> {
    docs.iter().filter(|d| d.kind == "ServiceAccount").map(|d| (d.key(), d)).collect()
}

/// How a pod template gets pull credentials, if it does: `pod imagePullSecrets regcred`.
fn credentials(accounts: &HashMap<ObjectKey, &ManifestDoc>, tpl: &PodTemplate<'_>) -> Option<(String, Vec<String>)> {
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().filter_map(|s| s["name"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let own = names(&tpl.spec["imagePullSecrets"]);
    if !own.is_empty() {
        return Some((format!("{} has imagePullSecrets {}", doc_name(tpl.doc), own.join(", ")), own));
    }
    let sa = service_account(tpl);
    let sa_doc = accounts.get(&ObjectKey::new("ServiceAccount", tpl.doc.namespace.as_deref(), &sa))?;
    let via = names(&sa_doc.value["imagePullSecrets"]);
    (!via.is_empty()).then(|| (format!("its ServiceAccount {sa} has imagePullSecrets {}", via.join(", ")), via))
}

fn service_account(tpl: &PodTemplate<'_>) -> String {
    tpl.spec["serviceAccountName"]
        .as_str()
        .or_else(|| tpl.spec["serviceAccount"].as_str())
        .unwrap_or("default")
        .to_string()
}

/// A Secret name for the fix: `shopacr-pull` for `shopacr.azurecr.io`.
fn secret_name(host: &str) -> String {
    let first = host.split(['.', ':']).next().unwrap_or("registry");
    format!("{first}-pull")
}

/// The provider's way of giving nodes access instead of a Secret.
fn node_access(host: &str) -> Option<String> {
    let h = host.to_ascii_lowercase();
    if let Some(reg) = h.strip_suffix(".azurecr.io") {
        return Some(format!(
            "on AKS, let the nodes pull instead: `az aks update -n <cluster> -g <resource-group> --attach-acr {reg}`"
        ));
    }
    if h == "registry.digitalocean.com" {
        return Some(
            "on DigitalOcean Kubernetes, let the registry integration add the secret to every namespace: `doctl kubernetes cluster registry add <cluster>`"
                .to_string(),
        );
    }
    None
}

impl Rule for PrivateImageWithoutPullSecret {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        let accounts = service_accounts(&cx.ev.manifests);
        let tpls = cx.pod_templates();
        // Which templates pull from which hosts, and with which credentials.
        let mut with_creds: BTreeMap<String, (usize, String, Vec<String>)> = BTreeMap::new();
        let mut creds: Vec<Option<(String, Vec<String>)>> = Vec::new();
        for (t, tpl) in tpls.iter().enumerate() {
            let c = credentials(&accounts, tpl);
            if let Some((how, names)) = &c {
                for con in tpl.containers() {
                    if let Some(n) = con.image().and_then(ImageName::parse) {
                        with_creds.entry(n.host.to_ascii_lowercase()).or_insert((t, how.clone(), names.clone()));
                    }
                }
            }
            creds.push(c);
        }
        for (t, tpl) in tpls.iter().enumerate() {
            if creds[t].is_some() {
                continue;
            }
            let doc = tpl.doc;
            // The containers pulling from private registries: (container, image, host).
            let mut hits = Vec::new();
            for c in tpl.containers() {
                let Some(image) = c.image() else { continue };
                let Some(n) = ImageName::parse(image) else { continue };
                let host = n.host.to_ascii_lowercase();
                let known = with_creds.get(&host);
                let private = match classify(&host) {
                    RegistryClass::Private => true,
                    RegistryClass::NodeOrPublic => known.is_some(),
                    RegistryClass::Public | RegistryClass::Local => false,
                };
                if private {
                    hits.push((c, image, host));
                }
            }
            // One finding per registry host: each needs its own credentials.
            let mut by_host: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (k, (_, _, host)) in hits.iter().enumerate() {
                by_host.entry(host.as_str()).or_default().push(k);
            }
            for (host, ks) in by_host {
                let (first, first_image, _) = &hits[ks[0]];
                let sa = service_account(tpl);
                let images: Vec<&str> = ks.iter().map(|&k| hits[k].1).collect();
                let containers: Vec<&str> = ks.iter().map(|&k| hits[k].0.name).collect();
                let sa_in_bundle =
                    accounts.contains_key(&ObjectKey::new("ServiceAccount", doc.namespace.as_deref(), &sa));
                let known = with_creds.get(host);
                let mut f = doc_finding(
                    &META,
                    doc,
                    &first.field("image"),
                    format!(
                        "{} pulls {} from the private registry {host} without imagePullSecrets",
                        doc_name(doc),
                        first_image
                    ),
                    format!(
                        "{} {} {} from {host}, but neither {} nor its ServiceAccount {sa}{} has imagePullSecrets, so the kubelet pulls anonymously and the registry answers `unauthorized: authentication required` (ImagePullBackOff), unless the nodes carry credentials for {host} themselves.",
                        if containers.len() == 1 { "Container" } else { "Containers" },
                        util::join_names(&containers),
                        if containers.len() == 1 {
                            format!("pulls {}", images[0])
                        } else {
                            format!("pull {}", util::join_names(&images))
                        },
                        doc_name(doc),
                        if sa_in_bundle { "" } else { " (not in this lint run)" },
                    ),
                );
                let secret = match known {
                    Some((other, how, names)) => {
                        f.evidence.push(EvidenceItem::new(
                            EvidenceSource::Manifest,
                            format!("{}:{}: {how} for {host}", tpls[*other].doc.file, tpls[*other].doc.start_line),
                            Some(tpls[*other].doc.object_ref()),
                        ));
                        names[0].clone()
                    }
                    None => secret_name(host),
                };
                let ns = tpl.ns_flag();
                if known.is_none() {
                    f.fix.push(Fix::cmd(
                    format!("Create a pull secret for {host} (a read-only token)"),
                    format!(
                        "kubectl {ns}create secret docker-registry {secret} --docker-server={host} --docker-username=<user> --docker-password=<token>"
                    ),
                ));
                }
                f.fix.push(Fix::text(format!(
                    "Reference the Secret {secret} in {} ({}): add `imagePullSecrets: [{{name: {secret}}}]` under {}{}",
                    doc_name(doc),
                    doc.file,
                    tpl.spec_path(),
                    if known.is_some() { " (the Secret the other workload already uses)" } else { "" }
                )));
                f.fix.push(Fix::cmd(
                format!("or attach it to the ServiceAccount {sa}, for every pod that runs as it"),
                format!(
                    "kubectl {ns}patch serviceaccount {sa} -p '{{\"imagePullSecrets\":[{{\"name\":\"{secret}\"}}]}}'"
                ),
            ));
                if let Some(alt) = node_access(host) {
                    f.fix.push(Fix::text(alt));
                }
                f.root_key = format!("KS1207:{}:{host}", doc.key_string());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_hosts_are_classified() {
        use RegistryClass::*;
        for (host, class) in [
            ("docker.io", Public),
            ("ghcr.io", Public),
            ("registry.k8s.io", Public),
            ("localhost:5001", Local),
            ("kind-registry:5000", Local),
            ("127.0.0.1:5000", Local),
            ("192.168.49.2:5000", Local),
            ("[::1]:5000", Local),
            ("registry.kube-system.svc.cluster.local", Local),
            ("host.minikube.internal:5000", Local),
            ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", NodeOrPublic),
            ("us-central1-docker.pkg.dev", NodeOrPublic),
            ("eu.gcr.io", NodeOrPublic),
            ("registry.cn-hangzhou.aliyuncs.com", NodeOrPublic),
            ("shopacr.azurecr.io", Private),
            ("registry.digitalocean.com", Private),
            ("harbor.corp.example.com:8443", Private),
        ] {
            assert_eq!(classify(host), class, "{host}");
        }
    }
}
