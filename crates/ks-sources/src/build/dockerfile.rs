//! The Dockerfile/Containerfile parser.
//!
//! Hand-written on purpose. The most complete maintained crate, `parse-dockerfile` 0.1.9,
//! rejects heredocs that do not start the `RUN` arguments (`RUN cat <<EOF > /etc/x.conf`,
//! `RUN python3 <<EOF`) and more than one heredoc per instruction (both TODOs in its source;
//! checked here on 2026 versions), and real Dockerfiles use both; `dockerfile-parser` has no
//! heredocs or BuildKit flags and is unmaintained; the others parse single lines only. This
//! parser follows BuildKit's reading of a Dockerfile:
//!
//! - parser directives (`# syntax=`, `# escape=`, `# check=`) only at the very top;
//! - a line ending in the escape character continues on the next one; comment and empty lines
//!   inside a continuation are dropped;
//! - `RUN`, `COPY` and `ADD` may carry heredocs (`<<EOF`, `<<-EOF`, `<<'EOF'`, several per
//!   instruction); their bodies follow the instruction line and are not instructions;
//! - exec form is a JSON array of strings, anything else is shell form;
//! - flags (`--mount=type=cache,target=...`, `--from=`, `--chown=`, `--platform=`) precede
//!   the arguments;
//! - build arguments and `ENV` are expanded where BuildKit expands them (see [`super::expand`]).
//!
//! It never fails as a whole: an instruction it cannot read becomes a gap with its line, and
//! the rest of the file is still read.

use std::collections::HashMap;

use ks_core::Gap;
use ks_core::build::{
    CommandLine, Copy, Dockerfile, Heredoc, Instruction, InstructionKind, Mount, Pos, Run, Stage, UserSpec, join_path,
    normalize_path,
};

use super::expand::{Vars, expand};

/// Longest instruction text kept for evidence.
const MAX_TEXT: usize = 1000;

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// A logical instruction: continuations joined, heredoc bodies collected.
struct Logical {
    pos: Pos,
    text: String,
    heredocs: Vec<Heredoc>,
}

/// Parse a Dockerfile. `path` is what messages show.
pub fn parse_dockerfile(path: &str, text: &str) -> (Dockerfile, Vec<Gap>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut gaps = Vec::new();
    let gap = |line: u32, message: String| Gap { file: Some(path.to_string()), line: Some(line), message };

    let mut df =
        Dockerfile { path: path.to_string(), key: normalize_path(path), escape: '\\', ..Dockerfile::default() };
    let mut i = read_directives(&lines, &mut df, &mut |l, m| gaps.push(gap(l, m)));

    let mut p = Parser { df, global: Vars::new(), stage_env: Vec::new(), cur: None };
    while i < lines.len() {
        let Some((logical, next)) = read_logical(&lines, i, p.df.escape, &mut |l, m| gaps.push(gap(l, m))) else {
            break;
        };
        i = next;
        if let Err(message) = p.instruction(logical.pos, &logical.text, logical.heredocs) {
            gaps.push(gap(logical.pos.line, message));
        }
    }
    p.finish_stage();
    if p.df.stages.is_empty() && gaps.is_empty() {
        gaps.push(gap(1, "no FROM instruction: this is not a Dockerfile with a build stage".to_string()));
    }
    (p.df, gaps)
}

/// Read parser directives at the top; returns the index of the first line after them.
fn read_directives(lines: &[&str], df: &mut Dockerfile, gap: &mut impl FnMut(u32, String)) -> usize {
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        let Some(body) = line.trim_start().strip_prefix('#') else { break };
        let Some((key, value)) = body.split_once('=') else { break };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        match key.as_str() {
            "syntax" => df.syntax = Some(value.to_string()),
            "escape" => match value {
                "\\" => df.escape = '\\',
                "`" => df.escape = '`',
                other => gap(i as u32 + 1, format!("invalid escape directive {other:?}: only \\ and ` are allowed")),
            },
            "check" => {}
            _ => break,
        }
        i += 1;
    }
    i
}

