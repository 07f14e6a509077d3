//! `kubectl describe` output. The block is read into an indentation tree (describe writes
//! `Key:\tvalue` at two spaces per level, aligned by a tabwriter), its kind recognised from
//! its keys (describe does not print it), and the tree turned into the object's JSON.

use serde_json::{Map, Value, json};

use super::events;
use super::model::{Builder, EventDraft, Involved, PodDraft, Rank, container_status, obj};
use super::text::{Line, indent, is_blank, is_fence, key_value, none_value, tokens};
use super::time::{self, parse_age};
use super::{Ctx, SYNTHETIC_POD, command_at};

#[derive(Debug)]
pub struct Node<'t> {
    pub line: &'t str,
    pub no: u32,
    pub indent: usize,
    pub key: Option<&'t str>,
    pub value: &'t str,
    pub children: Vec<usize>,
}

#[derive(Debug, Default)]
pub struct Tree<'t> {
    pub nodes: Vec<Node<'t>>,
    pub roots: Vec<usize>,
}

impl<'t> Tree<'t> {
    pub fn build(lines: &'t [Line<'_>]) -> Tree<'t> {
        let mut t = Tree::default();
        let mut stack: Vec<usize> = Vec::new();
        for l in lines {
            let s = l.as_str();
            if is_blank(s) {
                continue;
            }
            let ind = indent(s);
            let kv = key_value(s);
            let id = t.nodes.len();
            t.nodes.push(Node {
                line: s,
                no: l.no,
                indent: ind,
                key: kv.map(|k| k.key),
                value: kv.map(|k| k.value).unwrap_or_else(|| s.trim()),
                children: Vec::new(),
            });
            while stack.last().is_some_and(|&p| t.nodes[p].indent >= ind) {
                stack.pop();
            }
            match stack.last() {
                Some(&p) => t.nodes[p].children.push(id),
                None => t.roots.push(id),
            }
            stack.push(id);
        }
        t
    }

    fn find(&self, ids: &[usize], key: &str) -> Option<usize> {
        ids.iter().copied().find(|&i| self.nodes[i].key == Some(key))
    }

    fn val(&self, ids: &[usize], key: &str) -> Option<&'t str> {
        self.find(ids, key).map(|i| self.nodes[i].value).filter(|v| !none_value(v))
    }

    fn root(&self, key: &str) -> Option<usize> {
        self.find(&self.roots, key)
    }

    fn root_val(&self, key: &str) -> Option<&'t str> {
        self.val(&self.roots, key)
    }

    fn has_root(&self, key: &str) -> bool {
        self.root(key).is_some()
    }

    /// The node's value and every descendant line, trimmed (multi-line values).
    fn lines_of(&self, id: usize) -> Vec<&'t str> {
        let mut out = Vec::new();
        let v = self.nodes[id].value;
        if !v.is_empty() && !none_value(v) {
            out.push(v);
        }
        self.descend(id, &mut out);
        out
    }

    fn descend(&self, id: usize, out: &mut Vec<&'t str>) {
        for &c in &self.nodes[id].children {
            out.push(self.nodes[c].line.trim());
            self.descend(c, out);
        }
    }

    /// The raw lines under `id` (tables, whose cells sit at header offsets).
    fn raw_lines(&self, id: usize) -> Vec<&'t str> {
        let mut out = Vec::new();
        let mut stack: Vec<usize> = self.nodes[id].children.iter().rev().copied().collect();
        while let Some(c) = stack.pop() {
            out.push(self.nodes[c].line);
            stack.extend(self.nodes[c].children.iter().rev().copied());
        }
        out
    }
}

/// Root keys describe prints; used to tell a describe line from other `Key: value` text.
pub fn is_describe_key(k: &str) -> bool {
    matches!(
        k,
        "Name"
            | "Namespace"
            | "Labels"
            | "Annotations"
            | "Status"
            | "Events"
            | "Containers"
            | "Conditions"
            | "Volumes"
            | "Node"
            | "Priority"
            | "Selector"
            | "Replicas"
            | "Type"
    )
}

/// Where a describe block starting at `start` ends, and the line of its `Events:` label.
fn extent(lines: &[Line<'_>], start: usize, base: usize, fragment: bool) -> (usize, Option<usize>) {
    let n = lines.len();
    let mut j = start + 1;
    while j < n {
        let s = lines[j].as_str();
        if is_fence(s) {
            break;
        }
        if is_blank(s) {
            let mut k = j + 1;
            while k < n && is_blank(lines[k].as_str()) {
                k += 1;
            }
            let next = lines.get(k).map(|l| l.as_str()).unwrap_or_default();
            let goes_on = k < n
                && (indent(next) > base || key_value(next).is_some_and(|kv| kv.indent == base && kv.key == "Events"));
            if goes_on {
                j = k;
                continue;
            }
            break;
        }
        if command_at(s).is_some() {
            break;
        }
        let ind = indent(s);
        if ind < base {
            break;
        }
        if ind == base {
            match key_value(s) {
                Some(kv) if kv.key == "Name" && !fragment => break,
                Some(kv) if kv.key == "Events" => return (j, Some(j)),
                Some(kv) if kv.key.starts_with(|c: char| c.is_ascii_uppercase()) => {}
                Some(_) if fragment => {}
                _ => break,
            }
        }
        j += 1;
    }
    (j, None)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Pod,
    Node,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    Service,
    Endpoints,
    Ingress,
    Pvc,
    Pv,
    Generic,
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Pod => "Pod",
        Kind::Node => "Node",
        Kind::Deployment => "Deployment",
        Kind::ReplicaSet => "ReplicaSet",
        Kind::StatefulSet => "StatefulSet",
        Kind::DaemonSet => "DaemonSet",
        Kind::Job => "Job",
        Kind::CronJob => "CronJob",
        Kind::Service => "Service",
        Kind::Endpoints => "Endpoints",
        Kind::Ingress => "Ingress",
        Kind::Pvc => "PersistentVolumeClaim",
        Kind::Pv => "PersistentVolume",
        Kind::Generic => "",
    }
}

fn detect(t: &Tree<'_>, ctx_kind: Option<&str>) -> Option<Kind> {
    let has = |k: &str| t.has_root(k);
    if has("Kind") && has("API Version") {
        return Some(Kind::Generic);
    }
    let containers = has("Containers") || has("Init Containers");
    let k = if containers
        && ["Node", "IP", "QoS Class", "Start Time", "Priority", "Service Account", "IPs"].iter().any(|k| has(k))
    {
        Kind::Pod
    } else if has("Roles")
        || has("System Info")
        || has("Non-terminated Pods")
        || (has("Taints") && has("Unschedulable"))
    {
        Kind::Node
    } else if has("Desired Number of Nodes Scheduled") {
        Kind::DaemonSet
    } else if has("Schedule") && has("Concurrency Policy") {
        Kind::CronJob
    } else if has("Completions") || has("Pods Statuses") || has("Backoff Limit") {
        Kind::Job
    } else if has("StrategyType") || has("NewReplicaSet") || has("OldReplicaSets") || has("RollingUpdateStrategy") {
        Kind::Deployment
    } else if has("Update Strategy") || has("Volume Claims") {
        Kind::StatefulSet
    } else if t.root_val("Replicas").is_some_and(|v| v.contains("current /")) {
        Kind::ReplicaSet
    } else if has("TargetPort") || has("Session Affinity") || has("IP Families") {
        Kind::Service
    } else if has("Subsets") {
        Kind::Endpoints
    } else if has("Rules") && (has("Ingress Class") || has("Default backend")) {
        Kind::Ingress
    } else if has("Reclaim Policy") && has("Claim") {
        Kind::Pv
    } else if has("StorageClass") && (has("Access Modes") || has("VolumeMode") || has("Capacity")) {
        Kind::Pvc
    } else if containers {
        Kind::Pod
    } else {
        match ctx_kind? {
            "Pod" => Kind::Pod,
            "Node" => Kind::Node,
            "Deployment" => Kind::Deployment,
            "ReplicaSet" => Kind::ReplicaSet,
            "StatefulSet" => Kind::StatefulSet,
            "DaemonSet" => Kind::DaemonSet,
            "Job" => Kind::Job,
            "CronJob" => Kind::CronJob,
            "Service" => Kind::Service,
            "Endpoints" => Kind::Endpoints,
            "Ingress" => Kind::Ingress,
            "PersistentVolumeClaim" => Kind::Pvc,
            "PersistentVolume" => Kind::Pv,
            _ => return None,
        }
    };
    Some(k)
}

