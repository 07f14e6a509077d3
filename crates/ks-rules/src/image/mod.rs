//! Image pulls: what the kubelet and the container runtime say when an image cannot be
//! fetched (or, for build jobs, pushed). Every rule here reads the problems classified once in
//! [`crate::facts`]; the helpers below turn an image reference and a workload into the
//! commands a user can paste.

pub mod auth;
pub mod invalid_name;
pub mod network;
pub mod never_pull;
pub mod not_found;
pub mod platform;
pub mod push_auth;
pub mod rate_limit;
pub mod tls;
pub mod unknown;

// Registry checks (KS13xx): running digests against what the tags name in the registry now.
pub mod digests;
pub mod digests_differ;
pub mod registry_auth;
pub mod registry_not_found;
pub mod registry_tls;
pub mod registry_unreachable;
pub mod reused_tag;
pub mod stale;
pub mod tag_moved_no_rollout;

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[
    &auth::ImagePullUnauthorized,
    &not_found::ImageNotFound,
    &rate_limit::ImagePullRateLimited,
    &network::RegistryUnreachable,
    &tls::RegistryTlsError,
    &platform::ImagePlatformMismatch,
    &invalid_name::ImageNameInvalid,
    &never_pull::ImageNeverPulled,
    &unknown::ImagePullFailedUnexplained,
    &push_auth::RegistryPushUnauthorized,
    &stale::ImageStale,
    &digests_differ::ImageDigestsDiffer,
    &tag_moved_no_rollout::TagMovedWithoutRollout,
    &reused_tag::ReusedTagCached,
    &registry_auth::RegistryCheckUnauthorized,
    &registry_not_found::RunningTagMissingFromRegistry,
    &registry_unreachable::RegistryCheckUnreachable,
    &registry_tls::RegistryCheckTlsFailed,
];

/// Whether a rule id is one of the registry checks (the rules `kubesleuth images` reports).
pub fn is_registry_rule(id: &str) -> bool {
    id.starts_with("KS13")
}

use std::collections::HashMap;

use ks_core::k8s_openapi::api::core::v1::Pod;
use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleMeta};

use crate::Context;
use crate::facts::{ContainerProblem, ProblemKind};
use crate::util;

/// The registry host of an image reference (`docker.io` when none is given).
pub fn registry_host(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.split_once('/') {
        Some(("index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com", _)) => "docker.io",
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// Whether `host` is a registry on the node's own loopback (kind / minikube local registries).
pub fn is_loopback(host: &str) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// An image reference split into its parts. Lenient: it never fails, it is for wording and
/// commands, not validation.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef {
    pub host: String,
    /// Repository path without host, `library/` added for Docker Hub official images.
    pub repo: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(image: &str) -> ImageRef {
        let image = image.trim();
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (image, None),
        };
        let host = registry_host(name).to_string();
        let path = match name.split_once('/') {
            Some((first, rest)) if registry_host(name) != "docker.io" || first.contains('.') => rest,
            _ => name,
        };
        // A tag is a `:` after the last `/` (a `:` before it is a registry port).
        let (repo, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r.to_string(), Some(t.to_string())),
            _ => (path.to_string(), None),
        };
        let repo = if host == "docker.io" && !repo.contains('/') { format!("library/{repo}") } else { repo };
        ImageRef { host, repo, tag, digest }
    }

    /// `host/repo` without tag or digest, e.g. `docker.io/library/redis`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.host, self.repo)
    }

    /// The fully qualified reference the runtime pulls (`:latest` when neither tag nor
    /// digest is given), so `redis` and `docker.io/library/redis:latest` compare equal.
    pub fn qualified(&self) -> String {
        let mut s = self.repository();
        match (&self.tag, &self.digest) {
            (Some(t), _) => {
                s.push(':');
                s.push_str(t);
            }
            (None, None) => s.push_str(":latest"),
            (None, Some(_)) => {}
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

/// The image a pull problem is about: the quoted one in the message, else the container's.
pub fn image_of(cx: &Context<'_>, p: &ContainerProblem) -> String {
    if let Some(i) = p.details.get("image").filter(|i| !i.is_empty()) {
        return i.clone();
    }
    spec_image(cx, p)
}

/// The image as the container spec writes it (what `kubectl set image` replaces).
pub fn spec_image(cx: &Context<'_>, p: &ContainerProblem) -> String {
    util::container_spec(cx.ev, p.pod, &p.container).and_then(|c| c.image.clone()).unwrap_or_else(|| p.image.clone())
}

/// What a rule says about one failing container.
pub struct Explained {
    pub title: String,
    pub root_cause: String,
    pub fixes: Vec<Fix>,
    /// What makes two findings one cause; `cause:registry-host` when `None`.
    pub root_key: Option<String>,
    /// Evidence beyond the pull messages (the node's architecture, the pod spec).
    pub evidence: Vec<EvidenceItem>,
}

impl Explained {
    pub fn new(title: String, root_cause: String, fixes: Vec<Fix>) -> Explained {
        Explained { title, root_cause, fixes, root_key: None, evidence: Vec::new() }
    }

    pub fn key(mut self, key: String) -> Explained {
        self.root_key = Some(key);
        self
    }

    pub fn evidence(mut self, item: EvidenceItem) -> Explained {
        self.evidence.push(item);
        self
    }
}

/// Emit one finding per failing container with `cause`, built by `explain`. The generic
/// "describe the pod" step is added after the rule's own fixes.
pub fn pull_findings(
    cx: &Context<'_>,
    meta: &'static RuleMeta,
    cause: Cause,
    out: &mut Vec<Finding>,
    explain: impl Fn(&ContainerProblem, &str) -> Explained,
) {
    for p in util::problems(cx, ProblemKind::Pull, cause) {
        let image = image_of(cx, p);
        let e = explain(p, &image);
        let mut f = util::problem_finding(meta, cx, p, e.title, e.root_cause);
        // By default, pods failing to pull from one registry for one cause share it.
        f.root_key = e.root_key.unwrap_or_else(|| format!("{}:{}", cause.as_str(), registry_host(&image)));
        f.evidence.extend(e.evidence);
        f.fix = e.fixes;
        f.fix.push(util::describe_pod(cx.ev, p.pod));
        out.push(f);
    }
}

/// The node a pod was placed on.
pub fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty())
}

