use ks_core::build::{
    Artifact, CommandLine, Dockerfile, Hook, HookPhase, Instruction, InstructionKind, SkaffoldConfig, Stage,
};
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{
    BaseKind, artifact_dockerfile, base_kind, commands_of, env_in_chain, program, quote, quote_from, quote_skaffold,
    simple_commands, skaffold_ref,
};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Skaffold hooks meant to make a running container pick up synced files that cannot
    /// work in the image the artifact builds:
    /// - the hook runs `pkill`, `pgrep`, `killall`, `ps` or the `kill` binary, and the final
    ///   stage's base image does not ship them (`-slim`, `debian`, `ubuntu`: no procps;
    ///   distroless, `scratch`, Chainguard: no shell and no tools) and no `RUN` installs them;
    /// - the hook sends `SIGHUP` to a server that does not reload on it: `uvicorn` (or
    ///   `fastapi run`) started without `--reload` and with at most one worker;
    /// - an after-sync hook kills PID 1 to restart the container.
    ///
    /// Gunicorn (which reloads its workers on `SIGHUP`), uvicorn with `--workers 2` or more
    /// (its process manager restarts workers on `SIGHUP`) and uvicorn with `--reload` are fine.
    ///
    /// ### Why it breaks
    /// A missing tool makes the hook fail (`exec: "pkill": executable file not found in
    /// $PATH`). A single uvicorn process installs handlers for SIGINT and SIGTERM only: as
    /// PID 1 the kernel drops the SIGHUP, otherwise it stops the server. Killing PID 1 restarts
    /// the container, and a restarted container starts from the image again, without the
    /// files Skaffold just synced. In every case the new code never runs.
    ///
    /// ### How to confirm
    /// `kubectl exec <pod> -- sh -c 'command -v pkill || echo missing'`; `kubectl exec <pod> --
    /// cat /proc/1/cmdline | tr '\0' ' '` shows how the server runs; `skaffold dev -v debug`
    /// logs the hook's error.
    ///
    /// ### Fix
    /// For development, let the server watch its files (`uvicorn --reload --reload-dir
    /// <dest>`, `gunicorn --reload`) and drop the hook; or run a server that reloads on
    /// `SIGHUP` (gunicorn, uvicorn with several workers) and install procps for `pkill`.
    ///
    /// ### Prevention
    /// Keep a dev target in the Dockerfile whose CMD runs the server in reload mode, and test
    /// hooks once with `kubectl exec` before wiring them into `skaffold.yaml`.
    ///
    /// ### Example
    /// `sync.hooks.after: [{container: {command: ["pkill", "-HUP", "uvicorn"]}}]` with
    /// `FROM python:3.11-slim` and `CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]`.
    pub static META = {
        id: "KS1504",
        name: "reload-hook-cannot-work",
        cause: Cause::DevSyncReload,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a Skaffold reload hook uses a tool the image lacks or a signal the server ignores",
    }
}

pub struct ReloadHookCannotWork;

impl Rule for ReloadHookCannotWork {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for c in &cx.ev.build.skaffold {
            for a in &c.artifacts {
                let Some(df) = artifact_dockerfile(cx.ev, a) else { continue };
                let Some(fin) = df.final_stage(a.target.as_deref()) else { continue };
                let mut hooks: Vec<&Hook> = a.sync.iter().flat_map(|s| s.hooks.iter()).collect();
                // Deploy hooks only clearly belong to this image when it is the only one.
                if c.artifacts.len() == 1 {
                    hooks.extend(c.deploy_hooks.iter());
                }
                for hook in hooks {
                    let problems = analyse(df, fin, hook);
                    if !problems.is_empty() {
                        out.push(finding(c, a, df, fin, hook, &problems));
                    }
                }
            }
        }
    }
}

