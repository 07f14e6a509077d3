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
use memchr::{memchr, memchr_iter, memchr3};
use serde_json::{Map, Value};

use super::{YamlDoc, key_text, scalar_value};
use crate::manifest::{FieldPath, PathChain, Pos, Seg};

/// The stream is outside the subset (or not valid YAML): read it with the full parser.
#[derive(Debug)]
struct Unsupported;

type R<T> = Result<T, Unsupported>;

/// Read every document, or `None` when the full parser must do it.
pub(super) fn parse_stream(text: &str) -> Option<Vec<YamlDoc>> {
    if !printable(text.as_bytes()) {
        return None;
    }
    read_printable(text)
}

/// [`parse_stream`] of a piece of a stream already found [`printable`].
pub(super) fn read_printable(text: &str) -> Option<Vec<YamlDoc>> {
    Reader::new(text).stream().ok()
}

/// Where `path` is written in the stream's first document, within its first `max_lines`
/// lines (the deepest part of it that is), lines counted from `first_line`: `Some(None)`
/// when no part of it is, `None` when the full parser must read the text. Only the nodes
/// on the path are read; the others are passed over by their indentation, which is where
/// [`read_printable`] ends them too.
pub(super) fn find(text: &str, first_line: u32, max_lines: usize, path: &[Seg]) -> Option<Option<Pos>> {
    let mut reader = Reader::with_max_lines(text, max_lines);
    let end = reader.lines.last().map_or(0, |l| l.1);
    if !printable(&text.as_bytes()[..end]) {
        return None;
    }
    reader.finder = Some(Finder {
        target: path,
        shift: first_line.saturating_sub(1),
        depth: Some(0),
        reached: 0,
        at: vec![Pos { line: 0, column: 0 }; path.len()],
    });
    reader.stream().ok()?;
    let r = reader.finder?;
    Some(r.at[..r.reached].iter().rev().find(|p| p.line > 0).copied())
}

/// Records where the segments of one path are written while the reader walks the document.
/// A key written twice is one node, placed at its first occurrence as [`locate`] places it
/// (the duplicate-key finding quotes that one and points at the second).
///
/// [`locate`]: super::locate
struct Finder<'p> {
    target: &'p [Seg],
    shift: u32,
    /// How many segments of `target` lead to the node being read; `None` when it is off
    /// the path (or below its end).
    depth: Option<usize>,
    /// How many segments of `target` were found.
    reached: usize,
    /// Where each segment is written (line 0: not known yet: an item is entered before its
    /// node is found).
    at: Vec<Pos>,
}

/// A path step as the reader meets it, compared with the target's without allocating.
#[derive(Clone, Copy)]
enum Step<'k> {
    Key(&'k str),
    Index(usize),
}

impl Step<'_> {
    fn is(self, seg: &Seg) -> bool {
        match (self, seg) {
            (Step::Key(k), Seg::Key(s)) => k == s,
            (Step::Index(i), Seg::Index(j)) => i == *j,
            _ => false,
        }
    }
}

/// YAML's printable set (what the full parser checks): no C0 controls but tab, CR and LF,
/// no DEL, no C1 controls, no U+FFFE/U+FFFF, no byte-order mark inside the text. A CR must
/// end a line (CRLF); a lone CR is a line break the line splitter does not know.
pub(super) fn printable(bytes: &[u8]) -> bool {
    // Nearly all of a manifest is printable ASCII: 64-byte blocks the compiler vectorizes,
    // the byte-wise check below only for a block that holds anything else.
    let ascii = |block: &[u8]| block.iter().fold(true, |ok, &b| ok & matches!(b, 0x20..=0x7e | b'\n' | b'\t'));
    let mut start = 0;
    while start < bytes.len() {
        let end = (start + 64).min(bytes.len());
        if !ascii(&bytes[start..end]) {
            // A character may straddle the block's end: check from the block to the end of
            // the next block that is ASCII again.
            let mut stop = end;
            while stop < bytes.len() && !ascii(&bytes[stop..(stop + 64).min(bytes.len())]) {
                stop = (stop + 64).min(bytes.len());
            }
            if !printable_slow(bytes, start, stop) {
                return false;
            }
            start = stop;
            continue;
        }
        start = end;
    }
    true
}

