//! The collector against a real registry (Debian's `docker-registry`, distribution v2) on
//! 127.0.0.1: tags moved, multi-platform indexes, missing tags, basic auth, a stopped
//! registry and an HTTP registry asked over HTTPS. Skips with a message when the binary is
//! absent. Every request count asserted here is also read back from the registry's own
//! access log.

use ks_core::Evidence;
use ks_core::registry::{AuthSource, RegistryErrorKind, RegistryFacts};
use ks_registry::testing::TestRegistry;
use ks_registry::{Credential, Options};
use serde_json::json;

const T_OLD: &str = "2026-11-20T08:00:00Z";
const T_NEW: &str = "2026-11-20T09:30:00Z";

fn node(name: &str, arch: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name},
        "status": {"nodeInfo": {"architecture": arch, "operatingSystem": "linux",
            "bootID": "", "containerRuntimeVersion": "containerd://1.7", "kernelVersion": "6.1",
            "kubeProxyVersion": "", "kubeletVersion": "v1.31.0", "machineID": "", "osImage": "Debian", "systemUUID": ""}}
    })
}

fn pod(name: &str, node: &str, image: &str, image_id: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": "2026-11-20T09:00:00Z"},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": image}]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "app", "image": image, "imageID": image_id, "ready": true, "restartCount": 0,
            "state": {"running": {"startedAt": "2026-11-20T09:00:00Z"}}
        }]}
    })
}

fn evidence(items: Vec<serde_json::Value>) -> Evidence {
    let mut ev = Evidence::default();
    for item in items {
        match item["kind"].as_str() {
            Some("Pod") => ev.pods.push(Box::new(serde_json::from_value(item).expect("pod"))),
            Some("Node") => ev.nodes.push(serde_json::from_value(item).expect("node")),
            _ => unreachable!(),
        }
    }
    ev.finish();
    ev
}

fn anonymous() -> Options {
    Options { docker_config: false, ..Options::default() }
}

#[test]
fn resolves_tags_indexes_and_missing_tags_with_one_request_per_tag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(reg) = TestRegistry::start(dir.path()) else { return };
    let h = reg.host.clone();
    // shop/api:latest moved from `old` to `new`.
    let old = reg.push_image("shop/api", "api-1", "amd64", T_OLD);
    let new = reg.push_image("shop/api", "api-2", "amd64", T_NEW);
    reg.tag("shop/api", "latest", &old);
    reg.tag("shop/api", "latest", &new);
    // shop/multi:v1 is a two-platform index.
    let amd = reg.push_image("shop/multi", "multi-amd64", "amd64", T_OLD);
    let arm = reg.push_image("shop/multi", "multi-arm64", "arm64", T_OLD);
    let index = reg.push_index("shop/multi", &[(&amd, "linux", "amd64"), (&arm, "linux", "arm64")]);
    reg.tag("shop/multi", "v1", &index);
    let web = reg.push_image("shop/web", "web-1", "amd64", T_OLD);
    reg.tag("shop/web", "v1", &web);

    let ev = evidence(vec![
        node("n-amd", "amd64"),
        node("n-arm", "arm64"),
        pod("api-1", "n-amd", &format!("{h}/shop/api:latest"), &format!("{h}/shop/api@{}", old.digest)),
        pod("api-2", "n-amd", &format!("{h}/shop/api:latest"), &format!("{h}/shop/api@{}", old.digest)),
        pod("multi-a", "n-amd", &format!("{h}/shop/multi:v1"), &format!("{h}/shop/multi@{}", amd.digest)),
        pod(
            "multi-b",
            "n-arm",
            &format!("{h}/shop/multi:v1"),
            &format!("docker-pullable://{h}/shop/multi@{}", index.digest),
        ),
        pod("web-1", "n-amd", &format!("{h}/shop/web:v1"), &format!("{h}/shop/web@{}", web.digest)),
        pod("pinned", "n-amd", &format!("{h}/shop/api@{}", old.digest), &format!("{h}/shop/api@{}", old.digest)),
        pod("gone", "n-amd", &format!("{h}/shop/api:gone"), &format!("{h}/shop/api@{}", old.digest)),
    ]);
    let before = reg.kubesleuth_requests();
    let facts = ks_registry::collect(&ev, &anonymous()).expect("collect");

    let api = facts.image(&format!("{h}/shop/api:latest")).expect("api fact");
    assert_eq!(api.digest.as_deref(), Some(new.digest.as_str()), "the tag's current digest");
    assert!(!api.names(&old.digest));
    assert_eq!(api.created.map(|c| c.to_string()).as_deref(), Some(T_NEW), "when the tag's image was built");

    let multi = facts.image(&format!("{h}/shop/multi:v1")).expect("multi fact");
    assert_eq!(multi.digest.as_deref(), Some(index.digest.as_str()));
    assert_eq!(multi.platforms.len(), 2);
    assert!(multi.names(&amd.digest) && multi.names(&arm.digest) && multi.names(&index.digest));
    assert_eq!(multi.created, None, "no pod runs another digest: no config fetched");

    let web_fact = facts.image(&format!("{h}/shop/web:v1")).expect("web fact");
    assert_eq!(web_fact.digest.as_deref(), Some(web.digest.as_str()));

    let gone = facts.image(&format!("{h}/shop/api:gone")).expect("gone fact");
    let e = gone.error.as_ref().expect("an error");
    assert_eq!(e.kind, RegistryErrorKind::NotFound);
    assert_eq!(e.code.as_deref(), Some("MANIFEST_UNKNOWN"));

    // The digest-pinned pod asks nothing; 4 distinct tags.
    assert_eq!(facts.images.len(), 4);
    // 1 probe + 4 manifests + 1 config blob (only shop/api:latest has a stale pod).
    assert_eq!(facts.requests, 6, "{facts:#?}");
    assert_eq!(reg.kubesleuth_requests() - before, 6, "the registry's access log agrees:\n{}", reg.access_log());

    // Facts survive the trip through a recorded document.
    let doc = facts.to_document();
    let mut back = Evidence::default();
    back.other.push(ks_core::DynObject {
        api_version: ks_core::registry::API_VERSION.into(),
        kind: ks_core::registry::KIND.into(),
        metadata: Default::default(),
        value: doc.into(),
    });
    back.finish();
    assert_eq!(back.registry, facts);
}