/// `(os, architecture)` of the pod's node, when the Node is in the evidence.
pub fn node_platform(cx: &Context<'_>, pod: &Pod) -> Option<(String, String)> {
    let info = cx.ev.node(node_of(pod)?)?.status.as_ref()?.node_info.as_ref()?;
    (!info.architecture.is_empty()).then(|| (info.operating_system.clone(), info.architecture.clone()))
}

/// The pod's ServiceAccount name (`default` when unset).
pub fn service_account(pod: &Pod) -> &str {
    pod.spec.as_ref().and_then(|s| s.service_account_name.as_deref()).filter(|s| !s.is_empty()).unwrap_or("default")
}

/// A strategic-merge patch of the workload's pod template spec, for the kinds whose template
/// can change (a Job's template is immutable and a bare Pod has none).
pub fn template_patch(w: &ObjectRef, pod_spec_json: &str) -> Option<String> {
    let body = match w.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            format!("{{\"spec\":{{\"template\":{{\"spec\":{pod_spec_json}}}}}}}")
        }
        "CronJob" => {
            format!("{{\"spec\":{{\"jobTemplate\":{{\"spec\":{{\"template\":{{\"spec\":{pod_spec_json}}}}}}}}}}}")
        }
        _ => return None,
    };
    Some(format!("kubectl {}patch {} {} -p '{body}'", w.ns_flag(), w.kind.to_ascii_lowercase(), w.name))
}

/// How to get fresh pods once the cause is fixed: a rollout restart, re-creating a bare Pod,
/// or re-running a Job (whose pod template cannot change).
pub fn recreate_pods(cx: &Context<'_>, pod: usize) -> Vec<Fix> {
    let w = cx.ev.workload_of(pod);
    let (ns, name) = util::pod_names(cx.ev, pod);
    match w.kind.as_str() {
        "Pod" => vec![Fix::cmd(
            format!("Re-create pod {name} (a pod's spec cannot take the change in place)"),
            format!("kubectl {}get pod {name} -o yaml | kubectl replace --force -f -", util::ns_flag(ns)),
        )],
        "Job" => vec![Fix::cmd(
            format!("Delete Job {} (its pod template is immutable) and apply its manifest again", w.name),
            format!("kubectl {}delete job {}", w.ns_flag(), w.name),
        )],
        "CronJob" => vec![Fix::cmd(
            "Run the CronJob once now to check (later runs pick the change up)",
            format!("kubectl {}create job --from=cronjob/{} {}-manual", w.ns_flag(), w.name, w.name),
        )],
        _ => util::restart_workload(w).into_iter().collect(),
    }
}

