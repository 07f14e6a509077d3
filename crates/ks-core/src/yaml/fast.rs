//! A reader for the block YAML that manifests are written in: block mappings and
//! sequences, one-line plain and quoted scalars, one-line flow collections, literal and
//! folded block scalars, comments and `---` separators.
//!
//! It reads a line at a time and builds the values directly, which is several times faster
//! than the full parser's token and event queues on a large bundle. Anything outside that
//! subset (anchors, aliases, tags, directives, continuation lines, multi-line quoted or flow
//! scalars, tabs used as indentation, merge keys, explicit keys) and anything that is not
//! valid YAML makes it give up on the whole stream, and the caller reads the stream with
//! the full parser, so the two always agree: `tests::agrees_with_full_parser_on_the_corpus`
//! and the `yaml_fast` fuzz target compare them.

use std::borrow::Cow;

use granit_parser::ScalarStyle;
use memchr::{memchr, memchr_iter};
use serde_json::{Map, Value};

use super::{YamlDoc, key_text, scalar_value};
use crate::manifest::{FieldPath, PathChain, Pos};

/// The stream is outside the subset (or not valid YAML): read it with the full parser.
#[derive(Debug)]
struct Unsupported;

type R<T> = Result<T, Unsupported>;

/// Read every document, or `None` when the full parser must do it.
pub(super) fn parse_stream(text: &str) -> Option<Vec<YamlDoc>> {
    if !printable(text.as_bytes()) {
        return None;
    }
    let mut reader = Reader::new(text);
    reader.stream().ok()
}

/// YAML's printable set (what the full parser checks): no C0 controls but tab, CR and LF,
/// no DEL, no C1 controls, no U+FFFE/U+FFFF, no byte-order mark inside the text. A CR must
/// end a line (CRLF); a lone CR is a line break the line splitter does not know.
fn printable(bytes: &[u8]) -> bool {
    // Nearly every manifest is printable ASCII: one pass the compiler vectorizes.
    if bytes.iter().all(|&b| matches!(b, 0x20..=0x7e | b'\n' | b'\t')) {
        return true;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\t' | b'\n' | 0x20..=0x7e => {}
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {}
            0xc2 if matches!(bytes.get(i + 1), Some(0x80..=0x9f)) => return false,
            // U+2028 and U+2029, line breaks to YAML 1.1.
            0xe2 if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) => return false,
            0xef if bytes.get(i + 1) == Some(&0xbb) && bytes.get(i + 2) == Some(&0xbf) => return false,
            0xef if bytes.get(i + 1) == Some(&0xbf) && matches!(bytes.get(i + 2), Some(0xbe | 0xbf)) => return false,
            0x80.. => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// What the next line holding something is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// A line with content at this indentation (spaces).
    Content(usize),
    /// `---` at the start of a line.
    DocStart,
    Eof,
}

struct Reader<'a> {
    text: &'a str,
    /// `[start, end)` of each line, without its line break.
    lines: Vec<(usize, usize)>,
    /// The current line and the byte offset in it where unread text starts.
    i: usize,
    c: usize,
    /// The line after the current node, found by [`Reader::advance`].
    next: Next,
    /// The last line of the current document that held content (0-based).
    last: usize,
    dups: Vec<(FieldPath, Pos)>,
}

fn is_blank_or_comment(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with('#')
}

