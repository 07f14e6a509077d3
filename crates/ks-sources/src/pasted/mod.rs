//! The pasted-text source: `kubectl describe` output, `kubectl get events` / `kubectl events`
//! tables, `kubectl get pods` tables, container logs and YAML/JSON objects, as people paste
//! them into issues and chats, turned into the same [`Evidence`] the snapshot source produces
//! so that every rule diagnoses pasted text unchanged.
//!
//! # What is read
//!
//! - `describe` output of Pods (containers, states, probes, env refs, mounts, volumes,
//!   conditions, tolerations, events), Nodes, Deployments, ReplicaSets, StatefulSets,
//!   DaemonSets, Jobs, CronJobs, Services (with their endpoints), Endpoints, Ingresses,
//!   PersistentVolumeClaims/Volumes, and custom resources (cert-manager Certificates,
//!   Challenges…) through kubectl's generic describer. A fragment that starts inside a pod
//!   (an indented `State: Terminated` block) becomes a container of a synthetic pod.
//! - Event tables: describe's `Events:`, `kubectl get events` (default, `-A`, `-o wide`, the
//!   pre-1.14 layout), `kubectl events`, rows pasted without their header, dashboard tables
//!   with `|` separators, the e2e framework's `At <time> - event for <obj>: {<source>} <reason>:
//!   <message>` lines, and bare kubelet/scheduler messages (`Failed to pull image "x": …`,
//!   `0/3 nodes are available: …`) outside any table.
//! - `kubectl get pods` tables (any of `-A`, `-o wide`, `pod/` names), rows without header,
//!   and minimal `kubectl get nodes|deploy|pvc` tables.
//! - YAML or JSON objects and lists (through the snapshot source's object loader), and YAML
//!   fragments of a pod (`status:`, `containerStatuses:`, `state:` …).
//! - Everything else that is not kubectl's own output is a container log line.
//!
//! Pastes are cleaned first: CRLF, ANSI colours, tabs, markdown quotes (nested), code fences,
//! shell prompts and the kubectl command line above a block (which gives the kind, name,
//! namespace, container and `--previous` of what follows, until the next command or the end
//! of its code block). In a markdown paste with code fences, text outside the fences is prose;
//! after a kubectl command other than `logs`, text no parser understood is kubectl output
//! (skipped); anywhere else it is a log.
//!
//! # Reference time
//!
//! kubectl prints ages (`7m28s (x3 over 11h)`) relative to when it ran. They are converted
//! relative to [`PasteOptions::now`] when set, else to the newest absolute time in the paste
//! (describe's `Started`/`Finished`, YAML timestamps, `--timestamps` log prefixes, e2e event
//! times), else to the fixed [`REFERENCE_NOW`]. Never the wall clock: a paste reads the same
//! whenever it is analysed.
//!
//! # Where unattributed evidence goes
//!
//! Events and logs that name no object (a bare events table, a log without a `kubectl logs`
//! line) attach to the pod a `Successfully assigned ns/name to node` event names, else to the
//! only pod in the evidence (logs: its first failing container, as the previous instance),
//! else to a synthetic pod [`SYNTHETIC_POD`] in namespace `default`, annotated
//! [`SYNTHETIC_ANNOTATION`]`: "true"`, with one container `app`. A synthetic pod's state is
//! restated from its events (the kubelet emits `Error: ErrImagePull`, `Back-off restarting
//! failed container`, `FailedScheduling`… exactly when it sets the matching state); when a log
//! is all there is, the container is `Waiting: CrashLoopBackOff` with restart count 1 so that
//! the crash classifier reads the log. A later input that names the only real pod takes over
//! the synthetic pod's events and logs.
//!
//! A container whose current state is `Terminated` with restarts and no `Last State` (a
//! describe taken between two restarts) gets that termination as its last state too, which is
//! what the kubelet shows once it restarts it.
//!
//! Pods from a `get pods` row carry [`TABLE_ANNOTATION`] until a richer description of the
//! same pod replaces them. Describe-only facts with no field of their own travel as
//! annotations: a Node's `Allocated resources` (`kubesleuth.io/allocated-requests.<res>`,
//! `kubesleuth.io/allocated-limits.<res>`) and an Ingress backend's endpoints as describe
//! printed them (`kubesleuth.io/endpoints.<service>`, e.g. `<error: endpoints "web" not found>`). kubectl's refusal of a create (`Error from server (Forbidden): error
//! when creating …`) and bare `Error creating: …` messages become `FailedCreate` events on a
//! synthetic ReplicaSet `pasted`, as a controller would record them.
//!
//! # What is not read
//!
//! Describe output of other kinds (Secrets, ConfigMaps, RBAC, HPAs…) is skipped, as are tables
//! of other `kubectl get` listings. Lines that are neither structure nor log are skipped.
//! Everything runs in one forward pass over the lines (linear in the input).

