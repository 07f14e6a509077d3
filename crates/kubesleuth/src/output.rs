//! Where and how the report is written.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use ks_core::{Finding, Gap, RuleMeta, Severity, Summary};
use ks_report::{Format, Options, Report, emitter_with};

use crate::cli::{ColorArg, FailOn, FormatArg, OutputArgs};

pub fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Junit => Format::Junit,
        FormatArg::Html => Format::Html,
    }
}

/// Where kubesleuth is documented, for SARIF's `informationUri`: the package's `repository`
/// or `homepage` when Cargo.toml sets one (left out of the report otherwise).
const INFORMATION_URI: Option<&str> = {
    let (repo, home) = (env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE"));
    if !repo.is_empty() {
        Some(repo)
    } else if !home.is_empty() {
        Some(home)
    } else {
        None
    }
};

fn severity_of(f: FailOn) -> Severity {
    match f {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
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
    // The catalogue goes to the emitters from here: ks-report does not depend on ks-rules.
    let rules: Vec<&'static RuleMeta> = ks_rules::RULES.iter().map(|r| r.meta()).collect();
    let opts = Options {
        color: use_color(args),
        rules: &rules,
        information_uri: INFORMATION_URI,
        fail_on: severity_of(args.fail_on),
    };
    let em = emitter_with(format_of(args.format), opts);
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
    let threshold = severity_of(fail_on);
    if findings.iter().any(|f| f.severity >= threshold) { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
