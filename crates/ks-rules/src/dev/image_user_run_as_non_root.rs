use ks_core::build::{Dockerfile, Instruction, UserSpec};
use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{
    WorkloadContainer, artifact_dockerfile, image_matches, image_repo, quote, quote_from, workload_containers,
};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A workload whose pod or container securityContext requires `runAsNonRoot: true`
    /// without a `runAsUser`, running an image built from a Dockerfile in the same lint run
    /// whose final stage runs as root (no `USER`, `USER root`, `USER 0`) or as a user name
    /// (`USER appuser`). The image and the Dockerfile are connected through a Skaffold
    /// artifact, or else by the Dockerfile's directory having the image's name
    /// (`backend/Dockerfile` for `registry/shop/backend:1.4`).
    ///
    /// ### Why it breaks
    /// The kubelet checks the image's user before it starts the container. A root user fails
    /// with `container has runAsNonRoot and image will run as root`; a user name fails with
    /// `container has runAsNonRoot and image has non-numeric user (appuser), cannot verify user
    /// is non-root`, because the kubelet cannot look the name up in the image. Either way the
    /// pod sits in `CreateContainerConfigError`.
    ///
    /// ### How to confirm
    /// `docker image inspect --format '{{.Config.User}}' <image>` prints the user the kubelet
    /// sees (empty means root); `kubectl describe pod` shows the message above.
    ///
    /// ### Fix
    /// Give the image a numeric non-root user (`RUN useradd -u 10001 app` and `USER 10001`),
    /// or set a numeric `runAsUser` in the securityContext.
    ///
    /// ### Prevention
    /// Always write `USER` with a uid in Dockerfiles, and lint the Dockerfile together with the
    /// manifests that run it.
    ///
    /// ### Example
    /// `USER appuser` in `backend/Dockerfile` and `securityContext: {runAsNonRoot: true}` on
    /// Deployment `shop/backend`.
    pub static META = {
        id: "KS1507",
        name: "image-user-fails-run-as-non-root",
        cause: Cause::SecurityRunAsNonRoot,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "a Dockerfile's final user cannot satisfy the runAsNonRoot its workload requires",
    }
}

pub struct ImageUserFailsRunAsNonRoot;

/// Base images known to set a non-root user themselves.
fn base_sets_non_root(base: &str) -> bool {
    let b = base.to_ascii_lowercase();
    ["nonroot", "unprivileged", "rootless", "bitnami/", "cgr.dev/"].iter().any(|k| b.contains(k))
}

/// The image's user: the last USER of the final stage's chain.
fn final_user(df: &Dockerfile, stage: usize) -> Option<(&UserSpec, &Instruction)> {
    df.stage_chain(stage).into_iter().find_map(|i| df.stages[i].last_user())
}

impl Rule for ImageUserFailsRunAsNonRoot {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let containers = workload_containers(cx.ev);
        for w in &containers {
            let sc = w.container.security_context.as_ref();
            let psc = w.pod.security_context.as_ref();
            let non_root = sc.and_then(|s| s.run_as_non_root).or(psc.and_then(|s| s.run_as_non_root));
            let user = sc.and_then(|s| s.run_as_user).or(psc.and_then(|s| s.run_as_user));
            if non_root != Some(true) || user.is_some() {
                continue;
            }
            let image = w.container.image.as_deref().unwrap_or_default();
            let Some((df, target)) = dockerfile_for(cx, image) else { continue };
            let Some(fin) = df.final_stage(target) else { continue };
            if let Some(f) = check(df, fin.index, w, image) {
                out.push(f);
            }
        }
    }
}

