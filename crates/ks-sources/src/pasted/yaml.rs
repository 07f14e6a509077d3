//! YAML and JSON in a paste: whole objects and lists (loaded like snapshot files, through the
//! snapshot source's object loader) and fragments of a pod (`status:`, `containerStatuses:`,
//! `state:` …) that people cut out of `kubectl get pod -o yaml`.

use serde_json::{Value, json};

use super::model::{Builder, PodDraft, Rank, set_pointer};
use super::text::{Line, indent, is_blank, is_fence};
use super::time;
use super::{Ctx, SYNTHETIC_POD, command_at};

/// Keys that open a YAML block worth reading.
const START_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "status",
    "items",
    "containerStatuses",
    "initContainerStatuses",
    "conditions",
    "state",
    "lastState",
];

/// Keys of a pod's status, for fragments without their `status:` parent.
const STATUS_KEYS: &[&str] = &[
    "containerStatuses",
    "initContainerStatuses",
    "conditions",
    "phase",
    "reason",
    "message",
    "podIP",
    "podIPs",
    "hostIP",
    "startTime",
    "qosClass",
    "nominatedNodeName",
];

/// A YAML mapping key at the start of `s` (after indentation and an optional `- `).
fn yaml_key(s: &str) -> Option<&str> {
    let t = s.trim_start();
    let t = t.strip_prefix("- ").unwrap_or(t);
    let end = t.find(':')?;
    let key = &t[..end];
    let after = t.as_bytes().get(end + 1);
    if key.is_empty() || after.is_some_and(|b| *b != b' ') {
        return None;
    }
    key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '"' | '\'')).then_some(key)
}

fn yamlish(s: &str) -> bool {
    let t = s.trim_start();
    yaml_key(s).is_some() || t.starts_with("- ") || t == "-" || t.starts_with("---") || t.starts_with('#')
}

/// A YAML or JSON block at `start`; `None` when the line opens none (or it was not a
/// Kubernetes object, e.g. a JSON log line).
pub fn parse(lines: &[Line<'_>], start: usize, ctx: Ctx<'_>, b: &mut Builder<'_>) -> Option<usize> {
    let s = lines[start].as_str();
    let t = s.trim_start();
    if t.starts_with('{') || t == "[" || t.starts_with("[{") || t.starts_with("[ {") {
        return json_block(lines, start, ctx, b);
    }
    let key = yaml_key(s)?;
    let key = key.trim_matches(|c| c == '"' || c == '\'');
    if !START_KEYS.contains(&key) || s.trim_start().starts_with("- ") && !matches!(key, "apiVersion" | "kind") {
        return None;
    }
    // `status:`/`spec:`/`state:` must open a mapping or carry a scalar (`phase: Pending`).
    let base = indent(s);
    let n = lines.len();
    let mut j = start + 1;
    while j < n {
        let l = lines[j].as_str();
        if is_fence(l) || command_at(l).is_some() {
            break;
        }
        if is_blank(l) {
            let mut k = j + 1;
            while k < n && is_blank(lines[k].as_str()) {
                k += 1;
            }
            let next = lines.get(k).map(|x| x.as_str()).unwrap_or_default();
            if k < n
                && (indent(next) > base || (indent(next) == base && yaml_key(next).is_some()))
                && command_at(next).is_none()
            {
                j = k;
                continue;
            }
            break;
        }
        let ind = indent(l);
        if ind < base || (ind == base && !yamlish(l)) {
            break;
        }
        j += 1;
    }
    if j == start + 1 && lines[start].as_str().trim_end().ends_with(':') {
        // A lone `status:` line is no object.
        return None;
    }
    let text: String = lines[start..j]
        .iter()
        .map(|l| {
            let s = l.as_str();
            let cut = indent(s).min(base);
            &s[cut..]
        })
        .collect::<Vec<_>>()
        .join("\n");
    let docs: Vec<Value> = match serde_saphyr::from_multiple(&text) {
        Ok(d) => d,
        Err(e) => {
            // One cut-off line at the end is common; read the block without it.
            let shorter = text.rsplit_once('\n').map(|(head, _)| head.to_string());
            match shorter.as_deref().map(serde_saphyr::from_multiple::<Value>) {
                Some(Ok(d)) => d,
                _ => {
                    let msg = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
                    b.gap(Some(lines[start].no), format!("malformed YAML: {msg}"));
                    return Some(j);
                }
            }
        }
    };
    let mut any = false;
    for d in docs {
        any |= value(d, ctx, b, lines[start].no);
    }
    any.then_some(j)
}

/// A JSON value spanning lines from `start` (brace depth decides where it ends).
fn json_block(lines: &[Line<'_>], start: usize, ctx: Ctx<'_>, b: &mut Builder<'_>) -> Option<usize> {
    let mut depth: i64 = 0;
    let mut in_str = false;
    let mut esc = false;
    let mut j = start;
    let mut text = String::new();
    'outer: while j < lines.len() {
        let l = lines[j].as_str();
        if j > start && (is_fence(l) || (depth <= 0)) {
            break;
        }
        text.push_str(l);
        text.push('\n');
        j += 1;
        for c in l.chars() {
            if in_str {
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, '\\') => esc = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_str = true,
                '{' | '[' => depth += 1,
                '}' | ']' => {
                    depth -= 1;
                    if depth == 0 {
                        break 'outer;
                    }
                }
                _ => {}
            }
        }
        // A JSON log line is one line; a multi-line value has no business running forever.
        if j - start > 2_000_000 {
            break;
        }
    }
    let v: Value = serde_json::from_str(text.trim()).ok()?;
    value(v, ctx, b, lines[start].no).then_some(j)
}

