//! Writing a collection as a snapshot directory, redacted.
//!
//! The layout is `kubectl cluster-info dump --output-directory`'s, so tools that read those
//! read it: `DIR/nodes.json`, `DIR/<ns>/{pods,services,deployments,replicasets,daemonsets,
//! events,replication-controllers}.json` as typed `*List` JSON for every namespace, and
//! `DIR/<ns>/<pod>/logs.txt` with `==== START/END logs for container ...` sections. Added:
//! the other kinds the rules read (`DIR/<ns>/<plural>.json`, cluster-scoped ones as
//! `DIR/<plural>.json`, custom resources as `<plural>.<group>.json`), previous logs as
//! `DIR/<ns>/<pod>/<container>.previous.log`, and `DIR/kubesleuth-snapshot.json`, the
//! manifest (tool, time, context, kinds, what was skipped).
//!
//! A kind listed completely is written as a typed list even when empty, so that reading the
//! snapshot back knows it was collected; objects of a list that stopped early are written as
//! a bare JSON array (`<name>.partial.json`), which carries the objects but claims nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use ks_core::LogKey;
use serde_json::{Value, json};

use crate::collect::{Collection, Kept};
use crate::kinds::ResourceSpec;
use crate::{LiveError, Target, redact};

/// The manifest's file name; the snapshot source skips it.
pub const MANIFEST: &str = "kubesleuth-snapshot.json";

/// Files `kubectl cluster-info dump` writes in every namespace, by plural.
const DUMP_FILES: &[(&str, &str)] = &[
    ("pods", "pods.json"),
    ("services", "services.json"),
    ("deployments", "deployments.json"),
    ("replicasets", "replicasets.json"),
    ("daemonsets", "daemonsets.json"),
    ("events", "events.json"),
    ("replicationcontrollers", "replication-controllers.json"),
];

/// What the snapshot holds, for the command's summary line.
#[derive(Clone, Debug, Default)]
pub struct Written {
    pub files: usize,
    pub objects: usize,
    pub logs: usize,
}

/// Describes the capture in the manifest.
#[derive(Clone, Debug)]
pub struct CaptureInfo<'a> {
    pub target: &'a Target,
    pub namespace: Option<&'a str>,
    pub secret_keys: bool,
    pub tool_version: &'a str,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LiveError + '_ {
    move |source| LiveError::Write { path: path.to_path_buf(), source }
}

/// A path segment from a cluster name: never a path of its own or hidden.
fn safe_segment(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('.') && !s.contains(['/', '\\', '\0'])
}

/// File name of a kind's list: `secrets.json`, `certificates.cert-manager.io.json`.
fn file_name(spec: &ResourceSpec) -> String {
    if let Some((_, f)) = DUMP_FILES.iter().find(|(p, _)| *p == spec.plural && spec.group_is_builtin()) {
        return (*f).to_string();
    }
    if spec.optional { format!("{}.{}.json", spec.plural, spec.group) } else { format!("{}.json", spec.plural) }
}

impl ResourceSpec {
    /// Core or apps: where the dump's own files come from.
    fn group_is_builtin(&self) -> bool {
        matches!(self.group, "" | "apps")
    }
}

/// One file to write: a typed list (or a bare array for a list that stopped early) of
/// objects.
struct FilePlan<'a> {
    list_kind: String,
    kind: &'static str,
    typed: bool,
    items: Vec<&'a Kept>,
}

