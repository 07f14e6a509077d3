//! Redaction for snapshots written to disk. There is no way to turn it off.
//!
//! - Secret `data`/`stringData` values are replaced by empty strings: key names stay (rules
//!   read them), values never reach the disk.
//! - `env[].value` whose name looks secret (`*PASSWORD*`, `*TOKEN*`, `*SECRET*`, `*KEY*`,
//!   `*CREDENTIAL*`, `*PASSWD*`), and ConfigMap values under such keys, become a marker.
//! - Secret-looking text anywhere (logs, annotations, env values, messages): bearer tokens,
//!   PEM private keys, the password of `user:pass@` in URLs, AWS access key ids, JWTs, and
//!   `password=...` style assignments.
//!
//! The marker is `<redacted:sha256:XXXXXXXX>`, the first 8 hex digits of the value's SHA-256,
//! so two places holding the same value still compare equal.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex, RegexSet};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The annotation `kubectl apply` keeps the whole applied object in, Secret data included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Each pattern's `s` group is the secret part; the rest of the match is kept.
const PATTERNS: &[&str] = &[
    // PEM private keys, with or without their END line (a log tail may cut it off), in
    // plain text or with escaped newlines inside a JSON string.
    r"(?s)(?P<s>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|(?:\\[nr]|\s|[A-Za-z0-9+/=])*))",
    // `Authorization: Bearer xxx`, `bearer xxx`.
    r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9\-._~+/]{8,}=*)",
    // JSON Web Tokens: header.payload.signature, both first parts base64url JSON.
    r"\b(?P<s>eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)",
    // AWS access key ids.
    r"\b(?P<s>(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16})\b",
    // The password in `scheme://user:password@host`.
    r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]+:(?P<s>[^\s/@]+)@",
    // `password=...` in logs, query strings and connection strings. Only `=`: with `:`
    // ordinary messages match ("failed to fetch oauth token: unexpected status").
    r#"(?i)\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)=(?P<s>[^\s"'&;,}]{3,})"#,
    // `"password": "..."` in JSON logs.
    r#"(?i)"(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)"\s*:\s*"(?P<s>[^"]{3,})""#,
];

static COMPILED: LazyLock<(RegexSet, Vec<Regex>)> = LazyLock::new(|| {
    // The patterns are constants covered by the tests below; failing to compile them is a
    // programming error, not an input error.
    #[allow(clippy::expect_used)]
    let set = RegexSet::new(PATTERNS).expect("redaction patterns compile");
    #[allow(clippy::expect_used)]
    let each = PATTERNS.iter().map(|p| Regex::new(p).expect("redaction pattern compiles")).collect();
    (set, each)
});

#[allow(clippy::expect_used)]
static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern, covered by tests.
    Regex::new(r"(?i)PASSWORD|PASSWD|TOKEN|SECRET|KEY|CREDENTIAL").expect("secret-name pattern compiles")
});

/// `<redacted:sha256:XXXXXXXX>` for `value`.
pub fn marker(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("<redacted:sha256:{hex}>")
}

/// Whether an environment variable (or ConfigMap key) of this name holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAME.is_match(name)
}