/// A describe block starting at its `Name:` line; `None` when the `Name:` line opens no
/// describe output (a log line that happens to read `Name: x`).
pub fn parse(lines: &[Line<'_>], start: usize, ctx: Ctx<'_>, b: &mut Builder<'_>) -> Option<usize> {
    let base = indent(lines[start].as_str());
    let (tree_end, events_at) = extent(lines, start, base, false);
    let t = Tree::build(&lines[start..tree_end]);
    let describing = ctx.cmd.filter(|c| c.kubectl && c.verb == "describe");
    let kind = detect(&t, describing.and_then(|c| c.kind));
    let describe_like =
        ["Namespace", "Labels", "Annotations", "Events", "CreationTimestamp"].iter().any(|k| t.has_root(k))
            || events_at.is_some();
    if kind.is_none() && !describe_like && describing.is_none() {
        return None;
    }
    let name = t.root_val("Name").unwrap_or_default().to_string();
    let ns = t.root_val("Namespace").map(str::to_string).or_else(|| ctx.namespace().map(str::to_string));
    let generic_kind = t.root_val("Kind").unwrap_or_default().to_string();
    let owner_kind = match kind {
        Some(Kind::Generic) => generic_kind.clone(),
        Some(k) => kind_name(k).to_string(),
        None => describing.and_then(|c| c.kind).unwrap_or("Pod").to_string(),
    };
    let owner = Involved { kind: owner_kind, name: name.clone(), namespace: ns.clone() };
    let before = b.events.len();
    let end = match events_at {
        Some(e) => {
            let label = key_value(lines[e].as_str());
            if label.is_some_and(|kv| !kv.value.is_empty()) {
                e + 1
            } else {
                events::parse_after_label(lines, e + 1, Some(owner), ctx, b)
            }
        }
        None => tree_end,
    };
    let Some(kind) = kind else { return Some(end) };
    let ev_reasons: Vec<(String, String)> =
        b.events[before..].iter().map(|e: &EventDraft| (e.reason.clone(), e.message.clone())).collect();
    match kind {
        Kind::Pod => {
            let (value, rel) = pod(&t, &t.roots, b);
            b.add_pod(PodDraft { name, namespace: ns, value, rank: Rank::Rich, rel, synthetic: false });
        }
        _ => {
            let (kind_s, api, value, extra) = match kind {
                Kind::Node => ("Node", "v1", node(&t, b), Vec::new()),
                Kind::Deployment => {
                    let (v, rs) = deployment(&t, b);
                    ("Deployment", "apps/v1", v, rs)
                }
                Kind::ReplicaSet => ("ReplicaSet", "apps/v1", replica_set(&t, b), Vec::new()),
                Kind::StatefulSet => ("StatefulSet", "apps/v1", stateful_set(&t, b), Vec::new()),
                Kind::DaemonSet => ("DaemonSet", "apps/v1", daemon_set(&t, b), Vec::new()),
                Kind::Job => ("Job", "batch/v1", job(&t, b, &ev_reasons), Vec::new()),
                Kind::CronJob => ("CronJob", "batch/v1", cron_job(&t, b), Vec::new()),
                Kind::Service => {
                    let (svc, ep) = service(&t, b);
                    ("Service", "v1", svc, ep.into_iter().map(|e| ("Endpoints", "v1", e)).collect())
                }
                Kind::Endpoints => ("Endpoints", "v1", endpoints(&t, b), Vec::new()),
                Kind::Ingress => ("Ingress", "networking.k8s.io/v1", ingress(&t, b), Vec::new()),
                Kind::Pvc => ("PersistentVolumeClaim", "v1", pvc(&t, b), Vec::new()),
                Kind::Pv => ("PersistentVolume", "v1", pv(&t, b), Vec::new()),
                Kind::Generic => {
                    let api = t.root_val("API Version").unwrap_or("v1").to_string();
                    let v = generic(&t, b, &generic_kind, &api);
                    add_object(b, &generic_kind, &api, v, t.nodes.first().map(|n| n.no));
                    return Some(end);
                }
                Kind::Pod => return Some(end),
            };
            let mut value = value;
            value["metadata"] = meta(&t, b, ns.as_deref());
            // Describe-only facts with no field of their own travel as annotations.
            if let Some(Value::Object(extra)) = value.as_object_mut().and_then(|m| m.remove("extraAnnotations")) {
                for (k, v) in extra {
                    value["metadata"]["annotations"][k] = v;
                }
            }
            add_object(b, kind_s, api, value, t.nodes.first().map(|n| n.no));
            for (k, a, v) in extra {
                add_object(b, k, a, v, t.nodes.first().map(|n| n.no));
            }
        }
    }
    Some(end)
}

fn add_object(b: &mut Builder<'_>, kind: &str, api: &str, mut value: Value, line: Option<u32>) {
    value["kind"] = json!(kind);
    value["apiVersion"] = json!(api);
    if let Err(e) = crate::objects::add_value(&mut b.objects, kind, api, &value) {
        let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("(unnamed)").to_string();
        b.gap(line, format!("{kind} {name}: {e}"));
    }
}

/// Keys that start a describe fragment (a paste cut inside a pod description).
const FRAGMENT_KEYS: &[&str] =
    &["State", "Last State", "Restart Count", "Container ID", "Image ID", "Containers", "Init Containers"];

/// A paste that starts inside a pod description (`    State:  Terminated` …).
pub fn fragment(lines: &[Line<'_>], start: usize, ctx: Ctx<'_>, b: &mut Builder<'_>) -> Option<usize> {
    let s = lines[start].as_str();
    let kv = key_value(s)?;
    if !FRAGMENT_KEYS.contains(&kv.key) {
        return None;
    }
    let ok = match kv.key {
        "State" | "Last State" => matches!(kv.value, "Waiting" | "Running" | "Terminated"),
        "Restart Count" => kv.value.parse::<u32>().is_ok(),
        "Containers" | "Init Containers" => kv.value.is_empty(),
        _ => !kv.value.is_empty(),
    };
    if !ok {
        return None;
    }
    let base = kv.indent;
    let (tree_end, events_at) = extent(lines, start, base, true);
    let t = Tree::build(&lines[start..tree_end]);
    let pod_name = ctx.object().filter(|o| o.kind == "Pod");
    let end = match events_at {
        Some(e) => events::parse_after_label(lines, e + 1, pod_name.clone(), ctx, b),
        None => tree_end,
    };
    let (value, rel) = if t.has_root("Containers") || t.has_root("Init Containers") {
        pod(&t, &t.roots, b)
    } else {
        // Container fields only: one container whose name the paste lost.
        let cname = ctx.cmd.and_then(|c| c.container.clone()).unwrap_or_else(|| "app".to_string());
        let (spec, status) = container(&t, &t.roots, &cname, b);
        let mut v = json!({"spec": {"containers": [spec]}, "status": {"phase": "Running"}});
        if let Some(st) = status {
            v["status"]["containerStatuses"] = Value::Array(vec![st]);
        }
        (v, Vec::new())
    };
    let (name, ns, synthetic) = match pod_name {
        Some(o) => (o.name, o.namespace, false),
        None => (SYNTHETIC_POD.to_string(), None, true),
    };
    b.add_pod(PodDraft { name, namespace: ns, value, rank: Rank::Rich, rel, synthetic });
    Some(end)
}

/// An absolute time value, noted for the paste's "now".
fn time_json(b: &mut Builder<'_>, s: &str) -> Option<Value> {
    let t = time::parse_absolute(s)?;
    b.saw_time(t);
    Some(json!(t.to_string()))
}

fn labels_of(items: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    for l in items {
        for part in l.split(',') {
            if let Some((k, v)) = part.trim().split_once('=') {
                m.insert(k.trim().to_string(), json!(v.trim()));
            }
        }
    }
    m
}

fn annotations_of(items: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    let mut pending: Option<(String, String)> = None;
    for l in items {
        if let Some((k, v)) = l.split_once(": ")
            && !k.contains(' ')
        {
            if let Some((pk, pv)) = pending.take() {
                m.insert(pk, json!(pv));
            }
            m.insert(k.to_string(), json!(v.trim()));
        } else if let Some(k) = l.strip_suffix(':').filter(|k| !k.contains(' ')) {
            if let Some((pk, pv)) = pending.take() {
                m.insert(pk, json!(pv));
            }
            pending = Some((k.to_string(), String::new()));
        } else if let Some((_, pv)) = pending.as_mut() {
            if !pv.is_empty() {
                pv.push('\n');
            }
            pv.push_str(l);
        }
    }
    if let Some((pk, pv)) = pending {
        m.insert(pk, json!(pv));
    }
    m
}

fn multi<'t>(t: &Tree<'t>, ids: &[usize], key: &str) -> Vec<&'t str> {
    t.find(ids, key).map(|i| t.lines_of(i)).unwrap_or_default()
}

/// Common metadata.
fn meta(t: &Tree<'_>, b: &mut Builder<'_>, ns: Option<&str>) -> Value {
    let mut m = json!({"name": t.root_val("Name").unwrap_or_default()});
    if let Some(ns) = ns {
        m["namespace"] = json!(ns);
    }
    let labels = labels_of(&multi(t, &t.roots, "Labels"));
    if !labels.is_empty() {
        m["labels"] = Value::Object(labels);
    }
    let ann = annotations_of(&multi(t, &t.roots, "Annotations"));
    if !ann.is_empty() {
        m["annotations"] = Value::Object(ann);
    }
    if let Some(ts) = t.root_val("CreationTimestamp").and_then(|v| time_json(b, v)) {
        m["creationTimestamp"] = ts;
    }
    if let Some(owner) = t.root_val("Controlled By") {
        let mut owners = owner_refs(owner);
        if !owners.is_empty() {
            m["ownerReferences"] = Value::Array(std::mem::take(&mut owners));
        }
    }
    m
}

