//! `kubectl get` tables: pods (any of `-A`, `-o wide`, `pod/` names, rows without header) as
//! minimal pods whose container state restates the STATUS column, nodes, deployments and
//! claims as minimal objects; rows of other listings are skipped.

use serde_json::{Map, Value, json};

use super::events::cell;
use super::model::{Builder, PodDraft, Rank, container_status, obj};
use super::text::{Line, is_blank, is_fence, is_noise, none_value, tokens};
use super::time::{parse_age, parse_age_cell};
use super::{Ctx, command_at};

/// A `kubectl get` header: column names (two-word ones joined) and their offsets.
fn columns(line: &str) -> Option<Vec<(String, usize)>> {
    let toks = tokens(line);
    let first = toks.first()?.1;
    if first != "NAME" && first != "NAMESPACE" {
        return None;
    }
    let mut cols: Vec<(String, usize)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (off, w) = toks[i];
        if !w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '(' | ')' | '%'))
        {
            return None;
        }
        let joined = match (w, toks.get(i + 1).map(|(_, n)| *n)) {
            ("NOMINATED", Some("NODE"))
            | ("READINESS", Some("GATES"))
            | ("ACCESS", Some("MODES"))
            | ("LAST", Some("SEEN"))
            | ("FIRST", Some("SEEN"))
            | ("EXTERNAL", Some("IP"))
            | ("CLUSTER", Some("IP")) => {
                i += 1;
                format!("{w} {}", toks[i].1)
            }
            _ => w.to_string(),
        };
        cols.push((joined, off));
        i += 1;
    }
    (cols.len() >= 2).then_some(cols)
}

pub fn is_table_header(line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with("NAME ") || t.starts_with("NAMESPACE ")) && columns(line).is_some()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    Pods,
    Nodes,
    Deployments,
    Claims,
    Other,
}

/// A table with its header at `start`; the end of its rows.
pub fn parse(lines: &[Line<'_>], start: usize, ctx: Ctx<'_>, b: &mut Builder<'_>) -> usize {
    let Some(cols) = columns(lines[start].as_str()) else { return start + 1 };
    let has = |c: &str| cols.iter().any(|(n, _)| n == c);
    let listing = if has("READY") && has("STATUS") && has("RESTARTS") {
        Listing::Pods
    } else if has("ROLES") && has("VERSION") {
        Listing::Nodes
    } else if has("UP-TO-DATE") && has("AVAILABLE") {
        Listing::Deployments
    } else if has("VOLUME") && has("CAPACITY") && has("STORAGECLASS") {
        Listing::Claims
    } else {
        Listing::Other
    };
    let mut i = start + 1;
    while i < lines.len() {
        let s = lines[i].as_str();
        if is_blank(s) || is_fence(s) || command_at(s).is_some() || is_table_header(s) {
            break;
        }
        if is_noise(s) {
            i += 1;
            continue;
        }
        let get = |name: &str| -> Option<&str> {
            let k = cols.iter().position(|(n, _)| n == name)?;
            let v = cell(s, cols[k].1, cols.get(k + 1).map(|(_, o)| *o));
            (!v.is_empty()).then_some(v)
        };
        let Some(raw_name) = get("NAME") else { break };
        let ns = get("NAMESPACE").map(str::to_string).or_else(|| ctx.namespace().map(str::to_string));
        let name = raw_name.split_once('/').map(|(_, n)| n).unwrap_or(raw_name);
        match listing {
            Listing::Pods => {
                let row = PodRow {
                    name,
                    namespace: ns,
                    ready: get("READY").unwrap_or("0/1"),
                    status: get("STATUS").unwrap_or("Unknown"),
                    restarts: get("RESTARTS").unwrap_or("0"),
                    age: get("AGE"),
                    ip: get("IP"),
                    node: get("NODE"),
                };
                b.add_pod(row.draft());
            }
            Listing::Nodes => node_row(b, name, get("STATUS").unwrap_or_default(), get("ROLES"), get("VERSION")),
            Listing::Deployments => {
                deployment_row(b, name, ns, get("READY").unwrap_or_default(), get("UP-TO-DATE"), get("AVAILABLE"))
            }
            Listing::Claims => claim_row(b, name, ns, get("STATUS").unwrap_or_default(), get("STORAGECLASS")),
            Listing::Other => {}
        }
        i += 1;
    }
    i
}

/// A pod row pasted without its header (`ns  name  0/1  Pending  0  5m47s  <none> ...`).
pub fn headerless_pod_row(lines: &[Line<'_>], start: usize, ctx: Ctx<'_>, b: &mut Builder<'_>) -> Option<usize> {
    let row = headerless(lines[start].as_str(), ctx)?;
    b.add_pod(row.draft());
    let mut i = start + 1;
    while i < lines.len() {
        let s = lines[i].as_str();
        if is_noise(s) && !is_blank(s) {
            i += 1;
            continue;
        }
        let Some(row) = headerless(s, ctx) else { break };
        b.add_pod(row.draft());
        i += 1;
    }
    Some(i)
}

fn is_ready_cell(s: &str) -> bool {
    s.split_once('/').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit())
    })
}

