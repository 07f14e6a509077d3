use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::ContainerProblem;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers whose command cannot be run because it is not in the image: the runtime's
    /// `exec: "uvicorn": executable file not found in $PATH` (reason `StartError`, exit code
    /// 128, `RunContainerError`), `exec /app/server: no such file or directory`, shell
    /// `./start.sh: not found`, `/usr/bin/env: 'python': No such file or directory`.
    ///
    /// ### Why it breaks
    /// The container's `command` (or the image's ENTRYPOINT/CMD) names a program the image
    /// does not contain or that is not on its `PATH`: a package was not installed, a
    /// multi-stage build did not copy the binary, a distroless or scratch image has no
    /// shell, or the command has a typo. `no such file or directory` for a file that exists
    /// means its interpreter or dynamic loader is missing (a glibc binary on Alpine, a
    /// script with Windows line endings).
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `Last State: Terminated, Reason: StartError, Exit Code:
    /// 128` with the message; `docker run --rm --entrypoint sh <image> -c 'command -v
    /// <cmd>'` prints nothing.
    ///
    /// ### Fix
    /// Install the program in the image (or copy it into the runtime stage), or change the
    /// container's `command`/`args` to a program the image has, with its full path.
    ///
    /// ### Prevention
    /// Start the built image once in CI with the same command the manifest uses; prefer
    /// absolute paths in `command`.
    ///
    /// ### Example
    /// `exec: "sh": executable file not found in $PATH` for a command `["sh", "-c", ...]`
    /// on a distroless image.
    pub static META = {
        id: "KS0306",
        name: "command-not-found",
        cause: Cause::CrashExecNotFound,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the container's command does not exist in the image",
    }
}

pub struct CommandNotFound;

impl Rule for CommandNotFound {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::CrashExecNotFound, out, |p, f| explain(cx, p, f));
    }
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let image = super::image_of(cx, p);
    let quote = super::short_quote(&p.message);
    let cmd = p.details.get("cmd").cloned().filter(|c| !c.is_empty());
    let c = util::container_spec(ev, p.pod, &p.container);
    let spec_line = c.and_then(super::command_line);
    let in_spec = cmd.as_ref().is_some_and(|cmd| {
        c.is_some_and(|c| {
            c.command
                .iter()
                .chain(c.args.iter())
                .flatten()
                .any(|a| a == cmd || a.split_whitespace().next() == Some(cmd))
        })
    });
    let has_command = c.is_some_and(|c| c.command.is_some());
    let head = format!("Container {} of {} {}{}", p.container, w.kind, w.qualified_name(), super::restarts_phrase(p));
    let what = cmd.clone().unwrap_or_else(|| "its command".to_string());
    f.title = if image.is_empty() {
        format!("The container's image has no {what}")
    } else {
        format!("Image {image} has no {what}")
    };
    let origin = if in_spec || has_command {
        "The container's command in the pod template runs it".to_string()
    } else {
        format!(
            "The image's own ENTRYPOINT/CMD runs it (the container sets no command), so image {image} itself is broken or is not the image you meant"
        )
    };
    let hint = match cmd.as_deref() {
        Some("sh" | "bash" | "/bin/sh" | "/bin/bash") => {
            " Distroless and scratch images have no shell; run the program directly instead of through sh -c, or use a base image with a shell.".to_string()
        }
        Some(c) if c.starts_with('/') && quote.contains("no such file or directory") && !quote.contains("$PATH") => format!(
            " If {c} does exist in the image, its interpreter or dynamic loader does not: a glibc binary on an Alpine/distroless base (build it with CGO_ENABLED=0 or use a glibc base), or a script with a #! line that names a missing shell or has Windows line endings."
        ),
        Some(c) if !c.contains('/') && quote.contains("$PATH") => format!(
            " The runtime looks it up in the image's PATH: install it, or give the full path if it lives outside PATH (e.g. /home/app/.local/bin/{c})."
        ),
        _ => String::new(),
    };
    f.root_cause = format!("{head} cannot start: `{quote}`. {origin}.{hint}");
    if let Some(l) = &spec_line {
        f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, l.clone(), Some(w.clone())));
    }
    match cmd.as_deref() {
        Some(c) if !c.contains('/') => {
            let shell = matches!(c, "sh" | "bash" | "ash");
            f.fix.push(Fix::cmd(
                format!("See whether image {image} has a shell and what PATH it sets"),
                format!("docker run --rm --entrypoint /bin/sh {image} -c 'echo PATH=$PATH; command -v {c}'"),
            ));
            f.fix.push(Fix::text(if shell {
                format!(
                    "If the image has /bin/sh, write it with its full path in the command (the runtime found no {c} on the PATH it used); if it has no shell, run the program directly instead of through {c} -c"
                )
            } else {
                format!(
                    "Install {c} in the image's runtime stage (or COPY it from the build stage) and rebuild, or write the command with the full path of a program the image has"
                )
            }));
        }
        Some(c) => {
            f.fix.push(Fix::cmd(
                format!("See whether {c} exists in image {image}"),
                format!("docker run --rm --entrypoint /bin/sh {image} -c 'ls -la {c}; head -1 {c}'"),
            ));
            f.fix.push(Fix::text(format!(
                "Copy {c} into the image's runtime stage (or fix its #! line / line endings, or build it statically) and rebuild, or change the container's command to a program the image has"
            )));
        }
        None => {
            f.fix.push(Fix::cmd(
                format!("See the entrypoint and command of image {image}"),
                format!("docker inspect {image} --format '{{{{.Config.Entrypoint}}}} {{{{.Config.Cmd}}}}'"),
            ));
        }
    }
    if in_spec || has_command {
        f.fix.push(Fix::cmd(
            "Edit the container's command/args",
            format!("kubectl {}edit {}", w.ns_flag(), super::set_target(&w)),
        ));
    }
    f.root_key = format!("crash.exec_not_found:{}:{what}", super::missing_dependency::image_repo(&image));
}
