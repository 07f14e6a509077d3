//! Event tables and lines: describe's `Events:` section, `kubectl get events` (default, `-A`,
//! `-o wide`, the pre-1.14 layout), `kubectl events`, rows without a header, dashboard tables
//! with `|` separators, e2e framework lines, and bare kubelet/scheduler messages.

use std::sync::LazyLock;

use regex::Regex;

use super::model::{Builder, EventDraft, Involved};
use super::text::{self, Line, is_blank, is_fence, is_noise, kind_of_resource, tokens};
use super::time::{self, When, parse_age_cell, parse_event_age};
use super::{Ctx, command_at, starts_structure};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    Type,
    Reason,
    Age,
    From,
    Message,
    LastSeen,
    FirstSeen,
    Count,
    Name,
    Kind,
    SubObject,
    Source,
    Object,
    Namespace,
}

fn col_of(word: &str) -> Option<Col> {
    Some(match word.to_ascii_uppercase().as_str() {
        "TYPE" => Col::Type,
        "REASON" => Col::Reason,
        "AGE" => Col::Age,
        "FROM" => Col::From,
        "MESSAGE" => Col::Message,
        "LASTSEEN" => Col::LastSeen,
        "FIRSTSEEN" => Col::FirstSeen,
        "COUNT" => Col::Count,
        "NAME" => Col::Name,
        "KIND" => Col::Kind,
        "SUBOBJECT" | "SUBOBJECTPATH" => Col::SubObject,
        "SOURCE" => Col::Source,
        "OBJECT" | "INVOLVEDOBJECT" => Col::Object,
        "NAMESPACE" => Col::Namespace,
        _ => return None,
    })
}

/// An event table's header: its columns and where they start.
#[derive(Clone, Debug)]
pub struct Header {
    cols: Vec<(Col, usize)>,
}

impl Header {
    fn index(&self, c: Col) -> Option<usize> {
        self.cols.iter().position(|(k, _)| *k == c)
    }

    fn start(&self, c: Col) -> Option<usize> {
        self.index(c).map(|i| self.cols[i].1)
    }

    fn cell<'s>(&self, row: &'s str, c: Col) -> Option<&'s str> {
        let i = self.index(c)?;
        let start = self.cols[i].1;
        let end = self.cols.get(i + 1).map(|(_, s)| *s);
        Some(cell(row, start, end))
    }
}

/// The text of a column cell, the boundaries moved off the middle of a word (a cell one
/// character wider than its header, a shifted paste).
pub fn cell(row: &str, start: usize, end: Option<usize>) -> &str {
    let b = row.as_bytes();
    let snap = |p: usize| -> usize {
        let mut p = p.min(b.len());
        if p > 0 && p < b.len() && b[p - 1] != b' ' && b[p] != b' ' {
            while p < b.len() && b[p] != b' ' {
                p += 1;
            }
        }
        while p < b.len() && !row.is_char_boundary(p) {
            p += 1;
        }
        p
    };
    let st = snap(start);
    let en = end.map(snap).unwrap_or(b.len());
    if st >= en { "" } else { row[st..en].trim() }
}

/// Recognise an event table header (describe's title case or kubectl's upper case).
pub fn header(line: &str) -> Option<Header> {
    let t = line.trim_start();
    // Cheap filter: headers start with one of these words.
    let first = t.split(' ').next()?.to_ascii_uppercase();
    if !matches!(first.as_str(), "TYPE" | "LAST" | "LASTSEEN" | "NAMESPACE" | "FIRSTSEEN" | "FIRST" | "REASON" | "AGE")
    {
        return None;
    }
    let toks = tokens(line);
    let mut cols = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (off, w) = toks[i];
        let up = w.to_ascii_uppercase();
        if (up == "LAST" || up == "FIRST") && toks.get(i + 1).is_some_and(|(_, n)| n.eq_ignore_ascii_case("SEEN")) {
            cols.push((if up == "LAST" { Col::LastSeen } else { Col::FirstSeen }, off));
            i += 2;
            continue;
        }
        cols.push((col_of(w)?, off));
        i += 1;
    }
    let has = |c: Col| cols.iter().any(|(k, _)| *k == c);
    if cols.len() < 4
        || !has(Col::Reason)
        || !has(Col::Message)
        || !(has(Col::Type) || has(Col::Age) || has(Col::LastSeen))
    {
        return None;
    }
    Some(Header { cols })
}