fn headerless<'s>(s: &'s str, ctx: Ctx<'_>) -> Option<PodRow<'s>> {
    let toks = tokens(s);
    let k = (1..=2).find(|&k| toks.get(k).is_some_and(|(_, w)| is_ready_cell(w)))?;
    let status = toks.get(k + 1)?.1;
    let restarts_tok = toks.get(k + 2)?;
    if restarts_tok.1.parse::<u32>().is_err()
        || !status.chars().all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '/')
    {
        return None;
    }
    // RESTARTS may read `6 (118s ago)`.
    let mut j = k + 3;
    let restarts_end = if toks.get(j).is_some_and(|(_, w)| w.starts_with('(')) {
        while j < toks.len() && !toks[j].1.ends_with(')') {
            j += 1;
        }
        j += 1;
        toks.get(j - 1).map(|(o, w)| o + w.len()).unwrap_or(s.len())
    } else {
        restarts_tok.0 + restarts_tok.1.len()
    };
    let age = toks.get(j).map(|(_, w)| *w).filter(|w| parse_age(w).is_some());
    let ip = toks.get(j + 1).map(|(_, w)| *w);
    let node = toks.get(j + 2).map(|(_, w)| *w);
    let namespace = if k == 2 { Some(toks[0].1.to_string()) } else { ctx.namespace().map(str::to_string) };
    let raw = toks[k - 1].1;
    Some(PodRow {
        name: raw.split_once('/').map(|(_, n)| n).unwrap_or(raw),
        namespace,
        ready: toks[k].1,
        status,
        restarts: &s[restarts_tok.0..restarts_end],
        age,
        ip,
        node,
    })
}

struct PodRow<'s> {
    name: &'s str,
    namespace: Option<String>,
    ready: &'s str,
    status: &'s str,
    restarts: &'s str,
    age: Option<&'s str>,
    ip: Option<&'s str>,
    node: Option<&'s str>,
}

