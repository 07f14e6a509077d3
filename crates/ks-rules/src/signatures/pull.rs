//! Image pull failures: kubelet `Failed to pull image %q: %v` and the container runtime's
//! error chain (containerd, CRI-O, dockershim), with or without the gRPC prefix.
//!
//! Order matters (first match wins): the most specific wording first, and a transport error
//! inside a token fetch (`failed to fetch anonymous token: ... i/o timeout`) before the auth
//! words it contains, so a blocked auth host reads as a network problem, not bad credentials.

use super::Signature;
use ks_core::Cause;

pub static TABLE: &[Signature] = &[
    Signature {
        id: "pull-never",
        cause: Cause::ImageNeverPull,
        pattern: r#"Container image "(?P<image>[^"]+)" is not present with pull policy of Never"#,
    },
    Signature {
        id: "pull-invalid-name",
        cause: Cause::ImageInvalidName,
        pattern: r#"(?:Failed to apply default image tag "(?P<image>[^"]*)"|couldn't parse image reference|invalid reference format)"#,
    },
    // CRI-O (containers/image) without unqualified-search registries: a short name such as
    // `nginx` cannot be resolved to a registry.
    Signature {
        id: "pull-short-name",
        cause: Cause::ImageInvalidName,
        pattern: r#"short-name "(?P<image>[^"]+)" did not resolve to an alias and no unqualified-search registries are defined"#,
    },
    Signature {
        id: "pull-platform",
        cause: Cause::ImagePlatform,
        pattern: r"no match for platform in manifest|no matching manifest for (?P<platform>\S+) in the manifest list",
    },
    // CRI-O: `choosing image instance: no image found in manifest list for architecture
    // amd64, variant "", OS linux` (newer: `image index`, quoted values).
    Signature {
        id: "pull-platform-crio",
        cause: Cause::ImagePlatform,
        pattern: r#"no image found in (?:manifest list|image index) for architecture "?(?P<arch>[\w-]+)"?"#,
    },
    Signature {
        id: "pull-rate-limit",
        cause: Cause::ImageRateLimit,
        pattern: r"toomanyrequests|429 Too Many Requests|pull rate limit",
    },
    Signature {
        id: "pull-tls",
        cause: Cause::ImageTls,
        pattern: r"x509: |tls: failed to verify certificate|server gave HTTP response to HTTPS client|certificate signed by unknown authority|tls: handshake failure",
    },
    // The token endpoint (often another host, e.g. auth.docker.io) cannot be reached.
    Signature {
        id: "pull-token-network",
        cause: Cause::ImageNetwork,
        pattern: r"failed to (?:fetch (?:oauth|anonymous) token|authorize)\b.*(?:i/o timeout|no such host|connection refused|network is unreachable|no route to host|TLS handshake timeout|context deadline exceeded|connection reset by peer|request canceled)",
    },
    // dockershim / Docker Engine: `manifest for nginx:nope not found: manifest unknown`.
    Signature {
        id: "pull-not-found-docker",
        cause: Cause::ImageNotFound,
        pattern: r"manifest for (?P<image>\S+) not found",
    },
    // containerd: a blob or manifest the index references is missing, or the registry
    // answers 404 (`unexpected status from HEAD request to ...: 404 Not Found`).
    Signature {
        id: "pull-not-found-status",
        cause: Cause::ImageNotFound,
        pattern: r"content at \S+ not found|unexpected status (?:from (?:HEAD|GET) request to|code) \S+: 404 Not Found",
    },
    Signature {
        id: "pull-not-found",
        cause: Cause::ImageNotFound,
        pattern: r#"(?:failed to resolve reference "(?P<image>[^"]+)": (?:\S+: )?not found|manifest unknown|manifest_unknown|: not found$|: not found[;,]|repository (?:\S+ )?not found|name unknown|MANIFEST_UNKNOWN|NAME_UNKNOWN|reading manifest \S+ in \S+: manifest unknown)"#,
    },
    // dockershim / Docker Engine: `pull access denied for foo, repository does not exist or
    // may require 'docker login'`.
    Signature {
        id: "pull-auth-docker",
        cause: Cause::ImageAuth,
        pattern: r"pull access denied for (?P<repo>[^,\s]+), repository does not exist or may require",
    },
    Signature {
        id: "pull-auth",
        cause: Cause::ImageAuth,
        pattern: r"pull access denied|unauthorized|authentication required|no basic auth credentials|401 Unauthorized|403 Forbidden|insufficient_scope|denied: |requested access to the resource is denied|authorization failed|failed to fetch oauth token|failed to fetch anonymous token",
    },
    // The registry (or a proxy in front of it) answers with a server error.
    Signature {
        id: "pull-registry-5xx",
        cause: Cause::ImageNetwork,
        pattern: r"\b(?P<status>500 Internal Server Error|502 Bad Gateway|503 Service Unavailable|504 Gateway Timeout)\b",
    },
    Signature {
        id: "pull-dns",
        cause: Cause::ImageNetwork,
        pattern: r"dial tcp: lookup (?P<host>[\w.-]+)(?: on \S+)?: (?:no such host|server misbehaving|i/o timeout)|no such host",
    },
    Signature {
        id: "pull-network",
        cause: Cause::ImageNetwork,
        pattern: r"i/o timeout|dial tcp|connection refused|network is unreachable|no route to host|context deadline exceeded|TLS handshake timeout|connection reset by peer|request canceled while waiting for connection|Client\.Timeout exceeded|RegistryUnavailable|because the registry is unavailable|EOF$",
    },
];

