//! Networking message signatures: ingress controller log lines (real ingress-nginx formats)
//! and readiness probe outputs (`k8s-messages.md` §5).

use ks_core::Cause;

use crate::signatures::{Signature, matcher};

/// ingress-nginx log lines saying it ignores an Ingress because of its class.
pub static INGRESS_LOG: &[Signature] = &[
    // store.go: `"Ignoring ingress because of error while validating ingress class" ingress="ns/name" error="…"`
    Signature {
        id: "ingress-nginx-ignored-class",
        cause: Cause::NetIngressClass,
        pattern: r#"Ignoring ingress because of error while validating ingress class"?\s+ingress="(?P<ns>[^/"]+)/(?P<name>[^"]+)"\s+error="(?P<error>(?:[^"\\]|\\.)*)""#,
    },
    // Older controller.go: `ignoring ingress NAME in NS based on annotation : REASON`
    Signature {
        id: "ingress-nginx-ignored-annotation",
        cause: Cause::NetIngressClass,
        pattern: r"ignoring ingress (?P<name>[\w.-]+) in (?P<ns>[\w.-]+) based on annotation\s*:\s*(?P<error>.+)",
    },
];

/// The probe output inside `Readiness probe failed: %s`.
pub static PROBE_OUTPUT: &[Signature] = &[
    Signature {
        id: "probe-http-status",
        cause: Cause::NetReadiness,
        pattern: r"HTTP probe failed with statuscode: (?P<code>\d+)",
    },
    Signature {
        id: "probe-refused",
        cause: Cause::NetReadiness,
        pattern: r"dial tcp (?P<addr>\S+?): connect: connection refused",
    },
    Signature {
        id: "probe-timeout",
        cause: Cause::NetReadiness,
        pattern: r"context deadline exceeded|Client\.Timeout exceeded|i/o timeout|command (?P<cmd>.+) timed out",
    },
    Signature {
        id: "probe-unreachable",
        cause: Cause::NetReadiness,
        pattern: r"connect: no route to host|connect: network is unreachable",
    },
    Signature { id: "probe-reset", cause: Cause::NetReadiness, pattern: r"connection reset by peer|: EOF$" },
];

matcher!(INGRESS_LOG_MATCHER, INGRESS_LOG);
matcher!(PROBE_MATCHER, PROBE_OUTPUT);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingress_nginx_lines() {
        let l = r#"I1017 21:58:37.843115       7 store.go:426] "Ignoring ingress because of error while validating ingress class" ingress="namespace/gateway-ingress" error="ingress does not contain a valid IngressClass""#;
        let m = INGRESS_LOG_MATCHER.first(l).expect("matches");
        assert_eq!(m.get("ns"), "namespace");
        assert_eq!(m.get("name"), "gateway-ingress");
        assert_eq!(m.get("error"), "ingress does not contain a valid IngressClass");
        let l = r#"I0919 10:52:11.402316       7 store.go:432] "Ignoring ingress because of error while validating ingress class" ingress="default/demo-ingress" error="no object matching key \"traefik\" in local store""#;
        let m = INGRESS_LOG_MATCHER.first(l).expect("matches");
        assert_eq!(m.get("error"), r#"no object matching key \"traefik\" in local store"#);
        let l = r#"W1006 12:04:54.373650      11 controller.go:336] ignoring ingress wrong-class in s12 based on annotation : no object matching key "nginx-internal" in local store"#;
        let m = INGRESS_LOG_MATCHER.first(l).expect("matches");
        assert_eq!((m.get("ns"), m.get("name")), ("s12", "wrong-class"));
        assert!(
            INGRESS_LOG_MATCHER.first(r#""successfully validated configuration, accepting" ingress="s12/x""#).is_none()
        );
    }

    #[test]
    fn probe_outputs() {
        let id = |s: &str| PROBE_MATCHER.first(s).map(|m| m.sig.id);
        assert_eq!(id("HTTP probe failed with statuscode: 503"), Some("probe-http-status"));
        assert_eq!(
            id(r#"Get "http://10.244.1.5:8000/health": dial tcp 10.244.1.5:8000: connect: connection refused"#),
            Some("probe-refused")
        );
        assert_eq!(
            id(
                r#"Get "http://10.244.1.5:8000/health": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"#
            ),
            Some("probe-timeout")
        );
        assert_eq!(id(r#"command "pg_isready" timed out"#), Some("probe-timeout"));
        assert_eq!(id("not ready yet"), None);
    }
}
