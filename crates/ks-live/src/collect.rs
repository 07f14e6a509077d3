//! The live collector: one paginated list per kind (cluster-wide, or per namespace), a
//! bounded number of requests in flight, the failing containers' logs, all under one
//! deadline. Every object goes through `ks_sources::objects::add_object`, the parser the
//! snapshot source uses, so rules see the same evidence from a cluster as from its dump.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ks_core::{Evidence, Gap, LogExcerpt, LogKey};
use ks_sources::objects::{Head, add_object};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::api::{Api, ApiError};
use crate::kinds::{EVENTS_K8S_IO, RESOURCES, ResourceSpec};
use crate::progress::Progress;
use crate::{logs, redact};

/// `Accept` for full objects.
const JSON: &str = "application/json";
/// `Accept` for metadata only: names, labels, annotations; no Secret data on the wire.
const METADATA: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json";
/// The annotation in which `kubesleuth serve` names a Secret's keys (it serves no values).
const SERVED_KEYS_ANNOTATION: &str = "kubesleuth.io/keys";
/// The annotation `kubesleuth serve` puts on Namespaces it made up for a snapshot that had
/// none: they are not evidence.
const SYNTHESIZED_ANNOTATION: &str = "kubesleuth.io/synthesized";
/// Falling back to per-namespace lists is only tried for this many namespaces.
const MAX_FALLBACK_NAMESPACES: usize = 64;

/// What to collect.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// `-n NS`: namespaced kinds in this namespace only (cluster-scoped kinds still listed).
    pub namespace: Option<String>,
    /// Read Secret data to learn key names (values are dropped on read).
    pub secret_keys: bool,
    /// The whole scan's deadline; what arrived by then is kept.
    pub timeout: Duration,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// `limit` of each list page.
    pub page_size: u32,
    /// Keep the (Secret-stripped) objects for a snapshot, and list the kinds only the
    /// cluster-info dump layout has.
    pub keep_objects: bool,
    /// Fetch the failing containers' logs.
    pub logs: bool,
    /// Log requests at most.
    pub max_logs: usize,
    /// Show a progress line on stderr (only when stderr is a terminal, after a second).
    pub progress: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            namespace: None,
            secret_keys: false,
            timeout: Duration::from_secs(60),
            concurrency: 8,
            page_size: 500,
            keep_objects: false,
            logs: true,
            max_logs: logs::MAX_LOGS,
            progress: false,
        }
    }
}

/// A resource the user may not read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Denied {
    /// `secrets`, `events.k8s.io/events`, `pods/log`.
    pub resource: String,
    pub verb: &'static str,
    /// None: cluster-wide.
    pub namespace: Option<String>,
}

/// How the collection went.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub requests: u64,
    pub elapsed: Duration,
    /// Kinds listed completely.
    pub listed: Vec<String>,
    /// Optional kinds (CRDs) the cluster does not serve.
    pub not_served: Vec<String>,
    pub denied: Vec<Denied>,
    /// Lists that stopped early (timeout, errors, a list that expired twice).
    pub incomplete: Vec<String>,
    pub timed_out: bool,
    pub logs_fetched: usize,
    /// The one RBAC warning line, when something was denied.
    pub warning: Option<String>,
}

/// An object kept for a snapshot, as the server sent it (a Secret without values): JSON
/// text is a fraction of the memory of a parsed tree, and the writer redacts one object at
/// a time.
#[derive(Debug)]
pub struct Kept {
    /// The object's kind and apiVersion (list items often leave them out).
    pub kind: String,
    pub api_version: String,
    pub raw: Box<RawValue>,
}

impl Kept {
    /// The object as a JSON tree with `kind` and `apiVersion` set.
    pub fn value(&self) -> Result<Value, serde_json::Error> {
        let mut v: Value = serde_json::from_str(self.raw.get())?;
        if let Value::Object(m) = &mut v {
            m.entry("kind").or_insert_with(|| Value::String(self.kind.clone()));
            m.entry("apiVersion").or_insert_with(|| Value::String(self.api_version.clone()));
        }
        Ok(v)
    }