super::matcher!(MATCHER, TABLE);

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(msg: &str) -> Option<Cause> {
        MATCHER.first(msg).map(|m| m.sig.cause)
    }

    fn sig(msg: &str) -> Option<&'static str> {
        MATCHER.first(msg).map(|m| m.sig.id)
    }

    #[test]
    fn classifies_real_wordings() {
        assert_eq!(
            cause(
                r#"Failed to pull image "agentx": failed to pull and unpack image "docker.io/library/agentx:latest": failed to resolve reference "docker.io/library/agentx:latest": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed"#
            ),
            Some(Cause::ImageAuth)
        );
        assert_eq!(
            cause(
                r#"Failed to pull image "nginx:nope": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:nope": failed to resolve reference "docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found"#
            ),
            Some(Cause::ImageNotFound)
        );
        assert_eq!(
            cause(
                r#"Failed to pull image "redis:7.2-alpine": failed to pull and unpack image "docker.io/library/redis:7.2-alpine": failed to resolve reference "docker.io/library/redis:7.2-alpine": failed to do request: Head "https://registry-1.docker.io/v2/library/redis/manifests/7.2-alpine": dial tcp 54.236.113.205:443: i/o timeout"#
            ),
            Some(Cause::ImageNetwork)
        );
        assert_eq!(
            cause(
                r#"Failed to pull image "reg.local/app:1": failed to pull and unpack image "reg.local/app:1": failed to resolve reference "reg.local/app:1": failed to do request: Head "https://reg.local/v2/app/manifests/1": x509: certificate signed by unknown authority"#
            ),
            Some(Cause::ImageTls)
        );
        assert_eq!(
            cause(
                r#"Failed to pull image "kafdrop": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/obsidiandynamics/kafdrop/manifests/sha256:1: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit."#
            ),
            Some(Cause::ImageRateLimit)
        );
        assert_eq!(
            cause(r#"Container image "app:dev" is not present with pull policy of Never"#),
            Some(Cause::ImageNeverPull)
        );
        assert_eq!(
            cause(
                r#"Failed to apply default image tag "app:": couldn't parse image reference "app:": invalid reference format"#
            ),
            Some(Cause::ImageInvalidName)
        );
        assert_eq!(cause("no match for platform in manifest: not found"), Some(Cause::ImagePlatform));
    }

    /// One line per signature added for the containerd (§12), CRI-O and dockershim wordings.
    #[test]
    fn classifies_runtime_variants() {
        let cases: &[(&str, &str, Cause)] = &[
            // containerd: HTTP status from the resolver.
            (
                r#"failed to pull and unpack image "reg.example/app:1.0": failed to resolve reference "reg.example/app:1.0": unexpected status from HEAD request to https://reg.example/v2/app/manifests/1.0: 401 Unauthorized"#,
                "pull-auth",
                Cause::ImageAuth,
            ),
            (
                r#"failed to pull and unpack image "reg.example/app:1.0": failed to resolve reference "reg.example/app:1.0": unexpected status from HEAD request to https://reg.example/v2/app/manifests/1.0: 403 Forbidden"#,
                "pull-auth",
                Cause::ImageAuth,
            ),
            (
                r#"failed to pull and unpack image "reg.example/app:1.0": failed to resolve reference "reg.example/app:1.0": unexpected status from HEAD request to https://reg.example/v2/app/manifests/1.0: 404 Not Found"#,
                "pull-not-found-status",
                Cause::ImageNotFound,
            ),
            (
                r#"failed to pull and unpack image "reg.example/app:1.0": failed to resolve reference "reg.example/app:1.0": unexpected status from HEAD request to https://reg.example/v2/app/manifests/1.0: 429 Too Many Requests (Retry-After: 60)"#,
                "pull-rate-limit",
                Cause::ImageRateLimit,
            ),
            (
                r#"failed to pull and unpack image "reg.example/app:1.0": failed to copy: httpReadSeeker: failed open: content at https://reg.example/v2/app/blobs/sha256:4f2a not found: not found"#,
                "pull-not-found-status",
                Cause::ImageNotFound,
            ),
            (
                r#"failed to pull and unpack image "reg.example/app:1.0": failed to resolve reference "reg.example/app:1.0": unexpected status from HEAD request to https://reg.example/v2/app/manifests/1.0: 503 Service Unavailable"#,
                "pull-registry-5xx",
                Cause::ImageNetwork,
            ),
            (
                r#"failed to pull and unpack image "myacr.azurecr.io/app:1": failed to resolve reference "myacr.azurecr.io/app:1": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://myacr.azurecr.io/oauth2/token?scope=repository%3Aapp%3Apull&service=myacr.azurecr.io: 401 Unauthorized"#,
                "pull-auth",
                Cause::ImageAuth,
            ),
            (
                r#"failed to pull and unpack image "docker.io/library/nginx:1.27": failed to resolve reference "docker.io/library/nginx:1.27": failed to authorize: failed to fetch anonymous token: Get "https://auth.docker.io/token?scope=repository%3Alibrary%2Fnginx%3Apull&service=registry.docker.io": dial tcp 3.216.34.172:443: i/o timeout"#,
                "pull-token-network",
                Cause::ImageNetwork,
            ),
            (
                r#"failed to pull and unpack image "harbor.corp/app:1": failed to resolve reference "harbor.corp/app:1": failed to do request: Head "https://harbor.corp/v2/app/manifests/1": dial tcp: lookup harbor.corp on 10.96.0.10:53: no such host"#,
                "pull-dns",
                Cause::ImageNetwork,
            ),
            (
                r#"failed to pull and unpack image "localhost:5001/app:dev": failed to resolve reference "localhost:5001/app:dev": failed to do request: Head "https://localhost:5001/v2/app/manifests/dev": dial tcp [::1]:5001: connect: connection refused"#,
                "pull-network",
                Cause::ImageNetwork,
            ),
            // dockershim / Docker Engine.
            (
                "rpc error: code = Unknown desc = Error response from daemon: manifest for nginx:nope not found: manifest unknown: manifest unknown",
                "pull-not-found-docker",
                Cause::ImageNotFound,
            ),
            (
                "rpc error: code = Unknown desc = Error response from daemon: pull access denied for acme/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
                "pull-auth-docker",
                Cause::ImageAuth,
            ),
            (
                r#"rpc error: code = Unknown desc = Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)"#,
                "pull-network",
                Cause::ImageNetwork,
            ),
            (
                "rpc error: code = Unknown desc = Error response from daemon: no matching manifest for linux/arm64/v8 in the manifest list entries",
                "pull-platform",
                Cause::ImagePlatform,
            ),
            // CRI-O (containers/image).
            (
                "rpc error: code = Unknown desc = reading manifest 2.4.1 in quay.io/acme/billing: manifest unknown: manifest unknown",
                "pull-not-found",
                Cause::ImageNotFound,
            ),
            (
                "rpc error: code = Unknown desc = initializing source docker://quay.io/acme/billing:2.4.1: reading manifest 2.4.1 in quay.io/acme/billing: unauthorized: access to the requested resource is not authorized",
                "pull-auth",
                Cause::ImageAuth,
            ),
            (
                r#"rpc error: code = Unknown desc = choosing image instance: no image found in manifest list for architecture arm64, variant "v8", OS linux"#,
                "pull-platform-crio",
                Cause::ImagePlatform,
            ),
            (
                r#"rpc error: code = Unknown desc = short-name "nginx" did not resolve to an alias and no unqualified-search registries are defined in "/etc/containers/registries.conf""#,
                "pull-short-name",
                Cause::ImageInvalidName,
            ),
            (
                r#"rpc error: code = Unknown desc = pinging container registry quay.io: Get "https://quay.io/v2/": dial tcp: lookup quay.io: no such host"#,
                "pull-dns",
                Cause::ImageNetwork,
            ),
            // Kubelet's own wording when the runtime says the registry is unavailable.
            (
                "image pull failed for registry.example/app:1 because the registry is unavailable",
                "pull-network",
                Cause::ImageNetwork,
            ),
        ];
        for (msg, id, want) in cases {
            assert_eq!(sig(msg), Some(*id), "{msg}");
            assert_eq!(cause(msg), Some(*want), "{msg}");
        }
        let m = MATCHER.first(cases[8].0).map(|m| m.get("host").to_string());
        assert_eq!(m.as_deref(), Some("harbor.corp"));
        let m = MATCHER.first(cases[16].0).map(|m| m.get("arch").to_string());
        assert_eq!(m.as_deref(), Some("arm64"));
    }

    #[test]
    fn progress_messages_are_not_failures() {
        for msg in [
            r#"Pulling image "redis:7.2-alpine""#,
            r#"Back-off pulling image "redis:7.2-alpine""#,
            r#"Successfully pulled image "redis:7.2-alpine" in 2.1s (2.1s including waiting). Image size: 17241088 bytes."#,
            r#"Container image "redis:7.2-alpine" already present on machine"#,
        ] {
            assert_eq!(sig(msg), None, "{msg}");
        }
    }

    /// The pasted real incidents in the shared corpus: each pull-related case is classified
    /// as its label says. Skipped when the corpus is not present (CI without /work/shared).
    #[test]
    fn classifies_pasted_corpus_cases() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/pasted");
        if !std::path::Path::new(dir).is_dir() {
            eprintln!("skipping: {dir} not present");
            return;
        }
        let cases = [
            "001-ratelimit-kafdrop",
            "003-tag-not-found-helm-chart",
            "042-x509-private-registry-untrusted",
            "044-exec-format-error-amd64-on-arm64",
            "047-invalidimagename-empty-tag",
            "055-ecr-no-basic-auth-node-role",
        ];
        for case in cases {
            let read = |f: &str| std::fs::read_to_string(format!("{dir}/{case}/{f}"));
            let (Ok(evidence), Ok(label)) = (read("evidence.txt"), read("label.yaml")) else {
                eprintln!("skipping {case}: not present");
                continue;
            };
            let want: Vec<Cause> = label
                .lines()
                .find_map(|l| l.strip_prefix("causes:"))
                .map(|l| {
                    l.trim()
                        .trim_matches(|c| c == '[' || c == ']')
                        .split(',')
                        .filter_map(|c| Cause::from_code(c.trim()))
                        .collect()
                })
                .unwrap_or_default();
            assert!(!want.is_empty(), "{case}: label has no causes");
            // Pasted YAML wraps long messages over lines: match the text as one line too.
            let joined = evidence.split_whitespace().collect::<Vec<_>>().join(" ");
            let got = MATCHER
                .first(&joined)
                .map(|m| m.sig.cause)
                // Start failures (exec format error) are classified from the container log.
                .or_else(|| super::super::logs::MATCHER.first(&joined).map(|m| m.sig.cause));
            assert!(got.is_some_and(|c| want.contains(&c)), "{case}: classified {got:?}, label says {want:?}");
        }
    }
}
