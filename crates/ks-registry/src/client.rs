//! A small OCI distribution client: the requests a tag check needs, counted, bounded per
//! host, each with a timeout, and every failure turned into a [`RegistryError`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ks_core::registry::{HostFact, ImageFact, PlatformDigest, RegistryError, RegistryErrorKind};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, StatusCode, Url};
use sha2::{Digest as _, Sha256};
use tokio::sync::{Mutex, Semaphore};

use crate::credentials::{Credential, Found};
use crate::{Need, Options};

/// Manifest media types kubesleuth reads, indexes first so a multi-platform tag answers with
/// its index (the digest runtimes record when they pull by tag).
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Manifests and configs are small; anything larger is not what was asked for.
const MAX_BODY: usize = 4 << 20;

pub(crate) fn install_crypto_provider() {
    // An error means a provider is already installed for the process, which is what we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How a host wants to be authenticated, from its `/v2/` answer.
#[derive(Debug, Clone)]
enum Challenge {
    None,
    Basic,
    Bearer { realm: String, service: Option<String> },
}

/// One registry host for one run: its client, credential, token cache and request count.
pub(crate) struct Session {
    host: String,
    /// Base URLs to try, in order: an `--insecure-registry` host is asked over HTTPS (any
    /// certificate) first and plain HTTP when that does not connect, as Docker does.
    bases: Vec<String>,
    /// The base URL that answered the probe.
    base: OnceLock<String>,
    http: reqwest::Client,
    found: Found,
    permits: Semaphore,
    requests: AtomicU32,
    challenge: OnceLock<Challenge>,
    /// Bearer tokens by repository, for the run.
    tokens: Mutex<HashMap<String, String>>,
}

/// An answer: status, headers and a bounded body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Session {
    pub(crate) fn new(host: &str, opts: &Options, found: Found) -> Result<Session, reqwest::Error> {
        let mut b = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("kubesleuth/", env!("CARGO_PKG_VERSION")));
        let loopback = crate::plain_http(host, &[]);
        if loopback {
            // A proxy from the environment cannot reach this machine's loopback registry.
            b = b.no_proxy();
        }
        let endpoint = crate::endpoint(host, &opts.insecure);
        let bases = match endpoint.strip_prefix("http://") {
            Some(rest) if !loopback => {
                // Docker's insecure-registries: HTTPS without certificate checks, then HTTP.
                b = b.tls_danger_accept_invalid_certs(true);
                vec![format!("https://{rest}"), endpoint.clone()]
            }
            _ => vec![endpoint],
        };
        Ok(Session {
            host: host.to_string(),
            bases,
            base: OnceLock::new(),
            http: b.build()?,
            found,
            permits: Semaphore::new(opts.per_host.max(1)),
            requests: AtomicU32::new(0),
            challenge: OnceLock::new(),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// Send one request under the host's concurrency bound and read a bounded body.
    async fn send(&self, req: RequestBuilder) -> Result<Answer, RegistryError> {
        // The semaphore is never closed, so acquiring only fails if it were.
        let _permit = self.permits.acquire().await.map_err(|_| protocol("request limiter closed"))?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut resp = req.send().await.map_err(|e| transport_error(&self.host, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(&self.host, &e))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(protocol(&format!("answer larger than {MAX_BODY} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, headers, body })
    }

    /// The base URL to ask: the one that answered the probe.
    fn base(&self) -> &str {
        self.base.get().or(self.bases.first()).map_or("", String::as_str)
    }

    /// `GET /v2/`: is the host there, and how does it authenticate? Tries each base URL in
    /// turn while the previous one does not connect.
    async fn probe(&self) -> Result<Challenge, RegistryError> {
        let mut answer = Err(protocol("no endpoint"));
        for base in &self.bases {
            answer = self.send(self.http.get(format!("{base}/v2/"))).await;
            match &answer {
                Err(e) if matches!(e.kind, RegistryErrorKind::Network | RegistryErrorKind::Tls) => continue,
                _ => {
                    let _ = self.base.set(base.clone());
                    break;
                }
            }
        }
        let a = answer?;
        match a.status {
            s if s.is_success() => Ok(Challenge::None),
            StatusCode::UNAUTHORIZED => {
                let header = a.headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or_default();
                let challenge = parse_challenge(header);
                if matches!(challenge, Challenge::Basic)
                    && !matches!(self.found.credential, Some(Credential::Basic { .. }))
                {
                    return Err(RegistryError {
                        kind: RegistryErrorKind::Auth,
                        status: Some(401),
                        code: Some("UNAUTHORIZED".into()),
                        message: format!(
                            "{} requires a login (HTTP basic auth) and kubesleuth has no credentials for it",
                            self.host
                        ),
                    });
                }
                Ok(challenge)
            }
            _ => Err(status_error(&self.host, &a, "/v2/")),
        }
    }

    /// Add the host's authentication to a request for `repository`.
    async fn authorize(&self, req: RequestBuilder, repository: &str) -> Result<RequestBuilder, RegistryError> {
        match (self.challenge.get(), &self.found.credential) {
            (Some(Challenge::Basic), Some(Credential::Basic { username, password })) => {
                Ok(req.basic_auth(username, Some(password)))
            }
            (Some(Challenge::Bearer { realm, service }), _) => {
                let token = self.token(realm, service.as_deref(), repository).await?;
                Ok(req.bearer_auth(token))
            }
            _ => Ok(req),
        }
    }

    /// A pull token for `repository`, from the cache or the registry's token service.
    async fn token(&self, realm: &str, service: Option<&str>, repository: &str) -> Result<String, RegistryError> {
        // Held across the fetch so that concurrent tags of one repository share one token.
        let mut tokens = self.tokens.lock().await;
        if let Some(t) = tokens.get(repository) {
            return Ok(t.clone());
        }
        let mut url = Url::parse(realm).map_err(|_| protocol(&format!("token realm {realm:?} is not a URL")))?;
        let scope = format!("repository:{repository}:pull");
        let req = match &self.found.credential {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", "kubesleuth"),
                    ("scope", scope.as_str()),
                ];
                if let Some(s) = service {
                    form.push(("service", s));
                }
                let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
                self.http.post(url).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body)
            }
            cred => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    q.append_pair("scope", &scope);
                }
                let req = self.http.get(url);
                match cred {
                    Some(Credential::Basic { username, password }) => req.basic_auth(username, Some(password)),
                    _ => req,
                }
            }
        };
        let a = self.send(req).await?;
        if !a.status.is_success() {
            let mut e = status_error(&self.host, &a, "token service");
            if matches!(a.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                e.message = format!("the token service of {} refused a pull token for {repository}", self.host);
            }
            return Err(e);
        }
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let t: TokenAnswer = serde_json::from_slice(&a.body)
            .map_err(|_| protocol("token service answered something other than a token"))?;
        let token = t
            .token
            .or(t.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| protocol("token service sent no token"))?;
        tokens.insert(repository.to_string(), token.clone());
        Ok(token)
    }

    /// `GET /v2/<repo>/manifests/<reference>`.
    async fn manifest(&self, repository: &str, reference: &str) -> Result<Manifest, RegistryError> {
        let req = self
            .http
            .get(format!("{}/v2/{repository}/manifests/{reference}", self.base()))
            .header(ACCEPT, MANIFEST_ACCEPT);
        let req = self.authorize(req, repository).await?;
        let a = self.send(req).await?;
        if !a.status.is_success() {
            return Err(status_error(&self.host, &a, &format!("{repository}:{reference}")));
        }
        Manifest::parse(&a)
    }

    /// `created` from an image config blob.
    async fn created(&self, repository: &str, config: &str) -> Result<Option<jiff::Timestamp>, RegistryError> {
        let req = self.http.get(format!("{}/v2/{repository}/blobs/{config}", self.base()));
        let req = self.authorize(req, repository).await?;
        let a = self.send(req).await?;
        if !a.status.is_success() {
            return Err(status_error(&self.host, &a, config));
        }
        #[derive(serde::Deserialize)]
        struct Config {
            #[serde(default)]
            created: Option<String>,
        }
        let c: Config = serde_json::from_slice(&a.body).map_err(|_| protocol("image config is not JSON"))?;
        Ok(c.created.and_then(|s| s.parse().ok()))
    }
}

/// A manifest or index, reduced to what the check needs.
struct Manifest {
    digest: String,
    media_type: Option<String>,
    platforms: Vec<PlatformDigest>,
    /// The config blob of an image manifest.
    config: Option<String>,
}

impl Manifest {
    fn parse(a: &Answer) -> Result<Manifest, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Platform {
            #[serde(default)]
            os: String,
            #[serde(default)]
            architecture: String,
            #[serde(default)]
            variant: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            digest: String,
            #[serde(default)]
            platform: Option<Platform>,
        }
        #[derive(serde::Deserialize)]
        struct Descriptor {
            digest: String,
        }
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(rename = "mediaType", default)]
            media_type: Option<String>,
            #[serde(default)]
            manifests: Option<Vec<Entry>>,
            #[serde(default)]
            config: Option<Descriptor>,
        }
        let body: Body = serde_json::from_slice(&a.body).map_err(|_| protocol("manifest is not JSON"))?;
        let header_digest = a
            .headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| ks_core::registry::is_digest(d));
        // The header is what the registry stores the manifest under; without it, the digest of
        // the bytes as served is the same thing.
        let digest = match header_digest {
            Some(d) => d.to_string(),
            None => format!("sha256:{:x}", Sha256::digest(&a.body)),
        };
        let content_type = a
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
            .filter(|v| v.contains("manifest") || v.contains("index"));
        let platforms = body
            .manifests
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let p = e.platform?;
                // Build attestations are listed as `unknown/unknown`; nothing runs them.
                (p.os != "unknown" && p.architecture != "unknown").then_some(PlatformDigest {
                    os: p.os,
                    architecture: p.architecture,
                    variant: p.variant.filter(|v| !v.is_empty()),
                    digest: e.digest,
                })
            })
            .collect();
        Ok(Manifest {
            digest,
            media_type: content_type.or(body.media_type),
            platforms,
            config: body.config.map(|c| c.digest),
        })
    }
}