fn is_dash_line(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.chars().all(|c| c == '-' || c == ' ')
}

fn is_type(s: &str) -> bool {
    s == "Normal" || s == "Warning"
}

/// `kubelet, node-1`, `{kubelet node-1}`, `kubelet` → `kubelet`.
fn component_of(s: &str) -> String {
    let t = s.trim().trim_start_matches('{').trim_end_matches('}').trim();
    t.split([',', ' ']).next().unwrap_or_default().to_string()
}

/// `pod/web-1` (or `Pod/web-1`) → the object.
fn object_of(s: &str, ns: Option<&str>) -> Option<Involved> {
    let (k, n) = s.trim().split_once('/')?;
    if n.is_empty() {
        return None;
    }
    let kind = kind_of_resource(k).map(str::to_string).unwrap_or_else(|| capitalise(k.split('.').next().unwrap_or(k)));
    Some(Involved { kind, name: n.to_string(), namespace: ns.map(str::to_string) })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The object an old-style event name (`web-1.17a2b3c4d5e6f7a8`) is about.
fn name_of_event(s: &str) -> &str {
    match s.rsplit_once('.') {
        Some((obj, hash)) if !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()) => obj,
        _ => s,
    }
}

impl Header {
    /// One row as an event (`None`: not a row of this table).
    fn row(&self, s: &str, owner: Option<&Involved>, ctx: Ctx<'_>) -> Option<EventDraft> {
        let type_ = self.cell(s, Col::Type);
        if let Some(t) = type_ {
            if !is_type(t) {
                return None;
            }
        } else if self.cell(s, Col::Reason).is_none_or(str::is_empty) {
            return None;
        }
        // A row starts at the first column; a deeper line is a continuation.
        let first_start = self.cols.first().map_or(0, |(_, st)| *st);
        if text::indent(s) > first_start + 1 && self.cols.first().is_some_and(|(c, _)| *c != Col::Type) {
            return None;
        }
        let mut e = EventDraft {
            type_: type_.unwrap_or("Normal").to_string(),
            reason: self.cell(s, Col::Reason).unwrap_or_default().to_string(),
            message: self.cell(s, Col::Message).unwrap_or_default().to_string(),
            count: 1,
            ..EventDraft::default()
        };
        if e.reason.contains(' ') || e.reason.is_empty() {
            return None;
        }
        let age = self.cell(s, Col::Age).or_else(|| self.cell(s, Col::LastSeen));
        if let Some(a) = age.and_then(parse_event_age) {
            e.last = a.last;
            e.first = a.first;
            e.count = a.count;
        }
        if let Some(f) = self.cell(s, Col::FirstSeen).and_then(parse_age_cell) {
            e.first = f;
        }
        if let Some(c) = self.cell(s, Col::Count).and_then(|c| c.parse::<u32>().ok()) {
            e.count = c.max(1);
        }
        e.component =
            self.cell(s, Col::From).or_else(|| self.cell(s, Col::Source)).map(component_of).unwrap_or_default();
        let ns = self.cell(s, Col::Namespace).filter(|n| !n.is_empty()).or(ctx.namespace());
        e.involved = match (self.cell(s, Col::Object), self.cell(s, Col::Kind), self.cell(s, Col::Name)) {
            (Some(o), _, _) => object_of(o, ns),
            (None, Some(k), Some(n)) if !k.is_empty() && !n.is_empty() => Some(Involved {
                kind: k.to_string(),
                name: name_of_event(n).to_string(),
                namespace: ns.map(str::to_string),
            }),
            _ => None,
        }
        .or_else(|| owner.cloned());
        e.field_path = self.cell(s, Col::SubObject).filter(|f| !f.is_empty()).map(str::to_string);
        Some(e)
    }
}

