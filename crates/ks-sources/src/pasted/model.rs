//! What the parsers collect from one paste (pod drafts, events, logs, other objects) and how it
//! is folded into the evidence: relative times resolved, unattributed events and logs attached
//! to a pod, synthetic pods completed, and pods merged by name with what earlier inputs gave.

use std::collections::{HashMap, VecDeque};

use jiff::Timestamp;
use ks_core::k8s_openapi::api::core::v1::Pod;
use ks_core::{EventRecord, Evidence, Gap, LogExcerpt, LogKey};
use serde_json::{Map, Value, json};

use super::time::When;
use super::{PasteOptions, REFERENCE_NOW, SYNTHETIC_ANNOTATION, SYNTHETIC_POD, TABLE_ANNOTATION};

/// How much a draft knows about its pod. A richer draft replaces a poorer one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// Only named by messages, commands or fragments; its state is inferred.
    Hint,
    /// A `kubectl get pods` row.
    Table,
    /// `describe` output or a YAML/JSON object.
    Rich,
}

#[derive(Clone, Debug)]
pub struct PodDraft {
    pub name: String,
    pub namespace: Option<String>,
    /// The pod as JSON (metadata name/namespace are set when it is finished).
    pub value: Value,
    pub rank: Rank,
    /// JSON pointers to fill with a relative time once "now" is known.
    pub rel: Vec<(String, i64)>,
    /// Built from a fragment with no pod name.
    pub synthetic: bool,
}

/// The object an event is about, when the paste says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Involved {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct EventDraft {
    pub involved: Option<Involved>,
    pub field_path: Option<String>,
    pub type_: String,
    pub reason: String,
    pub message: String,
    pub component: String,
    pub count: u32,
    pub first: When,
    pub last: When,
}

/// Which container a log belongs to; unknown parts are settled when the paste is finished.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LogTarget {
    pub pod: Option<String>,
    pub namespace: Option<String>,
    pub container: Option<String>,
    pub previous: bool,
}

#[derive(Debug)]
pub struct LogDraft {
    pub target: LogTarget,
    pub lines: VecDeque<String>,
    pub truncated: bool,
}

/// Everything read from one paste.
pub struct Builder<'o> {
    pub name: String,
    pub opts: &'o PasteOptions,
    pub pods: Vec<PodDraft>,
    pod_by_name: HashMap<String, Vec<usize>>,
    pub events: Vec<EventDraft>,
    logs: Vec<LogDraft>,
    log_index: HashMap<LogTarget, usize>,
    /// Typed objects other than pods (nodes, workloads, services, custom resources) and
    /// events read from YAML/JSON.
    pub objects: Evidence,
    pub newest: Option<Timestamp>,
    pub gaps: Vec<Gap>,
    /// The namespace an e2e dump announced (`Collecting events from namespace "x"`).
    pub harness_ns: Option<String>,
}

impl<'o> Builder<'o> {
    pub fn new(name: &str, opts: &'o PasteOptions) -> Self {
        Builder {
            name: name.to_string(),
            opts,
            pods: Vec::new(),
            pod_by_name: HashMap::new(),
            events: Vec::new(),
            logs: Vec::new(),
            log_index: HashMap::new(),
            objects: Evidence::default(),
            newest: None,
            gaps: Vec::new(),
            harness_ns: None,
        }
    }

    pub fn gap(&mut self, line: Option<u32>, message: impl Into<String>) {
        // One gap per problem kind is enough; a 50 MB paste of junk must not make millions.
        if self.gaps.len() < 100 {
            self.gaps.push(Gap { file: Some(self.name.clone()), line, message: message.into() });
        }
    }

    /// Record an absolute time seen in the paste (the newest is the paste's "now").
    pub fn saw_time(&mut self, t: Timestamp) {
        if self.newest.is_none_or(|n| t > n) {
            self.newest = Some(t);
        }
    }

    pub fn saw(&mut self, w: When) {
        if let When::At(t) = w {
            self.saw_time(t);
        }
    }

