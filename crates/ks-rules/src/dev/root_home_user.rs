use ks_core::build::{CommandLine, Dockerfile, Instruction, InstructionKind, UserSpec, path_within};
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{dockerfile_ref, env_in_chain, program, quote, simple_commands};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// An image whose final stage puts what the program needs under `/root` — `pip install
    /// --user` run as root (it installs into `/root/.local`), or `COPY`/`ADD` into `/root/...`
    /// (typically `COPY --from=builder /root/.local /root/.local`) — and then switches `USER`
    /// to a non-root user. Copying the same files into the user's home with `--chown` (or a
    /// `chown`/`chmod` of `/root` afterwards) is fine and not reported.
    ///
    /// ### Why it breaks
    /// `/root` is mode 700 in Debian, Ubuntu and Alpine based images: only root may enter it.
    /// The process runs as the non-root user, so every file below `/root` is unreachable,
    /// whatever the files' own permissions: Python fails with `can't open file
    /// '/root/.local/bin/uvicorn': [Errno 13] Permission denied` or `ModuleNotFoundError`,
    /// other programs with `permission denied`.
    ///
    /// ### How to confirm
    /// `docker run --rm --entrypoint sh <image> -c 'id; ls -ld /root; ls /root/.local/bin'`
    /// shows the non-root uid and `drwx------ root root /root`; the pod log shows the
    /// `Permission denied` on a `/root/...` path.
    ///
    /// ### Fix
    /// Install into a place the user can read: copy the builder's `/root/.local` into the
    /// user's home with `--chown` and point `PATH` there, or install system-wide in the final
    /// stage (`pip install` without `--user`, or a virtualenv under `/opt/venv`).
    ///
    /// ### Prevention
    /// Create the runtime user first, install and copy with `--chown=<user>:<user>` into
    /// paths that user owns, and switch `USER` before anything installs per-user.
    ///
    /// ### Example
    /// `COPY --from=builder /root/.local /root/.local`, `ENV PATH=/root/.local/bin:$PATH`,
    /// `USER appuser`, `CMD ["uvicorn", "app.main:app"]` fails with `[Errno 13] Permission
    /// denied` on `/root/.local/bin/uvicorn`.
    pub static META = {
        id: "KS1502",
        name: "root-home-for-non-root-user",
        cause: Cause::DevDockerfileUser,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "files the program needs are installed under /root, but the image runs as a non-root user",
    }
}

pub struct RootHomeForNonRootUser;

impl Rule for RootHomeForNonRootUser {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for df in &cx.ev.build.dockerfiles {
            let mut targets: Vec<Option<&str>> = vec![None];
            for c in &cx.ev.build.skaffold {
                for a in &c.artifacts {
                    if a.dockerfile_key == df.key && a.target.is_some() {
                        targets.push(a.target.as_deref());
                    }
                }
            }
            let mut seen = Vec::new();
            for t in targets {
                let Some(fin) = df.final_stage(t) else { continue };
                if seen.contains(&fin.index) {
                    continue;
                }
                seen.push(fin.index);
                if let Some(f) = check_stage(df, fin.index) {
                    out.push(f);
                }
            }
        }
    }
}

/// Instructions of a stage chain in build order (base stages first).
fn chain_instructions(df: &Dockerfile, stage: usize) -> Vec<&Instruction> {
    let mut chain = df.stage_chain(stage);
    chain.reverse();
    chain.iter().flat_map(|&i| df.stages[i].instructions.iter()).collect()
}

fn is_root(user: Option<&str>) -> bool {
    user.is_none_or(|u| u == "root" || u == "0" || u.starts_with("0:") || u.starts_with("root:"))
}

/// What put files under /root, if this instruction did.
fn root_install(df: &Dockerfile, chain: &[usize], ins: &Instruction) -> Option<String> {
    match &ins.kind {
        InstructionKind::Copy(c) if path_within(&c.dest, "/root") => Some(format!(
            "{} copies {} into {}",
            if c.add { "ADD" } else { "COPY" },
            c.sources.join(" "),
            c.dest.trim_end_matches('/')
        )),
        InstructionKind::Run(run) if is_root(ins.user.as_deref()) => {
            // `pip install --user` as root installs into $HOME/.local, i.e. /root/.local,
            // unless PYTHONUSERBASE or HOME point elsewhere.
            let home = env_in_chain(df, chain, "HOME").unwrap_or("/root");
            let userbase = env_in_chain(df, chain, "PYTHONUSERBASE");
            if !path_within(home, "/root") || userbase.is_some_and(|u| !path_within(u, "/root")) {
                return None;
            }
            simple_commands(&run.script()).iter().find_map(|w| {
                let pip = w.iter().position(|x| matches!(program(x), "pip" | "pip3") || x.starts_with("pip3."))?;
                let rest = &w[pip + 1..];
                (rest.first().map(String::as_str) == Some("install") && rest.iter().any(|a| a == "--user"))
                    .then(|| format!("`{}` runs as root and installs into /root/.local", w[pip..].join(" ")))
            })
        }
        _ => None,
    }
}

