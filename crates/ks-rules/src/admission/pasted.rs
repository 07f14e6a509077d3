//! The config, security, admission and sidecar signatures against real pasted incidents in
//! `shared/corpus/pasted` (read when present, skipped otherwise): each case's key message
//! must be classified with its labelled cause and the names the rules print.

use ks_core::Cause;

use crate::signatures::{self, Matcher};

/// The text of a pasted incident, when the shared corpus is present.
fn pasted(prefix: &str) -> Option<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/pasted");
    let entry = std::fs::read_dir(dir).ok()?.flatten().find(|e| e.file_name().to_string_lossy().starts_with(prefix))?;
    std::fs::read_to_string(entry.path().join("evidence.txt")).ok()
}

/// Pasted text as a snapshot source would hand it over: JSON/YAML string escapes undone.
fn unescape(text: &str) -> String {
    text.replace("\\\"", "\"")
}

/// The first line any of `tables` classifies, with the matching signature's id, cause and
/// captures.
fn classify(
    text: &str,
    tables: &[&Matcher],
) -> Option<(&'static str, Cause, std::collections::BTreeMap<String, String>)> {
    for line in unescape(text).lines() {
        for t in tables {
            if let Some(m) = t.first(line) {
                return Some((m.sig.id, m.sig.cause, super::captures(m.sig, &m.caps)));
            }
        }
    }
    None
}

fn tables() -> [&'static Matcher; 3] {
    [&signatures::volume::MATCHER, &signatures::config::MATCHER, &signatures::admission::MATCHER]
}

/// `(case prefix, signature id, cause, captures that must be read)`.
type Case = (&'static str, &'static str, Cause, &'static [(&'static str, &'static str)]);

#[test]
fn pasted_incidents_get_their_labelled_cause_and_names() {
    let cases: &[Case] = &[
        ("014-", "config-secret-missing", Cause::ConfigSecretMissing, &[("name", "kiali")]),
        ("015-", "volume-secret-missing", Cause::ConfigSecretMissing, &[("volume", "certs"), ("name", "tls-secret")]),
        (
            "016-",
            "config-secret-key",
            Cause::ConfigSecretKeyMissing,
            &[("key", "kind"), ("ns", "sample"), ("name", "sz-harbor-cluster-minio")],
        ),
        ("018-", "nonroot-image-root", Cause::SecurityRunAsNonRoot, &[("container", "unleash-edge")]),
        ("021-", "nonroot-user-zero", Cause::SecurityRunAsNonRoot, &[]),
        ("032-", "admission-pod-security", Cause::AdmissionPodSecurity, &[("level", "restricted:v1.24")]),
        (
            "034-",
            "admission-quota",
            Cause::AdmissionQuota,
            &[
                ("quota", "namespace-quota"),
                ("requested", "limits.cpu=1,limits.memory=2Gi"),
                ("used", "limits.cpu=6,limits.memory=12Gi"),
                ("limited", "limits.cpu=6,limits.memory=12Gi"),
            ],
        ),
        ("037-", "admission-webhook-denied", Cause::AdmissionWebhook, &[("webhook", "validation.gatekeeper.sh")]),
        ("060-", "admission-webhook-failed", Cause::AdmissionWebhook, &[("webhook", "sidecar-injector.istio.io")]),
    ];
    for (prefix, id, cause, caps) in cases {
        let Some(text) = pasted(prefix) else {
            eprintln!("skipping pasted case {prefix}: shared/corpus/pasted not present");
            continue;
        };
        let Some((got_id, got_cause, got)) = classify(&text, &tables()) else {
            panic!("{prefix}: no signature matched");
        };
        assert_eq!((got_id, got_cause), (*id, *cause), "{prefix}");
        for (k, v) in *caps {
            assert_eq!(got.get(*k).map(String::as_str), Some(*v), "{prefix}: capture {k}");
        }
    }
}

#[test]
fn pasted_admission_details_are_understood() {
    // 032: four restricted violations, each naming the container.
    if let Some(text) = pasted("032-") {
        let (_, _, caps) = classify(&text, &tables()).unwrap_or_else(|| panic!("032: no match"));
        let detail = caps.get("detail").cloned().unwrap_or_default();
        let v = super::pod_security::parse_violations(detail.trim_end_matches(['"', ',']));
        let checks: Vec<&str> = v.iter().map(|v| v.check.as_str()).collect();
        assert_eq!(
            checks,
            [
                "allowPrivilegeEscalation != false",
                "unrestricted capabilities",
                "runAsNonRoot != true",
                "seccompProfile"
            ]
        );
        assert!(v.iter().all(|v| v.containers == ["padder-6757-cnt"]), "{v:?}");
    } else {
        eprintln!("skipping pasted case 032-: shared/corpus/pasted not present");
    }
    // 060: an injector's webhook (KS0406, not KS0405), timing out on istiod's pod port.
    if let Some(text) = pasted("060-") {
        let (_, _, caps) = classify(&text, &tables()).unwrap_or_else(|| panic!("060: no match"));
        let hook = caps.get("webhook").cloned().unwrap_or_default();
        assert_eq!(super::injectors::by_webhook(&hook).map(|i| i.name), Some("Istio"));
        let detail = caps.get("detail").cloned().unwrap_or_default();
        assert_eq!(super::webhook::classify(&detail), super::webhook::CallError::Timeout);
        let (svc, dial) = super::webhook::call_target(&detail);
        assert_eq!(svc, Some(("istio-system".to_string(), "istiod".to_string())));
        assert_eq!(dial.as_deref(), Some("10.228.0.5:15017"));
    } else {
        eprintln!("skipping pasted case 060-: shared/corpus/pasted not present");
    }
    // 037: a policy engine, not an injector.
    if let Some(text) = pasted("037-") {
        let (_, _, caps) = classify(&text, &tables()).unwrap_or_else(|| panic!("037: no match"));
        assert!(super::injectors::by_webhook(caps.get("webhook").map(String::as_str).unwrap_or_default()).is_none());
        assert!(caps.get("detail").is_some_and(|d| d.starts_with("[userpodlimits]")));
    } else {
        eprintln!("skipping pasted case 037-: shared/corpus/pasted not present");
    }
}

#[test]
fn pasted_near_misses_are_not_claimed() {
    // 068: a renamed env var read through a secretKeyRef crashes the app at boot; the Secret
    // and its key exist, so none of the reference or admission signatures may claim it.
    let Some(text) = pasted("068-") else {
        eprintln!("skipping pasted case 068-: shared/corpus/pasted not present");
        return;
    };
    assert!(classify(&text, &tables()).is_none(), "068 must be left to the crash rules");
}
