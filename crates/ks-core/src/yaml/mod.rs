//! YAML (and JSON, which is YAML) documents to `serde_json::Value`, resolved the way the
//! Kubernetes API machinery resolves them (`sigs.k8s.io/yaml` on go-yaml v2, i.e. YAML 1.1
//! scalars: `yes`/`on` are booleans, `0644` is octal), keeping what the value loses:
//! where each document starts and ends, and duplicate keys.
//!
//! Field positions are not kept for every node (that would cost more than the parse on a
//! large bundle); [`locate`] re-parses one document's text when a finding needs a position.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use granit_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::{Map, Number, Value};

use crate::manifest::{FieldPath, Pos, Seg};

mod fast;

/// One parsed document of a YAML stream (its value shared when read by
/// [`parse_stream_shared`]).
#[derive(Debug, Clone)]
pub struct YamlDoc<V = Value> {
    pub value: V,
    /// 1-based line of the document's first node.
    pub start_line: u32,
    /// 1-based line where the document ends.
    pub end_line: u32,
    /// Keys that appear twice in one mapping: the path and the second occurrence. The API
    /// server keeps the last one silently.
    pub duplicate_keys: Vec<(FieldPath, Pos)>,
    /// Read by the block-YAML fast reader, so that [`find`] places its fields.
    pub simple: bool,
}

impl YamlDoc {
    fn shared(self) -> YamlDoc<Arc<Value>> {
        let YamlDoc { value, start_line, end_line, duplicate_keys, simple } = self;
        YamlDoc { value: Arc::new(value), start_line, end_line, duplicate_keys, simple }
    }
}

impl<V> YamlDoc<V> {
    /// Lines counted from a piece of a stream made lines of the stream: `by` lines later.
    fn shift(&mut self, by: u32) {
        self.start_line += by;
        self.end_line += by;
        for (_, at) in &mut self.duplicate_keys {
            at.line += by;
        }
    }
}

/// A syntax error: the stream cannot be read past it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

enum Frame {
    /// `key`: the key whose value is being read (taken when the value arrives).
    Map {
        value: Map<String, Value>,
        key: Option<(String, Pos)>,
        anchor: usize,
    },
    Seq {
        value: Vec<Value>,
        anchor: usize,
    },
}

/// The path of the node being read, from the open frames: a mapping's pending key, a
/// sequence's next index. Only built when a duplicate key is reported, so that reading
/// does not pay for a path per key.
fn frames_path(frames: &[Frame]) -> Vec<Seg> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Map { key, .. } => key.as_ref().map(|(k, _)| Seg::Key(k.clone())),
            Frame::Seq { value, .. } => Some(Seg::Index(value.len())),
        })
        .collect()
}

/// PyYAML-compatible indentation (what go-yaml accepts too); comments are not events, so a
/// long commented-out block does not hit the parser's comment buffer limit.
fn options() -> granit_parser::Options {
    granit_parser::options! { emit_comments: false }
}

fn pos(span: &Span) -> Pos {
    Pos { line: span.start.line() as u32, column: span.start.col() as u32 + 1 }
}

/// Parse every document of a stream. Documents before a syntax error are returned with it.
///
/// Most manifests are plain block YAML, which [`fast`] reads several times faster than the
/// full parser; a stream it does not handle (or any doubt) is read by the full parser.
pub fn parse_stream(text: &str) -> (Vec<YamlDoc>, Option<YamlError>) {
    if let Some(docs) = parse_stream_fast(text) {
        return (docs, None);
    }
    if let Some(docs) = parse_by_document(text) {
        return (docs, None);
    }
    parse_stream_full(text)
}

/// A stream the fast path declines as a whole, read a document at a time: the fast path for
/// the documents it reads, the full parser for the others, so that one multi-line flow list
/// does not send a 200 KB install file to the full parser whole. YAML documents are
/// independent (an alias cannot reach into another document) and a `---` line always starts
/// one. `None` when there is one document, when a line break other than LF or CRLF could
/// make the line counts differ, or when the full parser finds an error in a piece: the whole
/// stream then goes to the full parser, which reports the error as it always has.
fn parse_by_document(text: &str) -> Option<Vec<YamlDoc>> {
    let pieces = document_pieces(text);
    if pieces.len() < 2 || !fast::printable(text.as_bytes()) {
        return None;
    }
    let mut docs = Vec::new();
    for (start, end, first_line) in pieces {
        for mut d in read_piece(&text[start..end])? {
            d.shift(first_line - 1);
            docs.push(d);
        }
    }
    Some(docs)
}