/// The Dockerfile (and target stage) that builds `image`.
fn dockerfile_for<'a>(cx: &'a Context<'_>, image: &str) -> Option<(&'a Dockerfile, Option<&'a str>)> {
    for c in &cx.ev.build.skaffold {
        for a in &c.artifacts {
            if image_matches(image, &a.image)
                && let Some(df) = artifact_dockerfile(cx.ev, a)
            {
                return Some((df, a.target.as_deref()));
            }
        }
    }
    // No Skaffold link: the Dockerfile's directory named like the image's last path segment.
    let name = image_repo(image).rsplit('/').next()?;
    let referenced =
        |df: &Dockerfile| cx.ev.build.skaffold.iter().flat_map(|c| &c.artifacts).any(|a| a.dockerfile_key == df.key);
    cx.ev.build.dockerfiles.iter().filter(|df| !referenced(df)).find_map(|df| {
        let dir = df.key.rsplit_once('/')?.0;
        (dir.rsplit('/').next() == Some(name)).then_some((df, None))
    })
}

fn check(df: &Dockerfile, stage: usize, w: &WorkloadContainer<'_>, image: &str) -> Option<Finding> {
    let fin = &df.stages[stage];
    let base = df.external_base(stage).map(|s| s.base.as_str()).unwrap_or_default();
    let user = final_user(df, stage);
    let (problem, message) = match user {
        Some((u, _)) if u.is_root() => {
            ("runs as root", "container has runAsNonRoot and image will run as root".to_string())
        }
        Some((u, _)) if !u.is_numeric() => (
            "runs as a user name",
            format!(
                "container has runAsNonRoot and image has non-numeric user ({}), cannot verify user is non-root",
                u.user
            ),
        ),
        Some(_) => return None,
        None if base_sets_non_root(base) || base.contains('$') => return None,
        None => (
            "has no USER and runs as its base image's user (root)",
            "container has runAsNonRoot and image will run as root".to_string(),
        ),
    };
    let pos = user.map(|(_, i)| i.pos).unwrap_or(fin.pos);
    let mut f = util::finding(
        &META,
        w.workload.clone(),
        format!("image {image} {problem}, but {} requires runAsNonRoot", w.workload),
        format!(
            "{} builds {image}, whose final stage {problem}. Container {} of {} sets runAsNonRoot: true without a \
             runAsUser, so the kubelet refuses to start it: `{message}`.",
            df.path, w.container.name, w.workload
        ),
    );
    f.location = Some(df.location(pos));
    f.evidence.push(EvidenceItem::new(
        EvidenceSource::Spec,
        format!("container {}: runAsNonRoot: true, no runAsUser", w.container.name),
        Some(w.workload.clone()),
    ));
    match user {
        Some((_, ins)) => f.evidence.push(quote(df, ins)),
        None => f.evidence.push(quote_from(df, fin)),
    }
    let name =
        user.map(|(u, _)| u.user.clone()).filter(|u| u != "root" && u != "0").unwrap_or_else(|| "app".to_string());
    f.fix.push(Fix::cmd(
        format!(
            "Give the image a numeric non-root user in {} line {} (create it first, e.g. `RUN useradd --uid 10001 \
             --create-home {name}`)",
            df.path, pos.line
        ),
        "USER 10001",
    ));
    let pointer_target = if w.container.security_context.as_ref().and_then(|s| s.run_as_non_root).is_some() {
        format!(
            "{{\"spec\":{{\"template\":{{\"spec\":{{\"containers\":[{{\"name\":\"{}\",\"securityContext\":{{\"runAsUser\":10001}}}}]}}}}}}}}",
            w.container.name
        )
    } else {
        "{\"spec\":{\"template\":{\"spec\":{\"securityContext\":{\"runAsUser\":10001}}}}}".to_string()
    };
    if matches!(w.workload.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet") {
        f.fix.push(Fix::cmd(
            format!("Or run {} with a numeric user (the image must allow uid 10001 to read its files)", w.workload),
            format!(
                "kubectl {}patch {} --type strategic -p '{pointer_target}'",
                w.workload.ns_flag(),
                w.workload.kubectl_ref()
            ),
        ));
    }
    f.root_key = format!("image-user:{}:{}", df.path, image_repo(image));
    Some(f)
}