/// Read one logical instruction starting at line `start` (skipping blank and comment lines).
/// Returns it and the index of the next unread line.
fn read_logical(
    lines: &[&str],
    start: usize,
    escape: char,
    gap: &mut impl FnMut(u32, String),
) -> Option<(Logical, usize)> {
    let mut i = start;
    // Skip blank lines and comments between instructions.
    while i < lines.len() {
        let t = lines[i].trim_start();
        if t.is_empty() || t.starts_with('#') {
            i += 1;
        } else {
            break;
        }
    }
    let first = lines.get(i)?;
    let lead = first.len() - first.trim_start().len();
    let pos = Pos::new(i as u32 + 1, first[..lead].chars().count() as u32 + 1);
    let mut text = String::new();
    let mut cur = first.trim_start();
    loop {
        i += 1;
        let trimmed = cur.trim_end();
        match trimmed.strip_suffix(escape) {
            Some(body) => {
                text.push_str(body);
                // Continuation: skip comment and empty lines, as BuildKit does.
                while i < lines.len() {
                    let t = lines[i].trim_start();
                    if t.starts_with('#') || t.is_empty() {
                        i += 1;
                    } else {
                        break;
                    }
                }
                match lines.get(i) {
                    Some(next) => cur = next,
                    None => break,
                }
            }
            None => {
                text.push_str(trimmed);
                break;
            }
        }
    }
    let keyword = text.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
    let mut heredocs = Vec::new();
    if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
        for (delimiter, strip_tabs, expand) in heredoc_markers(&text, escape) {
            let mut body = String::new();
            let mut closed = false;
            while i < lines.len() {
                let raw = lines[i];
                i += 1;
                let line = if strip_tabs { raw.trim_start_matches('\t') } else { raw };
                if line == delimiter {
                    closed = true;
                    break;
                }
                body.push_str(line);
                body.push('\n');
            }
            if !closed {
                gap(pos.line, format!("heredoc <<{delimiter} is never closed by a line `{delimiter}`"));
            }
            heredocs.push(Heredoc { delimiter, body, expand });
        }
    }
    Some((Logical { pos, text, heredocs }, i))
}

/// Heredoc markers in an instruction line, in order: delimiter, `<<-` (strip tabs), expand.
fn heredoc_markers(text: &str, escape: char) -> Vec<(String, bool, bool)> {
    let mut out = Vec::new();
    for word in raw_words(text, escape) {
        // `<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF` (a redirect of another descriptor), and a
        // marker glued to a following redirect (`<<EOF>/file` is not valid shell, ignored).
        let w = word.trim_start_matches(|c: char| c.is_ascii_digit());
        let Some(rest) = w.strip_prefix("<<") else { continue };
        let (strip_tabs, rest) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (quoted, name) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => match rest[1..].strip_suffix(q) {
                Some(n) => (true, n),
                None => continue,
            },
            _ => (false, rest),
        };
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            out.push((name.to_string(), strip_tabs, !quoted));
        }
    }
    out
}

/// Split on unquoted whitespace, keeping quotes and escapes as written.
pub(crate) fn raw_words(s: &str, escape: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == escape && quote != Some('\'') {
            cur.push(c);
            if let Some(n) = chars.next() {
                cur.push(n);
            }
            continue;
        }
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                cur.push(c);
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The rest of an instruction after a prefix of flags: flags as `(name, raw value)`.
fn take_flags(rest: &str, escape: char) -> (Vec<(String, Option<String>)>, &str) {
    let mut flags = Vec::new();
    let mut s = rest.trim_start();
    while let Some(after) = s.strip_prefix("--") {
        // The flag ends at the first unquoted whitespace.
        let word = raw_words(after, escape).into_iter().next().unwrap_or_default();
        if word.is_empty() {
            break;
        }
        let consumed = match after.find(&word) {
            Some(0) => word.len(),
            // The first word starts later only when `after` starts with whitespace (`-- x`).
            _ => break,
        };
        let (name, value) = match word.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (word.clone(), None),
        };
        flags.push((name.to_ascii_lowercase(), value));
        s = after[consumed..].trim_start();
    }
    (flags, s)
}