fn owner_refs(v: &str) -> Vec<Value> {
    let Some((kind, name)) = v.trim().split_once('/') else { return Vec::new() };
    let api = match kind {
        "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Deployment" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        "Node" | "ReplicationController" => "v1",
        _ => "v1",
    };
    vec![json!({"apiVersion": api, "kind": kind, "name": name, "uid": "", "controller": true})]
}

/// The pod-template-hash a ReplicaSet name ends in (`web-5d4b7c9f8` → `5d4b7c9f8`).
fn template_hash(rs: &str) -> Option<&str> {
    let (_, h) = rs.rsplit_once('-')?;
    (h.len() >= 5
        && h.len() <= 10
        && h.chars().all(|c| c.is_ascii_alphanumeric())
        && h.chars().any(|c| c.is_ascii_digit()))
    .then_some(h)
}

/// A pod from its describe tree (`ids`: the root nodes).
fn pod(t: &Tree<'_>, ids: &[usize], b: &mut Builder<'_>) -> (Value, Vec<(String, i64)>) {
    let mut rel = Vec::new();
    let mut spec = Map::new();
    let mut status = Map::new();
    let mut metadata = Map::new();
    let labels = labels_of(&multi(t, ids, "Labels"));
    let ann = annotations_of(&multi(t, ids, "Annotations"));
    let mut labels = labels;
    if let Some(owner) = t.val(ids, "Controlled By") {
        let refs = owner_refs(owner);
        if let Some((kind, rs)) = owner.split_once('/')
            && kind == "ReplicaSet"
            && let Some(h) = template_hash(rs)
        {
            labels.entry("pod-template-hash").or_insert_with(|| json!(h));
        }
        if !refs.is_empty() {
            metadata.insert("ownerReferences".into(), Value::Array(refs));
        }
    }
    if !labels.is_empty() {
        metadata.insert("labels".into(), Value::Object(labels));
    }
    if !ann.is_empty() {
        metadata.insert("annotations".into(), Value::Object(ann));
    }
    if let Some(p) = t.val(ids, "Priority").and_then(|v| v.parse::<i64>().ok()) {
        spec.insert("priority".into(), json!(p));
    }
    for (k, f) in [
        ("Priority Class Name", "priorityClassName"),
        ("Runtime Class Name", "runtimeClassName"),
        ("Service Account", "serviceAccountName"),
    ] {
        if let Some(v) = t.val(ids, k) {
            spec.insert(f.into(), json!(v));
        }
    }
    if let Some(n) = t.val(ids, "Node") {
        let (node, ip) = n.split_once('/').unwrap_or((n, ""));
        if !node.is_empty() {
            spec.insert("nodeName".into(), json!(node));
        }
        if !ip.is_empty() {
            status.insert("hostIP".into(), json!(ip));
        }
    }
    if let Some(ts) = t.val(ids, "Start Time").and_then(|v| time_json(b, v)) {
        status.insert("startTime".into(), ts.clone());
        metadata.insert("creationTimestamp".into(), ts);
    }
    if let Some(st) = t.val(ids, "Status") {
        if let Some(rest) = st.strip_prefix("Terminating") {
            status.insert("phase".into(), json!("Running"));
            let lasts = rest.trim().trim_start_matches("(lasts").trim_end_matches(')').trim();
            rel.push(("/metadata/deletionTimestamp".to_string(), parse_age(lasts).unwrap_or(0)));
        } else {
            status.insert("phase".into(), json!(st));
        }
    }
    if let Some(r) = t.val(ids, "Reason") {
        status.insert("reason".into(), json!(r));
    }
    if let Some(i) = t.find(ids, "Message") {
        let m = t.lines_of(i).join(" ");
        if !m.is_empty() {
            status.insert("message".into(), json!(m));
        }
    }
    if let Some(ip) = t.val(ids, "IP") {
        status.insert("podIP".into(), json!(ip));
    }
    if let Some(q) = t.val(ids, "QoS Class") {
        status.insert("qosClass".into(), json!(q));
    }
    if let Some(n) = t.val(ids, "NominatedNodeName") {
        status.insert("nominatedNodeName".into(), json!(n));
    }
    for (label, spec_key, status_key) in [
        ("Init Containers", "initContainers", "initContainerStatuses"),
        ("Containers", "containers", "containerStatuses"),
    ] {
        let Some(id) = t.find(ids, label) else { continue };
        let mut specs = Vec::new();
        let mut statuses = Vec::new();
        for &c in &t.nodes[id].children {
            let n = &t.nodes[c];
            let Some(name) = n.key.filter(|_| n.value.is_empty()) else { continue };
            let (s, st) = container(t, &n.children, name, b);
            specs.push(s);
            if let Some(st) = st {
                statuses.push(st);
            }
        }
        spec.insert(spec_key.into(), Value::Array(specs));
        if !statuses.is_empty() {
            status.insert(status_key.into(), Value::Array(statuses));
        }
    }
    if let Some(id) = t.find(ids, "Conditions") {
        let mut conds = Vec::new();
        for l in t.lines_of(id) {
            let toks = tokens(l);
            if toks.len() >= 2 && matches!(toks[1].1, "True" | "False" | "Unknown") {
                conds.push(json!({"type": toks[0].1, "status": toks[1].1}));
            }
        }
        if !conds.is_empty() {
            status.insert("conditions".into(), Value::Array(conds));
        }
    }
    if let Some(id) = t.find(ids, "Volumes") {
        spec.insert("volumes".into(), Value::Array(volumes(t, id)));
    }
    let sel = labels_of(&multi(t, ids, "Node-Selectors"));
    if !sel.is_empty() {
        spec.insert("nodeSelector".into(), Value::Object(sel));
    }
    let tol: Vec<Value> = multi(t, ids, "Tolerations").into_iter().filter_map(toleration).collect();
    if !tol.is_empty() {
        spec.insert("tolerations".into(), Value::Array(tol));
    }
    if !spec.contains_key("containers") {
        spec.insert("containers".into(), json!([]));
    }
    let v =
        obj([("metadata", Value::Object(metadata)), ("spec", Value::Object(spec)), ("status", Value::Object(status))]);
    (v, rel)
}

/// `key=value:Effect op=Exists for 300s`.
fn toleration(s: &str) -> Option<Value> {
    let s = s.trim();
    if none_value(s) {
        return None;
    }
    let mut t = Map::new();
    let (main, secs) = match s.rsplit_once(" for ") {
        Some((m, d)) => (m, d.trim().trim_end_matches('s').parse::<i64>().ok()),
        None => (s, None),
    };
    let (main, exists) = match main.strip_suffix("op=Exists") {
        Some(m) => (m.trim(), true),
        None => (main.trim(), false),
    };
    let (kv, effect) = match main.rsplit_once(':') {
        Some((kv, e)) if matches!(e, "NoSchedule" | "PreferNoSchedule" | "NoExecute") => (kv, Some(e)),
        _ => (main, None),
    };
    let (key, value) = match kv.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (kv, None),
    };
    if !key.is_empty() {
        t.insert("key".into(), json!(key));
    }
    if let Some(v) = value {
        t.insert("value".into(), json!(v));
        t.insert("operator".into(), json!("Equal"));
    } else if exists {
        t.insert("operator".into(), json!("Exists"));
    }
    if let Some(e) = effect {
        t.insert("effect".into(), json!(e));
    }
    if let Some(s) = secs {
        t.insert("tolerationSeconds".into(), json!(s));
    }
    Some(Value::Object(t))
}

/// `key=value:NoSchedule` or `key:NoSchedule`.
fn taint(s: &str) -> Option<Value> {
    let s = s.trim();
    if none_value(s) {
        return None;
    }
    let (kv, effect) = s.rsplit_once(':')?;
    let (key, value) = match kv.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (kv, None),
    };
    let mut t = json!({"key": key, "effect": effect});
    if let Some(v) = value {
        t["value"] = json!(v);
    }
    Some(t)
}

