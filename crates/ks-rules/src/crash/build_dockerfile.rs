use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::ContainerProblem;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// In-cluster image builds (BuildKit, kaniko, docker build in a Job) that fail because
    /// the builder finds no Dockerfile: `failed to load Dockerfile: no such file or
    /// directory`, `failed to read dockerfile: open Dockerfile`, kaniko `error resolving
    /// dockerfile path`, `unable to evaluate symlinks in Dockerfile path`.
    ///
    /// ### Why it breaks
    /// The build context the builder gets does not contain a Dockerfile at the path it was
    /// told: the repository keeps it elsewhere (a subdirectory, another name), the clone
    /// step that fills the context failed or checked out another ref, or the context
    /// directory/volume passed to the builder is not the one the clone wrote to.
    ///
    /// ### How to confirm
    /// `kubectl logs <pod> -c <build-container>` shows the error; the clone init
    /// container's log shows what was checked out; the repository shows where the Dockerfile
    /// lives.
    ///
    /// ### Fix
    /// Put a Dockerfile at the context root, or pass its path to the builder (`--opt
    /// filename=path/Dockerfile` for buildctl, `--dockerfile` for kaniko, `-f` for docker
    /// build), and make sure the clone step succeeds into the directory used as context.
    ///
    /// ### Prevention
    /// Validate that an uploaded repository has a Dockerfile before creating the build Job;
    /// let the clone step fail loudly when the checkout is empty.
    ///
    /// ### Example
    /// `ERROR: failed to load Dockerfile: no such file or directory` from the
    /// `buildkit-client` container of a build Job whose agent repository has no Dockerfile.
    pub static META = {
        id: "KS0311",
        name: "build-dockerfile-missing",
        cause: Cause::BuildDockerfileMissing,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "an image build cannot find its Dockerfile",
    }
}

pub struct BuildDockerfileMissing;

impl Rule for BuildDockerfileMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::crash_findings(cx, &META, Cause::BuildDockerfileMissing, out, |p, f| explain(cx, p, f));
    }
}

fn explain(cx: &Context<'_>, p: &ContainerProblem, f: &mut Finding) {
    let ev = cx.ev;
    let w = ev.workload_of(p.pod).clone();
    let b = super::build_facts(ev, p);
    let quote = super::short_quote(super::strip_build_prefix(&p.message));
    let file = p.details.get("file").cloned().filter(|x| !x.is_empty()).unwrap_or_else(|| "Dockerfile".to_string());
    f.title = format!("Image build in {} {} finds no {file} in its build context", w.kind, w.name);
    let told =
        if b.args.is_empty() { String::new() } else { format!(" The builder was started with {}.", b.args.join(" ")) };
    let clone = match b.init.iter().find(|(_, s)| s != "completed") {
        Some((n, s)) => {
            format!(" Init container {n} (the step that prepares the context) {s}, so the context may be empty.")
        }
        None if !b.init.is_empty() => format!(
            " Init container{} {} completed, so the context was prepared but holds no {file} at the path given.",
            if b.init.len() > 1 { "s" } else { "" },
            util::join_names(&b.init.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())
        ),
        None => String::new(),
    };
    f.root_cause = format!(
        "{} fails with `{quote}`: the build context has no {file} where the builder looks.{told}{clone} The repository keeps its Dockerfile elsewhere (or has none), or the context path is wrong.",
        b.head
    );
    if !b.args.is_empty() {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("builder args: {}", b.args.join(" ")),
            Some(w.clone()),
        ));
    }
    for (n, s) in &b.init {
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Status,
            format!("init container {n}: {s}"),
            Some(crate::facts::pod_ref(&ev.pods[p.pod])),
        ));
    }
    let (ns, pod) = util::pod_names(ev, p.pod);
    if let Some((n, _)) = b.init.first() {
        f.fix.push(Fix::cmd(
            format!("See what the {n} step checked out"),
            format!("kubectl {}logs {pod} -c {n}", util::ns_flag(ns)),
        ));
    }
    f.fix.push(Fix::text(
        "Add a Dockerfile at the repository root, or pass its real path to the builder (buildctl: --opt filename=<dir>/Dockerfile with --local dockerfile=<dir>; kaniko: --dockerfile=<path>; docker build: -f <path>), then re-run the build",
    ));
    f.root_key = format!("build.dockerfile_missing:{}", w.qualified_name());
}