/// One piece of a printable stream (see [`document_pieces`]): the fast path when it reads
/// it, else the full parser; `None` when the full parser finds an error in it.
fn read_piece(piece: &str) -> Option<Vec<YamlDoc>> {
    match fast::read_printable(piece) {
        Some(docs) => Some(docs),
        None => match parse_stream_full(piece) {
            (docs, None) => Some(docs),
            (_, Some(_)) => None,
        },
    }
}

/// Documents already read in one run, by their text. Manifest repositories repeat
/// documents byte for byte (a CRD in its own file and again in an install bundle: a quarter
/// of the corpus's bytes), and a repeated document is read once and its value shared.
#[derive(Default)]
pub struct DocCache {
    seen: Mutex<foldhash::HashMap<u64, Vec<CachedPiece>>>,
    hasher: foldhash::fast::FixedState,
}

/// The documents of one piece of a stream (lines counted from the piece's first), and where
/// its text is: a range of a text the cache keeps alive, so that no text is copied.
struct CachedPiece {
    text: Arc<str>,
    range: Range<usize>,
    docs: Arc<[YamlDoc<Arc<Value>>]>,
}

impl CachedPiece {
    fn is(&self, piece: &str) -> bool {
        &self.text[self.range.clone()] == piece
    }
}

impl DocCache {
    fn get(&self, hash: u64, piece: &str) -> Option<Arc<[YamlDoc<Arc<Value>>]>> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let found = seen.get(&hash)?.iter().find(|c| c.is(piece))?;
        Some(found.docs.clone())
    }

    /// Keep the documents of `text[range]`, or return those another thread kept meanwhile.
    fn insert(
        &self,
        hash: u64,
        text: &Arc<str>,
        range: Range<usize>,
        docs: Vec<YamlDoc<Arc<Value>>>,
    ) -> Arc<[YamlDoc<Arc<Value>>]> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let same = seen.entry(hash).or_default();
        if let Some(c) = same.iter().find(|c| c.is(&text[range.clone()])) {
            return c.docs.clone();
        }
        let docs: Arc<[YamlDoc<Arc<Value>>]> = docs.into();
        same.push(CachedPiece { text: text.clone(), range, docs: docs.clone() });
        docs
    }
}

/// [`parse_stream`] of `text[from..]` (`from` skips a byte-order mark), each document read
/// once per `cache`: a piece of the stream (a `---` line to the next) seen before, in this
/// text or another, shares the values read then. Documents, lines, duplicate keys and
/// errors are those of [`parse_stream`] (the corpus test compares them).
pub fn parse_stream_shared(
    text: &Arc<str>,
    from: usize,
    cache: &DocCache,
) -> (Vec<YamlDoc<Arc<Value>>>, Option<YamlError>) {
    let body = &text[from..];
    let unshared = || {
        let (docs, err) = parse_stream(body);
        let docs = docs.into_iter().map(YamlDoc::shared).collect();
        (docs, err)
    };
    // Other line breaks than LF and CRLF would make the pieces' line counts differ from
    // the parser's (as in `parse_by_document`).
    if !fast::printable(body.as_bytes()) {
        return unshared();
    }
    let mut out = Vec::new();
    for (start, end, first_line) in document_pieces(body) {
        let piece = &body[start..end];
        let hash = cache.hasher.hash_one(piece);
        let docs = match cache.get(hash, piece) {
            Some(docs) => docs,
            None => {
                // An error: the whole stream, so that it is reported as it always is.
                let Some(docs) = read_piece(piece) else { return unshared() };
                let docs = docs.into_iter().map(YamlDoc::shared).collect();
                cache.insert(hash, text, from + start..from + end, docs)
            }
        };
        out.extend(docs.iter().map(|d| {
            let mut d = d.clone();
            d.shift(first_line - 1);
            d
        }));
    }
    (out, None)
}

/// `(start byte, end byte, first line)` of each piece of `text` that a `---` line starts (the
/// first piece starts with the text).
fn document_pieces(text: &str) -> Vec<(usize, usize, u32)> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut start_line) = (0, 1);
    // Searched with the memchr crate's vectorised `memmem`: a line-by-line split was 5 % of
    // a corpus run.
    for nl in memchr::memmem::find_iter(bytes, b"\n---") {
        let at = nl + 1;
        if !matches!(bytes.get(at + 3), None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
            continue;
        }
        let line = start_line + memchr::memchr_iter(b'\n', &bytes[start..at]).count() as u32;
        pieces.push((start, at, start_line));
        (start, start_line) = (at, line);
    }
    pieces.push((start, text.len(), start_line));
    pieces
}