fn volumes(t: &Tree<'_>, id: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for &c in &t.nodes[id].children {
        let n = &t.nodes[c];
        let Some(name) = n.key.filter(|_| n.value.is_empty()) else { continue };
        let ch = &n.children;
        let ty = t.val(ch, "Type").unwrap_or_default();
        let optional = t.val(ch, "Optional").map(|v| v == "true");
        let mut v = json!({"name": name});
        if ty.starts_with("PersistentVolumeClaim") {
            v["persistentVolumeClaim"] = json!({"claimName": t.val(ch, "ClaimName").unwrap_or_default()});
            if t.val(ch, "ReadOnly") == Some("true") {
                v["persistentVolumeClaim"]["readOnly"] = json!(true);
            }
        } else if ty.starts_with("Secret") {
            v["secret"] = json!({"secretName": t.val(ch, "SecretName").unwrap_or_default()});
            if let Some(o) = optional {
                v["secret"]["optional"] = json!(o);
            }
        } else if ty.starts_with("ConfigMap") {
            v["configMap"] = json!({"name": t.val(ch, "Name").unwrap_or_default()});
            if let Some(o) = optional {
                v["configMap"]["optional"] = json!(o);
            }
        } else if ty.starts_with("EmptyDir") {
            let mut e = json!({});
            if let Some(m) = t.val(ch, "Medium").filter(|m| !m.is_empty()) {
                e["medium"] = json!(m);
            }
            v["emptyDir"] = e;
        } else if ty.starts_with("HostPath") {
            v["hostPath"] = json!({"path": t.val(ch, "Path").unwrap_or_default()});
        } else if ty.starts_with("Projected") {
            let mut sources = Vec::new();
            for &s in ch {
                match (t.nodes[s].key, t.nodes[s].value) {
                    (Some("SecretName"), name) => sources.push(json!({"secret": {"name": name}})),
                    (Some("ConfigMapName"), name) => sources.push(json!({"configMap": {"name": name}})),
                    (Some("DownwardAPI"), _) => sources.push(json!({"downwardAPI": {}})),
                    (Some("TokenExpirationSeconds"), secs) => {
                        sources.push(json!({"serviceAccountToken": {"path": "token", "expirationSeconds": secs.parse::<i64>().unwrap_or(3607)}}))
                    }
                    _ => {}
                }
            }
            v["projected"] = obj([("sources", Value::Array(sources))]);
        } else if ty.starts_with("NFS") {
            v["nfs"] = json!({"server": t.val(ch, "Server").unwrap_or_default(), "path": t.val(ch, "Path").unwrap_or_default()});
        } else if ty.starts_with("CSI") {
            v["csi"] = json!({"driver": t.val(ch, "Driver").unwrap_or_default()});
        } else if ty.starts_with("DownwardAPI") {
            v["downwardAPI"] = json!({});
        } else {
            // A type this source does not model: keep the volume's name only.
            v["emptyDir"] = json!({});
        }
        out.push(v);
    }
    out
}

/// One container's spec and, when describe printed its state, its status.
fn container(t: &Tree<'_>, ch: &[usize], name: &str, b: &mut Builder<'_>) -> (Value, Option<Value>) {
    let mut spec = json!({"name": name});
    let mut status = container_status(name);
    let mut has_status = false;
    if let Some(img) = t.val(ch, "Image") {
        spec["image"] = json!(img);
        status["image"] = json!(img);
    }
    if let Some(id) = t.val(ch, "Image ID") {
        status["imageID"] = json!(id);
        has_status = true;
    }
    if let Some(id) = t.val(ch, "Container ID") {
        status["containerID"] = json!(id);
        has_status = true;
    }
    let ports: Vec<Value> = t
        .val(ch, "Port")
        .or_else(|| t.val(ch, "Ports"))
        .map(|p| {
            p.split(", ")
                .filter_map(|one| {
                    let (port, proto) = one.trim().split_once('/').unwrap_or((one.trim(), "TCP"));
                    let port = port.parse::<i64>().ok()?;
                    (port > 0).then(|| json!({"containerPort": port, "protocol": proto}))
                })
                .collect()
        })
        .unwrap_or_default();
    if !ports.is_empty() {
        spec["ports"] = Value::Array(ports);
    }
    for (k, f) in [("Command", "command"), ("Args", "args")] {
        if let Some(id) = t.find(ch, k) {
            let items: Vec<Value> = t.lines_of(id).into_iter().map(|l| json!(l)).collect();
            if !items.is_empty() {
                spec[f] = Value::Array(items);
            }
        }
    }
    for (k, f) in [("State", "state"), ("Last State", "lastState")] {
        if let Some(id) = t.find(ch, k)
            && let Some(s) = state(t, id, b)
        {
            status[f] = s;
            has_status = true;
        }
    }
    if let Some(r) = t.val(ch, "Ready") {
        status["ready"] = json!(r == "True" || r == "true");
        has_status = true;
    }
    if let Some(n) = t.val(ch, "Restart Count").and_then(|v| v.parse::<i64>().ok()) {
        status["restartCount"] = json!(n);
        has_status = true;
    }
    if let Some(s) = t.val(ch, "Started") {
        status["started"] = json!(s == "true" || s == "True");
    }
    let mut resources = Map::new();
    for (k, f) in [("Limits", "limits"), ("Requests", "requests")] {
        if let Some(id) = t.find(ch, k) {
            let mut m = Map::new();
            for &c in &t.nodes[id].children {
                if let Some(key) = t.nodes[c].key {
                    m.insert(key.to_string(), json!(t.nodes[c].value));
                }
            }
            if !m.is_empty() {
                resources.insert(f.into(), Value::Object(m));
            }
        }
    }
    if !resources.is_empty() {
        spec["resources"] = Value::Object(resources);
    }
    for (k, f) in [("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"), ("Startup", "startupProbe")] {
        if let Some(p) = t.val(ch, k).and_then(probe) {
            spec[f] = p;
        }
    }
    if let Some(id) = t.find(ch, "Environment Variables from") {
        let from: Vec<Value> = t.nodes[id].children.iter().filter_map(|&c| env_from(t.nodes[c].line)).collect();
        if !from.is_empty() {
            spec["envFrom"] = Value::Array(from);
        }
    }
    if let Some(id) = t.find(ch, "Environment") {
        let env: Vec<Value> = t.nodes[id].children.iter().filter_map(|&c| env_var(t, c)).collect();
        if !env.is_empty() {
            spec["env"] = Value::Array(env);
        }
    }
    if let Some(id) = t.find(ch, "Mounts") {
        let mounts: Vec<Value> = t.lines_of(id).into_iter().filter_map(mount).collect();
        if !mounts.is_empty() {
            spec["volumeMounts"] = Value::Array(mounts);
        }
    }
    (spec, has_status.then_some(status))
}

/// `State:  Terminated` with its Reason/Message/Exit Code/Signal/Started/Finished.
fn state(t: &Tree<'_>, id: usize, b: &mut Builder<'_>) -> Option<Value> {
    let n = &t.nodes[id];
    let ch = &n.children;
    let reason = t.val(ch, "Reason");
    let message = t.find(ch, "Message").map(|i| t.lines_of(i).join(" ")).filter(|m| !m.is_empty());
    let started = t.val(ch, "Started").and_then(|v| time_json(b, v));
    let finished = t.val(ch, "Finished").and_then(|v| time_json(b, v));
    let mut s = Map::new();
    match n.value {
        "Waiting" => {
            let mut w = Map::new();
            if let Some(r) = reason {
                w.insert("reason".into(), json!(r));
            }
            if let Some(m) = message {
                w.insert("message".into(), json!(m));
            }
            s.insert("waiting".into(), Value::Object(w));
        }
        "Running" => {
            let mut r = Map::new();
            if let Some(st) = started {
                r.insert("startedAt".into(), st);
            }
            s.insert("running".into(), Value::Object(r));
        }
        "Terminated" => {
            // A cut-off block may lose the exit code: the reason implies the usual one.
            let code = t.val(ch, "Exit Code").and_then(|v| v.parse::<i64>().ok()).unwrap_or(match reason {
                Some("OOMKilled") | Some("ContainerStatusUnknown") => 137,
                Some("StartError") | Some("ContainerCannotRun") => 128,
                Some("Completed") | None => 0,
                _ => 1,
            });
            let mut term = json!({"exitCode": code});
            if let Some(r) = reason {
                term["reason"] = json!(r);
            }
            if let Some(m) = message {
                term["message"] = json!(m);
            }
            if let Some(sig) = t.val(ch, "Signal").and_then(|v| v.parse::<i64>().ok()) {
                term["signal"] = json!(sig);
            }
            if let Some(st) = started {
                term["startedAt"] = st;
            }
            if let Some(f) = finished {
                term["finishedAt"] = f;
            }
            s.insert("terminated".into(), term);
        }
        _ => return None,
    }
    Some(Value::Object(s))
}

