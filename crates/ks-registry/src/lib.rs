//! kubesleuth's registry source: for every tag a running container uses, ask its registry
//! which digest the tag names now, through the OCI distribution API.
//!
//! - One manifest `GET` per distinct `host/repository:tag` (the index is read from the same
//!   answer, so multi-platform tags cost nothing more), one `GET /v2/` per host to learn its
//!   auth scheme, one token per repository where the registry uses bearer tokens, and, only
//!   when some pod runs another digest, the image config (plus the platform manifest for an
//!   index) to say when the tag moved.
//! - Concurrency is bounded per host; every request has a timeout; a host whose `/v2/` does not
//!   answer is one fact and none of its images is asked again.
//! - Credentials: the caller's by host ([`Options::credentials`]: a live scan's pods'
//!   imagePullSecrets; a snapshot never holds Secret values), else the user's docker config
//!   (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `auths`, `credsStore`,
//!   `credHelpers`), else anonymous. Credentials are only sent to the host they belong to and
//!   never enter the facts, errors or logs.
//! - Plain HTTP for hosts given as insecure (`--insecure-registry HOST:PORT`, as Docker's
//!   daemon option) and for `localhost`, `127.0.0.1` and `[::1]`; HTTPS (rustls) otherwise.
//!
//! Why not `oci-client`: its `Client` sends a `GET /v2/` before every request to an anonymous
//! registry (the "no auth needed" answer is not cached) and drops token errors, which would
//! double the requests per tag and blur `image.auth` into `image.not_found`.

mod client;
mod credentials;
#[cfg(feature = "test-support")]
pub mod testing;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ks_core::Evidence;
use ks_core::registry::{HostFact, ImageFact, RegistryFacts, running_containers};

pub use credentials::Credential;

/// How to ask the registries.
#[derive(Clone, Debug)]
pub struct Options {
    /// Hosts (`HOST:PORT` or `HOST`) spoken to over plain HTTP.
    pub insecure: Vec<String>,
    /// Timeout of each request.
    pub timeout: Duration,
    /// Requests in flight per registry host.
    pub per_host: usize,
    /// Read the user's docker config for credentials.
    pub docker_config: bool,
    /// Credentials by registry host, tried before the docker config: a live scan's pods'
    /// imagePullSecrets (decoded in memory, for that host only).
    pub credentials: HashMap<String, Credential>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            insecure: Vec::new(),
            timeout: Duration::from_secs(10),
            per_host: 4,
            docker_config: true,
            credentials: HashMap::new(),
        }
    }
}

/// Errors that stop the whole collection (a registry failing is a fact, not an error).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[from] std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// What one tag is needed for: which digests pods run (or pin) for it, and on which
/// platforms.
#[derive(Debug, Default, Clone)]
pub(crate) struct Need {
    pub host: String,
    pub repository: String,
    pub tag: String,
    /// Digests some running container has or pins for this tag.
    pub digests: BTreeSet<String>,
    /// `(os, architecture)` of the nodes running it.
    pub platforms: BTreeSet<(String, String)>,
}

/// The distinct tags running containers use, grouped by registry host.
pub(crate) fn needs(ev: &Evidence) -> BTreeMap<String, BTreeMap<String, Need>> {
    let mut by_host: BTreeMap<String, BTreeMap<String, Need>> = BTreeMap::new();
    for rc in running_containers(ev) {
        let Some(name) = rc.name.as_ref() else { continue };
        let (Some(key), Some(tag)) = (name.tag_key(), name.effective_tag()) else { continue };
        let need = by_host.entry(name.host.clone()).or_default().entry(key).or_insert_with(|| Need {
            host: name.host.clone(),
            repository: name.repository.clone(),
            tag: tag.to_string(),
            ..Need::default()
        });
        // A `tag@digest` reference runs the pinned digest whatever the imageID says.
        if let Some(d) = name.digest.as_deref().or(rc.digest) {
            need.digests.insert(d.to_string());
        }
        let node = ev.pods[rc.pod].spec.as_ref().and_then(|s| s.node_name.as_deref());
        if let Some(info) = node.and_then(|n| ev.node(n)).and_then(|n| n.status.as_ref()?.node_info.as_ref()) {
            need.platforms.insert((info.operating_system.clone(), info.architecture.clone()));
        }
    }
    by_host
}

/// Whether `host` is spoken to over plain HTTP.
pub fn plain_http(host: &str, insecure: &[String]) -> bool {
    if insecure.iter().any(|h| h == host || h.trim_end_matches('/') == host) {
        return true;
    }
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(h, _)| h),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

/// The base URL of a registry host (Docker Hub's API lives at `registry-1.docker.io`).
pub fn endpoint(host: &str, insecure: &[String]) -> String {
    let scheme = if plain_http(host, insecure) { "http" } else { "https" };
    let api_host = if host == "docker.io" { "registry-1.docker.io" } else { host };
    format!("{scheme}://{api_host}")
}

/// Ask the registries about every tag the evidence's running containers use. Blocking: it
/// runs its own small runtime. Registry failures are recorded in the facts.
pub fn collect(ev: &Evidence, opts: &Options) -> Result<RegistryFacts, Error> {
    let needs = needs(ev);
    // Whole seconds: the time is for people, and a fixed width keeps reports stable.
    let now = jiff::Timestamp::now();
    let checked_at = now.round(jiff::Unit::Second).unwrap_or(now);
    let mut facts = RegistryFacts { checked_at: Some(checked_at), ..RegistryFacts::default() };
    if needs.is_empty() {
        return Ok(facts);
    }
    client::install_crypto_provider();
    // Credentials are looked up before the runtime starts: credential helpers are processes.
    let mut sessions = Vec::new();
    for host in needs.keys() {
        let cred = credentials::lookup(host, opts);
        sessions.push(Arc::new(client::Session::new(host, opts, cred)?));
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let results: Vec<(HostFact, Vec<ImageFact>)> = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (session, (_, host_needs)) in sessions.into_iter().zip(needs) {
            set.spawn(client::check_host(session, host_needs));
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            // A panicking task is a bug; its host is left out rather than taking the scan down.
            if let Ok(r) = r {
                out.push(r);
            }
        }
        out
    });
    for (host, images) in results {
        facts.requests += host.requests;
        facts.hosts.push(host);
        facts.images.extend(images);
    }
    facts.hosts.sort_by(|a, b| a.host.cmp(&b.host));
    facts.images.sort_by(|a, b| a.reference.cmp(&b.reference));
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_listed_hosts_use_plain_http() {
        let insecure = vec!["registry.lan:5000".to_string()];
        assert!(plain_http("localhost:5001", &[]));
        assert!(plain_http("127.0.0.1:5000", &[]));
        assert!(plain_http("[::1]:5000", &[]));
        assert!(plain_http("registry.lan:5000", &insecure));
        assert!(!plain_http("registry.lan:5001", &insecure));
        assert!(!plain_http("127.0.0.2:5000", &[]));
        assert_eq!(endpoint("docker.io", &[]), "https://registry-1.docker.io");
        assert_eq!(endpoint("127.0.0.1:5000", &[]), "http://127.0.0.1:5000");
    }
}