/// Whether `s` continues the previous row's message: indented to the message column, or a
/// terminal-wrapped tail at column 0 after a long line.
fn continues(s: &str, msg_col: Option<usize>, prev_len: usize) -> Option<bool> {
    if starts_structure(s) {
        return None;
    }
    let ind = text::indent(s);
    if let Some(mc) = msg_col
        && ind + 1 >= mc
        && ind > 0
    {
        return Some(true);
    }
    if ind == 0 && prev_len >= 60 {
        // A hard wrap splits words: join without a space.
        return Some(false);
    }
    if msg_col.is_none() && ind > 0 {
        return Some(true);
    }
    None
}

fn push_continuation(e: &mut EventDraft, s: &str, spaced: bool) {
    let t = if spaced { s.trim() } else { s.trim_end() };
    if spaced && !e.message.is_empty() {
        e.message.push(' ');
    }
    e.message.push_str(t);
}

/// A table with its header at `start`.
pub fn parse_table(
    lines: &[Line<'_>],
    start: usize,
    owner: Option<Involved>,
    ctx: Ctx<'_>,
    b: &mut Builder<'_>,
) -> usize {
    let Some(h) = header(lines[start].as_str()) else { return start + 1 };
    let mut i = start + 1;
    if i < lines.len() && is_dash_line(lines[i].as_str()) {
        i += 1;
    }
    let msg_col = h.start(Col::Message);
    let last_is_message = h.cols.last().is_some_and(|(c, _)| *c == Col::Message);
    let mut cur: Option<EventDraft> = None;
    let mut prev_len = 0;
    while i < lines.len() {
        let s = lines[i].as_str();
        if is_blank(s) || is_fence(s) || command_at(s).is_some() {
            break;
        }
        if is_noise(s) {
            i += 1;
            continue;
        }
        if let Some(e) = h.row(s, owner.as_ref(), ctx) {
            if let Some(c) = cur.take() {
                b.add_event(c);
            }
            cur = Some(e);
        } else if let (Some(c), true) = (cur.as_mut(), last_is_message) {
            match continues(s, msg_col, prev_len) {
                Some(spaced) => push_continuation(c, s, spaced),
                None => break,
            }
        } else if is_dash_line(s) {
            // A second dash line (some versions print one per section).
        } else {
            break;
        }
        prev_len = s.len();
        i += 1;
    }
    if let Some(c) = cur {
        b.add_event(c);
    }
    i
}

/// After a `Events:` label: a table with a header, or rows without one.
pub fn parse_after_label(
    lines: &[Line<'_>],
    start: usize,
    owner: Option<Involved>,
    ctx: Ctx<'_>,
    b: &mut Builder<'_>,
) -> usize {
    if start >= lines.len() {
        return start;
    }
    if header(lines[start].as_str()).is_some() {
        return parse_table(lines, start, owner, ctx, b);
    }
    loose_rows(lines, start, owner, ctx, b).unwrap_or(start)
}

/// Rows without a header (describe order, `kubectl get events` order with or without
/// namespace, the pre-1.14 wide order) and dashboard `|` rows, with their continuation lines.
pub fn loose_rows(
    lines: &[Line<'_>],
    start: usize,
    owner: Option<Involved>,
    ctx: Ctx<'_>,
    b: &mut Builder<'_>,
) -> Option<usize> {
    let first = loose_row(lines[start].as_str(), owner.as_ref(), ctx)?;
    let mut cur = first;
    let mut msg_col = cur.1;
    let mut prev_len = lines[start].as_str().len();
    let mut i = start + 1;
    while i < lines.len() {
        let s = lines[i].as_str();
        if is_blank(s) || is_fence(s) {
            break;
        }
        if is_noise(s) {
            i += 1;
            continue;
        }
        if let Some(next) = loose_row(s, owner.as_ref(), ctx) {
            b.add_event(std::mem::replace(&mut cur, next).0);
            msg_col = cur.1;
        } else {
            match continues(s, msg_col, prev_len) {
                Some(spaced) => push_continuation(&mut cur.0, s, spaced),
                None => break,
            }
        }
        prev_len = s.len();
        i += 1;
    }
    b.add_event(cur.0);
    Some(i)
}

/// One headerless row and the column its message starts at.
fn loose_row(s: &str, owner: Option<&Involved>, ctx: Ctx<'_>) -> Option<(EventDraft, Option<usize>)> {
    if s.contains('|')
        && let Some(e) = pipe_row(s, owner)
    {
        return Some((e, None));
    }
    let toks = tokens(s);
    let t = toks.iter().take(9).position(|(_, w)| is_type(w))?;
    let rest = &toks[t + 1..];
    let reason = rest.first()?.1;
    if !reason.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        || !reason.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let mut e =
        EventDraft { type_: toks[t].1.to_string(), reason: reason.to_string(), count: 1, ..EventDraft::default() };
    let prefix: Vec<&str> = toks[..t].iter().map(|(_, w)| *w).collect();
    let msg_start: usize;
    if prefix.is_empty() {
        // Describe order: Type Reason Age From Message.
        let mut k = 1;
        let (age, used) = age_tokens(&rest[k..])?;
        k += used;
        e.last = age.last;
        e.first = age.first;
        e.count = age.count;
        let after_age = rest.get(k).map(|(o, _)| *o)?;
        let tail = &s[after_age..];
        // The source is the next cell: up to a run of two spaces when the paste kept
        // kubectl's padding, else one word (`kubelet,` + host, `{kubelet host}`).
        let (src, msg_off) = split_source(tail)?;
        e.component = component_of(src);
        msg_start = after_age + msg_off;
        e.involved = owner.cloned();
    } else if let Some(age) = parse_event_age(&prefix.join(" ")) {
        // `kubectl get events` / `kubectl events`: LAST SEEN TYPE REASON OBJECT MESSAGE.
        e.last = age.last;
        e.first = age.first;
        e.count = age.count;
        let obj = rest.get(1)?;
        e.involved = object_of(obj.1, ctx.namespace()).or_else(|| owner.cloned());
        msg_start = rest.get(2).map(|(o, _)| *o).unwrap_or(s.len());
    } else if prefix.len() >= 2 && time::is_age_token(prefix[1]) && parse_event_age(&prefix[1..].join(" ")).is_some() {
        // `-A`: NAMESPACE LAST SEEN TYPE REASON OBJECT MESSAGE.
        let age = parse_event_age(&prefix[1..].join(" "))?;
        e.last = age.last;
        e.first = age.first;
        e.count = age.count;
        let obj = rest.get(1)?;
        e.involved = object_of(obj.1, Some(prefix[0]));
        msg_start = rest.get(2).map(|(o, _)| *o).unwrap_or(s.len());
    } else if prefix.len() >= 5
        && time::is_age_token(prefix[0])
        && time::is_age_token(prefix[1])
        && prefix[2].parse::<u32>().is_ok()
    {
        // Pre-1.14 wide: LASTSEEN FIRSTSEEN COUNT NAME KIND [SUBOBJECT] TYPE REASON SOURCE MESSAGE.
        e.last = parse_age_cell(prefix[0]).unwrap_or(When::Unknown);
        e.first = parse_age_cell(prefix[1]).unwrap_or(When::Unknown);
        e.count = prefix[2].parse::<u32>().unwrap_or(1).max(1);
        e.involved = Some(Involved {
            kind: prefix[4].to_string(),
            name: name_of_event(prefix[3]).to_string(),
            namespace: ctx.namespace().map(str::to_string),
        });
        e.field_path = prefix.get(5).map(|f| f.to_string());
        let after_reason = rest.get(1).map(|(o, _)| *o)?;
        let (src, msg_off) = split_source(&s[after_reason..])?;
        e.component = component_of(src);
        msg_start = after_reason + msg_off;
    } else {
        return None;
    }
    e.message = s.get(msg_start..).unwrap_or_default().trim().to_string();
    Some((e, Some(msg_start)))
}

/// The age expression at the start of `toks`: `61s`, or `61s (x2 over 6m23s)`.
fn age_tokens(toks: &[(usize, &str)]) -> Option<(time::EventAge, usize)> {
    let first = toks.first()?.1;
    if first.starts_with('(') {
        let n = toks.iter().position(|(_, w)| w.ends_with(')'))? + 1;
        let text: Vec<&str> = toks[..n].iter().map(|(_, w)| *w).collect();
        return Some((parse_event_age(&text.join(" "))?, n));
    }
    if !time::is_age_token(first) {
        return None;
    }
    if toks.get(1).is_some_and(|(_, w)| w.starts_with("(x")) {
        let n = toks.iter().position(|(_, w)| w.ends_with(')'))? + 1;
        let text: Vec<&str> = toks[..n].iter().map(|(_, w)| *w).collect();
        return Some((parse_event_age(&text.join(" "))?, n));
    }
    Some((parse_event_age(first)?, 1))
}

/// Split `src  message` into the source cell and the offset of the message.
fn split_source(tail: &str) -> Option<(&str, usize)> {
    let t = tail.trim_start();
    let lead = tail.len() - t.len();
    if t.is_empty() {
        return None;
    }
    if t.starts_with('{') {
        let end = t.find('}')? + 1;
        let rest = &t[end..];
        return Some((&t[..end], lead + end + (rest.len() - rest.trim_start().len())));
    }
    // Two spaces end the cell when the paste kept kubectl's padding.
    if let Some(p) = t.find("  ") {
        let src = &t[..p];
        if !src.contains(": ") && src.split(' ').count() <= 2 {
            let rest = &t[p..];
            return Some((src, lead + p + (rest.len() - rest.trim_start().len())));
        }
    }
    let toks = tokens(t);
    let mut k = 1;
    if toks.first()?.1.ends_with(',') && toks.len() > 1 {
        k = 2;
    }
    let end = toks.get(k - 1).map(|(o, w)| o + w.len())?;
    let msg = toks.get(k).map(|(o, _)| *o).unwrap_or(t.len());
    Some((&t[..end], lead + msg))
}

/// `Warning | Unhealthy | kubelet | Readiness probe errored: ... | 2 minutes (13 times over 4 minutes)`.
fn pipe_row(s: &str, owner: Option<&Involved>) -> Option<EventDraft> {
    let cells: Vec<&str> = s.trim().trim_matches('|').split(" | ").map(str::trim).collect();
    if cells.len() < 3 || !is_type(cells[0]) {
        return None;
    }
    let reason = cells[1];
    if reason.is_empty() || reason.contains(' ') {
        return None;
    }
    let mut e = EventDraft {
        type_: cells[0].to_string(),
        reason: reason.to_string(),
        count: 1,
        involved: owner.cloned(),
        ..EventDraft::default()
    };
    let mut message = "";
    for c in &cells[2..] {
        if let Some(a) = parse_event_age(c).filter(|_| !c.is_empty()) {
            e.last = a.last;
            e.first = a.first;
            e.count = a.count;
        } else if e.component.is_empty()
            && !c.contains(' ')
            && c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-' || ch.is_ascii_digit())
        {
            e.component = c.to_string();
        } else if c.len() > message.len() {
            message = c;
        }
    }
    e.message = message.to_string();
    Some(e)
}

static HARNESS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\bAt (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [+-]\d{4}(?: [A-Z]+)?) - event for ([^:\s]+): \{([^}]*)\} ([A-Za-z]+): (.*)$").ok()
});

