//! cert-manager messages (`k8s-messages.md` §13) on Challenges, Orders, CertificateRequests,
//! Issuers and Certificates. Order is depth: the first match among every message of a
//! Certificate's chain is its deepest known cause.

use super::Signature;
use ks_core::Cause;

pub static TABLE: &[Signature] = &[
    // Challenge: cert-manager's own HTTP-01 self-check.
    Signature {
        id: "cert-http01-wrong-status",
        cause: Cause::CertNotReady,
        pattern: r"Waiting for HTTP-01 challenge propagation: wrong status code '(?P<code>\d+)', expected '(?P<expected>\d+)'",
    },
    Signature {
        id: "cert-http01-request-failed",
        cause: Cause::CertNotReady,
        pattern: r"Waiting for HTTP-01 challenge propagation: failed to perform self check GET request '(?P<url>[^']+)': (?P<error>.+)",
    },
    Signature {
        id: "cert-http01-wrong-body",
        cause: Cause::CertNotReady,
        pattern: r"Waiting for HTTP-01 challenge propagation: (?:did not get expected response when querying endpoint, expected (?P<expected>.+?) but got: (?P<got>.*)|presented key \((?P<got2>[^)]*)\) did not match expected \((?P<expected2>[^)]*)\))",
    },
    // Challenge: DNS-01 record not visible yet.
    Signature {
        id: "cert-dns01-not-propagated",
        cause: Cause::CertNotReady,
        pattern: r#"DNS record for "(?P<fqdn>[^"]+)" not yet propagated"#,
    },
    Signature { id: "cert-caa", cause: Cause::CertNotReady, pattern: r"CAA self-check failed: (?P<error>.+)" },
    Signature {
        id: "cert-present-error",
        cause: Cause::CertNotReady,
        pattern: r"Error presenting challenge: (?P<error>.+)",
    },
    // ACME server refusals.
    Signature {
        id: "cert-acme-rate-limited",
        cause: Cause::CertNotReady,
        pattern: r"urn:ietf:params:acme:error:rateLimited(?::\s*(?P<error>.+))?",
    },
    Signature {
        id: "cert-acme-authorization",
        cause: Cause::CertNotReady,
        pattern: r"Error accepting (?:authorization|challenge): (?P<error>.+)|acme: authorization error for (?P<domain>\S+): (?P<error2>.+)",
    },
    Signature {
        id: "cert-acme-order-rejected",
        cause: Cause::CertNotReady,
        pattern: r"Failed to create Order: (?P<error>.+)",
    },
    // Issuer missing or not ready.
    Signature {
        id: "cert-issuer-not-found",
        cause: Cause::CertNotReady,
        pattern: r#"Referenced "(?P<kind>Issuer|ClusterIssuer)" not found: (?:cluster)?issuers?\.cert-manager\.io "(?P<name>[^"]+)" not found"#,
    },
    Signature {
        id: "cert-acme-account",
        cause: Cause::CertNotReady,
        pattern: r"Failed to (?:register|verify) ACME account: (?P<error>.+)",
    },
    Signature {
        id: "cert-acme-v1",
        cause: Cause::CertNotReady,
        pattern: r"Your ACME server URL is set to a v1 endpoint",
    },
    Signature {
        id: "cert-waiting-approval",
        cause: Cause::CertNotReady,
        pattern: r"Not signing CertificateRequest until it is Approved",
    },
    // The Certificate's own state.
    Signature {
        id: "cert-secret-conflict",
        cause: Cause::CertNotReady,
        pattern: r#"Secret was issued for "(?P<other>[^"]+)"\. If this message is not transient, you might have two conflicting Certificates pointing to the same secret"#,
    },
    Signature { id: "cert-expired", cause: Cause::CertNotReady, pattern: r"Certificate expired on (?P<date>.+)" },
    Signature {
        id: "cert-order-failed",
        cause: Cause::CertNotReady,
        pattern: r#"Failed to wait for order resource "?(?P<order>[^"\s]+?)"? to become ready|order is in "(?P<state>[^"]+)" state: ?(?P<reason>.*)"#,
    },
    Signature {
        id: "cert-request-failed",
        cause: Cause::CertNotReady,
        pattern: r"The certificate request has failed to complete and will be retried: (?P<error>.+)",
    },
    Signature {
        id: "cert-order-pending",
        cause: Cause::CertNotReady,
        pattern: r#"Waiting on certificate issuance from order (?P<ns>[^/\s]+)/(?P<order>\S+): "(?P<state>[^"]*)""#,
    },
    Signature {
        id: "cert-secret-does-not-exist",
        cause: Cause::CertNotReady,
        pattern: r"Issuing certificate as Secret does not (?:exist|contain)",
    },
];

