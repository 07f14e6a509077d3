//! Objects read from manifest files: the document as the API server would decode it, where
//! it came from, and how to find a field's line and column in it.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::evidence::ObjectKey;
use crate::finding::{Location, ObjectRef};

/// The annotation that silences rules on one object: `kubesleuth.io/ignore: KS1201,KS1103`.
pub const IGNORE_ANNOTATION: &str = "kubesleuth.io/ignore";

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A field path as a chain of borrowed steps on the stack, for walks over every field of a
/// document that rarely need to name one (a duplicate key, an ignored or missing field): a
/// [`FieldPath`] is only written out, by [`PathChain::to_field_path`], for those.
#[derive(Clone, Copy, Debug)]
pub enum PathChain<'p> {
    Root,
    Key(&'p PathChain<'p>, &'p str),
    Index(&'p PathChain<'p>, usize),
}

impl PathChain<'_> {
    pub fn to_field_path(&self) -> FieldPath {
        let mut segs = Vec::new();
        let mut at = self;
        loop {
            match at {
                PathChain::Root => break,
                PathChain::Key(parent, k) => {
                    segs.push(Seg::Key((*k).to_string()));
                    at = parent;
                }
                PathChain::Index(parent, i) => {
                    segs.push(Seg::Index(*i));
                    at = parent;
                }
            }
        }
        segs.reverse();
        FieldPath(segs)
    }
}

/// A field path such as `spec.template.spec.containers[0].securityContext`. Keys holding
/// dots or brackets are written `metadata.annotations["a.b/c"]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    /// Parse the written form. Malformed brackets are read as plain key text.
    pub fn parse(s: &str) -> FieldPath {
        let mut segs = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("[\"")
                && let Some(end) = r.find("\"]")
            {
                segs.push(Seg::Key(r[..end].to_string()));
                rest = r[end + 2..].trim_start_matches('.');
                continue;
            }
            if let Some(r) = rest.strip_prefix('[')
                && let Some(end) = r.find(']')
                && let Ok(i) = r[..end].parse::<usize>()
            {
                segs.push(Seg::Index(i));
                rest = r[end + 1..].trim_start_matches('.');
                continue;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let end = if end == 0 { rest.len() } else { end };
            segs.push(Seg::Key(rest[..end].to_string()));
            rest = rest[end..].strip_prefix('.').unwrap_or(&rest[end..]);
        }
        FieldPath(segs)
    }

    pub fn key(mut self, k: impl Into<String>) -> FieldPath {
        self.0.push(Seg::Key(k.into()));
        self
    }

    pub fn index(mut self, i: usize) -> FieldPath {
        self.0.push(Seg::Index(i));
        self
    }

    /// The path with list indexes written as `[*]`, for messages about every element.
    pub fn generic(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(_) => out.push_str("[*]"),
            }
        }
        out
    }

    /// The value at this path in `v`.
    pub fn get<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        let mut cur = v;
        for seg in &self.0 {
            cur = match seg {
                Seg::Key(k) => cur.get(k)?,
                Seg::Index(i) => cur.get(*i)?,
            };
        }
        Some(cur)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) if k.contains(['.', '[', ']', '/']) => write!(f, "[\"{k}\"]")?,
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// One object read from a manifest file (or from rendered chart/kustomize output).
#[derive(Clone, Debug)]
pub struct ManifestDoc {
    /// The file as the user named it (or the chart/kustomization it was rendered from).
    pub file: Arc<str>,
    /// The whole text the document was read from (shared by every document of the file).
    pub text: Arc<str>,
    /// 1-based line range of the document in `text`.
    pub start_line: u32,
    pub end_line: u32,
    /// Byte offset in `text` where line `start_line` begins ([`line_starts`] finds them for
    /// all the documents of a file in one pass; counting from the file's start for each
    /// document was quadratic in a file of thousands).
    pub start_byte: usize,
    /// The decoded document, exactly as written (unknown fields included). Shared with the
    /// evidence's copy of the object (`DynObject`), which a CRD of megabytes would double.
    pub value: Arc<Value>,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// Helm's `# Source: chart/templates/x.yaml` for rendered charts.
    pub template: Option<String>,
    /// Keys that appear twice in one mapping.
    pub duplicate_keys: Vec<(FieldPath, Pos)>,
    /// Where the object sits in its document: empty, or `items[3]` for an item of a `List`.
    pub prefix: FieldPath,
    /// Where the document's fields are written, found on the first finding that needs it.
    pub positions: Positions,
}