    /// Whether anything at all was read.
    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
            && self.events.is_empty()
            && self.logs.is_empty()
            && self.objects.object_count() == 0
            && self.objects.events.is_empty()
    }

    fn find_pod(&self, name: &str, ns: Option<&str>) -> Option<usize> {
        let list = self.pod_by_name.get(name)?;
        list.iter().copied().find(|&i| match (self.pods[i].namespace.as_deref(), ns) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        })
    }

    /// Add what a parser learnt about a pod; drafts of one pod merge.
    pub fn add_pod(&mut self, draft: PodDraft) {
        match self.find_pod(&draft.name, draft.namespace.as_deref()) {
            Some(i) => merge_draft(&mut self.pods[i], draft),
            None => {
                self.pod_by_name.entry(draft.name.clone()).or_default().push(self.pods.len());
                self.pods.push(draft);
            }
        }
    }

    pub fn add_event(&mut self, e: EventDraft) {
        self.saw(e.last);
        self.saw(e.first);
        self.events.push(e);
    }

    /// Append one log line (only the last [`LogExcerpt::MAX_LINES`] are kept per target).
    pub fn add_log_line(&mut self, target: &LogTarget, line: &str) {
        let idx = match self.log_index.get(target) {
            Some(&i) => i,
            None => {
                self.log_index.insert(target.clone(), self.logs.len());
                self.logs.push(LogDraft { target: target.clone(), lines: VecDeque::new(), truncated: false });
                self.logs.len() - 1
            }
        };
        let d = &mut self.logs[idx];
        if d.lines.len() == LogExcerpt::MAX_LINES {
            d.lines.pop_front();
            d.truncated = true;
        }
        d.lines.push_back(truncate(line, LogExcerpt::MAX_LINE_BYTES).to_string());
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

fn merge_draft(old: &mut PodDraft, new: PodDraft) {
    if old.namespace.is_none() {
        old.namespace = new.namespace.clone();
    }
    if new.rank > old.rank {
        // The richer source wins; the poorer one only fills where it knew more.
        let mut value = new.value;
        fill_missing(&mut value, &old.value, &["/spec/nodeName", "/metadata/creationTimestamp"]);
        old.value = value;
        old.rank = new.rank;
        old.rel = new.rel;
        old.synthetic = new.synthetic && old.synthetic;
    } else if new.rank == old.rank {
        merge_json(&mut old.value, new.value);
        old.rel.extend(new.rel);
        old.synthetic &= new.synthetic;
    } else {
        fill_missing(&mut old.value, &new.value, &["/spec/nodeName"]);
    }
}

fn fill_missing(into: &mut Value, from: &Value, pointers: &[&str]) {
    for p in pointers {
        if into.pointer(p).is_none()
            && let Some(v) = from.pointer(p)
        {
            set_pointer(into, p, v.clone());
        }
    }
}

/// Set `pointer` (object keys only, or array indexes that exist) in `v`, creating objects.
pub fn set_pointer(v: &mut Value, pointer: &str, new: Value) {
    let mut cur = v;
    let parts: Vec<String> = pointer.split('/').skip(1).map(|p| p.replace("~1", "/").replace("~0", "~")).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if let Ok(idx) = part.parse::<usize>()
            && let Value::Array(a) = cur
        {
            let Some(next) = a.get_mut(idx) else { return };
            if last {
                *next = new;
                return;
            }
            cur = next;
            continue;
        }
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        if last {
            m.insert(part.clone(), new);
            return;
        }
        cur = m.entry(part.clone()).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Deep merge: objects key by key, lists of named objects (`name`, or `type` for conditions)
/// item by item, anything else replaced.
pub fn merge_json(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(bv) => merge_json(bv, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(o)) => {
            let key = ["name", "type"].into_iter().find(|k| {
                !b.is_empty()
                    && !o.is_empty()
                    && b.iter().chain(o.iter()).all(|x| x.get(*k).is_some_and(Value::is_string))
            });
            match key {
                Some(k) => {
                    for item in o {
                        let id = item.get(k).cloned();
                        match b.iter_mut().find(|x| x.get(k) == id.as_ref()) {
                            Some(x) => merge_json(x, item),
                            None => b.push(item),
                        }
                    }
                }
                None if !o.is_empty() => *b = o,
                None => {}
            }
        }
        (_, Value::Null) => {}
        (b, o) => *b = o,
    }
}

/// An object from owned values (`json!` would serialise them again).
pub fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A container status object with k8s' required fields present.
pub fn container_status(name: &str) -> Value {
    json!({"name": name, "image": "", "imageID": "", "ready": false, "restartCount": 0})
}

/// The first container of a pod that is failing, for logs that name none.
fn failing_container(pod: &Value) -> Option<String> {
    let lists = ["/status/initContainerStatuses", "/status/containerStatuses"];
    for l in lists {
        for cs in pod.pointer(l).and_then(Value::as_array).into_iter().flatten() {
            let waiting = cs.pointer("/state/waiting/reason").and_then(Value::as_str).unwrap_or_default();
            let bad_exit = |p: &str| cs.pointer(p).and_then(Value::as_i64).is_some_and(|c| c != 0);
            let restarts = cs.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            let failing = (!waiting.is_empty() && waiting != "PodInitializing" && waiting != "ContainerCreating")
                || bad_exit("/state/terminated/exitCode")
                || bad_exit("/lastState/terminated/exitCode")
                || restarts > 0;
            if failing {
                return cs.get("name").and_then(Value::as_str).map(str::to_string);
            }
        }
    }
    let first = |p: &str| {
        pod.pointer(p)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    first("/status/containerStatuses").or_else(|| first("/spec/containers"))
}

fn is_synthetic_pod(p: &Pod) -> bool {
    p.metadata.annotations.as_ref().is_some_and(|a| a.get(SYNTHETIC_ANNOTATION).is_some_and(|v| v == "true"))
        && p.metadata.name.as_deref() == Some(SYNTHETIC_POD)
}

fn pod_rank(p: &Pod) -> Rank {
    let ann = p.metadata.annotations.as_ref();
    if ann.is_some_and(|a| a.contains_key(SYNTHETIC_ANNOTATION)) {
        Rank::Hint
    } else if ann.is_some_and(|a| a.contains_key(TABLE_ANNOTATION)) {
        Rank::Table
    } else {
        Rank::Rich
    }
}

const SCHEDULED_PREFIX: &str = "Successfully assigned ";

/// `Successfully assigned ns/name to node` names the pod and its node.
fn scheduled_target(message: &str) -> Option<(String, String, String)> {
    let rest = message.strip_prefix(SCHEDULED_PREFIX)?;
    let (obj, node) = rest.split_once(" to ")?;
    let (ns, name) = obj.split_once('/')?;
    if ns.is_empty() || name.is_empty() || name.contains(' ') {
        return None;
    }
    Some((ns.to_string(), name.to_string(), node.trim().to_string()))
}

impl Builder<'_> {
    /// Fold everything into `ev`.
    pub fn finish(mut self, ev: &mut Evidence) {
        let now = self.opts.now.or(self.newest).unwrap_or(REFERENCE_NOW);

        // 1. Where unattributed events and logs go: the pod a Scheduled message names, else
        //    the only pod known, else the synthetic pod.
        let unowned_events = self.events.iter().any(|e| e.involved.is_none());
        let unowned_logs = self.logs.iter().any(|l| l.target.pod.is_none());
        let fragment = self.pods.iter().any(|p| p.synthetic);
        let mut default_pod: Option<(String, Option<String>)> = None;
        if unowned_events || unowned_logs || fragment {
            let named = self.events.iter().filter(|e| e.involved.is_none()).find_map(|e| scheduled_target(&e.message));
            if let Some((ns, name, _)) = named {
                default_pod = Some((name, Some(ns)));
            } else {
                // The only pod: stop looking at the second distinct name.
                let drafts =
                    self.pods.iter().filter(|p| !p.synthetic).map(|p| (p.name.as_str(), p.namespace.as_deref()));
                let earlier = ev
                    .pods
                    .iter()
                    .filter(|p| !is_synthetic_pod(p))
                    .map(|p| (p.metadata.name.as_deref().unwrap_or_default(), p.metadata.namespace.as_deref()));
                let mut only: Option<(&str, Option<&str>)> = None;
                let mut several = false;
                for (n, ns) in drafts.chain(earlier) {
                    match only {
                        None => only = Some((n, ns)),
                        Some((o, _)) if o == n => {}
                        Some(_) => {
                            several = true;
                            break;
                        }
                    }
                }
                if !several {
                    default_pod = only.map(|(n, ns)| (n.to_string(), ns.map(str::to_string)));
                }
            }
        }
        let (target_name, target_ns) =
            default_pod.clone().unwrap_or_else(|| (SYNTHETIC_POD.to_string(), Some("default".to_string())));
        // Fragments (a container block with no pod name) belong to the target too.
        if default_pod.is_some() {
            let synth: Vec<usize> = (0..self.pods.len()).filter(|&i| self.pods[i].synthetic).collect();
            for i in synth.into_iter().rev() {
                let mut d = self.pods.remove(i);
                d.name = target_name.clone();
                d.namespace = d.namespace.or(target_ns.clone());
                d.synthetic = false;
                self.rebuild_index();
                self.add_pod(d);
            }
        }
        let pod_events =
            self.events.iter().any(|e| e.involved.is_none() && !(e.reason == "FailedCreate" && default_pod.is_none()));
        if pod_events || unowned_logs {
            let needs_hint = self.find_pod(&target_name, target_ns.as_deref()).is_none()
                && !ev
                    .pods
                    .iter()
                    .any(|p| p.metadata.name.as_deref() == Some(target_name.as_str()) && !is_synthetic_pod(p));
            if needs_hint {
                self.add_pod(PodDraft {
                    name: target_name.clone(),
                    namespace: target_ns.clone(),
                    value: json!({}),
                    rank: Rank::Hint,
                    rel: Vec::new(),
                    synthetic: target_name == SYNTHETIC_POD,
                });
            }
        }
        let known: HashMap<String, usize> =
            ev.pods.iter().enumerate().filter_map(|(i, p)| p.metadata.name.clone().map(|n| (n, i))).collect();
        // A `kubectl logs POD` names a pod the paste may not otherwise show.
        let named_logs: Vec<(String, Option<String>)> =
            self.logs.iter().filter_map(|l| l.target.pod.clone().map(|p| (p, l.target.namespace.clone()))).collect();
        for (pod, ns) in named_logs {
            if self.find_pod(&pod, ns.as_deref()).is_none() && !known.contains_key(&pod) {
                self.add_pod(PodDraft {
                    name: pod,
                    namespace: ns,
                    value: json!({}),
                    rank: Rank::Hint,
                    rel: Vec::new(),
                    synthetic: false,
                });
            }
        }
        for e in &mut self.events {
            if e.involved.is_none() {
                let kind =
                    if e.reason == "FailedCreate" && target_name == SYNTHETIC_POD { "ReplicaSet" } else { "Pod" };
                e.involved =
                    Some(Involved { kind: kind.to_string(), name: target_name.clone(), namespace: target_ns.clone() });
            }
        }

        // 2. Namespaces: a pod's namespace is what any source said (its events and logs
        //    included), else `default`; events and logs take the namespace of the pod they name.
        let mut ns_of: HashMap<String, String> = HashMap::new();
        for p in &ev.pods {
            if let (Some(n), Some(ns)) = (&p.metadata.name, &p.metadata.namespace) {
                ns_of.entry(n.clone()).or_insert_with(|| ns.clone());
            }
        }
        for e in &self.events {
            if let Some(Involved { kind, name, namespace: Some(ns) }) = &e.involved
                && kind == "Pod"
            {
                ns_of.entry(name.clone()).or_insert_with(|| ns.clone());
            }
        }
        for l in &self.logs {
            if let (Some(p), Some(ns)) = (&l.target.pod, &l.target.namespace) {
                ns_of.entry(p.clone()).or_insert_with(|| ns.clone());
            }
        }
        for p in &mut self.pods {
            if p.namespace.is_none() {
                p.namespace = ns_of.get(&p.name).cloned();
            }
            let ns = p.namespace.get_or_insert_with(|| "default".to_string()).clone();
            ns_of.insert(p.name.clone(), ns);
        }
        let resolve_ns = |kind: &str, name: &str, ns: Option<String>| -> Option<String> {
            ns.or_else(|| (kind == "Pod").then(|| ns_of.get(name).cloned()).flatten()).or_else(|| {
                (!matches!(kind, "Node" | "PersistentVolume" | "StorageClass" | "Namespace" | "ClusterIssuer"))
                    .then(|| "default".to_string())
            })
        };

        // 3. Pods whose state nobody stated: infer it from their events (and logs).
        let mut events_of: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in self.events.iter().enumerate() {
            if let Some(inv) = &e.involved
                && inv.kind == "Pod"
            {
                events_of.entry(inv.name.clone()).or_default().push(i);
            }
        }
        let mut logged: HashMap<String, Option<String>> = HashMap::new();
        for l in &self.logs {
            let pod = l.target.pod.clone().unwrap_or_else(|| target_name.clone());
            let c = logged.entry(pod).or_insert(None);
            if c.is_none() {
                *c = l.target.container.clone();
            }
        }
        for p in &mut self.pods {
            if p.rank != Rank::Hint
                || p.value.pointer("/status/containerStatuses").is_some()
                || p.value.pointer("/status/phase").is_some()
            {
                continue;
            }
            let evs: Vec<&EventDraft> =
                events_of.get(&p.name).into_iter().flatten().map(|&i| &self.events[i]).collect();
            let logs_of = logged.get(&p.name);
            infer_state(&mut p.value, &evs, logs_of.is_some(), logs_of.cloned().flatten(), now);
        }

        // 4. Logs: the named container, else the pod's first failing one.
        let mut logs = std::mem::take(&mut self.logs);
        let mut log_out: Vec<(LogKey, LogDraft)> = Vec::new();
        for l in logs.drain(..) {
            let pod = l.target.pod.clone().unwrap_or_else(|| target_name.clone());
            let ns = l
                .target
                .namespace
                .clone()
                .or_else(|| ns_of.get(&pod).cloned())
                .unwrap_or_else(|| "default".to_string());
            let container = l.target.container.clone().or_else(|| {
                let draft = self.find_pod(&pod, Some(&ns)).map(|i| &self.pods[i].value);
                let existing = known.get(&pod).map(|&i| &ev.pods[i]);
                draft.and_then(failing_container).or_else(|| {
                    existing.and_then(|p| serde_json::to_value(p).ok()).as_ref().and_then(failing_container)
                })
            });
            let key = LogKey {
                namespace: ns,
                pod,
                container: container.unwrap_or_else(|| "app".to_string()),
                previous: l.target.previous,
            };
            log_out.push((key, l));
        }

        // 5. Pods: resolve times, complete, type, and merge with earlier inputs.
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        for (i, p) in ev.pods.iter().enumerate() {
            index.insert(
                (p.metadata.namespace.clone().unwrap_or_default(), p.metadata.name.clone().unwrap_or_default()),
                i,
            );
        }
        let name = self.name.clone();
        for mut d in std::mem::take(&mut self.pods) {
            for (ptr, ago) in &d.rel {
                if let Some(t) = When::Ago(*ago).resolve(now) {
                    set_pointer(&mut d.value, ptr, json!(t.to_string()));
                }
            }
            let ns = d.namespace.clone().unwrap_or_else(|| "default".to_string());
            finish_pod(&mut d, &ns);
            let key = (ns.clone(), d.name.clone());
            match index.get(&key) {
                Some(&i) => {
                    let old_rank = pod_rank(&ev.pods[i]);
                    let Ok(old) = serde_json::to_value(&ev.pods[i]) else { continue };
                    let mut od = PodDraft {
                        name: d.name.clone(),
                        namespace: Some(ns),
                        value: old,
                        rank: old_rank,
                        rel: Vec::new(),
                        synthetic: false,
                    };
                    let rank = d.rank;
                    merge_draft(&mut od, d);
                    if od.rank == Rank::Rich || rank == Rank::Rich {
                        strip_rank_annotations(&mut od.value);
                    }
                    match serde_json::from_value::<Pod>(od.value) {
                        Ok(p) => *ev.pods[i] = p,
                        Err(e) => self.gaps.push(Gap {
                            file: Some(name.clone()),
                            line: None,
                            message: format!("pod {}: {e}", key.1),
                        }),
                    }
                }
                None => match serde_json::from_value::<Pod>(d.value) {
                    Ok(p) => {
                        index.insert(key, ev.pods.len());
                        ev.pods.push(Box::new(p));
                    }
                    Err(e) => self.gaps.push(Gap {
                        file: Some(name.clone()),
                        line: None,
                        message: format!("pod {}: {e}", d.name),
                    }),
                },
            }
        }

        // 6. A synthetic pod from an earlier input folds into the only real pod.
        fold_synthetic(ev);

        // 7. Events.
        for e in std::mem::take(&mut self.events) {
            let inv = e.involved.unwrap_or_else(|| Involved {
                kind: "Pod".into(),
                name: target_name.clone(),
                namespace: None,
            });
            let ns = resolve_ns(&inv.kind, &inv.name, inv.namespace.clone());
            ev.events.push(EventRecord {
                namespace: ns.clone(),
                involved: ks_core::evidence::InvolvedObject {
                    kind: inv.kind,
                    namespace: ns,
                    name: inv.name,
                    uid: None,
                    field_path: e.field_path,
                },
                reason: e.reason,
                message: e.message,
                type_: if e.type_.is_empty() { "Normal".to_string() } else { e.type_ },
                count: e.count.max(1),
                first: e.first.resolve(now).or_else(|| e.last.resolve(now)),
                last: e.last.resolve(now).or_else(|| e.first.resolve(now)),
                component: e.component,
            });
        }

        // 8. Logs.
        for (key, l) in log_out {
            let source = format!("{} (pasted)", self.name);
            match ev.logs.get_mut(&key) {
                Some(old) => {
                    old.lines.extend(l.lines);
                    let extra = old.lines.len().saturating_sub(LogExcerpt::MAX_LINES);
                    if extra > 0 {
                        old.lines.drain(..extra);
                        old.truncated = true;
                    }
                }
                None => {
                    ev.logs.insert(key, LogExcerpt { lines: l.lines.into(), source, truncated: l.truncated });
                }
            }
        }

        // 9. Everything else.
        let objects = std::mem::take(&mut self.objects);
        ev.merge(objects);
        ev.gaps.extend(self.gaps);
    }

    fn rebuild_index(&mut self) {
        self.pod_by_name.clear();
        for (i, p) in self.pods.iter().enumerate() {
            self.pod_by_name.entry(p.name.clone()).or_default().push(i);
        }
    }
}

fn strip_rank_annotations(v: &mut Value) {
    if let Some(Value::Object(a)) = v.pointer_mut("/metadata/annotations") {
        a.remove(TABLE_ANNOTATION);
        a.remove(SYNTHETIC_ANNOTATION);
    }
}

/// Set identity, annotations and the fields k8s requires, and mirror a current termination
/// into `lastState` (see the module docs).
fn finish_pod(d: &mut PodDraft, ns: &str) {
    if !d.value.is_object() {
        d.value = json!({});
    }
    set_pointer(&mut d.value, "/metadata/name", json!(d.name));
    set_pointer(&mut d.value, "/metadata/namespace", json!(ns));
    set_pointer(&mut d.value, "/apiVersion", json!("v1"));
    set_pointer(&mut d.value, "/kind", json!("Pod"));
    let rank = if d.synthetic { Rank::Hint } else { d.rank };
    match rank {
        Rank::Hint => set_pointer(
            &mut d.value,
            &format!("/metadata/annotations/{}", SYNTHETIC_ANNOTATION.replace('/', "~1")),
            json!("true"),
        ),
        Rank::Table => set_pointer(
            &mut d.value,
            &format!("/metadata/annotations/{}", TABLE_ANNOTATION.replace('/', "~1")),
            json!("true"),
        ),
        Rank::Rich => {}
    }
    infer_replicaset_owner(&mut d.value, &d.name);
    if d.value.pointer("/spec").is_some() && d.value.pointer("/spec/containers").is_none() {
        set_pointer(&mut d.value, "/spec/containers", json!([]));
    }
    for list in ["/status/containerStatuses", "/status/initContainerStatuses"] {
        let Some(Value::Array(items)) = d.value.pointer_mut(list) else { continue };
        for cs in items.iter_mut() {
            let restarts = cs.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            let ready = cs.get("ready").and_then(Value::as_bool).unwrap_or(false);
            let term = cs.pointer("/state/terminated").cloned();
            if let Some(t) = term
                && restarts > 0
                && !ready
                && cs.pointer("/lastState/terminated").is_none()
            {
                set_pointer(cs, "/lastState/terminated", t);
            }
        }
    }
}

/// A pod pasted without its owner (a `kubectl get pods` row, a `--prefix` log line) whose name
/// has the shape `<deployment>-<pod-template-hash>-<suffix>`, both random parts in the
/// alphabet Kubernetes uses for them, belongs to a ReplicaSet of Deployment `<deployment>`:
/// recording that lets findings name the Deployment, as they do for a snapshot.
fn infer_replicaset_owner(pod: &mut Value, name: &str) {
    static SHAPE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-([bcdfghjklmnpqrstvwxz2456789]{6,10})-[bcdfghjklmnpqrstvwxz2456789]{5}$").ok()
    });
    if pod.pointer("/metadata/ownerReferences").is_some() {
        return;
    }
    let Some(caps) = SHAPE.as_ref().and_then(|re| re.captures(name)) else { return };
    let (deploy, hash) = (&caps[1], &caps[2]);
    set_pointer(pod, "/metadata/labels/pod-template-hash", json!(hash));
    set_pointer(
        pod,
        "/metadata/ownerReferences",
        json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{deploy}-{hash}"), "uid": "", "controller": true}]),
    );
}