/// `http-get http://:8085/health-check delay=0s timeout=1s period=10s #success=1 #failure=3`,
/// `exec [cat /tmp/ok] …`, `tcp-socket :8080 …`, `grpc <pod>:9090 svc …`.
fn probe(s: &str) -> Option<Value> {
    let s = s.trim();
    let attrs_at = s.find(" delay=").unwrap_or(s.len());
    let (action, attrs) = s.split_at(attrs_at);
    let mut p = Map::new();
    let (kind, arg) = action.split_once(' ').unwrap_or((action, ""));
    let port_val = |port: &str| -> Value {
        match port.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(port),
        }
    };
    match kind {
        "http-get" => {
            let (scheme, rest) = arg.split_once("://").unwrap_or(("http", arg));
            let (hostport, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, ""));
            let mut h = json!({"port": port_val(port), "scheme": scheme.to_ascii_uppercase()});
            if !path.is_empty() {
                h["path"] = json!(path);
            }
            if !host.is_empty() {
                h["host"] = json!(host.trim_start_matches('[').trim_end_matches(']'));
            }
            p.insert("httpGet".into(), h);
        }
        "exec" => {
            let inner = arg.trim().trim_start_matches('[').trim_end_matches(']');
            let cmd: Vec<Value> = inner.split_whitespace().map(|w| json!(w)).collect();
            p.insert("exec".into(), obj([("command", Value::Array(cmd))]));
        }
        "tcp-socket" => {
            let (host, port) = arg.trim().rsplit_once(':').unwrap_or(("", arg.trim()));
            let mut tcp = json!({"port": port_val(port)});
            if !host.is_empty() {
                tcp["host"] = json!(host);
            }
            p.insert("tcpSocket".into(), tcp);
        }
        "grpc" => {
            let mut parts = arg.split_whitespace();
            let port = parts.next().and_then(|x| x.rsplit_once(':')).and_then(|(_, p)| p.parse::<i64>().ok())?;
            let mut g = json!({"port": port});
            if let Some(svc) = parts.next() {
                g["service"] = json!(svc);
            }
            p.insert("grpc".into(), g);
        }
        _ => return None,
    }
    for a in attrs.split_whitespace() {
        let Some((k, v)) = a.split_once('=') else { continue };
        let f = match k {
            "delay" => "initialDelaySeconds",
            "timeout" => "timeoutSeconds",
            "period" => "periodSeconds",
            "#success" => "successThreshold",
            "#failure" => "failureThreshold",
            _ => continue,
        };
        let n = parse_age(v).or_else(|| v.parse::<i64>().ok());
        if let Some(n) = n {
            p.insert(f.into(), json!(n));
        }
    }
    Some(Value::Object(p))
}

/// `app-config  ConfigMap  Optional: false` / `creds  Secret with prefix 'DB_'  Optional: true`.
fn env_from(line: &str) -> Option<Value> {
    let toks = tokens(line.trim());
    let name = toks.first()?.1;
    let kind = toks.get(1)?.1;
    let optional = line.contains("Optional: true");
    let prefix = line.split_once("with prefix '").and_then(|(_, r)| r.split_once('\'')).map(|(p, _)| p);
    let r = json!({"name": name, "optional": optional});
    let mut v = match kind {
        "ConfigMap" => obj([("configMapRef", r)]),
        "Secret" => obj([("secretRef", r)]),
        _ => return None,
    };
    if let Some(p) = prefix {
        v["prefix"] = json!(p);
    }
    Some(v)
}

/// One `NAME:  value` line of `Environment:`.
fn env_var(t: &Tree<'_>, id: usize) -> Option<Value> {
    let n = &t.nodes[id];
    let name = n.key?;
    let value = n.value;
    let optional = value.contains("Optional: true");
    let between = |s: &str, a: &str, b: &str| -> Option<String> {
        let p = s.find(a)? + a.len();
        let rest = &s[p..];
        Some(rest[..rest.find(b)?].to_string())
    };
    if value.starts_with("<set to the key '") {
        let key = between(value, "<set to the key '", "'")?;
        if let Some(secret) = between(value, "' in secret '", "'>") {
            return Some(
                json!({"name": name, "valueFrom": {"secretKeyRef": {"key": key, "name": secret, "optional": optional}}}),
            );
        }
        if let Some(cm) = between(value, "' of config map '", "'>") {
            return Some(
                json!({"name": name, "valueFrom": {"configMapKeyRef": {"key": key, "name": cm, "optional": optional}}}),
            );
        }
    }
    // `NAME:   (v1:status.podIP)` or `NAME:  10.0.0.1 (v1:status.podIP)`.
    if let Some(inner) = value.strip_suffix(')').and_then(|v| v.rsplit_once('(')).map(|(_, i)| i) {
        if let Some((api, path)) = inner.split_once(':')
            && !api.contains(' ')
            && path.contains('.')
        {
            return Some(json!({"name": name, "valueFrom": {"fieldRef": {"apiVersion": api, "fieldPath": path}}}));
        }
        if inner.starts_with("limits.") || inner.starts_with("requests.") {
            return Some(json!({"name": name, "valueFrom": {"resourceFieldRef": {"resource": inner}}}));
        }
    }
    let mut text = value.to_string();
    for &c in &n.children {
        text.push('\n');
        text.push_str(t.nodes[c].line.trim());
    }
    Some(json!({"name": name, "value": text}))
}

/// `/data from data (rw,path="sub")`.
fn mount(s: &str) -> Option<Value> {
    let (path, rest) = s.split_once(" from ")?;
    let (vol, flags) = rest.split_once(" (").unwrap_or((rest, "rw)"));
    let flags = flags.trim_end_matches(')');
    let mut m = json!({"mountPath": path.trim(), "name": vol.trim()});
    if flags.split(',').any(|f| f == "ro") {
        m["readOnly"] = json!(true);
    }
    if let Some(sub) = flags.split_once("path=\"").and_then(|(_, r)| r.split_once('"')).map(|(p, _)| p) {
        m["subPath"] = json!(sub);
    }
    Some(m)
}

/// A table whose first line (under `id`) is a header; rows as (header → cell) lists.
fn table(t: &Tree<'_>, id: usize) -> Vec<Vec<(String, String)>> {
    table_lines(&t.raw_lines(id))
}

fn table_lines(lines: &[&str]) -> Vec<Vec<(String, String)>> {
    let Some(head) = lines.first() else { return Vec::new() };
    // Header cells are separated by two or more spaces (tabwriter padding).
    let mut cols: Vec<(String, usize)> = Vec::new();
    let mut off = 0;
    for part in head.split("  ") {
        if !part.trim().is_empty() {
            let start = off + (part.len() - part.trim_start().len());
            cols.push((part.trim().to_string(), start));
        }
        off += part.len() + 2;
    }
    let mut rows = Vec::new();
    for l in &lines[1..] {
        if l.trim().chars().all(|c| c == '-' || c == ' ') {
            continue;
        }
        let mut row = Vec::new();
        for (i, (name, start)) in cols.iter().enumerate() {
            let end = cols.get(i + 1).map(|(_, s)| *s);
            row.push((name.clone(), events::cell(l, *start, end).to_string()));
        }
        rows.push(row);
    }
    rows
}

fn get<'a>(row: &'a [(String, String)], k: &str) -> Option<&'a str> {
    row.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn conditions(t: &Tree<'_>, b: &mut Builder<'_>) -> Vec<Value> {
    let Some(id) = t.root("Conditions") else { return Vec::new() };
    let mut out = Vec::new();
    for row in table(t, id) {
        let (Some(ty), Some(st)) = (get(&row, "Type"), get(&row, "Status")) else { continue };
        if !matches!(st, "True" | "False" | "Unknown") {
            continue;
        }
        let mut c = json!({"type": ty, "status": st});
        for (col, field) in [
            ("Reason", "reason"),
            ("Message", "message"),
            ("LastHeartbeatTime", "lastHeartbeatTime"),
            ("LastTransitionTime", "lastTransitionTime"),
            ("LastProbeTime", "lastProbeTime"),
        ] {
            if let Some(v) = get(&row, col) {
                if field.ends_with("Time") {
                    if let Some(ts) = time_json(b, v) {
                        c[field] = ts;
                    }
                } else {
                    c[field] = json!(v);
                }
            }
        }
        out.push(c);
    }
    out
}

