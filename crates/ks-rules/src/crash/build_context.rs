use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::ContainerProblem;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// In-cluster image builds that fail because the build context is larger than the
    /// builder accepts: `context too large`, `build context ... exceeds`, BuildKit's gRPC
    /// `received message larger than max` while sending the context.
    ///
    /// ### Why it breaks
    /// Everything in the context directory is sent to the builder: without a
    /// `.dockerignore`, that includes `.git`, `node_modules`, virtualenvs, datasets, build
    /// output and logs, which can be gigabytes.
    ///
    /// ### How to confirm
    /// `du -sh .` and `du -sh .git node_modules` in the repository; the build log shows the
    /// transfer size before the error.
    ///
    /// ### Fix
    /// Add a `.dockerignore` that excludes what the image does not need (`.git`,
    /// `node_modules`, `venv`, data files), or move large files out of the repository.
    ///
    /// ### Prevention
    /// Keep a `.dockerignore` next to every Dockerfile; check the context size in CI.
    ///
    /// ### Example
    /// `ERROR: context too large` from a BuildKit Job building a repository with a 2 GB
    /// `data/` directory and no `.dockerignore`.
    pub static META = {
        id: "KS0312",
        name: "build-context-too-large",
        cause: Cause::BuildContextTooLarge,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the build context exceeds what the builder accepts",
    }
}

pub struct BuildContextTooLarge;

impl Rule for BuildContextTooLarge {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::BuildContextTooLarge, out, |p, f| explain(cx, p, f));
    }
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let b = super::build_facts(ev, p);
    let quote = super::short_quote(super::strip_build_prefix(&p.message));
    let context = b.args.iter().find(|a| a.contains("context")).cloned();
    f.title = format!("Image build in {} {} sends a build context that is too large", w.kind, w.name);
    f.root_cause = format!(
        "{} fails with `{quote}`: the directory sent as build context{} is larger than the builder accepts, usually because it has no .dockerignore and includes .git, dependencies, data or build output.",
        b.head,
        context.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
    );
    if let Some(c) = &context {
        f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, format!("builder args: {c}"), Some(w.clone())));
    }
    f.fix.push(Fix::cmd(
        "Exclude what the image does not need with a .dockerignore in the context root",
        "printf '.git\\nnode_modules\\n.venv\\nvenv\\n__pycache__\\n*.log\\ndata/\\ndist/\\n' >> .dockerignore",
    ));
    f.fix.push(Fix::cmd("Find the large directories in the repository", "du -sh .[!.]* * | sort -h | tail"));
    f.root_key = format!("build.context_too_large:{}", w.qualified_name());
}
