//! `CreateContainerConfigError` messages and the kubelet's secret/configmap lookups.

use super::Signature;
use ks_core::Cause;

pub static TABLE: &[Signature] = &[
    Signature {
        id: "config-secret-key",
        cause: Cause::ConfigSecretKeyMissing,
        pattern: r"couldn't find key (?P<key>\S+) in Secret (?P<ns>[^/\s]+)/(?P<name>\S+)",
    },
    Signature {
        id: "config-configmap-key",
        cause: Cause::ConfigConfigmapKeyMissing,
        pattern: r"couldn't find key (?P<key>\S+) in ConfigMap (?P<ns>[^/\s]+)/(?P<name>\S+)",
    },
    Signature {
        id: "config-secret-volume-key",
        cause: Cause::ConfigSecretKeyMissing,
        pattern: r"references non-existent secret key: (?P<key>\S+)",
    },
    Signature {
        id: "config-configmap-volume-key",
        cause: Cause::ConfigConfigmapKeyMissing,
        pattern: r"configmap references non-existent config key: (?P<key>\S+)",
    },
    Signature {
        id: "config-secret-missing",
        cause: Cause::ConfigSecretMissing,
        pattern: r#"secrets? "(?P<name>[^"]+)" not found"#,
    },
    Signature {
        id: "config-configmap-missing",
        cause: Cause::ConfigConfigmapMissing,
        pattern: r#"configmaps? "(?P<name>[^"]+)" not found"#,
    },
    Signature {
        id: "config-serviceaccount-missing",
        cause: Cause::ConfigServiceAccountMissing,
        pattern: r#"(?:error looking up service account (?P<ns>[^/\s]+)/(?P<name>[^:\s]+): serviceaccounts? "[^"]+" not found|serviceaccounts? "(?P<name2>[^"]+)" not found)"#,
    },
    // The kubelet's verifyRunAsNonRoot. The `(pod: %q, container: %s)` tail is missing in
    // older kubelets and in pasted `describe` output cut at the terminal width.
    Signature {
        id: "nonroot-user-zero",
        cause: Cause::SecurityRunAsNonRoot,
        pattern: r#"container's runAsUser breaks non-root policy(?: \(pod: "(?P<pod>[^"]+)", container: (?P<container>[^)\s]+)\))?"#,
    },
    Signature {
        id: "nonroot-image-root",
        cause: Cause::SecurityRunAsNonRoot,
        pattern: r#"container has runAsNonRoot and image will run as root(?: \(pod: "(?P<pod>[^"]+)", container: (?P<container>[^)\s]+)\))?"#,
    },
    Signature {
        id: "nonroot-image-nonnumeric",
        cause: Cause::SecurityRunAsNonRoot,
        pattern: r#"container has runAsNonRoot and image has non-numeric user \((?P<user>[^)]*)\), cannot verify user is non-root(?: \(pod: "(?P<pod>[^"]+)", container: (?P<container>[^)\s]+)\))?"#,
    },
    Signature {
        id: "nonroot-invalid-uid",
        cause: Cause::SecurityRunAsNonRoot,
        pattern: r#"container has runAsNonRoot and image has an invalid user id \((?P<uid>-?\d+)\)"#,
    },
];

super::matcher!(MATCHER, TABLE);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_names() {
        let m = MATCHER.first("couldn't find key mongodb-url in Secret shop/backend-secrets").unwrap();
        assert_eq!(m.sig.cause, Cause::ConfigSecretKeyMissing);
        assert_eq!((m.get("key"), m.get("ns"), m.get("name")), ("mongodb-url", "shop", "backend-secrets"));
        let m = MATCHER.first(r#"secret "backend-secrets" not found"#).unwrap();
        assert_eq!((m.sig.cause, m.get("name")), (Cause::ConfigSecretMissing, "backend-secrets"));
        let m = MATCHER.first(r#"container's runAsUser breaks non-root policy (pod: "backend-api-6f7d9c-x2k4q_shop(1a2b)", container: daprd)"#).unwrap();
        assert_eq!((m.sig.cause, m.get("container")), (Cause::SecurityRunAsNonRoot, "daprd"));
        assert_eq!(
            MATCHER.first("Couldn't find key a in Secret n/s").map(|m| m.sig.cause),
            Some(Cause::ConfigSecretKeyMissing)
        );
    }

    #[test]
    fn every_signature_has_a_reference_wording() {
        let cases = [
            ("couldn't find key url in ConfigMap shop/app-config", "config-configmap-key"),
            ("references non-existent secret key: tls.crt", "config-secret-volume-key"),
            ("configmap references non-existent config key: app.yaml", "config-configmap-volume-key"),
            (r#"secret "backend-secrets" not found"#, "config-secret-missing"),
            (r#"configmap "app-config" not found"#, "config-configmap-missing"),
            (
                r#"error looking up service account shop/backend: serviceaccount "backend" not found"#,
                "config-serviceaccount-missing",
            ),
            ("container's runAsUser breaks non-root policy", "nonroot-user-zero"),
            (
                r#"container has runAsNonRoot and image will run as root (pod: "edge-747fc6ccbd-vx9d4_runai(f03e)", container: unleash-edge)"#,
                "nonroot-image-root",
            ),
            (
                r#"container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: "web-1_shop(1a)", container: web)"#,
                "nonroot-image-nonnumeric",
            ),
            (
                r#"container has runAsNonRoot and image has an invalid user id (4294967296). (Must be 1-(2147483647)): x (pod: "w_s(1)", container: w)"#,
                "nonroot-invalid-uid",
            ),
        ];
        for (text, id) in cases {
            assert_eq!(MATCHER.first(text).map(|m| m.sig.id), Some(id), "{text}");
        }
        let m = MATCHER.first(r#"container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: "web-1_shop(1a)", container: web)"#).unwrap();
        assert_eq!((m.get("user"), m.get("container")), ("nginx", "web"));
        let m = MATCHER
            .first(r#"error looking up service account shop/backend: serviceaccount "backend" not found"#)
            .unwrap();
        assert_eq!((m.get("ns"), m.get("name")), ("shop", "backend"));
        // The cut-off form (pasted `describe` output) still names no container.
        assert_eq!(MATCHER.first("container's runAsUser breaks non-root policy").unwrap().get("container"), "");
    }
}
