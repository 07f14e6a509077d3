//! The snapshot server against an in-process HTTP client: discovery, list, selectors,
//! pagination, get, logs, watch, Table, 405, and every injected fault.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use ks_core::LogKey;
use ks_serve::{Faults, RawSnapshot, SECRET_KEYS_ANNOTATION, ServeOptions};
use serde_json::{Value, json};

const TABLE: &str =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
const SECRET_VALUE: &str = "c3VwZXItc2VjcmV0LXZhbHVl";

fn pod(ns: &str, name: &str, labels: Value, node: &str, phase: &str, containers: &[&str]) -> Value {
    let specs: Vec<Value> = containers.iter().map(|c| json!({"name": c, "image": format!("img/{c}:1")})).collect();
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            json!({"name": c, "ready": phase == "Running", "restartCount": 0,
            "state": if phase == "Running" { json!({"running": {"startedAt": "2026-11-20T09:00:00Z"}}) }
                     else { json!({"waiting": {"reason": "ImagePullBackOff"}}) }})
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"), "resourceVersion": "10",
            "creationTimestamp": "2026-11-20T09:00:00Z", "labels": labels},
        "spec": {"containers": specs, "nodeName": node},
        "status": {"phase": phase, "containerStatuses": statuses}})
}

/// Five pods in two namespaces, events, a node, a deployment, a secret, a custom resource.
fn fixture() -> RawSnapshot {
    let values = vec![
        json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "500"}, "items": [
            pod("shop", "web-1", json!({"app": "web", "tier": "front"}), "n1", "Running", &["web"]),
            pod("shop", "web-2", json!({"app": "web", "tier": "front"}), "n2", "Running", &["web"]),
            pod("shop", "db-0", json!({"app": "db"}), "n1", "Running", &["db", "exporter"]),
            pod("shop", "cache-1", json!({"app": "cache"}), "n2", "Pending", &["cache"]),
            pod("pay", "api-1", json!({"app": "api"}), "n1", "Running", &["api"]),
        ]}),
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web-1.a", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop", "uid": "uid-web-1"},
            "reason": "BackOff", "type": "Warning", "message": "Back-off restarting failed container web",
            "count": 3, "lastTimestamp": "2026-11-20T10:00:00Z", "firstTimestamp": "2026-11-20T09:50:00Z"}),
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web-2.a", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-2", "namespace": "shop", "uid": "uid-web-2"},
            "reason": "Pulled", "type": "Normal", "message": "pulled", "lastTimestamp": "2026-11-20T09:55:00Z"}),
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "status": {"nodeInfo": {"kubeletVersion": "v1.30.4"}, "conditions": [{"type": "Ready", "status": "True"}]}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}}),
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "creds", "namespace": "shop"},
            "data": {"password": SECRET_VALUE, "user": SECRET_VALUE}}),
        json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "shop"},
            "spec": {"size": 3}}),
    ];
    let key = |pod: &str, c: &str, previous| LogKey {
        namespace: "shop".to_string(),
        pod: pod.to_string(),
        container: c.to_string(),
        previous,
    };
    let logs = vec![
        (key("web-1", "web", false), "line 1\nline 2\nline 3\n".to_string()),
        (key("web-1", "web", true), "crashed: out of memory\n".to_string()),
        (key("db-0", "db", false), "db ready\n".to_string()),
    ];
    RawSnapshot::from_values(values, logs)
}

async fn start_with(snap: RawSnapshot, opts: ServeOptions) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ks_serve::serve(listener, Arc::new(snap), opts));
    addr
}

async fn start() -> SocketAddr {
    start_with(fixture(), ServeOptions::default()).await
}

async fn send(addr: SocketAddr, method: Method, path: &str, accept: Option<&str>) -> Response<Incoming> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder().method(method).uri(path).header(HOST, addr.to_string());
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    sender.send_request(req.body(Empty::<Bytes>::new()).unwrap()).await.unwrap()
}