/// Bytes `from..to` of `bytes`, looking past `to` for what a character needs.
fn printable_slow(bytes: &[u8], from: usize, to: usize) -> bool {
    let mut i = from;
    while i < to {
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

/// A line and a byte offset in it: where a key or item is written, made a [`Pos`] only when
/// one is wanted (a duplicate key, a path [`find`] looks for).
type Spot = (usize, usize);

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
    /// Set when positions are wanted ([`find`]); reading values alone leaves it `None`.
    finder: Option<Finder<'a>>,
}

/// `s` without its leading spaces. Byte-wise: `trim_start_matches(' ')` decodes characters,
/// and this runs on every line of a large bundle.
fn ltrim(s: &str) -> &str {
    let n = s.bytes().take_while(|&b| b == b' ').count();
    // Spaces are ASCII: `n` is a character boundary.
    &s[n..]
}

/// `s` without its trailing spaces (byte-wise, as [`ltrim`]).
fn rtrim(s: &str) -> &str {
    let n = s.bytes().rev().take_while(|&b| b == b' ').count();
    &s[..s.len() - n]
}

fn is_blank_or_comment(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with('#')
}

/// A separate `# comment` or nothing after a node (the `#` needs a space before it, which
/// the caller has skipped).
fn trailing_ok(s: &str) -> R<()> {
    let t = ltrim(s);
    if t.is_empty() || (t.starts_with('#') && t.len() < s.len()) { Ok(()) } else { Err(Unsupported) }
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Reader<'a> {
        Reader::with_max_lines(text, usize::MAX)
    }

    /// A reader of the first `max_lines` lines of `text`.
    fn with_max_lines(text: &'a str, max_lines: usize) -> Reader<'a> {
        let bytes = text.as_bytes();
        let mut lines = Vec::with_capacity((bytes.len() / 24 + 1).min(max_lines));
        let mut start = 0;
        for nl in memchr_iter(b'\n', bytes) {
            if lines.len() == max_lines {
                break;
            }
            let end = if nl > start && bytes[nl - 1] == b'\r' { nl - 1 } else { nl };
            lines.push((start, end));
            start = nl + 1;
        }
        if start < bytes.len() && lines.len() < max_lines {
            lines.push((start, bytes.len()));
        }
        Reader { text, lines, i: 0, c: 0, next: Next::Eof, last: 0, dups: Vec::new(), finder: None }
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
        let indent = line.len() - ltrim(line).len();
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

    /// When recording positions: step into the child `step` of the current node, written
    /// at `at` (an item's position is set by [`Reader::item_at`] once its node is found).
    /// Returns the depth to go back to.
    fn enter(&mut self, step: Step<'_>, at: Option<Spot>) -> Option<Option<usize>> {
        let r = self.finder.as_ref()?;
        let prev = r.depth;
        let depth = prev.filter(|&d| r.target.get(d).is_some_and(|seg| step.is(seg)));
        let at = depth.and(at).map(|(line, byte)| self.pos(line, byte));
        let r = self.finder.as_mut()?;
        r.depth = depth.map(|d| d + 1);
        if let Some(d) = depth {
            r.reached = r.reached.max(d + 1);
            if let Some(at) = at {
                set_once(&mut r.at[d], Pos { line: at.line + r.shift, column: at.column });
            }
        }
        Some(prev)
    }

    fn leave(&mut self, prev: Option<Option<usize>>) {
        if let (Some(r), Some(depth)) = (self.finder.as_mut(), prev) {
            r.depth = depth;
        }
    }

    /// Whether the node just entered is to be read: always, unless positions are recorded
    /// and the node is off their path.
    fn wanted(&self) -> bool {
        !matches!(&self.finder, Some(Finder { depth: None, .. }))
    }

    /// Pass over the node after `key:` or `-` (the cursor is just past the indicator) in a
    /// collection indented by `indent`, as [`Reader::node_after_indicator`] would leave it
    /// but without reading it: it runs over the lines indented deeper than the collection,
    /// and after a `key:` that ends its line, over a sequence at the key's indentation.
    /// Exact for a document the reader reads whole, where nothing else can continue a node.
    fn skip_node(&mut self, indent: usize, in_map: bool) -> R<Value> {
        let same_indent_items = in_map && is_blank_or_comment(ltrim(self.rest()));
        let mut last = self.i;
        for j in self.i + 1..self.lines.len() {
            let line = self.line(j).as_bytes();
            // More than `indent` spaces: deeper content, or a blank or comment line.
            if line.len() > indent && line[..=indent].iter().all(|&b| b == b' ') {
                last = j;
                continue;
            }
            match self.classify(j)? {
                None => {}
                Some(Next::Content(n))
                    if n > indent || (same_indent_items && n == indent && is_seq_indicator(&self.line(j)[n..])) =>
                {
                    last = j;
                }
                Some(_) => break,
            }
        }
        self.i = last;
        self.advance()?;
        Ok(Value::Null)
    }

    /// The current sequence item's node starts at the cursor.
    fn item_at(&mut self) {
        self.item_at_byte(self.i, self.c);
    }

    /// The current sequence item's node starts at byte `byte` of line `line` (an empty
    /// item is placed where the full parser places it: at the end of the dash's line).
    fn item_at_byte(&mut self, line: usize, byte: usize) {
        let Some(Some(d @ 1..)) = self.finder.as_ref().map(|r| r.depth) else { return };
        let at = self.pos(line, byte);
        if let Some(r) = self.finder.as_mut() {
            set_once(&mut r.at[d - 1], Pos { line: at.line + r.shift, column: at.column });
        }
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
                            simple: true,
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
                        simple: true,
                    });
                    if self.finder.is_some() {
                        // Positions are wanted for one document; the text given may run
                        // into the next.
                        return Ok(docs);
                    }
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
        match self.entry_key()? {
            Some(first) => self.block_mapping(indent, ctx, first),
            None => Err(Unsupported),
        }
    }

    fn block_sequence(&mut self, indent: usize, ctx: &PathChain<'_>) -> R<Value> {
        let mut items = Vec::new();
        let mut n = 0;
        loop {
            // The cursor is on `-`.
            self.c += 1;
            let item_ctx = PathChain::Index(ctx, n);
            let prev = self.enter(Step::Index(n), None);
            let value = if self.wanted() {
                self.node_after_indicator(indent, false, &item_ctx)?
            } else {
                self.skip_node(indent, false)?
            };
            self.leave(prev);
            n += 1;
            // Recording positions, the values are not wanted: the collections are not built.
            if self.finder.is_none() {
                items.push(value);
            }
            match self.next {
                Next::Content(n) if n == indent && is_seq_indicator(self.rest()) => {}
                Next::Content(n) if n > indent => return Err(Unsupported),
                _ => return Ok(Value::Array(items)),
            }
        }
    }

    /// A block mapping whose first key (text, position, byte after its `:`) the caller has
    /// read: [`Reader::entry_key`] is how a mapping is recognised.
    fn block_mapping(&mut self, indent: usize, ctx: &PathChain<'_>, first: (String, Spot, usize)) -> R<Value> {
        let mut map = Map::new();
        let mut entry = Some(first);
        loop {
            let (key, key_at, after) = match entry.take() {
                Some(first) => first,
                None => self.entry_key()?.ok_or(Unsupported)?,
            };
            if key == "<<" {
                return Err(Unsupported);
            }
            self.c = after;
            let prev = self.enter(Step::Key(&key), Some(key_at));
            let value = if self.wanted() {
                let value_ctx = PathChain::Key(ctx, &key);
                self.node_after_indicator(indent, true, &value_ctx)?
            } else {
                self.skip_node(indent, true)?
            };
            self.leave(prev);
            if self.finder.is_none() {
                self.insert(&mut map, key, key_at, value, ctx);
            }
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
        let rest = ltrim(after);
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
            let dash_line = (self.i, line.len());
            return match self.advance()? {
                Next::Content(n) if n > indent => {
                    if !in_map {
                        self.item_at();
                    }
                    self.node_on_own_line(n, indent, ctx)
                }
                Next::Content(n) if n == indent && in_map && is_seq_indicator(self.rest()) => {
                    self.block_sequence(n, ctx)
                }
                _ => {
                    if !in_map {
                        self.item_at_byte(dash_line.0, dash_line.1);
                    }
                    Ok(Value::Null)
                }
            };
        }
        if !in_map {
            self.item_at();
        }
        let column = self.c;
        match rest.as_bytes()[0] {
            b'|' | b'>' => self.block_scalar(indent),
            b'[' | b'{' => self.flow_collection(indent, ctx),
            b'-' if is_seq_indicator(rest) => {
                if in_map {
                    return Err(Unsupported);
                }
                self.block_sequence(column, ctx)
            }
            // A plain scalar may start with `:` when a non-space follows (`record: :node_cpu:sum`).
            b':' if !plain_colon_start(rest) => Err(Unsupported),
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b',' | b']' | b'}' | b'#' => Err(Unsupported),
            first => match self.entry_key()? {
                // A mapping after `- ` starts a compact mapping; after `key: ` it is an error.
                Some(_) if in_map => Err(Unsupported),
                Some(key) => self.block_mapping(column, ctx, key),
                None if matches!(first, b'"' | b'\'') => self.quoted_scalar(indent),
                None => self.plain_scalar(rest, indent),
            },
        }
    }

    /// A flow collection that starts at the cursor and ends on its line.
    fn flow_collection(&mut self, indent: usize, ctx: &PathChain<'_>) -> R<Value> {
        let line = self.line(self.i);
        let mut at = self.c;
        let value = self.flow_node(&mut at, ctx)?;
        trailing_ok(&line[at..])?;
        self.after_node_on_line(indent, value)
    }

    /// Done with a node that ends on the current line: a more indented line after it would
    /// continue it (or be an error), which is left to the full parser. Leaves `next` on the
    /// line after it.
    fn after_node_on_line(&mut self, indent: usize, value: Value) -> R<Value> {
        match self.advance()? {
            Next::Content(n) if n > indent => Err(Unsupported),
            _ => Ok(value),
        }
    }

    /// A node that starts on the line after its `key:` or `-` (at indentation `n`, deeper
    /// than the collection's `indent`): a block collection, or a scalar or flow collection
    /// standing alone (`description:` then the text below it, `key:` then `{}`).
    fn node_on_own_line(&mut self, n: usize, indent: usize, ctx: &PathChain<'_>) -> R<Value> {
        let rest = self.rest();
        if is_seq_indicator(rest) {
            return self.block_sequence(n, ctx);
        }
        if let Some(first) = self.entry_key()? {
            return self.block_mapping(n, ctx, first);
        }
        match rest.as_bytes()[0] {
            b'[' | b'{' => self.flow_collection(indent, ctx),
            b'"' | b'\'' => self.quoted_scalar(indent),
            b':' if !plain_colon_start(rest) => Err(Unsupported),
            b'|' | b'>' | b'-' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b',' | b']' | b'}' | b'#' => {
                Err(Unsupported)
            }
            _ => self.plain_scalar(rest, indent),
        }
    }

    /// A plain scalar starting at the cursor (`rest` is the line from there), in a
    /// collection indented by `indent`: one line, or folded with the more indented lines
    /// that continue it (a line break between two lines is a space, each empty line
    /// between them a newline; CRD descriptions are written so). Leaves `next` on the line
    /// after it.
    fn plain_scalar(&mut self, rest: &'a str, indent: usize) -> R<Value> {
        let first = plain_block(rest)?;
        let commented = first.len() < rtrim(rest).len();
        let mut folded: Option<String> = None;
        if !commented {
            let mut empties = 0;
            let mut last_text = self.i;
            for j in self.i + 1..self.lines.len() {
                let l = self.line(j);
                let t = ltrim(l);
                if t.is_empty() {
                    empties += 1;
                    continue;
                }
                // A less indented line ends the scalar; so does a comment, after which a
                // more indented line is an error the check below leaves to the full parser.
                if l.len() - t.len() <= indent || t.starts_with('#') {
                    break;
                }
                // What would end the scalar or start another node inside a line (`: `,
                // ` #`), and tabs, are left to the full parser.
                let whole = rtrim(t);
                let t = plain_block(whole)?;
                if t.len() < whole.len() {
                    return Err(Unsupported);
                }
                let s = folded.get_or_insert_with(|| first.to_string());
                fold_break(s, empties);
                s.push_str(t);
                empties = 0;
                last_text = j;
            }
            self.i = last_text;
        }
        // Recording positions, the values are not wanted.
        let value = match folded {
            _ if self.finder.is_some() => Value::Null,
            Some(s) => scalar_value(Cow::Owned(s), ScalarStyle::Plain, None),
            None => scalar_value(Cow::Borrowed(first), ScalarStyle::Plain, None),
        };
        // A more indented line after the scalar (past a comment) is an error.
        self.after_node_on_line(indent, value)
    }

    /// A quoted scalar starting at the cursor, in a collection indented by `indent`: closed
    /// on its line, or folded over the lines up to its closing quote as YAML folds flow
    /// scalars (trailing and leading spaces of each line dropped, a line break a space,
    /// each empty line a newline, `\` before a break joins the lines). Leaves `next` on the
    /// line after it.
    fn quoted_scalar(&mut self, indent: usize) -> R<Value> {
        let line = self.line(self.i);
        let text = match quoted(line, self.c) {
            Ok((text, end)) => {
                trailing_ok(&line[end..])?;
                Value::String(text.into_owned())
            }
            Err(Unsupported) => Value::String(self.quoted_lines(indent)?),
        };
        self.after_node_on_line(indent, text)
    }

    /// The text of a quoted scalar that opens at the cursor and closes on a later line;
    /// leaves the cursor on the closing line. Tabs, lines not indented past `indent`, and
    /// escapes that touch a line break are left to the full parser.
    fn quoted_lines(&mut self, indent: usize) -> R<String> {
        let q = self.rest().as_bytes()[0];
        let mut out = String::new();
        // Line breaks since the last text, and whether the first one was escaped.
        let mut breaks = 0usize;
        let mut escaped = false;
        let mut j = self.i;
        let mut from = self.c + 1;
        loop {
            let line = self.line(j);
            if memchr(b'\t', line.as_bytes()).is_some() {
                return Err(Unsupported);
            }
            if j > self.i {
                let body = ltrim(line);
                if line.len() - body.len() <= indent && !body.is_empty() {
                    return Err(Unsupported);
                }
                from = line.len() - body.len();
            }
            let raw = &line[from..];
            let close = closing_quote(raw, q);
            let seg = &raw[..close.unwrap_or(raw.len())];
            if close.is_none() && j > self.i && rtrim(seg).is_empty() {
                // An empty line inside the scalar.
                breaks += 1;
                j += 1;
                if j == self.lines.len() {
                    return Err(Unsupported);
                }
                continue;
            }
            if j > self.i {
                if escaped {
                    (1..breaks).for_each(|_| out.push('\n'));
                } else {
                    fold_break(&mut out, breaks - 1);
                }
            }
            if let Some(close) = close {
                unquote(seg, q, &mut out)?;
                let end = from + close + 1;
                trailing_ok(&line[end..])?;
                self.i = j;
                return Ok(out);
            }
            // The line breaks inside the scalar: an odd run of backslashes at its end
            // escapes the break; otherwise trailing spaces are dropped, unless escaped.
            let backslashes = |t: &str| t.len() - t.trim_end_matches('\\').len();
            escaped = q == b'"' && backslashes(seg) % 2 == 1;
            let seg = if escaped {
                &seg[..seg.len() - 1]
            } else {
                let trimmed = rtrim(seg);
                if q == b'"' && backslashes(trimmed) % 2 == 1 {
                    return Err(Unsupported);
                }
                trimmed
            };
            unquote(seg, q, &mut out)?;
            breaks = 1;
            j += 1;
            if j == self.lines.len() {
                return Err(Unsupported);
            }
        }
    }

    /// Insert a mapping entry; a key already present is a duplicate (the last one wins, as
    /// in the API server).
    fn insert(&mut self, map: &mut Map<String, Value>, key: String, key_at: Spot, value: Value, ctx: &PathChain<'_>) {
        match map.entry(key) {
            serde_json::map::Entry::Vacant(e) => {
                e.insert(value);
            }
            serde_json::map::Entry::Occupied(mut e) => {
                let at = self.pos(key_at.0, key_at.1);
                self.dups.push((PathChain::Key(ctx, e.key()).to_field_path(), at));
                e.insert(value);
            }
        }
    }

    /// If the cursor is on `key:` (followed by a space or the end of the line), the key's
    /// text, its position and the byte offset just after the `:`.
    fn entry_key(&self) -> R<Option<(String, Spot, usize)>> {
        let line = self.line(self.i);
        let rest = &line[self.c..];
        let at = (self.i, self.c);
        let colon_ok = |s: &str| match s.as_bytes().get(1) {
            None | Some(b' ') => Ok(true),
            Some(b'\t') => Err(Unsupported),
            _ => Ok(false),
        };
        match rest.as_bytes().first() {
            Some(b'"' | b'\'') => {
                // Not closed on this line: a multi-line scalar, which cannot be a key.
                let Ok((text, end)) = quoted(line, self.c) else { return Ok(None) };
                let after = ltrim(&line[end..]);
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
                // A key's `:` is a few bytes in: a plain loop finds it sooner than memchr's
                // vector setup (this runs for every line of a bundle).
                while let Some(k) = bytes[from..].iter().position(|&b| b == b':') {
                    let k = from + k;
                    if memchr(b'#', &bytes[..k]).is_some() && bytes[..k].windows(2).any(|w| w == b" #") {
                        return Ok(None);
                    }
                    if colon_ok(&rest[k..])? {
                        let key = rtrim(&rest[..k]);
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
            let spaces = l.len() - ltrim(l).len();
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
                        if seen_text {
                            fold_break(&mut out, empties);
                        } else {
                            (0..empties).for_each(|_| out.push('\n'));
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
                    let n = items.len();
                    let prev = self.enter(Step::Index(n), Some((self.i, *at)));
                    let item = self.flow_node(at, &item_ctx)?;
                    self.leave(prev);
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
                    let key_at = (self.i, *at);
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
                    let prev = self.enter(Step::Key(&key), Some(key_at));
                    let value = match bytes.get(*at) {
                        Some(b',' | b'}') => Value::Null,
                        _ => {
                            let value_ctx = PathChain::Key(ctx, &key);
                            self.flow_node(at, &value_ctx)?
                        }
                    };
                    self.leave(prev);
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

/// Set a position not known yet (line 0); the first one found counts.
fn set_once(slot: &mut Pos, at: Pos) {
    if slot.line == 0 {
        *slot = at;
    }
}

/// YAML line folding: the break between two lines of text is a space, unless empty lines
/// come between them, each of which is a newline.
fn fold_break(out: &mut String, empty_lines: usize) {
    if empty_lines == 0 {
        out.push(' ');
    }
    (0..empty_lines).for_each(|_| out.push('\n'));
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// Whether `rest`, which starts with `:`, is a plain scalar: a character other than a space
/// or tab follows the `:` (YAML's ns-plain-first).
fn plain_colon_start(rest: &str) -> bool {
    matches!(rest.as_bytes().get(1), Some(b) if !matches!(b, b' ' | b'\t'))
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
    // One pass over the bytes that matter: the scalar ends at ` #`; a tab or `: ` before
    // that is outside the subset.
    let bytes = rest.as_bytes();
    let mut from = 0;
    let end = loop {
        let Some(k) = memchr3(b'#', b':', b'\t', &bytes[from..]) else { break bytes.len() };
        let k = from + k;
        match bytes[k] {
            b'#' if k > 0 && bytes[k - 1] == b' ' => break k,
            b'\t' => return Err(Unsupported),
            b':' if bytes.get(k + 1) == Some(&b' ') => return Err(Unsupported),
            _ => from = k + 1,
        }
    };
    let text = rtrim(&rest[..end]);
    if text.ends_with(':') {
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
    let text = rtrim(&line[start..i]);
    if text.is_empty() {
        return Err(Unsupported);
    }
    Ok(text)
}

/// The byte offset of the quote `q` that closes a quoted scalar in `raw` (text after the
/// opening quote, or a continuation line), skipping `''` and backslash escapes.
fn closing_quote(raw: &str, q: u8) -> Option<usize> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\\' if q == b'"' => i += 2,
            b if b == q => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Append the text of `seg`, a piece of a quoted scalar between line breaks, unescaped.
fn unquote(seg: &str, q: u8, out: &mut String) -> R<()> {
    if q == b'\'' {
        out.push_str(&seg.replace("''", "'"));
        return Ok(());
    }
    let bytes = seg.as_bytes();
    let mut i = 0;
    while let Some(rel) = memchr(b'\\', &bytes[i..]) {
        let k = i + rel;
        out.push_str(&seg[i..k]);
        let (c, len) = escape(seg, k)?;
        out.push(c);
        i = k + len;
    }
    out.push_str(&seg[i..]);
    Ok(())
}

/// The character a double-quoted scalar's escape at byte `k` (a backslash) stands for, and
/// the escape's length.
fn escape(line: &str, k: usize) -> R<(char, usize)> {
    Ok(match line.as_bytes().get(k + 1).ok_or(Unsupported)? {
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
    })
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
        let (c, len) = escape(line, k)?;
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

    /// [`super::super::parse_stream_shared`] gives what [`super::super::parse_stream`] gives,
    /// with `cache` shared across calls so that repeated documents come from it.
    fn same_shared(text: &str, cache: &super::super::DocCache) {
        let with_bom: std::sync::Arc<str> = format!("\u{feff}{text}").into();
        let (shared, err) = super::super::parse_stream_shared(&with_bom, '\u{feff}'.len_utf8(), cache);
        let (plain, plain_err) = super::super::parse_stream(text);
        assert_eq!(err, plain_err, "errors differ:\n{text}");
        assert_eq!(shared.len(), plain.len(), "document count differs:\n{text}");
        for (s, p) in shared.iter().zip(&plain) {
            assert_eq!(*s.value, p.value, "values differ:\n{text}");
            assert_eq!((s.start_line, s.end_line), (p.start_line, p.end_line), "lines differ:\n{text}");
            assert_eq!(s.duplicate_keys, p.duplicate_keys, "duplicate keys differ:\n{text}");
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
    fn reads_multi_line_plain_scalars_like_the_full_parser() {
        for text in [
            "a: this is\n  continued\n",
            "spec:\n  description: Spec defines the desired\n    state of the object.\n\n    A second paragraph\n      more indented.\n  other: 1\n",
            "a: x\n\n\n  y\nb: 1\n",
            "- one\n  two\n- three\n",
            "- k: one\n    two\n  j: 1\n",
            "a: 1\n  2\n",
            "a: true\n  false\n",
            "a: x   \n   y   \n",
            "a: x\n  - y\n  \"z\" [w] {v} *u &t !s %r @q `p | o > n\n",
            "a: x\n  # comment\nb: y\n",
            "description:\n  Text on its own line\n  continued.\nnext: 1\n",
            "a:\n    deeper\n  shallower\n",
            "a:\n  {}\nb:\n  []\nc:\n  \"q\"\nd:\n  'q'\n",
            "l:\n-\n  x\n  y\n",
        ] {
            agree(text);
        }
        for text in [
            "a: x\n  y: z\n",
            "a: x\n  y #c\n  z\n",
            "a: x # c\n  y\n",
            "a: x\n  # c\n  y\n",
            "a: x\n  y\tz\n",
            "a: x\n  y:\n",
            "a:\n  {}\n  x\n",
        ] {
            assert!(parse_stream_full(text).1.is_some() || parse_stream(text).is_none(), "{text}");
        }
    }

    #[test]
    fn reads_multi_line_quoted_scalars_like_the_full_parser() {
        for text in [
            "a: \"open\n  quote\"\n",
            "a: 'Refresh indicates if\n    the latest  \n\n    revision'\nb: 1\n",
            "a: 'it''s\n  ''quoted'''\n",
            "a: \"x\\\n   y\\n \\\n  z\"\n",
            "a: \"x \\\n\n  y\"\n",
            "a: \"\n  lead\"\n",
            "a: \"trail\n  \"\n",
            "- \"item\n  two\"\n- 'x\n\n\n  y'\n",
            "a:\n  \"own\n  line\"\nb: \"\\\\\n  c\"\n",
            "rule: '[has(self.a), has(self.b)].filter(x,\n  x).size() <= 1'\n",
            "a: \"caf\u{e9}\n  \\u00e9\"\n",
        ] {
            agree(text);
        }
        // An escaped space before a break is left to the full parser.
        for text in ["a: \"esc\\ \n  b\"\n", "a: \"open\nb: 1\n", "a: 'x\n\ty'\n", "a: \"x\n  y\" z\n", "a: \"x\n"] {
            assert!(parse_stream_full(text).1.is_some() || parse_stream(text).is_none(), "{text}");
        }
    }

    /// The block-wise check agrees with the byte-wise one wherever a special character
    /// falls relative to the 64-byte blocks.
    #[test]
    fn printable_blocks_agree_with_bytes() {
        for special in ["\r\n", "\r", "é", "\u{2028}", "\u{feff}", "\u{85}", "\u{7f}", "\0", "\u{fffe}", "→"] {
            for at in 0..140 {
                let text = format!("{}{special}{}", "a".repeat(at), "b".repeat(70));
                let b = text.as_bytes();
                assert_eq!(printable(b), printable_slow(b, 0, b.len()), "{special:?} at {at}");
            }
        }
        assert!(printable("a: 1\r\n".repeat(40).as_bytes()));
        assert!(!printable(format!("{}\u{85}", "é".repeat(50)).as_bytes()));
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

    /// [`find`] places every field where a re-parse by the full parser does, in every
    /// document of the corpus the fast reader reads (a sample of each one's paths).
    #[test]
    fn find_agrees_with_locate_on_the_corpus() {
        let Some(files) = crate::test_support::corpus_files(&["yaml", "yml"]) else { return };
        let (mut docs, mut checked) = (0, 0);
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else { continue };
            let (full, err) = parse_stream_full(&text);
            if err.is_some() || text.starts_with('\u{feff}') {
                continue;
            }
            for d in full.iter().filter(|d| !d.value.is_null()) {
                // The full parser re-reads the document for each path: the large CRDs
                // would take minutes in a debug build, so a sample of each document.
                match super::super::find_matches_locate(&text, d, 64 * 1024, 6) {
                    Ok(0) => {}
                    Ok(n) => {
                        docs += 1;
                        checked += n;
                    }
                    Err(e) => panic!("{}: {e}", f.display()),
                }
            }
        }
        eprintln!("find agrees with locate on {checked} paths of {docs} documents");
        assert!(docs > 1000);
    }

    /// An empty sequence item is placed where the full parser places its empty scalar: at
    /// the end of the dash's line (found by the `yaml_fast` fuzz target on `-`).
    #[test]
    fn find_places_empty_items_and_resolved_keys_like_the_full_parser() {
        // And keys are found resolved, as the values have them (`Y:` is the key "true"; found
        // by the fuzz target too).
        for text in [
            "-",
            "- ",
            "-   # c",
            "-\n- x",
            "k:\n-\n- y\n",
            "k:\n  -\n  - y\n",
            "- - \n",
            "-  \n  # x\n- z",
            "-- Y:\n Y:\n:a :\n",
            "on: 1\n0x10: {y: 2}\n",
            // Nodes passed over by their indentation when another path is wanted: a
            // sequence at its key's indentation, block scalars holding what looks like
            // keys, items and comments, multi-line plain and quoted scalars, comments
            // less indented than the node around them, a duplicate key.
            "a:\n- x: 1\n  y: [1, 2]\n-\n  - z\nb: |\n  c: 1\n  - d\n  # e\n\n  f\nc: >-\n    folded\n\n   g: 2\nd: plain\n  runs on\ne: \"quoted\n  runs on\"\n# a comment\nf:\n    # deep comment\n    g: 1\n  # shallow comment\n    h: 2\na:\n- w\n",
            "- a: 1\n  b:\n  - c\n  - |\n    - d\n- e\n- - f\n  - g: 1\n    h: 2\n",
        ] {
            for d in parse_stream_full(text).0.iter().filter(|d| !d.value.is_null()) {
                let checked = super::super::find_matches_locate(text, d, usize::MAX, usize::MAX);
                assert!(checked.as_ref().is_ok_and(|n| *n > 0), "{text:?}: {checked:?}");
            }
        }
    }

    /// Generated documents built from what the fast reader handles and what sits just
    /// outside it (continuation lines at every indentation, blank and comment lines inside
    /// scalars, quotes and escapes across line ends, trailing spaces, `{}` on its own line):
    /// whenever the fast reader reads one, it reads it as the full parser does, and [`find`]
    /// places every field where the full parser's `locate` does.
    /// `KS_GEN=400000 KS_SEED=7` runs more of them, from another seed.
    #[test]
    fn agrees_with_full_parser_on_generated_documents() {
        let mut seed = std::env::var("KS_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x2545_f491_4f6c_dd1d_u64);
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        // Mostly plain words, some of what is special at the start or end of a line, inside
        // quotes, or anywhere.
        const WORDS: &[&str] = &[
            "alpha", "beta", "gamma", "delta", "b", "x.y", "1.5", "yes", "~", "é", "µs", "--flag", "a:b", "- x", "'q'",
            "\"d\"", "it''s", "a\\\\", "a\\", "x\\ ", "\\n", "\\\"", "#c", "a #c", "k: v", "[1]", "{}", "",
        ];
        let word = move |next: &mut dyn FnMut(usize) -> usize| {
            if next(3) > 0 { WORDS[next(7)] } else { WORDS[next(WORDS.len())] }
        };
        let (mut read, mut valid, mut pieces) = (0, 0, 0);
        let cache = super::super::DocCache::default();
        for _ in 0..std::env::var("KS_GEN").ok().and_then(|v| v.parse().ok()).unwrap_or(20000) {
            let mut text = String::new();
            // A document is a mapping of entries, or a sequence of one-entry mappings.
            let seq = next(4) == 0;
            for n in 0..1 + next(4) {
                let indent = [0, 2, 4][next(3)];
                let pad = " ".repeat(indent);
                if indent > 0 {
                    text.push_str("root:\n");
                }
                let key = if seq { ["- c", "-  d"][next(2)].to_string() } else { format!("k{n}") };
                let opener = ["", "", "'", "\"", "\n", "{}", "[]"][next(7)];
                let first = if opener.len() == 2 { "" } else { word(&mut next) };
                text.push_str(&format!("{pad}{key}: {opener}{first}"));
                for _ in 0..if opener.len() == 2 { 0 } else { next(4) } {
                    let cont = " ".repeat(indent + [0, 1, 2, 3, 4, 6][next(6)]);
                    let line = match next(8) {
                        0 => String::new(),
                        1 => format!("{cont}# note"),
                        2 => format!("{cont}  "),
                        _ => {
                            let (a, b) = (word(&mut next), word(&mut next));
                            format!("{cont}{a} {b}")
                        }
                    };
                    text.push('\n');
                    text.push_str(&line);
                }
                if !opener.is_empty() && opener.len() == 1 && next(3) > 0 {
                    text.push_str(opener);
                }
                text.push_str(["\n", " \n", "\n\n", "\n# end\n"][next(4)]);
                if next(3) == 0 && !seq {
                    text.push_str(&format!("{pad}z: 1\n"));
                }
            }
            if parse_stream_full(&text).1.is_none() {
                valid += 1;
            }
            // Read a document at a time, a stream of this document and a plain one gives
            // what the full parser gives, errors included.
            let two = format!("a: 1\n---\n{text}---\nb: [1, 2]\n");
            same_shared(&two, &cache);
            match (super::super::parse_stream(&two), parse_stream_full(&two)) {
                ((docs, None), (_, None)) => {
                    pieces += usize::from(parse_stream(&two).is_none());
                    same(&two, docs)
                }
                ((_, Some(_)), (_, Some(_))) => {}
                (hybrid, full) => panic!("errors differ: {:?} / {:?}\n{two}", hybrid.1, full.1),
            }
            let Some(fast) = parse_stream(&text) else { continue };
            read += 1;
            same(&text, fast);
            for d in parse_stream_full(&text).0.iter().filter(|d| !d.value.is_null()) {
                if let Err(e) = super::super::find_matches_locate(&text, d, usize::MAX, usize::MAX) {
                    panic!("{e}\n{text}");
                }
            }
        }
        eprintln!(
            "fast reader read {read} of {valid} valid generated documents; {pieces} streams a document at a time"
        );
        assert!(pieces > 0, "no stream was read a document at a time");
        assert!(read * 2 > valid, "the generator should mostly make documents the fast reader reads");
    }

    /// Every corpus file the fast reader reads, it reads as the full parser does; and it
    /// reads most of them.
    #[test]
    fn agrees_with_full_parser_on_the_corpus() {
        let Some(files) = crate::test_support::corpus_files(&["yaml", "yml"]) else { return };
        let (mut read, mut total) = (0, 0);
        let cache = super::super::DocCache::default();
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else { continue };
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            if text.contains('\0') {
                continue;
            }
            // Errors included; the corpus repeats documents across files, so many come
            // from the cache.
            same_shared(text, &cache);
            if parse_stream_full(text).1.is_some() {
                continue;
            }
            total += 1;
            if let Some(fast) = parse_stream(text) {
                read += 1;
                same(text, fast);
            } else {
                // A document at a time, the fast path where it can.
                let (docs, err) = super::super::parse_stream(text);
                assert!(err.is_none(), "{}: {err:?}", f.display());
                same(text, docs);
            }
        }
        eprintln!("fast reader read {read} of {total} valid YAML files");
        assert!(total > 0);
        assert!(read * 10 >= total * 7, "fast reader read only {read} of {total} files");
    }
}