/// How a document's fields are found for findings: by the fast reader, reading only the
/// path wanted, when it read the document ([`crate::yaml::find`]); else by the full parser.
#[derive(Clone, Copy, Debug, Default)]
pub struct Positions {
    simple: bool,
}

impl Positions {
    /// For a document as [`crate::yaml::YamlDoc::simple`] says it was read.
    pub fn new(simple: bool) -> Positions {
        Positions { simple }
    }
}

impl ManifestDoc {
    pub fn key(&self) -> ObjectKey {
        ObjectKey::new(&self.kind, self.namespace.as_deref(), &self.name)
    }

    /// How kubectl reads this document's source: `-f deploy/web.yaml`, `-k overlays/prod`
    /// for a rendered kustomization, `-f <(helm template chart)` for a rendered chart.
    pub fn kubectl_source(&self) -> String {
        if let Some(dir) = self.file.strip_suffix(" (kustomize)") {
            format!("-k {dir}")
        } else if let Some(dir) = self.file.strip_suffix(" (helm template)") {
            format!("-f <(helm template {dir})")
        } else if &*self.file == "<stdin>" {
            "-f -".to_string()
        } else {
            format!("-f {}", self.file)
        }
    }

    /// `Kind/ns/name`, for root keys.
    pub fn key_string(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace.as_deref().unwrap_or(""), self.name)
    }

    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: Some(self.api_version.clone()),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// Where `path` is written (the deepest existing part of it), as a finding location.
    pub fn locate(&self, path: &FieldPath) -> Location {
        self.location_at(self.position(path))
    }

    /// A position, for when the caller holds it already (duplicate keys).
    pub fn location_at(&self, pos: Pos) -> Location {
        // Lines are counted from the document's start, not the file's.
        let source_line = if pos.line >= self.start_line.max(1) {
            line_text(self.text_from_start(), pos.line - self.start_line.max(1) + 1)
        } else {
            line_text(&self.text, pos.line.max(1))
        };
        let source_line = source_line.map(str::to_string);
        Location {
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            template: self.template.clone(),
            source_line,
        }
    }

    /// The file's text from the document's first line on.
    fn text_from_start(&self) -> &str {
        &self.text[self.start_byte.min(self.text.len())..]
    }

    fn position(&self, path: &FieldPath) -> Pos {
        let full;
        let path = if self.prefix.0.is_empty() {
            path
        } else {
            full = FieldPath(self.prefix.0.iter().chain(path.0.iter()).cloned().collect());
            &full
        };
        let fast = || {
            let lines = span_lines(self.start_line, self.end_line) as usize;
            crate::yaml::find(self.text_from_start(), self.start_line.max(1), lines, path)
        };
        let found = match self.positions.simple.then(fast).flatten() {
            Some(found) => found,
            None => {
                let (start, end) = doc_span(&self.text, self.start_byte, self.start_line, self.end_line);
                crate::yaml::locate(&self.text[start..end], self.start_line, path)
            }
        };
        found.unwrap_or(Pos { line: self.start_line, column: 1 })
    }

    /// Rule ids (or names) the object's `kubesleuth.io/ignore` annotation silences.
    pub fn ignored_rules(&self) -> Vec<String> {
        self.value["metadata"]["annotations"]
            .get(IGNORE_ANNOTATION)
            .and_then(Value::as_str)
            .map(|s| s.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    }
}

/// The byte range of a document's text in its file: from its first line (1-based) through
/// the line after its last (which may close a flow collection or hold the next `---`).
pub(crate) fn doc_span(text: &str, start: usize, start_line: u32, end_line: u32) -> (usize, usize) {
    let start = start.min(text.len());
    let end = start + line_offset(&text[start..], span_lines(start_line, end_line) + 1);
    (start, end.max(start))
}