/// A JSON array of strings, if `s` is one.
fn json_array(s: &str) -> Option<Vec<String>> {
    let t = s.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

fn one_line(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= MAX_TEXT {
        collapsed
    } else {
        let cut: String = collapsed.chars().take(MAX_TEXT).collect();
        format!("{cut}…")
    }
}

struct StageState {
    stage: Stage,
    vars: Vars,
    env: Vec<(String, String)>,
    workdir: String,
    user: Option<String>,
}

/// What a later `FROM <stage>` inherits from a finished stage: ENV, WORKDIR, USER.
type Inherited = (Vec<(String, String)>, String, Option<String>);

struct Parser {
    df: Dockerfile,
    /// ARGs before the first FROM.
    global: Vars,
    /// Final ENV, WORKDIR and USER of finished stages, inherited by `FROM <stage>`.
    stage_env: Vec<Inherited>,
    cur: Option<StageState>,
}

impl Parser {
    fn finish_stage(&mut self) {
        if let Some(st) = self.cur.take() {
            self.stage_env.push((st.env, st.workdir, st.user));
            self.df.stages.push(st.stage);
        }
    }

    fn instruction(&mut self, pos: Pos, text: &str, heredocs: Vec<Heredoc>) -> Result<(), String> {
        let escape = self.df.escape;
        let trimmed = text.trim_start();
        let kw_len = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let keyword = trimmed[..kw_len].to_ascii_uppercase();
        let rest = trimmed[kw_len..].trim_start();
        if !KEYWORDS.contains(&keyword.as_str()) {
            return Err(format!("unknown instruction {:?}", &trimmed[..kw_len]));
        }
        if keyword == "FROM" {
            return self.from(pos, rest, text);
        }
        if keyword == "ARG" && self.cur.is_none() {
            for (name, default) in parse_args(rest, &self.global, escape) {
                let value = default.clone();
                self.df.global_args.push((name.clone(), default));
                self.global.insert(name, value);
            }
            return Ok(());
        }
        let Some(st) = self.cur.as_mut() else {
            return Err(format!("{keyword} before the first FROM"));
        };
        let kind = match keyword.as_str() {
            "RUN" => {
                let (flags, args) = take_flags(rest, escape);
                let mut run = Run { heredocs, ..Run::default() };
                for (name, value) in flags {
                    let value = value.map(|v| expand(&v, &st.vars, escape));
                    match name.as_str() {
                        "mount" => run.mounts.push(parse_mount(value.as_deref().unwrap_or_default(), &st.workdir)),
                        "network" => run.network = value,
                        _ => {}
                    }
                }
                if !args.is_empty() {
                    run.command = Some(match json_array(args) {
                        Some(v) => CommandLine::Exec(v),
                        None => CommandLine::Shell(args.to_string()),
                    });
                } else if run.heredocs.is_empty() {
                    return Err("RUN needs a command".to_string());
                }
                InstructionKind::Run(run)
            }
            "COPY" | "ADD" => {
                let (flags, args) = take_flags(rest, escape);
                let mut copy = Copy { add: keyword == "ADD", ..Copy::default() };
                for (name, value) in flags {
                    let value = value.map(|v| expand(&v, &st.vars, escape));
                    match name.as_str() {
                        "from" => copy.from = value,
                        "chown" => copy.chown = value,
                        "chmod" => copy.chmod = value,
                        "link" => copy.link = value.as_deref() != Some("false"),
                        _ => {}
                    }
                }
                let words: Vec<String> = match json_array(args) {
                    Some(v) => v,
                    None => raw_words(args, escape)
                        .into_iter()
                        .map(|w| if w.starts_with("<<") { w } else { expand(&w, &st.vars, escape) })
                        .collect(),
                };
                if words.len() < 2 {
                    return Err(format!("{keyword} needs at least one source and a destination"));
                }
                let (dest, sources) = words.split_last().map(|(d, s)| (d.clone(), s.to_vec())).unwrap_or_default();
                copy.sources = sources;
                copy.dest = resolve_dest(&st.workdir, &dest);
                InstructionKind::Copy(copy)
            }
            "USER" => {
                let value = expand(rest.trim(), &st.vars, escape);
                if value.is_empty() {
                    return Err("USER needs a user".to_string());
                }
                let (user, group) = match value.split_once(':') {
                    Some((u, g)) => (u.to_string(), Some(g.to_string())),
                    None => (value.clone(), None),
                };
                st.user = Some(user.clone());
                InstructionKind::User(UserSpec { user, group })
            }
            "WORKDIR" => {
                let value = expand(rest.trim(), &st.vars, escape);
                if value.is_empty() {
                    return Err("WORKDIR needs a path".to_string());
                }
                st.workdir = join_path(&st.workdir, &value);
                InstructionKind::Workdir(st.workdir.clone())
            }
            "ENV" => {
                let pairs = parse_env(rest, &st.vars, escape);
                if pairs.is_empty() {
                    return Err("ENV needs a name and a value".to_string());
                }
                for (k, v) in &pairs {
                    st.vars.insert(k.clone(), Some(v.clone()));
                    st.env.retain(|(ek, _)| ek != k);
                    st.env.push((k.clone(), v.clone()));
                }
                InstructionKind::Env(pairs)
            }
            "ARG" => {
                let args = parse_args(rest, &st.vars, escape);
                for (name, default) in &args {
                    // A stage ARG without a default takes the global one, as BuildKit does.
                    let value = default.clone().or_else(|| self.global.get(name).cloned().flatten());
                    // ENV wins over ARG of the same name.
                    if !st.env.iter().any(|(k, _)| k == name) {
                        st.vars.insert(name.clone(), value);
                    }
                }
                InstructionKind::Arg(args)
            }
            "CMD" | "ENTRYPOINT" => {
                let cmd = match json_array(rest) {
                    Some(v) => CommandLine::Exec(v),
                    None => CommandLine::Shell(rest.to_string()),
                };
                if keyword == "CMD" { InstructionKind::Cmd(cmd) } else { InstructionKind::Entrypoint(cmd) }
            }
            "SHELL" => match json_array(rest) {
                Some(v) if !v.is_empty() => InstructionKind::Shell(v),
                _ => return Err("SHELL needs a JSON array, e.g. SHELL [\"/bin/bash\", \"-c\"]".to_string()),
            },
            _ => InstructionKind::Other,
        };
        let instruction = Instruction {
            pos,
            keyword,
            text: one_line(text),
            kind,
            workdir: st.workdir.clone(),
            user: st.user.clone(),
        };
        st.stage.instructions.push(instruction);
        Ok(())
    }

    fn from(&mut self, pos: Pos, rest: &str, text: &str) -> Result<(), String> {
        let escape = self.df.escape;
        let (flags, args) = take_flags(rest, escape);
        let words = raw_words(args, escape);
        let (image_raw, name) = match words.as_slice() {
            [image] => (image.clone(), None),
            [image, as_, name] if as_.eq_ignore_ascii_case("as") => (image.clone(), Some(name.clone())),
            _ => return Err(format!("FROM must be `FROM [--platform=...] image [AS name]`: {}", one_line(text))),
        };
        self.finish_stage();
        let base = expand(&image_raw, &self.global, escape);
        let platform = flags
            .into_iter()
            .find(|(n, _)| n == "platform")
            .and_then(|(_, v)| v)
            .map(|v| expand(&v, &self.global, escape));
        let index = self.df.stages.len();
        let base_stage =
            self.df.stages.iter().position(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&base)));
        let (env, workdir, user) = match base_stage.and_then(|b| self.stage_env.get(b)) {
            Some((env, wd, user)) => (env.clone(), wd.clone(), user.clone()),
            None => (Vec::new(), "/".to_string(), None),
        };
        let vars: Vars = env.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect::<HashMap<_, _>>();
        self.cur = Some(StageState {
            stage: Stage {
                index,
                name: name.map(|n| n.to_ascii_lowercase()),
                base,
                base_raw: image_raw,
                base_stage,
                platform,
                pos,
                instructions: Vec::new(),
            },
            vars,
            env,
            workdir,
            user,
        });
        Ok(())
    }
}

