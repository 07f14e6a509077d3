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
    // `exceeded quota: %s, requested: %s, used: %s, limited: %s`; the values are
    // `name=qty` lists joined by commas, without spaces.
    Signature {
        id: "admission-quota",
        cause: Cause::AdmissionQuota,
        pattern: r"exceeded quota: (?P<quota>[^,\s]+), requested: (?P<requested>\S+?), used: (?P<used>\S+?), limited: (?P<limited>[^\s\]]+)",
    },
    Signature {
        id: "admission-quota-must-specify",
        cause: Cause::AdmissionQuota,
        pattern: r"failed quota: (?P<quota>[^:\s]+): must specify (?P<resources>.+)",
    },
    Signature {
        id: "admission-quota-scopes",
        cause: Cause::AdmissionQuota,
        pattern: r"insufficient quota to match these scopes: (?P<scopes>.+)",
    },
    // LimitRanger: `minimum|maximum %s usage per %s is %s, but limit|request is %s` and the
    // `.  No limit|request is specified` forms; older trees end each with a period.
    Signature {
        id: "admission-limit-range",
        cause: Cause::AdmissionLimitRange,
        pattern: r"(?P<bound>minimum|maximum) (?P<resource>\S+) usage per (?P<scope>\S+) is (?P<value>[^\s,]+?)(?:, but (?P<which>limit|request) is (?P<actual>[^\s,\]]+?)|\.?\s+No (?P<which2>limit|request) is specified)?[.,]?(?:\s|\]|$)",
    },
    Signature {
        id: "admission-limit-range-ratio",
        cause: Cause::AdmissionLimitRange,
        pattern: r"(?P<resource>\S+) max limit to request ratio per (?P<scope>\S+) is (?P<value>[^\s,]+), but provided ratio is (?P<actual>[\d.]+)",
    },
    Signature {
        id: "admission-webhook-denied",
        cause: Cause::AdmissionWebhook,
        pattern: r#"admission webhook "(?P<webhook>[^"]+)" denied the request(?::\s*(?P<detail>(?s:.+))| without explanation)?"#,
    },
    Signature {
        id: "admission-webhook-failed",
        cause: Cause::AdmissionWebhook,
        pattern: r#"failed calling webhook "(?P<webhook>[^"]+)"(?:: (?P<detail>.+)|; no further details available)?"#,
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

    #[test]
    fn captures_the_details_rules_print() {
        let m = MATCHER.first(r#"Error creating: pods "a-1" is forbidden: exceeded quota: namespace-quota, requested: limits.cpu=1,limits.memory=2Gi, used: limits.cpu=6,limits.memory=12Gi, limited: limits.cpu=6,limits.memory=12Gi"#).unwrap();
        assert_eq!(
            (m.get("quota"), m.get("requested"), m.get("used"), m.get("limited")),
            (
                "namespace-quota",
                "limits.cpu=1,limits.memory=2Gi",
                "limits.cpu=6,limits.memory=12Gi",
                "limits.cpu=6,limits.memory=12Gi"
            )
        );
        let m = MATCHER
            .first(r#"pods "w" is forbidden: failed quota: compute: must specify limits.cpu,limits.memory"#)
            .unwrap();
        assert_eq!(
            (m.sig.id, m.get("quota"), m.get("resources")),
            ("admission-quota-must-specify", "compute", "limits.cpu,limits.memory")
        );
        let m = MATCHER
            .first("pods \"w\" is forbidden: insufficient quota to match these scopes: [{PriorityClass In [high]}]")
            .unwrap();
        assert_eq!(m.sig.id, "admission-quota-scopes");
        let m = MATCHER
            .first(r#"pods "w" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi"#)
            .unwrap();
        assert_eq!(
            (m.get("bound"), m.get("resource"), m.get("scope"), m.get("value"), m.get("which"), m.get("actual")),
            ("maximum", "memory", "Container", "1Gi", "limit", "2Gi")
        );
        let m = MATCHER
            .first(r#"pods "w" is forbidden: minimum cpu usage per Container is 100m, but request is 50m."#)
            .unwrap();
        assert_eq!(
            (m.get("bound"), m.get("value"), m.get("which"), m.get("actual")),
            ("minimum", "100m", "request", "50m")
        );
        let m =
            MATCHER.first(r#"pods "w" is forbidden: maximum cpu usage per Pod is 2.  No limit is specified"#).unwrap();
        assert_eq!((m.get("value"), m.get("which2")), ("2", "limit"));
        let m = MATCHER.first(r#"pods "w" is forbidden: memory max limit to request ratio per Container is 2, but provided ratio is 4.000000"#).unwrap();
        assert_eq!(
            (m.sig.id, m.get("resource"), m.get("value"), m.get("actual")),
            ("admission-limit-range-ratio", "memory", "2", "4.000000")
        );
        let m = MATCHER.first(r#"Error creating: admission webhook "validation.gatekeeper.sh" denied the request: [userpodlimits] container <web> has no cpu limit"#).unwrap();
        assert_eq!(
            (m.sig.id, m.get("webhook"), m.get("detail")),
            (
                "admission-webhook-denied",
                "validation.gatekeeper.sh",
                "[userpodlimits] container <web> has no cpu limit"
            )
        );
        let m =
            MATCHER.first(r#"admission webhook "policy.example.com" denied the request without explanation"#).unwrap();
        assert_eq!((m.get("webhook"), m.get("detail")), ("policy.example.com", ""));
        let m = MATCHER.first(r#"Internal error occurred: failed calling webhook "mutate.kyverno.svc-fail"; no further details available"#).unwrap();
        assert_eq!((m.sig.id, m.get("webhook")), ("admission-webhook-failed", "mutate.kyverno.svc-fail"));
        let m = MATCHER.first(r#"Error creating: pods "b-1" is forbidden: error looking up service account shop/backend: serviceaccount "backend" not found"#).unwrap();
        assert_eq!((m.sig.cause, m.get("ns"), m.get("name")), (Cause::ConfigServiceAccountMissing, "shop", "backend"));
        // Warn/audit mode accepts the pod: not a refusal.
        assert!(
            MATCHER.first(r#"Warning: would violate PodSecurity "restricted:latest": runAsNonRoot != true"#).is_none()
        );
    }
}
