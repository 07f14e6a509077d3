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
    /// Diagnose every broken workload in the live cluster (kubeconfig) or a snapshot.
    Scan(ScanArgs),
    /// Check manifests before they deploy: files, directories, kustomizations, Helm charts.
    Lint(LintArgs),
    /// Compare manifests kept in Git with the cluster (a snapshot, or live).
    Drift(DriftArgs),
    /// Explain pasted evidence: `kubectl describe`, `get events`, logs, YAML/JSON objects.
    Explain(ExplainArgs),
    /// Capture a live cluster as a redacted snapshot directory (cluster-info dump layout).
    Snapshot(SnapshotArgs),
    /// Follow one workload's chain: owner -> pods -> containers -> events/logs -> cause.
    Why(WhyArgs),
    /// Every running container's image: the digest it runs against the digest its tag names
    /// in the registry now (stale images, reused tags, registry errors).
    Images(ImagesArgs),
    /// Check the developer's machine (`--local`): kube context, kind cluster, local registry,
    /// leftover port-forwards, container engine. Read-only.
    Doctor(DoctorArgs),
    /// List the rule catalogue, or show one rule's docs.
    Rules(RulesArgs),
    /// Serve a snapshot as a read-only Kubernetes API for kubectl: `kubesleuth serve DIR`,
    /// then `kubectl --server http://127.0.0.1:6443 get pods -A`.
    Serve(ServeArgs),
}

#[derive(Args, Debug, Clone)]
pub struct SourceArgs {
    /// Snapshot files or directories (cluster-info dump, `kubectl get -o json|yaml`, logs);
    /// repeatable. Without it kubesleuth scans the live cluster of the current kubeconfig
    /// context.
    #[arg(long = "snapshot", value_name = "PATH")]
    pub snapshot: Vec<PathBuf>,
    /// Only report on this namespace (live: only list this namespace).
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
    #[command(flatten)]
    pub live: LiveArgs,
}