static HARNESS_NS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"Collecting events from namespace "([^"]+)""#).ok());

/// The e2e framework's dump: `At 2024-01-02 03:04:05 +0000 UTC - event for web-1: {kubelet
/// node-1} BackOff: Back-off restarting failed container`.
pub fn harness_line(lines: &[Line<'_>], i: usize, b: &mut Builder<'_>) -> Option<usize> {
    let s = lines[i].as_str();
    if !s.contains(" - event for ") {
        if s.contains("Collecting events from namespace") {
            let ns = HARNESS_NS.as_ref()?.captures(s)?.get(1)?.as_str().to_string();
            b.harness_ns = Some(ns);
            return Some(i + 1);
        }
        return None;
    }
    let c = HARNESS.as_ref()?.captures(s)?;
    let t = time::parse_go_time(c.get(1)?.as_str());
    let obj = c.get(2)?.as_str();
    let source = c.get(3)?.as_str();
    let component = component_of(source);
    let (kind, name) = match obj.split_once('/') {
        Some((k, n)) => (kind_of_resource(k).map(str::to_string).unwrap_or_else(|| capitalise(k)), n.to_string()),
        None => (kind_of_component(&component).to_string(), obj.to_string()),
    };
    let when = t.map(When::At).unwrap_or_default();
    let reason = c.get(4)?.as_str().to_string();
    let e = EventDraft {
        involved: Some(Involved { kind, name, namespace: b.harness_ns.clone() }),
        type_: if warning_reason(&reason) { "Warning" } else { "Normal" }.to_string(),
        reason,
        message: c.get(5)?.as_str().trim().to_string(),
        component,
        count: 1,
        first: when,
        last: when,
        field_path: None,
    };
    b.add_event(e);
    Some(i + 1)
}

/// The kind of object a reporting component's events are about.
fn kind_of_component(c: &str) -> &'static str {
    match c {
        "replicaset-controller" => "ReplicaSet",
        "deployment-controller" => "Deployment",
        "statefulset-controller" => "StatefulSet",
        "daemonset-controller" => "DaemonSet",
        "job-controller" => "Job",
        "cronjob-controller" => "CronJob",
        "persistentvolume-controller" => "PersistentVolumeClaim",
        "endpoint-controller" | "endpoint-slice-controller" => "Endpoints",
        "node-controller" => "Node",
        _ => "Pod",
    }
}

/// Reasons the kubelet and controllers emit as warnings (for sources that do not say).
fn warning_reason(r: &str) -> bool {
    r.starts_with("Failed")
        || matches!(
            r,
            "BackOff"
                | "Unhealthy"
                | "Evicted"
                | "OOMKilling"
                | "ErrImageNeverPull"
                | "InspectFailed"
                | "NetworkNotReady"
                | "ProbeWarning"
        )
}

/// Kubelet, scheduler and API messages that identify themselves outside any table.
const BARE: &[(&str, &str, &str)] = &[
    ("Failed to pull image \"", "Warning", "Failed"),
    ("Back-off pulling image \"", "Normal", "BackOff"),
    ("Back-off restarting failed container", "Warning", "BackOff"),
    ("Error: ErrImagePull", "Warning", "Failed"),
    ("Error: ImagePullBackOff", "Warning", "Failed"),
    ("Error: InvalidImageName", "Warning", "Failed"),
    ("Error: failed to create containerd task", "Warning", "Failed"),
    ("Error: failed to start container", "Warning", "Failed"),
    ("Error: container create failed", "Warning", "Failed"),
    ("Error: failed to create container", "Warning", "Failed"),
    ("Error: secret \"", "Warning", "Failed"),
    ("Error: configmap \"", "Warning", "Failed"),
    ("Error: couldn't find key ", "Warning", "Failed"),
    ("Error: container has runAsNonRoot", "Warning", "Failed"),
    ("Error: container's runAsUser", "Warning", "Failed"),
    ("MountVolume.SetUp failed for volume", "Warning", "FailedMount"),
    ("MountVolume.MountDevice failed for volume", "Warning", "FailedMount"),
    ("Unable to attach or mount volumes:", "Warning", "FailedMount"),
    ("Unable to mount volumes for pod", "Warning", "FailedMount"),
    ("Multi-Attach error for volume", "Warning", "FailedAttachVolume"),
    ("Liveness probe failed:", "Warning", "Unhealthy"),
    ("Readiness probe failed:", "Warning", "Unhealthy"),
    ("Startup probe failed:", "Warning", "Unhealthy"),
    ("Liveness probe errored:", "Warning", "Unhealthy"),
    ("Readiness probe errored:", "Warning", "Unhealthy"),
    ("Startup probe errored:", "Warning", "Unhealthy"),
    ("Failed to create pod sandbox:", "Warning", "FailedCreatePodSandBox"),
    ("Error creating: ", "Warning", "FailedCreate"),
    ("Internal error occurred: failed calling webhook", "Warning", "FailedCreate"),
    ("Error syncing pod", "Warning", "FailedSync"),
    ("The node was low on resource: ", "Warning", "Evicted"),
];

/// A kubelet log line's header (`E0101 12:00:00.000 1234 file.go:51] `, or the tail of one).
fn strip_klog(s: &str) -> &str {
    if let Some(p) = s.find("] ")
        && p < 60
        && s[..p].contains(".go:")
    {
        return &s[p + 2..];
    }
    s
}

/// `pods "x" is forbidden: <why>` anywhere in a line (often quoted inside YAML or JSON, with
/// escaped quotes): the API server's refusal of a pod.
fn forbidden_pod(s: &str) -> Option<String> {
    if !s.contains(" is forbidden: ") {
        return None;
    }
    let un = s.replace("\\\"", "\"").replace("\\\\", "\\");
    let start = un.find("pods \"")?;
    let rest = &un[start..];
    rest.find("\" is forbidden: ")?;
    let rest = rest.trim_end().trim_end_matches(',').trim_end_matches('\'').trim_end_matches('"');
    Some(rest.to_string())
}

/// A bare message (no table, no type): see [`BARE`].
pub fn bare_message(lines: &[Line<'_>], i: usize, ctx: Ctx<'_>, b: &mut Builder<'_>) -> Option<usize> {
    let raw = lines[i].as_str().trim();
    let s = strip_klog(raw);
    let mut found = BARE.iter().find(|(p, _, _)| s.starts_with(p)).map(|&(_, t, r)| (t, r, s.to_string()));
    if found.is_none() {
        if let Some(p) = s.find("0/")
            && p < 20
            && s[p..].contains(" nodes are available")
        {
            found = Some(("Warning", "FailedScheduling", s[p..].to_string()));
        } else if s.contains("Pull image \"") && s.contains("\" failed:") {
            found = Some(("Warning", "Failed", s.to_string()));
        } else if let Some(msg) = forbidden_pod(s) {
            found = Some(("Warning", "FailedCreate", format!("Error creating: {msg}")));
        } else if let Some(rest) = s.strip_prefix("Error from server (")
            && let Some(p) = rest.find("error when creating ")
        {
            // `kubectl apply`: `... error when creating "file.yml": <API error>`.
            let after = &rest[p + "error when creating ".len()..];
            let msg = after.split_once("\": ").map(|(_, m)| m).unwrap_or(after);
            found = Some(("Warning", "FailedCreate", format!("Error creating: {msg}")));
        }
    }
    let (type_, reason, message) = found?;
    let mut e = EventDraft {
        type_: type_.to_string(),
        reason: reason.to_string(),
        message,
        count: 1,
        involved: ctx.object(),
        ..EventDraft::default()
    };
    e.component = match reason {
        "FailedScheduling" => "default-scheduler".to_string(),
        "FailedCreate" => "replicaset-controller".to_string(),
        _ => "kubelet".to_string(),
    };
    // Lines that continue the message (a wrapped API error).
    let mut j = i + 1;
    while j < lines.len() {
        let n = lines[j].as_str();
        if is_blank(n) || starts_structure(n) || text::indent(n) == 0 && !n.starts_with('[') {
            break;
        }
        push_continuation(&mut e, n, true);
        j += 1;
    }
    b.add_event(e);
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert!(header("  Type     Reason   Age   From   Message").is_some());
        assert!(header("LAST SEEN   TYPE      REASON    OBJECT      MESSAGE").is_some());
        assert!(header("NAMESPACE   LAST SEEN   TYPE   REASON   OBJECT   SUBOBJECT   SOURCE   MESSAGE   FIRST SEEN   COUNT   NAME").is_some());
        assert!(
            header("LASTSEEN   FIRSTSEEN   COUNT   NAME   KIND   SUBOBJECT   TYPE   REASON   SOURCE   MESSAGE")
                .is_some()
        );
        assert!(header("Type Status").is_none());
        assert!(header("NAME READY STATUS").is_none());
    }

    #[test]
    fn cells_snap_to_words() {
        assert_eq!(cell("Warning  Failed  10s", 9, Some(16)), "Failed");
        // A boundary inside a multi-byte character must not panic.
        assert_eq!(cell("ab€cd", 3, None), "");
        assert_eq!(cell("ab €cd", 3, None), "€cd");
        assert_eq!(cell("short", 40, None), "");
    }

    #[test]
    fn source_split() {
        assert_eq!(split_source("kubelet, docker-desktop  Error: x").map(|(s, _)| s), Some("kubelet, docker-desktop"));
        let t = "kubelet, minikube Error: failed";
        let (s, off) = split_source(t).unwrap();
        assert_eq!((s, &t[off..]), ("kubelet, minikube", "Error: failed"));
        let t = "{default-scheduler }  Successfully assigned";
        let (s, off) = split_source(t).unwrap();
        assert_eq!((s, &t[off..]), ("{default-scheduler }", "Successfully assigned"));
    }
}
