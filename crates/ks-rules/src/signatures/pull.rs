//! Image pull failures: kubelet `Failed to pull image %q: %v` and the container runtime's
//! error chain (containerd, CRI-O, dockershim), with or without the gRPC prefix.

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
    Signature {
        id: "pull-platform",
        cause: Cause::ImagePlatform,
        pattern: r"no match for platform in manifest|no matching manifest for (?P<platform>\S+) in the manifest list",
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
    Signature {
        id: "pull-not-found",
        cause: Cause::ImageNotFound,
        pattern: r#"(?:failed to resolve reference "(?P<image>[^"]+)": (?:\S+: )?not found|manifest unknown|manifest_unknown|: not found$|: not found[;,]|repository (?:\S+ )?not found|name unknown|MANIFEST_UNKNOWN|NAME_UNKNOWN|reading manifest \S+ in \S+: manifest unknown)"#,
    },
    Signature {
        id: "pull-auth",
        cause: Cause::ImageAuth,
        pattern: r"pull access denied|unauthorized|authentication required|no basic auth credentials|401 Unauthorized|403 Forbidden|insufficient_scope|denied: |authorization failed|failed to fetch oauth token|failed to fetch anonymous token",
    },
    Signature {
        id: "pull-network",
        cause: Cause::ImageNetwork,
        pattern: r"i/o timeout|dial tcp|no such host|connection refused|network is unreachable|context deadline exceeded|TLS handshake timeout|connection reset by peer|RegistryUnavailable|because the registry is unavailable|EOF$",
    },
];

super::matcher!(MATCHER, TABLE);

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(msg: &str) -> Option<Cause> {
        MATCHER.first(msg).map(|m| m.sig.cause)
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
}