/// How to reach a live cluster (used when no `--snapshot` is given).
#[derive(Args, Debug, Clone)]
pub struct LiveArgs {
    /// The kubeconfig context to use (default: the current one).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the pod's service
    /// account when run in a cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// No progress line on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Read Secret data to learn key names (values are dropped as soon as they are read);
    /// by default Secrets are listed as metadata only and missing keys are not predicted.
    #[arg(long)]
    pub secret_keys: bool,
    /// Give up on the cluster after this long and use what arrived (e.g. 60s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

/// `90`, `90s`, `2m`, `500ms`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("expected a duration such as 60s or 2m, got {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}; use ms, s, m or h")),
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("the timeout must be positive, got {s:?}"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[derive(Args, Debug)]
pub struct SnapshotArgs {
    /// The directory to write (must not exist or be empty).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: PathBuf,
    /// Only this namespace (cluster-scoped kinds such as nodes are still captured).
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespace: Option<String>,
    /// All namespaces (the default).
    #[arg(short = 'A', long = "all-namespaces", conflicts_with = "namespace")]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub live: LiveArgs,
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
    /// Also ask the image registries which digest each running tag names now and run the
    /// image checks (stale images, reused tags). Without it, scan never contacts a registry.
    #[arg(long)]
    pub registries: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// How to ask image registries (`images`, `scan --registries`).
#[derive(Args, Debug, Clone)]
pub struct RegistryArgs {
    /// Speak plain HTTP to this registry, as Docker's daemon option of the same name;
    /// repeatable. `localhost`, `127.0.0.1` and `[::1]` registries always get plain HTTP.
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    pub insecure_registry: Vec<String>,
    /// Timeout of each registry request (e.g. 10s, 500ms).
    #[arg(long = "registry-timeout", value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub registry_timeout: std::time::Duration,
    /// Registry requests in flight per registry host.
    #[arg(long = "registry-concurrency", value_name = "N", default_value_t = 4, hide = true)]
    pub registry_concurrency: usize,
    /// Do not read credentials from the docker config (ask every registry anonymously).
    #[arg(long)]
    pub no_docker_config: bool,
    /// On a live cluster, do not read the running pods' imagePullSecrets for registry
    /// credentials (they are read with one `get` per Secret, used in memory for their own
    /// registry only, and never printed or stored).
    #[arg(long)]
    pub no_pull_secrets: bool,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Do not ask the registries: use only facts recorded in the snapshot
    /// (a `RegistryFacts` document, see --save-facts).
    #[arg(long)]
    pub offline: bool,
    /// Write what the registries said as a `RegistryFacts` JSON document; put it into the
    /// snapshot directory to replay this check offline.
    #[arg(long, value_name = "FILE")]
    pub save_facts: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// Check this machine: the current kube context and whether it answers, kind clusters,
    /// the local registry container (state, network, node mirror config), leftover
    /// `kubectl port-forward` processes, the docker/podman engine. Each check is skipped with
    /// a note when its tool is not installed.
    #[arg(long)]
    pub local: bool,
    /// Name of the local registry container.
    #[arg(long, value_name = "NAME", default_value = "kind-registry")]
    pub registry_name: String,
    /// Where /proc is (for tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub proc_root: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The manifests `lint` and `drift` read.
#[derive(Args, Debug)]
pub struct ManifestInputs {
    /// Manifest files or directories (searched recursively), kustomization directories
    /// (rendered with `kubectl kustomize`), Helm chart directories (rendered with
    /// `helm template`); `-` reads stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Helm values files for charts (repeatable).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Helm `--set` values for charts (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    #[command(flatten)]
    pub inputs: ManifestInputs,
    /// Namespace charts are rendered for.
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespace: Option<String>,
    /// The Kubernetes version the manifests will be applied to (e.g. 1.29): API versions
    /// removed by then are errors. Default: the newest this build knows.
    #[arg(long, value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Directories (or files) of CustomResourceDefinitions and Gatekeeper
    /// ConstraintTemplates (repeatable): custom resources and constraints are checked
    /// against their schemas, like CRDs among the inputs. Custom resources whose CRD is not
    /// found are skipped with a note.
    #[arg(long, value_name = "DIR")]
    pub crds: Vec<PathBuf>,
    /// A directory of JSON schemas in kubeconform's or kubernetes-validate's layout
    /// (`deployment-apps-v1.json`, `_definitions.json`; CRD schemas as
    /// `GROUP/KIND_VERSION.json`): kinds with a schema there are checked against it instead
    /// of the built-in Kubernetes 1.37 types.
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    /// Configuration file (default: `.kubesleuth.yaml` in the current directory or above
    /// the first path): per-path and per-rule ignores, severity overrides.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the time each pipeline stage took to stderr (for benchmarks).
    #[arg(long, hide = true)]
    pub timings: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct DriftArgs {
    #[command(flatten)]
    pub inputs: ManifestInputs,
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
pub struct ServeArgs {
    /// Snapshot files or directories: the same inputs as `scan --snapshot`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Port to listen on; 0 picks a free one. The URL is printed on stdout.
    #[arg(long, value_name = "PORT", default_value_t = 6443)]
    pub port: u16,
    /// Address to listen on. There is no authentication: anything but loopback exposes the
    /// snapshot to whoever can reach it.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub address: std::net::IpAddr,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// A rule id (KS0201) or name (secret-key-missing): print its docs.
    pub rule: Option<String>,
    /// Output format: text (a table, or a rule's docs as Markdown) or json.
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
    /// Write every rule's docs as Markdown into this directory (docs/rules).
    #[arg(long, value_name = "DIR", hide = true)]
    pub write_docs: Option<PathBuf>,
}

/// The formats `rules` writes (the report formats describe findings, not the catalogue).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
    /// SARIF 2.1.0, for code scanning (GitHub needs file locations: use it with `lint`).
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// One self-contained HTML page.
    Html,
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
        Command::Lint(a) => commands::lint::run(&a),
        Command::Drift(a) => commands::drift::run(&a),
        Command::Explain(a) => commands::explain::run(&a),
        Command::Why(a) => commands::why::run(&a),
        Command::Images(a) => commands::images::run(&a),
        Command::Snapshot(a) => commands::snapshot::run(&a),
        Command::Doctor(a) => commands::doctor::run(&a),
        Command::Rules(a) => commands::rules::run(&a),
        Command::Serve(a) => commands::serve::run(&a),
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
