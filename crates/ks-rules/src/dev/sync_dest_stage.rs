use ks_core::build::{Artifact, Copy, Dockerfile, Instruction, InstructionKind, SkaffoldConfig, SyncRule, path_within};
use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{artifact_dockerfile, quote, quote_from, quote_skaffold, skaffold_ref};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A Skaffold `sync.manual` rule whose `dest` is where a multi-stage Dockerfile copies the
    /// sources only in an earlier (builder) stage: the stage that becomes the image (the last
    /// one, or `docker.target`) never has files at that path from the build context.
    ///
    /// ### Why it breaks
    /// Skaffold copies changed files into the running container at `dest`. The running
    /// container is the final stage; the builder stage's `/app` was thrown away when the
    /// image was assembled (only what `COPY --from` picked survived, often installed packages
    /// or a binary). The synced files land in a directory nothing reads, so edits never show,
    /// and `kubectl rollout restart` does not help either: the restarted container starts
    /// from the image again.
    ///
    /// ### How to confirm
    /// `kubectl exec deploy/<name> -- ls -la <dest>` shows the synced file next to nothing the
    /// server loads (or the server's code lives elsewhere); `skaffold dev -v debug` logs
    /// `Copying files: ... to <pod>` while the app keeps serving the old code.
    ///
    /// ### Fix
    /// Copy the sources into the final stage at the sync destination (a `COPY` from the
    /// build context, not only `--from=builder`), or build a dev image from the stage that
    /// holds the sources (`docker.target` in a Skaffold `dev` profile) and run the server from
    /// there.
    ///
    /// ### Prevention
    /// For every sync rule, check that the final stage has `COPY <src> <dest>` from the
    /// context; keep one dev target whose file layout matches the sync rules.
    ///
    /// ### Example
    /// `sync.manual: [{src: "api/**/*.py", dest: /app, strip: "api/"}]` with
    /// `FROM python AS builder`, `COPY api/ /app`, and a runtime stage that only does
    /// `COPY --from=builder /usr/local/lib/python3.11/site-packages ...`.
    pub static META = {
        id: "KS1503",
        name: "sync-dest-only-in-earlier-stage",
        cause: Cause::DevSyncReload,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a Skaffold sync destination holds the sources only in an earlier build stage",
    }
}

pub struct SyncDestOnlyInEarlierStage;

impl Rule for SyncDestOnlyInEarlierStage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for c in &cx.ev.build.skaffold {
            for a in &c.artifacts {
                let Some(sync) = &a.sync else { continue };
                let Some(df) = artifact_dockerfile(cx.ev, a) else { continue };
                let Some(fin) = df.final_stage(a.target.as_deref()) else { continue };
                let chain = df.stage_chain(fin.index);
                for rule in &sync.manual {
                    if rule.dest.is_empty() {
                        continue;
                    }
                    let dest = ks_core::build::join_path("/", &rule.dest);
                    let covers = |cp: &Copy| {
                        let d = cp.dest.trim_end_matches('/');
                        !d.is_empty() && (path_within(&dest, d) || path_within(d, &dest))
                    };
                    let in_final = chain.iter().any(|&i| {
                        df.stages[i]
                            .instructions
                            .iter()
                            .any(|ins| matches!(&ins.kind, InstructionKind::Copy(cp) if covers(cp)))
                    });
                    if in_final {
                        continue;
                    }
                    // An earlier stage has the sources there, from the build context; prefer
                    // the COPY whose source contains the synced files (`api/` for `api/**/*.py`).
                    let candidates: Vec<&Instruction> = df
                        .stages
                        .iter()
                        .filter(|s| !chain.contains(&s.index))
                        .flat_map(|s| s.instructions.iter())
                        .filter(|ins| matches!(&ins.kind, InstructionKind::Copy(cp) if cp.from.is_none() && covers(cp)))
                        .collect();
                    let earlier = candidates
                        .iter()
                        .find(|ins| matches!(&ins.kind, InstructionKind::Copy(cp) if holds_src(cp, &rule.src)))
                        .or(candidates.first())
                        .copied();
                    if let Some(copy) = earlier {
                        out.push(finding(c, a, rule, df, copy, fin.index, &dest));
                    }
                }
            }
        }
    }
}

/// Whether one of the COPY's sources is a directory holding the sync rule's files.
fn holds_src(cp: &Copy, src: &str) -> bool {
    let prefix = src.split(['*', '?', '[', '{']).next().unwrap_or_default();
    cp.sources.iter().any(|s| {
        let s = s.trim_start_matches("./").trim_end_matches('/');
        s.is_empty() || s == "." || prefix.starts_with(&format!("{s}/")) || prefix == s
    })
}

fn finding(
    c: &SkaffoldConfig,
    a: &Artifact,
    rule: &SyncRule,
    df: &Dockerfile,
    copy: &Instruction,
    fin: usize,
    dest: &str,
) -> Finding {
    let fin_stage = &df.stages[fin];
    let src_stage = df.stages.iter().find(|s| s.instructions.iter().any(|i| std::ptr::eq(i, copy)));
    let src_label = src_stage.map(|s| s.label()).unwrap_or_else(|| "an earlier stage".to_string());
    let mut f = util::finding(
        &META,
        skaffold_ref(c),
        format!("sync to {dest} for {} goes to files only the {src_label} stage has", a.image),
        format!(
            "{} syncs {} into {dest} of the running {} container, but {} copies the sources to {dest} only in \
             stage {src_label} (line {}); the image is stage {} (line {}), which has nothing from the build \
             context at {dest}. The synced files are never read.",
            c.label(),
            rule.src,
            a.image,
            df.path,
            copy.pos.line,
            fin_stage.label(),
            fin_stage.pos.line
        ),
    );
    f.location = Some(c.location(rule.pos));
    f.evidence.push(quote_skaffold(
        c,
        rule.pos.line,
        format!("sync.manual src: {} dest: {} strip: {}", rule.src, rule.dest, rule.strip),
    ));
    f.evidence.push(quote(df, copy));
    f.evidence.push(quote_from(df, fin_stage));
    if let InstructionKind::Copy(cp) = &copy.kind {
        f.fix.push(Fix::cmd(
            format!(
                "Copy the sources into the final stage {} of {} as well (after its last COPY)",
                fin_stage.label(),
                df.path
            ),
            format!("COPY {} {}", cp.sources.join(" "), cp.dest),
        ));
    }
    if let Some(src) = src_stage.and_then(|s| s.name.as_ref()) {
        f.fix.push(Fix::cmd(
            format!("Or build the dev image from stage {src}, which has the sources, in a Skaffold dev profile"),
            format!("skaffold dev -p dev   # profile with: build.artifacts[image={}].docker.target: {src}", a.image),
        ));
    }
    f.root_key = format!("sync-stage:{}:{}:{}", c.path, a.image, dest);
    f
}
