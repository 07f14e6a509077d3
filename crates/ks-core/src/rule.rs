//! Rule metadata: id, name, cause code, severity and docs, declared once next to each rule.

use std::sync::OnceLock;

use crate::{Cause, Severity};

/// Where a rule's evidence comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// Reads runtime state: statuses, events, logs.
    Runtime,
    /// Reads manifests before they deploy.
    Static,
    /// Reads the developer's machine (`kubesleuth doctor --local`).
    Local,
    /// Compares manifests with the cluster (`kubesleuth drift`).
    Drift,
}

/// Everything the catalogue says about a rule. Built by [`declare_rule!`](crate::declare_rule).
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable id, e.g. `KS0201`. Never reused.
    pub id: &'static str,
    /// Kebab-case name saying what was found, e.g. `secret-key-missing`.
    pub name: &'static str,
    pub cause: Cause,
    pub severity: Severity,
    pub kind: RuleKind,
    /// One line for the catalogue listing.
    pub summary: &'static str,
    /// The rule's doc comment, in Markdown: What it finds, Why it breaks, How to confirm,
    /// Fix, Prevention, Example.
    pub docs: &'static str,
    /// [`RuleMeta::prevention_paragraph`], worked out once: every finding carries it.
    /// [`declare_rule!`](crate::declare_rule) starts it empty.
    #[doc(hidden)]
    pub prevention_cache: OnceLock<Option<String>>,
}

/// The sections of a rule's docs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RuleDocs {
    pub what_it_finds: String,
    pub why_it_breaks: String,
    pub how_to_confirm: String,
    pub fix: String,
    pub prevention: String,
    pub example: String,
}

/// The section headings every rule's docs must carry, in order.
pub const DOC_SECTIONS: [&str; 6] =
    ["What it finds", "Why it breaks", "How to confirm", "Fix", "Prevention", "Example"];

impl RuleMeta {
    /// The first paragraph of the docs' Prevention section on one line, or `None` when
    /// the docs have none: what a finding says about preventing it.
    pub fn prevention_paragraph(&self) -> Option<&str> {
        self.prevention_cache
            .get_or_init(|| {
                let prevention = self.sections().prevention;
                let first = prevention.split("\n\n").next().unwrap_or(&prevention);
                (!prevention.is_empty()).then(|| first.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .as_deref()
    }

    /// The docs as Markdown, without the one-space indent doc comments carry.
    pub fn docs_text(&self) -> String {
        let mut out = String::with_capacity(self.docs.len());
        for line in self.docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// Split the docs into their sections (`### Heading` lines).
    pub fn sections(&self) -> RuleDocs {
        let mut out = RuleDocs::default();
        let mut current: Option<&mut String> = None;
        let text = self.docs_text();
        for line in text.lines() {
            if let Some(heading) = line.strip_prefix("### ") {
                current = match heading.trim() {
                    "What it finds" => Some(&mut out.what_it_finds),
                    "Why it breaks" => Some(&mut out.why_it_breaks),
                    "How to confirm" => Some(&mut out.how_to_confirm),
                    "Fix" => Some(&mut out.fix),
                    "Prevention" => Some(&mut out.prevention),
                    "Example" => Some(&mut out.example),
                    _ => None,
                };
                continue;
            }
            if let Some(body) = current.as_deref_mut() {
                body.push_str(line);
                body.push('\n');
            }
        }
        for s in [
            &mut out.what_it_finds,
            &mut out.why_it_breaks,
            &mut out.how_to_confirm,
            &mut out.fix,
            &mut out.prevention,
            &mut out.example,
        ] {
            *s = s.trim().to_string();
        }
        out
    }
}

/// Declare a rule's metadata from its doc comment:
///
/// ```ignore
/// declare_rule! {
///     /// ### What it finds
///     /// ...
///     pub static SECRET_KEY_MISSING = {
///         id: "KS0201", name: "secret-key-missing", cause: Cause::ConfigSecretKeyMissing,
///         severity: Severity::Error, kind: RuleKind::Runtime,
///         summary: "a container's secretKeyRef names a key the Secret does not have",
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis static $ident:ident = {
            id: $id:literal,
            name: $name:literal,
            cause: $cause:expr,
            severity: $severity:expr,
            kind: $kind:expr,
            summary: $summary:literal $(,)?
        }
    ) => {
        $vis static $ident: $crate::RuleMeta = $crate::RuleMeta {
            id: $id,
            name: $name,
            cause: $cause,
            severity: $severity,
            kind: $kind,
            summary: $summary,
            docs: concat!($($doc, "\n"),*),
            prevention_cache: ::std::sync::OnceLock::new(),
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    declare_rule! {
        /// ### What it finds
        /// A thing.
        ///
        /// ### Prevention
        /// Lint it.
        static DEMO = {
            id: "KS9999",
            name: "demo-thing",
            cause: Cause::CrashUnknown,
            severity: Severity::Error,
            kind: RuleKind::Runtime,
            summary: "demo",
        }
    }

    #[test]
    fn sections_are_split_from_the_doc_comment() {
        let s = DEMO.sections();
        assert_eq!(s.what_it_finds, "A thing.");
        assert_eq!(s.prevention, "Lint it.");
        assert_eq!(s.fix, "");
    }
}