    /// `metadata.namespace`, read without parsing the rest.
    pub fn namespace(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct M {
            #[serde(default)]
            metadata: Option<N>,
        }
        #[derive(Deserialize)]
        struct N {
            #[serde(default)]
            namespace: Option<String>,
        }
        serde_json::from_str::<M>(self.raw.get()).ok()?.metadata?.namespace
    }
}

/// Objects kept for a snapshot, by resource.
pub type Objects = BTreeMap<ResourceSpec, Vec<Kept>>;

/// Everything a live collection produced.
#[derive(Debug, Default)]
pub struct Collection {
    /// Finished (deduplicated and indexed), like `ks_sources::load_paths` returns it.
    pub evidence: Evidence,
    /// Only with [`LiveOptions::keep_objects`]; Secrets without values.
    pub objects: Objects,
    pub report: Report,
}

#[derive(Clone, Debug)]
struct ListJob {
    spec: ResourceSpec,
    /// The served version (a CRD group may serve another than the table's).
    version: String,
    namespace: Option<String>,
}

impl ListJob {
    fn label(&self) -> String {
        match &self.namespace {
            Some(ns) if self.spec.namespaced => format!("{} in namespace {ns}", self.spec.display()),
            _ => self.spec.display(),
        }
    }
}

#[derive(Debug)]
enum Outcome {
    Complete,
    Forbidden,
    NotFound,
    /// Stopped early; what arrived is kept.
    Incomplete(String),
}

#[derive(Default)]
struct Part {
    ev: Evidence,
    objects: Vec<Kept>,
    outcome: Option<Outcome>,
    /// The server made up some of the objects (`kubesleuth serve`'s Namespaces for a
    /// snapshot that had none): the list does not say what exists.
    made_up: bool,
}