mod describe;
mod events;
mod model;
mod tables;
mod text;
mod time;
mod yaml;

use std::borrow::Cow;

use jiff::Timestamp;
use ks_core::{Evidence, Gap};

use model::{Builder, LogTarget};
use text::{Command, Line};

/// The synthetic pod's name.
pub const SYNTHETIC_POD: &str = "pasted";
/// Annotation on pods built from hints rather than a description.
pub const SYNTHETIC_ANNOTATION: &str = ks_core::evidence::SYNTHETIC_ANNOTATION;
/// Annotation on pods known only from a `kubectl get pods` row.
pub const TABLE_ANNOTATION: &str = "kubesleuth.io/from-table";
/// "Now" for pastes with no absolute time at all: 2000-01-01T00:00:00Z, obviously not real.
pub const REFERENCE_NOW: Timestamp = Timestamp::constant(946_684_800, 0);

/// Options of the pasted-text source.
#[derive(Clone, Debug)]
pub struct PasteOptions {
    /// The reference "now" for kubectl's relative ages; `None`: the newest absolute time in
    /// the paste, else [`REFERENCE_NOW`].
    pub now: Option<Timestamp>,
    /// Inputs larger than this are reported and skipped.
    pub max_bytes: usize,
}

impl Default for PasteOptions {
    fn default() -> Self {
        PasteOptions { now: None, max_bytes: 1 << 30 }
    }
}

/// Parse one pasted input (a file or stdin) into `ev`. Never panics; unknown lines are
/// skipped; problems become `ev.gaps`. Call [`Evidence::finish`] after the last input.
pub fn load_pasted(name: &str, bytes: &[u8], opts: &PasteOptions, ev: &mut Evidence) {
    let gap = |ev: &mut Evidence, message: String| {
        ev.gaps.push(Gap { file: Some(name.to_string()), line: None, message });
    };
    if bytes.len() > opts.max_bytes {
        return gap(ev, format!("input is {} bytes, over the {} byte limit; skipped", bytes.len(), opts.max_bytes));
    }
    let text = match decode(bytes) {
        Ok(t) => t,
        Err(msg) => return gap(ev, msg),
    };
    let lines = text::prepare(&text);
    let mut b = Builder::new(name, opts);
    // In markdown with code fences, text outside the fences is prose, not a log.
    let fenced = lines.iter().any(|l| text::is_fence(l.as_str()));
    Parser { lines: &lines, b: &mut b, cmd: None, fenced, in_fence: false }.run();
    if b.is_empty() && b.gaps.is_empty() && !text.trim().is_empty() {
        b.gap(Some(1), "no kubectl output, object or log recognised; skipped");
    }
    b.finish(ev);
}

