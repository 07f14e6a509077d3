//! The HTTP side: routing Kubernetes API paths, discovery, list/get/watch, logs, and the
//! injected faults.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};

use crate::body::ServeBody;
use crate::load::{RawSnapshot, Resource};
use crate::resources::ResourceInfo;
use crate::select::{FieldSelector, LabelSelector};
use crate::{ServeOptions, table};

type Resp = Response<ServeBody>;

const JSON: &str = "application/json";

struct State {
    snap: Arc<RawSnapshot>,
    opts: ServeOptions,
    /// `gone_on_continue` already answered.
    gone_used: AtomicBool,
    /// Resources whose first list was already answered 429.
    throttled: Mutex<HashSet<String>>,
}

/// Serve the snapshot on `listener` until the task is dropped. Every connection gets its own
/// task; a connection that fails only ends itself.
pub async fn serve(
    listener: tokio::net::TcpListener,
    snap: Arc<RawSnapshot>,
    opts: ServeOptions,
) -> std::io::Result<()> {
    let state =
        Arc::new(State { snap, opts, gone_used: AtomicBool::new(false), throttled: Mutex::new(HashSet::new()) });
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            // Per-connection failures (the peer reset before accept) and running out of file
            // descriptors are both passing: keep listening.
            Err(e) if is_transient(&e) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            // An error here is the client going away mid-answer: nothing to report.
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | OutOfMemory)
        || e.raw_os_error().is_some_and(|c| c == 23 || c == 24) // ENFILE, EMFILE
}

/// Serve on a blocking thread with its own runtime: for a command-line tool that has no
/// runtime of its own.
pub fn serve_blocking(
    listener: std::net::TcpListener,
    snap: Arc<RawSnapshot>,
    opts: ServeOptions,
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        serve(listener, snap, opts).await
    })
}

fn json_resp(code: StatusCode, body: &Value) -> Resp {
    json_resp_typed(code, body, JSON)
}

fn json_resp_typed(code: StatusCode, body: &Value, content_type: &'static str) -> Resp {
    let mut r = Response::new(ServeBody::full(body.to_string()));
    *r.status_mut() = code;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A `Status` failure as the API server writes it.
fn status(code: StatusCode, reason: &str, message: impl Into<String>, details: Option<Value>) -> Resp {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message.into(),
        "reason": reason,
        "code": code.as_u16(),
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    json_resp(code, &body)
}

fn not_found_path() -> Resp {
    status(StatusCode::NOT_FOUND, "NotFound", "the server could not find the requested resource", Some(json!({})))
}

fn bad_request(message: impl Into<String>) -> Resp {
    status(StatusCode::BAD_REQUEST, "BadRequest", message, None)
}

/// What a request asked for, read once.
struct Req {
    query: HashMap<String, String>,
    accept: String,
    host: String,
}

impl Req {
    fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    fn flag(&self, k: &str) -> bool {
        matches!(self.q(k), Some("1" | "true" | "True"))
    }
}

async fn handle(state: &State, req: Request<Incoming>) -> Resp {
    if let Some(c) = &state.opts.request_log {
        c.fetch_add(1, Ordering::Relaxed);
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let msg = format!(
            "the server does not allow this method on the requested resource: {} (kubesleuth serve is read-only)",
            req.method()
        );
        return status(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", msg, Some(json!({})));
    }
    let r = Req {
        query: form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()).into_owned().collect(),
        accept: header(&req, ACCEPT),
        host: header(&req, HOST),
    };
    let segs: Vec<String> = req
        .uri()
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let snap = &state.snap;
    match segs.as_slice() {
        [] => json_resp(
            StatusCode::OK,
            &json!({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]}),
        ),
        ["version"] => json_resp(StatusCode::OK, &version(snap)),
        ["healthz" | "livez" | "readyz"] => {
            let mut resp = Response::new(ServeBody::full("ok"));
            resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            resp
        }
        ["api"] => match aggregated(&r.accept) {
            Some(v) => aggregated_discovery(snap, true, v),
            None => json_resp(
                StatusCode::OK,
                &json!({"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": r.host}]}),
            ),
        },
        ["apis"] => match aggregated(&r.accept) {
            Some(v) => aggregated_discovery(snap, false, v),
            None => {
                let groups: Vec<Value> = groups(snap).iter().map(|(g, vs)| api_group(g, vs)).collect();
                json_resp(StatusCode::OK, &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
            }
        },
        ["api", "v1"] => resource_list(snap, "", "v1"),
        ["apis", group] => match groups(snap).get(*group) {
            Some(vs) => {
                let mut g = api_group(group, vs);
                g["kind"] = json!("APIGroup");
                g["apiVersion"] = json!("v1");
                json_resp(StatusCode::OK, &g)
            }
            None => not_found_path(),
        },
        ["apis", group, version] => resource_list(snap, group, version),
        ["api", "v1", rest @ ..] => resource_request(state, &r, "", "v1", rest).await,
        ["apis", group, version, rest @ ..] => resource_request(state, &r, group, version, rest).await,
        _ => not_found_path(),
    }
}

