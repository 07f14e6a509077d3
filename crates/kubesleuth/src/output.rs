//! Where and how the report is written.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use ks_core::{Finding, Gap, Severity, Summary};
use ks_report::{Format, Report, emitter};

use crate::cli::{ColorArg, FailOn, FormatArg, OutputArgs};

pub fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Markdown => Format::Markdown,
    }
}

pub fn use_color(args: &OutputArgs) -> bool {
    match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            args.output.is_none() && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    }
}

/// Render the report and choose the exit code.
pub fn write_report(
    args: &OutputArgs,
    findings: &[Finding],
    gaps: &[Gap],
    summary: Summary,
) -> anyhow::Result<ExitCode> {
    let report = Report { findings, summary, gaps, tool_version: env!("CARGO_PKG_VERSION") };
    let em = emitter(format_of(args.format), use_color(args));
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            em.emit(&report, &mut w).with_context(|| format!("cannot write {}", path.display()))?;
            w.flush()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            em.emit(&report, &mut w)?;
            w.flush()?;
        }
    }
    Ok(exit_code(findings, args.fail_on))
}

pub fn exit_code(findings: &[Finding], fail_on: FailOn) -> ExitCode {
    let threshold = match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    if findings.iter().any(|f| f.severity >= threshold) { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
