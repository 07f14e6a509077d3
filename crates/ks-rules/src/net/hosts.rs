//! Hosts named in configuration: URLs (`scheme://[user@]host:port/path`), `host:port`,
//! cluster DNS names (`svc.ns.svc.cluster.local`), and bare names where the variable says it
//! holds a host (`DB_HOST=postgres`). Only in-cluster forms are resolved against Services.

use std::collections::BTreeSet;

/// A host token found in a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundHost {
    /// Lowercased DNS name.
    pub host: String,
    pub port: Option<u16>,
}

/// Where an in-cluster name points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterName {
    pub service: String,
    pub namespace: String,
    /// The namespace was spelt out (`svc.ns`, `svc.ns.svc…`), not implied by the pod's.
    pub explicit_ns: bool,
    /// `….svc` or `….svc.<cluster domain>`: unmistakably a cluster DNS name.
    pub cluster_form: bool,
}

/// Variable-name endings that mark a value as a host even without a URL or port.
const HOST_SUFFIXES: &[&str] =
    &["HOST", "HOSTS", "HOSTNAME", "ADDR", "ADDRESS", "URL", "URI", "ENDPOINT", "SERVER", "SERVERS"];

/// Variable names whose values are secrets: never scanned, never quoted.
const SECRET_MARKERS: &[&str] = &["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "API_KEY", "PRIVATE"];

/// Words that are valid DNS labels but are not hosts.
const NOT_HOSTS: &[&str] = &[
    "localhost",
    "true",
    "false",
    "yes",
    "no",
    "none",
    "null",
    "nil",
    "default",
    "auto",
    "any",
    "all",
    "enabled",
    "disabled",
    "on",
    "off",
    "unix",
    "tcp",
    "udp",
    "http",
    "https",
    "ip6-localhost",
    "host",
    "127",
    "example",
];

/// Whether `name` (an env var name or a flag key) says its value is a host.
pub fn names_a_host(name: &str) -> bool {
    let n = name.trim_start_matches('-').to_ascii_uppercase().replace(['-', '.'], "_");
    n != "HOSTNAME" && HOST_SUFFIXES.iter().any(|s| n == *s || n.ends_with(&format!("_{s}")))
}

/// Whether a variable holds a secret and must be left alone.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    SECRET_MARKERS.iter().any(|m| n.contains(m))
}

/// Variables the kubelet or a runtime sets for the API server, never a Service of the pod's
/// namespace.
pub fn is_platform_name(name: &str) -> bool {
    name.to_ascii_uppercase().starts_with("KUBERNETES_")
}

fn is_dns_name(h: &str) -> bool {
    if h.is_empty() || h.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = h.split('.').collect();
    labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    }) && h.chars().any(|c| c.is_ascii_alphabetic())
        // An IPv4 address is all digits and dots; a name needs a letter in its last label.
        && labels.last().is_some_and(|l| l.chars().any(|c| c.is_ascii_alphabetic()))
}

fn host_port(s: &str) -> Option<FoundHost> {
    let s = s.trim_end_matches(['.', '/']);
    let (h, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
        None => (s, None),
    };
    let h = h.to_ascii_lowercase();
    (is_dns_name(&h) && !NOT_HOSTS.contains(&h.as_str())).then_some(FoundHost { host: h, port })
}

/// The authority of a URL after `://`: strip userinfo and path.
fn url_host(rest: &str) -> Option<FoundHost> {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if authority.starts_with('[') {
        return None; // IPv6 literal
    }
    // `host1:1,host2:2` lists inside one authority (MongoDB): take each.
    host_port(authority.split(',').next().unwrap_or_default())
}

fn split_tokens(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'' | '(' | ')' | '[' | ']' | '|'))
        .filter(|t| !t.is_empty())
}

/// Hosts in a value. `bare_ok`: a single bare word counts as a host (the variable's name says
/// it holds one). Templated values (`$(VAR)`, `${VAR}`, `{{ }}`) are skipped.
pub fn hosts_in(value: &str, bare_ok: bool) -> Vec<FoundHost> {
    let mut out: Vec<FoundHost> = Vec::new();
    let mut push = |h: FoundHost| {
        if !out.contains(&h) {
            out.push(h);
        }
    };
    // A bare word is a host only in a value that is a name or a list of names, not prose.
    let one_word = !value.trim().contains(char::is_whitespace);
    for tok in split_tokens(value) {
        // Templated or placeholder values (`$(VAR)`, `{{ .x }}`, `api.<cluster_name>`).
        if tok.contains(['$', '{', '}', '<', '>']) {
            continue;
        }
        if let Some(p) = tok.find("://") {
            if let Some(h) = url_host(&tok[p + 3..]) {
                push(h);
            }
            continue;
        }
        // `--redis-host=redis`, `host=postgres`, `--addr=redis:6379`.
        let (key, val) = match tok.split_once('=') {
            Some((k, v)) if !k.is_empty() => (Some(k), v),
            _ => (None, tok),
        };
        let val = val.trim_end_matches(['/', '.']);
        if val.contains(':')
            && !val.contains('/')
            && let Some(h) = host_port(val)
            && h.port.is_some()
        {
            push(h);
            continue;
        }
        let lower = val.to_ascii_lowercase();
        let cluster_dns = lower.ends_with(".svc") || lower.contains(".svc.");
        let key_says_host = key.is_some_and(names_a_host);
        let bare = (bare_ok && key.is_none() && one_word) || key_says_host;
        if (cluster_dns || bare)
            && let Some(h) = host_port(val.split('/').next().unwrap_or_default())
        {
            push(h);
        }
    }
    out
}

