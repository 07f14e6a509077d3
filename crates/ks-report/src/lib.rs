//! kubesleuth's output: one emitter per format, each fed the same findings. Emitters only
//! render; they never compute anything new.

pub mod json;
pub mod markdown;
pub mod text;

use std::io::{self, Write};

use ks_core::{Finding, Gap, Summary};

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
}

/// The emitter for a format; `color` only matters for text.
pub fn emitter(format: Format, color: bool) -> Box<dyn Emitter> {
    match format {
        Format::Text => Box::new(text::Text { color, width: 80 }),
        Format::Json => Box::new(json::Json),
        Format::Markdown => Box::new(markdown::Markdown),
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