#[test]
fn a_platform_image_without_index_and_an_index_tag_on_an_unknown_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(reg) = TestRegistry::start(dir.path()) else { return };
    let h = reg.host.clone();
    let a1 = reg.push_image("m", "m-amd-1", "amd64", T_OLD);
    let b1 = reg.push_image("m", "m-arm-1", "arm64", T_OLD);
    let i1 = reg.push_index("m", &[(&a1, "linux", "amd64"), (&b1, "linux", "arm64")]);
    let a2 = reg.push_image("m", "m-amd-2", "amd64", T_NEW);
    let b2 = reg.push_image("m", "m-arm-2", "arm64", T_NEW);
    let i2 = reg.push_index("m", &[(&a2, "linux", "amd64"), (&b2, "linux", "arm64")]);
    reg.tag("m", "v1", &i1);
    reg.tag("m", "v1", &i2);
    // The arm64 pod runs the old arm64 child: the new arm64 child's config says when.
    let ev = evidence(vec![
        node("n-arm", "arm64"),
        pod("m-1", "n-arm", &format!("{h}/m:v1"), &format!("{h}/m@{}", b1.digest)),
    ]);
    let facts = ks_registry::collect(&ev, &anonymous()).expect("collect");
    let f = facts.image(&format!("{h}/m:v1")).expect("fact");
    assert_eq!(f.digest.as_deref(), Some(i2.digest.as_str()));
    assert!(!f.names(&b1.digest) && !f.names(&i1.digest));
    assert_eq!(f.platform_digest("linux", "arm64"), Some(b2.digest.as_str()));
    assert_eq!(f.created_platform.as_deref(), Some("linux/arm64"));
    assert_eq!(f.created.map(|c| c.to_string()).as_deref(), Some(T_NEW));
    // probe + index + arm64 manifest + its config
    assert_eq!(facts.requests, 4);
    assert_eq!(reg.kubesleuth_requests(), 4);
}

#[test]
fn basic_auth_needs_credentials_and_never_leaks_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(reg) = TestRegistry::start_with_auth(dir.path(), "ci", "CANARY-registry-password") else { return };
    let h = reg.host.clone();
    let img = reg.push_image("private/app", "p-1", "amd64", T_OLD);
    reg.tag("private/app", "v1", &img);
    let ev = evidence(vec![
        pod("p-1", "n", &format!("{h}/private/app:v1"), &format!("{h}/private/app@{}", img.digest)),
        pod("p-2", "n", &format!("{h}/private/app:v2"), &format!("{h}/private/app@{}", img.digest)),
    ]);

    // Anonymous: the host refuses; one finding's worth of fact, one request.
    let facts = ks_registry::collect(&ev, &anonymous()).expect("collect");
    let host = facts.host(&h).expect("host fact");
    let e = host.error.as_ref().expect("host error");
    assert_eq!(e.kind, RegistryErrorKind::Auth);
    assert_eq!(host.auth, AuthSource::Anonymous);
    assert!(facts.images.is_empty(), "no tag is asked once the host refused");
    assert_eq!(facts.requests, 1);

    // Wrong password: every tag is refused (401), still no secret in the facts.
    let mut wrong = anonymous();
    wrong.credentials.insert(h.clone(), Credential::Basic { username: "ci".into(), password: "CANARY-wrong".into() });
    let facts = ks_registry::collect(&ev, &wrong).expect("collect");
    assert!(facts.images.iter().all(|i| i.error.as_ref().is_some_and(|e| e.kind == RegistryErrorKind::Auth)));
    assert_eq!(facts.host(&h).map(|h| h.auth), Some(AuthSource::PullSecret));

    // Right password: resolves.
    let mut right = anonymous();
    right
        .credentials
        .insert(h.clone(), Credential::Basic { username: "ci".into(), password: "CANARY-registry-password".into() });
    let facts = ks_registry::collect(&ev, &right).expect("collect");
    let v1 = facts.image(&format!("{h}/private/app:v1")).expect("v1");
    assert_eq!(v1.digest.as_deref(), Some(img.digest.as_str()));
    let v2 = facts.image(&format!("{h}/private/app:v2")).expect("v2");
    assert_eq!(v2.error.as_ref().map(|e| e.kind), Some(RegistryErrorKind::NotFound));
    let text = serde_json::to_string(&facts.to_document()).expect("json");
    assert!(!text.contains("CANARY"), "a credential reached the facts");
}