/// Replace secret-looking substrings of `text`.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let (set, each) = &*COMPILED;
    let hits = set.matches(text);
    if !hits.matched_any() {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for i in hits.iter() {
        let replaced = each[i].replace_all(&out, |c: &Captures<'_>| replace_secret_group(c));
        if let Cow::Owned(s) = replaced {
            out = s;
        }
    }
    Cow::Owned(out)
}

fn replace_secret_group(c: &Captures<'_>) -> String {
    let (Some(whole), Some(secret)) = (c.get(0), c.name("s")) else {
        return c.get(0).map(|m| m.as_str().to_string()).unwrap_or_default();
    };
    // Already a marker (a value that two patterns both match).
    if secret.as_str().starts_with("<redacted:") {
        return whole.as_str().to_string();
    }
    let w = whole.as_str();
    let (a, b) = (secret.start() - whole.start(), secret.end() - whole.start());
    format!("{}{}{}", &w[..a], marker(secret.as_str()), &w[b..])
}

/// Redact one object (as read from the API) in place. `kind` is the object's kind.
pub fn redact_object(kind: &str, obj: &mut Value) {
    if kind == "Secret" {
        strip_secret_values(obj);
    }
    if kind == "ConfigMap" {
        for field in ["data", "binaryData"] {
            if let Some(Value::Object(m)) = obj.get_mut(field) {
                for (k, v) in m.iter_mut() {
                    if is_secret_name(k)
                        && let Value::String(s) = v
                    {
                        *s = marker(s);
                    }
                }
            }
        }
    }
    walk(obj);
}

/// Secret values become empty strings; keys stay. Used when collecting too, so values are
/// dropped right after they are read.
pub fn strip_secret_values(obj: &mut Value) {
    for field in ["data", "stringData"] {
        if let Some(Value::Object(m)) = obj.get_mut(field) {
            for v in m.values_mut() {
                *v = Value::String(String::new());
            }
        }
    }
    // `kubectl apply` keeps the whole Secret, values included, in an annotation.
    if let Some(Value::Object(ann)) = obj.pointer_mut("/metadata/annotations")
        && let Some(Value::String(s)) = ann.get_mut(LAST_APPLIED)
    {
        *s = match serde_json::from_str::<Value>(s) {
            Ok(mut inner) => {
                strip_secret_values(&mut inner);
                inner.to_string()
            }
            Err(_) => marker(s),
        };
    }
}

fn walk(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Cow::Owned(r) = redact_text(s) {
                *s = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        Value::Object(map) => {
            if let Some(Value::Array(env)) = map.get_mut("env") {
                for e in env.iter_mut() {
                    let secret = e.get("name").and_then(|n| n.as_str()).is_some_and(is_secret_name);
                    if secret && let Some(Value::String(val)) = e.get_mut("value") {
                        *val = marker(val);
                    }
                }
            }
            if let Some(Value::Object(ann)) = map.get_mut("annotations")
                && let Some(Value::String(s)) = ann.get_mut(LAST_APPLIED)
                && let Ok(mut inner) = serde_json::from_str::<Value>(s)
            {
                let kind = inner.get("kind").and_then(|k| k.as_str()).unwrap_or_default().to_string();
                redact_object(&kind, &mut inner);
                *s = inner.to_string();
            }
            map.values_mut().for_each(walk);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markers_are_stable_and_short() {
        assert_eq!(marker("hunter2"), marker("hunter2"));
        assert_ne!(marker("hunter2"), marker("hunter3"));
        assert_eq!(marker("x").len(), "<redacted:sha256:12345678>".len());
    }

    #[test]
    fn secret_looking_text_is_replaced() {
        let cases = [
            ("Authorization: Bearer abcdefghijklmnop.qrs", "abcdefghijklmnop"),
            ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "eyJhbGciOiJIUzI1NiJ9"),
            ("key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
            ("dial postgres://app:s3cr3tpw@db.shop.svc:5432/app", "s3cr3tpw"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc+/=\n-----END RSA PRIVATE KEY-----",
                "MIIEowIBAAKCAQEA",
            ),
            ("-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkq\\nXYZ", "MIIEvQIBADANBgkq"),
            ("login failed password=Tr0ub4dor&3", "Tr0ub4dor"),
            (r#"{"api_key": "sk-live-1234567890"}"#, "sk-live-1234567890"),
        ];
        for (text, secret) in cases {
            let out = redact_text(text);
            assert!(!out.contains(secret), "{secret:?} survived in {out:?}");
            assert!(out.contains("<redacted:sha256:"), "{out:?}");
        }
        // Hosts stay readable: rules read them.
        assert!(redact_text("dial postgres://app:pw12345@db.shop.svc:5432/app").contains("@db.shop.svc:5432"));
        // Ordinary text is untouched.
        let msg = "failed to fetch oauth token: unexpected status from GET request";
        assert!(matches!(redact_text(msg), Cow::Borrowed(_)));
        assert!(matches!(redact_text("password authentication failed for user \"app\""), Cow::Borrowed(_)));
        assert!(matches!(redact_text("Back-off restarting failed container api"), Cow::Borrowed(_)));
    }

    #[test]
    fn objects_keep_key_names_and_lose_values() {
        let mut secret = json!({
            "kind": "Secret",
            "metadata": {"name": "db", "annotations": {LAST_APPLIED: "{\"kind\":\"Secret\",\"data\":{\"pw\":\"c2VjcmV0\"}}"}},
            "data": {"pw": "c2VjcmV0"},
        });
        redact_object("Secret", &mut secret);
        let text = secret.to_string();
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("\\\"pw\\\"") && secret["data"]["pw"] == "");

        let mut pod = json!({
            "kind": "Pod",
            "metadata": {"name": "p", "annotations": {LAST_APPLIED: "{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"env\":[{\"name\":\"DB_PASSWORD\",\"value\":\"plainpw1\"}]}]}}"}},
            "spec": {"containers": [{"name": "c", "env": [
                {"name": "DB_PASSWORD", "value": "plainpw1"},
                {"name": "API_KEY", "value": "k-123"},
                {"name": "DB_HOST", "value": "db.shop.svc"}
            ]}]}
        });
        redact_object("Pod", &mut pod);
        let text = pod.to_string();
        assert!(!text.contains("plainpw1") && !text.contains("k-123"), "{text}");
        assert!(text.contains("db.shop.svc") && text.contains("DB_PASSWORD") && text.contains("API_KEY"));
        assert_eq!(pod["spec"]["containers"][0]["env"][0]["value"], marker("plainpw1"));
    }
}
