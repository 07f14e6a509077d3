//! kubesleuth's output: one emitter per format, each fed the same findings. Emitters only
//! render; they never compute anything new.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::io::{self, Write};

use ks_core::{Finding, Gap, RuleMeta, Severity, Summary};

/// Everything an emitter renders.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub summary: Summary,
    /// Inputs that could not be read.
    pub gaps: &'a [Gap],
    pub tool_version: &'a str,
}

/// One output format.
pub trait Emitter {
    fn emit(&self, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()>;
}

/// The formats this build renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
    Junit,
    Html,
}

/// What the binary knows that findings do not carry. ks-report never depends on ks-rules
/// (dependencies point one way), so the binary passes the catalogue in.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// Colour for the text format.
    pub color: bool,
    /// The whole rule catalogue: SARIF lists every rule, HTML shows each fired rule's docs.
    pub rules: &'a [&'static RuleMeta],
    /// Where the tool is documented (SARIF `informationUri`); an absolute URI.
    pub information_uri: Option<&'a str>,
    /// `--fail-on`: JUnit reports findings at or above it as failures, the rest as passing
    /// test cases, so the report fails exactly when the exit code does.
    pub fail_on: Severity,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options { color: false, rules: &[], information_uri: None, fail_on: Severity::Error }
    }
}

/// The emitter for a format; `color` only matters for text.
pub fn emitter(format: Format, color: bool) -> Box<dyn Emitter> {
    emitter_with(format, Options { color, ..Options::default() })
}

/// The emitter for a format, with the catalogue and settings only the binary knows.
pub fn emitter_with<'a>(format: Format, opts: Options<'a>) -> Box<dyn Emitter + 'a> {
    match format {
        Format::Text => Box::new(text::Text { color: opts.color, width: 80 }),
        Format::Json => Box::new(json::Json),
        Format::Markdown => Box::new(markdown::Markdown),
        Format::Sarif => Box::new(sarif::Sarif { rules: opts.rules, information_uri: opts.information_uri }),
        Format::Junit => Box::new(junit::Junit { fail_on: opts.fail_on }),
        Format::Html => Box::new(html::Html { rules: opts.rules }),
    }
}

/// `1 error, 2 warnings in 57 objects (3 ms)`.
pub fn summary_line(s: &Summary) -> String {
    let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    let mut line = format!("{}, {}", plural(s.errors, "error"), plural(s.warnings, "warning"));
    if s.infos > 0 {
        line.push_str(&format!(", {}", plural(s.infos, "info")));
    }
    line.push_str(&format!(" in {} ({} ms)", plural(s.objects, "object"), s.duration_ms));
    line
}

/// `pod/name` for evidence lines.
pub fn short_ref(o: &ks_core::ObjectRef) -> String {
    o.kubectl_ref()
}