fn default_api(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        "Ingress" | "IngressClass" => "networking.k8s.io/v1",
        "StorageClass" => "storage.k8s.io/v1",
        "EndpointSlice" => "discovery.k8s.io/v1",
        _ => "v1",
    }
}

/// Walk a JSON value for timestamps (the paste's "now").
fn note_times(v: &Value, b: &mut Builder<'_>, depth: usize) {
    if depth > 12 {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if let Value::String(s) = x {
                    if (k.ends_with("Time") || k.ends_with("At") || k.ends_with("Timestamp"))
                        && let Some(t) = time::parse_rfc3339(s)
                    {
                        b.saw_time(t);
                    }
                } else {
                    note_times(x, b, depth + 1);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| note_times(x, b, depth + 1)),
        _ => {}
    }
}

/// One parsed document. Returns whether it was something Kubernetes.
fn value(v: Value, ctx: Ctx<'_>, b: &mut Builder<'_>, line: u32) -> bool {
    match v {
        Value::Array(items) => {
            let mut any = false;
            for i in items {
                any |= value(i, ctx, b, line);
            }
            any
        }
        Value::Object(ref m) => {
            note_times(&v, b, 0);
            if let Some(items) = m.get("items").and_then(Value::as_array) {
                let item_kind = m
                    .get("kind")
                    .and_then(Value::as_str)
                    .and_then(|k| k.strip_suffix("List"))
                    .filter(|k| !k.is_empty())
                    .map(str::to_string);
                if let Some(k) = &item_kind {
                    b.objects.collected.insert(k.clone());
                }
                for it in items.clone() {
                    let mut it = it;
                    if !it.is_object() {
                        continue;
                    }
                    if it.get("kind").is_none()
                        && let Some(k) = &item_kind
                    {
                        set_pointer(&mut it, "/kind", json!(k));
                    }
                    if it.get("kind").is_some_and(Value::is_string) {
                        object(it, ctx, b, line);
                    }
                }
                return true;
            }
            if m.get("kind").is_some_and(Value::is_string) {
                object(v, ctx, b, line);
                return true;
            }
            fragment(v, ctx, b)
        }
        _ => false,
    }
}

/// An object with a kind.
fn object(mut v: Value, ctx: Ctx<'_>, b: &mut Builder<'_>, line: u32) {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
    // The command line names what `-o yaml` printed when the object lost its metadata.
    if let Some(o) = ctx.object().filter(|o| o.kind == kind) {
        if v.pointer("/metadata/name").is_none() {
            set_pointer(&mut v, "/metadata/name", json!(o.name));
        }
        if v.pointer("/metadata/namespace").is_none()
            && let Some(ns) = o.namespace
        {
            set_pointer(&mut v, "/metadata/namespace", json!(ns));
        }
    }
    if kind == "Pod" {
        pod(v, ctx, b);
        return;
    }
    if v.get("apiVersion").is_none() {
        set_pointer(&mut v, "/apiVersion", json!(default_api(&kind)));
    }
    // The snapshot source's loader, so that objects read the same from a paste or a file.
    let before = b.objects.gaps.len();
    crate::snapshot::load_bytes(&b.name, v.to_string().as_bytes(), &mut b.objects);
    for g in b.objects.gaps.iter_mut().skip(before) {
        g.line = Some(line);
    }
}