impl PodRow<'_> {
    /// A minimal pod whose container state restates the STATUS column.
    fn draft(&self) -> PodDraft {
        let (ready, total) = self
            .ready
            .split_once('/')
            .map_or((0, 1), |(a, b)| (a.parse::<usize>().unwrap_or(0), b.parse::<usize>().unwrap_or(1)));
        let total = total.clamp(1, 64);
        let ready = ready.min(total);
        let mut rt = self.restarts.split_whitespace();
        let restarts = rt.next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(0);
        // `6 (118s ago)`: when the last restart happened.
        let restart_ago = rt.next().map(|a| a.trim_start_matches('(')).and_then(parse_age);
        let mut rel = Vec::new();
        if let Some(age) = self.age.and_then(parse_age_cell).and_then(|w| match w {
            super::time::When::Ago(s) => Some(s),
            _ => None,
        }) {
            rel.push(("/metadata/creationTimestamp".to_string(), age));
        }
        let names: Vec<String> =
            if total == 1 { vec!["app".to_string()] } else { (1..=total).map(|i| format!("app-{i}")).collect() };
        let mut statuses: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut cs = container_status(n);
                cs["state"] = json!({"running": {}});
                cs["ready"] = json!(i < ready);
                cs
            })
            .collect();
        // The container the STATUS column is about: the first one not ready.
        let bad = ready.min(total - 1);
        let mut status = Map::new();
        let mut metadata = Map::new();
        let mut init: Option<Value> = None;
        let st = self.status;
        let set_phase = |status: &mut Map<String, Value>, p: &str| {
            status.insert("phase".into(), json!(p));
        };
        let waiting = |reason: &str| json!({"waiting": {"reason": reason}});
        if let Some(rest) = st.strip_prefix("Init:") {
            // `Init:0/2` (running), `Init:CrashLoopBackOff`, `Init:Error`…
            set_phase(&mut status, "Pending");
            let mut ics = container_status("init");
            ics["restartCount"] = json!(restarts);
            ics["state"] = if rest.contains('/') {
                json!({"running": {}})
            } else {
                match rest {
                    "Error" => json!({"terminated": {"exitCode": 1, "reason": "Error"}}),
                    "OOMKilled" => json!({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}),
                    r => waiting(r),
                }
            };
            init = Some(ics);
            for cs in &mut statuses {
                cs["state"] = waiting("PodInitializing");
                cs["ready"] = json!(false);
            }
        } else {
            let cs = &mut statuses[bad];
            match st {
                "Running" => set_phase(&mut status, "Running"),
                "Completed" | "Succeeded" => {
                    set_phase(&mut status, if restarts == 0 { "Succeeded" } else { "Running" });
                    for c in &mut statuses {
                        c["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
                        c["ready"] = json!(false);
                    }
                }
                "Pending" | "SchedulingGated" => {
                    set_phase(&mut status, "Pending");
                    statuses.clear();
                }
                "Evicted" => {
                    set_phase(&mut status, "Failed");
                    status.insert("reason".into(), json!("Evicted"));
                    statuses.clear();
                }
                "Unknown" | "NodeLost" => set_phase(&mut status, "Unknown"),
                "Terminating" => {
                    set_phase(&mut status, "Running");
                    rel.push(("/metadata/deletionTimestamp".to_string(), 0));
                }
                "NotReady" => {
                    set_phase(&mut status, "Running");
                    cs["ready"] = json!(false);
                }
                "Failed" => set_phase(&mut status, "Failed"),
                "Error" => {
                    // The exit code is not in the table: non-zero is all "Error" says.
                    set_phase(&mut status, "Running");
                    cs["state"] = json!({"terminated": {"exitCode": 1, "reason": "Error"}});
                    cs["ready"] = json!(false);
                }
                "OOMKilled" | "ContainerStatusUnknown" | "StartError" | "ContainerCannotRun" | "DeadlineExceeded" => {
                    set_phase(&mut status, "Running");
                    let code = match st {
                        "OOMKilled" | "ContainerStatusUnknown" => 137,
                        "StartError" | "ContainerCannotRun" => 128,
                        _ => 1,
                    };
                    cs["state"] = json!({"terminated": {"exitCode": code, "reason": st}});
                    cs["ready"] = json!(false);
                }
                "CrashLoopBackOff" => {
                    set_phase(&mut status, "Running");
                    cs["state"] = waiting(st);
                    cs["ready"] = json!(false);
                }
                _ if st.starts_with("Signal:") || st.starts_with("ExitCode:") => {
                    set_phase(&mut status, "Running");
                    let n = st.split_once(':').and_then(|(_, n)| n.parse::<i64>().ok()).unwrap_or(1);
                    let term = if st.starts_with("Signal:") {
                        json!({"exitCode": 128 + n, "signal": n})
                    } else {
                        json!({"exitCode": n})
                    };
                    cs["state"] = json!({"terminated": term});
                    cs["ready"] = json!(false);
                }
                "OutOfcpu"
                | "OutOfmemory"
                | "OutOfpods"
                | "NodeAffinity"
                | "UnexpectedAdmissionError"
                | "Shutdown"
                | "NodeShutdown"
                | "Preempting"
                | "Terminated" => {
                    set_phase(&mut status, "Failed");
                    status.insert("reason".into(), json!(st));
                    statuses.clear();
                }
                other => {
                    // Any other waiting reason (ImagePullBackOff, CreateContainerConfigError…).
                    set_phase(&mut status, "Pending");
                    cs["state"] = waiting(other);
                    cs["ready"] = json!(false);
                }
            }
        }
        if let Some(cs) = statuses.get_mut(bad) {
            cs["restartCount"] = json!(restarts);
            let dead_recently = restarts > 0
                && cs.pointer("/lastState").is_none()
                && cs.pointer("/state/running").is_some()
                && cs["ready"] == json!(false);
            if let (Some(ago), true) = (restart_ago, dead_recently) {
                // A restart with no exit code in the table: recorded as exit 0 with no reason,
                // so nothing is concluded from it beyond its time.
                cs["lastState"] = json!({"terminated": {"exitCode": 0}});
                rel.push((format!("/status/containerStatuses/{bad}/lastState/terminated/finishedAt"), ago));
            }
        }
        if !statuses.is_empty() {
            status.insert("containerStatuses".into(), Value::Array(statuses));
        }
        if let Some(i) = init {
            status.insert("initContainerStatuses".into(), Value::Array(vec![i]));
        }
        if let Some(ip) = self.ip.filter(|v| !none_value(v) && v.contains('.') || v.contains(':')) {
            status.insert("podIP".into(), json!(ip));
        }
        let containers: Vec<Value> = names.iter().map(|n| json!({"name": n, "image": ""})).collect();
        let mut spec = obj([("containers", Value::Array(containers))]);
        if let Some(n) = self.node.filter(|v| !none_value(v)) {
            spec["nodeName"] = json!(n);
        }
        metadata.insert("name".into(), json!(self.name));
        PodDraft {
            name: self.name.to_string(),
            namespace: self.namespace.clone(),
            value: obj([("metadata", Value::Object(metadata)), ("spec", spec), ("status", Value::Object(status))]),
            rank: Rank::Table,
            rel,
            synthetic: false,
        }
    }
}