fn node(t: &Tree<'_>, b: &mut Builder<'_>) -> Value {
    let mut spec = Map::new();
    let taints: Vec<Value> = multi(t, &t.roots, "Taints").into_iter().filter_map(taint).collect();
    if !taints.is_empty() {
        spec.insert("taints".into(), Value::Array(taints));
    }
    if t.root_val("Unschedulable") == Some("true") {
        spec.insert("unschedulable".into(), json!(true));
    }
    for (k, f) in [("PodCIDR", "podCIDR"), ("ProviderID", "providerID")] {
        if let Some(v) = t.root_val(k) {
            spec.insert(f.into(), json!(v));
        }
    }
    let mut status = Map::new();
    let conds = conditions(t, b);
    if !conds.is_empty() {
        status.insert("conditions".into(), Value::Array(conds));
    }
    let kv_children = |key: &str| -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(id) = t.root(key) {
            for &c in &t.nodes[id].children {
                if let Some(k) = t.nodes[c].key {
                    m.insert(k.to_string(), json!(t.nodes[c].value));
                }
            }
        }
        m
    };
    for (k, f) in [("Capacity", "capacity"), ("Allocatable", "allocatable")] {
        let m = kv_children(k);
        if !m.is_empty() {
            status.insert(f.into(), Value::Object(m));
        }
    }
    let addrs: Vec<Value> =
        kv_children("Addresses").into_iter().map(|(k, v)| json!({"type": k, "address": v})).collect();
    if !addrs.is_empty() {
        status.insert("addresses".into(), Value::Array(addrs));
    }
    let info = kv_children("System Info");
    if !info.is_empty() {
        let mut ni = Map::new();
        for (k, v) in info {
            let f = match k.as_str() {
                "Machine ID" => "machineID",
                "System UUID" => "systemUUID",
                "Boot ID" => "bootID",
                "Kernel Version" => "kernelVersion",
                "OS Image" => "osImage",
                "Operating System" => "operatingSystem",
                "Architecture" => "architecture",
                "Container Runtime Version" => "containerRuntimeVersion",
                "Kubelet Version" => "kubeletVersion",
                "Kube-Proxy Version" => "kubeProxyVersion",
                _ => continue,
            };
            ni.insert(f.into(), v);
        }
        status.insert("nodeInfo".into(), Value::Object(ni));
    }
    let mut v = obj([("spec", Value::Object(spec)), ("status", Value::Object(status))]);
    // `Allocated resources:` has no field in a Node: kept as annotations for rules to read.
    if let Some(id) = t.root("Allocated resources") {
        let mut extra = Map::new();
        for row in table_after_note(t, id) {
            if let (Some(res), Some(req)) = (get(&row, "Resource"), get(&row, "Requests")) {
                extra.insert(format!("kubesleuth.io/allocated-requests.{res}"), json!(req));
                if let Some(lim) = get(&row, "Limits") {
                    extra.insert(format!("kubesleuth.io/allocated-limits.{res}"), json!(lim));
                }
            }
        }
        if !extra.is_empty() {
            v["extraAnnotations"] = Value::Object(extra);
        }
    }
    v
}

/// `Allocated resources:` starts with a parenthesised note before its header.
fn table_after_note(t: &Tree<'_>, id: usize) -> Vec<Vec<(String, String)>> {
    let lines = t.raw_lines(id);
    let start = lines.iter().position(|l| l.trim_start().starts_with("Resource")).unwrap_or(0);
    table_lines(&lines[start..])
}

fn selector(s: Option<&str>) -> Value {
    let m = s.map(|v| labels_of(&[v])).unwrap_or_default();
    obj([("matchLabels", Value::Object(m))])
}

/// `Pod Template:` → a PodTemplateSpec.
fn template(t: &Tree<'_>, b: &mut Builder<'_>) -> Value {
    let Some(id) = t.root("Pod Template") else { return json!({"spec": {"containers": []}}) };
    let ch = t.nodes[id].children.clone();
    let (pod, _) = pod(t, &ch, b);
    let mut v = obj([("spec", pod["spec"].clone())]);
    if let Some(l) = pod.pointer("/metadata/labels") {
        v["metadata"] = obj([("labels", l.clone())]);
    }
    v
}

fn numbers(s: &str) -> Vec<i64> {
    s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect()
}

/// `3 desired | 1 updated | 3 total | 2 available | 1 unavailable` → (label, n).
fn counts(s: &str) -> Vec<(String, i64)> {
    s.split(['|', '/', ','])
        .filter_map(|part| {
            let mut it = part.split_whitespace();
            let n = it.next()?.parse::<i64>().ok()?;
            Some((it.next().unwrap_or_default().to_ascii_lowercase(), n))
        })
        .collect()
}

