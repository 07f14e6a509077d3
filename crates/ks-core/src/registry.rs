//! Registry facts: what OCI registries said, at one moment, about the image tags that running
//! pods use. A source collects them before rules run (`kubesleuth images`, `scan
//! --registries`), so rules stay pure functions of the evidence.
//!
//! Facts can also be recorded into a snapshot as a document of kind [`KIND`] (apiVersion
//! [`API_VERSION`]); [`lift_recorded`] moves such documents out of the dynamic objects when
//! the evidence is finished, so a recorded check reads the same offline as it did live.
//!
//! Credentials never enter this model: a host fact says which kind of credential was used
//! ([`AuthSource`]), never the credential.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, Pod};
use serde::{Deserialize, Serialize};

use crate::evidence::{Evidence, Gap};

/// `apiVersion` of a recorded registry-facts document.
pub const API_VERSION: &str = "kubesleuth.io/v1alpha1";
/// `kind` of a recorded registry-facts document.
pub const KIND: &str = "RegistryFacts";

/// Everything the registries said in one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryFacts {
    /// When the registries were asked (the collecting run's wall clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<Timestamp>,
    /// One entry per registry host asked.
    #[serde(default)]
    pub hosts: Vec<HostFact>,
    /// One entry per distinct `host/repository:tag` asked.
    #[serde(default)]
    pub images: Vec<ImageFact>,
    /// HTTP requests sent to collect these facts, counted by the collector.
    #[serde(default)]
    pub requests: u32,
}

/// How kubesleuth authenticated to a registry host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthSource {
    #[default]
    Anonymous,
    /// The user's docker config (`$DOCKER_CONFIG/config.json`, `~/.docker/config.json`), an
    /// `auths` entry or a credential helper.
    DockerConfig,
    /// A pod's imagePullSecret, read from the cluster (live scans only).
    PullSecret,
}

impl AuthSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthSource::Anonymous => "anonymous",
            AuthSource::DockerConfig => "docker config",
            AuthSource::PullSecret => "imagePullSecret",
        }
    }
}

/// One registry host.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostFact {
    /// The host as image references name it: `docker.io`, `127.0.0.1:5000`.
    pub host: String,
    /// The base URL asked: `https://registry-1.docker.io`, `http://127.0.0.1:5000`.
    pub endpoint: String,
    #[serde(default)]
    pub auth: AuthSource,
    /// Set when the host as a whole failed (its `/v2/` endpoint did not answer, TLS failed,
    /// or it refused the credentials): none of its images were asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RegistryError>,
    /// Why configured credentials could not be used, when they could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Requests sent to this host.
    #[serde(default)]
    pub requests: u32,
}

/// What a registry said about one tag.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageFact {
    /// `host/repository:tag`, as [`ImageName::tag_key`] writes it.
    pub reference: String,
    pub host: String,
    pub repository: String,
    pub tag: String,
    /// The digest the tag names now: an index (manifest list) digest for a multi-platform tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// For an index: each platform's manifest digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<PlatformDigest>,
    /// `created` from the image config the tag names now (for an index, the config of
    /// [`ImageFact::created_platform`]). Only fetched when some pod runs another digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RegistryError>,
}

impl ImageFact {
    /// Whether `digest` is what the tag names now: the tag's own digest or, for an index, one
    /// of its platform manifests (a runtime may record either).
    pub fn names(&self, digest: &str) -> bool {
        self.digest.as_deref() == Some(digest) || self.platforms.iter().any(|p| p.digest == digest)
    }

    /// The platform manifest for `os`/`arch`, for an index.
    pub fn platform_digest(&self, os: &str, arch: &str) -> Option<&str> {
        self.platforms.iter().find(|p| p.os == os && p.architecture == arch).map(|p| p.digest.as_str())
    }
}

/// One entry of an image index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformDigest {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub digest: String,
}