/// A separate `# comment` or nothing after a node (the `#` needs a space before it, which
/// the caller has skipped).
fn trailing_ok(s: &str) -> R<()> {
    let t = s.trim_start_matches(' ');
    if t.is_empty() || (t.starts_with('#') && t.len() < s.len()) { Ok(()) } else { Err(Unsupported) }
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Reader<'a> {
        let bytes = text.as_bytes();
        let mut lines = Vec::with_capacity(bytes.len() / 24 + 1);
        let mut start = 0;
        for nl in memchr_iter(b'\n', bytes) {
            let end = if nl > start && bytes[nl - 1] == b'\r' { nl - 1 } else { nl };
            lines.push((start, end));
            start = nl + 1;
        }
        if start < bytes.len() {
            lines.push((start, bytes.len()));
        }
        Reader { text, lines, i: 0, c: 0, next: Next::Eof, last: 0, dups: Vec::new() }
    }

    fn line(&self, i: usize) -> &'a str {
        let (s, e) = self.lines[i];
        &self.text[s..e]
    }

    /// The unread rest of the current line.
    fn rest(&self) -> &'a str {
        &self.line(self.i)[self.c..]
    }

    /// Classify line `i`: `None` for a blank or comment-only line.
    fn classify(&self, i: usize) -> R<Option<Next>> {
        let line = self.line(i);
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if rest.starts_with('\t') {
            return Err(Unsupported);
        }
        if is_blank_or_comment(rest) {
            return Ok(None);
        }
        if indent == 0 {
            let marker = |m: &str| rest.starts_with(m) && matches!(rest.as_bytes().get(3), None | Some(b' ' | b'\t'));
            if marker("---") {
                return Ok(Some(Next::DocStart));
            }
            // `...` ends a document, `%` starts a directive: rare, left to the full parser.
            if marker("...") || rest.starts_with('%') {
                return Err(Unsupported);
            }
        }
        Ok(Some(Next::Content(indent)))
    }

    /// Move to the first line from `from` that holds something; set `next`, `i` and `c`.
    fn scan(&mut self, from: usize) -> R<Next> {
        let mut i = from;
        while i < self.lines.len() {
            if let Some(n) = self.classify(i)? {
                self.i = i;
                self.c = match n {
                    Next::Content(indent) => indent,
                    _ => 0,
                };
                self.next = n;
                return Ok(n);
            }
            i += 1;
        }
        self.i = self.lines.len();
        self.c = 0;
        self.next = Next::Eof;
        Ok(Next::Eof)
    }

    /// Done with the current line: it held content; go to the next line holding something.
    fn advance(&mut self) -> R<Next> {
        self.last = self.i;
        self.scan(self.i + 1)
    }

    fn pos(&self, line: usize, byte: usize) -> Pos {
        let text = &self.line(line)[..byte];
        let column = if text.is_ascii() { text.len() } else { text.chars().count() };
        Pos { line: line as u32 + 1, column: column as u32 + 1 }
    }

    fn stream(&mut self) -> R<Vec<YamlDoc>> {
        let mut docs = Vec::new();
        let mut next = self.scan(0)?;
        loop {
            match next {
                Next::Eof => return Ok(docs),
                Next::DocStart => {
                    trailing_ok(&self.line(self.i)[3..])?;
                    let marker = self.i;
                    next = self.scan(self.i + 1)?;
                    if !matches!(next, Next::Content(_)) {
                        // `---` with nothing after it: an empty document.
                        docs.push(YamlDoc {
                            value: Value::Null,
                            start_line: marker as u32 + 2,
                            end_line: marker as u32 + 1,
                            duplicate_keys: Vec::new(),
                        });
                    }
                }
                Next::Content(indent) => {
                    let start = self.i;
                    self.dups = Vec::new();
                    let value = self.block_node(indent, &PathChain::Root)?;
                    if let Next::Content(_) = self.next {
                        // Less indented content after the root node: not valid YAML.
                        return Err(Unsupported);
                    }
                    docs.push(YamlDoc {
                        value,
                        start_line: start as u32 + 1,
                        end_line: self.last as u32 + 1,
                        duplicate_keys: std::mem::take(&mut self.dups),
                    });
                    next = self.next;
                }
            }
        }
    }

    /// A block sequence or mapping starting at the cursor, whose lines are indented by
    /// `indent`. Scalars and flow collections standing alone on a line are left to the
    /// full parser (they may continue on the next line).
    fn block_node(&mut self, indent: usize, ctx: &PathChain<'_>) -> R<Value> {
        if is_seq_indicator(self.rest()) {
            return self.block_sequence(indent, ctx);
        }
        if self.entry_key()?.is_some() {
            return self.block_mapping(indent, ctx);
        }
        Err(Unsupported)
    }

    fn block_sequence(&mut self, indent: usize, ctx: &PathChain<'_>) -> R<Value> {
        let mut items = Vec::new();
        loop {
            // The cursor is on `-`.
            self.c += 1;
            let item_ctx = PathChain::Index(ctx, items.len());
            let value = self.node_after_indicator(indent, false, &item_ctx)?;
            items.push(value);
            match self.next {
                Next::Content(n) if n == indent && is_seq_indicator(self.rest()) => {}
                Next::Content(n) if n > indent => return Err(Unsupported),
                _ => return Ok(Value::Array(items)),
            }
        }
    }

    fn block_mapping(&mut self, indent: usize, ctx: &PathChain<'_>) -> R<Value> {
        let mut map = Map::new();
        loop {
            let Some((key, key_at, after)) = self.entry_key()? else { return Err(Unsupported) };
            if key == "<<" {
                return Err(Unsupported);
            }
            self.c = after;
            let value = {
                let value_ctx = PathChain::Key(ctx, &key);
                self.node_after_indicator(indent, true, &value_ctx)?
            };
            self.insert(&mut map, key, key_at, value, ctx);
            match self.next {
                Next::Content(n) if n == indent => {
                    if is_seq_indicator(self.rest()) {
                        return Err(Unsupported);
                    }
                }
                Next::Content(n) if n > indent => return Err(Unsupported),
                _ => return Ok(Value::Object(map)),
            }
        }
    }

    /// The node after `key:` or `-` (the cursor is just past the indicator). `indent` is
    /// the indentation of the mapping or sequence the indicator belongs to. Leaves `next`
    /// on the line after the node.
    fn node_after_indicator(&mut self, indent: usize, in_map: bool, ctx: &PathChain<'_>) -> R<Value> {
        let line = self.line(self.i);
        let after = &line[self.c..];
        let rest = after.trim_start_matches(' ');
        if !rest.is_empty() && rest.len() == after.len() {
            // `-x` is not an indicator, and a key's `:` was checked to have a space after it.
            return Err(Unsupported);
        }
        self.c = line.len() - rest.len();
        if rest.starts_with('\t') {
            return Err(Unsupported);
        }
        if is_blank_or_comment(rest) {
            // The node is on the following lines, or it is empty.
            return match self.advance()? {
                Next::Content(n) if n > indent => self.block_node(n, ctx),
                Next::Content(n) if n == indent && in_map && is_seq_indicator(self.rest()) => {
                    self.block_sequence(n, ctx)
                }
                _ => Ok(Value::Null),
            };
        }
        let column = self.c;
        let value = match rest.as_bytes()[0] {
            b'|' | b'>' => return self.block_scalar(indent),
            b'[' | b'{' => {
                let mut at = self.c;
                let v = self.flow_node(&mut at, ctx)?;
                trailing_ok(&line[at..])?;
                v
            }
            b'-' if is_seq_indicator(rest) => {
                if in_map {
                    return Err(Unsupported);
                }
                return self.block_sequence(column, ctx);
            }
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b':' | b',' | b']' | b'}' | b'#' => {
                return Err(Unsupported);
            }
            _ => {
                if self.entry_key()?.is_some() {
                    // A mapping after `- ` starts a compact mapping; after `key: ` it is an
                    // error.
                    if in_map {
                        return Err(Unsupported);
                    }
                    return self.block_mapping(column, ctx);
                }
                match rest.as_bytes()[0] {
                    b'"' | b'\'' => {
                        let (text, end) = quoted(line, self.c)?;
                        trailing_ok(&line[end..])?;
                        Value::String(text.into_owned())
                    }
                    _ => {
                        let text = plain_block(rest)?;
                        scalar_value(Cow::Borrowed(text), ScalarStyle::Plain, None)
                    }
                }
            }
        };
        // A more indented line after a one-line scalar continues it (or is an error).
        match self.advance()? {
            Next::Content(n) if n > indent => Err(Unsupported),
            _ => Ok(value),
        }
    }

    /// Insert a mapping entry; a key already present is a duplicate (the last one wins, as
    /// in the API server).
    fn insert(&mut self, map: &mut Map<String, Value>, key: String, key_at: Pos, value: Value, ctx: &PathChain<'_>) {
        match map.entry(key) {
            serde_json::map::Entry::Vacant(e) => {
                e.insert(value);
            }
            serde_json::map::Entry::Occupied(mut e) => {
                self.dups.push((PathChain::Key(ctx, e.key()).to_field_path(), key_at));
                e.insert(value);
            }
        }
    }

    /// If the cursor is on `key:` (followed by a space or the end of the line), the key's
    /// text, its position and the byte offset just after the `:`.
    fn entry_key(&self) -> R<Option<(String, Pos, usize)>> {
        let line = self.line(self.i);
        let rest = &line[self.c..];
        let at = self.pos(self.i, self.c);
        let colon_ok = |s: &str| match s.as_bytes().get(1) {
            None | Some(b' ') => Ok(true),
            Some(b'\t') => Err(Unsupported),
            _ => Ok(false),
        };
        match rest.as_bytes().first() {
            Some(b'"' | b'\'') => {
                let (text, end) = quoted(line, self.c)?;
                let after = line[end..].trim_start_matches(' ');
                if after.starts_with(':') && colon_ok(after)? {
                    let colon = line.len() - after.len();
                    Ok(Some((text.into_owned(), at, colon + 1)))
                } else {
                    Ok(None)
                }
            }
            Some(
                b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'|' | b'>',
            ) => Ok(None),
            Some(_) => {
                // A plain key runs to the first `: `; a ` #` before it starts a comment.
                let bytes = rest.as_bytes();
                let mut from = 0;
                while let Some(k) = memchr(b':', &bytes[from..]) {
                    let k = from + k;
                    if bytes[..k].windows(2).any(|w| w == b" #") {
                        return Ok(None);
                    }
                    if colon_ok(&rest[k..])? {
                        let key = rest[..k].trim_end_matches(' ');
                        if key.is_empty() || key.contains('\t') || key.len() > 1024 {
                            return Err(Unsupported);
                        }
                        let text = key_text(Cow::Borrowed(key), ScalarStyle::Plain, None);
                        return Ok(Some((text, at, self.c + k + 1)));
                    }
                    from = k + 1;
                }
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// A `|` or `>` block scalar (the cursor is on the indicator) in a collection indented
    /// by `indent`.
    fn block_scalar(&mut self, indent: usize) -> R<Value> {
        let header = self.rest();
        let literal = header.starts_with('|');
        let mut chomp = Chomp::Clip;
        let mut k = 1;
        match header.as_bytes().get(1) {
            Some(b'-') => {
                chomp = Chomp::Strip;
                k = 2;
            }
            Some(b'+') => {
                chomp = Chomp::Keep;
                k = 2;
            }
            // An indentation indicator: rare, left to the full parser.
            Some(b'0'..=b'9') => return Err(Unsupported),
            _ => {}
        }
        let tail = &header[k..];
        if !tail.is_empty() && !tail.starts_with(' ') {
            return Err(Unsupported);
        }
        trailing_ok(tail)?;
        self.last = self.i;

        // One pass over the lines: the content's indentation `m` is that of the first
        // non-empty line; each line is `None` when empty, `Some(text)` for content.
        let mut m = None;
        let mut leading_spaces = 0;
        let mut body: Vec<Option<&str>> = Vec::new();
        let mut last_text = None;
        for j in self.i + 1..self.lines.len() {
            let l = self.line(j);
            let spaces = l.len() - l.trim_start_matches(' ').len();
            if spaces == l.len() {
                match m {
                    // A line of spaces longer than the indentation is content: rare, left
                    // to the full parser.
                    Some(m) if spaces > m => return Err(Unsupported),
                    Some(_) => {}
                    None => leading_spaces = leading_spaces.max(spaces),
                }
                body.push(None);
                continue;
            }
            let m = match m {
                Some(m) if spaces >= m => m,
                Some(_) => break,
                None if spaces > indent && leading_spaces <= spaces => *m.insert(spaces),
                None if spaces > indent => return Err(Unsupported),
                None => break,
            };
            body.push(Some(&l[m..]));
            last_text = Some(j);
        }
        let Some(last_text) = last_text else {
            // No content: empty, and the empty lines belong to nothing.
            if chomp == Chomp::Keep || leading_spaces > indent {
                return Err(Unsupported);
            }
            self.scan(self.i + 1)?;
            return Ok(Value::String(String::new()));
        };
        let trailing = body.iter().rev().take_while(|l| l.is_none()).count();
        let body = &body[..body.len() - trailing];
        let mut out = String::new();
        if literal {
            for (n, l) in body.iter().enumerate() {
                if n > 0 {
                    out.push('\n');
                }
                out.push_str(l.unwrap_or(""));
            }
        } else {
            // Folding: a line break between two lines is a space, each empty line between
            // them a newline. More indented lines keep their breaks: left to the full parser.
            let mut empties = 0;
            let mut seen_text = false;
            for l in body {
                match l {
                    None => empties += 1,
                    Some(t) => {
                        if t.starts_with([' ', '\t']) {
                            return Err(Unsupported);
                        }
                        if seen_text && empties == 0 {
                            out.push(' ');
                        }
                        for _ in 0..empties {
                            out.push('\n');
                        }
                        out.push_str(t);
                        empties = 0;
                        seen_text = true;
                    }
                }
            }
        }
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => out.push('\n'),
            Chomp::Keep => {
                for _ in 0..=trailing {
                    out.push('\n');
                }
            }
        }
        self.i = last_text;
        self.advance()?;
        Ok(Value::String(out))
    }

    /// A flow collection or scalar inside one, all on the current line; `at` is the byte
    /// offset in the line and moves past the node.
    fn flow_node(&mut self, at: &mut usize, ctx: &PathChain<'_>) -> R<Value> {
        let line = self.line(self.i);
        let bytes = line.as_bytes();
        match bytes.get(*at) {
            Some(b'[') => {
                *at += 1;
                let mut items = Vec::new();
                loop {
                    skip_spaces(bytes, at);
                    if bytes.get(*at) == Some(&b']') {
                        *at += 1;
                        return Ok(Value::Array(items));
                    }
                    let item_ctx = PathChain::Index(ctx, items.len());
                    let item = self.flow_node(at, &item_ctx)?;
                    items.push(item);
                    after_flow_item(bytes, at, b']')?;
                }
            }
            Some(b'{') => {
                *at += 1;
                let mut map = Map::new();
                loop {
                    skip_spaces(bytes, at);
                    if bytes.get(*at) == Some(&b'}') {
                        *at += 1;
                        return Ok(Value::Object(map));
                    }
                    let key_at = self.pos(self.i, *at);
                    let key = match bytes.get(*at) {
                        Some(b'"' | b'\'') => {
                            let (text, end) = quoted(line, *at)?;
                            *at = end;
                            text.into_owned()
                        }
                        _ => {
                            let text = plain_flow(line, at)?;
                            key_text(Cow::Borrowed(text), ScalarStyle::Plain, None)
                        }
                    };
                    skip_spaces(bytes, at);
                    if bytes.get(*at) != Some(&b':') || key == "<<" {
                        return Err(Unsupported);
                    }
                    *at += 1;
                    skip_spaces(bytes, at);
                    let value = match bytes.get(*at) {
                        Some(b',' | b'}') => Value::Null,
                        _ => {
                            let value_ctx = PathChain::Key(ctx, &key);
                            self.flow_node(at, &value_ctx)?
                        }
                    };
                    self.insert(&mut map, key, key_at, value, ctx);
                    after_flow_item(bytes, at, b'}')?;
                }
            }
            Some(b'"' | b'\'') => {
                let (text, end) = quoted(line, *at)?;
                *at = end;
                Ok(Value::String(text.into_owned()))
            }
            Some(_) => {
                let text = plain_flow(line, at)?;
                // A `key: value` pair inside a flow sequence: left to the full parser.
                if bytes.get(*at) == Some(&b':') {
                    return Err(Unsupported);
                }
                Ok(scalar_value(Cow::Borrowed(text), ScalarStyle::Plain, None))
            }
            None => Err(Unsupported),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// `-` followed by a space or the end of the line.
fn is_seq_indicator(rest: &str) -> bool {
    rest.starts_with('-') && matches!(rest.as_bytes().get(1), None | Some(b' '))
}

/// After an item of a flow collection: a `,` (passed) or the collection's closing bracket
/// (left for the loop to see); anything else is outside the subset.
fn after_flow_item(bytes: &[u8], at: &mut usize, close: u8) -> R<()> {
    skip_spaces(bytes, at);
    match bytes.get(*at) {
        Some(b',') => {
            *at += 1;
            Ok(())
        }
        Some(&c) if c == close => Ok(()),
        _ => Err(Unsupported),
    }
}

fn skip_spaces(bytes: &[u8], at: &mut usize) {
    while bytes.get(*at) == Some(&b' ') {
        *at += 1;
    }
}

/// A one-line plain scalar value in block context: up to a ` #` comment or the end of the
/// line. `: ` inside it, or tabs, are left to the full parser.
fn plain_block(rest: &str) -> R<&str> {
    let bytes = rest.as_bytes();
    let end = bytes.windows(2).position(|w| w == b" #").unwrap_or(bytes.len());
    let text = rest[..end].trim_end_matches(' ');
    let tb = text.as_bytes();
    if memchr(b'\t', tb).is_some() || text.ends_with(':') || tb.windows(2).any(|w| w == b": ") {
        return Err(Unsupported);
    }
    Ok(text)
}

/// A plain scalar inside a flow collection: up to `,`, a bracket, a `:` followed by a space
/// or flow indicator, or a comment.
fn plain_flow<'l>(line: &'l str, at: &mut usize) -> R<&'l str> {
    let bytes = line.as_bytes();
    let start = *at;
    match bytes.get(start) {
        None
        | Some(
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b'#' | b'|' | b'>' | b'-' | b':' | b',' | b']' | b'}'
            | b'[' | b'{' | b'\t',
        ) => {
            // `-1` or `--port` are plain, but a lone `-` or `- x` is not.
            let plain_dash = bytes.get(start) == Some(&b'-')
                && !matches!(bytes.get(start + 1), None | Some(b' ' | b'\t' | b',' | b'[' | b']' | b'{' | b'}'));
            if !plain_dash {
                return Err(Unsupported);
            }
        }
        _ => {}
    }
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b',' | b'[' | b']' | b'{' | b'}' => break,
            b':' if matches!(bytes.get(i + 1), None | Some(b' ' | b',' | b']' | b'}')) => break,
            // `a:{` and `a:[`: the full parser refuses them in a flow mapping.
            b':' if matches!(bytes.get(i + 1), Some(b'[' | b'{')) => return Err(Unsupported),
            b'#' if bytes[i - 1] == b' ' => return Err(Unsupported),
            b'\t' => return Err(Unsupported),
            _ => i += 1,
        }
    }
    *at = i;
    let text = line[start..i].trim_end_matches(' ');
    if text.is_empty() {
        return Err(Unsupported);
    }
    Ok(text)
}

