//! Dockerfile word processing: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:+alt}`, `${VAR+alt}`, quotes and the escape character, as BuildKit applies them to
//! `FROM`, `COPY`/`ADD`, `ENV`, `ARG`, `WORKDIR`, `USER` and `RUN --mount` flags.
//!
//! One deliberate difference: a variable whose value is unknown here (declared without a
//! default, or never declared) is kept as written (`${VERSION}`) instead of becoming empty,
//! because its value arrives at build time (`--build-arg`) and rules must not mistake it for
//! an empty string.

use std::collections::HashMap;

/// Variables in scope: `Some(value)` when known, `None` when declared without a value.
pub type Vars = HashMap<String, Option<String>>;

/// Expand one word: process quotes, the escape character and variable references.
pub fn expand(word: &str, vars: &Vars, escape: char) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == escape {
            // The escape character makes the next one literal (a trailing one stays).
            match chars.get(i + 1) {
                Some(&n) => {
                    out.push(n);
                    i += 2;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
            continue;
        }
        match c {
            '\'' => {
                // Single quotes: literal up to the closing quote.
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    out.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == escape && matches!(chars.get(i + 1), Some('"' | '$') | Some('\\')) {
                        out.push(chars[i + 1]);
                        i += 2;
                    } else if chars[i] == '$' {
                        i = variable(&chars, i, vars, escape, &mut out);
                    } else {
                        out.push(chars[i]);
                        i += 1;
                    }
                }
                i += 1;
            }
            '$' => i = variable(&chars, i, vars, escape, &mut out),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expand the reference at `chars[i] == '$'`; returns the index after it.
fn variable(chars: &[char], i: usize, vars: &Vars, escape: char, out: &mut String) -> usize {
    let Some(&next) = chars.get(i + 1) else {
        out.push('$');
        return i + 1;
    };
    if is_name_start(next) {
        let mut j = i + 1;
        while j < chars.len() && is_name(chars[j]) {
            j += 1;
        }
        let name: String = chars[i + 1..j].iter().collect();
        match vars.get(&name) {
            Some(Some(v)) => out.push_str(v),
            _ => out.extend(&chars[i..j]),
        }
        return j;
    }
    if next != '{' {
        out.push('$');
        return i + 1;
    }
    // ${...}: find the matching close brace, allowing nested ${} in the word part.
    let mut depth = 0usize;
    let mut j = i + 1;
    let mut close = None;
    while j < chars.len() {
        match chars[j] {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            _ => {}
        }
        j += 1;
    }
    let Some(close) = close else {
        // Unterminated: keep the rest as written.
        out.extend(&chars[i..]);
        return chars.len();
    };
    let inner: String = chars[i + 2..close].iter().collect();
    let raw: String = chars[i..=close].iter().collect();
    let name_len = inner.chars().take_while(|c| is_name(*c)).count();
    let (name, op) = inner.split_at(inner.char_indices().nth(name_len).map_or(inner.len(), |(b, _)| b));
    let value = vars.get(name);
    let known = matches!(value, Some(Some(_)));
    let set_nonempty = matches!(value, Some(Some(v)) if !v.is_empty());
    let word = |w: &str| expand(w, vars, escape);
    match op {
        "" => match value {
            Some(Some(v)) => out.push_str(v),
            _ => out.push_str(&raw),
        },
        _ if op.starts_with(":-") => {
            if set_nonempty {
                out.push_str(value.and_then(|v| v.as_deref()).unwrap_or_default());
            } else if matches!(value, Some(None)) {
                // Declared, value comes at build time: we cannot tell which side wins.
                out.push_str(&raw);
            } else {
                out.push_str(&word(&op[2..]));
            }
        }
        _ if op.starts_with('-') => {
            if known {
                out.push_str(value.and_then(|v| v.as_deref()).unwrap_or_default());
            } else if matches!(value, Some(None)) {
                out.push_str(&raw);
            } else {
                out.push_str(&word(&op[1..]));
            }
        }
        _ if op.starts_with(":+") => {
            if set_nonempty {
                out.push_str(&word(&op[2..]));
            } else if matches!(value, Some(None)) {
                out.push_str(&raw);
            }
        }
        _ if op.starts_with('+') => {
            if known {
                out.push_str(&word(&op[1..]));
            } else if matches!(value, Some(None)) {
                out.push_str(&raw);
            }
        }
        // ${VAR:?message} and pattern operators: keep the value when known.
        _ => match value {
            Some(Some(v)) => out.push_str(v),
            _ => out.push_str(&raw),
        },
    }
    close + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Vars {
        pairs.iter().map(|(k, v)| (k.to_string(), v.map(str::to_string))).collect()
    }

    #[test]
    fn expands_the_forms_buildkit_knows() {
        let v = vars(&[("BASE", Some("python:3.12-slim")), ("EMPTY", Some("")), ("LATER", None)]);
        let e = |w| expand(w, &v, '\\');
        assert_eq!(e("$BASE"), "python:3.12-slim");
        assert_eq!(e("${BASE}-x"), "python:3.12-slim-x");
        assert_eq!(e("${NOPE:-alpine:3.20}"), "alpine:3.20");
        assert_eq!(e("${EMPTY:-dflt}"), "dflt");
        assert_eq!(e("${EMPTY-dflt}"), "");
        assert_eq!(e("${BASE:+set}"), "set");
        assert_eq!(e("${EMPTY:+set}"), "");
        assert_eq!(e("${NOPE+set}"), "");
        assert_eq!(e("${NOPE:-${BASE}}"), "python:3.12-slim");
    }

    #[test]
    fn unknown_values_stay_as_written() {
        let v = vars(&[("LATER", None)]);
        let e = |w| expand(w, &v, '\\');
        assert_eq!(e("img:${LATER}"), "img:${LATER}");
        assert_eq!(e("img:$LATER"), "img:$LATER");
        assert_eq!(e("${LATER:-x}"), "${LATER:-x}");
        assert_eq!(e("$UNDECLARED/x"), "$UNDECLARED/x");
        assert_eq!(e("${broken"), "${broken");
    }

    #[test]
    fn quotes_and_escapes() {
        let v = vars(&[("A", Some("1"))]);
        assert_eq!(expand(r#""a $A b""#, &v, '\\'), "a 1 b");
        assert_eq!(expand("'$A'", &v, '\\'), "$A");
        assert_eq!(expand(r"\$A", &v, '\\'), "$A");
        assert_eq!(expand("`$A", &v, '`'), "$A");
        assert_eq!(expand("$", &v, '\\'), "$");
        assert_eq!(expand("a$1", &v, '\\'), "a$1");
        assert_eq!(expand("é${A}ü", &v, '\\'), "é1ü");
    }
}