impl PlatformDigest {
    /// `linux/arm64/v8` style.
    pub fn platform(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// Why a registry question got no answer. The kinds map onto the kubelet's pull-error causes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RegistryErrorKind {
    /// 401/403, or credentials refused.
    Auth,
    /// 404: `MANIFEST_UNKNOWN`, `NAME_UNKNOWN`.
    NotFound,
    /// Connection refused, timeout, DNS, or a registry answering 5xx.
    Network,
    /// TLS handshake or certificate failure (also: an HTTP registry asked over HTTPS).
    Tls,
    /// 429 `TOOMANYREQUESTS`.
    RateLimit,
    /// An answer that does not follow the distribution API.
    Protocol,
}

impl RegistryErrorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            RegistryErrorKind::Auth => "authentication refused",
            RegistryErrorKind::NotFound => "not found",
            RegistryErrorKind::Network => "unreachable",
            RegistryErrorKind::Tls => "TLS error",
            RegistryErrorKind::RateLimit => "rate limited",
            RegistryErrorKind::Protocol => "unexpected answer",
        }
    }
}

/// A registry error as kubesleuth saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryError {
    pub kind: RegistryErrorKind,
    /// HTTP status, when the registry answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The distribution API error code (`MANIFEST_UNKNOWN`, `UNAUTHORIZED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// One line, for evidence. Never holds a credential.
    pub message: String,
}

impl RegistryFacts {
    /// Fold another run's facts in (a recorded document plus a live check).
    pub fn merge(&mut self, other: RegistryFacts) {
        self.checked_at = match (self.checked_at, other.checked_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.hosts.extend(other.hosts);
        self.images.extend(other.images);
        self.requests += other.requests;
    }

    /// Whether any registry was asked (or a recorded answer was read).
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.images.is_empty()
    }

    /// The fact for `host/repository:tag` (see [`ImageName::tag_key`]).
    pub fn image(&self, tag_key: &str) -> Option<&ImageFact> {
        // The last answer wins: a live check merged after a recorded one replaces it.
        self.images.iter().rev().find(|i| i.reference == tag_key)
    }

    pub fn host(&self, host: &str) -> Option<&HostFact> {
        self.hosts.iter().rev().find(|h| h.host == host)
    }

    /// The facts as a document a snapshot can carry (see [`lift_recorded`]).
    pub fn to_document(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("apiVersion".into(), API_VERSION.into());
            obj.insert("kind".into(), KIND.into());
            obj.insert("metadata".into(), serde_json::json!({ "name": "registry-facts" }));
        }
        v
    }
}

/// Move recorded registry-facts documents out of `ev.other` into `ev.registry`. Called by
/// [`Evidence::finish`]; a document that does not parse becomes a gap.
pub fn lift_recorded(ev: &mut Evidence) {
    if !ev.other.iter().any(|o| o.kind == KIND && o.api_version == API_VERSION) {
        return;
    }
    let (docs, rest): (Vec<_>, Vec<_>) =
        std::mem::take(&mut ev.other).into_iter().partition(|o| o.kind == KIND && o.api_version == API_VERSION);
    ev.other = rest;
    for d in docs {
        match RegistryFacts::deserialize(&*d.value) {
            Ok(f) => ev.registry.merge(f),
            Err(e) => ev.gaps.push(Gap {
                file: None,
                line: None,
                message: format!("recorded {KIND} {} does not parse: {e}", d.name()),
            }),
        }
    }
}

