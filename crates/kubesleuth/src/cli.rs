//! Command-line arguments and dispatch. Exit codes: 0 nothing at or above `--fail-on`,
//! 1 findings at or above it, 2 bad usage or unreadable input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

#[derive(Parser, Debug)]
#[command(
    name = "kubesleuth",
    version,
    about = "A Kubernetes deployment doctor: finds the root cause of a broken deployment and says what to type to fix it."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Diagnose every broken workload in a cluster snapshot.
    Scan(ScanArgs),
    /// Explain pasted evidence: `kubectl describe`, `get events`, logs, YAML/JSON objects.
    Explain(ExplainArgs),
    /// Follow one workload's chain: owner -> pods -> containers -> events/logs -> cause.
    Why(WhyArgs),
    /// List the rule catalogue, or show one rule's docs.
    Rules(RulesArgs),
}

#[derive(Args, Debug, Clone)]
pub struct SourceArgs {
    /// Snapshot files or directories (cluster-info dump, `kubectl get -o json|yaml`, logs);
    /// repeatable. Without it kubesleuth would scan the live cluster, which this build
    /// cannot do yet.
    #[arg(long = "snapshot", value_name = "PATH")]
    pub snapshot: Vec<PathBuf>,
    /// Only report on this namespace.
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespace: Option<String>,
    /// All namespaces (the default for snapshots).
    #[arg(short = 'A', long = "all-namespaces", conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Skip snapshot files larger than this many bytes (reported as unreadable).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30, hide = true)]
    pub max_file_bytes: u64,
    /// Print the time each pipeline stage took to stderr (for benchmarks).
    #[arg(long, hide = true)]
    pub timings: bool,
}

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Write the report to a file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Colour: auto (only on a terminal, honouring NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Files holding what you would paste into a chat; `-` or nothing reads stdin. Several
    /// pieces of one incident (describe, events, logs) are read together.
    pub inputs: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct WhyArgs {
    /// The object, as KIND/NAME (deployment/backend, deploy/backend, sts/db, job/build, pod/x).
    pub target: String,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// A rule id (KS0201) or name (secret-key-missing): print its docs.
    pub rule: Option<String>,
    /// Output format for the listing: text or json.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Write every rule's docs as Markdown into this directory (docs/rules).
    #[arg(long, value_name = "DIR", hide = true)]
    pub write_docs: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Scan(a) => commands::scan::run(&a),
        Command::Explain(a) => commands::explain::run(&a),
        Command::Why(a) => commands::why::run(&a),
        Command::Rules(a) => commands::rules::run(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("kubesleuth: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