#[derive(Debug, PartialEq)]
enum Problem {
    /// The tool is not in the image.
    MissingTool { tool: String, package: &'static str },
    /// No shell and no tools at all.
    NoShell { tool: String },
    /// SIGHUP to a server that does not reload on it.
    HupIgnored { server: String },
    /// The hook restarts the container.
    KillsPid1,
}

/// The command words a hook runs inside the container (host hooks only through `kubectl exec`).
fn container_commands(hook: &Hook) -> Vec<Vec<String>> {
    if hook.in_container {
        return commands_of(&hook.command);
    }
    let via_exec = hook.command.first().is_some_and(|p| matches!(program(p), "kubectl" | "oc"))
        && hook.command.iter().any(|w| w == "exec");
    let sh_exec = hook.command.first().is_some_and(|p| matches!(program(p), "sh" | "bash"))
        && hook.command.iter().any(|w| w.contains("kubectl exec"));
    if via_exec {
        commands_of(&hook.command)
    } else if sh_exec {
        commands_of(&hook.command)
            .into_iter()
            .filter(|w| w.first().is_some_and(|p| program(p) == "kubectl"))
            .flat_map(|w| commands_of(&w))
            .collect()
    } else {
        Vec::new()
    }
}

/// Whether a RUN of the chain installs a package (apt, apk, dnf/yum/microdnf).
fn installs(df: &Dockerfile, chain: &[usize], package: &str) -> bool {
    chain.iter().flat_map(|&i| df.stages[i].instructions.iter()).any(|ins| match &ins.kind {
        InstructionKind::Run(r) => simple_commands(&r.script()).iter().any(|w| {
            w.first()
                .is_some_and(|p| matches!(program(p), "apt-get" | "apt" | "apk" | "dnf" | "microdnf" | "yum" | "tdnf"))
                && w.iter().any(|x| x == package || x.starts_with(&format!("{package}=")))
        }),
        _ => false,
    })
}

fn sends_hup(words: &[String]) -> bool {
    let mut it = words.iter().skip(1).peekable();
    while let Some(w) = it.next() {
        let w = w.as_str();
        if matches!(w, "-HUP" | "-1" | "-SIGHUP" | "--signal=HUP" | "--signal=SIGHUP" | "-s1") {
            return true;
        }
        if matches!(w, "-s" | "--signal") && it.peek().is_some_and(|n| matches!(n.as_str(), "HUP" | "SIGHUP" | "1")) {
            return true;
        }
    }
    false
}

/// `kill [-SIG] 1`: a signal to PID 1.
fn kills_pid1(words: &[String]) -> bool {
    program(&words[0]) == "kill" && words.last().is_some_and(|w| w == "1") && !sends_hup(words)
}

/// The words of the server the final stage starts: ENTRYPOINT then CMD.
fn server_words(st: &Stage) -> (Vec<String>, Option<&Instruction>) {
    let (ep, cmd) = st.start_command();
    let words = |i: Option<&Instruction>| match i.map(|i| &i.kind) {
        Some(InstructionKind::Entrypoint(c)) | Some(InstructionKind::Cmd(c)) => c.words(),
        _ => Vec::new(),
    };
    let mut all = words(ep);
    // A shell-form ENTRYPOINT ignores CMD.
    let shell_ep = matches!(ep.map(|i| &i.kind), Some(InstructionKind::Entrypoint(CommandLine::Shell(_))));
    if !shell_ep {
        all.extend(words(cmd));
    }
    // Look through `sh -c "..."`.
    let flat = commands_of(&all).into_iter().flatten().collect::<Vec<_>>();
    (if flat.is_empty() { all } else { flat }, cmd.or(ep))
}

/// Why the server ignores SIGHUP, if it is one we know does.
fn hup_ignored(df: &Dockerfile, chain: &[usize], server: &[String]) -> Option<String> {
    let ix = server.iter().position(|w| {
        let p = program(w);
        p == "uvicorn" || p == "fastapi" || p == "gunicorn" || p == "hypercorn"
    })?;
    let prog = program(&server[ix]);
    if prog != "uvicorn" && !(prog == "fastapi" && server.get(ix + 1).is_some_and(|s| s == "run")) {
        return None;
    }
    let args = &server[ix + 1..];
    if args.iter().any(|a| a == "--reload") {
        return None;
    }
    let workers = args
        .iter()
        .position(|a| a == "--workers")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| args.iter().find_map(|a| a.strip_prefix("--workers=").map(str::to_string)))
        .or_else(|| env_in_chain(df, chain, "WEB_CONCURRENCY").map(str::to_string))
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1);
    (workers <= 1).then(|| server[ix..].join(" "))
}

fn analyse(df: &Dockerfile, fin: &Stage, hook: &Hook) -> Vec<Problem> {
    let chain = df.stage_chain(fin.index);
    let base = df.external_base(fin.index).map(|s| s.base.as_str()).unwrap_or_default();
    let kind = if base.contains('$') { BaseKind::Unknown } else { base_kind(base) };
    let mut out = Vec::new();
    let top = hook.command.first().map(|p| program(p).to_string()).unwrap_or_default();
    if hook.in_container && kind == BaseKind::NoShell {
        out.push(Problem::NoShell { tool: top.clone() });
        return out;
    }
    let via_shell = matches!(top.as_str(), "sh" | "bash");
    let (server, _) = server_words(fin);
    for words in container_commands(hook) {
        let Some(first) = words.first() else { continue };
        let tool = program(first);
        let package = match tool {
            "pkill" | "pgrep" | "ps" => Some("procps"),
            "killall" => Some("psmisc"),
            // `kill` is a shell builtin; run directly it is procps's binary.
            "kill" if !via_shell => Some("procps"),
            _ => None,
        };
        if let Some(package) = package
            && kind == BaseKind::NoProcps
            && !installs(df, &chain, package)
            && !out.iter().any(|p| matches!(p, Problem::MissingTool { tool: t, .. } if t == tool))
        {
            out.push(Problem::MissingTool { tool: tool.to_string(), package });
        }
        if matches!(tool, "pkill" | "killall" | "kill") && sends_hup(&words) {
            if let Some(server) = hup_ignored(df, &chain, &server)
                && !out.iter().any(|p| matches!(p, Problem::HupIgnored { .. }))
            {
                out.push(Problem::HupIgnored { server });
            }
        } else if hook.phase == HookPhase::AfterSync && kills_pid1(&words) && !out.contains(&Problem::KillsPid1) {
            out.push(Problem::KillsPid1);
        }
    }
    out
}

