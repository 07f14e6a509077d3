//! The default terminal format: rustc-like, readable at 80 columns, copy-paste safe
//! (commands are never wrapped), colour only when asked.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use ks_core::{Finding, Severity};

use crate::{Emitter, Report, short_ref, summary_line};

pub struct Text {
    pub color: bool,
    pub width: usize,
}

const MAX_AFFECTED: usize = 5;

impl Text {
    fn paint(&self, style: Style, s: &str) -> String {
        if self.color { format!("{style}{s}{style:#}") } else { s.to_string() }
    }

    fn severity_style(sev: Severity) -> Style {
        let c = match sev {
            Severity::Error => AnsiColor::Red,
            Severity::Warning => AnsiColor::Yellow,
            Severity::Info => AnsiColor::Blue,
        };
        Style::new().bold().fg_color(Some(c.into()))
    }

    fn finding(&self, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
        let head = format!("{}[{}]", f.severity, f.rule);
        writeln!(
            out,
            "{} {}",
            self.paint(Self::severity_style(f.severity), &head),
            self.paint(Style::new().bold(), &f.title)
        )?;
        let scope = f.scope.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
        writeln!(out, "  --> {}{scope}", f.object)?;
        if let Some(loc) = &f.location {
            writeln!(out, "  --> {}:{}:{}", loc.file, loc.line, loc.column)?;
            if let Some(t) = &loc.template {
                writeln!(out, "  --> rendered from {t}")?;
            }
        }
        writeln!(out, "   |")?;
        if let Some(loc) = &f.location
            && let Some(src) = &loc.source_line
        {
            // rustc-style: the line, then a caret under the field.
            let src = src.trim_end();
            let col = (loc.column as usize).saturating_sub(1);
            let token = src.chars().skip(col).take_while(|c| !matches!(c, ':' | ' ' | ',' | '}' | ']')).count().max(1);
            let w = loc.line.to_string().len().max(2);
            writeln!(out, "{:>w$} | {src}", loc.line)?;
            let caret = self.paint(Self::severity_style(f.severity), &"^".repeat(token));
            writeln!(out, "{:>w$} | {}{caret}", "", " ".repeat(col))?;
            writeln!(out, "   |")?;
        }
        for line in wrap(&f.root_cause, self.width.saturating_sub(5)) {
            writeln!(out, "   | {line}")?;
        }
        writeln!(out, "   |")?;
        let only_itself = f.affected.len() == 1 && f.affected[0] == f.object;
        if !f.affected.is_empty() && !only_itself {
            let names: Vec<String> = f.affected.iter().take(MAX_AFFECTED).map(short_ref).collect();
            let more = f.affected.len().saturating_sub(MAX_AFFECTED);
            let tail = if more > 0 { format!(", +{more} more") } else { String::new() };
            writeln!(out, "   = affected: {}{tail}", names.join(", "))?;
        }
        if !f.evidence.is_empty() {
            writeln!(out, "   = evidence")?;
            for e in &f.evidence {
                let obj = e.object.as_ref().map(short_ref).unwrap_or_default();
                let head = format!("       {:<7} {obj}", e.source.as_str());
                writeln!(out, "{}", head.trim_end())?;
                for line in wrap(&e.text, self.width.saturating_sub(12)) {
                    writeln!(out, "           {line}")?;
                }
            }
        }
        if !f.fix.is_empty() {
            writeln!(out, "   = fix")?;
            for fx in &f.fix {
                match &fx.command {
                    Some(cmd) => {
                        writeln!(out, "       # {}", fx.description)?;
                        writeln!(out, "       {cmd}")?;
                    }
                    None => writeln!(out, "       {}", fx.description)?,
                }
            }
        }
        if let Some(p) = &f.prevention {
            let mut lines = wrap(p, self.width.saturating_sub(16)).into_iter();
            if let Some(first) = lines.next() {
                writeln!(out, "   = prevent: {first}")?;
            }
            for l in lines {
                writeln!(out, "              {l}")?;
            }
        }
        writeln!(out, "   = cause: {}    docs: kubesleuth rules {}", f.cause, f.rule)?;
        writeln!(out)
    }
}

/// Greedy word wrap; words longer than the width stay whole (URLs, image references).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

impl Emitter for Text {
    fn emit(&self, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
        let mut group: Option<(Severity, Option<&str>)> = None;
        for f in report.findings {
            let g = (f.severity, f.object.namespace.as_deref());
            if group != Some(g) {
                let ns = g.1.map(|n| format!("namespace {n}")).unwrap_or_else(|| "cluster-scoped".to_string());
                let head = format!("── {}s in {ns} ", f.severity);
                let pad = "─".repeat(self.width.saturating_sub(head.chars().count()).min(60));
                writeln!(out, "{}", self.paint(Style::new().dimmed(), &format!("{head}{pad}")))?;
                writeln!(out)?;
                group = Some(g);
            }
            self.finding(f, out)?;
        }
        if report.findings.is_empty() {
            writeln!(out, "No problems found.")?;
        }
        if !report.gaps.is_empty() {
            writeln!(
                out,
                "{} {} input(s) could not be read; the rest was analysed:",
                self.paint(Self::severity_style(Severity::Warning), "warning:"),
                report.gaps.len()
            )?;
            for g in report.gaps {
                writeln!(out, "  {g}")?;
            }
        }
        writeln!(out, "{}", summary_line(&report.summary))
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_word_boundaries_and_keeps_long_words() {
        assert_eq!(wrap("aaa bbb ccc", 20), vec!["aaa bbb ccc"]);
        let w = wrap("one two three four five six seven eight nine ten eleven twelve", 20);
        assert!(w.iter().all(|l| l.chars().count() <= 20), "{w:?}");
        let long = "x".repeat(50);
        assert_eq!(wrap(&long, 20), vec![long.clone()]);
    }
}