/// An image reference split into its parts and normalised the way runtimes do: Docker Hub is
/// `docker.io`, its official images live under `library/`, a reference without tag or
/// digest means `:latest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageName {
    pub host: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageName {
    /// Parse a reference; `None` for text no runtime would accept as one.
    pub fn parse(image: &str) -> Option<ImageName> {
        let image = image.trim();
        if image.is_empty() || image.chars().any(char::is_whitespace) {
            return None;
        }
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (image, None),
        };
        if let Some(d) = &digest
            && !is_digest(d)
        {
            return None;
        }
        // The first path component is a registry host when it looks like one.
        let (host, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (first.to_string(), rest)
            }
            _ => ("docker.io".to_string(), name),
        };
        let host = match host.as_str() {
            "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => "docker.io".to_string(),
            _ => host,
        };
        // A tag is a `:` after the last `/`.
        let (repo, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t.to_string())),
            _ => (path, None),
        };
        if repo.is_empty() || tag.as_deref() == Some("") {
            return None;
        }
        let repository =
            if host == "docker.io" && !repo.contains('/') { format!("library/{repo}") } else { repo.to_string() };
        Some(ImageName { host, repository, tag, digest })
    }

    /// The tag a runtime resolves: the written one, or `latest` when neither tag nor digest is
    /// given. `None` for a reference pinned by digest alone.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// `host/repository:tag`: the key of an [`ImageFact`]. `None` for digest-only references.
    pub fn tag_key(&self) -> Option<String> {
        self.effective_tag().map(|t| format!("{}/{}:{t}", self.host, self.repository))
    }

    /// `host/repository` (without tag or digest).
    pub fn qualified_repository(&self) -> String {
        format!("{}/{}", self.host, self.repository)
    }
}

