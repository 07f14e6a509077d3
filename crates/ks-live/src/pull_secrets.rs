//! Registry credentials from pods' imagePullSecrets, for `scan --registries` on a live
//! cluster: the registry check then asks each registry as the kubelet would.
//!
//! Only the Secrets running pods name are read (one `get` each), only the `auths` entries of
//! the registry hosts those pods pull from are kept, and the values live in memory for the
//! run: they never reach the evidence, the findings, a log or a snapshot. [`PullCredential`]'s
//! `Debug` shows the host only.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::api::Api;
use crate::collect::encode;

/// A username and password for one registry host, from an imagePullSecret.
#[derive(Clone, PartialEq, Eq)]
pub struct PullCredential {
    pub host: String,
    pub username: String,
    pub password: String,
    /// `namespace/name` of the Secret it came from.
    pub secret: String,
}

impl std::fmt::Debug for PullCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PullCredential({} from {}, <redacted>)", self.host, self.secret)
    }
}

/// A Secret to read and the registry hosts it may hold credentials for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub namespace: String,
    pub name: String,
    pub hosts: BTreeSet<String>,
}

/// What reading the pull secrets gave: credentials (the first Secret naming a host wins) and
/// one note per Secret that could not be used (never holding a value).
#[derive(Debug, Default)]
pub struct PullCredentials {
    pub credentials: Vec<PullCredential>,
    pub notes: Vec<String>,
}

/// The registry host an `auths` key names, as image references name it: keys may be URLs
/// (`https://index.docker.io/v1/`), carry a path, or name Docker Hub by another host.
pub fn auths_host(key: &str) -> String {
    let rest = key.split_once("://").map_or(key, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => "docker.io".to_string(),
        _ => host,
    }
}

/// The `auths` map of a dockerconfigjson (`{"auths": {...}}`) or legacy dockercfg (`{...}`).
fn auths(secret_type: &str, data: &serde_json::Map<String, Value>) -> Result<Value, &'static str> {
    let (field, nested) = match secret_type {
        "kubernetes.io/dockerconfigjson" => (".dockerconfigjson", true),
        "kubernetes.io/dockercfg" => (".dockercfg", false),
        _ => return Err("is not of type kubernetes.io/dockerconfigjson"),
    };
    let encoded = data.get(field).and_then(Value::as_str).ok_or("has no registry configuration key")?;
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| "holds a registry configuration that is not base64")?;
    let config: Value =
        serde_json::from_slice(&decoded).map_err(|_| "holds a registry configuration that is not JSON")?;
    Ok(if nested { config.get("auths").cloned().unwrap_or(Value::Null) } else { config })
}