/// An earlier input's synthetic pod, once a later one named the only real pod, hands its
/// events and logs over and disappears.
fn fold_synthetic(ev: &mut Evidence) {
    let Some(si) = ev.pods.iter().position(|p| is_synthetic_pod(p)) else { return };
    let real: Vec<usize> = (0..ev.pods.len()).filter(|&i| i != si && !is_synthetic_pod(&ev.pods[i])).collect();
    if real.len() != 1 {
        return;
    }
    let target = &ev.pods[real[0]];
    let (name, ns) =
        (target.metadata.name.clone().unwrap_or_default(), target.metadata.namespace.clone().unwrap_or_default());
    let container =
        serde_json::to_value(target).ok().as_ref().and_then(failing_container).unwrap_or_else(|| "app".to_string());
    let synth_ns = ev.pods[si].metadata.namespace.clone().unwrap_or_default();
    for e in &mut ev.events {
        if e.involved.kind == "Pod"
            && e.involved.name == SYNTHETIC_POD
            && e.involved.namespace.as_deref() == Some(synth_ns.as_str())
        {
            e.involved.name = name.clone();
            e.involved.namespace = Some(ns.clone());
            e.namespace = Some(ns.clone());
        }
    }
    let keys: Vec<LogKey> =
        ev.logs.keys().filter(|k| k.pod == SYNTHETIC_POD && k.namespace == synth_ns).cloned().collect();
    for k in keys {
        if let Some(l) = ev.logs.remove(&k) {
            let nk =
                LogKey { namespace: ns.clone(), pod: name.clone(), container: container.clone(), previous: k.previous };
            ev.logs.entry(nk).or_insert(l);
        }
    }
    ev.pods.remove(si);
}

