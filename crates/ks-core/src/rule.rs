//! Rule metadata: id, name, cause code, severity and docs, declared once next to each rule.

use crate::{Cause, Severity};

/// Where a rule's evidence comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// Reads runtime state: statuses, events, logs.
    Runtime,
    /// Reads manifests before they deploy.
    Static,
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
}

/// The sections of a rule's docs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RuleDocs<'a> {
    pub what_it_finds: &'a str,
    pub why_it_breaks: &'a str,
    pub how_to_confirm: &'a str,
    pub fix: &'a str,
    pub prevention: &'a str,
    pub example: &'a str,
}

/// The section headings every rule's docs must carry, in order.
pub const DOC_SECTIONS: [&str; 6] =
    ["What it finds", "Why it breaks", "How to confirm", "Fix", "Prevention", "Example"];

impl RuleMeta {
    /// Split the docs into their sections (`### Heading` lines).
    pub fn sections(&self) -> RuleDocs<'static> {
        let mut out = RuleDocs::default();
        let text: &'static str = self.docs;
        let mut rest = text;
        while let Some(start) = rest.find("### ") {
            let after = &rest[start + 4..];
            let (heading, body) = after.split_once('\n').unwrap_or((after, ""));
            let end = body.find("\n### ").map(|e| e + 1).unwrap_or(body.len());
            let section = body[..end].trim();
            match heading.trim() {
                "What it finds" => out.what_it_finds = section,
                "Why it breaks" => out.why_it_breaks = section,
                "How to confirm" => out.how_to_confirm = section,
                "Fix" => out.fix = section,
                "Prevention" => out.prevention = section,
                "Example" => out.example = section,
                _ => {}
            }
            rest = &body[end..];
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