/// How many lines [`doc_span`] covers.
fn span_lines(start_line: u32, end_line: u32) -> u32 {
    (end_line + 1).saturating_sub(start_line.max(1))
}

/// Byte offsets of the starts of 1-based `lines`, which must be ascending, in one pass
/// over `text` (the text's length past its end).
pub fn line_starts(text: &str, lines: impl IntoIterator<Item = u32>) -> Vec<usize> {
    let (mut line, mut offset) = (1u32, 0usize);
    lines
        .into_iter()
        .map(|want| {
            if want > line {
                offset += line_offset(&text[offset..], want - line + 1);
                line = want;
            }
            offset
        })
        .collect()
}

/// Byte offset of the start of 1-based `line` (the text's length past the end). Findings
/// locate fields in files of thousands of documents, so newlines are found with memchr.
pub(crate) fn line_offset(text: &str, line: u32) -> usize {
    if line <= 1 {
        return 0;
    }
    memchr::memchr_iter(b'\n', text.as_bytes()).nth(line as usize - 2).map_or(text.len(), |i| i + 1)
}

/// The text of 1-based `line`, without its line break.
pub(crate) fn line_text(text: &str, line: u32) -> Option<&str> {
    let start = line_offset(text, line);
    if start >= text.len() && line > 1 {
        return None;
    }
    let rest = &text[start..];
    let end = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
    Some(rest[..end].strip_suffix('\r').unwrap_or(&rest[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_offsets_and_texts() {
        let text = "a: 1\r\nb: 2\n\nc: 3";
        assert_eq!(line_offset(text, 1), 0);
        assert_eq!(line_offset(text, 2), 6);
        assert_eq!(line_offset(text, 4), 12);
        assert_eq!(line_offset(text, 9), text.len());
        assert_eq!(line_starts(text, [1, 2, 2, 4, 9]), vec![0, 6, 6, 12, text.len()]);
        assert_eq!(line_text(text, 1), Some("a: 1"));
        assert_eq!(line_text(text, 3), Some(""));
        assert_eq!(line_text(text, 4), Some("c: 3"));
        assert_eq!(line_text(text, 5), None);
        assert_eq!(line_text("", 1), Some(""));
    }

    #[test]
    fn paths_round_trip() {
        for s in [
            "spec.template.spec.containers[0].image",
            "metadata.annotations[\"service.beta.kubernetes.io/x\"]",
            "a[1][2].b",
        ] {
            assert_eq!(FieldPath::parse(s).to_string(), s);
        }
        assert_eq!(FieldPath::parse("spec.containers[3].env").generic(), "spec.containers[*].env");
    }

    #[test]
    fn locate_within_second_document() {
        let text: Arc<str> = "a: 1\n---\nkind: Service\nspec:\n  ports:\n  - port: 80\n".into();
        let doc = ManifestDoc {
            file: "x.yaml".into(),
            text,
            start_line: 3,
            end_line: 6,
            start_byte: 9,
            value: Value::Null.into(),
            api_version: "v1".into(),
            kind: "Service".into(),
            namespace: None,
            name: "s".into(),
            template: None,
            duplicate_keys: vec![],
            prefix: FieldPath::default(),
            positions: Positions::default(),
        };
        let loc = doc.locate(&FieldPath::parse("spec.ports[0].port"));
        assert_eq!((loc.line, loc.column), (6, 5));
        // Found by the fast reader, reading only the path.
        let doc = ManifestDoc { positions: Positions::new(true), ..doc };
        let loc = doc.locate(&FieldPath::parse("spec.ports[0].port"));
        assert_eq!((loc.line, loc.column, loc.source_line.as_deref()), (6, 5, Some("  - port: 80")));
        let loc = doc.locate(&FieldPath::parse("spec.ports[0].name"));
        assert_eq!((loc.line, loc.column), (6, 5), "the deepest part written");
    }
}