/// A pod (whole or partial) as a draft; containers that lost their names get them back from
/// their statuses.
fn pod(mut v: Value, ctx: Ctx<'_>, b: &mut Builder<'_>) {
    let named = v.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string);
    let ctx_pod = ctx.object().filter(|o| o.kind == "Pod");
    let (name, synthetic) = match (named, &ctx_pod) {
        (Some(n), _) => (n, false),
        (None, Some(o)) => (o.name.clone(), false),
        (None, None) => (SYNTHETIC_POD.to_string(), true),
    };
    let ns = v
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| ctx_pod.as_ref().and_then(|o| o.namespace.clone()))
        .or_else(|| ctx.namespace().map(str::to_string));
    let status_names: Vec<String> = v
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default();
    for (list, fallback) in [("/spec/containers", "app"), ("/spec/initContainers", "init")] {
        if let Some(Value::Array(cs)) = v.pointer_mut(list) {
            let n = cs.len();
            for (i, c) in cs.iter_mut().enumerate() {
                if c.get("name").is_none() && c.is_object() {
                    let name = if list == "/spec/containers" && status_names.len() == n {
                        status_names[i].clone()
                    } else if n == 1 {
                        fallback.to_string()
                    } else {
                        format!("{fallback}-{}", i + 1)
                    };
                    c["name"] = json!(name);
                }
            }
        }
    }
    for list in ["/status/containerStatuses", "/status/initContainerStatuses"] {
        if let Some(Value::Array(cs)) = v.pointer_mut(list) {
            for c in cs.iter_mut().filter(|c| c.is_object() && c.get("name").is_none()) {
                c["name"] = json!("app");
            }
        }
    }
    b.add_pod(PodDraft { name, namespace: ns, value: v, rank: Rank::Rich, rel: Vec::new(), synthetic });
}

/// Whether a fragment's fields have the types a pod gives them (a log line `status: 500`
/// is no pod).
fn typed_like_pod(m: &serde_json::Map<String, Value>) -> bool {
    m.iter().all(|(k, v)| match k.as_str() {
        "status" | "spec" | "metadata" | "state" | "lastState" => v.is_object(),
        "containerStatuses" | "initContainerStatuses" | "conditions" | "containers" | "podIPs" => v.is_array(),
        "phase" | "reason" | "message" | "podIP" | "hostIP" | "startTime" | "qosClass" | "nominatedNodeName"
        | "apiVersion" | "kind" => v.is_string(),
        "restartCount" => v.is_number(),
        _ => true,
    })
}

/// A mapping without `kind`: a piece of a pod, when its keys say so.
fn fragment(v: Value, ctx: Ctx<'_>, b: &mut Builder<'_>) -> bool {
    let Value::Object(m) = &v else { return false };
    if !typed_like_pod(m) {
        return false;
    }
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    let wrapped = if keys.iter().any(|k| matches!(*k, "status" | "spec" | "metadata")) {
        if !keys.iter().all(|k| matches!(*k, "status" | "spec" | "metadata" | "apiVersion" | "kind")) {
            return false;
        }
        v
    } else if keys.iter().all(|k| STATUS_KEYS.contains(k)) {
        super::model::obj([("status", v)])
    } else if keys.iter().any(|k| matches!(*k, "state" | "lastState" | "restartCount")) {
        let mut v = v;
        if v.get("name").is_none() {
            set_pointer(&mut v, "/name", json!("app"));
        }
        super::model::obj([("status", super::model::obj([("containerStatuses", Value::Array(vec![v]))]))])
    } else if keys.contains(&"containers") {
        super::model::obj([("spec", v)])
    } else {
        return false;
    };
    pod(wrapped, ctx, b);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(yaml_key("  status:"), Some("status"));
        assert_eq!(yaml_key("- image: x"), Some("image"));
        assert_eq!(yaml_key("Status:  Running"), Some("Status"));
        assert!(yaml_key("http://x").is_none());
    }
}