/// Write `c` into `dir` (created; it must not exist or be empty). Objects are redacted and
/// written one at a time, so memory stays at the collection's JSON text.
pub fn write_snapshot(dir: &Path, c: &Collection, info: &CaptureInfo<'_>) -> Result<Written, LiveError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
        if entries.next().is_some() {
            return Err(LiveError::Config(format!(
                "{} is not empty; choose a new directory so the snapshot holds only this capture",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut written = Written::default();
    let listed: BTreeSet<&str> = c.report.listed.iter().map(String::as_str).collect();

    // Each object's namespace, read once.
    let located: BTreeMap<&ResourceSpec, Vec<(Option<String>, &Kept)>> = c
        .objects
        .iter()
        .map(|(spec, objs)| (spec, objs.iter().map(|o| (o.namespace().filter(|n| safe_segment(n)), o)).collect()))
        .collect();

    // Namespaces in scope: the one asked for, else every one named by a Namespace or an
    // object.
    let mut namespaces: BTreeSet<String> = BTreeSet::new();
    match info.namespace {
        Some(ns) => {
            namespaces.insert(ns.to_string());
        }
        None => {
            namespaces.extend(c.evidence.namespaces.iter().filter_map(|n| n.metadata.name.clone()));
            namespaces.extend(located.values().flatten().filter_map(|(ns, _)| ns.clone()));
        }
    }
    namespaces.retain(|n| safe_segment(n));

    // Plan every file.
    let mut files: BTreeMap<PathBuf, FilePlan<'_>> = BTreeMap::new();
    let mut specs: Vec<&ResourceSpec> = c.objects.keys().collect();
    for r in crate::kinds::RESOURCES {
        if listed.contains(r.kind) && !specs.contains(&r) {
            specs.push(r);
        }
    }
    for spec in specs {
        let complete = listed.contains(spec.kind);
        let name = file_name(spec);
        let plan =
            |typed| FilePlan { list_kind: format!("{}List", spec.kind), kind: spec.kind, typed, items: Vec::new() };
        let dump_file = spec.namespaced && DUMP_FILES.iter().any(|(_, f)| *f == name);
        if complete && dump_file {
            // The dump's own files exist in every namespace, empty or not.
            for ns in &namespaces {
                files.entry(dir.join(ns).join(&name)).or_insert_with(|| plan(true));
            }
        }
        let objects = located.get(spec).map(Vec::as_slice).unwrap_or_default();
        for (ns, o) in objects {
            let file = match (spec.namespaced, ns) {
                (true, Some(ns)) => dir.join(ns).join(&name),
                _ => dir.join(&name),
            };
            let file = if complete { file } else { file.with_extension("partial.json") };
            files.entry(file).or_insert_with(|| plan(complete)).items.push(o);
        }
        let per_namespace_written = dump_file && !namespaces.is_empty();
        if complete && objects.is_empty() && !per_namespace_written {
            // Listed and empty: an empty typed list still says "collected, none exist".
            files.entry(dir.join(&name)).or_insert_with(|| plan(true));
        }
    }
    for (path, plan) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        written.objects += write_list(path, plan)?;
        written.files += 1;
    }

    written.logs = write_logs(dir, c, &mut written.files)?;
    write_json(&dir.join(MANIFEST), &manifest(c, info))?;
    written.files += 1;
    Ok(written)
}

/// Stream one list file: each object parsed, redacted and written in turn.
fn write_list(path: &Path, plan: &FilePlan<'_>) -> Result<usize, LiveError> {
    let f = std::fs::File::create(path).map_err(io_err(path))?;
    let mut w = std::io::BufWriter::new(f);
    let json_err = |e: serde_json::Error| LiveError::Write { path: path.into(), source: e.into() };
    let api = plan.items.first().map(|k| k.api_version.as_str()).unwrap_or("v1");
    if plan.typed {
        write!(
            w,
            "{{\n\"kind\": {},\n\"apiVersion\": {},\n\"metadata\": {{}},\n\"items\": [",
            json!(plan.list_kind),
            json!(api)
        )
        .map_err(io_err(path))?;
    } else {
        w.write_all(b"[").map_err(io_err(path))?;
    }
    let mut n = 0;
    for kept in &plan.items {
        // Kept objects were parsed once already; one that no longer parses is left out.
        let Ok(mut v) = kept.value() else { continue };
        redact::redact_object(plan.kind, &mut v);
        w.write_all(if n == 0 { b"\n" } else { b",\n" }).map_err(io_err(path))?;
        serde_json::to_writer_pretty(&mut w, &v).map_err(json_err)?;
        n += 1;
    }
    w.write_all(if plan.typed { b"\n]\n}\n" } else { b"\n]\n" }).map_err(io_err(path))?;
    w.flush().map_err(io_err(path))?;
    Ok(n)
}

fn write_json(path: &Path, v: &Value) -> Result<(), LiveError> {
    let f = std::fs::File::create(path).map_err(io_err(path))?;
    let mut w = std::io::BufWriter::new(f);
    serde_json::to_writer_pretty(&mut w, v).map_err(|e| LiveError::Write { path: path.into(), source: e.into() })?;
    w.write_all(b"\n").map_err(io_err(path))?;
    w.flush().map_err(io_err(path))
}

/// Current logs as `logs.txt` sections (the dump's format), previous ones as
/// `<container>.previous.log`. Every line goes through the text redactor, whole (a PEM key
/// spans lines).
fn write_logs(dir: &Path, c: &Collection, files: &mut usize) -> Result<usize, LiveError> {
    let mut current: BTreeMap<(&str, &str), Vec<(&LogKey, String)>> = BTreeMap::new();
    let mut n = 0;
    let mut keys: Vec<&LogKey> = c.evidence.logs.keys().collect();
    keys.sort();
    for key in keys {
        if !safe_segment(&key.namespace) || !safe_segment(&key.pod) || !safe_segment(&key.container) {
            continue;
        }
        let excerpt = &c.evidence.logs[key];
        let mut text = excerpt.lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        let text = redact::redact_text(&text).into_owned();
        n += 1;
        if key.previous {
            let pod_dir = dir.join(&key.namespace).join(&key.pod);
            std::fs::create_dir_all(&pod_dir).map_err(io_err(&pod_dir))?;
            let path = pod_dir.join(format!("{}.previous.log", key.container));
            std::fs::write(&path, text).map_err(io_err(&path))?;
            *files += 1;
        } else {
            current.entry((&key.namespace, &key.pod)).or_default().push((key, text));
        }
    }
    for ((ns, pod), sections) in current {
        let pod_dir = dir.join(ns).join(pod);
        std::fs::create_dir_all(&pod_dir).map_err(io_err(&pod_dir))?;
        let mut out = String::new();
        for (key, text) in sections {
            out.push_str(&format!("==== START logs for container {} of pod {ns}/{pod} ====\n", key.container));
            out.push_str(&text);
            out.push_str(&format!("==== END logs for container {} of pod {ns}/{pod} ====\n", key.container));
        }
        let path = pod_dir.join("logs.txt");
        std::fs::write(&path, out).map_err(io_err(&path))?;
        *files += 1;
    }
    Ok(n)
}

fn manifest(c: &Collection, info: &CaptureInfo<'_>) -> Value {
    let r = &c.report;
    let text = |s: &str| redact::redact_text(s).into_owned();
    json!({
        "tool": {"name": "kubesleuth", "version": info.tool_version},
        "created": jiff::Timestamp::now().to_string(),
        "context": info.target.context,
        "scope": match info.namespace { Some(ns) => json!({"namespace": ns}), None => json!("all-namespaces") },
        "kinds": r.listed,
        "incomplete": r.incomplete,
        "skipped": {
            "forbidden": r.denied.iter().map(|d| json!({
                "resource": d.resource, "verb": d.verb, "namespace": d.namespace,
            })).collect::<Vec<_>>(),
            "not_served": r.not_served,
        },
        "timed_out": r.timed_out,
        "gaps": c.evidence.gaps.iter().map(|g| text(&g.to_string())).collect::<Vec<_>>(),
        "logs": r.logs_fetched,
        "requests": r.requests,
        "secrets": if info.secret_keys { "key names only (--secret-keys); values never written" } else { "metadata only" },
        "redaction": "Secret values; env values named like *PASSWORD*, *TOKEN*, *SECRET*, *KEY*, *CREDENTIAL*, *PASSWD*; \
                      bearer tokens, PEM private keys, URL passwords, AWS access key ids, JWTs and password=... text \
                      in logs, annotations and values are replaced by <redacted:sha256:XXXXXXXX>",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_dump() {
        let by = |k| crate::kinds::by_kind(k).unwrap();
        assert_eq!(file_name(by("ReplicationController")), "replication-controllers.json");
        assert_eq!(file_name(by("Pod")), "pods.json");
        assert_eq!(file_name(by("Secret")), "secrets.json");
        assert_eq!(file_name(by("Certificate")), "certificates.cert-manager.io.json");
        assert_eq!(file_name(by("Ingress")), "ingresses.json");
    }

    #[test]
    fn cluster_names_cannot_escape_the_directory() {
        assert!(safe_segment("shop"));
        assert!(!safe_segment(".."));
        assert!(!safe_segment("a/b"));
        assert!(!safe_segment(""));
    }
}