/// How to make a workload's pods use pull secret `secret`: the pod template when it can
/// change, else the ServiceAccount (bare Pods and Jobs cannot change their pod spec) and
/// re-created pods.
pub fn reference_pull_secret(cx: &Context<'_>, pod: usize, sa: &str, secret: &str) -> Vec<Fix> {
    let w = cx.ev.workload_of(pod);
    let spec = format!("{{\"imagePullSecrets\":[{{\"name\":\"{secret}\"}}]}}");
    if let Some(cmd) = template_patch(w, &spec) {
        let mut fixes = vec![Fix::cmd(format!("Reference it from the pod template of {}", w.kubectl_ref()), cmd)];
        // A template patch rolls Deployments, StatefulSets and DaemonSets by itself.
        if w.kind == "CronJob" {
            fixes.extend(recreate_pods(cx, pod));
        }
        return fixes;
    }
    let (ns, _) = util::pod_names(cx.ev, pod);
    let mut fixes = vec![Fix::cmd(
        format!("Attach it to ServiceAccount {sa}, which new pods copy it from"),
        format!("kubectl {}patch serviceaccount {sa} -p '{spec}'", util::ns_flag(ns)),
    )];
    fixes.extend(recreate_pods(cx, pod));
    fixes
}

/// `kubectl set image` for the container, or what to do when the template is immutable.
pub fn set_image(cx: &Context<'_>, p: &ContainerProblem, image: &str, why: &str) -> Vec<Fix> {
    let w = cx.ev.workload_of(p.pod);
    if w.kind == "Job" {
        let mut fixes = vec![Fix::text(format!(
            "{why}: Job {} cannot change its pod template, so set image {image} for container {} in its manifest",
            w.name, p.container
        ))];
        fixes.extend(recreate_pods(cx, p.pod));
        return fixes;
    }
    let mut fixes =
        vec![Fix::cmd(why, format!("kubectl {}set image {} {}={image}", w.ns_flag(), w.kubectl_ref(), p.container))];
    if let Some((release, _)) = helm_release(cx, p.pod) {
        fixes.push(Fix::text(format!(
            "The workload is rendered by Helm release {release}: set the image in the release's values too (e.g. `helm upgrade {release} <chart> --reuse-values --set image.tag=<tag>`), or the next upgrade puts the old one back"
        )));
    }
    fixes
}

/// `(release, chart)` when the pod carries Helm's standard labels.
pub fn helm_release(cx: &Context<'_>, pod: usize) -> Option<(String, String)> {
    let labels = cx.ev.pods[pod].metadata.labels.as_ref()?;
    let managed = labels.get("app.kubernetes.io/managed-by").is_some_and(|m| m == "Helm");
    let chart = labels.get("helm.sh/chart").cloned();
    if !managed && chart.is_none() {
        return None;
    }
    let release = labels.get("app.kubernetes.io/instance").or_else(|| labels.get("release"))?.clone();
    Some((release, chart.unwrap_or_default()))
}

/// Which access a registry token needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Pull,
    Push,
}

/// The command that creates (or refreshes) a `docker-registry` Secret for `host`, using the
/// provider's own token command where there is a well-known one. Values stay placeholders.
pub fn create_registry_secret(ns: &str, secret: &str, host: &str, scope: Scope) -> Fix {
    let n = util::ns_flag(ns);
    let apply = "--dry-run=client -o yaml | kubectl apply -f -";
    let push = scope == Scope::Push;
    let what = if push { "a token that may push (write scope)" } else { "credentials that may pull" };
    if host == "registry.digitalocean.com" {
        let rw = if push { "--read-write " } else { "" };
        return Fix::cmd(
            format!("Create (or refresh) Secret {secret} for {host} with {what}"),
            format!(
                "doctl registry docker-config {rw}--expiry-seconds 31536000 | kubectl {n}create secret generic {secret} --type=kubernetes.io/dockerconfigjson --from-file=.dockerconfigjson=/dev/stdin {apply}"
            ),
        );
    }
    if let Some(region) = ecr_region(host) {
        return Fix::cmd(
            format!("Create (or refresh) Secret {secret} for {host} (ECR tokens expire after 12 hours)"),
            format!(
                "kubectl {n}create secret docker-registry {secret} --docker-server={host} --docker-username=AWS --docker-password=\"$(aws ecr get-login-password --region {region})\" {apply}"
            ),
        );
    }
    if host == "gcr.io" || host.ends_with(".gcr.io") || host.ends_with("-docker.pkg.dev") {
        return Fix::cmd(
            format!("Create (or refresh) Secret {secret} for {host} (access tokens expire after an hour)"),
            format!(
                "kubectl {n}create secret docker-registry {secret} --docker-server={host} --docker-username=oauth2accesstoken --docker-password=\"$(gcloud auth print-access-token)\" {apply}"
            ),
        );
    }
    let (server, user, password) = match host {
        "docker.io" => (
            "https://index.docker.io/v1/",
            "<docker-hub-user>",
            if push { "<access-token-read-write>" } else { "<access-token>" },
        ),
        "ghcr.io" => (
            "ghcr.io",
            "<github-user>",
            if push { "<token-with-write:packages>" } else { "<token-with-read:packages>" },
        ),
        h if h.ends_with(".azurecr.io") => ("", "<service-principal-id>", "<service-principal-password>"),
        _ => ("", "<user>", if push { "<token-with-push-scope>" } else { "<token>" }),
    };
    let server = if server.is_empty() { host } else { server };
    Fix::cmd(
        format!("Create (or refresh) Secret {secret} for {host} with {what}"),
        format!(
            "kubectl {n}create secret docker-registry {secret} --docker-server={server} --docker-username={user} --docker-password={password} {apply}"
        ),
    )
}