/// The block-YAML fast path alone: `None` when the stream is outside what it reads (the
/// differential fuzz target compares it with [`parse_stream_full`]).
pub fn parse_stream_fast(text: &str) -> Option<Vec<YamlDoc>> {
    fast::parse_stream(text)
}

/// The full YAML parser (granit-parser), for every stream.
pub fn parse_stream_full(text: &str) -> (Vec<YamlDoc>, Option<YamlError>) {
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Value> = HashMap::new();
    let mut duplicates = Vec::new();
    let mut start_line = 0u32;
    let mut root: Option<Value> = None;
    let mut last_line = 0u32;

    for item in Parser::new_from_str_with_options(text, options()) {
        let (event, span) = match item {
            Ok(x) => x,
            Err(e) => {
                let err = YamlError {
                    line: e.marker().line() as u32,
                    column: e.marker().col() as u32 + 1,
                    message: e.info(),
                };
                return (docs, Some(err));
            }
        };
        last_line = last_line.max(span.end.line() as u32);
        let node: Option<(Value, usize, Pos)> = match event {
            Event::DocumentStart(..) => {
                start_line = 0;
                root = None;
                anchors.clear();
                duplicates = Vec::new();
                None
            }
            Event::DocumentEnd => {
                docs.push(YamlDoc {
                    value: root.take().unwrap_or(Value::Null),
                    start_line: start_line.max(1),
                    end_line: last_line.max(start_line),
                    duplicate_keys: std::mem::take(&mut duplicates),
                    simple: false,
                });
                None
            }
            Event::MappingStart(_, anchor, _) => {
                if start_line == 0 {
                    start_line = span.start.line() as u32;
                }
                stack.push(Frame::Map { value: Map::new(), key: None, anchor });
                None
            }
            Event::SequenceStart(_, anchor, _) => {
                if start_line == 0 {
                    start_line = span.start.line() as u32;
                }
                stack.push(Frame::Seq { value: Vec::new(), anchor });
                None
            }
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map { value, anchor, .. }) => Some((Value::Object(value), anchor, pos(&span))),
                _ => None,
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq { value, anchor }) => Some((Value::Array(value), anchor, pos(&span))),
                _ => None,
            },
            Event::Scalar(text, style, anchor, tag) => {
                if start_line == 0 {
                    start_line = span.start.line() as u32;
                }
                let tag = tag.as_ref().map(|t| t.suffix());
                let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
                let value =
                    if is_key { Value::String(key_text(text, style, tag)) } else { scalar_value(text, style, tag) };
                Some((value, anchor, pos(&span)))
            }
            Event::Alias(id) => Some((anchors.get(&id).cloned().unwrap_or(Value::Null), 0, pos(&span))),
            _ => None,
        };
        let Some((value, anchor, at)) = node else { continue };
        if anchor > 0 {
            anchors.insert(anchor, value.clone());
        }
        let Some((frame, parents)) = stack.split_last_mut() else {
            root = Some(value);
            continue;
        };
        match frame {
            Frame::Seq { value: seq, .. } => seq.push(value),
            Frame::Map { value: map, key, .. } => match key.take() {
                None => {
                    let k = match value {
                        Value::String(s) => s,
                        Value::Null => "null".to_string(),
                        // A collection or alias as a key: its JSON text.
                        other => other.to_string(),
                    };
                    *key = Some((k, at));
                }
                Some((k, _)) if k == "<<" => {
                    // Merge keys: keys already present win.
                    let sources = match value {
                        Value::Array(items) => items,
                        other => vec![other],
                    };
                    for src in sources {
                        if let Value::Object(m) = src {
                            for (mk, mv) in m {
                                map.entry(mk).or_insert(mv);
                            }
                        }
                    }
                }
                Some((k, key_pos)) => {
                    if map.contains_key(&k) {
                        let mut path = frames_path(parents);
                        path.push(Seg::Key(k.clone()));
                        duplicates.push((FieldPath(path), key_pos));
                    }
                    map.insert(k, value);
                }
            },
        }
    }
    (docs, None)
}