fn header(req: &Request<Incoming>, name: hyper::header::HeaderName) -> String {
    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// The media-type parameters of each entry of an Accept header.
fn accept_entries(accept: &str) -> Vec<HashMap<String, String>> {
    accept
        .split(',')
        .map(|entry| {
            entry
                .split(';')
                .skip(1)
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect()
        })
        .collect()
}

/// The aggregated-discovery version the client accepts (`v2` or `v2beta1`), if any.
fn aggregated(accept: &str) -> Option<&'static str> {
    let entries = accept_entries(accept);
    let wants = |v: &str| {
        entries.iter().any(|e| {
            e.get("as").map(String::as_str) == Some("APIGroupDiscoveryList")
                && e.get("g").map(String::as_str) == Some("apidiscovery.k8s.io")
                && e.get("v").map(String::as_str) == Some(v)
        })
    };
    if wants("v2") {
        Some("v2")
    } else if wants("v2beta1") {
        Some("v2beta1")
    } else {
        None
    }
}

/// What shape a list or get answer takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    Full,
    /// `meta.k8s.io` Table, at this version.
    Table(&'static str),
    /// PartialObjectMetadata(List).
    Metadata,
}

fn shape(accept: &str) -> Shape {
    for e in accept_entries(accept) {
        match (e.get("as").map(String::as_str), e.get("g").map(String::as_str), e.get("v").map(String::as_str)) {
            (Some("Table"), Some("meta.k8s.io"), Some("v1")) => return Shape::Table("meta.k8s.io/v1"),
            (Some("Table"), Some("meta.k8s.io"), Some("v1beta1")) => return Shape::Table("meta.k8s.io/v1beta1"),
            (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io"), _) => {
                return Shape::Metadata;
            }
            (None, _, _) => return Shape::Full,
            _ => {}
        }
    }
    Shape::Full
}

