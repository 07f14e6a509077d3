//! Text as people paste it: line clean-up (CRLF, ANSI colours, tabs, markdown quotes), the
//! kubectl command line above a block, and small line-level helpers shared by the parsers.

use std::borrow::Cow;

/// One cleaned line and its 1-based number in the input.
#[derive(Clone, Debug)]
pub struct Line<'a> {
    pub text: Cow<'a, str>,
    pub no: u32,
}

impl Line<'_> {
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Split and clean every line, in one pass. Lines stay borrowed unless a clean-up rewrote them.
pub fn prepare(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::with_capacity(text.len() / 40 + 1);
    for (i, raw) in text.split('\n').enumerate() {
        let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        out.push(Line { text: clean(raw), no });
    }
    // A trailing newline yields one empty last line; drop it.
    if out.last().is_some_and(|l| l.text.is_empty()) {
        out.pop();
    }
    out
}

fn clean(raw: &str) -> Cow<'_, str> {
    let line = raw.strip_suffix('\r').unwrap_or(raw);
    let b = line.as_bytes();
    // `<[u8]>::contains` is memchr: fast even in unoptimised builds.
    let needs_rewrite =
        b.contains(&0x1b) || b.contains(&b'\t') || b.contains(&b'\r') || (b.contains(&0xc2) && line.contains('\u{a0}'));
    let mut text: Cow<'_, str> = if needs_rewrite { Cow::Owned(rewrite(line)) } else { Cow::Borrowed(line) };
    // Markdown quotes (`> `, nested `> > ` or `>>`).
    let first = text.as_bytes().get(indent(&text)).copied();
    if first != Some(b'>') {
        return text;
    }
    let cut = text.len() - strip_quotes(&text).len();
    if cut > 0 {
        text = match text {
            Cow::Borrowed(b) => Cow::Borrowed(&b[cut..]),
            Cow::Owned(o) => Cow::Owned(o[cut..].to_string()),
        };
    }
    text
}

/// Drop ANSI escapes and stray CRs, expand tabs to 8-column stops (tabwriter's own width),
/// and turn non-breaking spaces (web copies) into spaces.
fn rewrite(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut col = 0usize;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                // CSI: ESC [ params final-byte.
                Some('[') => {
                    chars.next();
                    for n in chars.by_ref() {
                        if ('@'..='~').contains(&n) {
                            break;
                        }
                    }
                }
                // OSC: ESC ] ... BEL or ESC \.
                Some(']') => {
                    chars.next();
                    while let Some(n) = chars.next() {
                        if n == '\u{7}' {
                            break;
                        }
                        if n == '\u{1b}' {
                            chars.next();
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\t' => {
                let next = (col / 8 + 1) * 8;
                out.extend(std::iter::repeat_n(' ', next - col));
                col = next;
            }
            '\r' => {}
            '\u{a0}' => {
                out.push(' ');
                col += 1;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}

fn strip_quotes(mut s: &str) -> &str {
    loop {
        let t = s.trim_start_matches(' ');
        // Up to three spaces may precede a markdown quote marker.
        if s.len() - t.len() > 3 {
            return s;
        }
        match t.strip_prefix('>') {
            Some(rest) => s = rest.strip_prefix(' ').unwrap_or(rest),
            None => return s,
        }
    }
}

/// Leading spaces.
// These run on every line several times: plain byte loops, cheap even unoptimised.
pub fn indent(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    i
}

/// Empty or spaces only (lines are cleaned: no tabs or CRs remain).
pub fn is_blank(s: &str) -> bool {
    indent(s) == s.len()
}

/// A markdown code fence.
pub fn is_fence(s: &str) -> bool {
    let t = &s.as_bytes()[indent(s)..];
    t.starts_with(b"```") || t.starts_with(b"~~~")
}

/// Lines that carry nothing: ellipses people put in place of cut output.
pub fn is_noise(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t.chars().all(|c| matches!(c, '.' | '…' | '[' | ']' | '-' | '=' | '*' | '#' | '|' | '`'))
}

/// A short prose heading people put between pasted blocks (`pod status:`, `Logs:`).
pub fn is_heading(s: &str) -> bool {
    let t = s.trim();
    t.len() < 60 && t.ends_with(':') && t.split_whitespace().count() <= 6 && indent(s) == 0 && !t.contains("::")
}

/// A `Key:  value` line as `kubectl describe` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyValue<'a> {
    pub indent: usize,
    pub key: &'a str,
    pub value: &'a str,
}

/// Parse a describe-style `Key: value`. Keys are short, contain no runs of spaces, and the
/// colon is followed by whitespace or the end of the line.
pub fn key_value(line: &str) -> Option<KeyValue<'_>> {
    let ind = indent(line);
    let t = &line[ind..];
    let bytes = t.as_bytes();
    let first = *bytes.first()?;
    if matches!(first, b'-' | b'(' | b'/' | b'[' | b'{' | b'<' | b'"' | b'\'' | b'*' | b'#' | b'|' | b'>' | b':') {
        return None;
    }
    // One pass over the key: allowed characters, no double space, at most eight words
    // (`Number of Nodes Scheduled with Up-to-date Pods`).
    let mut i = 0;
    let mut words = 1;
    let limit = bytes.len().min(80);
    while i < limit {
        let b = bytes[i];
        if b == b':' {
            break;
        }
        if b == b' ' {
            if bytes.get(i + 1) == Some(&b' ') || bytes.get(i + 1) == Some(&b':') {
                return None;
            }
            words += 1;
        } else if !(b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'/' | b'(' | b')' | b'%')
            || b >= 0x80)
        {
            return None;
        }
        i += 1;
    }
    if i == 0 || i >= limit || words > 8 || bytes.get(i + 1).is_some_and(|n| *n != b' ') {
        return None;
    }
    let key = &t[..i];
    if key.as_bytes().iter().any(|&b| b >= 0x80)
        && !key.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/' | '(' | ')' | '%'))
    {
        return None;
    }
    let mut v = &t[i + 1..];
    let vi = indent(v);
    v = &v[vi..];
    let mut end = v.len();
    while end > 0 && v.as_bytes()[end - 1] == b' ' {
        end -= 1;
    }
    Some(KeyValue { indent: ind, key, value: &v[..end] })
}