/// The AWS region of an ECR registry host (`<acct>.dkr.ecr.<region>.amazonaws.com`).
pub fn ecr_region(host: &str) -> Option<&str> {
    let rest = host.split_once(".dkr.ecr.")?.1;
    rest.split_once(".amazonaws.com").map(|(r, _)| r).filter(|r| !r.is_empty())
}

/// The registry hosts a `.dockerconfigjson` Secret holds, printed without any credential.
pub fn secret_hosts_cmd(ns: &str, secret: &str) -> Fix {
    Fix::cmd(
        format!("Check which registry hosts Secret {secret} holds credentials for (prints host names only)"),
        format!(
            "kubectl {}get secret {secret} -o jsonpath='{{.data.\\.dockerconfigjson}}' | base64 -d | jq -r '.auths | keys[]'",
            util::ns_flag(ns)
        ),
    )
}

/// Where each image runs: fully qualified image → `(pod index, node)` of the pods with a
/// running container of it. Built once per rule pass (and only when a rule needs it), so a
/// rule stays linear in the number of pods.
pub fn running_images(cx: &Context<'_>) -> HashMap<String, Vec<(usize, String)>> {
    let mut out: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    for (i, pod) in cx.ev.pods.iter().enumerate() {
        let Some(node) = node_of(pod) else { continue };
        let statuses = pod.status.iter().flat_map(|s| s.container_statuses.iter().flatten());
        for cs in statuses.filter(|cs| cs.state.as_ref().is_some_and(|s| s.running.is_some())) {
            out.entry(ImageRef::parse(&cs.image).qualified()).or_default().push((i, node.to_string()));
        }
    }
    out
}

/// A local development cluster a node belongs to, with its cluster (or profile) name.
#[derive(Debug, PartialEq, Eq)]
pub enum LocalCluster {
    Kind(String),
    Minikube(String),
    K3d(String),
}

/// Which local cluster tool runs `node`: from its providerID (`kind://docker/<cluster>/<node>`,
/// `k3s://k3d-<cluster>-server-0`) or minikube's label; kind's node naming
/// (`<cluster>-control-plane`) when the Node object was not collected.
pub fn local_cluster(cx: &Context<'_>, node: &str) -> Option<LocalCluster> {
    let n = cx.ev.node(node);
    let Some(n) = n else {
        return node.strip_suffix("-control-plane").map(|c| LocalCluster::Kind(c.to_string()));
    };
    if let Some(profile) = n.metadata.labels.as_ref().and_then(|l| l.get("minikube.k8s.io/name")) {
        return Some(LocalCluster::Minikube(profile.clone()));
    }
    let provider = n.spec.as_ref().and_then(|s| s.provider_id.as_deref()).unwrap_or_default();
    if let Some(rest) = provider.strip_prefix("kind://") {
        return rest.split('/').nth(1).map(|c| LocalCluster::Kind(c.to_string()));
    }
    if provider.starts_with("k3s://") {
        let rest = node.strip_prefix("k3d-")?;
        let (cluster, _) = rest.rsplit_once("-server-").or_else(|| rest.rsplit_once("-agent-"))?;
        return Some(LocalCluster::K3d(cluster.to_string()));
    }
    None
}

/// A `node` evidence line with the node's platform.
pub fn node_evidence(node: &str, os: &str, arch: &str) -> EvidenceItem {
    EvidenceItem::new(
        EvidenceSource::Node,
        format!("node {node}: nodeInfo.operatingSystem={os}, architecture={arch}"),
        Some(ObjectRef::new("Node", None, node)),
    )
}

