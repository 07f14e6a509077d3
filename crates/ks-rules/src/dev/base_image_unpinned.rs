use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{dockerfile_ref, image_repo, image_tag, quote_from};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A `FROM` whose base image has no tag or the tag `latest` and no digest
    /// (`FROM python`, `FROM node:latest`). Stage references (`FROM builder`), `scratch`,
    /// digests (`@sha256:...`) and bases built from build arguments whose value is not known
    /// here are not reported.
    ///
    /// ### Why it breaks
    /// `latest` moves. The same Dockerfile builds a different image on another machine, in CI,
    /// or after a builder's cache is cleared: a new major version of the language runtime, a
    /// different libc, packages that no longer install. Layer caches hide the change until
    /// they do not, and the failure then looks unrelated to any commit.
    ///
    /// ### How to confirm
    /// `docker image inspect --format '{{index .RepoDigests 0}}' <image>:latest` on two
    /// machines, or `docker history`, show different base layers for the same Dockerfile.
    ///
    /// ### Fix
    /// Pin a version tag (`python:3.12-slim`), and for reproducible builds the digest too
    /// (`python:3.12-slim@sha256:...`); let a bot (Renovate, Dependabot) move it on purpose.
    ///
    /// ### Prevention
    /// Reject `latest` and untagged bases in review or CI; update pinned bases deliberately.
    ///
    /// ### Example
    /// `FROM python` resolves to whatever `python:latest` is on the day of the build.
    pub static META = {
        id: "KS1506",
        name: "base-image-unpinned",
        cause: Cause::DevTagPolicy,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a FROM uses a base image without a version tag or with latest",
    }
}

pub struct BaseImageUnpinned;

impl Rule for BaseImageUnpinned {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for df in &cx.ev.build.dockerfiles {
            for st in &df.stages {
                let base = st.base.as_str();
                if st.base_stage.is_some()
                    || base.eq_ignore_ascii_case("scratch")
                    || base.contains('@')
                    || base.contains('$')
                    || base.is_empty()
                {
                    continue;
                }
                let tag = image_tag(base);
                if !matches!(tag, None | Some("latest")) {
                    continue;
                }
                let repo = image_repo(base);
                let what = match tag {
                    None => "has no tag, so it means latest",
                    Some(_) => "uses the tag latest",
                };
                let mut f = util::finding(
                    &META,
                    dockerfile_ref(df),
                    format!("{}:{}: base image {base} is not pinned", df.path, st.pos.line),
                    format!(
                        "Stage {} of {} is built FROM {base}, which {what}: every build may start from a \
                         different image.",
                        st.label(),
                        df.path
                    ),
                );
                f.location = Some(df.location(st.pos));
                f.evidence.push(quote_from(df, st));
                f.fix.push(Fix::cmd(
                    format!("Find the digest {repo}:latest points to today, to pin it (or pick a version tag)"),
                    format!(
                        "docker pull {repo}:latest && docker image inspect --format '{{{{index .RepoDigests 0}}}}' {repo}:latest"
                    ),
                ));
                f.fix.push(Fix::text(format!(
                    "Then write FROM {repo}:<version> or FROM {repo}@sha256:<digest> in {} line {}",
                    df.path, st.pos.line
                )));
                f.root_key = format!("base-unpinned:{}:{}", df.path, st.pos.line);
                out.push(f);
            }
        }
    }
}