/// Bytes to text: UTF-8 (BOM dropped), UTF-16 with a BOM (PowerShell redirects), or a little
/// invalid UTF-8 in otherwise text; binary data is refused.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]).or_else(|| bytes.strip_prefix(&[0xFE, 0xFF])) {
        let le = bytes[0] == 0xFF;
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect();
        return Ok(Cow::Owned(String::from_utf16_lossy(&units)));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    // Control characters are counted in the first 64 KiB: junk shows there.
    let head = &bytes[..bytes.len().min(64 << 10)];
    let controls = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x1b | 0x0c)).count();
    if bytes.contains(&0) || controls * 100 > head.len().max(1) {
        return Err("binary data, not text; skipped".to_string());
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok(Cow::Borrowed(t)),
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            let bad = text.chars().filter(|&c| c == char::REPLACEMENT_CHARACTER).count();
            if bad * 50 > text.chars().count().max(1) {
                return Err("binary data, not UTF-8 text; skipped".to_string());
            }
            Ok(Cow::Owned(text.into_owned()))
        }
    }
}

/// What the command line above a block says about it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx<'c> {
    pub cmd: Option<&'c Command>,
}

impl Ctx<'_> {
    pub fn namespace(&self) -> Option<&str> {
        self.cmd.and_then(|c| c.namespace.as_deref())
    }

    /// The object a `describe`/`get`/`events --for` names.
    pub fn object(&self) -> Option<model::Involved> {
        let c = self.cmd?;
        if !c.kubectl || c.verb == "logs" {
            return None;
        }
        Some(model::Involved { kind: c.kind?.to_string(), name: c.name.clone()?, namespace: c.namespace.clone() })
    }
}

/// Cheap test before the full command parser: a command starts with `kubectl`/`oc`/`$`, or has
/// a prompt character and `kubectl`/`oc ` in its first hundred bytes.
pub(crate) fn maybe_command(s: &str) -> bool {
    let b = &s.as_bytes()[text::indent(s)..];
    if b.starts_with(b"kubectl") || b.starts_with(b"oc ") || b.starts_with(b"$") {
        return true;
    }
    let head = &b[..b.len().min(100)];
    let prompt = head.contains(&b'$')
        || head.contains(&b'#')
        || head.contains(&b'>')
        || head.contains(&b'%')
        || head.contains(&0xe2)
        || head.contains(&0xc2);
    prompt && (head.windows(7).any(|w| w == b"kubectl") || head.windows(3).any(|w| w == b"oc "))
}

pub(crate) fn command_at(s: &str) -> Option<Command> {
    if maybe_command(s) { text::parse_command(s) } else { None }
}

/// Whether a line starts some other structure (ends a table's continuation lines).
pub(crate) fn starts_structure(s: &str) -> bool {
    if command_at(s).is_some() || text::is_fence(s) {
        return true;
    }
    if text::indent(s) == 0
        && let Some(kv) = text::key_value(s)
        && kv.key.starts_with(|c: char| c.is_ascii_uppercase())
        && !kv.key.contains(' ')
        && kv.key.len() < 20
        && (kv.value.is_empty() || describe::is_describe_key(kv.key))
    {
        return true;
    }
    tables::is_table_header(s) || events::header(s).is_some()
}

struct Parser<'a, 'b, 'o> {
    lines: &'a [Line<'a>],
    b: &'b mut Builder<'o>,
    cmd: Option<Command>,
    /// The paste has code fences, and whether the current line is inside one.
    fenced: bool,
    in_fence: bool,
}