/// Whether `d` looks like `algorithm:hex` with a hex part of at least 32 digits.
pub fn is_digest(d: &str) -> bool {
    match d.split_once(':') {
        Some((alg, hex)) => {
            !alg.is_empty()
                && alg.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// The registry digest in a container status' `imageID`: `docker.io/library/nginx@sha256:…`,
/// `docker-pullable://nginx@sha256:…`. `None` for a bare image ID (`sha256:…`,
/// `docker://sha256:…`): a locally built or loaded image has no registry digest.
pub fn running_digest(image_id: &str) -> Option<&str> {
    let (_, digest) = image_id.rsplit_once('@')?;
    is_digest(digest).then_some(digest)
}

/// `imagePullPolicy` as the kubelet applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// The container's policy, or the API server's default when unset: `Always` for
    /// `:latest` or no tag (without digest), `IfNotPresent` otherwise.
    pub fn of(container: &Container) -> PullPolicy {
        match container.image_pull_policy.as_deref() {
            Some("Always") => PullPolicy::Always,
            Some("IfNotPresent") => PullPolicy::IfNotPresent,
            Some("Never") => PullPolicy::Never,
            _ => {
                let name = container.image.as_deref().and_then(ImageName::parse);
                match name {
                    Some(n) if n.digest.is_none() && n.tag.as_deref().is_none_or(|t| t == "latest") => {
                        PullPolicy::Always
                    }
                    _ => PullPolicy::IfNotPresent,
                }
            }
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

/// A running container, as the registry check sees it.
#[derive(Clone, Debug)]
pub struct RunningContainer<'a> {
    /// Index into `ev.pods`.
    pub pod: usize,
    pub container: &'a Container,
    /// The reference as the spec writes it.
    pub image: &'a str,
    pub name: Option<ImageName>,
    /// `status.containerStatuses[].imageID`.
    pub image_id: &'a str,
    /// The registry digest the container runs, from `imageID`.
    pub digest: Option<&'a str>,
    /// When this instance started (`state.running.startedAt`).
    pub started: Option<Timestamp>,
}

/// Every running (regular) container of every pod, in pod order.
pub fn running_containers(ev: &Evidence) -> Vec<RunningContainer<'_>> {
    let mut out = Vec::new();
    for (i, pod) in ev.pods.iter().enumerate() {
        collect_pod(i, pod, &mut out);
    }
    out
}

fn collect_pod<'a>(i: usize, pod: &'a Pod, out: &mut Vec<RunningContainer<'a>>) {
    let (Some(spec), Some(status)) = (pod.spec.as_ref(), pod.status.as_ref()) else { return };
    for cs in status.container_statuses.iter().flatten() {
        let Some(running) = cs.state.as_ref().and_then(|s| s.running.as_ref()) else { continue };
        let Some(container) = spec.containers.iter().find(|c| c.name == cs.name) else { continue };
        let image = container.image.as_deref().unwrap_or(cs.image.as_str());
        out.push(RunningContainer {
            pod: i,
            container,
            image,
            name: ImageName::parse(image),
            image_id: cs.image_id.as_str(),
            digest: running_digest(&cs.image_id),
            started: running.started_at.as_ref().map(|t| t.0),
        });
    }
}

/// `sha256:0123456789ab` → `0123456789ab` (12 hex digits), for tables and titles.
pub fn short_digest(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    &hex[..hex.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn parses_and_normalises_references() {
        let n = ImageName::parse("nginx").unwrap();
        assert_eq!(n.tag_key().as_deref(), Some("docker.io/library/nginx:latest"));
        let n = ImageName::parse("index.docker.io/acme/app:1.2").unwrap();
        assert_eq!(n.tag_key().as_deref(), Some("docker.io/acme/app:1.2"));
        let n = ImageName::parse("127.0.0.1:5000/team/app").unwrap();
        assert_eq!((n.host.as_str(), n.repository.as_str()), ("127.0.0.1:5000", "team/app"));
        assert_eq!(n.tag_key().as_deref(), Some("127.0.0.1:5000/team/app:latest"));
        let pinned = ImageName::parse(&format!("localhost:5001/app@{D1}")).unwrap();
        assert_eq!(pinned.tag_key(), None);
        let both = ImageName::parse(&format!("localhost:5001/app:latest@{D1}")).unwrap();
        assert_eq!(both.tag_key().as_deref(), Some("localhost:5001/app:latest"));
        assert_eq!(both.digest.as_deref(), Some(D1));
        assert!(ImageName::parse("app@sha256:xyz").is_none());
        assert!(ImageName::parse("").is_none());
    }

    #[test]
    fn reads_the_digest_a_container_runs() {
        assert_eq!(running_digest(&format!("docker.io/library/nginx@{D1}")), Some(D1));
        assert_eq!(running_digest(&format!("docker-pullable://nginx@{D1}")), Some(D1));
        assert_eq!(running_digest(D1), None);
        assert_eq!(running_digest(&format!("docker://{D1}")), None);
        assert_eq!(short_digest(D1), "111111111111");
    }

    #[test]
    fn pull_policy_defaults_like_the_api_server() {
        let c = |image: &str, p: Option<&str>| Container {
            image: Some(image.into()),
            image_pull_policy: p.map(str::to_string),
            ..Default::default()
        };
        assert_eq!(PullPolicy::of(&c("app", None)), PullPolicy::Always);
        assert_eq!(PullPolicy::of(&c("app:latest", None)), PullPolicy::Always);
        assert_eq!(PullPolicy::of(&c("app:v2", None)), PullPolicy::IfNotPresent);
        assert_eq!(PullPolicy::of(&c(&format!("app@{D1}"), None)), PullPolicy::IfNotPresent);
        assert_eq!(PullPolicy::of(&c("app:latest", Some("IfNotPresent"))), PullPolicy::IfNotPresent);
    }

    #[test]
    fn a_recorded_document_round_trips_and_is_lifted() {
        let facts = RegistryFacts {
            images: vec![ImageFact {
                reference: "127.0.0.1:5000/app:latest".into(),
                host: "127.0.0.1:5000".into(),
                repository: "app".into(),
                tag: "latest".into(),
                digest: Some(D1.into()),
                ..Default::default()
            }],
            requests: 2,
            ..Default::default()
        };
        let doc = facts.to_document();
        let mut ev = Evidence::default();
        ev.other.push(crate::DynObject {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            metadata: Default::default(),
            value: doc.into(),
        });
        lift_recorded(&mut ev);
        assert!(ev.other.is_empty());
        assert_eq!(ev.registry, facts);
        assert!(ev.registry.image("127.0.0.1:5000/app:latest").is_some_and(|i| i.names(D1)));
    }
}