/// A single- or double-quoted scalar starting at byte `at`, closed on the same line; its
/// text and the offset just past the closing quote.
fn quoted(line: &str, at: usize) -> R<(Cow<'_, str>, usize)> {
    let bytes = line.as_bytes();
    let q = bytes[at];
    let body = at + 1;
    if q == b'\'' {
        let mut out: Option<String> = None;
        let mut i = body;
        let mut seg = body;
        loop {
            let k = i + memchr(b'\'', &bytes[i..]).ok_or(Unsupported)?;
            if bytes.get(k + 1) == Some(&b'\'') {
                out.get_or_insert_with(String::new).push_str(&line[seg..=k]);
                i = k + 2;
                seg = i;
                continue;
            }
            let text = match out {
                Some(mut s) => {
                    s.push_str(&line[seg..k]);
                    Cow::Owned(s)
                }
                None => Cow::Borrowed(&line[body..k]),
            };
            return Ok((text, k + 1));
        }
    }
    let mut out: Option<String> = None;
    let mut i = body;
    loop {
        let rel = bytes[i..].iter().position(|b| *b == b'"' || *b == b'\\').ok_or(Unsupported)?;
        let k = i + rel;
        if bytes[k] == b'"' {
            let text = match out {
                Some(mut s) => {
                    s.push_str(&line[i..k]);
                    Cow::Owned(s)
                }
                None => Cow::Borrowed(&line[body..k]),
            };
            return Ok((text, k + 1));
        }
        let s = out.get_or_insert_with(String::new);
        s.push_str(&line[i..k]);
        let (c, len) = match bytes.get(k + 1).ok_or(Unsupported)? {
            b'\\' => ('\\', 2),
            b'"' => ('"', 2),
            b'/' => ('/', 2),
            b'n' => ('\n', 2),
            b't' => ('\t', 2),
            b'r' => ('\r', 2),
            b'0' => ('\0', 2),
            b' ' => (' ', 2),
            b'u' => {
                let hex = line.get(k + 2..k + 6).ok_or(Unsupported)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(Unsupported);
                }
                let code = u32::from_str_radix(hex, 16).map_err(|_| Unsupported)?;
                (char::from_u32(code).ok_or(Unsupported)?, 6)
            }
            _ => return Err(Unsupported),
        };
        s.push(c);
        i = k + len;
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_stream_full;
    use super::*;

    /// Both readers agree on `text` (the fast one must read it, unless `may_decline`).
    fn agree(text: &str) {
        let fast = parse_stream(text).unwrap_or_else(|| panic!("fast reader declined:\n{text}"));
        same(text, fast);
    }

    fn same(text: &str, fast: Vec<YamlDoc>) {
        let (full, err) = parse_stream_full(text);
        assert!(err.is_none(), "full parser failed on text the fast reader read: {err:?}\n{text}");
        assert_eq!(fast.len(), full.len(), "document count differs:\n{text}");
        for (f, g) in fast.iter().zip(&full) {
            assert_eq!(f.value, g.value, "values differ:\n{text}");
            if !f.value.is_null() {
                assert_eq!(f.start_line, g.start_line, "start line differs:\n{text}");
            }
            assert_eq!(f.duplicate_keys, g.duplicate_keys, "duplicate keys differ:\n{text}");
        }
    }

    fn declines(text: &str) {
        assert!(parse_stream(text).is_none(), "fast reader should leave this to the full parser:\n{text}");
    }

    #[test]
    fn reads_block_manifests_like_the_full_parser() {
        agree(
            "# head\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web  # trailing\n  labels: {app: web, tier: \"front\"}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: a\n        image: 'nginx:1.25'\n        args: [\"--port\", '8080', -v, 1.5]\n        env:\n        - name: X\n          value: \"a\\\"b\\\\c\\u00e9\"\n        -   name: Y\n            value: yes\n      - name: b\n        command:\n          - sh\n          - -c\n        ports: []\n      volumes:\n      -\n        name: v\n---\n---\napiVersion: v1\nkind: List\nitems:\n- - x\n  - y\n- \n",
        );
    }

    #[test]
    fn reads_flow_and_separators_like_the_full_parser() {
        agree(
            "--- # first\na: {\"k\":1, 'q': [], e: {}, n: , z: null}\nb: [ -1, --x, \"a,b\", 'it''s', [1, [2]] ]\nkey   : v\n--- \nc: ~\n",
        );
        agree("  indented: root\n  more:\n  - x\n");
        agree("a: \"caf\u{e9} \\u00e9\"\nb: été # comment\nc: 'é'\n");
    }

    #[test]
    fn reads_block_scalars_like_the_full_parser() {
        for text in [
            "a: |\n  x\n   y\n\n  z\n\n\nb: 1\n",
            "a: |-\n  x\n  y\n\nb: 1\n",
            "a: |+\n  x\n\n\nb: 1\n",
            "a: >\n  x\n  y\n\n  z\n",
            "a: >-\n\n  x\n  y\n",
            "- |\n  x\n- >\n  y\n  z\n",
            "a: |\n\nb: 1\n",
            "a:\n  b: |\n    # not a comment\n  # a comment\n  c: 1\n",
            "a: |\n  x\n  \n  y\n",
        ] {
            agree(text);
        }
    }

    #[test]
    fn duplicates_and_lines_match() {
        agree("\n\nmetadata:\n  name: x\n  name: z\nl:\n- a: 1\n- a: 2\n  a: 3\nf: {k: 1, k: 2}\n");
        agree("a: 1\r\nb:\r\n  - x\r\n");
        agree("on: 1\ny: 2\n0x10: 3\n'yes': 4\n1.5: 5\n\"key with: colon\": 6\nurl: http://x:80/#frag\n");
    }

    #[test]
    fn leaves_the_rest_to_the_full_parser() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "%YAML 1.1\n---\na: 1\n",
            "a: this is\n  continued\n",
            "a: \"open\n  quote\"\n",
            "a: [1,\n  2]\n",
            "? complex\n: key\n",
            "a:\tb\n",
            "<<: {a: 1}\n",
            "a: 1\n...\n",
            "a: b: c\n",
            "- a\nb: 1\n",
            "just a scalar\n",
            "{\"json\": true}\n",
            "a: |2\n   x\n",
            "a: >\n  x\n    more\n  y\n",
            // Found by the yaml_fast fuzz target: granit-parser refuses `:` before `{`.
            "name: { 9Naa:{m e: x }}\n",
        ] {
            declines(text);
        }
    }

    /// Every corpus file the fast reader reads, it reads as the full parser does; and it
    /// reads most of them.
    #[test]
    fn agrees_with_full_parser_on_the_corpus() {
        let Some(files) = crate::test_support::corpus_files(&["yaml", "yml"]) else { return };
        let (mut read, mut total) = (0, 0);
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else { continue };
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            if text.contains('\0') || parse_stream_full(text).1.is_some() {
                continue;
            }
            total += 1;
            if let Some(fast) = parse_stream(text) {
                read += 1;
                same(text, fast);
            }
        }
        eprintln!("fast reader read {read} of {total} valid YAML files");
        assert!(total > 0);
        assert!(read * 10 >= total * 7, "fast reader read only {read} of {total} files");
    }
}