fn version(snap: &RawSnapshot) -> Value {
    let git = snap.server_version();
    let mut nums = git.trim_start_matches('v').split(['.', '-', '+']);
    let major = nums.next().unwrap_or("1").to_string();
    let minor: String = nums.next().unwrap_or("0").chars().take_while(char::is_ascii_digit).collect();
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": git,
        "gitCommit": "kubesleuth-snapshot",
        "gitTreeState": "clean",
        "buildDate": snap.now().map(|t| t.to_string()).unwrap_or_default(),
        "goVersion": "",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// Kubernetes' version priority: GA before beta before alpha, higher numbers first.
fn version_rank(v: &str) -> (u8, u32, u32) {
    let rest = v.strip_prefix('v').unwrap_or(v);
    let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let tail = &rest[major.len()..];
    let major = major.parse().unwrap_or(0);
    let (level, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (level, major, minor)
}

/// Non-core groups and their versions, preferred version first.
fn groups(snap: &RawSnapshot) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in snap.resources().iter().filter(|r| !r.info.group.is_empty()) {
        let vs = out.entry(r.info.group.clone()).or_default();
        if !vs.contains(&r.info.version) {
            vs.push(r.info.version.clone());
        }
    }
    for vs in out.values_mut() {
        vs.sort_by_key(|v| std::cmp::Reverse(version_rank(v)));
    }
    out
}

fn api_group(group: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    json!({
        "name": group,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(gv).unwrap_or(Value::Null),
    })
}

const VERBS: [&str; 3] = ["get", "list", "watch"];

fn resource_list(snap: &RawSnapshot, group: &str, version: &str) -> Resp {
    let rs: Vec<&Resource> =
        snap.resources().iter().filter(|r| r.info.group == group && r.info.version == version).collect();
    if rs.is_empty() {
        return not_found_path();
    }
    let mut resources = Vec::new();
    for r in rs {
        let i = &r.info;
        let mut entry = json!({"name": i.plural, "singularName": i.singular, "namespaced": i.namespaced,
            "kind": i.kind, "verbs": VERBS});
        if !i.short_names.is_empty() {
            entry["shortNames"] = json!(i.short_names);
        }
        if !i.categories.is_empty() {
            entry["categories"] = json!(i.categories);
        }
        resources.push(entry);
        for (sub, kind, verbs) in subresources(i) {
            resources
                .push(json!({"name": format!("{}/{sub}", i.plural), "singularName": "", "namespaced": i.namespaced,
                "kind": kind, "verbs": verbs}));
        }
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    json_resp(
        StatusCode::OK,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

/// The read-only subresources served: a pod's log and every kind's status.
fn subresources(i: &ResourceInfo) -> Vec<(&'static str, String, Vec<&'static str>)> {
    let mut out = Vec::new();
    if i.group.is_empty() && i.plural == "pods" {
        out.push(("log", "Pod".to_string(), vec!["get"]));
    }
    out.push(("status", i.kind.clone(), vec!["get"]));
    out
}

fn aggregated_discovery(snap: &RawSnapshot, core: bool, version: &'static str) -> Resp {
    let mut items = Vec::new();
    let group_versions: Vec<(String, Vec<String>)> =
        if core { vec![(String::new(), vec!["v1".to_string()])] } else { groups(snap).into_iter().collect() };
    for (group, versions) in group_versions {
        let mut vs = Vec::new();
        for v in versions {
            let resources: Vec<Value> = snap
                .resources()
                .iter()
                .filter(|r| r.info.group == group && r.info.version == v)
                .map(|r| {
                    let i = &r.info;
                    let kind = |k: &str| json!({"group": i.group, "version": i.version, "kind": k});
                    let mut e = json!({
                        "resource": i.plural,
                        "responseKind": kind(&i.kind),
                        "scope": if i.namespaced { "Namespaced" } else { "Cluster" },
                        "singularResource": i.singular,
                        "verbs": VERBS,
                        "subresources": subresources(i).into_iter().map(|(s, k, verbs)| json!({"subresource": s,
                            "responseKind": kind(&k), "verbs": verbs})).collect::<Vec<_>>(),
                    });
                    if !i.short_names.is_empty() {
                        e["shortNames"] = json!(i.short_names);
                    }
                    if !i.categories.is_empty() {
                        e["categories"] = json!(i.categories);
                    }
                    e
                })
                .collect();
            vs.push(json!({"version": v, "resources": resources, "freshness": "Current"}));
        }
        let mut meta = json!({"creationTimestamp": null});
        if !group.is_empty() {
            meta["name"] = json!(group);
        }
        items.push(json!({"metadata": meta, "versions": vs}));
    }
    let body = json!({"kind": "APIGroupDiscoveryList", "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {}, "items": items});
    let ct = if version == "v2" {
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    } else {
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    };
    json_resp_typed(StatusCode::OK, &body, ct)
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or_default()
}

/// Whether a fault's resource name covers this request: `pods` covers pods and their
/// subresources, `pods/log` only the log.
fn fault_covers(name: &str, plural: &str, sub: Option<&str>) -> bool {
    name == plural || sub.is_some_and(|s| name.strip_prefix(plural).and_then(|r| r.strip_prefix('/')) == Some(s))
}

async fn resource_request(state: &State, r: &Req, group: &str, version: &str, rest: &[&str]) -> Resp {
    // `/api/v1/watch/...` is the old spelling of `?watch=true`.
    let (watch_path, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(*ns), tail),
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(*n), None),
        [p, n, s] => (*p, Some(*n), Some(*s)),
        _ => return not_found_path(),
    };
    let Some(res) = state.snap.resource(group, version, plural) else { return not_found_path() };
    let info = &res.info;
    if namespace.is_some() && !info.namespaced {
        return not_found_path();
    }
    if name.is_some() && info.namespaced && namespace.is_none() {
        return not_found_path();
    }
    if let Some((_, d)) = state.opts.faults.slow.iter().find(|(f, _)| fault_covers(f, plural, sub)) {
        tokio::time::sleep(*d).await;
    }
    let watch = watch_path || r.flag("watch");
    if state.opts.faults.forbidden.iter().any(|f| fault_covers(f, plural, sub)) {
        let verb = match (name, watch) {
            (_, true) => "watch",
            (Some(_), _) => "get",
            (None, _) => "list",
        };
        let scope = match namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".to_string(),
        };
        let what = match sub {
            Some(s) => format!("{plural}/{s}"),
            None => plural.to_string(),
        };
        let msg = match name {
            Some(n) => format!(
                "{plural} \"{n}\" is forbidden: User \"system:anonymous\" cannot {verb} resource \"{what}\" in API group \"{group}\"{scope}"
            ),
            None => format!(
                "{plural} is forbidden: User \"system:anonymous\" cannot {verb} resource \"{what}\" in API group \"{group}\"{scope}"
            ),
        };
        let mut details = json!({"group": group, "kind": plural});
        if let Some(n) = name {
            details["name"] = json!(n);
        }
        return status(StatusCode::FORBIDDEN, "Forbidden", msg, Some(details));
    }
    let label = match LabelSelector::parse(r.q("labelSelector").unwrap_or_default()) {
        Ok(s) => s,
        Err(e) => return bad_request(e),
    };
    let field = match FieldSelector::parse(r.q("fieldSelector").unwrap_or_default(), plural) {
        Ok(s) => s,
        Err(e) => return bad_request(e),
    };
    match (name, sub) {
        (None, _) if watch => watch_objects(state, r, res, namespace, &label, &field),
        (None, _) => list(state, r, res, namespace, &label, &field),
        (Some(n), None) if watch => {
            // A watch of one object by name: the same as a field selector on it.
            let field = match FieldSelector::parse(&format!("metadata.name={n}"), plural) {
                Ok(f) => f,
                Err(e) => return bad_request(e),
            };
            watch_objects(state, r, res, namespace, &label, &field)
        }
        (Some(n), None | Some("status")) => get(state, r, res, namespace, n),
        (Some(n), Some("log")) if group.is_empty() && plural == "pods" => {
            pod_log(state, r, namespace.unwrap_or_default(), n)
        }
        _ => not_found_path(),
    }
}

/// The objects in `namespace` (all when `None`): a binary search, as objects are sorted by
/// namespace then name.
fn in_namespace<'a>(res: &'a Resource, namespace: Option<&str>) -> &'a [Value] {
    let all = res.objects.as_slice();
    match namespace {
        Some(ns) => {
            let lo = all.partition_point(|o| meta_str(o, "namespace") < ns);
            let hi = all.partition_point(|o| meta_str(o, "namespace") <= ns);
            &all[lo..hi]
        }
        None => all,
    }
}

/// One object by namespace and name.
fn find<'a>(res: &'a Resource, namespace: &str, name: &str) -> Option<&'a Value> {
    let i = res.objects.binary_search_by(|o| (meta_str(o, "namespace"), meta_str(o, "name")).cmp(&(namespace, name)));
    i.ok().map(|i| &res.objects[i])
}