/// Reconstruct the state of a pod known only from its events: the kubelet emits these events
/// exactly when it sets the matching container state, so the state is restated, not guessed.
fn infer_state(pod: &mut Value, events: &[&EventDraft], has_logs: bool, log_container: Option<String>, now: Timestamp) {
    let mut container: Option<String> = log_container;
    let mut image: Option<String> = None;
    let mut node: Option<String> = None;
    let mut scheduled_at: Option<Timestamp> = None;
    let mut unsched: Option<(&str, Option<Timestamp>)> = None;
    let mut evicted: Option<&str> = None;
    let mut pull: Option<(&str, String)> = None;
    let mut pull_backoff: Option<String> = None;
    let mut config: Option<(&'static str, String)> = None;
    let mut crash: Option<(&str, u32)> = None;
    let mut infra = false;
    let mut kills: Option<(u32, Option<Timestamp>)> = None;
    let mut unhealthy = false;
    let mut started = false;

    for e in events {
        let msg = e.message.as_str();
        if container.is_none() {
            container = container_in(msg);
        }
        if image.is_none() {
            image = image_in(msg);
        }
        match e.reason.as_str() {
            "Scheduled" => {
                if let Some((_, _, n)) = scheduled_target(msg) {
                    node = Some(n);
                }
                scheduled_at = e.last.resolve(now);
            }
            "FailedScheduling" => unsched = Some((msg, e.last.resolve(now))),
            "Evicted" => evicted = Some(msg),
            "BackOff" if msg.starts_with("Back-off pulling image") => pull_backoff = Some(msg.to_string()),
            "BackOff" if msg.contains("restarting failed container") => {
                crash = Some((msg, crash.map_or(e.count, |(_, c)| c.max(e.count))));
            }
            "ErrImageNeverPull" => pull = Some(("ErrImageNeverPull", msg.to_string())),
            "InspectFailed" if msg.starts_with("Failed to apply default image tag") => {
                pull = Some(("InvalidImageName", msg.to_string()))
            }
            "InspectFailed" => pull = Some(("ImageInspectError", msg.to_string())),
            "Failed" | "FailedSync" => {
                if let Some(rest) = msg.strip_prefix("Error: ") {
                    match rest.trim() {
                        "ErrImagePull" => {
                            if pull.is_none() {
                                pull = Some(("ErrImagePull", String::new()));
                            }
                        }
                        "ImagePullBackOff" => pull_backoff = pull_backoff.or(Some(String::new())),
                        "InvalidImageName" | "ErrImageNeverPull" | "RegistryUnavailable" | "ImageInspectError" => {
                            let r = match rest.trim() {
                                "InvalidImageName" => "InvalidImageName",
                                "ErrImageNeverPull" => "ErrImageNeverPull",
                                "RegistryUnavailable" => "RegistryUnavailable",
                                _ => "ImageInspectError",
                            };
                            pull = Some((r, String::new()));
                        }
                        other => config = Some((config_reason(other), other.to_string())),
                    }
                } else if msg.starts_with("Failed to pull image") || msg.contains("Pull image \"") {
                    pull = Some(("ErrImagePull", msg.to_string()));
                } else if msg.contains("with ErrImagePull") {
                    // The kubelet's sync error repeats the pull event; that one says it better.
                    if pull.as_ref().is_none_or(|(_, m)| m.is_empty()) {
                        pull = Some(("ErrImagePull", msg.to_string()));
                    }
                } else if msg.contains("with CrashLoopBackOff") {
                    crash = Some((msg, crash.map_or(e.count, |(_, c)| c.max(e.count))));
                } else if msg.contains("with ImagePullBackOff") {
                    pull_backoff = Some(msg.to_string());
                }
            }
            "FailedMount"
            | "FailedAttachVolume"
            | "FailedCreatePodSandBox"
            | "FailedCreatePodContainer"
            | "NetworkNotReady" => infra = true,
            "Killing" if msg.contains("failed liveness probe") || msg.contains("failed startup probe") => {
                let (n, _) = kills.unwrap_or((0, None));
                kills = Some((n.max(e.count), e.last.resolve(now)));
            }
            "Unhealthy" => unhealthy = true,
            "Started" => started = true,
            _ => {}
        }
    }

    let name = container.unwrap_or_else(|| "app".to_string());
    let mut cs = container_status(&name);
    if let Some(i) = &image {
        cs["image"] = json!(i);
    }
    let mut status = Map::new();
    let mut spec = json!({"containers": [{"name": name, "image": image.clone().unwrap_or_default()}]});
    let rescheduled = matches!((scheduled_at, unsched), (Some(s), Some((_, Some(f)))) if s >= f);
    let waiting = |reason: &str, message: &str| {
        let mut w = json!({"reason": reason});
        if !message.is_empty() {
            w["message"] = json!(message);
        }
        json!({"waiting": w})
    };
    if let Some(m) = evicted {
        status.insert("phase".into(), json!("Failed"));
        status.insert("reason".into(), json!("Evicted"));
        status.insert("message".into(), json!(m));
    } else if let (Some((m, _)), false) = (unsched, rescheduled) {
        status.insert("phase".into(), json!("Pending"));
        status.insert(
            "conditions".into(),
            json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": m}]),
        );
        node = None;
    } else if pull.is_some() || pull_backoff.is_some() {
        status.insert("phase".into(), json!("Pending"));
        let (reason, message) = match (&pull, &pull_backoff) {
            (Some((r, m)), _) if *r != "ErrImagePull" => (*r, m.clone()),
            (_, Some(b)) => ("ImagePullBackOff", b.clone()),
            (Some((r, m)), None) => (*r, m.clone()),
            (None, None) => ("ErrImagePull", String::new()),
        };
        cs["state"] = waiting(reason, &message);
    } else if let Some((reason, message)) = &config {
        status.insert("phase".into(), json!("Pending"));
        cs["state"] = waiting(reason, message);
    } else if let Some((m, count)) = crash {
        status.insert("phase".into(), json!("Running"));
        cs["state"] = waiting("CrashLoopBackOff", m);
        cs["restartCount"] = json!(count.max(1));
        if let Some((_, at)) = kills {
            cs["lastState"] =
                json!({"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": at.map(|t| t.to_string())}});
        }
    } else if infra {
        status.insert("phase".into(), json!("Pending"));
        cs["state"] = waiting("ContainerCreating", "");
    } else if let Some((n, at)) = kills {
        status.insert("phase".into(), json!("Running"));
        cs["state"] = json!({"running": {}});
        cs["restartCount"] = json!(n);
        cs["lastState"] =
            json!({"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": at.map(|t| t.to_string())}});
    } else if unhealthy {
        status.insert("phase".into(), json!("Running"));
        cs["state"] = json!({"running": {}});
    } else if started {
        status.insert("phase".into(), json!("Running"));
        cs["state"] = json!({"running": {}});
        cs["ready"] = json!(true);
    } else if has_logs {
        // The log is all there is: present it as the crash loop it most likely is, so the
        // crash classifier reads it.
        status.insert("phase".into(), json!("Running"));
        cs["state"] = waiting("CrashLoopBackOff", "");
        cs["restartCount"] = json!(1);
    } else {
        status.insert("phase".into(), json!("Pending"));
        cs["state"] = waiting("ContainerCreating", "");
    }
    if status.get("phase") != Some(&json!("Failed")) || evicted.is_none() {
        status.insert("containerStatuses".into(), Value::Array(vec![cs]));
    }
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    merge_json(pod, obj([("spec", spec), ("status", Value::Object(status))]));
}