fn deployment(t: &Tree<'_>, b: &mut Builder<'_>) -> (Value, Vec<(&'static str, &'static str, Value)>) {
    let mut spec = obj([("selector", selector(t.root_val("Selector"))), ("template", template(t, b))]);
    let mut status = Map::new();
    if let Some(r) = t.root_val("Replicas") {
        for (label, n) in counts(r) {
            match label.as_str() {
                "desired" => spec["replicas"] = json!(n),
                "updated" => {
                    status.insert("updatedReplicas".into(), json!(n));
                }
                "total" => {
                    status.insert("replicas".into(), json!(n));
                }
                "available" => {
                    status.insert("availableReplicas".into(), json!(n));
                }
                "unavailable" => {
                    status.insert("unavailableReplicas".into(), json!(n));
                }
                _ => {}
            }
        }
    }
    if let Some(s) = t.root_val("StrategyType") {
        spec["strategy"] = json!({"type": s});
    }
    if let Some(m) = t.root_val("MinReadySeconds").and_then(|v| v.parse::<i64>().ok()) {
        spec["minReadySeconds"] = json!(m);
    }
    let conds = conditions(t, b);
    if !conds.is_empty() {
        status.insert("conditions".into(), Value::Array(conds));
    }
    let name = t.root_val("Name").unwrap_or_default();
    let ns = t.root_val("Namespace");
    let mut rss = Vec::new();
    // `NewReplicaSet: web-5d4b7c9f8 (1/1 replicas created)`: the ReplicaSet, owned by this
    // Deployment, so its pods resolve to the Deployment.
    for key in ["NewReplicaSet", "OldReplicaSets"] {
        for part in t.root_val(key).unwrap_or_default().split(", ") {
            let Some(rs) = part.split_whitespace().next().filter(|r| !none_value(r) && !r.starts_with('(')) else {
                continue;
            };
            let nums = numbers(part.split_once('(').map(|(_, r)| r).unwrap_or_default());
            let mut m = json!({"name": rs, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": "", "controller": true}]});
            if let Some(ns) = ns {
                m["namespace"] = json!(ns);
            }
            if let Some(h) = template_hash(rs) {
                m["labels"] = json!({"pod-template-hash": h});
            }
            let mut v = json!({"metadata": m, "spec": {"selector": spec["selector"].clone()}, "status": {"replicas": nums.first().copied().unwrap_or(0)}});
            if let Some(d) = nums.get(1) {
                v["spec"]["replicas"] = json!(d);
            }
            rss.push(("ReplicaSet", "apps/v1", v));
        }
    }
    (json!({"spec": spec, "status": status}), rss)
}

fn replica_set(t: &Tree<'_>, b: &mut Builder<'_>) -> Value {
    let mut v = json!({"spec": {"selector": selector(t.root_val("Selector")), "template": template(t, b)}, "status": {"replicas": 0}});
    if let Some(r) = t.root_val("Replicas") {
        for (label, n) in counts(r) {
            match label.as_str() {
                "current" => v["status"]["replicas"] = json!(n),
                "desired" => v["spec"]["replicas"] = json!(n),
                _ => {}
            }
        }
    }
    pods_status(t, &mut v);
    let conds = conditions(t, b);
    if !conds.is_empty() {
        v["status"]["conditions"] = Value::Array(conds);
    }
    v
}

/// `Pods Status: 1 Running / 0 Waiting / 0 Succeeded / 2 Failed`: running pods as ready.
fn pods_status(t: &Tree<'_>, v: &mut Value) {
    if let Some(p) = t.root_val("Pods Status") {
        for (label, n) in counts(p) {
            if label == "running" {
                v["status"]["readyReplicas"] = json!(n);
            }
        }
    }
}

fn stateful_set(t: &Tree<'_>, b: &mut Builder<'_>) -> Value {
    let mut v = json!({"spec": {"selector": selector(t.root_val("Selector")), "template": template(t, b), "serviceName": ""}, "status": {"replicas": 0}});
    if let Some(r) = t.root_val("Replicas") {
        for (label, n) in counts(r) {
            match label.as_str() {
                "desired" => v["spec"]["replicas"] = json!(n),
                "total" => v["status"]["replicas"] = json!(n),
                _ => {}
            }
        }
    }
    if let Some(s) = t.root_val("Update Strategy") {
        v["spec"]["updateStrategy"] = json!({"type": s});
    }
    pods_status(t, &mut v);
    v
}

fn daemon_set(t: &Tree<'_>, b: &mut Builder<'_>) -> Value {
    let mut status = Map::new();
    for (k, f) in [
        ("Desired Number of Nodes Scheduled", "desiredNumberScheduled"),
        ("Current Number of Nodes Scheduled", "currentNumberScheduled"),
        ("Number of Nodes Scheduled with Up-to-date Pods", "updatedNumberScheduled"),
        ("Number of Nodes Scheduled with Available Pods", "numberAvailable"),
        ("Number of Nodes Misscheduled", "numberMisscheduled"),
    ] {
        let n = t.root_val(k).and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(0);
        status.insert(f.into(), json!(n));
    }
    let mut v =
        json!({"spec": {"selector": selector(t.root_val("Selector")), "template": template(t, b)}, "status": status});
    if let Some(p) = t.root_val("Pods Status") {
        for (label, n) in counts(p) {
            if label == "running" {
                v["status"]["numberReady"] = json!(n);
            }
        }
    }
    v
}

fn job(t: &Tree<'_>, b: &mut Builder<'_>, events: &[(String, String)]) -> Value {
    let mut spec = json!({"template": template(t, b)});
    for (k, f) in [("Parallelism", "parallelism"), ("Completions", "completions"), ("Backoff Limit", "backoffLimit")] {
        if let Some(n) = t.root_val(k).and_then(|v| v.parse::<i64>().ok()) {
            spec[f] = json!(n);
        }
    }
    if let Some(n) = t.root_val("Active Deadline Seconds").and_then(parse_age) {
        spec["activeDeadlineSeconds"] = json!(n);
    }
    if let Some(s) = t.root_val("Suspend") {
        spec["suspend"] = json!(s == "true");
    }
    let mut status = Map::new();
    if let Some(ts) = t.root_val("Start Time").and_then(|v| time_json(b, v)) {
        status.insert("startTime".into(), ts);
    }
    if let Some(ts) = t.root_val("Completed At").and_then(|v| time_json(b, v)) {
        status.insert("completionTime".into(), ts);
    }
    if let Some(p) = t.root_val("Pods Statuses") {
        for (label, n) in counts(p) {
            let f = match label.as_str() {
                "active" => "active",
                "succeeded" => "succeeded",
                "failed" => "failed",
                _ => continue,
            };
            status.insert(f.into(), json!(n));
        }
    }
    // The job controller records its `Failed` condition and an event of the same reason at
    // once; describe shows only the event.
    if let Some((r, m)) = events
        .iter()
        .rev()
        .find(|(r, _)| matches!(r.as_str(), "BackoffLimitExceeded" | "DeadlineExceeded" | "PodFailurePolicy"))
    {
        status.insert("conditions".into(), json!([{"type": "Failed", "status": "True", "reason": r, "message": m}]));
    } else if events.iter().any(|(r, _)| r == "Completed") {
        status.insert("conditions".into(), json!([{"type": "Complete", "status": "True"}]));
    }
    json!({"spec": spec, "status": status})
}

fn cron_job(t: &Tree<'_>, b: &mut Builder<'_>) -> Value {
    let mut v = json!({"spec": {"schedule": t.root_val("Schedule").unwrap_or_default(), "jobTemplate": {"spec": {"template": template(t, b)}}}});
    if let Some(c) = t.root_val("Concurrency Policy") {
        v["spec"]["concurrencyPolicy"] = json!(c);
    }
    if let Some(s) = t.root_val("Suspend") {
        v["spec"]["suspend"] = json!(s == "True" || s == "true");
    }
    if let Some(ts) = t.root_val("Last Schedule Time").and_then(|x| time_json(b, x)) {
        v["status"] = json!({"lastScheduleTime": ts});
    }
    v
}

/// A Service and, from its `Endpoints:` lines, the Endpoints object describe looked up.
fn service(t: &Tree<'_>, _b: &mut Builder<'_>) -> (Value, Option<Value>) {
    let mut spec = Map::new();
    let sel = t.root_val("Selector").map(|s| labels_of(&[s])).unwrap_or_default();
    if !sel.is_empty() {
        spec.insert("selector".into(), Value::Object(sel));
    }
    if let Some(ty) = t.root_val("Type") {
        spec.insert("type".into(), json!(ty));
    }
    if let Some(ip) = t.root_val("IP") {
        spec.insert("clusterIP".into(), json!(ip));
    }
    if let Some(n) = t.root_val("External Name") {
        spec.insert("externalName".into(), json!(n));
    }
    let mut ports: Vec<Value> = Vec::new();
    let mut eps: Vec<(i64, String)> = Vec::new();
    let mut any_ep_line = false;
    for &id in &t.roots {
        let n = &t.nodes[id];
        match n.key {
            Some("Port") => {
                // `http  80/TCP` or `<unset>  80/TCP`.
                let toks: Vec<&str> = n.value.split_whitespace().collect();
                let (name, pp) = match toks.as_slice() {
                    [name, pp] => (Some(*name).filter(|n| !none_value(n)), *pp),
                    [pp] => (None, *pp),
                    _ => continue,
                };
                let (port, proto) = pp.split_once('/').unwrap_or((pp, "TCP"));
                let Ok(port) = port.parse::<i64>() else { continue };
                let mut p = json!({"port": port, "protocol": proto});
                if let Some(nm) = name {
                    p["name"] = json!(nm);
                }
                ports.push(p);
            }
            Some("TargetPort") => {
                if let Some(p) = ports.last_mut() {
                    let tp = n.value.split('/').next().unwrap_or_default();
                    p["targetPort"] = match tp.parse::<i64>() {
                        Ok(x) => json!(x),
                        Err(_) => json!(tp),
                    };
                }
            }
            Some("NodePort") => {
                if let Some(p) = ports.last_mut()
                    && let Some(np) = n
                        .value
                        .split_whitespace()
                        .last()
                        .and_then(|x| x.split('/').next())
                        .and_then(|x| x.parse::<i64>().ok())
                {
                    p["nodePort"] = json!(np);
                }
            }
            Some("Endpoints") => {
                any_ep_line = true;
                for addr in n.value.split(',') {
                    let a = addr.trim();
                    if none_value(a) || a.contains("more...") {
                        continue;
                    }
                    let (ip, port) = a.rsplit_once(':').unwrap_or((a, ""));
                    eps.push((port.parse().unwrap_or(0), ip.to_string()));
                }
            }
            _ => {}
        }
    }
    spec.insert("ports".into(), Value::Array(ports));
    let svc = json!({"spec": spec});
    if !any_ep_line {
        return (svc, None);
    }
    let mut meta = json!({"name": t.root_val("Name").unwrap_or_default()});
    if let Some(ns) = t.root_val("Namespace") {
        meta["namespace"] = json!(ns);
    }
    let subsets: Vec<Value> = eps
        .iter()
        .map(|(port, ip)| {
            let mut s = json!({"addresses": [{"ip": ip}]});
            if *port > 0 {
                s["ports"] = json!([{"port": port}]);
            }
            s
        })
        .collect();
    (svc, Some(json!({"metadata": meta, "subsets": subsets})))
}

fn endpoints(t: &Tree<'_>, _b: &mut Builder<'_>) -> Value {
    let mut subsets = Vec::new();
    if let Some(id) = t.root("Subsets") {
        let ch = &t.nodes[id].children;
        let mut cur: Option<Value> = None;
        for &c in ch {
            let n = &t.nodes[c];
            match n.key {
                Some("Addresses") => {
                    if let Some(s) = cur.take() {
                        subsets.push(s);
                    }
                    let addrs: Vec<Value> =
                        n.value.split(',').filter(|a| !none_value(a)).map(|a| json!({"ip": a.trim()})).collect();
                    cur = Some(json!({"addresses": addrs}));
                }
                Some("NotReadyAddresses") => {
                    let addrs: Vec<Value> =
                        n.value.split(',').filter(|a| !none_value(a)).map(|a| json!({"ip": a.trim()})).collect();
                    if let Some(s) = cur.as_mut()
                        && !addrs.is_empty()
                    {
                        s["notReadyAddresses"] = Value::Array(addrs);
                    }
                }
                Some("Ports") => {
                    let ports: Vec<Value> = table(t, c)
                        .iter()
                        .filter_map(|row| {
                            let port = get(row, "Port")?.parse::<i64>().ok()?;
                            let mut p = json!({"port": port, "protocol": get(row, "Protocol").unwrap_or("TCP")});
                            if let Some(n) = get(row, "Name").filter(|n| !none_value(n)) {
                                p["name"] = json!(n);
                            }
                            Some(p)
                        })
                        .collect();
                    if let Some(s) = cur.as_mut() {
                        s["ports"] = Value::Array(ports);
                    }
                }
                _ => {}
            }
        }
        if let Some(s) = cur {
            subsets.push(s);
        }
    }
    json!({"subsets": subsets})
}

fn ingress(t: &Tree<'_>, _b: &mut Builder<'_>) -> Value {
    let mut spec = Map::new();
    if let Some(c) = t.root_val("Ingress Class") {
        spec.insert("ingressClassName".into(), json!(c));
    }
    let backend = |s: &str| -> Option<Value> {
        let (svc, port) = s.rsplit_once(':')?;
        let port = match port.parse::<i64>() {
            Ok(n) => json!({"number": n}),
            Err(_) => json!({"name": port}),
        };
        Some(json!({"service": {"name": svc, "port": port}}))
    };
    if let Some(d) = t.root_val("Default backend").filter(|d| *d != "<default>")
        && let Some(be) = d.split_whitespace().next().and_then(backend)
    {
        spec.insert("defaultBackend".into(), be);
    }
    let mut extra = Map::new();
    let mut rules: Vec<Value> = Vec::new();
    if let Some(id) = t.root("Rules") {
        let lines = t.raw_lines(id);
        let host_indent = lines.first().map(|l| indent(l)).unwrap_or(2);
        for l in lines.iter().skip(1) {
            let trimmed = l.trim();
            if trimmed.is_empty() || trimmed.chars().all(|c| c == '-' || c == ' ') {
                continue;
            }
            let toks: Vec<&str> = trimmed.split_whitespace().collect();
            if indent(l) <= host_indent {
                let host = toks[0];
                let mut r = json!({"http": {"paths": []}});
                if host != "*" {
                    r["host"] = json!(host);
                }
                rules.push(r);
                // `*  *  svc:80 (...)`: a rule-less ingress's default backend line.
                if toks.len() >= 3 && toks[1] == "*" {
                    rules.pop();
                }
                continue;
            }
            // `/path   svc:80 (10.1.2.3:8080)`.
            let (path, be) = match toks.as_slice() {
                [p, be, ..] => (*p, *be),
                [be] => ("/", *be),
                _ => continue,
            };
            let Some(b) = backend(be) else { continue };
            if let Some(p) = trimmed.find('(') {
                let eps = trimmed[p + 1..].trim_end_matches(')');
                extra.insert(
                    format!("kubesleuth.io/endpoints.{}", be.rsplit_once(':').map(|(s, _)| s).unwrap_or(be)),
                    json!(eps),
                );
            }
            if rules.is_empty() {
                rules.push(json!({"http": {"paths": []}}));
            }
            if let Some(r) = rules.last_mut()
                && let Some(Value::Array(paths)) = r.pointer_mut("/http/paths")
            {
                paths.push(json!({"path": path, "pathType": "Prefix", "backend": b}));
            }
        }
    }
    spec.insert("rules".into(), Value::Array(rules));
    let mut v = json!({"spec": spec});
    if !extra.is_empty() {
        v["extraAnnotations"] = Value::Object(extra);
    }
    v
}

fn access_modes(s: Option<&str>) -> Vec<Value> {
    s.unwrap_or_default()
        .split(',')
        .filter_map(|m| {
            Some(json!(match m.trim() {
                "RWO" => "ReadWriteOnce",
                "ROX" => "ReadOnlyMany",
                "RWX" => "ReadWriteMany",
                "RWOP" => "ReadWriteOncePod",
                _ => return None,
            }))
        })
        .collect()
}

fn pvc(t: &Tree<'_>, b: &mut Builder<'_>) -> Value {
    let mut spec = Map::new();
    if let Some(sc) = t.root_val("StorageClass") {
        spec.insert("storageClassName".into(), json!(sc));
    }
    if let Some(v) = t.root_val("Volume") {
        spec.insert("volumeName".into(), json!(v));
    }
    if let Some(m) = t.root_val("VolumeMode") {
        spec.insert("volumeMode".into(), json!(m));
    }
    let modes = access_modes(t.root_val("Access Modes"));
    if !modes.is_empty() {
        spec.insert("accessModes".into(), Value::Array(modes.clone()));
    }
    let mut status = Map::new();
    if let Some(p) = t.root_val("Status") {
        status.insert("phase".into(), json!(p.split_whitespace().next().unwrap_or(p)));
    }
    if let Some(c) = t.root_val("Capacity") {
        status.insert("capacity".into(), json!({"storage": c}));
    }
    let conds = conditions(t, b);
    if !conds.is_empty() {
        status.insert("conditions".into(), Value::Array(conds));
    }
    json!({"spec": spec, "status": status})
}

fn pv(t: &Tree<'_>, _b: &mut Builder<'_>) -> Value {
    let mut spec = Map::new();
    if let Some(sc) = t.root_val("StorageClass") {
        spec.insert("storageClassName".into(), json!(sc));
    }
    if let Some(p) = t.root_val("Reclaim Policy") {
        spec.insert("persistentVolumeReclaimPolicy".into(), json!(p));
    }
    let modes = access_modes(t.root_val("Access Modes"));
    if !modes.is_empty() {
        spec.insert("accessModes".into(), Value::Array(modes));
    }
    if let Some(c) = t.root_val("Capacity") {
        spec.insert("capacity".into(), json!({"storage": c}));
    }
    if let Some((ns, name)) = t.root_val("Claim").and_then(|c| c.split_once('/')) {
        spec.insert("claimRef".into(), json!({"namespace": ns, "name": name, "kind": "PersistentVolumeClaim"}));
    }
    let mut status = Map::new();
    if let Some(p) = t.root_val("Status") {
        status.insert("phase".into(), json!(p.split_whitespace().next().unwrap_or(p)));
    }
    json!({"spec": spec, "status": status})
}

/// `Last Transition Time` → `lastTransitionTime` (kubectl's generic describer title-cases
/// field names).
fn camel(key: &str) -> String {
    let mut out = String::new();
    for (i, w) in key.split(' ').filter(|w| !w.is_empty()).enumerate() {
        if i == 0 {
            out.push_str(&w.to_ascii_lowercase());
        } else {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(&c.as_str().to_ascii_lowercase());
            }
        }
    }
    out
}

/// The generic describer's nested `Key: value` blocks as JSON; a repeated key starts the next
/// item of a list (describe prints list items one after another with no separator).
fn generic_value(t: &Tree<'_>, ids: &[usize], b: &mut Builder<'_>) -> Value {
    if ids.iter().all(|&i| t.nodes[i].key.is_none()) {
        return Value::Array(ids.iter().map(|&i| json!(t.nodes[i].line.trim())).collect());
    }
    let mut items: Vec<Map<String, Value>> = vec![Map::new()];
    for &i in ids {
        let n = &t.nodes[i];
        let Some(k) = n.key else { continue };
        let key = camel(k);
        if items.last().is_some_and(|m| m.contains_key(&key)) {
            items.push(Map::new());
        }
        let v = if !n.children.is_empty() && n.value.is_empty() {
            let v = generic_value(t, &n.children, b);
            if key == "conditions" && v.is_object() { Value::Array(vec![v]) } else { v }
        } else {
            if time::parse_rfc3339(n.value).is_some()
                && let Some(ts) = time::parse_rfc3339(n.value)
            {
                b.saw_time(ts);
            }
            json!(n.value)
        };
        if let Some(m) = items.last_mut() {
            m.insert(key, v);
        }
    }
    if items.len() == 1 {
        Value::Object(items.pop().unwrap_or_default())
    } else {
        Value::Array(items.into_iter().map(Value::Object).collect())
    }
}

fn generic(t: &Tree<'_>, b: &mut Builder<'_>, _kind: &str, _api: &str) -> Value {
    let ns = t.root_val("Namespace");
    let mut v = json!({"metadata": meta(t, b, ns)});
    for (k, f) in [("Spec", "spec"), ("Status", "status")] {
        if let Some(id) = t.root(k) {
            let ch = t.nodes[id].children.clone();
            v[f] = generic_value(t, &ch, b);
        }
    }
    if let Some(id) = t.root("Metadata") {
        let ch = t.nodes[id].children.clone();
        if let Value::Object(m) = generic_value(t, &ch, b)
            && let Some(ts) = m.get("creationTimestamp")
        {
            v["metadata"]["creationTimestamp"] = ts.clone();
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes() {
        let p =
            probe("http-get http://:8085/health-check delay=0s timeout=1s period=10s #success=1 #failure=3").unwrap();
        assert_eq!(p["httpGet"]["port"], json!(8085));
        assert_eq!(p["httpGet"]["path"], json!("/health-check"));
        assert_eq!(p["periodSeconds"], json!(10));
        assert_eq!(p["failureThreshold"], json!(3));
        let p = probe("exec [cat /tmp/healthy] delay=5s timeout=1s period=5s #success=1 #failure=3").unwrap();
        assert_eq!(p["exec"]["command"], json!(["cat", "/tmp/healthy"]));
        let p = probe("tcp-socket :8080 delay=0s timeout=1s period=10s #success=1 #failure=3").unwrap();
        assert_eq!(p["tcpSocket"]["port"], json!(8080));
        let p = probe("http-get http://:http/ready delay=0s timeout=1s period=10s #success=1 #failure=3").unwrap();
        assert_eq!(p["httpGet"]["port"], json!("http"));
    }

    #[test]
    fn tolerations_and_taints() {
        let t = toleration("node.kubernetes.io/not-ready:NoExecute op=Exists for 300s").unwrap();
        assert_eq!(
            t,
            json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
        );
        let t = toleration("dedicated=gpu:NoSchedule").unwrap();
        assert_eq!(t["value"], json!("gpu"));
        assert_eq!(taint("node-role.kubernetes.io/control-plane:NoSchedule").unwrap()["effect"], json!("NoSchedule"));
        assert!(taint("<none>").is_none());
    }

    #[test]
    fn small_parsers() {
        assert_eq!(template_hash("web-5d4b7c9f8"), Some("5d4b7c9f8"));
        assert_eq!(template_hash("web-frontend"), None);
        assert_eq!(camel("Last Transition Time"), "lastTransitionTime");
        assert_eq!(camel("API Version"), "apiVersion");
        assert_eq!(
            counts("3 desired | 1 updated | 3 total | 2 available | 1 unavailable")[4],
            ("unavailable".to_string(), 1)
        );
        assert_eq!(
            mount("/data from data (ro,path=\"sub\")").unwrap(),
            json!({"mountPath": "/data", "name": "data", "readOnly": true, "subPath": "sub"})
        );
        assert_eq!(
            env_from("app-config  ConfigMap  Optional: false").unwrap(),
            json!({"configMapRef": {"name": "app-config", "optional": false}})
        );
    }
}