/// `ARG a=1 b` -> `[(a, Some(1)), (b, None)]`.
fn parse_args(rest: &str, vars: &Vars, escape: char) -> Vec<(String, Option<String>)> {
    raw_words(rest, escape)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(expand(v, vars, escape))),
            None => (w, None),
        })
        .collect()
}

/// `ENV a=1 b="x y"` or the legacy `ENV a some value`.
fn parse_env(rest: &str, vars: &Vars, escape: char) -> Vec<(String, String)> {
    let words = raw_words(rest, escape);
    match words.first() {
        Some(first) if first.contains('=') => words
            .iter()
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_string(), expand(v, vars, escape)))
            .collect(),
        Some(first) => {
            let value = rest.trim_start()[first.len()..].trim();
            vec![(first.clone(), expand(value, vars, escape))]
        }
        None => Vec::new(),
    }
}

/// `type=cache,target=/root/.cache,sharing=locked` (values already expanded).
fn parse_mount(value: &str, workdir: &str) -> Mount {
    let mut m = Mount { kind: "bind".to_string(), raw: value.to_string(), ..Mount::default() };
    for field in split_csv(value) {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_string()),
            None => (field.trim().to_ascii_lowercase(), String::new()),
        };
        match k.as_str() {
            "type" => m.kind = v,
            "target" | "dst" | "destination" => m.target = join_path(workdir, &v),
            "source" | "src" => m.source = Some(v),
            "from" => m.from = Some(v),
            "id" => m.id = Some(v),
            _ => {}
        }
    }
    m
}