/// Mapping keys are resolved like values and then written back as text, the way
/// sigs.k8s.io/yaml turns go-yaml's keys into JSON object keys: `on:` and `y:` are the key
/// "true", `0x10:` is "16"; strings, floats and nulls keep the text written.
fn key_text(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&str>) -> String {
    match resolve_scalar(&text, style, tag) {
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) if !n.is_f64() => n.to_string(),
        _ => text.into_owned(),
    }
}

fn scalar_value(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&str>) -> Value {
    resolve_scalar(&text, style, tag).unwrap_or_else(|| Value::String(text.into_owned()))
}

/// YAML 1.1 resolution as go-yaml v2 (`resolve.go`) does it for plain scalars; quoted and
/// block scalars are strings. Timestamps stay strings (go-yaml v2 keeps them as text when
/// decoding into `interface{}`, which is what sigs.k8s.io/yaml does). `None` is a string
/// (the caller owns the text and moves it in).
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Option<Value> {
    match tag {
        Some("int") | Some("float") | Some("bool") | Some("null") | None => {}
        Some(_) => return None,
    }
    if style != ScalarStyle::Plain && tag.is_none() {
        return None;
    }
    // Most keys and values start with a letter that no null, boolean or number starts
    // with: a string, without trying each spelling below.
    if let Some(b) = text.as_bytes().first()
        && b.is_ascii_alphabetic()
        && !matches!(b, b'n' | b'N' | b'y' | b'Y' | b't' | b'T' | b'f' | b'F' | b'o' | b'O')
    {
        return None;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Some(Value::Null),
        // go-yaml v2 also takes the single letters (PyYAML does not).
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(Value::Bool(true)),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(Value::Bool(false))
        }
        // JSON has no infinities; Kubernetes rejects them anyway.
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN"
        | ".NAN" => None,
        _ => resolve_number(text).map(Value::Number),
    }
}