impl Parser<'_, '_, '_> {
    fn run(&mut self) {
        let n = self.lines.len();
        let mut i = 0;
        while i < n {
            let s = self.lines[i].as_str();
            if text::is_fence(s) {
                // A closing fence ends the command's output: the next block stands alone.
                if self.in_fence {
                    self.cmd = None;
                }
                self.in_fence = !self.in_fence;
                i += 1;
                continue;
            }
            if text::is_blank(s) {
                i += 1;
                continue;
            }
            if let Some(c) = command_at(s) {
                self.cmd = Some(c);
                i += 1;
                continue;
            }
            let ctx = Ctx { cmd: self.cmd.as_ref() };
            if let Some(end) = structure_at(self.lines, i, ctx, self.b) {
                i = end.max(i + 1);
                continue;
            }
            self.loose_line(i);
            i += 1;
        }
    }

    /// A line that is no structure: a log line, unless it follows a kubectl command other
    /// than `logs` (kubectl output this source does not model, e.g. a Secret's description)
    /// or is prose outside the code fences of a markdown paste.
    fn loose_line(&mut self, i: usize) {
        let s = self.lines[i].as_str();
        if text::is_noise(s) || text::is_heading(s) || (self.fenced && !self.in_fence) {
            return;
        }
        let cmd = self.cmd.as_ref();
        let kubectl_output = cmd.is_some_and(|c| c.kubectl && !c.is_logs());
        if kubectl_output {
            return;
        }
        let logs_cmd = cmd.filter(|c| c.is_logs());
        let mut target = match logs_cmd {
            Some(c) => LogTarget {
                pod: c.name.clone().filter(|_| c.kind == Some("Pod")),
                namespace: c.namespace.clone(),
                container: c.container.clone(),
                previous: c.previous,
            },
            None => LogTarget { pod: None, namespace: None, container: None, previous: true },
        };
        let mut line = s;
        // `kubectl logs --prefix`: `[pod/NAME/CONTAINER] line`.
        if let Some(rest) = line.strip_prefix("[pod/")
            && let Some((obj, msg)) = rest.split_once("] ")
            && let Some((pod, container)) = obj.split_once('/')
        {
            target.pod = Some(pod.to_string());
            target.container = Some(container.to_string());
            line = msg;
        }
        if let Some((t, rest)) = time::strip_log_timestamp(line) {
            self.b.saw_time(t);
            line = rest;
        }
        self.b.add_log_line(&target, line);
    }
}

/// Try every structure parser at line `i`; the end of what one consumed.
fn structure_at(lines: &[Line<'_>], i: usize, ctx: Ctx<'_>, b: &mut Builder<'_>) -> Option<usize> {
    let s = lines[i].as_str();
    let mut in_logs = ctx.cmd.is_some_and(|c| c.is_logs());
    // A describe pasted after logs without its own command line: `Name:` then `Namespace:`.
    if in_logs && s.starts_with("Name:") && lines.get(i + 1).is_some_and(|n| n.as_str().starts_with("Namespace:")) {
        in_logs = false;
    }
    if let Some(end) = events::harness_line(lines, i, b) {
        return Some(end);
    }
    if !in_logs {
        if let Some(kv) = text::key_value(s) {
            if kv.key == "Name"
                && !kv.value.is_empty()
                && !kv.value.contains(' ')
                && let Some(end) = describe::parse(lines, i, ctx, b)
            {
                return Some(end);
            }
            if kv.key == "Events" {
                if text::none_value(kv.value) {
                    return Some(i + 1);
                }
                if kv.value.is_empty() {
                    return Some(events::parse_after_label(lines, i + 1, ctx.object(), ctx, b));
                }
            }
        }
        if events::header(s).is_some() {
            return Some(events::parse_table(lines, i, ctx.object(), ctx, b));
        }
        if tables::is_table_header(s) {
            return Some(tables::parse(lines, i, ctx, b));
        }
    }
    if in_logs {
        // `kubectl logs` output is the container's own text, whatever it looks like.
        return None;
    }
    if let Some(end) = yaml::parse(lines, i, ctx, b) {
        return Some(end);
    }
    if let Some(end) = events::loose_rows(lines, i, ctx.object(), ctx, b) {
        return Some(end);
    }
    if let Some(end) = tables::headerless_pod_row(lines, i, ctx, b) {
        return Some(end);
    }
    if let Some(end) = describe::fragment(lines, i, ctx, b) {
        return Some(end);
    }
    events::bare_message(lines, i, ctx, b)
}