/// The kubelet's waiting reason for an `Error: <msg>` event that is not about images.
fn config_reason(msg: &str) -> &'static str {
    let m = msg.to_ascii_lowercase();
    if m.starts_with("failed to start container")
        || m.starts_with("failed to create containerd task")
        || m.contains("oci runtime")
        || m.starts_with("error response from daemon")
        || m.contains("starting container process caused")
    {
        "RunContainerError"
    } else if m.starts_with("failed to create container")
        || m.starts_with("container create failed")
        || m.starts_with("failed to reserve container name")
        || m.starts_with("failed to generate container")
        || m.starts_with("context deadline exceeded")
    {
        "CreateContainerError"
    } else {
        "CreateContainerConfigError"
    }
}

/// A container named in a kubelet message.
fn container_in(msg: &str) -> Option<String> {
    let quoted = |after: &str| -> Option<String> {
        let p = msg.find(after)? + after.len();
        let rest = &msg[p..];
        let rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        Some(rest[..end].to_string())
    };
    if let Some(rest) = msg.strip_prefix("Container ")
        && let Some(end) = rest.find(' ')
        && (rest.contains(" failed liveness probe")
            || rest.contains(" failed startup probe")
            || rest.contains(" definition changed"))
    {
        return Some(rest[..end].to_string());
    }
    for prefix in ["Created container: ", "Created container ", "Started container ", "Stopping container "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            let name = rest.split_whitespace().next()?;
            return Some(name.to_string());
        }
    }
    if let Some(p) = msg.find(", container: ") {
        let rest = &msg[p + ", container: ".len()..];
        let end = rest.find(|c: char| c == ')' || c.is_whitespace()).unwrap_or(rest.len());
        if end > 0 {
            return Some(rest[..end].to_string());
        }
    }
    if let Some(p) = msg.find("restarting failed container=") {
        let rest = &msg[p + "restarting failed container=".len()..];
        let end = rest.find(' ').unwrap_or(rest.len());
        return Some(rest[..end].to_string());
    }
    if let Some(p) = msg.find("Back-off restarting failed container ") {
        let rest = &msg[p + "Back-off restarting failed container ".len()..];
        if let Some((name, _)) = rest.split_once(" in pod ") {
            return Some(name.to_string());
        }
    }
    quoted("failed to start container ")
        .or_else(|| quoted("failed to \"StartContainer\" for "))
        .or_else(|| quoted("container "))
}