fn add(b: &mut Builder<'_>, kind: &str, api: &str, v: Value) {
    let mut v = v;
    v["kind"] = json!(kind);
    v["apiVersion"] = json!(api);
    if let Err(e) = crate::objects::add_value(&mut b.objects, kind, api, &v) {
        b.gap(None, format!("{kind}: {e}"));
    }
}

fn node_row(b: &mut Builder<'_>, name: &str, status: &str, roles: Option<&str>, version: Option<&str>) {
    let ready = match status.split(',').next().unwrap_or_default() {
        "Ready" => "True",
        "NotReady" => "False",
        _ => "Unknown",
    };
    let mut labels = Map::new();
    for r in roles.unwrap_or_default().split(',').filter(|r| !none_value(r)) {
        labels.insert(format!("node-role.kubernetes.io/{r}"), json!(""));
    }
    let mut v = json!({
        "metadata": {"name": name, "labels": labels},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": ready}]}
    });
    if status.contains("SchedulingDisabled") {
        v["spec"]["unschedulable"] = json!(true);
    }
    if let Some(ver) = version {
        v["status"]["nodeInfo"] = json!({"kubeletVersion": ver});
    }
    add(b, "Node", "v1", v);
}

fn deployment_row(
    b: &mut Builder<'_>,
    name: &str,
    ns: Option<String>,
    ready: &str,
    updated: Option<&str>,
    available: Option<&str>,
) {
    let (r, want) = ready.split_once('/').unwrap_or(("0", "0"));
    let num = |s: Option<&str>| s.and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
    let mut v = json!({
        "metadata": {"name": name},
        "spec": {"replicas": num(Some(want)), "selector": {}, "template": {"spec": {"containers": []}}},
        "status": {"readyReplicas": num(Some(r)), "updatedReplicas": num(updated), "availableReplicas": num(available), "replicas": num(Some(want))}
    });
    if let Some(ns) = ns {
        v["metadata"]["namespace"] = json!(ns);
    }
    add(b, "Deployment", "apps/v1", v);
}

fn claim_row(b: &mut Builder<'_>, name: &str, ns: Option<String>, status: &str, class: Option<&str>) {
    let mut v = json!({"metadata": {"name": name}, "spec": {}, "status": {"phase": status}});
    if let Some(ns) = ns {
        v["metadata"]["namespace"] = json!(ns);
    }
    if let Some(c) = class.filter(|c| !none_value(c)) {
        v["spec"]["storageClassName"] = json!(c);
    }
    add(b, "PersistentVolumeClaim", "v1", v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert!(is_table_header("NAME                     READY     STATUS    RESTARTS   AGE"));
        assert!(is_table_header(
            "NAMESPACE   NAME   READY   STATUS   RESTARTS   AGE   IP   NODE   NOMINATED NODE   READINESS GATES"
        ));
        assert!(!is_table_header("NAME: web"));
        assert!(!is_table_header("Name:  web"));
    }

    #[test]
    fn headerless_rows() {
        let ctx = Ctx { cmd: None };
        let r = headerless("cilium-test-2       lrp-backend-6d6784c5f-qqz4w        0/1     Pending   0          5m47s   <none>            <none>", ctx).unwrap();
        assert_eq!(
            (r.name, r.namespace.as_deref(), r.status),
            ("lrp-backend-6d6784c5f-qqz4w", Some("cilium-test-2"), "Pending")
        );
        let r = headerless("pod/vllm-x   0/1     Running   6 (118s ago)   20m", ctx).unwrap();
        assert_eq!((r.name, r.restarts, r.age), ("vllm-x", "6 (118s ago)", Some("20m")));
        assert!(headerless("hello world 1/2 foo", ctx).is_none());
    }
}
