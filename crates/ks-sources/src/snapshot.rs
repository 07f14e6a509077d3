//! The snapshot source: files and directories of `kubectl` output, in any mix.

use std::path::{Path, PathBuf};

use ks_core::{Evidence, Gap, LogExcerpt};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::SourceError;
use crate::logs;
use crate::objects::{Head, add_object, item_kind};

#[derive(Clone, Debug)]
pub struct SnapshotOptions {
    /// Files larger than this are reported and skipped rather than read into memory.
    pub max_file_bytes: u64,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions { max_file_bytes: 1 << 30 }
    }
}

/// Load every file under `paths` (recursively) into one evidence set, in parallel.
/// Unreadable files become [`Gap`]s; only a path that does not exist is an error.
pub fn load_paths(paths: &[PathBuf], opts: &SnapshotOptions) -> Result<Evidence, SourceError> {
    let mut files = Vec::new();
    for p in paths {
        if !p.exists() {
            return Err(SourceError::NotFound { path: p.clone() });
        }
        collect_files(p, &mut files).map_err(|source| SourceError::Io { path: p.clone(), source })?;
    }
    files.sort();
    let parts: Vec<Evidence> = files
        .par_iter()
        .map(|f| {
            let mut ev = Evidence::default();
            load_file(f, opts, &mut ev);
            ev
        })
        .collect();
    let mut ev = Evidence::merge_all(parts);
    ev.finish();
    Ok(ev)
}

/// Documentation beside a snapshot (a README), and the manifest `kubesleuth snapshot`
/// writes, are not evidence and not an error.
fn is_documentation(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == "kubesleuth-snapshot.json")
        || p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "md" | "markdown" | "rst" | "adoc"))
}

fn collect_files(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if p.is_dir() {
        for entry in std::fs::read_dir(p)? {
            let path = entry?.path();
            let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            if !hidden && !is_documentation(&path) {
                collect_files(&path, out)?;
            }
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

fn gap(ev: &mut Evidence, file: &str, line: Option<u32>, message: impl Into<String>) {
    ev.gaps.push(Gap { file: Some(file.to_string()), line, message: message.into() });
}

fn load_file(path: &Path, opts: &SnapshotOptions, ev: &mut Evidence) {
    let name = path.display().to_string();
    let size = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => return gap(ev, &name, None, format!("cannot read: {e}")),
    };
    if size > opts.max_file_bytes {
        return gap(
            ev,
            &name,
            None,
            format!("file is {size} bytes, over the {} byte limit; skipped", opts.max_file_bytes),
        );
    }
    match std::fs::read(path) {
        Ok(bytes) => load_named(&name, Some(path), &bytes, ev),
        Err(e) => gap(ev, &name, None, format!("cannot read: {e}")),
    }
}

/// Load one in-memory input (stdin, a fuzz case) named `name`.
pub fn load_bytes(name: &str, bytes: &[u8], ev: &mut Evidence) {
    load_named(name, None, bytes, ev);
}

fn load_named(name: &str, path: Option<&Path>, bytes: &[u8], ev: &mut Evidence) {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = line_of(bytes, e.valid_up_to());
            return gap(ev, name, Some(line), "binary data, not UTF-8 text; skipped");
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        let line = line_of(text.as_bytes(), text.find('\0').unwrap_or(0));
        return gap(ev, name, Some(line), "binary data (NUL bytes); skipped");
    }
    // A log file by the naming convention: `<ns>/<pod>/<container>[.previous].log`.
    if let Some(key) = path.and_then(logs::key_from_path) {
        ev.logs.insert(key, LogExcerpt::from_text(text, name));
        return;
    }
    let sections = logs::split_sections(text);
    let mut read_any = !sections.is_empty();
    let mut cursor = 0;
    for s in &sections {
        let (key, excerpt) = logs::excerpt(text, s, name);
        ev.logs.insert(key, excerpt);
        read_any |= load_objects(name, text, cursor..s.whole.start, ev);
        cursor = s.whole.end;
    }
    read_any |= load_objects(name, text, cursor..text.len(), ev);
    if !read_any && !text.trim().is_empty() {
        gap(ev, name, Some(1), "not a Kubernetes object, list, or container log; skipped");
    }
}

fn line_of(bytes: &[u8], offset: usize) -> u32 {
    let offset = offset.min(bytes.len());
    (bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1) as u32
}

/// Parse the objects in `text[range]`. Returns whether the range held anything recognisable.
fn load_objects(name: &str, text: &str, range: std::ops::Range<usize>, ev: &mut Evidence) -> bool {
    let seg = &text[range.clone()];
    let trimmed = seg.trim_start();
    if trimmed.is_empty() {
        return false;
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        load_json_stream(name, text, range.start, seg, ev);
        true
    } else if looks_like_yaml_object(seg) {
        load_yaml(name, text, range.start, seg, ev);
        true
    } else {
        false
    }
}

fn looks_like_yaml_object(seg: &str) -> bool {
    seg.lines().any(|l| l.starts_with("kind:") || l.starts_with("apiVersion:"))
}

#[derive(Deserialize)]
struct ListHead<'a> {
    #[serde(default)]
    kind: Option<String>,
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

fn load_json_stream(name: &str, text: &str, base: usize, seg: &str, ev: &mut Evidence) {
    let stream = serde_json::Deserializer::from_str(seg).into_iter::<&RawValue>();
    for item in stream {
        match item {
            Ok(raw) => load_json_value(name, text, raw, ev),
            Err(e) => {
                let line = line_of(text.as_bytes(), base) + e.line().saturating_sub(1) as u32;
                gap(ev, name, Some(line), format!("malformed JSON: {e}"));
                return;
            }
        }
    }
}

fn offset_in(text: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize)
}