/// Resolve a host to a Service name and namespace when it is an in-cluster form:
/// `svc` (the pod's namespace), `svc.ns` (only when `ns` is a known namespace),
/// `svc.ns.svc[.domain]`, `pod.svc.ns.svc[.domain]`. External names return None.
pub fn cluster_name(host: &str, pod_ns: &str, namespaces: &BTreeSet<String>) -> Option<ClusterName> {
    let labels: Vec<&str> = host.split('.').collect();
    if let Some(i) = labels.iter().position(|l| *l == "svc") {
        // Multi-cluster services resolve elsewhere.
        if labels[i + 1..].join(".") == "clusterset.local" {
            return None;
        }
        let (svc, ns) = match i {
            2 => (labels[0], labels[1]),
            3 => (labels[1], labels[2]),
            _ => return None,
        };
        return Some(ClusterName {
            service: svc.to_string(),
            namespace: ns.to_string(),
            explicit_ns: true,
            cluster_form: true,
        });
    }
    match labels.as_slice() {
        [svc] => Some(ClusterName {
            service: svc.to_string(),
            namespace: pod_ns.to_string(),
            explicit_ns: false,
            cluster_form: false,
        }),
        [svc, ns] if namespaces.contains(*ns) => Some(ClusterName {
            service: svc.to_string(),
            namespace: ns.to_string(),
            explicit_ns: true,
            cluster_form: false,
        }),
        _ => None,
    }
}

/// A value with URL passwords masked (`user:***@host`), cut to a quotable length.
pub fn redact(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(p) = rest.find("://") {
        let (head, tail) = rest.split_at(p + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c == '/' || c.is_whitespace()).unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rsplit_once('@') {
            Some((user, host)) => {
                let user = user.split(':').next().unwrap_or_default();
                out.push_str(&format!("{user}:***@{host}"));
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    if out.chars().count() > 200 {
        let cut: String = out.chars().take(200).collect();
        return format!("{cut}…");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(v: &str, bare: bool) -> Vec<String> {
        hosts_in(v, bare).into_iter().map(|h| h.host).collect()
    }

    #[test]
    fn finds_hosts_in_urls_and_host_ports() {
        assert_eq!(
            hosts("tcp://buildkitd.buildkit.svc.cluster.local:1234", false),
            ["buildkitd.buildkit.svc.cluster.local"]
        );
        assert_eq!(hosts("postgresql+psycopg2://airflow:pw@postgres:5432/airflow", false), ["postgres"]);
        assert_eq!(hosts("redis:6379", false), ["redis"]);
        assert_eq!(hosts("jdbc:postgresql://db.shop:5432/app", false), ["db.shop"]);
        assert_eq!(hosts("--redis-addr=cache:6379 --verbose", false), ["cache"]);
        assert_eq!(hosts("--db-host=postgres", false), ["postgres"]);
        assert_eq!(hosts("api.payments.svc", false), ["api.payments.svc"]);
        assert_eq!(hosts("mongodb://a:1,b:2/db", false), ["a"]);
    }

    #[test]
    fn bare_words_only_when_the_name_says_host() {
        assert!(hosts("postgres", false).is_empty());
        assert_eq!(hosts("postgres", true), ["postgres"]);
        assert!(hosts("info", false).is_empty());
        assert!(hosts("0.0.0.0", true).is_empty());
        assert!(hosts("localhost", true).is_empty());
        assert!(hosts("10.0.0.1:80", false).is_empty());
        assert!(hosts("$(POD_IP):8080", false).is_empty());
        assert!(hosts("nginx:1.25", false).is_empty());
        assert!(hosts("api.<cluster_name>.<base_domain>", true).is_empty());
        assert!(names_a_host("DB_HOST"));
        assert!(names_a_host("BUILDKIT_ADDRESS"));
        assert!(names_a_host("--db-host"));
        assert!(!names_a_host("HOSTNAME"));
        assert!(!names_a_host("LOG_LEVEL"));
        assert!(is_secret_name("DB_PASSWORD"));
    }

    #[test]
    fn cluster_forms() {
        let ns: BTreeSet<String> = ["buildkit".to_string(), "shop".to_string()].into();
        let c = cluster_name("buildkitd.buildkit.svc.cluster.local", "shop", &ns).expect("in-cluster");
        assert_eq!((c.service.as_str(), c.namespace.as_str(), c.cluster_form), ("buildkitd", "buildkit", true));
        let c = cluster_name("postgres", "shop", &ns).expect("in-cluster");
        assert_eq!((c.service.as_str(), c.namespace.as_str()), ("postgres", "shop"));
        assert_eq!(cluster_name("db.shop", "x", &ns).map(|c| c.namespace), Some("shop".to_string()));
        assert!(cluster_name("example.com", "shop", &ns).is_none());
        assert!(cluster_name("api.github.com", "shop", &ns).is_none());
        let c = cluster_name("web-0.nginx.shop.svc.cluster.local", "x", &ns).expect("pod form");
        assert_eq!(c.service, "nginx");
        assert!(cluster_name("svc.x.svc.clusterset.local", "shop", &ns).is_none());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgresql://airflow:hunter2@postgres:5432/db"),
            "postgresql://airflow:***@postgres:5432/db"
        );
        assert_eq!(redact("tcp://buildkitd:1234"), "tcp://buildkitd:1234");
    }
}