fn selected<'a>(
    res: &'a Resource,
    namespace: Option<&str>,
    label: &LabelSelector,
    field: &FieldSelector,
) -> Vec<&'a Value> {
    in_namespace(res, namespace).iter().filter(|o| label.matches(o) && field.matches(&res.info.plural, o)).collect()
}

const CONTINUE_PREFIX: &str = "ks1:";

/// The continue token after `obj`: its namespace and name, hex-encoded so clients treat it
/// as opaque.
fn continue_token(obj: &Value) -> String {
    let key = format!("{CONTINUE_PREFIX}{}/{}", meta_str(obj, "namespace"), meta_str(obj, "name"));
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn parse_continue(token: &str) -> Option<(String, String)> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..token.len()).step_by(2).map(|i| token.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (ns, name) = text.strip_prefix(CONTINUE_PREFIX)?.split_once('/')?;
    Some((ns.to_string(), name.to_string()))
}

fn list(
    state: &State,
    r: &Req,
    res: &Resource,
    namespace: Option<&str>,
    label: &LabelSelector,
    field: &FieldSelector,
) -> Resp {
    let plural = res.info.plural.as_str();
    let faults = &state.opts.faults;
    if faults.too_many_requests_once.iter().any(|f| f == plural) {
        // Poisoned only if another request panicked while holding it; the set is still valid.
        let mut seen = state.throttled.lock().unwrap_or_else(|p| p.into_inner());
        if seen.insert(plural.to_string()) {
            let mut resp = status(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests, please try again later.",
                Some(json!({"retryAfterSeconds": 0})),
            );
            resp.headers_mut().insert("Retry-After", HeaderValue::from_static("0"));
            return resp;
        }
    }
    // A page costs what it returns (plus what the selectors skip), not the whole list: the
    // start is found by binary search and the scan stops at the limit.
    let scope = in_namespace(res, namespace);
    let mut start = 0;
    if let Some(token) = r.q("continue").filter(|t| !t.is_empty()) {
        if faults.gone_on_continue && !state.gone_used.swap(true, Ordering::SeqCst) {
            return status(
                StatusCode::GONE,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result. You can start a new \
                 list without the continue parameter, or use the continue token in this response to retrieve the \
                 remainder of the results. Continuing with the provided token results in an inconsistent list - \
                 objects that were created, modified, or deleted between the time the first chunk was returned and \
                 now may show up in the list.",
                None,
            );
        }
        let Some((ns, name)) = parse_continue(token) else {
            return bad_request(format!("continue key is not valid: {token}"));
        };
        start =
            scope.partition_point(|o| (meta_str(o, "namespace"), meta_str(o, "name")) <= (ns.as_str(), name.as_str()));
    }
    let limit = r.q("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
    let mut page: Vec<&Value> = Vec::new();
    let mut next = scope.len();
    let mut more = false;
    for (i, o) in scope.iter().enumerate().skip(start) {
        if !(label.matches(o) && field.matches(plural, o)) {
            continue;
        }
        if limit.is_some_and(|l| page.len() == l) {
            more = true;
            break;
        }
        page.push(o);
        next = i + 1;
    }
    let mut meta = json!({"resourceVersion": state.snap.resource_version()});
    if more && let Some(last) = page.last() {
        meta["continue"] = json!(continue_token(last));
        // Only without selectors, as the API server does: with them, counting would mean
        // reading the rest of the list.
        if label.is_empty() && field.is_empty() {
            meta["remainingItemCount"] = json!(scope.len() - next);
        }
    }
    // The malformed item, when asked for, is the first object of the whole list.
    let malformed = faults.malformed_in_list.iter().any(|f| f == plural) && start == 0 && !page.is_empty();
    let items: Vec<std::borrow::Cow<'_, Value>> = page
        .iter()
        .enumerate()
        .map(
            |(i, o)| {
                if malformed && i == 0 { std::borrow::Cow::Owned(malform(o)) } else { std::borrow::Cow::Borrowed(*o) }
            },
        )
        .collect();
    let now = state.snap.now();
    match shape(&r.accept) {
        Shape::Table(api) => {
            let objs: Vec<&Value> = items.iter().map(|c| c.as_ref()).collect();
            json_resp(StatusCode::OK, &table(api, &res.info, &objs, now, r.q("includeObject"), meta, true))
        }
        Shape::Metadata => {
            let items: Vec<Value> = items.iter().map(|o| partial(o)).collect();
            json_resp(
                StatusCode::OK,
                &json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items}),
            )
        }
        Shape::Full => json_resp(
            StatusCode::OK,
            &json!({"kind": format!("{}List", res.info.kind), "apiVersion": res.info.api_version(), "metadata": meta,
                "items": items}),
        ),
    }
}