fn load_json_value(name: &str, text: &str, raw: &RawValue, ev: &mut Evidence) {
    let json = raw.get();
    if json.starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(json) {
            Ok(items) => items.into_iter().for_each(|i| load_item(name, text, i, None, None, ev)),
            Err(e) => gap(
                ev,
                name,
                Some(line_of(text.as_bytes(), offset_in(text, json))),
                format!("malformed JSON array: {e}"),
            ),
        }
        return;
    }
    let head: ListHead<'_> = match serde_json::from_str(json) {
        Ok(h) => h,
        Err(e) => {
            let line = line_of(text.as_bytes(), offset_in(text, json)) + e.line().saturating_sub(1) as u32;
            return gap(ev, name, Some(line), format!("not a Kubernetes object: {e}"));
        }
    };
    match head.items {
        Some(items) => {
            let list_kind = head.kind.as_deref().unwrap_or("List");
            let default_kind = item_kind(list_kind).filter(|k| *k != "List" && !k.is_empty());
            if let Some(k) = default_kind {
                ev.collected.insert(k.to_string());
            }
            let api = head.api_version.as_deref();
            for item in items {
                load_item(name, text, item, default_kind, api, ev);
            }
        }
        None => load_item(name, text, raw, None, None, ev),
    }
}

fn load_item(
    name: &str,
    text: &str,
    raw: &RawValue,
    list_kind: Option<&str>,
    list_api: Option<&str>,
    ev: &mut Evidence,
) {
    let json = raw.get();
    let line = || line_of(text.as_bytes(), offset_in(text, json));
    let head: Head = match serde_json::from_str(json) {
        Ok(h) => h,
        Err(e) => return gap(ev, name, Some(line()), format!("not a Kubernetes object: {e}")),
    };
    let Some(kind) = head.kind.as_deref().or(list_kind) else {
        return gap(ev, name, Some(line()), "object has no `kind`; skipped");
    };
    let api = head.api_version.as_deref().or(list_api).unwrap_or("v1");
    // A list without a typed kind (`List`) still tells us the kinds it carries.
    if list_kind.is_none() && list_api.is_some() {
        ev.collected.insert(kind.to_string());
    }
    if let Err(e) = add_object(ev, kind, api, json) {
        gap(ev, name, Some(line()), format!("{kind} {}: {e}", object_name(json)));
    }
}

fn object_name(json: &str) -> String {
    #[derive(Deserialize)]
    struct M {
        #[serde(default)]
        metadata: Option<N>,
    }
    #[derive(Deserialize)]
    struct N {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        namespace: Option<String>,
    }
    match serde_json::from_str::<M>(json).ok().and_then(|m| m.metadata) {
        Some(N { name: Some(n), namespace: Some(ns) }) => format!("{ns}/{n}"),
        Some(N { name: Some(n), .. }) => n,
        _ => "(unnamed)".to_string(),
    }
}

fn load_yaml(name: &str, text: &str, base: usize, seg: &str, ev: &mut Evidence) {
    let docs: Vec<serde_json::Value> = match serde_saphyr::from_multiple(seg) {
        Ok(d) => d,
        Err(e) => {
            let first_line = line_of(text.as_bytes(), base);
            return gap(ev, name, Some(first_line), format!("malformed YAML: {}", one_line(&e.to_string())));
        }
    };
    for doc in docs {
        if doc.is_null() {
            continue;
        }
        let json = doc.to_string();
        let mut tmp = String::new();
        tmp.push_str(&json);
        match serde_json::from_str::<&RawValue>(&tmp) {
            Ok(raw) => load_json_value(name, &tmp, raw, ev),
            Err(e) => gap(ev, name, None, format!("YAML document: {e}")),
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