struct Answer {
    status: StatusCode,
    content_type: String,
    retry_after: Option<String>,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

async fn call(addr: SocketAddr, method: Method, path: &str, accept: Option<&str>) -> Answer {
    let resp = send(addr, method, path, accept).await;
    let header = |n: &str| resp.headers().get(n).map(|v| v.to_str().unwrap().to_string());
    let (status, content_type, retry_after) =
        (resp.status(), header(CONTENT_TYPE.as_str()).unwrap_or_default(), header("retry-after"));
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Answer { status, content_type, retry_after, text: String::from_utf8(body.to_vec()).unwrap() }
}

async fn get(addr: SocketAddr, path: &str) -> Answer {
    call(addr, Method::GET, path, None).await
}

fn names(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|i| i["metadata"]["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn discovery_legacy_and_aggregated() {
    let addr = start().await;
    let v = get(addr, "/version").await.json();
    assert_eq!(
        (v["gitVersion"].as_str(), v["major"].as_str(), v["minor"].as_str()),
        (Some("v1.30.4"), Some("1"), Some("30"))
    );

    let api = get(addr, "/api").await;
    assert_eq!(api.content_type, "application/json");
    assert_eq!(api.json()["versions"], json!(["v1"]));

    let core = get(addr, "/api/v1").await.json();
    assert_eq!(core["kind"], "APIResourceList");
    let res = |list: &Value, name: &str| {
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let pods = res(&core, "pods");
    assert_eq!(
        (pods["kind"].as_str(), pods["namespaced"].as_bool(), pods["singularName"].as_str()),
        (Some("Pod"), Some(true), Some("pod"))
    );
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["verbs"], json!(["get", "list", "watch"]));
    assert_eq!(res(&core, "pods/log")["verbs"], json!(["get"]));
    // Standard kinds are served even when the snapshot has none.
    assert_eq!(res(&core, "persistentvolumes")["namespaced"], false);
    assert_eq!(res(&core, "configmaps")["shortNames"], json!(["cm"]));

    let apps = get(addr, "/apis/apps/v1").await.json();
    assert_eq!(res(&apps, "deployments")["shortNames"], json!(["deploy"]));
    assert_eq!(res(&apps, "statefulsets")["shortNames"], json!(["sts"]));

    let groups = get(addr, "/apis").await.json();
    let group_names: Vec<&str> =
        groups["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert!(
        group_names.contains(&"apps") && group_names.contains(&"batch") && group_names.contains(&"example.io"),
        "{group_names:?}"
    );
    let widgets = get(addr, "/apis/example.io/v1").await.json();
    assert_eq!(
        (res(&widgets, "widgets")["kind"].as_str(), res(&widgets, "widgets")["namespaced"].as_bool()),
        (Some("Widget"), Some(true))
    );

    let agg = call(addr, Method::GET, "/apis", Some(AGGREGATED)).await;
    assert_eq!(agg.content_type, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    let agg = agg.json();
    assert_eq!(agg["kind"], "APIGroupDiscoveryList");
    let apps = agg["items"].as_array().unwrap().iter().find(|i| i["metadata"]["name"] == "apps").unwrap();
    let deploy =
        apps["versions"][0]["resources"].as_array().unwrap().iter().find(|r| r["resource"] == "deployments").unwrap();
    assert_eq!(deploy["scope"], "Namespaced");
    assert_eq!(deploy["responseKind"], json!({"group": "apps", "version": "v1", "kind": "Deployment"}));
    let core = call(addr, Method::GET, "/api", Some(AGGREGATED)).await.json();
    let nodes = core["items"][0]["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "nodes")
        .unwrap();
    assert_eq!((nodes["scope"].as_str(), nodes["shortNames"].clone()), (Some("Cluster"), json!(["no"])));

    assert_eq!(get(addr, "/apis/nosuch.io/v1").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn list_namespaced_and_all_namespaces() {
    let addr = start().await;
    let shop = get(addr, "/api/v1/namespaces/shop/pods").await.json();
    assert_eq!((shop["kind"].as_str(), shop["apiVersion"].as_str()), (Some("PodList"), Some("v1")));
    assert_eq!(shop["metadata"]["resourceVersion"], "500");
    assert_eq!(names(&shop), ["cache-1", "db-0", "web-1", "web-2"]);
    assert!(shop["items"].as_array().unwrap().iter().all(|i| i["kind"] == "Pod" && i["apiVersion"] == "v1"));
    let all = get(addr, "/api/v1/pods").await.json();
    assert_eq!(names(&all), ["api-1", "cache-1", "db-0", "web-1", "web-2"]);
    let none = get(addr, "/api/v1/namespaces/nosuch/pods").await.json();
    assert_eq!(names(&none), Vec::<String>::new());
    let deploys = get(addr, "/apis/apps/v1/deployments").await.json();
    assert_eq!((deploys["kind"].as_str(), names(&deploys)), (Some("DeploymentList"), vec!["web".to_string()]));
    // A cluster-scoped resource under a namespace does not exist.
    assert_eq!(get(addr, "/api/v1/namespaces/shop/nodes").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn label_and_field_selectors() {
    let addr = start().await;
    let sel = |q: &str| {
        let path = format!("/api/v1/pods?{q}");
        async move { names(&get(addr, &path).await.json()) }
    };
    assert_eq!(sel("labelSelector=app%3Dweb").await, ["web-1", "web-2"]);
    assert_eq!(sel("labelSelector=app%3D%3Dweb").await, ["web-1", "web-2"]);
    assert_eq!(sel("labelSelector=app!%3Dweb").await, ["api-1", "cache-1", "db-0"]);
    assert_eq!(sel("labelSelector=app%20in%20(db,cache)").await, ["cache-1", "db-0"]);
    assert_eq!(sel("labelSelector=app%20notin%20(web,api)").await, ["cache-1", "db-0"]);
    assert_eq!(sel("labelSelector=tier").await, ["web-1", "web-2"]);
    assert_eq!(sel("labelSelector=!tier").await, ["api-1", "cache-1", "db-0"]);
    assert_eq!(sel("fieldSelector=spec.nodeName%3Dn2").await, ["cache-1", "web-2"]);
    assert_eq!(sel("fieldSelector=status.phase!%3DRunning").await, ["cache-1"]);
    assert_eq!(sel("fieldSelector=metadata.namespace%3Dpay").await, ["api-1"]);
    assert_eq!(sel("fieldSelector=metadata.name%3Dweb-1&labelSelector=app%3Dweb").await, ["web-1"]);
    let ev = get(addr, "/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Dweb-1,involvedObject.namespace%3Dshop,involvedObject.kind%3DPod,involvedObject.uid%3Duid-web-1").await.json();
    assert_eq!(names(&ev), ["web-1.a"]);
    let bad = get(addr, "/api/v1/pods?fieldSelector=spec.foo%3Dx").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["message"], "field label not supported: spec.foo");
    assert_eq!(get(addr, "/api/v1/pods?labelSelector=app%20in%20(web").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pagination_with_limit_and_continue() {
    let addr = start().await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/pods?limit=2".to_string();
    let mut pages = 0;
    loop {
        let page = get(addr, &path).await.json();
        pages += 1;
        let items = names(&page);
        assert!(items.len() <= 2);
        seen.extend(items);
        match page["metadata"]["continue"].as_str() {
            Some(token) => {
                assert_eq!(page["metadata"]["remainingItemCount"], 5 - seen.len());
                assert!(!token.contains("shop"), "token is opaque: {token}");
                path = format!("/api/v1/pods?limit=2&continue={token}");
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["api-1", "cache-1", "db-0", "web-1", "web-2"]);
    // Selectors apply before paging.
    let first = get(addr, "/api/v1/pods?limit=1&labelSelector=app%3Dweb").await.json();
    assert_eq!(names(&first), ["web-1"]);
    // As the API server does, no remainingItemCount under a selector.
    assert!(first["metadata"].get("remainingItemCount").is_none());
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    let second = get(addr, &format!("/api/v1/pods?limit=1&labelSelector=app%3Dweb&continue={token}")).await.json();
    assert_eq!(names(&second), ["web-2"]);
    assert!(second["metadata"].get("continue").is_none());
    assert_eq!(get(addr, "/api/v1/pods?limit=2&continue=nonsense").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn get_one_and_not_found_status() {
    let addr = start().await;
    let p = get(addr, "/api/v1/namespaces/shop/pods/web-1").await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.json()["metadata"]["uid"], "uid-web-1");
    assert_eq!(get(addr, "/api/v1/nodes/n1").await.json()["kind"], "Node");
    let missing = get(addr, "/api/v1/namespaces/shop/pods/nosuch").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.content_type, "application/json");
    let s = missing.json();
    assert_eq!(
        (s["kind"].as_str(), s["status"].as_str(), s["reason"].as_str(), s["code"].as_u64()),
        (Some("Status"), Some("Failure"), Some("NotFound"), Some(404))
    );
    assert_eq!(s["message"], "pods \"nosuch\" not found");
    assert_eq!(s["details"], json!({"name": "nosuch", "kind": "pods"}));
    let wrong_ns = get(addr, "/api/v1/namespaces/pay/pods/web-1").await;
    assert_eq!(wrong_ns.status, StatusCode::NOT_FOUND);
    let crd = get(addr, "/apis/example.io/v1/namespaces/shop/widgets/nope").await.json();
    assert_eq!(crd["message"], "widgets.example.io \"nope\" not found");
    assert_eq!(get(addr, "/api/v1/namespaces/shop/nosuchthings").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pod_logs() {
    let addr = start().await;
    let log = get(addr, "/api/v1/namespaces/shop/pods/web-1/log").await;
    assert_eq!(
        (log.status, log.content_type.as_str(), log.text.as_str()),
        (StatusCode::OK, "text/plain", "line 1\nline 2\nline 3\n")
    );
    assert_eq!(
        get(addr, "/api/v1/namespaces/shop/pods/web-1/log?container=web&tailLines=2").await.text,
        "line 2\nline 3\n"
    );
    assert_eq!(get(addr, "/api/v1/namespaces/shop/pods/web-1/log?tailLines=0").await.text, "");
    assert_eq!(
        get(addr, "/api/v1/namespaces/shop/pods/web-1/log?previous=true").await.text,
        "crashed: out of memory\n"
    );
    assert_eq!(get(addr, "/api/v1/namespaces/shop/pods/web-1/log?limitBytes=4").await.text, "line");

    let several = get(addr, "/api/v1/namespaces/shop/pods/db-0/log").await;
    assert_eq!(several.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        several.json()["message"],
        "a container name must be specified for pod db-0, choose one of: [db exporter]"
    );
    assert_eq!(get(addr, "/api/v1/namespaces/shop/pods/db-0/log?container=db").await.text, "db ready\n");
    let invalid = get(addr, "/api/v1/namespaces/shop/pods/db-0/log?container=nope").await;
    assert_eq!(
        (invalid.status, invalid.json()["message"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "container nope is not valid for pod db-0")
    );
    let no_previous = get(addr, "/api/v1/namespaces/shop/pods/db-0/log?container=db&previous=true").await;
    assert_eq!(no_previous.json()["message"], "previous terminated container \"db\" in pod \"db-0\" not found");
    let waiting = get(addr, "/api/v1/namespaces/shop/pods/cache-1/log").await;
    assert_eq!(
        waiting.json()["message"],
        "container \"cache\" in pod \"cache-1\" is waiting to start: ImagePullBackOff"
    );
    let uncaptured = get(addr, "/api/v1/namespaces/shop/pods/web-2/log").await;
    assert_eq!(uncaptured.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(addr, "/api/v1/namespaces/shop/pods/nosuch/log").await.json()["message"],
        "pods \"nosuch\" not found"
    );
}

/// Read whole lines of a streaming body until `n` have arrived or `wait` passes.
async fn read_lines(body: &mut Incoming, n: usize, wait: Duration) -> (Vec<Value>, bool) {
    let mut buf = String::new();
    let deadline = Instant::now() + wait;
    let mut ended = false;
    while buf.lines().count() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, body.frame()).await {
            Ok(Some(frame)) => {
                if let Ok(data) = frame.unwrap().into_data() {
                    buf.push_str(std::str::from_utf8(&data).unwrap());
                }
            }
            Ok(None) => {
                ended = true;
                break;
            }
            Err(_) => break,
        }
    }
    (buf.lines().map(|l| serde_json::from_str(l).unwrap()).collect(), ended)
}

#[tokio::test]
async fn watch_sends_added_events_then_stays_open() {
    let addr = start().await;
    let resp = send(addr, Method::GET, "/api/v1/namespaces/shop/pods?watch=1", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let (events, ended) = read_lines(&mut body, 4, Duration::from_secs(5)).await;
    assert!(!ended);
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e["type"] == "ADDED" && e["object"]["kind"] == "Pod"));
    let (more, ended) = read_lines(&mut body, 1, Duration::from_millis(300)).await;
    assert!(more.is_empty() && !ended, "the stream stays open and idle");

    // From a resourceVersion the client already has: nothing has changed since.
    let resp = send(addr, Method::GET, "/api/v1/namespaces/shop/pods?watch=true&resourceVersion=500", None).await;
    let (events, ended) = read_lines(&mut resp.into_body(), 1, Duration::from_millis(300)).await;
    assert!(events.is_empty() && !ended);

    // Streaming lists: initial events, then the bookmark that ends them.
    let path = "/api/v1/pods?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&labelSelector=app%3Dweb";
    let (events, _) =
        read_lines(&mut send(addr, Method::GET, path, None).await.into_body(), 3, Duration::from_secs(5)).await;
    assert_eq!(events.iter().map(|e| e["type"].as_str().unwrap()).collect::<Vec<_>>(), ["ADDED", "ADDED", "BOOKMARK"]);
    assert_eq!(events[2]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");

    // timeoutSeconds ends the stream, as the API server does.
    let resp = send(addr, Method::GET, "/api/v1/nodes?watch=1&timeoutSeconds=1", None).await;
    let (events, ended) = read_lines(&mut resp.into_body(), 5, Duration::from_secs(5)).await;
    assert_eq!((events.len(), ended), (1, true));

    // The old `/watch/` path prefix, with Table objects.
    let resp = send(addr, Method::GET, "/api/v1/watch/namespaces/pay/pods", Some(TABLE)).await;
    let (events, _) = read_lines(&mut resp.into_body(), 1, Duration::from_secs(5)).await;
    assert_eq!(events[0]["object"]["kind"], "Table");
    assert_eq!(events[0]["object"]["rows"][0]["cells"][0], "api-1");
}

#[tokio::test]
async fn writes_are_refused_with_405() {
    let addr = start().await;
    for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let a = call(addr, m.clone(), "/api/v1/namespaces/shop/pods/web-1", None).await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{m}");
        let s = a.json();
        assert_eq!(
            (s["kind"].as_str(), s["reason"].as_str(), s["code"].as_u64()),
            (Some("Status"), Some("MethodNotAllowed"), Some(405))
        );
    }
    // Still there.
    assert_eq!(get(addr, "/api/v1/namespaces/shop/pods/web-1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn tables_for_kubectl() {
    let addr = start().await;
    let t = call(addr, Method::GET, "/api/v1/pods?limit=500", Some(TABLE)).await.json();
    assert_eq!((t["kind"].as_str(), t["apiVersion"].as_str()), (Some("Table"), Some("meta.k8s.io/v1")));
    let cols: Vec<(&str, u64)> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["priority"].as_u64().unwrap()))
        .collect();
    assert_eq!(&cols[..5], [("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0)]);
    assert!(cols.contains(&("IP", 1)) && cols.contains(&("Node", 1)));
    let row = t["rows"].as_array().unwrap().iter().find(|r| r["cells"][0] == "cache-1").unwrap();
    // Age against the snapshot's newest timestamp (an event at 10:00), not the clock.
    assert_eq!(
        row["cells"].as_array().unwrap()[..5],
        [json!("cache-1"), json!("0/1"), json!("ImagePullBackOff"), json!("0"), json!("60m")]
    );
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["metadata"]["namespace"], "shop");
    assert!(row["object"].get("spec").is_none());

    let full =
        call(addr, Method::GET, "/api/v1/namespaces/shop/pods/web-1?includeObject=Object", Some(TABLE)).await.json();
    assert_eq!(full["rows"][0]["object"]["spec"]["nodeName"], "n1");

    let d = call(addr, Method::GET, "/apis/apps/v1/namespaces/shop/deployments", Some(TABLE)).await.json();
    assert_eq!(d["rows"][0]["cells"].as_array().unwrap()[..4], [json!("web"), json!("1/2"), json!(2), json!(1)]);
    let ev = call(addr, Method::GET, "/api/v1/namespaces/shop/events", Some(TABLE)).await.json();
    let cols: Vec<&str> = ev["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["priority"] == 0)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["Last Seen", "Type", "Reason", "Object", "Message"]);
    assert_eq!(ev["rows"][0]["cells"][3], "pod/web-1");
    let w = call(addr, Method::GET, "/apis/example.io/v1/widgets", Some(TABLE)).await.json();
    assert_eq!(w["rows"][0]["cells"], json!(["w", "<unknown>"]));

    let meta = call(
        addr,
        Method::GET,
        "/api/v1/pods",
        Some("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
    )
    .await
    .json();
    assert_eq!(meta["kind"], "PartialObjectMetadataList");
    assert_eq!(meta["items"][0]["kind"], "PartialObjectMetadata");
    assert!(meta["items"][0].get("spec").is_none());
}

#[tokio::test]
async fn secrets_carry_key_names_never_values() {
    let addr = start().await;
    for accept in [None, Some(TABLE)] {
        let a = call(addr, Method::GET, "/api/v1/secrets?includeObject=Object", accept).await;
        assert!(!a.text.contains(SECRET_VALUE), "{}", a.text);
    }
    let s = get(addr, "/api/v1/namespaces/shop/secrets/creds").await.json();
    assert!(s.get("data").is_none());
    assert_eq!(s["metadata"]["annotations"][SECRET_KEYS_ANNOTATION], "password,user");
    let t = call(addr, Method::GET, "/api/v1/namespaces/shop/secrets", Some(TABLE)).await.json();
    assert_eq!(t["rows"][0]["cells"][2], 2, "DATA counts the keys");
    let resp = send(addr, Method::GET, "/api/v1/secrets?watch=1", None).await;
    let (events, _) = read_lines(&mut resp.into_body(), 1, Duration::from_secs(5)).await;
    assert!(!events[0].to_string().contains(SECRET_VALUE));
}

#[tokio::test]
async fn fault_forbidden() {
    let faults = Faults { forbidden: vec!["secrets".to_string()], ..Faults::default() };
    let addr = start_with(fixture(), ServeOptions { faults, ..ServeOptions::default() }).await;
    let a = get(addr, "/api/v1/namespaces/shop/secrets").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let s = a.json();
    assert_eq!(
        (s["kind"].as_str(), s["reason"].as_str(), s["code"].as_u64()),
        (Some("Status"), Some("Forbidden"), Some(403))
    );
    assert_eq!(
        s["message"],
        "secrets is forbidden: User \"system:anonymous\" cannot list resource \"secrets\" in API group \"\" in the namespace \"shop\""
    );
    assert_eq!(get(addr, "/api/v1/namespaces/shop/secrets/creds").await.status, StatusCode::FORBIDDEN);
    assert_eq!(get(addr, "/api/v1/secrets?watch=1").await.status, StatusCode::FORBIDDEN);
    assert_eq!(get(addr, "/api/v1/pods").await.status, StatusCode::OK);

    // `pods/log` forbids the log only.
    let faults = Faults { forbidden: vec!["pods/log".to_string()], ..Faults::default() };
    let addr = start_with(fixture(), ServeOptions { faults, ..ServeOptions::default() }).await;
    let log = get(addr, "/api/v1/namespaces/shop/pods/web-1/log").await;
    assert_eq!(log.status, StatusCode::FORBIDDEN);
    assert_eq!(
        log.json()["message"],
        "pods \"web-1\" is forbidden: User \"system:anonymous\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"shop\""
    );
    assert_eq!(get(addr, "/api/v1/namespaces/shop/pods/web-1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn fault_gone_on_first_continue() {
    let faults = Faults { gone_on_continue: true, ..Faults::default() };
    let addr = start_with(fixture(), ServeOptions { faults, ..ServeOptions::default() }).await;
    let first = get(addr, "/api/v1/pods?limit=2").await.json();
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    let gone = get(addr, &format!("/api/v1/pods?limit=2&continue={token}")).await;
    assert_eq!(gone.status, StatusCode::GONE);
    let s = gone.json();
    assert_eq!((s["reason"].as_str(), s["code"].as_u64()), (Some("Expired"), Some(410)));
    // Only the first: a restarted list goes through.
    let again = get(addr, &format!("/api/v1/pods?limit=2&continue={token}")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(names(&again.json()), ["db-0", "web-1"]);
}

#[tokio::test]
async fn fault_too_many_requests_once() {
    let faults = Faults { too_many_requests_once: vec!["pods".to_string()], ..Faults::default() };
    let addr = start_with(fixture(), ServeOptions { faults, ..ServeOptions::default() }).await;
    assert_eq!(get(addr, "/api/v1/nodes").await.status, StatusCode::OK);
    let first = get(addr, "/api/v1/pods").await;
    assert_eq!((first.status, first.retry_after.as_deref()), (StatusCode::TOO_MANY_REQUESTS, Some("0")));
    assert_eq!(first.json()["reason"], "TooManyRequests");
    assert_eq!(get(addr, "/api/v1/pods").await.status, StatusCode::OK);
    assert_eq!(get(addr, "/api/v1/namespaces/shop/pods").await.status, StatusCode::OK);
}

#[tokio::test]
async fn fault_slow() {
    let faults = Faults { slow: vec![("events".to_string(), Duration::from_millis(400))], ..Faults::default() };
    let addr = start_with(fixture(), ServeOptions { faults, ..ServeOptions::default() }).await;
    let t = Instant::now();
    assert_eq!(get(addr, "/api/v1/events").await.status, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(400), "{:?}", t.elapsed());
    let t = Instant::now();
    assert_eq!(get(addr, "/api/v1/pods").await.status, StatusCode::OK);
    assert!(t.elapsed() < Duration::from_millis(400), "{:?}", t.elapsed());
}

#[tokio::test]
async fn fault_malformed_item_in_list() {
    let faults = Faults { malformed_in_list: vec!["pods".to_string(), "events".to_string()], ..Faults::default() };
    let addr = start_with(fixture(), ServeOptions { faults, ..ServeOptions::default() }).await;
    let list = get(addr, "/api/v1/namespaces/shop/pods").await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[0]["spec"], "x");
    assert!(items[1..].iter().all(|i| i["spec"].is_object()));
    // Kinds without a spec get a broken `metadata.labels` instead.
    let events = get(addr, "/api/v1/events").await.json();
    assert_eq!(events["items"][0]["metadata"]["labels"], "x");
    // Only lists: a get of the same object is whole.
    assert!(get(addr, "/api/v1/namespaces/shop/pods/cache-1").await.json()["spec"].is_object());
    // The server still renders a table over it.
    assert_eq!(call(addr, Method::GET, "/api/v1/namespaces/shop/pods", Some(TABLE)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn request_log_counts_requests() {
    let counter = Arc::new(AtomicU64::new(0));
    let addr =
        start_with(fixture(), ServeOptions { request_log: Some(counter.clone()), ..ServeOptions::default() }).await;
    get(addr, "/api").await;
    get(addr, "/api/v1/pods").await;
    call(addr, Method::DELETE, "/api/v1/namespaces/shop/pods/web-1", None).await;
    assert_eq!(counter.load(Ordering::SeqCst), 3);
}

fn example_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/broken-cluster"))
}

#[tokio::test]
async fn loads_the_bundled_cluster_info_dump() {
    let snap = ks_serve::load_raw(&[example_dir()]).unwrap();
    assert!(snap.gaps().is_empty(), "{:?}", snap.gaps());
    // Counted independently from the typed lists on disk.
    let mut expected = 0;
    for entry in std::fs::read_dir(example_dir()).unwrap() {
        let pods = entry.unwrap().path().join("pods.json");
        if pods.exists() {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(pods).unwrap()).unwrap();
            expected += v["items"].as_array().unwrap().len();
        }
    }
    assert_eq!(snap.resource("", "v1", "pods").unwrap().objects.len(), expected);
    // The newest timestamp in it (an event a second before the README's round "now").
    assert_eq!(snap.now().unwrap().to_string(), "2026-11-20T09:59:59Z");
    let current = snap.log("shop", "api-gateway-56tnmvt67-rn97j", "api", false).unwrap();
    assert!(current.starts_with("INFO:     Started server process [1]\n"), "{current}");
    assert!(!current.contains("==== END"));
    let previous = snap.log("shop", "api-gateway-56tnmvt67-rn97j", "api", true).unwrap();
    let on_disk =
        std::fs::read_to_string(example_dir().join("shop/api-gateway-56tnmvt67-rn97j/api.previous.log")).unwrap();
    assert_eq!(previous, on_disk);
    let certs = snap.resource("cert-manager.io", "v1", "certificates").unwrap();
    assert!(certs.info.namespaced && certs.info.short_names.contains(&"cert".to_string()));
    let secrets = snap.resource("", "v1", "secrets").unwrap();
    assert!(secrets.objects.iter().all(|s| s.get("data").is_none() && s.get("stringData").is_none()));

    assert!(matches!(ks_serve::load_raw(&[example_dir().join("nosuch")]), Err(ks_serve::ServeError::NotFound { .. })));
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("notes.txt"), "hello\n").unwrap();
    assert!(matches!(
        ks_serve::load_raw(&[empty.path().to_path_buf()]),
        Err(ks_serve::ServeError::NothingReadable { .. })
    ));
}

#[test]
fn loads_the_dump_stream_yaml_and_log_files() {
    let dir = tempfile::tempdir().unwrap();
    let stream = concat!(
        r#"{"kind": "PodList", "apiVersion": "v1", "items": [{"metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": [{"name": "c"}]}}]}"#,
        "\n==== START logs for container c of pod ns/p ====\nhello\nworld\n==== END logs for container c of pod ns/p ====\n",
        r#"{"kind": "EventList", "apiVersion": "v1", "items": [{"metadata": {"name": "e", "namespace": "ns"}, "reason": "BackOff"}]}"#,
        "\n"
    );
    std::fs::write(dir.path().join("dump.txt"), stream).unwrap();
    std::fs::write(
        dir.path().join("get.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: ns\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: ns\ndata:\n  k: v\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("ns/p")).unwrap();
    std::fs::write(dir.path().join("ns/p/c.previous.log"), "before the crash\n").unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"kind\": \"Pod\", ").unwrap();

    let snap = ks_serve::load_raw(&[dir.path().to_path_buf()]).unwrap();
    let count = |g: &str, p: &str| snap.resource(g, "v1", p).map_or(0, |r| r.objects.len());
    assert_eq!(
        (count("", "pods"), count("", "events"), count("apps", "deployments"), count("", "configmaps")),
        (1, 1, 1, 1)
    );
    assert_eq!(snap.log("ns", "p", "c", false), Some("hello\nworld\n"));
    assert_eq!(snap.log("ns", "p", "c", true), Some("before the crash\n"));
    assert_eq!(snap.gaps().len(), 1, "{:?}", snap.gaps());
    assert!(snap.gaps()[0].contains("broken.json") && snap.gaps()[0].contains("malformed JSON"), "{:?}", snap.gaps());
}