/// Check every tag of one host: the probe once, then the tags concurrently.
pub(crate) async fn check_host(session: Arc<Session>, needs: BTreeMap<String, Need>) -> (HostFact, Vec<ImageFact>) {
    let mut fact = HostFact {
        host: session.host.clone(),
        auth: session.found.source,
        note: session.found.note.clone(),
        ..HostFact::default()
    };
    let mut images = Vec::new();
    let probed = session.probe().await;
    fact.endpoint = session.base().to_string();
    match probed {
        Err(e) => fact.error = Some(e),
        Ok(ch) => {
            let _ = session.challenge.set(ch);
            let mut set = tokio::task::JoinSet::new();
            for (key, need) in needs {
                set.spawn(check_image(session.clone(), key, need));
            }
            while let Some(r) = set.join_next().await {
                if let Ok(f) = r {
                    images.push(f);
                }
            }
        }
    }
    fact.requests = session.requests.load(Ordering::Relaxed);
    (fact, images)
}

async fn check_image(session: Arc<Session>, key: String, need: Need) -> ImageFact {
    let mut fact = ImageFact {
        reference: key,
        host: need.host.clone(),
        repository: need.repository.clone(),
        tag: need.tag.clone(),
        ..ImageFact::default()
    };
    let m = match session.manifest(&need.repository, &need.tag).await {
        Ok(m) => m,
        Err(e) => {
            fact.error = Some(e);
            return fact;
        }
    };
    fact.digest = Some(m.digest.clone());
    fact.media_type = m.media_type.clone();
    fact.platforms = m.platforms.clone();
    // When some pod runs another digest, say when the tag's image was built: that is when the
    // tag moved at the earliest. Tags every pod agrees with cost no more requests.
    if need.digests.iter().any(|d| !fact.names(d)) {
        let (os, arch) = need.platforms.iter().next().cloned().unwrap_or_else(|| ("linux".into(), "amd64".into()));
        let config = if m.platforms.is_empty() {
            m.config.clone()
        } else {
            let child = fact
                .platform_digest(&os, &arch)
                .map(str::to_string)
                .or_else(|| m.platforms.first().map(|p| p.digest.clone()));
            let platform = m.platforms.iter().find(|p| Some(&p.digest) == child.as_ref()).map(PlatformDigest::platform);
            match child {
                Some(c) => match session.manifest(&need.repository, &c).await {
                    Ok(cm) => {
                        fact.created_platform = platform;
                        cm.config
                    }
                    Err(_) => None,
                },
                None => None,
            }
        };
        if let Some(cfg) = config {
            // A config that cannot be read only costs the "when"; the digest is known.
            fact.created = session.created(&need.repository, &cfg).await.ok().flatten();
        }
        if fact.created.is_none() {
            fact.created_platform = None;
        }
    }
    fact
}

