//! The bearer-token flow Docker Hub, GHCR and most hosted registries use, against a mock
//! (distribution's own token server is a separate program): one token per repository for
//! the run, anonymous or from an identity token, and a private repository refused per tag.

use ks_core::Evidence;
use ks_core::registry::RegistryErrorKind;
use ks_registry::{Credential, Options};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DIGEST: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:4444444444444444444444444444444444444444444444444444444444444444","size":2},"layers":[]}"#;

fn evidence(host: &str, images: &[&str]) -> Evidence {
    let mut ev = Evidence::default();
    for (i, image) in images.iter().enumerate() {
        let p = json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":format!("p{i}"),"namespace":"ns"},
            "spec":{"nodeName":"n","containers":[{"name":"c","image":format!("{host}/{image}")}]},
            "status":{"containerStatuses":[{"name":"c","image":"x","imageID":format!("{host}/x@{DIGEST}"),"ready":true,"restartCount":0,
                "state":{"running":{"startedAt":"2026-11-20T08:00:00Z"}}}]}});
        ev.pods.push(Box::new(serde_json::from_value(p).expect("pod")));
    }
    ev.finish();
    ev
}

async fn registry() -> MockServer {
    let server = MockServer::start().await;
    let realm = format!("{}/token", server.uri());
    Mock::given(method("GET"))
        .and(path("/v2/"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", format!(r#"Bearer realm="{realm}",service="reg.test""#).as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    for tag in ["v1", "v2"] {
        Mock::given(method("GET"))
            .and(path(format!("/v2/team/app/manifests/{tag}")))
            .and(header("authorization", "Bearer token-team-app"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("docker-content-digest", DIGEST)
                    .insert_header("content-type", "application/vnd.oci.image.manifest.v1+json")
                    .set_body_string(MANIFEST),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/v2/team/private/manifests/v1"))
        .respond_with(ResponseTemplate::new(401).set_body_string(
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#,
        ))
        .mount(&server)
        .await;
    server
}

fn host_of(server: &MockServer) -> String {
    server.uri().trim_start_matches("http://").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_tokens_are_fetched_once_per_repository() {
    let server = registry().await;
    // The anonymous token service: one token per repository scope, asked once for two tags.
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(query_param("service", "reg.test"))
        .and(query_param("scope", "repository:team/app:pull"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": "token-team-app"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(query_param("scope", "repository:team/private:pull"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": "token-anonymous-private"})))
        .expect(1)
        .mount(&server)
        .await;
    let host = host_of(&server);
    let ev = evidence(&host, &["team/app:v1", "team/app:v2", "team/private:v1"]);
    let facts = tokio::task::spawn_blocking(move || {
        ks_registry::collect(&ev, &Options { docker_config: false, per_host: 1, ..Options::default() })
    })
    .await
    .expect("join")
    .expect("collect");
    for tag in ["v1", "v2"] {
        let f = facts.image(&format!("{host}/team/app:{tag}")).expect("fact");
        assert_eq!(f.digest.as_deref(), Some(DIGEST), "{f:?}");
    }
    let private = facts.image(&format!("{host}/team/private:v1")).expect("fact");
    assert_eq!(private.error.as_ref().map(|e| e.kind), Some(RegistryErrorKind::Auth));
    // probe + 2 tokens + 3 manifests
    assert_eq!(facts.requests, 6);
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_identity_token_is_exchanged_for_an_access_token() {
    let server = registry().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=CANARY-refresh"))
        .and(body_string_contains("scope=repository%3Ateam%2Fapp%3Apull"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": "token-team-app"})))
        .expect(1)
        .mount(&server)
        .await;
    let host = host_of(&server);
    let ev = evidence(&host, &["team/app:v1", "team/app:v2"]);
    let mut opts = Options { docker_config: false, ..Options::default() };
    opts.credentials.insert(host.clone(), Credential::IdentityToken("CANARY-refresh".into()));
    let facts =
        tokio::task::spawn_blocking(move || ks_registry::collect(&ev, &opts)).await.expect("join").expect("collect");
    assert_eq!(facts.image(&format!("{host}/team/app:v1")).and_then(|f| f.digest.clone()).as_deref(), Some(DIGEST));
    assert!(!serde_json::to_string(&facts.to_document()).expect("json").contains("CANARY"));
    server.verify().await;
}