/// The host part of the first URL in a message (`https://registry-1.docker.io/v2/...` →
/// `registry-1.docker.io`), the endpoint the runtime really talked to.
pub fn url_host(message: &str) -> Option<&str> {
    let start = message.find("://")? + 3;
    let rest = &message[start..];
    let end =
        rest.find(|c: char| c == '/' || c == '"' || c == '\'' || c == '?' || c.is_whitespace()).unwrap_or(rest.len());
    let host = &rest[..end];
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_hosts() {
        assert_eq!(registry_host("nginx"), "docker.io");
        assert_eq!(registry_host("library/nginx:1"), "docker.io");
        assert_eq!(registry_host("myacr.azurecr.io/app:1"), "myacr.azurecr.io");
        assert_eq!(registry_host("localhost:5001/app"), "localhost:5001");
        assert_eq!(registry_host("index.docker.io/library/nginx"), "docker.io");
        assert!(is_loopback("localhost:5001"));
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(!is_loopback("kind-registry:5000"));
    }

    #[test]
    fn parses_references() {
        let r = ImageRef::parse("redis:7.2-alpine");
        assert_eq!(r.qualified(), "docker.io/library/redis:7.2-alpine");
        assert_eq!(ImageRef::parse("docker.io/library/redis:7.2-alpine").qualified(), r.qualified());
        let r = ImageRef::parse("localhost:5001/team/app");
        assert_eq!((r.host.as_str(), r.repo.as_str(), r.tag.as_deref()), ("localhost:5001", "team/app", None));
        assert_eq!(r.qualified(), "localhost:5001/team/app:latest");
        let r = ImageRef::parse("quay.io/acme/app@sha256:abc");
        assert_eq!(r.qualified(), "quay.io/acme/app@sha256:abc");
        assert_eq!(ImageRef::parse("acme/billing:2.4.1").repository(), "docker.io/acme/billing");
    }

    /// Load a fixture's `List` (pods, nodes, workloads, events) without the sources crate.
    fn load_fixture(rel: &str) -> ks_core::Evidence {
        use ks_core::k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
        use ks_core::k8s_openapi::api::core::v1::Node;
        let path = format!("{}/../../fixtures/rules/{rel}/snapshot.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let list: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut ev = ks_core::Evidence::default();
        for item in list["items"].as_array().unwrap() {
            let v = item.clone();
            match item["kind"].as_str().unwrap() {
                "Pod" => ev.pods.push(Box::new(serde_json::from_value::<Pod>(v).unwrap())),
                "Node" => ev.nodes.push(serde_json::from_value::<Node>(v).unwrap()),
                "Deployment" => ev.deployments.push(serde_json::from_value::<Deployment>(v).unwrap()),
                "ReplicaSet" => ev.replica_sets.push(serde_json::from_value::<ReplicaSet>(v).unwrap()),
                "Event" => ev.events.push(serde_json::from_value::<ks_core::EventRecord>(v).unwrap()),
                _ => {}
            }
        }
        ev.finish();
        ev
    }

    /// A pod created two seconds before the snapshot, still pulling, and a pod whose pull
    /// failed once days ago and runs now: no image rule may fire on either.
    #[test]
    fn no_image_rule_fires_on_healthy_pulls() {
        for rel in ["KS0109/clean", "KS0104/clean", "KS0101/clean", "KS0103/clean"] {
            let ev = load_fixture(rel);
            assert!(!ev.pods.is_empty(), "{rel}: fixture has pods");
            let cx = Context::new(&ev);
            let mut out = Vec::new();
            for rule in RULES {
                rule.check(&cx, &mut out);
            }
            let titles: Vec<&str> = out.iter().map(|f| f.title.as_str()).collect();
            assert!(titles.is_empty(), "{rel}: image rules fired: {titles:?}");
        }
        // The loader is not vacuous: the firing twin of a hard negative fires.
        let ev = load_fixture("KS0104/fire");
        let cx = Context::new(&ev);
        let mut out = Vec::new();
        network::RegistryUnreachable.check(&cx, &mut out);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|f| f.root_key == "image.network:docker.io"));
    }

    #[test]
    fn provider_helpers() {
        assert_eq!(ecr_region("602401143452.dkr.ecr.ap-southeast-1.amazonaws.com"), Some("ap-southeast-1"));
        assert_eq!(ecr_region("ghcr.io"), None);
        assert_eq!(
            url_host(r#"failed to do request: Head "https://registry-1.docker.io/v2/library/redis/manifests/7": x"#),
            Some("registry-1.docker.io")
        );
        let f = create_registry_secret("builds", "regcred", "registry.digitalocean.com", Scope::Push);
        assert!(f.command.as_deref().is_some_and(|c| c.contains("--read-write") && c.contains("-n builds")));
    }
}