/// `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
fn parse_challenge(header: &str) -> Challenge {
    let (scheme, params) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Challenge::Basic;
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Challenge::None;
    }
    let mut realm = None;
    let mut service = None;
    for (k, v) in auth_params(params) {
        match k.to_ascii_lowercase().as_str() {
            "realm" => realm = Some(v),
            "service" => service = Some(v),
            _ => {}
        }
    }
    match realm {
        Some(realm) => Challenge::Bearer { realm, service },
        None => Challenge::None,
    }
}

/// `k="v", k2=v2` pairs; quoted values may hold commas.
fn auth_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else { break };
        let k = k.trim().trim_start_matches(',').trim().to_string();
        let after = after.trim_start();
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q[..end].to_string(), &q[end + 1..]),
                None => (q.to_string(), ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (after[..end].trim().to_string(), &after[end..]),
                None => (after.trim().to_string(), ""),
            }
        };
        out.push((k, v));
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

fn protocol(message: &str) -> RegistryError {
    RegistryError { kind: RegistryErrorKind::Protocol, status: None, code: None, message: message.to_string() }
}

/// A non-success answer as an error: the HTTP status decides the kind, the distribution API's
/// error body gives code and message.
fn status_error(host: &str, a: &Answer, what: &str) -> RegistryError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(default)]
        errors: Vec<ApiError>,
    }
    #[derive(serde::Deserialize)]
    struct ApiError {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let api = serde_json::from_slice::<Envelope>(&a.body).ok().and_then(|e| e.errors.into_iter().next());
    let code = api.as_ref().map(|e| e.code.clone()).filter(|c| !c.is_empty());
    let detail = api.as_ref().map(|e| e.message.clone()).filter(|m| !m.is_empty());
    let s = a.status.as_u16();
    let kind = match a.status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => RegistryErrorKind::Auth,
        StatusCode::NOT_FOUND => RegistryErrorKind::NotFound,
        StatusCode::TOO_MANY_REQUESTS => RegistryErrorKind::RateLimit,
        st if st.is_server_error() => RegistryErrorKind::Network,
        _ => RegistryErrorKind::Protocol,
    };
    let reason = a.status.canonical_reason().unwrap_or("");
    let mut message = format!("{host} answered HTTP {s} {reason} for {what}");
    if let Some(d) = detail {
        message.push_str(&format!(": {}", code.as_deref().map_or(d.clone(), |c| format!("{c}: {d}"))));
    }
    RegistryError { kind, status: Some(s), code, message: one_line(&message) }
}