/// Split on commas outside double quotes, dropping the quotes (BuildKit reads the mount flag
/// as a CSV record).
fn split_csv(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().filter(|f| !f.trim().is_empty()).collect()
}

/// A COPY destination made absolute against WORKDIR, keeping a trailing `/`.
fn resolve_dest(workdir: &str, dest: &str) -> String {
    let joined = join_path(workdir, dest);
    if (dest.ends_with('/') || dest == ".") && !joined.ends_with('/') { format!("{joined}/") } else { joined }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Dockerfile, Vec<Gap>) {
        parse_dockerfile("Dockerfile", text)
    }

    fn kinds(st: &Stage) -> Vec<&str> {
        st.instructions.iter().map(|i| i.keyword.as_str()).collect()
    }

    #[test]
    fn stages_names_and_from_links() {
        let (d, gaps) = parse(
            "# syntax=docker/dockerfile:1.7\nARG PY=3.12\nFROM python:${PY}-slim AS Builder\nRUN pip install --user x\n\nFROM builder AS test\nFROM --platform=$BUILDPLATFORM gcr.io/distroless/python3 AS runtime\nCOPY --from=builder /root/.local /home/app/.local\n",
        );
        assert!(gaps.is_empty(), "{gaps:?}");
        assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1.7"));
        assert_eq!(d.global_args, vec![("PY".to_string(), Some("3.12".to_string()))]);
        assert_eq!(d.stages.len(), 3);
        assert_eq!(d.stages[0].base, "python:3.12-slim");
        assert_eq!(d.stages[0].name.as_deref(), Some("builder"));
        assert_eq!(d.stages[0].pos, Pos::new(3, 1));
        assert_eq!(d.stages[1].base_stage, Some(0));
        assert_eq!(d.stages[2].platform.as_deref(), Some("$BUILDPLATFORM"));
        let InstructionKind::Copy(c) = &d.stages[2].instructions[0].kind else { panic!() };
        assert_eq!(c.from.as_deref(), Some("builder"));
        assert_eq!(c.sources, vec!["/root/.local"]);
        assert_eq!(c.dest, "/home/app/.local");
        assert_eq!(d.stages[2].instructions[0].pos, Pos::new(8, 1));
    }

    #[test]
    fn continuations_skip_comments_and_keep_positions() {
        let (d, gaps) = parse("FROM alpine\n  RUN apk add \\\n# a comment\n\n      curl \\\n      git\nUSER 1000\n");
        assert!(gaps.is_empty(), "{gaps:?}");
        let run = &d.stages[0].instructions[0];
        assert_eq!(run.pos, Pos::new(2, 3));
        assert_eq!(run.text, "RUN apk add curl git");
        assert_eq!(d.stages[0].instructions[1].pos, Pos::new(7, 1));
        assert_eq!(d.stages[0].instructions[1].user.as_deref(), Some("1000"));
    }

    #[test]
    fn escape_directive_changes_the_continuation_character() {
        let (d, gaps) =
            parse("# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n  c:\\\nWORKDIR c:\\app\n");
        assert!(gaps.is_empty(), "{gaps:?}");
        assert_eq!(d.escape, '`');
        assert_eq!(d.stages[0].instructions[0].text, "RUN dir c:\\");
        assert_eq!(kinds(&d.stages[0]), vec!["RUN", "WORKDIR"]);
    }

    #[test]
    fn heredocs_anywhere_and_several_per_instruction() {
        let text = "FROM alpine\nRUN cat <<EOT > /etc/x.conf\nhello\nFROM nope\nEOT\nRUN <<A <<-'B'\necho a\nA\n\techo b $HOME\n\tB\nRUN python3 <<PY\nprint('x')\nPY\nCOPY <<EOF /usr/local/bin/start\n#!/bin/sh\nRUN not-an-instruction\nEOF\nCMD [\"start\"]\n";
        let (d, gaps) = parse(text);
        assert!(gaps.is_empty(), "{gaps:?}");
        let st = &d.stages[0];
        assert_eq!(kinds(st), vec!["RUN", "RUN", "RUN", "COPY", "CMD"]);
        let InstructionKind::Run(r) = &st.instructions[0].kind else { panic!() };
        assert_eq!(r.heredocs[0].body, "hello\nFROM nope\n");
        let InstructionKind::Run(r) = &st.instructions[1].kind else { panic!() };
        assert_eq!(r.heredocs.len(), 2);
        assert_eq!(r.heredocs[1].body, "echo b $HOME\n");
        assert!(!r.heredocs[1].expand);
        assert!(r.script().contains("echo a"));
        let InstructionKind::Copy(c) = &st.instructions[3].kind else { panic!() };
        assert_eq!(c.sources, vec!["<<EOF"]);
        assert_eq!(c.dest, "/usr/local/bin/start");
        assert_eq!(st.instructions[4].pos, Pos::new(18, 1));
    }

    #[test]
    fn unclosed_heredoc_is_a_gap_not_a_panic() {
        let (d, gaps) = parse("FROM alpine\nRUN <<EOF\necho x\n");
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].line, Some(2));
        assert_eq!(d.stages[0].instructions.len(), 1);
    }

    #[test]
    fn run_flags_mounts_and_exec_form() {
        let (d, gaps) = parse(
            "FROM rust:1.80 AS build\nWORKDIR /src\nARG CACHE=/usr/local/cargo/registry\nRUN --mount=type=cache,target=${CACHE} --mount=type=cache,target=target,id=t \\\n    --network=none cargo build --release\nRUN [\"sh\", \"-c\", \"echo hi\"]\nRUN --mount=type=secret,id=npmrc,dst=/root/.npmrc npm ci\n",
        );
        assert!(gaps.is_empty(), "{gaps:?}");
        let InstructionKind::Run(r) = &d.stages[0].instructions[2].kind else { panic!() };
        assert_eq!(r.mounts.len(), 2);
        assert_eq!(r.mounts[0].kind, "cache");
        assert_eq!(r.mounts[0].target, "/usr/local/cargo/registry");
        assert_eq!(r.mounts[1].target, "/src/target");
        assert_eq!(r.mounts[1].id.as_deref(), Some("t"));
        assert_eq!(r.network.as_deref(), Some("none"));
        assert_eq!(r.command, Some(CommandLine::Shell("cargo build --release".to_string())));
        let InstructionKind::Run(r) = &d.stages[0].instructions[3].kind else { panic!() };
        assert_eq!(r.command, Some(CommandLine::Exec(vec!["sh".into(), "-c".into(), "echo hi".into()])));
        let InstructionKind::Run(r) = &d.stages[0].instructions[4].kind else { panic!() };
        assert_eq!(r.mounts[0].kind, "secret");
        assert_eq!(r.mounts[0].target, "/root/.npmrc");
    }

    #[test]
    fn cmd_entrypoint_both_forms_and_env_expansion() {
        let (d, gaps) = parse(
            "FROM python:3.12-slim\nENV APP_HOME=/srv/app PORT=8000\nENV LEGACY value with spaces\nWORKDIR $APP_HOME\nWORKDIR sub\nCOPY --chown=app:app . .\nUSER app:app\nENTRYPOINT [\"uvicorn\"]\nCMD uvicorn main:app --port $PORT\n",
        );
        assert!(gaps.is_empty(), "{gaps:?}");
        let st = &d.stages[0];
        let InstructionKind::Env(e) = &st.instructions[1].kind else { panic!() };
        assert_eq!(e, &vec![("LEGACY".to_string(), "value with spaces".to_string())]);
        let InstructionKind::Workdir(w) = &st.instructions[3].kind else { panic!() };
        assert_eq!(w, "/srv/app/sub");
        let InstructionKind::Copy(c) = &st.instructions[4].kind else { panic!() };
        assert_eq!(c.dest, "/srv/app/sub/");
        assert_eq!(c.chown.as_deref(), Some("app:app"));
        let (ep, cmd) = st.start_command();
        assert!(matches!(&ep.unwrap().kind, InstructionKind::Entrypoint(CommandLine::Exec(v)) if v == &["uvicorn"]));
        assert!(matches!(&cmd.unwrap().kind, InstructionKind::Cmd(CommandLine::Shell(s)) if s.contains("$PORT")));
        let (u, _) = st.last_user().unwrap();
        assert_eq!((u.user.as_str(), u.group.as_deref()), ("app", Some("app")));
    }

    #[test]
    fn stage_inherits_env_workdir_and_user_from_its_base_stage() {
        let (d, _) = parse(
            "FROM alpine AS base\nENV HOME_DIR=/home/app\nWORKDIR /app\nUSER app\nFROM base\nCOPY x $HOME_DIR/\n",
        );
        let c = &d.stages[1].instructions[0];
        assert_eq!(c.user.as_deref(), Some("app"));
        assert_eq!(c.workdir, "/app");
        let InstructionKind::Copy(c) = &c.kind else { panic!() };
        assert_eq!(c.dest, "/home/app/");
    }

    #[test]
    fn bad_input_becomes_gaps_with_lines() {
        let (d, gaps) = parse(
            "RUN echo before from\nFROM alpine\nFROBNICATE x\nCOPY onlyone\nFROM a b c d\nSHELL sh\nRUN echo ok\n",
        );
        let lines: Vec<_> = gaps.iter().map(|g| g.line).collect();
        assert_eq!(lines, vec![Some(1), Some(3), Some(4), Some(5), Some(6)]);
        // The instruction after the broken FROM still lands in the earlier stage.
        assert_eq!(d.stages.len(), 1);
        assert_eq!(kinds(&d.stages[0]), vec!["RUN"]);
        let (_, gaps) = parse("");
        assert_eq!(gaps.len(), 1);
        let (_, gaps) = parse("# escape=x\nFROM a\n");
        assert_eq!(gaps[0].line, Some(1));
    }

    #[test]
    fn lowercase_keywords_and_crlf() {
        let (d, gaps) = parse("from alpine as b\r\nrun echo \\\r\n  hi\r\nuser 0\r\n");
        assert!(gaps.is_empty(), "{gaps:?}");
        assert_eq!(kinds(&d.stages[0]), vec!["RUN", "USER"]);
        assert_eq!(d.stages[0].instructions[0].text, "run echo hi");
        assert!(d.stages[0].last_user().unwrap().0.is_root());
    }
}