/// The malformed copy the `malformed_in_list` fault serves: `spec` becomes a string, or, for
/// kinds without a spec, `metadata.labels` does. Either breaks typed decoding of that item only.
fn malform(obj: &Value) -> Value {
    let mut o = obj.clone();
    if o.get("spec").is_some() {
        o["spec"] = json!("x");
    } else if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("labels".to_string(), json!("x"));
    }
    o
}

fn partial(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({}))})
}

fn table(
    api: &str,
    info: &ResourceInfo,
    objs: &[&Value],
    now: Option<jiff::Timestamp>,
    include: Option<&str>,
    meta: Value,
    with_columns: bool,
) -> Value {
    let rows: Vec<Value> = objs
        .iter()
        .map(|o| {
            let mut row = json!({"cells": table::cells(&info.plural, o, now)});
            match include {
                Some("None") => {}
                Some("Object") => row["object"] = (*o).clone(),
                _ => row["object"] = partial(o),
            }
            if let Some(c) = table::row_conditions(&info.plural, o) {
                row["conditions"] = c;
            }
            row
        })
        .collect();
    let mut t = json!({"kind": "Table", "apiVersion": api, "metadata": meta, "rows": rows});
    if with_columns {
        t["columnDefinitions"] = table::columns(&info.plural).iter().map(table::Column::to_json).collect();
    } else {
        t["columnDefinitions"] = json!(null);
    }
    t
}

