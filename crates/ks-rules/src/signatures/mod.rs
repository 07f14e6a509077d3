//! Message signatures as data. Each table is an ordered list (first match wins) of
//! regular expressions over the exact wordings in `shared/reference/k8s-messages.md`,
//! compiled once into a [`RegexSet`] so one pass over a message finds every candidate.

use ks_core::Cause;
use regex::{Captures, Regex, RegexSet};

pub mod admission;
pub mod cert;
pub mod config;
pub mod logs;
pub mod pull;
pub mod sched;
pub mod volume;

/// One known message shape and the cause it means.
#[derive(Debug)]
pub struct Signature {
    /// Stable name, used in tests and docs.
    pub id: &'static str,
    pub cause: Cause,
    /// Case-insensitive regular expression; named groups carry the details rules print.
    pub pattern: &'static str,
}

/// A compiled table.
pub struct Matcher {
    set: RegexSet,
    /// Each signature's own regex, for its captures: compiled on first match only, since a
    /// scan matches a handful of the hundreds of signatures and compiling costs time.
    regexes: Vec<std::sync::OnceLock<Regex>>,
    patterns: Vec<String>,
    table: &'static [Signature],
}

/// A matched signature with its captures.
pub struct Match<'t> {
    pub sig: &'static Signature,
    pub caps: Captures<'t>,
}

impl Match<'_> {
    /// A named capture, or "".
    pub fn get(&self, name: &str) -> &str {
        self.caps.name(name).map(|m| m.as_str()).unwrap_or_default()
    }
}

impl Matcher {
    /// Compile a table. The patterns are constants checked by `tables_compile` below, so a
    /// failure here is a programming error caught by the test suite, never by input.
    pub fn new(table: &'static [Signature]) -> Matcher {
        let pats: Vec<String> = table.iter().map(|s| format!("(?i){}", s.pattern)).collect();
        #[allow(clippy::expect_used)]
        let set = RegexSet::new(&pats).expect("signature table compiles (tested)");
        let regexes = pats.iter().map(|_| std::sync::OnceLock::new()).collect();
        Matcher { set, regexes, patterns: pats, table }
    }

    /// Signature `i`'s regex, compiled on first use.
    fn regex(&self, i: usize) -> &Regex {
        self.regexes[i].get_or_init(|| {
            // The RegexSet above compiled the same pattern, so this cannot fail.
            #[allow(clippy::expect_used)]
            Regex::new(&self.patterns[i]).expect("signature compiles (tested)")
        })
    }

    /// The highest-priority signature matching `text`.
    pub fn first<'t>(&self, text: &'t str) -> Option<Match<'t>> {
        let i = self.set.matches(text).into_iter().next()?;
        let caps = self.regex(i).captures(text)?;
        Some(Match { sig: &self.table[i], caps })
    }

    /// Whether any signature matches.
    pub fn is_match(&self, text: &str) -> bool {
        self.set.is_match(text)
    }

    /// The highest-priority signature matching any of `lines`, with the line it matched.
    /// One RegexSet pass per line; lines are scanned newest first so the quoted line is the
    /// latest occurrence.
    pub fn first_in_lines<'t>(&self, lines: &'t [String]) -> Option<(Match<'t>, &'t str)> {
        let mut best: Option<(usize, usize)> = None; // (signature index, line index)
        for (li, line) in lines.iter().enumerate().rev() {
            if let Some(si) = self.set.matches(line).into_iter().next()
                && best.is_none_or(|(b, _)| si < b)
            {
                best = Some((si, li));
            }
        }
        let (si, li) = best?;
        let line = lines[li].as_str();
        let caps = self.regex(si).captures(line)?;
        Some((Match { sig: &self.table[si], caps }, line))
    }

    pub fn table(&self) -> &'static [Signature] {
        self.table
    }
}

macro_rules! matcher {
    ($name:ident, $table:path) => {
        pub static $name: std::sync::LazyLock<$crate::signatures::Matcher> =
            std::sync::LazyLock::new(|| $crate::signatures::Matcher::new($table));
    };
}
pub(crate) use matcher;

/// Every table, for tests and docs.
pub fn all_tables() -> Vec<(&'static str, &'static [Signature])> {
    vec![
        ("pull", pull::TABLE),
        ("config", config::TABLE),
        ("logs", logs::TABLE),
        ("sched", sched::TABLE),
        ("admission", admission::TABLE),
        ("volume", volume::TABLE),
        ("cert", cert::TABLE),
        ("net-ingress-log", crate::net::signatures::INGRESS_LOG),
        ("net-probe", crate::net::signatures::PROBE_OUTPUT),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_compile_and_ids_are_unique() {
        let mut ids = std::collections::HashSet::new();
        for (name, table) in all_tables() {
            for s in table {
                assert!(Regex::new(&format!("(?i){}", s.pattern)).is_ok(), "{name}/{} does not compile", s.id);
                assert!(ids.insert(s.id), "duplicate signature id {}", s.id);
            }
            let _ = Matcher::new(table);
        }
    }
}