super::matcher!(MATCHER, TABLE);

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Option<&'static str> {
        MATCHER.first(s).map(|m| m.sig.id)
    }

    #[test]
    fn cert_manager_messages() {
        let m = MATCHER
            .first("Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'")
            .expect("matches");
        assert_eq!((m.sig.id, m.get("code")), ("cert-http01-wrong-status", "404"));
        assert_eq!(
            id(
                "Waiting for http-01 challenge propagation: failed to perform self check GET request 'http://shop.example.com/.well-known/acme-challenge/abc': Get \"http://shop.example.com/.well-known/acme-challenge/abc\": dial tcp: lookup shop.example.com on 10.96.0.10:53: no such host"
            ),
            Some("cert-http01-request-failed")
        );
        assert_eq!(
            id(
                "Waiting for HTTP-01 challenge propagation: did not get expected response when querying endpoint, expected \"abc.def\" but got: <html>... (truncated)"
            ),
            Some("cert-http01-wrong-body")
        );
        assert_eq!(
            id("Waiting for HTTP-01 challenge propagation: presented key (x) did not match expected (y)"),
            Some("cert-http01-wrong-body")
        );
        assert_eq!(
            id(r#"Waiting for DNS-01 challenge propagation: DNS record for "example.com" not yet propagated"#),
            Some("cert-dns01-not-propagated")
        );
        assert_eq!(id("CAA self-check failed: CAA record does not match issuer"), Some("cert-caa"));
        assert_eq!(
            id("Error presenting challenge: error getting route53 hosted zone: AccessDenied"),
            Some("cert-present-error")
        );
        assert_eq!(
            id(
                "Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: Error creating new order :: too many certificates already issued for exact set of domains"
            ),
            Some("cert-acme-rate-limited")
        );
        assert_eq!(
            id(
                "Error accepting authorization: acme: authorization error for shop.example.com: 400 urn:ietf:params:acme:error:connection: Fetching http://shop.example.com/.well-known/acme-challenge/x: Timeout during connect"
            ),
            Some("cert-acme-authorization")
        );
        let m = MATCHER
            .first(
                r#"Referenced "ClusterIssuer" not found: clusterissuer.cert-manager.io "letsencrypt-prod" not found"#,
            )
            .expect("matches");
        assert_eq!(
            (m.sig.id, m.get("kind"), m.get("name")),
            ("cert-issuer-not-found", "ClusterIssuer", "letsencrypt-prod")
        );
        assert_eq!(
            id(
                "Failed to register ACME account: Get \"https://acme-v02.api.letsencrypt.org/directory\": dial tcp: i/o timeout"
            ),
            Some("cert-acme-account")
        );
        assert_eq!(id("Not signing CertificateRequest until it is Approved"), Some("cert-waiting-approval"));
        assert_eq!(id("Certificate expired on Sun, 01 Nov 2026 10:00:00 UTC"), Some("cert-expired"));
        assert_eq!(
            id(
                r#"Secret was issued for "shop/other". If this message is not transient, you might have two conflicting Certificates pointing to the same secret."#
            ),
            Some("cert-secret-conflict")
        );
        assert_eq!(
            id(r#"Failed to wait for order resource "shop-tls-1-123" to become ready: order is in "invalid" state: "#),
            Some("cert-order-failed")
        );
        assert_eq!(
            id("The certificate request has failed to complete and will be retried: Failed to wait for order resource"),
            Some("cert-request-failed")
        );
        let m = MATCHER
            .first(r#"Waiting on certificate issuance from order shop/shop-tls-1-3563456: "pending""#)
            .expect("matches");
        assert_eq!((m.sig.id, m.get("order"), m.get("state")), ("cert-order-pending", "shop-tls-1-3563456", "pending"));
        assert_eq!(id("Issuing certificate as Secret does not exist"), Some("cert-secret-does-not-exist"));
        assert_eq!(id("Certificate is up to date and has not expired"), None);
    }
}