#[test]
fn a_registry_that_does_not_answer_is_one_host_fact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(mut reg) = TestRegistry::start(dir.path()) else { return };
    let h = reg.host.clone();
    reg.stop();
    let items: Vec<serde_json::Value> = (0..20)
        .map(|i| {
            pod(&format!("p-{i}"), "n", &format!("{h}/app{}:v1", i % 5), &format!("{h}/app@sha256:{}", "a".repeat(64)))
        })
        .collect();
    let ev = evidence(items);
    let facts = ks_registry::collect(&ev, &anonymous()).expect("collect");
    assert_eq!(facts.hosts.len(), 1);
    let e = facts.hosts[0].error.as_ref().expect("host error");
    assert_eq!(e.kind, RegistryErrorKind::Network, "{e:?}");
    assert!(e.message.contains("refused") || e.message.contains("connect"), "{}", e.message);
    assert!(facts.images.is_empty());
    assert_eq!(facts.requests, 1, "5 tags on a dead host cost one attempt");
}

/// One pod running `app:v1` of `reg` (not a host kubesleuth speaks plain HTTP to by itself):
/// asked without `--insecure-registry` the host is a TLS error; asked with it, the tag's
/// digest is found. The facts of that second run.
fn insecure_fixes_tls(reg: &TestRegistry) -> RegistryFacts {
    let h = reg.host.clone();
    let img = reg.push_image("app", "a-1", "amd64", T_OLD);
    reg.tag("app", "v1", &img);
    let ev = evidence(vec![pod("a", "n", &format!("{h}/app:v1"), &format!("{h}/app@{}", img.digest))]);
    let facts = ks_registry::collect(&ev, &anonymous()).expect("collect");
    let e = facts.host(&h).and_then(|h| h.error.clone()).expect("host error");
    assert_eq!(e.kind, RegistryErrorKind::Tls, "{e:?}");

    let insecure = Options { insecure: vec![h.clone()], ..anonymous() };
    let facts: RegistryFacts = ks_registry::collect(&ev, &insecure).expect("collect");
    assert_eq!(facts.image(&format!("{h}/app:v1")).and_then(|f| f.digest.clone()), Some(img.digest.clone()));
    assert!(facts.host(&h).expect("host fact").error.is_none(), "{:?}", facts.host(&h));
    facts
}

#[test]
fn an_http_registry_asked_over_https_is_a_tls_error_and_insecure_fixes_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 127.0.0.2 is loopback on Linux but not one of the hosts kubesleuth asks over HTTP.
    let Some(reg) = TestRegistry::start_at(dir.path(), "127.0.0.2", None) else { return };
    let facts = insecure_fixes_tls(&reg);
    // As Docker does: HTTPS first (it fails: the registry speaks HTTP), then plain HTTP.
    let h = &reg.host;
    assert_eq!(facts.host(h).expect("host fact").endpoint, format!("http://{h}"));
    assert_eq!(reg.kubesleuth_requests(), 2, "one HTTP probe and one manifest: {}", reg.access_log());
}

#[test]
fn an_insecure_registry_with_a_self_signed_certificate_is_asked_over_https() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(reg) = TestRegistry::start_self_signed(dir.path(), "127.0.0.2") else { return };
    // Not listed, the certificate is not trusted; listed, HTTPS without certificate checks
    // answers, so there is no HTTP attempt.
    let facts = insecure_fixes_tls(&reg);
    let h = &reg.host;
    assert_eq!(facts.host(h).expect("host fact").endpoint, format!("https://{h}"));
}

#[test]
fn timeouts_bound_a_registry_that_accepts_but_never_answers() {
    // A listener that accepts connections and never writes: the timeout must end the check.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let h = format!("127.0.0.1:{}", l.local_addr().expect("addr").port());
    let _hold = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in l.incoming().take(4).flatten() {
            conns.push(c);
        }
        std::thread::sleep(std::time::Duration::from_secs(5));
    });
    let ev = evidence(vec![pod("a", "n", &format!("{h}/app:v1"), &format!("{h}/app@sha256:{}", "b".repeat(64)))]);
    let opts = Options { timeout: std::time::Duration::from_millis(300), ..anonymous() };
    let started = std::time::Instant::now();
    let facts = ks_registry::collect(&ev, &opts).expect("collect");
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "took {:?}", started.elapsed());
    let e = facts.hosts[0].error.as_ref().expect("host error");
    assert_eq!(e.kind, RegistryErrorKind::Network);
    assert!(e.message.contains("timeout"), "{}", e.message);
}