/// A request that got no HTTP answer: TLS, timeout, refused connection, DNS.
fn transport_error(host: &str, e: &reqwest::Error) -> RegistryError {
    let mut chain = Vec::new();
    let mut tls = false;
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if s.downcast_ref::<rustls::Error>().is_some() {
            tls = true;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            tls = true;
        }
        let text = s.to_string();
        // reqwest's own lines name the URL or say "client error (Connect)"; the causes below
        // them say what happened.
        let wrapper = text.starts_with("error sending request") || text.starts_with("client error");
        if !wrapper && !chain.iter().any(|c: &String| c.contains(&text)) {
            chain.push(text);
        }
        src = s.source();
    }
    let detail = if chain.is_empty() { e.to_string() } else { chain.join(": ") };
    let lower = detail.to_ascii_lowercase();
    tls = tls || lower.contains("certificate") || lower.contains("handshake") || lower.contains("invalidcontenttype");
    let (kind, message) = if e.is_timeout() {
        (RegistryErrorKind::Network, format!("{host} did not answer in time (timeout)"))
    } else if tls {
        (RegistryErrorKind::Tls, format!("TLS with {host} failed: {detail}"))
    } else {
        (RegistryErrorKind::Network, format!("cannot connect to {host}: {detail}"))
    };
    RegistryError { kind, status: None, code: None, message: one_line(&message) }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_auth_challenges() {
        match parse_challenge(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#) {
            Challenge::Bearer { realm, service } => {
                assert_eq!(realm, "https://auth.docker.io/token");
                assert_eq!(service.as_deref(), Some("registry.docker.io"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse_challenge(r#"Basic realm="basic-realm""#), Challenge::Basic));
        assert!(matches!(parse_challenge(""), Challenge::None));
        let p = auth_params(r#"realm="a,b", service=svc ,scope="repository:x:pull""#);
        assert_eq!(p[0], ("realm".into(), "a,b".into()));
        assert_eq!(p[1], ("service".into(), "svc".into()));
        assert_eq!(p[2].0, "scope");
    }

    #[test]
    fn statuses_map_to_causes() {
        let answer = |status: u16, body: &str| Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        };
        let e = status_error(
            "r:5000",
            &answer(
                404,
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#,
            ),
            "app:x",
        );
        assert_eq!(e.kind, RegistryErrorKind::NotFound);
        assert_eq!(e.code.as_deref(), Some("MANIFEST_UNKNOWN"));
        assert_eq!(e.message, "r:5000 answered HTTP 404 Not Found for app:x: MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(status_error("r", &answer(401, ""), "x").kind, RegistryErrorKind::Auth);
        assert_eq!(status_error("r", &answer(403, ""), "x").kind, RegistryErrorKind::Auth);
        assert_eq!(status_error("r", &answer(503, "oops"), "x").kind, RegistryErrorKind::Network);
        assert_eq!(status_error("r", &answer(429, ""), "x").kind, RegistryErrorKind::RateLimit);
    }
}
