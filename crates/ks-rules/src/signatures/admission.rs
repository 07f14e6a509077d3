//! API-server admission refusals, seen in controllers' `FailedCreate` events
//! (`Error creating: %v`) and ReplicaFailure conditions.

use super::Signature;
use ks_core::Cause;

pub static TABLE: &[Signature] = &[
    Signature {
        id: "admission-pod-security",
        cause: Cause::AdmissionPodSecurity,
        pattern: r#"violates PodSecurity "(?P<level>[^"]+)": (?P<detail>.+)"#,
    },
    Signature {
        id: "admission-quota",
        cause: Cause::AdmissionQuota,
        pattern: r"exceeded quota: (?P<quota>[^,]+), requested: (?P<requested>[^,]+(?:,[^,:]+=[^,]+)*), used: |failed quota: (?P<quota2>[^:]+): must specify (?P<resources>.+)|insufficient quota to match these scopes",
    },
    Signature {
        id: "admission-limit-range",
        cause: Cause::AdmissionLimitRange,
        pattern: r"(?:minimum|maximum) (?P<resource>\S+) usage per (?P<scope>\S+) is (?P<bound>\S+?)[.,]|max limit to request ratio per",
    },
    Signature {
        id: "admission-webhook-denied",
        cause: Cause::AdmissionWebhook,
        pattern: r#"admission webhook "(?P<webhook>[^"]+)" denied the request: (?P<detail>.+)"#,
    },
    Signature {
        id: "admission-webhook-failed",
        cause: Cause::AdmissionWebhook,
        pattern: r#"failed calling webhook "(?P<webhook>[^"]+)"(?:: (?P<detail>.+))?"#,
    },
    Signature {
        id: "admission-serviceaccount",
        cause: Cause::ConfigServiceAccountMissing,
        pattern: r#"error looking up service account (?P<ns>[^/\s]+)/(?P<name>[^:\s]+): serviceaccounts? "[^"]+" not found"#,
    },
];

super::matcher!(MATCHER, TABLE);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_failed_create_messages() {
        let m = MATCHER.first(r#"Error creating: pods "web-7c5d-abc" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false)"#).unwrap();
        assert_eq!((m.sig.cause, m.get("level")), (Cause::AdmissionPodSecurity, "restricted:latest"));
        let m = MATCHER.first(r#"Error creating: pods "web-1" is forbidden: exceeded quota: compute-quota, requested: limits.memory=2Gi, used: limits.memory=7Gi, limited: limits.memory=8Gi"#).unwrap();
        assert_eq!((m.sig.cause, m.get("quota")), (Cause::AdmissionQuota, "compute-quota"));
        let m = MATCHER.first(r#"Error creating: Internal error occurred: failed calling webhook "sidecar-injector.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/inject?timeout=10s": context deadline exceeded"#).unwrap();
        assert_eq!((m.sig.cause, m.get("webhook")), (Cause::AdmissionWebhook, "sidecar-injector.istio.io"));
        let m = MATCHER
            .first(
                r#"Error creating: pods "w" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi"#,
            )
            .unwrap();
        assert_eq!(m.sig.cause, Cause::AdmissionLimitRange);
    }
}