fn finding(
    c: &SkaffoldConfig,
    a: &Artifact,
    df: &Dockerfile,
    fin: &Stage,
    hook: &Hook,
    problems: &[Problem],
) -> Finding {
    let base = df.external_base(fin.index).map(|s| s.base.clone()).unwrap_or_default();
    // As written in skaffold.yaml, so arguments with spaces stay readable.
    let cmd = format!("[{}]", hook.command.iter().map(|w| format!("{w:?}")).collect::<Vec<_>>().join(", "));
    let mut reasons = Vec::new();
    let mut f = util::finding(
        &META,
        skaffold_ref(c),
        format!("{} hook `{cmd}` cannot reload {}", hook.phase.as_str(), a.image),
        String::new(),
    );
    for p in problems {
        match p {
            Problem::MissingTool { tool, package } => {
                reasons.push(format!("{base} has no `{tool}` (package {package}) and {} does not install it", df.path));
                let install = if base.contains("alpine") {
                    format!("RUN apk add --no-cache {package}")
                } else {
                    format!(
                        "RUN apt-get update && apt-get install -y --no-install-recommends {package} && rm -rf /var/lib/apt/lists/*"
                    )
                };
                f.fix.push(Fix::cmd(
                    format!("Install {package} in the final stage of {}, or drop the hook", df.path),
                    install,
                ));
            }
            Problem::NoShell { tool } => {
                reasons.push(format!("{base} has no shell and no tools, so `{tool}` cannot run in the container"));
                f.fix.push(Fix::text(format!(
                    "Use an image with a shell for development (a `-dev`/debug variant of {base}) or run the server in \
                     reload mode and drop the hook"
                )));
            }
            Problem::HupIgnored { server } => {
                reasons.push(format!(
                    "the container runs `{server}`: a single uvicorn process does not handle SIGHUP (as PID 1 the \
                     signal is dropped, otherwise the server stops and the container restarts from the image)"
                ));
                // The same command line, plus the reload flags.
                let mut new: Vec<String> = server.split_whitespace().map(String::from).collect();
                new.push("--reload".to_string());
                if let Some(d) = a.sync.as_ref().and_then(|s| s.manual.first()).map(|r| r.dest.clone()) {
                    new.extend(["--reload-dir".to_string(), d]);
                }
                let json = new.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(", ");
                f.fix.push(Fix::cmd(
                    format!("Let uvicorn watch the synced files in the dev image ({}) and remove the hook", df.path),
                    format!("CMD [{json}]"),
                ));
            }
            Problem::KillsPid1 => {
                reasons.push(
                    "killing PID 1 restarts the container, and a restarted container starts from the image again, \
                     without the files Skaffold just synced"
                        .to_string(),
                );
                f.fix.push(Fix::text(
                    "Remove the restart hook and run the server in a mode that reloads changed files (uvicorn \
                     --reload, gunicorn --reload, nodemon)",
                ));
            }
        }
    }
    f.root_cause = format!(
        "{} runs `{cmd}` {} after each {}, but {}. The synced code is never loaded.",
        c.label(),
        if hook.in_container { "in the container" } else { "through kubectl exec" },
        if matches!(hook.phase, HookPhase::BeforeSync | HookPhase::AfterSync) { "sync" } else { "deploy" },
        reasons.join("; and ")
    );
    f.location = Some(c.location(hook.pos));
    f.evidence.push(quote_skaffold(c, hook.pos.line, format!("{} hook: {}", hook.phase.as_str(), cmd)));
    if let Some(base_stage) = df.external_base(fin.index) {
        f.evidence.push(quote_from(df, base_stage));
    }
    if let (_, Some(start)) = server_words(fin) {
        f.evidence.push(quote(df, start));
    }
    f.root_key = format!("reload-hook:{}:{}:{}", c.path, a.image, hook.pos.line);
    f
}