fn get(state: &State, r: &Req, res: &Resource, namespace: Option<&str>, name: &str) -> Resp {
    let ns = namespace.unwrap_or_default();
    let Some(obj) = find(res, ns, name) else {
        let mut details = json!({"name": name, "kind": res.info.plural});
        if !res.info.group.is_empty() {
            details["group"] = json!(res.info.group);
        }
        let what = if res.info.group.is_empty() {
            res.info.plural.clone()
        } else {
            format!("{}.{}", res.info.plural, res.info.group)
        };
        return status(StatusCode::NOT_FOUND, "NotFound", format!("{what} \"{name}\" not found"), Some(details));
    };
    match shape(&r.accept) {
        Shape::Table(api) => {
            let meta = json!({"resourceVersion": meta_str(obj, "resourceVersion")});
            json_resp(
                StatusCode::OK,
                &table(api, &res.info, &[obj], state.snap.now(), r.q("includeObject"), meta, true),
            )
        }
        Shape::Metadata => json_resp(StatusCode::OK, &partial(obj)),
        Shape::Full => match state.opts.secret_data.get(&(ns.to_string(), name.to_string())) {
            Some(data) if res.info.plural == "secrets" && res.info.group.is_empty() => {
                let mut with_data = obj.clone();
                with_data["data"] = Value::Object(data.clone());
                json_resp(StatusCode::OK, &with_data)
            }
            _ => json_resp(StatusCode::OK, obj),
        },
    }
}

/// A watch: the current objects as ADDED events (when the client asks from the start, or for
/// initial events), then an idle stream; nothing ever changes in a snapshot.
fn watch_objects(
    state: &State,
    r: &Req,
    res: &Resource,
    namespace: Option<&str>,
    label: &LabelSelector,
    field: &FieldSelector,
) -> Resp {
    let from_start = r.q("resourceVersion").is_none_or(|v| v.is_empty() || v == "0");
    let initial_events = r.flag("sendInitialEvents");
    let objs = if from_start || initial_events { selected(res, namespace, label, field) } else { Vec::new() };
    let shape = shape(&r.accept);
    let now = state.snap.now();
    let mut events: Vec<Bytes> = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        let object = match shape {
            Shape::Full => (*o).clone(),
            Shape::Metadata => partial(o),
            Shape::Table(api) => {
                let meta = json!({"resourceVersion": meta_str(o, "resourceVersion")});
                table(api, &res.info, &[o], now, r.q("includeObject"), meta, i == 0)
            }
        };
        events.push(Bytes::from(format!("{}\n", json!({"type": "ADDED", "object": object}))));
    }
    if initial_events {
        let mut bookmark = Map::new();
        bookmark.insert("kind".to_string(), json!(res.info.kind));
        bookmark.insert("apiVersion".to_string(), json!(res.info.api_version()));
        bookmark.insert(
            "metadata".to_string(),
            json!({"resourceVersion": state.snap.resource_version(), "annotations": {"k8s.io/initial-events-end": "true"}}),
        );
        events.push(Bytes::from(format!("{}\n", json!({"type": "BOOKMARK", "object": bookmark}))));
    }
    let timeout = r.q("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).filter(|t| *t > 0).map(Duration::from_secs);
    let mut resp = Response::new(ServeBody::watch(events, timeout));
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp
}