/// go-yaml v2: a scalar starting with `.` is tried as a float; one starting with a digit or
/// a sign, with `_` removed, as a Go base-0 integer (`0x`, `0o`, `0b`, and a leading `0`
/// for octal), then as a float matching `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn resolve_number(text: &str) -> Option<Number> {
    let first = *text.as_bytes().first()?;
    if first == b'.' {
        return text.parse::<f64>().ok().and_then(float_number);
    }
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+')) {
        return None;
    }
    let clean: Cow<'_, str> = if text.contains('_') { Cow::Owned(text.replace('_', "")) } else { Cow::Borrowed(text) };
    if let Some(n) = go_parse_int(&clean) {
        return Some(n);
    }
    if is_yaml_style_float(&clean) {
        return clean.parse::<f64>().ok().and_then(float_number);
    }
    None
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`.
fn go_parse_int(text: &str) -> Option<Number> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (digits, radix) = match body.get(..2) {
        Some("0x" | "0X") => (&body[2..], 16),
        Some("0o" | "0O") => (&body[2..], 8),
        Some("0b" | "0B") => (&body[2..], 2),
        _ if body.len() > 1 && body.starts_with('0') => (&body[1..], 8),
        _ => (body, 10),
    };
    // from_str_radix would take a second sign; Go does not.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        // i64::MIN's magnitude is one more than i64::MAX.
        let v = 0i64.checked_sub_unsigned(magnitude)?;
        Some(Number::from(v))
    } else if let Ok(v) = i64::try_from(magnitude) {
        Some(Number::from(v))
    } else {
        Some(Number::from(magnitude))
    }
}

fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A float as the API server receives it: Go's encoding/json writes a whole float64 below
/// 1e21 without fraction or exponent (`replicas: 3.0` arrives as `3`, which an integer
/// field accepts), so a whole value becomes an integer here too.
fn float_number(f: f64) -> Option<Number> {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        if f >= i64::MIN as f64 && f < i64::MAX as f64 {
            return Some(Number::from(f as i64));
        }
        if f >= 0.0 && f < u64::MAX as f64 {
            return Some(Number::from(f as u64));
        }
    }
    Number::from_f64(f)
}

/// Where `path` is written in the document that starts `text` and runs for at most
/// `max_lines` lines (`first_line`: the 1-based line it starts at in its file), as
/// [`locate`] finds it, for a document the fast reader reads ([`YamlDoc::simple`]): only
/// the nodes on the path are read, the rest is passed over by its indentation. The outer
/// `None` when the text is outside what the fast reader reads.
pub fn find(text: &str, first_line: u32, max_lines: usize, path: &FieldPath) -> Option<Option<Pos>> {
    fast::find(text, first_line, max_lines, &path.0)
}

/// Test support (the corpus test and the `yaml_fast` fuzz target): whether [`find`] places
/// the paths of `doc`, one document of `text` as the full parser read it, where [`locate`]
/// does; about `samples` paths of each document of at most `max_len` bytes. The number of
/// paths compared: 0 when the fast reader does not read the document.
#[doc(hidden)]
pub fn find_matches_locate(text: &str, doc: &YamlDoc, max_len: usize, samples: usize) -> Result<usize, String> {
    fn paths(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<FieldPath>) {
        out.push(FieldPath(at.iter().cloned().chain([Seg::Key("\u{1}missing".into())]).collect()));
        let children: Vec<(Seg, &Value)> = match v {
            Value::Object(m) => m.iter().map(|(k, c)| (Seg::Key(k.clone()), c)).collect(),
            Value::Array(a) => a.iter().enumerate().map(|(i, c)| (Seg::Index(i), c)).collect(),
            _ => Vec::new(),
        };
        for (seg, c) in children {
            at.push(seg);
            out.push(FieldPath(at.clone()));
            paths(c, at, out);
            at.pop();
        }
    }
    let start = crate::manifest::line_offset(text, doc.start_line);
    let (from, to) = crate::manifest::doc_span(text, start, doc.start_line, doc.end_line);
    let doc_text = &text[from..to];
    if doc_text.len() > max_len {
        return Ok(0);
    }
    if fast::parse_stream(doc_text).is_none() {
        return Ok(0);
    }
    let mut all = Vec::new();
    paths(&doc.value, &mut Vec::new(), &mut all);
    let mut checked = 0;
    for p in all.iter().step_by(all.len() / samples.max(1) + 1) {
        let want = locate(doc_text, doc.start_line, p);
        let Some(got) = find(doc_text, doc.start_line, usize::MAX, p) else {
            return Err(format!(
                "line {}: {p}: the fast reader declines a path of a document it reads",
                doc.start_line
            ));
        };
        let got = got.or(Some(Pos { line: doc.start_line, column: 1 }));
        // A block scalar item is placed at its `|` or `>`, the full parser's event at its
        // first line of text.
        let at_indicator = got.and_then(|g| {
            let line = crate::manifest::line_text(text, g.line)?;
            line.get(g.column as usize - 1..).map(|r| r.starts_with(['|', '>']))
        });
        if at_indicator == Some(true) {
            continue;
        }
        if got != want {
            return Err(format!("line {}: {p}: index {got:?}, full parser {want:?}", doc.start_line));
        }
        checked += 1;
    }
    Ok(checked)
}

/// The position of `path` in one document's text (the key for a mapping entry, the item for
/// a sequence element). When the path does not exist, the deepest part of it that does.
/// `first_line` is the 1-based line at which `text` starts in its file.
pub fn locate(text: &str, first_line: u32, path: &FieldPath) -> Option<Pos> {
    // Stack of (is_map, next_index, awaiting_key); `depth_matched` counts how many leading
    // segments of `path` the current node matches.
    struct Level {
        is_map: bool,
        index: usize,
        expect_key: bool,
        matched: bool,
    }
    let target = &path.0;
    let mut levels: Vec<Level> = Vec::new();
    let mut best: Option<(usize, Pos)> = None;
    // Whether the node about to start lies on the target path, and how deep.
    let mut pending: Option<usize> = Some(0);
    let shift = |p: Pos| Pos { line: p.line + first_line - 1, column: p.column };

    for item in Parser::new_from_str_with_options(text, options()) {
        let Ok((event, span)) = item else { break };
        let is_start = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
        let is_end = matches!(event, Event::MappingEnd | Event::SequenceEnd);
        let is_node = is_start || matches!(event, Event::Scalar(..) | Event::Alias(_));
        if matches!(event, Event::DocumentEnd) {
            break;
        }
        if is_end {
            levels.pop();
            // The parent mapping now expects its next key.
            if let Some(l) = levels.last_mut() {
                if l.is_map {
                    l.expect_key = true;
                } else {
                    l.index += 1;
                }
            }
            continue;
        }
        if !is_node {
            continue;
        }
        // Mapping key?
        if let Some(l) = levels.last_mut()
            && l.is_map
            && l.expect_key
        {
            l.expect_key = false;
            let depth = levels.iter().filter(|l| l.matched).count();
            let on_path = levels.iter().all(|l| l.matched);
            pending = None;
            // Keys are compared as the document's value has them: resolved (`on:` and `y:`
            // are the key "true", `0x10:` is "16").
            if on_path
                && let Event::Scalar(k, style, _, tag) = &event
                && let Some(Seg::Key(want)) = target.get(depth - 1)
                && *want == key_text(Cow::Borrowed(k.as_ref()), *style, tag.as_ref().map(|t| t.suffix()))
            {
                let p = shift(pos(&span));
                if best.as_ref().is_none_or(|(d, _)| *d < depth) {
                    best = Some((depth, p));
                }
                if depth == target.len() {
                    return Some(p);
                }
                pending = Some(depth);
            }
            continue;
        }
        // A value node (or the root, or a sequence item).
        let mut on_target = pending.take();
        if let Some(l) = levels.last()
            && !l.is_map
        {
            let depth = levels.iter().filter(|l| l.matched).count();
            let on_path = levels.iter().all(|l| l.matched);
            on_target = None;
            if on_path && matches!(target.get(depth - 1), Some(Seg::Index(i)) if *i == l.index) {
                let p = shift(pos(&span));
                if best.as_ref().is_none_or(|(d, _)| *d < depth) {
                    best = Some((depth, p));
                }
                if depth == target.len() {
                    return Some(p);
                }
                on_target = Some(depth);
            }
        }
        if is_start {
            let is_map = matches!(event, Event::MappingStart(..));
            levels.push(Level { is_map, index: 0, expect_key: is_map, matched: on_target.is_some() });
        } else if let Some(l) = levels.last_mut() {
            // A scalar value: the parent moves on.
            if l.is_map {
                l.expect_key = true;
            } else {
                l.index += 1;
            }
        }
        if levels.is_empty() && !is_start {
            break;
        }
    }
    best.map(|(_, p)| p).or(Some(Pos { line: first_line, column: 1 }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `document_pieces` as it was written first, a line at a time.
    fn pieces_by_line(text: &str) -> Vec<(usize, usize, u32)> {
        let mut pieces = Vec::new();
        let (mut start, mut start_line) = (0, 1);
        let (mut at, mut line) = (0, 1);
        for l in text.split_inclusive('\n') {
            let marker =
                l.starts_with("---") && matches!(l.as_bytes().get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'));
            if marker && at > 0 {
                pieces.push((start, at, start_line));
                (start, start_line) = (at, line);
            }
            at += l.len();
            line += 1;
        }
        pieces.push((start, text.len(), start_line));
        pieces
    }

    #[test]
    fn pieces_split_where_document_markers_are() {
        let parts = ["---", "--- ", "---\t", "---\r", "----", "---x", " ---", "a: 1", "", "# c", "- ---", "..."];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    for text in [format!("{a}\n{b}\n{c}"), format!("{a}\n{b}\n{c}\n"), format!("{a}{b}\n\n{c}")] {
                        assert_eq!(document_pieces(&text), pieces_by_line(&text), "{text:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 3 * parts.len().pow(3));
        assert_eq!(document_pieces("a: 1\n---\nb: 2\n--- x\n"), vec![(0, 5, 1), (5, 14, 2), (14, 20, 4)]);
    }

    #[test]
    fn resolves_like_kubernetes() {
        let (docs, err) = parse_stream(
            "a: yes\nb: 'yes'\nc: 0644\nd: 1.5\ne: ~\nf: \"1\"\ng: 0x1F\nh: 10\ni: -3\nj: 1e3\nk: 1.2.3\nl: !!str 12\n",
        );
        assert!(err.is_none());
        assert_eq!(
            docs[0].value,
            json!({"a": true, "b": "yes", "c": 420, "d": 1.5, "e": null, "f": "1", "g": 31, "h": 10, "i": -3,
                   "j": 1000, "k": "1.2.3", "l": "12"})
        );
    }

    #[test]
    fn resolves_like_go_yaml_v2() {
        // Each line: what go-yaml v2 (and so the API server) makes of the plain scalar.
        let (docs, err) = parse_stream(concat!(
            "a: y\nb: N\nc: 08\nd: 0o17\ne: 0B11\nf: 1_000\ng: .5\nh: 3.0\ni: 1e3\nj: 2024-01-02\n",
            "k: 1:30\nl: -0x10\nm: +7\nr: 0.1.2\no: 9223372036854775808\np: 1e\nq: -9223372036854775808\n",
        ));
        assert!(err.is_none());
        assert_eq!(
            docs[0].value,
            json!({"a": true, "b": false, "c": 8, "d": 15, "e": 3, "f": 1000, "g": 0.5, "h": 3, "i": 1000,
                   "j": "2024-01-02", "k": "1:30", "l": -16, "m": 7, "r": "0.1.2", "o": 9223372036854775808u64,
                   "p": "1e", "q": i64::MIN})
        );
    }

    #[test]
    fn keys_resolve_like_values() {
        let (docs, _) = parse_stream("on: 1\ny: 2\n0x10: 3\n'yes': 4\n1.5: 5\nname: 6\n");
        assert_eq!(docs[0].value, json!({"true": 2, "16": 3, "yes": 4, "1.5": 5, "name": 6}));
        // `on` and `y` are the same key once resolved: the first is lost.
        assert_eq!(docs[0].duplicate_keys.len(), 1);
        assert_eq!(docs[0].duplicate_keys[0].0.to_string(), "true");
    }

    #[test]
    fn documents_lines_and_duplicates() {
        let text = "# c\napiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\nmetadata:\n  name: x\n  name: z\nl:\n- a: 1\n- a: 2\n  a: 3\n";
        let (docs, err) = parse_stream(text);
        assert!(err.is_none());
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].start_line, 2);
        assert_eq!(docs[1].start_line, 5);
        assert_eq!(docs[1].value["metadata"]["name"], "z");
        assert_eq!(docs[1].duplicate_keys.len(), 2);
        assert_eq!(docs[1].duplicate_keys[1].0.to_string(), "l[1].a");
        assert_eq!(docs[1].duplicate_keys[0].0.to_string(), "metadata.name");
        assert_eq!(docs[1].duplicate_keys[0].1, Pos { line: 9, column: 3 });
    }

    #[test]
    fn anchors_aliases_and_merges() {
        let (docs, _) = parse_stream("base: &b {x: 1, z: 2}\nother:\n  <<: *b\n  z: 3\ncopy: *b\n");
        assert_eq!(
            docs[0].value,
            json!({"base": {"x": 1, "z": 2}, "other": {"x": 1, "z": 3}, "copy": {"x": 1, "z": 2}})
        );
    }

    #[test]
    fn syntax_error_keeps_earlier_documents() {
        let (docs, err) = parse_stream("a: 1\n---\nb: [1, 2\n");
        assert_eq!(docs.len(), 1);
        let err = err.expect("error");
        assert!(err.line >= 3, "{err}");
    }

    #[test]
    fn json_is_yaml() {
        let (docs, err) = parse_stream("{\"a\": [1, {\"b\": \"c\"}], \"d\": true}");
        assert!(err.is_none());
        assert_eq!(docs[0].value, json!({"a": [1, {"b": "c"}], "d": true}));
    }

    #[test]
    fn locates_keys_items_and_nearest_ancestor() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      securityContext:\n        capabilities:\n          add: [NET_ADMIN]\n      containers:\n      - name: a\n        image: x\n      - name: b\n        image: y\n";
        let at = |p: &str| locate(text, 10, &FieldPath::parse(p)).map(|p| (p.line, p.column));
        assert_eq!(at("spec.template.spec.securityContext.capabilities"), Some((16, 9)));
        assert_eq!(at("spec.template.spec.containers[1].image"), Some((22, 9)));
        assert_eq!(at("spec.template.spec.containers[1]"), Some((21, 9)));
        assert_eq!(at("spec.template.spec.containers[0].name"), Some((19, 9)));
        // Missing leaf: the deepest existing ancestor.
        assert_eq!(at("spec.template.spec.containers[1].resources"), Some((21, 9)));
        assert_eq!(at("kind"), Some((11, 1)));
    }

    #[test]
    fn locates_in_flow_and_json() {
        let text = "{\"spec\": {\"ports\": [{\"port\": 80}, {\"port\": 443, \"name\": \"https\"}]}}";
        let p = locate(text, 1, &FieldPath::parse("spec.ports[1].name")).expect("pos");
        assert_eq!((p.line, p.column), (1, 49));
    }
}
