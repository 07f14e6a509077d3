//! `--format markdown`: the same content, for pasting into an issue or a chat.

use std::io::{self, Write};

use crate::{Emitter, Report, short_ref, summary_line};

pub struct Markdown;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Emitter for Markdown {
    fn emit(&self, report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "# kubesleuth report\n")?;
        writeln!(out, "{}\n", summary_line(&report.summary))?;
        if report.findings.is_empty() {
            writeln!(out, "No problems found.")?;
        }
        for f in report.findings {
            writeln!(out, "## {} `{}`: {}\n", f.severity, f.rule, f.title)?;
            let scope = f.scope.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
            writeln!(out, "**Object:** {}{scope}  ", f.object)?;
            writeln!(out, "**Cause:** `{}`\n", f.cause)?;
            writeln!(out, "{}\n", f.root_cause)?;
            if !f.affected.is_empty() {
                let names: Vec<String> = f.affected.iter().map(|a| format!("`{}`", short_ref(a))).collect();
                writeln!(out, "**Affected:** {}\n", names.join(", "))?;
            }
            if !f.evidence.is_empty() {
                writeln!(out, "| source | object | evidence |\n| --- | --- | --- |")?;
                for e in &f.evidence {
                    let obj = e.object.as_ref().map(short_ref).unwrap_or_default();
                    writeln!(
                        out,
                        "| {} | `{}` | {} |",
                        e.source.as_str(),
                        cell(&obj),
                        cell(&format!("`{}`", e.text.replace('`', "'")))
                    )?;
                }
                writeln!(out)?;
            }
            if !f.fix.is_empty() {
                writeln!(out, "**Fix**\n\n```sh")?;
                for fx in &f.fix {
                    writeln!(out, "# {}", fx.description)?;
                    if let Some(c) = &fx.command {
                        writeln!(out, "{c}")?;
                    }
                }
                writeln!(out, "```\n")?;
            }
            if let Some(p) = &f.prevention {
                writeln!(out, "**Prevention:** {p}\n")?;
            }
        }
        if !report.gaps.is_empty() {
            writeln!(out, "## Inputs that could not be read\n")?;
            for g in report.gaps {
                writeln!(out, "- `{g}`")?;
            }
        }
        Ok(())
    }
}