fn names(pod: &Value, list: &str) -> Vec<String> {
    pod.pointer(list)
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default()
}

fn pod_log(state: &State, r: &Req, ns: &str, name: &str) -> Resp {
    let Some(pods) = state.snap.resource("", "v1", "pods") else { return not_found_path() };
    let Some(pod) = find(pods, ns, name) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("pods \"{name}\" not found"),
            Some(json!({"name": name, "kind": "pods"})),
        );
    };
    let containers = names(pod, "/spec/containers");
    let init = names(pod, "/spec/initContainers");
    let ephemeral = names(pod, "/spec/ephemeralContainers");
    let container = match r.q("container").filter(|c| !c.is_empty()) {
        Some(c) => c.to_string(),
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            let mut msg =
                format!("a container name must be specified for pod {name}, choose one of: [{}]", containers.join(" "));
            if !init.is_empty() {
                msg.push_str(&format!(" or one of the init containers: [{}]", init.join(" ")));
            }
            if !ephemeral.is_empty() {
                msg.push_str(&format!(" or one of the ephemeral containers: [{}]", ephemeral.join(" ")));
            }
            return bad_request(msg);
        }
    };
    if !containers.iter().chain(&init).chain(&ephemeral).any(|c| *c == container) {
        return bad_request(format!("container {container} is not valid for pod {name}"));
    }
    let previous = r.flag("previous");
    let Some(text) = state.snap.log(ns, name, &container, previous) else {
        if previous {
            return bad_request(format!("previous terminated container \"{container}\" in pod \"{name}\" not found"));
        }
        let waiting = ["/status/containerStatuses", "/status/initContainerStatuses"]
            .iter()
            .flat_map(|p| pod.pointer(p).and_then(Value::as_array).into_iter().flatten())
            .find(|s| s.get("name").and_then(Value::as_str) == Some(container.as_str()))
            .and_then(|s| s.pointer("/state/waiting/reason"))
            .and_then(Value::as_str);
        if let Some(reason) = waiting {
            return bad_request(format!("container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"));
        }
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the snapshot holds no log for container {container} of pod {ns}/{name}"),
            Some(json!({"name": name, "kind": "pods"})),
        );
    };
    let mut out = text;
    if let Some(n) = r.q("tailLines").and_then(|t| t.parse::<usize>().ok()) {
        let lines: Vec<&str> = out.split_inclusive('\n').collect();
        let skip = lines.len().saturating_sub(n);
        let cut: usize = lines[..skip].iter().map(|l| l.len()).sum();
        out = &out[cut..];
    }
    if let Some(n) = r.q("limitBytes").and_then(|t| t.parse::<usize>().ok()).filter(|n| *n > 0) {
        let mut end = n.min(out.len());
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out = &out[..end];
    }
    let mut resp = Response::new(ServeBody::full(out.to_string()));
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        assert_eq!(
            shape(
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            ),
            Shape::Table("meta.k8s.io/v1")
        );
        assert_eq!(shape("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"), Shape::Metadata);
        assert_eq!(shape("application/json, */*"), Shape::Full);
        assert_eq!(shape(""), Shape::Full);
        assert_eq!(
            aggregated("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"),
            Some("v2")
        );
        assert_eq!(aggregated("application/json"), None);
    }

    #[test]
    fn continue_tokens_round_trip_and_reject_junk() {
        let o = json!({"metadata": {"namespace": "shop", "name": "web-1"}});
        let t = continue_token(&o);
        assert!(!t.contains("shop"));
        assert_eq!(parse_continue(&t), Some(("shop".to_string(), "web-1".to_string())));
        assert_eq!(parse_continue("zz"), None);
        assert_eq!(parse_continue("abc"), None);
        assert_eq!(parse_continue(&"x/y".bytes().map(|b| format!("{b:02x}")).collect::<String>()), None);
    }

    #[test]
    fn version_rank_orders_like_kubernetes() {
        let mut v = vec!["v1beta1", "v1", "v2", "v1alpha1", "v2beta2"];
        v.sort_by_key(|v| std::cmp::Reverse(version_rank(v)));
        assert_eq!(v, ["v2", "v1", "v2beta2", "v1beta1", "v1alpha1"]);
    }
}