/// The username and password of one `auths` entry (`username`/`password`, else `auth`:
/// base64 of `user:password`).
fn user_password(entry: &Value) -> Option<(String, String)> {
    let field = |k: &str| entry.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    if let (Some(u), Some(p)) = (field("username"), field("password")) {
        return Some((u.to_string(), p.to_string()));
    }
    let decoded = STANDARD.decode(field("auth")?.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Credentials for `hosts` in one Secret's `type` and `data`.
pub fn credentials_in(
    secret: &str,
    secret_type: &str,
    data: &serde_json::Map<String, Value>,
    hosts: &BTreeSet<String>,
) -> Result<Vec<PullCredential>, String> {
    let auths = auths(secret_type, data).map_err(|why| format!("imagePullSecret {secret} {why}"))?;
    let mut out = Vec::new();
    for (key, entry) in auths.as_object().into_iter().flatten() {
        let host = auths_host(key);
        if !hosts.contains(&host) || out.iter().any(|c: &PullCredential| c.host == host) {
            continue;
        }
        if let Some((username, password)) = user_password(entry) {
            out.push(PullCredential { host, username, password, secret: secret.to_string() });
        }
    }
    Ok(out)
}

/// Read each wanted Secret (one `get` each, concurrently) and keep the credentials of the
/// hosts it is wanted for.
pub async fn read(api: &Api, wanted: &[Wanted]) -> PullCredentials {
    let gets = wanted.iter().map(|w| async move {
        let path = format!("/api/v1/namespaces/{}/secrets/{}", encode(&w.namespace), encode(&w.name));
        (w, api.get(&path, "application/json").await)
    });
    let mut out = PullCredentials::default();
    let mut by_host: BTreeMap<String, PullCredential> = BTreeMap::new();
    for (w, answer) in futures::future::join_all(gets).await {
        let secret = format!("{}/{}", w.namespace, w.name);
        let body = match answer {
            Ok(body) => body,
            Err(e) if e.is_forbidden() => {
                out.notes.push(format!(
                    "cannot read imagePullSecret {secret} (forbidden: no `get` on secrets); its registries were asked without it"
                ));
                continue;
            }
            Err(e) if e.is_not_found() => {
                out.notes
                    .push(format!("imagePullSecret {secret} does not exist; its registries were asked without it"));
                continue;
            }
            Err(e) => {
                out.notes.push(format!("cannot read imagePullSecret {secret}: {e}"));
                continue;
            }
        };
        let Ok(obj) = serde_json::from_slice::<Value>(&body) else {
            out.notes.push(format!("imagePullSecret {secret}: the API server's answer is not JSON"));
            continue;
        };
        let secret_type = obj.get("type").and_then(Value::as_str).unwrap_or("Opaque");
        let empty = serde_json::Map::new();
        let data = obj.get("data").and_then(Value::as_object).unwrap_or(&empty);
        match credentials_in(&secret, secret_type, data, &w.hosts) {
            Ok(found) => {
                for c in found {
                    by_host.entry(c.host.clone()).or_insert(c);
                }
            }
            Err(note) => out.notes.push(note),
        }
    }
    out.credentials = by_host.into_values().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    fn hosts(h: &[&str]) -> BTreeSet<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn auths_keys_name_hosts_as_image_references_do() {
        assert_eq!(auths_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(auths_host("registry.example.com:5000"), "registry.example.com:5000");
        assert_eq!(auths_host("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
        assert_eq!(auths_host("GHCR.io"), "ghcr.io");
    }

    #[test]
    fn dockerconfigjson_gives_the_wanted_hosts_only() {
        let config = json!({"auths": {
            "ghcr.io": {"auth": b64("bot:s3cret-token")},
            "https://index.docker.io/v1/": {"username": "hub", "password": "hub-pass"},
            "other.example.com": {"auth": b64("x:y")}
        }});
        let data = json!({".dockerconfigjson": b64(&config.to_string())});
        let found = credentials_in(
            "shop/regcred",
            "kubernetes.io/dockerconfigjson",
            data.as_object().unwrap(),
            &hosts(&["ghcr.io", "docker.io"]),
        )
        .unwrap();
        let got: Vec<(&str, &str, &str)> =
            found.iter().map(|c| (c.host.as_str(), c.username.as_str(), c.password.as_str())).collect();
        assert_eq!(got, vec![("ghcr.io", "bot", "s3cret-token"), ("docker.io", "hub", "hub-pass")]);
        // Debug never shows the values.
        let debug = format!("{found:?}");
        assert!(!debug.contains("s3cret-token") && !debug.contains("hub-pass"), "{debug}");
    }

    #[test]
    fn legacy_dockercfg_and_unusable_secrets() {
        let cfg = json!({"quay.io": {"auth": b64("robot:pw")}});
        let data = json!({".dockercfg": b64(&cfg.to_string())});
        let found =
            credentials_in("ci/old", "kubernetes.io/dockercfg", data.as_object().unwrap(), &hosts(&["quay.io"]))
                .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].username.as_str(), found[0].password.as_str()), ("robot", "pw"));

        let opaque = json!({"password": b64("hunter2")});
        let err = credentials_in("shop/x", "Opaque", opaque.as_object().unwrap(), &hosts(&["quay.io"])).unwrap_err();
        assert_eq!(err, "imagePullSecret shop/x is not of type kubernetes.io/dockerconfigjson");
        let junk = json!({".dockerconfigjson": "not base64!"});
        let err = credentials_in("shop/y", "kubernetes.io/dockerconfigjson", junk.as_object().unwrap(), &hosts(&[]))
            .unwrap_err();
        assert!(err.ends_with("is not base64") && !err.contains("not base64!"), "{err}");
    }
}