#[derive(Default)]
struct State {
    jobs: Vec<ListJob>,
    parts: Vec<Part>,
    logs: HashMap<LogKey, LogExcerpt>,
    logs_denied: BTreeSet<Option<String>>,
    /// Log requests planned, and answered (either way).
    logs_planned: usize,
    logs_answered: usize,
    log_gaps: Vec<Gap>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave the state half-written in a way that
    // matters here (every write is a push or an insert), so a poisoned lock is used as is.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Collect a cluster through `api`. Never fails as a whole: what could not be read becomes
/// a gap, what may not be read a [`Denied`] entry and one warning.
pub async fn collect(api: &Api, default_namespace: &str, opts: &LiveOptions) -> Collection {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + opts.timeout;
    let state = Arc::new(Mutex::new(State::default()));
    let progress = Arc::new(Progress::new(opts.progress));
    progress.reveal_later();
    let mut not_served = Vec::new();

    let run = async {
        let served = match discover(api).await {
            Ok(served) => served,
            Err(e) => {
                // Unreachable, or credentials refused: every list would fail the same way.
                lock(&state).log_gaps.push(live_gap(format!("cannot reach the API server: {e}")));
                return;
            }
        };
        let mut jobs = Vec::new();
        for spec in RESOURCES.iter().filter(|s| opts.keep_objects || !s.snapshot_only) {
            let version = match served.as_ref().map(|s| s.resolve(spec)) {
                Some(Resolved::Served(version)) => version,
                // Not served (a CRD that is not installed, an API group an old cluster
                // lacks): there is nothing of it to miss, so no gap; the report and the
                // snapshot manifest name it.
                Some(Resolved::Absent) => {
                    not_served.push(spec.display());
                    continue;
                }
                // Discovery failed: try everything, a 404 tells.
                None => spec.version.to_string(),
            };
            jobs.push(ListJob { spec: *spec, version, namespace: opts.namespace.clone().filter(|_| spec.namespaced) });
        }
        run_lists(api, &state, jobs, opts, &progress).await;

        // Core events forbidden: the same events may be readable from events.k8s.io.
        let events_served = served.as_ref().is_none_or(|s| matches!(s.resolve(&EVENTS_K8S_IO), Resolved::Served(_)));
        let fallback: Vec<ListJob> = {
            let st = lock(&state);
            st.jobs
                .iter()
                .zip(&st.parts)
                .filter(|(j, p)| {
                    events_served && j.spec.kind == "Event" && matches!(p.outcome, Some(Outcome::Forbidden))
                })
                .map(|(j, _)| ListJob {
                    spec: EVENTS_K8S_IO,
                    version: EVENTS_K8S_IO.version.to_string(),
                    namespace: j.namespace.clone(),
                })
                .collect()
        };
        run_lists(api, &state, fallback, opts, &progress).await;

        // Denied cluster-wide, a namespaced kind may still be readable per namespace.
        if opts.namespace.is_none() {
            let per_ns = namespace_fallback(&state, default_namespace);
            run_lists(api, &state, per_ns, opts, &progress).await;
        }

        if opts.logs {
            let (keys, skipped) = {
                let st = lock(&state);
                logs::select(st.parts.iter().flat_map(|p| p.ev.pods.iter().map(|p| &**p)), opts.max_logs)
            };
            if skipped > 0 {
                lock(&state).log_gaps.push(live_gap(format!(
                    "logs of {skipped} more failing containers were not read (at most {} per scan)",
                    opts.max_logs
                )));
            }
            lock(&state).logs_planned = keys.len();
            fetch_logs(api, &state, keys, opts, &progress).await;
        }
    };
    let timed_out = tokio::time::timeout_at(deadline, run).await.is_err();
    progress.finish();

    let st = std::mem::take(&mut *lock(&state));
    finish(st, api, started, timed_out, opts, not_served)
}

fn live_gap(message: String) -> Gap {
    Gap { file: None, line: None, message }
}

fn finish(
    st: State,
    api: &Api,
    started: Instant,
    timed_out: bool,
    opts: &LiveOptions,
    not_served: Vec<String>,
) -> Collection {
    let mut report = Report { timed_out, not_served, ..Report::default() };
    let mut gaps = Vec::new();
    // A kind is collected when every list of it completed (all namespaces it was tried in).
    let mut complete: BTreeMap<&'static str, bool> = BTreeMap::new();
    let mut parts = Vec::with_capacity(st.parts.len());
    let mut objects = Objects::new();
    // Which lists read something (complete, or stopped early).
    let outcomes: Vec<bool> =
        st.parts.iter().map(|p| matches!(p.outcome, Some(Outcome::Complete | Outcome::Incomplete(_)))).collect();
    for (job, part) in st.jobs.iter().zip(st.parts) {
        // Replaced by a per-namespace fallback or by the events.k8s.io list that read
        // something: not a verdict on the kind by itself.
        let superseded = matches!(part.outcome, Some(Outcome::Forbidden))
            && st.jobs.iter().zip(&outcomes).any(|(j, o)| covers(j, job) && *o);
        let ok = match &part.outcome {
            Some(Outcome::Complete) => true,
            Some(Outcome::NotFound) => {
                report.not_served.push(job.spec.display());
                false
            }
            Some(Outcome::Forbidden) if superseded => continue,
            Some(Outcome::Forbidden) => {
                report.denied.push(Denied {
                    resource: job.spec.display(),
                    verb: "list",
                    namespace: job.namespace.clone().filter(|_| job.spec.namespaced),
                });
                false
            }
            Some(Outcome::Incomplete(why)) => {
                report.incomplete.push(job.label());
                gaps.push(live_gap(format!("{}: {why}; the objects read before that are used", job.label())));
                false
            }
            None => {
                report.incomplete.push(job.label());
                gaps.push(live_gap(format!(
                    "{}: not finished within the {} s scan timeout; the objects read before that are used",
                    job.label(),
                    opts.timeout.as_secs()
                )));
                false
            }
        };
        let entry = complete.entry(job.spec.kind).or_insert(true);
        *entry &= ok && !part.made_up;
        if opts.keep_objects && !part.objects.is_empty() {
            objects.entry(job.spec).or_default().extend(part.objects);
        }
        parts.push(part.ev);
    }
    let mut ev = Evidence::merge_all(parts);
    for (kind, ok) in &complete {
        if *ok {
            ev.collected.insert((*kind).to_string());
            report.listed.push((*kind).to_string());
        }
    }
    report.logs_fetched = st.logs.len();
    if st.logs_answered < st.logs_planned {
        gaps.push(live_gap(format!(
            "logs: {} of {} failing containers' logs were not read within the {} s scan timeout",
            st.logs_planned - st.logs_answered,
            st.logs_planned,
            opts.timeout.as_secs()
        )));
    }
    ev.logs = st.logs;
    for ns in &st.logs_denied {
        report.denied.push(Denied { resource: "pods/log".to_string(), verb: "get", namespace: ns.clone() });
    }
    gaps.extend(st.log_gaps);
    report.denied.sort();
    report.denied.dedup();
    for ((verb, resource), scopes) in denied_by_resource(&report.denied) {
        gaps.push(live_gap(format!("cannot {verb} {resource} {}: forbidden; not collected", scope_text(&scopes))));
    }
    report.warning = rbac_warning(&report.denied);
    report.not_served.sort();
    report.not_served.dedup();
    ev.gaps.extend(gaps);
    ev.finish();
    report.requests = api.requests();
    report.elapsed = started.elapsed();
    Collection { evidence: ev, objects, report }
}

/// Whether `other` (a fallback list) stands in for the denied `job`.
fn covers(other: &ListJob, job: &ListJob) -> bool {
    other.spec.kind == job.spec.kind
        && (other.spec != job.spec || (job.namespace.is_none() && other.namespace.is_some()))
}

type Scopes<'a> = BTreeSet<Option<&'a str>>;

fn denied_by_resource(denied: &[Denied]) -> BTreeMap<(&'static str, &str), Scopes<'_>> {
    let mut out: BTreeMap<(&'static str, &str), Scopes<'_>> = BTreeMap::new();
    for d in denied {
        out.entry((d.verb, d.resource.as_str())).or_default().insert(d.namespace.as_deref());
    }
    out
}

/// `cluster-wide`, `in namespace shop`, `cluster-wide or in namespaces a, b`.
fn scope_text(scopes: &Scopes<'_>) -> String {
    const SHOWN: usize = 5;
    let names: Vec<&str> = scopes.iter().flatten().copied().collect();
    let mut ns = match names.len() {
        0 => String::new(),
        1 => format!("in namespace {}", names[0]),
        n if n <= SHOWN => format!("in namespaces {}", names.join(", ")),
        n => format!("in namespaces {} and {} more", names[..SHOWN].join(", "), n - SHOWN),
    };
    if scopes.contains(&None) {
        ns = if ns.is_empty() { "cluster-wide".to_string() } else { format!("cluster-wide or {ns}") };
    }
    ns
}

/// "cannot list events, secrets in namespace shop; cannot list nodes cluster-wide: grant
/// get/list/watch on them (see deploy/rbac.yaml ...); the scan went on without them".
pub fn rbac_warning(denied: &[Denied]) -> Option<String> {
    if denied.is_empty() {
        return None;
    }
    // Resources denied in the same places are named together.
    let mut by_scope: BTreeMap<(&str, String), Vec<&str>> = BTreeMap::new();
    for ((verb, resource), scopes) in denied_by_resource(denied) {
        by_scope.entry((verb, scope_text(&scopes))).or_default().push(resource);
    }
    let parts: Vec<String> =
        by_scope.iter().map(|((verb, scope), res)| format!("cannot {verb} {} {scope}", res.join(", "))).collect();
    Some(format!(
        "{}: grant get/list/watch on them (see deploy/rbac.yaml; pods/log needs get); the scan went on without them",
        parts.join("; ")
    ))
}

/// Per-namespace lists for namespaced kinds denied cluster-wide: in the namespaces the
/// Namespace list named (when it was readable and not too long), else in the context's
/// namespace.
fn namespace_fallback(state: &Mutex<State>, default_namespace: &str) -> Vec<ListJob> {
    let st = lock(state);
    let namespaces: Vec<String> = {
        let listed = st
            .jobs
            .iter()
            .zip(&st.parts)
            .find(|(j, p)| j.spec.kind == "Namespace" && matches!(p.outcome, Some(Outcome::Complete)));
        match listed {
            Some((_, p)) if !p.ev.namespaces.is_empty() && p.ev.namespaces.len() <= MAX_FALLBACK_NAMESPACES => {
                p.ev.namespaces.iter().filter_map(|n| n.metadata.name.clone()).collect()
            }
            _ => vec![default_namespace.to_string()],
        }
    };
    let mut out = Vec::new();
    for (job, part) in st.jobs.iter().zip(&st.parts) {
        if job.spec.namespaced && job.namespace.is_none() && matches!(part.outcome, Some(Outcome::Forbidden)) {
            for ns in &namespaces {
                out.push(ListJob { spec: job.spec, version: job.version.clone(), namespace: Some(ns.clone()) });
            }
        }
    }
    out
}

/// Run `jobs`, at most `opts.concurrency` requests in flight. Results land in `state` page
/// by page, so a timeout keeps what arrived.
async fn run_lists(api: &Api, state: &Arc<Mutex<State>>, jobs: Vec<ListJob>, opts: &LiveOptions, progress: &Progress) {
    if jobs.is_empty() {
        return;
    }
    let ids: Vec<usize> = {
        let mut st = lock(state);
        jobs.into_iter()
            .map(|j| {
                st.jobs.push(j);
                st.parts.push(Part::default());
                st.jobs.len() - 1
            })
            .collect()
    };
    futures::stream::iter(ids)
        .map(|id| run_list(api, state, id, opts, progress))
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<Vec<()>>()
        .await;
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    metadata: PageMeta,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    continue_: Option<String>,
}

async fn run_list(api: &Api, state: &Mutex<State>, id: usize, opts: &LiveOptions, progress: &Progress) {
    let job = lock(state).jobs[id].clone();
    let metadata_only = job.spec.kind == "Secret" && !opts.secret_keys;
    let accept = if metadata_only { METADATA } else { JSON };
    let path = job.spec.list_path_at(&job.version, job.namespace.as_deref());
    let mut restarted = false;
    let mut token: Option<String> = None;
    let mut read = 0usize;
    let outcome = loop {
        let mut query = format!("{path}?limit={}", opts.page_size.max(1));
        if let Some(t) = &token {
            query.push_str("&continue=");
            query.push_str(&encode(t));
        }
        let body = match api.get(&query, accept).await {
            Ok(b) => b,
            Err(e) if e.is_gone() && !restarted => {
                // The continue token expired (the list took longer than the server keeps
                // its snapshot): start over once, dropping the pages read so far.
                restarted = true;
                token = None;
                read = 0;
                let mut st = lock(state);
                st.parts[id] = Part::default();
                continue;
            }
            Err(e) if e.is_gone() => {
                break Outcome::Incomplete(format!("the list expired twice (410 Gone) after {read} objects"));
            }
            Err(e) if e.is_forbidden() => break Outcome::Forbidden,
            Err(e) if e.is_not_found() => break Outcome::NotFound,
            Err(e) => break Outcome::Incomplete(describe(&e)),
        };
        let page: Page<'_> = match serde_json::from_slice(&body) {
            Ok(p) => p,
            Err(e) => break Outcome::Incomplete(format!("malformed answer: {e}")),
        };
        let items = page.items.unwrap_or_default();
        read += items.len();
        progress.add_objects(items.len());
        let mut part = Part::default();
        for item in items {
            add_item(&job, item, metadata_only, opts.keep_objects, &mut part);
        }
        {
            let mut st = lock(state);
            let slot = &mut st.parts[id];
            slot.ev.merge(part.ev);
            slot.objects.extend(part.objects);
            slot.made_up |= part.made_up;
        }
        match page.metadata.continue_.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => break Outcome::Complete,
        }
    };
    let (done, total) = {
        let mut st = lock(state);
        st.parts[id].outcome = Some(outcome);
        (st.parts.iter().filter(|p| p.outcome.is_some()).count(), st.parts.len())
    };
    progress.message(&format!("listed {done} of {total} kinds"));
}

fn describe(e: &ApiError) -> String {
    match e {
        ApiError::Status { code, .. } if *code == 429 || *code >= 500 => {
            format!("{e} (after {} tries)", crate::api::MAX_TRIES)
        }
        _ => e.to_string(),
    }
}

/// Parse one list item into the part's evidence (and objects). A malformed item becomes a
/// gap naming it; the rest of the list is used.
fn add_item(job: &ListJob, item: &RawValue, metadata_only: bool, keep: bool, part: &mut Part) {
    let spec = &job.spec;
    let api_version = spec.api_version_at(&job.version);
    if spec.kind == "Secret" {
        // Values are dropped here, before anything else sees the object; a server that
        // ignores the metadata-only Accept header sends data we then throw away.
        let mut v: Value = match serde_json::from_str(item.get()) {
            Ok(v) => v,
            Err(e) => return part.ev.gaps.push(item_gap(job, item, &e.to_string())),
        };
        if let Value::Object(m) = &mut v {
            if metadata_only {
                m.remove("data");
                m.remove("stringData");
            } else if !m.contains_key("data") && !m.contains_key("stringData") {
                // `kubesleuth serve` never serves values: it names a Secret's keys in an
                // annotation instead. Key names are what `--secret-keys` asks for.
                let keys = m
                    .get("metadata")
                    .and_then(|md| md.pointer("/annotations"))
                    .and_then(|a| a.get(SERVED_KEYS_ANNOTATION))
                    .and_then(|k| k.as_str())
                    .map(|k| k.split(',').filter(|k| !k.is_empty()).map(|k| (k.to_string(), Value::from(""))));
                if let Some(keys) = keys {
                    m.insert("data".into(), Value::Object(keys.collect()));
                }
            }
            m.insert("kind".into(), Value::String("Secret".into()));
            m.insert("apiVersion".into(), Value::String("v1".into()));
        }
        redact::strip_secret_values(&mut v);
        let text = v.to_string();
        match add_object(&mut part.ev, "Secret", "v1", &text) {
            Ok(()) if keep => match RawValue::from_string(text) {
                Ok(raw) => part.objects.push(Kept { kind: "Secret".into(), api_version: "v1".into(), raw }),
                Err(e) => part.ev.gaps.push(item_gap(job, item, &e.to_string())),
            },
            Ok(()) => {}
            Err(e) => part.ev.gaps.push(item_gap(job, item, &e.to_string())),
        }
        return;
    }
    let head: Head = match serde_json::from_str(item.get()) {
        Ok(h) => h,
        Err(e) => return part.ev.gaps.push(item_gap(job, item, &e.to_string())),
    };
    if spec.kind == "Namespace" && item.get().contains(SYNTHESIZED_ANNOTATION) && is_made_up(item) {
        part.made_up = true;
        return;
    }
    // API servers leave `kind`/`apiVersion` out of list items; the list says what they are.
    let kind = head.kind.as_deref().unwrap_or(spec.kind);
    let api = head.api_version.as_deref().unwrap_or(&api_version);
    match add_object(&mut part.ev, kind, api, item.get()) {
        Ok(()) if keep => {
            part.objects.push(Kept { kind: kind.to_string(), api_version: api.to_string(), raw: item.to_owned() })
        }
        Ok(()) => {}
        Err(e) => part.ev.gaps.push(item_gap(job, item, &e.to_string())),
    }
}

fn is_made_up(item: &RawValue) -> bool {
    serde_json::from_str::<Value>(item.get())
        .ok()
        .and_then(|v| v.pointer("/metadata/annotations")?.get(SYNTHESIZED_ANNOTATION)?.as_str().map(|s| s == "true"))
        .unwrap_or(false)
}

fn item_gap(job: &ListJob, item: &RawValue, error: &str) -> Gap {
    #[derive(Deserialize, Default)]
    struct Meta {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        namespace: Option<String>,
    }
    #[derive(Deserialize, Default)]
    struct M {
        #[serde(default)]
        metadata: Option<Meta>,
    }
    let m = serde_json::from_str::<M>(item.get()).ok().and_then(|m| m.metadata).unwrap_or_default();
    let name = match (m.namespace, m.name) {
        (Some(ns), Some(n)) => format!("{ns}/{n}"),
        (None, Some(n)) => n,
        _ => "(unnamed)".to_string(),
    };
    live_gap(format!("{} {name}: malformed object from the API ({error}); skipped", job.spec.kind))
}

async fn fetch_logs(api: &Api, state: &Mutex<State>, keys: Vec<LogKey>, opts: &LiveOptions, progress: &Progress) {
    let total = keys.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    futures::stream::iter(keys)
        .map(|key| {
            let done = &done;
            async move {
                let result = api.get(&logs::path(&key), "text/plain, */*").await;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                lock(state).logs_answered += 1;
                progress.message(&format!("reading logs of failing containers ({n}/{total})"));
                match result {
                    Ok(body) => {
                        let text = String::from_utf8_lossy(&body);
                        let excerpt = LogExcerpt::from_text(&text, "api");
                        lock(state).logs.insert(key, excerpt);
                    }
                    Err(e) if e.is_forbidden() => {
                        lock(state).logs_denied.insert(Some(key.namespace.clone()));
                    }
                    // No previous instance, a container that never started, a pod gone
                    // since it was listed: nothing to read, nothing to report.
                    Err(e) if matches!(e.code(), Some(400 | 404)) => {}
                    Err(e) => lock(state).log_gaps.push(live_gap(format!(
                        "log of container {} of pod {}/{}{}: {}",
                        key.container,
                        key.namespace,
                        key.pod,
                        if key.previous { " (previous)" } else { "" },
                        describe(&e)
                    ))),
                }
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<Vec<()>>()
        .await;
}

/// Percent-encode a query value (continue tokens are base64 with `+`, `/`, `=`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Which API groups and versions the server has, from `/api` and `/apis`.
struct Served {
    /// group -> (versions, preferred).
    groups: HashMap<String, (Vec<String>, Option<String>)>,
}

enum Resolved {
    /// Served, at this version.
    Served(String),
    Absent,
}

impl Served {
    fn resolve(&self, spec: &ResourceSpec) -> Resolved {
        if spec.group.is_empty() {
            return Resolved::Served(spec.version.to_string());
        }
        let Some((versions, preferred)) = self.groups.get(spec.group) else {
            return Resolved::Absent;
        };
        if versions.iter().any(|v| v == spec.version) {
            return Resolved::Served(spec.version.to_string());
        }
        // A CRD group served at another version (Istio's v1beta1): use the preferred one.
        match (spec.optional, preferred.as_ref().or(versions.first())) {
            (true, Some(v)) => Resolved::Served(v.clone()),
            _ => Resolved::Absent,
        }
    }
}

#[derive(Deserialize)]
struct GroupList {
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    name: String,
    #[serde(default)]
    versions: Vec<GroupVersion>,
    #[serde(rename = "preferredVersion", default)]
    preferred: Option<GroupVersion>,
}

#[derive(Deserialize)]
struct GroupVersion {
    version: String,
}

/// One request: `/apis`. `Ok(None)` when the server answered but not with a group list
/// (then every kind is tried and a 404 tells); an error when it could not be reached or
/// refused the credentials.
async fn discover(api: &Api) -> Result<Option<Served>, ApiError> {
    let body = match api.get("/apis", JSON).await {
        Ok(b) => b,
        Err(e @ ApiError::Transport(_)) => return Err(e),
        Err(e) if e.code() == Some(401) => return Err(e),
        Err(_) => return Ok(None),
    };
    let Ok(list) = serde_json::from_slice::<GroupList>(&body) else { return Ok(None) };
    let groups = list
        .groups
        .into_iter()
        .map(|g| (g.name, (g.versions.into_iter().map(|v| v.version).collect(), g.preferred.map(|p| p.version))))
        .collect();
    Ok(Some(Served { groups }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_job() -> ListJob {
        let spec = *crate::kinds::by_kind("Secret").unwrap();
        ListJob { spec, version: "v1".into(), namespace: None }
    }

    const SECRET: &str = r#"{"metadata":{"name":"db","namespace":"shop","annotations":{
        "kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"Secret\",\"data\":{\"pw\":\"VkFMVUUx\"}}"}},
        "type":"Opaque","data":{"pw":"VkFMVUUx","user":"VkFMVUUy"}}"#;

    #[test]
    fn secret_values_are_dropped_on_read() {
        let raw: Box<RawValue> = serde_json::from_str(SECRET).unwrap();
        // A server that ignored the metadata-only Accept header sent data: thrown away.
        let mut part = Part::default();
        add_item(&secret_job(), &raw, true, true, &mut part);
        let s = &part.ev.secrets[0];
        assert!(!s.keys_known && s.keys.is_empty());
        let kept = part.objects[0].raw.get();
        assert!(!kept.contains("VkFMVUUx") && !kept.contains("VkFMVUUy") && !kept.contains("\"data\""), "{kept}");
        assert_eq!(part.objects[0].value().unwrap()["kind"], "Secret");

        // --secret-keys: key names, no values.
        let mut part = Part::default();
        add_item(&secret_job(), &raw, false, true, &mut part);
        let s = &part.ev.secrets[0];
        assert!(s.keys_known);
        assert_eq!(s.keys.iter().map(String::as_str).collect::<Vec<_>>(), ["pw", "user"]);
        let kept = part.objects[0].raw.get();
        assert!(!kept.contains("VkFMVUUx") && !kept.contains("VkFMVUUy"), "{kept}");
        assert_eq!(part.objects[0].value().unwrap()["data"]["pw"], "");
    }

    #[test]
    fn served_key_names_are_read_only_with_secret_keys() {
        let raw: Box<RawValue> = serde_json::from_str(
            r#"{"metadata":{"name":"db","namespace":"shop","annotations":{"kubesleuth.io/keys":"a,b"}}}"#,
        )
        .unwrap();
        let mut part = Part::default();
        add_item(&secret_job(), &raw, false, false, &mut part);
        assert!(part.ev.secrets[0].keys_known && part.ev.secrets[0].keys.len() == 2);
        let mut part = Part::default();
        add_item(&secret_job(), &raw, true, false, &mut part);
        assert!(!part.ev.secrets[0].keys_known);
    }

    #[test]
    fn a_malformed_item_is_a_gap_naming_it() {
        let spec = *crate::kinds::by_kind("Deployment").unwrap();
        let job = ListJob { spec, version: "v1".into(), namespace: None };
        let raw: Box<RawValue> =
            serde_json::from_str(r#"{"metadata":{"name":"web","namespace":"shop"},"spec":"x"}"#).unwrap();
        let mut part = Part::default();
        add_item(&job, &raw, false, true, &mut part);
        assert!(part.ev.deployments.is_empty() && part.objects.is_empty());
        assert!(part.ev.gaps[0].message.starts_with("Deployment shop/web: malformed object"), "{:?}", part.ev.gaps);
    }

    #[test]
    fn continue_tokens_are_encoded() {
        assert_eq!(encode("eyJ2Ijoi+/="), "eyJ2Ijoi%2B%2F%3D");
    }

    #[test]
    fn the_rbac_warning_is_one_line_naming_every_resource() {
        let denied = vec![
            Denied { resource: "nodes".into(), verb: "list", namespace: None },
            Denied { resource: "secrets".into(), verb: "list", namespace: Some("shop".into()) },
            Denied { resource: "events.k8s.io/events".into(), verb: "list", namespace: Some("shop".into()) },
            Denied { resource: "pods/log".into(), verb: "get", namespace: Some("shop".into()) },
        ];
        let w = rbac_warning(&denied).unwrap();
        assert!(!w.contains('\n'));
        assert!(
            w.starts_with(
                "cannot get pods/log in namespace shop; cannot list nodes cluster-wide; \
                 cannot list events.k8s.io/events, secrets in namespace shop: grant"
            ),
            "{w}"
        );
        let many: Vec<Denied> = ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .map(|ns| Denied { resource: "secrets".into(), verb: "list", namespace: Some(ns.to_string()) })
            .chain([Denied { resource: "secrets".into(), verb: "list", namespace: None }])
            .collect();
        let w = rbac_warning(&many).unwrap();
        assert!(
            w.starts_with("cannot list secrets cluster-wide or in namespaces a, b, c, d, e and 2 more: grant"),
            "{w}"
        );
        assert_eq!(rbac_warning(&[]), None);
    }

    #[test]
    fn discovery_picks_the_served_version_of_optional_groups() {
        let mut groups = HashMap::new();
        groups.insert("networking.istio.io".to_string(), (vec!["v1beta1".to_string()], Some("v1beta1".to_string())));
        groups.insert("apps".to_string(), (vec!["v1".to_string()], None));
        let served = Served { groups };
        let se = crate::kinds::by_kind("ServiceEntry").unwrap();
        assert!(matches!(served.resolve(se), Resolved::Served(v) if v == "v1beta1"));
        assert!(matches!(served.resolve(crate::kinds::by_kind("Certificate").unwrap()), Resolved::Absent));
        assert!(matches!(served.resolve(crate::kinds::by_kind("Deployment").unwrap()), Resolved::Served(_)));
        assert!(matches!(served.resolve(crate::kinds::by_kind("Pod").unwrap()), Resolved::Served(_)));
    }
}