/// A later step that opens /root up (`chmod 755 /root`, `chown -R app /root/.local`).
fn opens_root(ins: &Instruction) -> bool {
    let InstructionKind::Run(run) = &ins.kind else { return false };
    simple_commands(&run.script()).iter().any(|w| {
        w.first().is_some_and(|p| matches!(program(p), "chmod" | "chown"))
            && w[1..].iter().any(|a| !a.starts_with('-') && path_within(a, "/root"))
    })
}

fn check_stage(df: &Dockerfile, stage: usize) -> Option<Finding> {
    let chain = df.stage_chain(stage);
    let all = chain_instructions(df, stage);
    // The user the container runs as: the last USER of the chain.
    let (user_ix, user) = all.iter().enumerate().rev().find_map(|(i, ins)| match &ins.kind {
        InstructionKind::User(u) => Some((i, u)),
        _ => None,
    })?;
    if user.is_root() {
        return None;
    }
    // Installs into /root made as root before the switch, never opened up afterwards.
    let (bad_ix, why) = all[..user_ix]
        .iter()
        .enumerate()
        .filter_map(|(i, ins)| root_install(df, &chain, ins).map(|why| (i, why)))
        .find(|(i, _)| !all[i + 1..].iter().any(|later| opens_root(later)))?;
    let bad = all[bad_ix];
    let user_ins = all[user_ix];
    let name = &user.user;
    let mut f = util::finding(
        &META,
        dockerfile_ref(df),
        format!("{}:{}: files under /root, but the image runs as {name}", df.path, bad.pos.line),
        format!(
            "{why}, then line {} switches to USER {name}. /root is readable by root only (mode 700), so {name} \
             cannot reach anything below it and the program fails with Permission denied.",
            user_ins.pos.line
        ),
    );
    f.location = Some(df.location(bad.pos));
    f.evidence.push(quote(df, bad));
    // The later lines that depend on /root, and the USER switch, in file order.
    let mut later: Vec<&Instruction> = all[bad_ix + 1..].iter().copied().filter(|i| mentions_root(i)).collect();
    later.push(user_ins);
    later.sort_by_key(|i| i.pos);
    for ins in &later {
        f.evidence.push(quote(df, ins));
    }
    let mentions: Vec<&Instruction> = later.into_iter().filter(|i| mentions_root(i)).collect();
    f.fix.extend(fixes(df, bad, user, &mentions));
    f.root_key = format!("root-home:{}:{}", df.path, bad.pos.line);
    Some(f)
}

/// ENV/CMD/ENTRYPOINT lines that point into /root (more evidence of what breaks).
fn mentions_root(ins: &Instruction) -> bool {
    match &ins.kind {
        InstructionKind::Env(pairs) => pairs.iter().any(|(_, v)| v.contains("/root/")),
        InstructionKind::Cmd(c) | InstructionKind::Entrypoint(c) => match c {
            CommandLine::Exec(v) => v.iter().any(|a| a.contains("/root/")),
            CommandLine::Shell(s) => s.contains("/root/"),
        },
        _ => false,
    }
}

fn fixes(df: &Dockerfile, bad: &Instruction, user: &UserSpec, mentions: &[&Instruction]) -> Vec<Fix> {
    let name = &user.user;
    let owner = match &user.group {
        Some(g) => format!("{name}:{g}"),
        None => format!("{name}:{name}"),
    };
    let home = format!("/home/{name}");
    let mut out = Vec::new();
    if let InstructionKind::Copy(c) = &bad.kind {
        let rest = c.dest.strip_prefix("/root").unwrap_or(&c.dest);
        let from = c.from.as_ref().map(|f| format!("--from={f} ")).unwrap_or_default();
        out.push(Fix::cmd(
            format!("Copy into {name}'s home, owned by {name} ({} line {})", df.path, bad.pos.line),
            format!(
                "{} {from}--chown={owner} {} {home}{rest}",
                if c.add { "ADD" } else { "COPY" },
                c.sources.join(" ")
            ),
        ));
    } else {
        out.push(Fix::cmd(
            format!("Install system-wide instead of per-user as root ({} line {})", df.path, bad.pos.line),
            bad.text.replace(" --user", ""),
        ));
    }
    // Lines that name /root (PATH, PYTHONPATH, the command) move along.
    for ins in mentions {
        out.push(Fix::cmd(
            format!("Point {} line {} at {home} instead of /root", df.path, ins.pos.line),
            ins.text.replace("/root/", &format!("{home}/")),
        ));
    }
    if matches!(bad.kind, InstructionKind::Copy(_))
        && !mentions.iter().any(|i| matches!(i.kind, InstructionKind::Env(_)))
    {
        out.push(Fix::cmd(format!("Put {home}/.local/bin on PATH"), format!("ENV PATH={home}/.local/bin:$PATH")));
    }
    out
}