/// Whitespace-separated tokens with their byte offsets.
pub fn tokens(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c == ' ' {
            if let Some(st) = start.take() {
                out.push((st, &s[st..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// `<none>`, `<unset>`, empty: no value.
pub fn none_value(v: &str) -> bool {
    matches!(v.trim(), "" | "<none>" | "<unset>" | "<nil>" | "<unknown>")
}

pub use ks_core::kinds::kind_of_resource;

/// The kubectl command line above a block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Command {
    /// `kubectl`/`oc` (false: some other program after a prompt).
    pub kubectl: bool,
    /// `describe`, `get`, `logs`, `events`…
    pub verb: String,
    pub kind: Option<&'static str>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    pub container: Option<String>,
    pub previous: bool,
    pub output: Option<String>,
    pub timestamps: bool,
}

impl Command {
    pub fn is_logs(&self) -> bool {
        self.kubectl && self.verb == "logs"
    }
}

const PROMPT_END: &[char] = &['$', '#', '%', '>', '❯', '➜', '»'];

/// Recognise a command line: `$ kubectl describe pod web -n shop`, `user@host:~$ kubectl ...`,
/// `PS C:\> kubectl ...`, `# kubectl ...`, bare `kubectl ...`, `oc ...`, or another program
/// after a prompt (`$ docker logs x`).
pub fn parse_command(line: &str) -> Option<Command> {
    let t = line.trim();
    if t.len() > 2000 {
        return None;
    }
    let words = tokens(t);
    // Find `kubectl`/`oc` within the first few words, after nothing or a prompt.
    for (wi, &(off, w)) in words.iter().enumerate().take(6) {
        let tool = w.trim_end_matches(".exe");
        let is_tool = matches!(tool, "kubectl" | "oc" | "kubectl.exe") || tool.ends_with("/kubectl");
        if !is_tool {
            continue;
        }
        let prefix = t[..off].trim_end();
        let prefix_ok = prefix.is_empty()
            || prefix.ends_with(PROMPT_END)
            || prefix.starts_with(['➜', '❯', '»'])
            || prefix.ends_with("sudo")
            || matches!(prefix, "microk8s" | "k3s" | "minikube" | "$ sudo" | "# sudo")
            || prefix.ends_with("microk8s")
            || prefix.ends_with("k3s");
        if !prefix_ok || (prefix.is_empty() && wi != 0) {
            continue;
        }
        let args: Vec<&str> = words[wi + 1..].iter().map(|&(_, w)| w).collect();
        // A bare `oc`/`kubectl` word in prose ("oc is the CLI") is not a command: the next
        // word must be a verb.
        let cmd = parse_args(&args)?;
        return Some(cmd);
    }
    // Another program after an unambiguous shell prompt.
    let first = words.first()?.1;
    if (first == "$" || first.ends_with("$") && first.contains('@')) && words.len() >= 2 {
        return Some(Command::default());
    }
    None
}

const VERBS: &[&str] = &[
    "get",
    "describe",
    "logs",
    "log",
    "events",
    "apply",
    "create",
    "delete",
    "rollout",
    "run",
    "exec",
    "top",
    "edit",
    "patch",
    "scale",
    "set",
    "debug",
    "port-forward",
    "explain",
    "auth",
    "cluster-info",
    "version",
    "config",
    "label",
    "annotate",
    "expose",
    "cp",
    "wait",
    "adm",
    "project",
    "new-app",
];

fn parse_args(args: &[&str]) -> Option<Command> {
    let mut cmd = Command { kubectl: true, ..Command::default() };
    // The verb decides what some flags mean (`-f` is `--follow` for logs).
    let is_logs = args.iter().find(|a| VERBS.contains(a)).is_some_and(|v| *v == "logs" || *v == "log");
    let mut positional: Vec<&str> = Vec::new();
    // Commands quoted in prose end in a colon: `kubectl logs web-1:`.
    let args: Vec<&str> = args.iter().map(|a| a.trim_end_matches(':')).collect();
    let args = args.as_slice();
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if matches!(a, "|" | "||" | "&&" | ";" | ">" | ">>" | "2>&1") || a.starts_with('|') {
            break;
        }
        let next = args.get(i + 1).copied();
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if a.starts_with('-') => (f, Some(v)),
            _ => (a, None),
        };
        let take = |inline: Option<&str>, i: &mut usize| -> Option<String> {
            match inline {
                Some(v) => Some(v.to_string()),
                None => {
                    *i += 1;
                    next.map(str::to_string)
                }
            }
        };
        match flag {
            "-n" | "--namespace" => cmd.namespace = take(inline, &mut i),
            "-c" | "--container" => cmd.container = take(inline, &mut i),
            "-o" | "--output" => cmd.output = take(inline, &mut i),
            "-A" | "--all-namespaces" => cmd.all_namespaces = true,
            "-p" | "--previous" => cmd.previous = inline.is_none_or(|v| v != "false"),
            "--timestamps" => cmd.timestamps = inline.is_none_or(|v| v != "false"),
            "--for" => {
                if let Some(v) = take(inline, &mut i) {
                    set_object(&mut cmd, &v);
                }
            }
            "-l"
            | "--selector"
            | "--context"
            | "--kubeconfig"
            | "--tail"
            | "--since"
            | "--since-time"
            | "--field-selector"
            | "--sort-by"
            | "--cluster"
            | "--user"
            | "--server"
            | "-s"
            | "--types"
            | "--limit-bytes"
            | "--max-log-requests"
            | "--pod-running-timeout"
            | "-f"
            | "--filename" => {
                // Flags with a value (`-f` of `get`/`apply` takes a file; for `logs` it is
                // `--follow`, which has none: the next word is then the pod).
                if flag == "-f" && is_logs {
                    // --follow
                } else if inline.is_none() {
                    i += 1;
                }
            }
            _ if a.starts_with("-n") && a.len() > 2 && !a.starts_with("--") => {
                cmd.namespace = Some(a[2..].to_string());
            }
            _ if a.starts_with("-o") && a.len() > 2 && !a.starts_with("--") => {
                cmd.output = Some(a[2..].to_string());
            }
            _ if a.starts_with('-') => {}
            _ => positional.push(a),
        }
        i += 1;
    }
    let verb = *positional.first()?;
    if !VERBS.contains(&verb) {
        return None;
    }
    cmd.verb = if verb == "log" { "logs".to_string() } else { verb.to_string() };
    let rest = &positional[1..];
    match cmd.verb.as_str() {
        "logs" => {
            if let Some(p) = rest.first() {
                match p.split_once('/') {
                    Some((k, n)) => {
                        cmd.kind = kind_of_resource(k);
                        cmd.name = Some(n.to_string());
                    }
                    None => {
                        cmd.kind = Some("Pod");
                        cmd.name = Some(p.to_string());
                    }
                }
            }
            // The old `kubectl logs POD CONTAINER` form.
            if cmd.container.is_none() {
                cmd.container = rest.get(1).map(|c| c.to_string());
            }
        }
        "get" | "describe" | "edit" | "delete" | "rollout" => {
            let rest = if cmd.verb == "rollout" { rest.get(1..).unwrap_or_default() } else { rest };
            if let Some(r) = rest.first() {
                if r.contains('/') {
                    set_object(&mut cmd, r);
                } else {
                    // `get pods,svc` names several kinds: keep the first.
                    cmd.kind = r.split(',').next().and_then(kind_of_resource);
                    // `describe pods a b` names several: keep one only when it is unique.
                    if rest.len() == 2 {
                        cmd.name = Some(rest[1].to_string());
                    }
                }
            }
        }
        _ => {}
    }
    Some(cmd)
}

fn set_object(cmd: &mut Command, r: &str) {
    if let Some((k, n)) = r.split_once('/') {
        cmd.kind = kind_of_resource(k);
        if !n.is_empty() {
            cmd.name = Some(n.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_lines() {
        let l = prepare("> >   Normal  x\r\n\u{1b}[31mred\u{1b}[0m\na\tb\n");
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].as_str(), "  Normal  x");
        assert_eq!(l[1].as_str(), "red");
        assert_eq!(l[2].as_str(), "a       b");
        assert_eq!(l[2].no, 3);
    }

    #[test]
    fn key_values() {
        let kv = key_value("    Restart Count:  5").unwrap();
        assert_eq!((kv.indent, kv.key, kv.value), (4, "Restart Count", "5"));
        let kv = key_value("Image:   nginx:1.25").unwrap();
        assert_eq!(kv.value, "nginx:1.25");
        assert!(key_value("  /data from data (rw)").is_none());
        assert!(key_value("  app-config  ConfigMap  Optional: false").is_none());
        assert!(key_value("r process caused \"exec: \\\"x\\\": executable").is_none());
        let kv = key_value("  web:").unwrap();
        assert_eq!((kv.key, kv.value), ("web", ""));
    }

    #[test]
    fn commands() {
        let c = parse_command("$ kubectl describe pod web -n shop").unwrap();
        assert_eq!(
            (c.verb.as_str(), c.kind, c.name.as_deref(), c.namespace.as_deref()),
            ("describe", Some("Pod"), Some("web"), Some("shop"))
        );
        let c = parse_command("user@host:~$ kubectl logs web-1 -c api --previous").unwrap();
        assert_eq!(
            (c.verb.as_str(), c.name.as_deref(), c.container.as_deref(), c.previous),
            ("logs", Some("web-1"), Some("api"), true)
        );
        let c = parse_command("PS C:\\> kubectl get pods -A -o wide").unwrap();
        assert!(c.all_namespaces && c.output.as_deref() == Some("wide"));
        let c = parse_command("# kubectl -n stellar-testnet get pods").unwrap();
        assert_eq!((c.verb.as_str(), c.namespace.as_deref()), ("get", Some("stellar-testnet")));
        let c = parse_command("$ oc -n openshift-network-operator describe pod/x-debug | tail -n 5").unwrap();
        assert_eq!((c.kind, c.name.as_deref()), (Some("Pod"), Some("x-debug")));
        let c = parse_command("kubectl logs deployments/example-app --all-pods --prefix -f").unwrap();
        assert_eq!((c.kind, c.name.as_deref()), (Some("Deployment"), Some("example-app")));
        assert!(parse_command("the oc tool is great").is_none());
        let c = parse_command("➜  ~ kubectl get pods -n web").unwrap();
        assert_eq!((c.verb.as_str(), c.namespace.as_deref()), ("get", Some("web")));
        let c = parse_command("[root@master ~]# kubectl logs -f web-1").unwrap();
        assert_eq!((c.verb.as_str(), c.name.as_deref()), ("logs", Some("web-1")));
        assert!(!parse_command("$ docker logs abc").unwrap().kubectl);
        let c = parse_command("kubectl events --for pod/web-1 -n shop").unwrap();
        assert_eq!((c.verb.as_str(), c.kind, c.name.as_deref()), ("events", Some("Pod"), Some("web-1")));
    }
}