/// The image a kubelet message names.
fn image_in(msg: &str) -> Option<String> {
    for prefix in [
        "Pulling image ",
        "Failed to pull image ",
        "Back-off pulling image ",
        "Container image ",
        "Successfully pulled image ",
        "Pull image ",
    ] {
        if let Some(p) = msg.find(prefix) {
            let rest = &msg[p + prefix.len()..];
            let rest = rest.strip_prefix('"')?;
            let end = rest.find('"')?;
            return Some(rest[..end].to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_named_lists() {
        let mut a = json!({"status": {"containerStatuses": [{"name": "a", "ready": false}]}});
        merge_json(&mut a, json!({"status": {"containerStatuses": [{"name": "a", "ready": true}, {"name": "b"}]}}));
        assert_eq!(a.pointer("/status/containerStatuses/0/ready"), Some(&json!(true)));
        assert_eq!(a.pointer("/status/containerStatuses/1/name"), Some(&json!("b")));
    }

    #[test]
    fn names_in_messages() {
        assert_eq!(container_in("Container web failed liveness probe, will be restarted").as_deref(), Some("web"));
        assert_eq!(
            container_in("Error: container has runAsNonRoot and image will run as root (pod: \"x_ns(uid)\", container: unleash-edge)").as_deref(),
            Some("unleash-edge")
        );
        assert_eq!(image_in("Pulling image \"nginx:1.25\"").as_deref(), Some("nginx:1.25"));
        assert_eq!(
            scheduled_target("Successfully assigned shop/web-1 to node-1"),
            Some(("shop".into(), "web-1".into(), "node-1".into()))
        );
        assert_eq!(config_reason("secret \"kiali\" not found"), "CreateContainerConfigError");
        assert_eq!(config_reason("failed to start container \"x\": Error response from daemon"), "RunContainerError");
    }
}
