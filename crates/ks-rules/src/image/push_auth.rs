use ks_core::k8s_openapi::api::core::v1::{Container, Pod};
use ks_core::{
    Cause, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule,
};

use super::Scope;
use crate::facts::ProblemKind;
use crate::util;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// In-cluster image builds (kaniko, BuildKit, buildah Jobs) whose push the registry
    /// refuses: `failed to push <image>: failed to authorize: ... 401 Unauthorized`, kaniko's
    /// `error checking push permissions`, `denied: requested access to the resource is
    /// denied`.
    ///
    /// ### Why it breaks
    /// The builder pushes with the Docker config it finds (kaniko: `/kaniko/.docker/config.json`;
    /// buildctl: `$DOCKER_CONFIG/config.json`). Either none is mounted, or the token in it is
    /// expired, belongs to another account, or is read-only: many registries issue pull-only
    /// tokens by default (DigitalOcean without `--read-write`, Docker Hub read-only access
    /// tokens, GitHub tokens without `write:packages`).
    ///
    /// ### How to confirm
    /// `kubectl logs job/<job>` shows the `401 Unauthorized` or `denied` line; decode the
    /// mounted Secret's `auths` keys to check it holds the registry host.
    ///
    /// ### Fix
    /// Create the Secret with a token that may push to the repository, mount it where the
    /// builder reads it, and re-run the build.
    ///
    /// ### Prevention
    /// Generate build credentials with write scope and a known expiry, refresh them before
    /// they expire (a CronJob for ECR's 12-hour tokens), and keep pull and push secrets apart.
    ///
    /// ### Example
    /// `failed to push registry.digitalocean.com/acme/api:v1766140572: failed to authorize:
    /// failed to fetch oauth token: unexpected status from GET request to
    /// https://api.digitalocean.com/v2/registry/auth?...: 401 Unauthorized`.
    pub static META = {
        id: "KS0110",
        name: "registry-push-unauthorized",
        cause: Cause::ImageAuth,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "an image build cannot push: the registry refuses the builder's credentials",
    }
}

pub struct RegistryPushUnauthorized;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Builder {
    Kaniko,
    Buildkit,
    Buildah,
    Other,
}

impl Rule for RegistryPushUnauthorized {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for p in util::problems(cx, ProblemKind::Crash, Cause::ImageAuth) {
            let pod = &ev.pods[p.pod];
            // A retry of the Job succeeded since: the failure is history.
            if job_of(ev, pod).is_some_and(job_succeeded) {
                continue;
            }
            let (ns, pod_name) = util::pod_names(ev, p.pod);
            let c = util::container_spec(ev, p.pod, &p.container);
            let builder = c.map(builder_of).unwrap_or(Builder::Other);
            let target = push_target(&p.message).or_else(|| c.and_then(destination_arg));
            let msg = p.message.to_ascii_lowercase();
            // `unauthorized` also appears in apps' own logs; report only what is a push.
            let pushing = msg.contains("push") || builder != Builder::Other || target.is_some();
            if !pushing {
                continue;
            }
            let host = target
                .as_deref()
                .map(|t| super::registry_host(t).to_string())
                .or_else(|| super::url_host(&p.message).map(str::to_string))
                .unwrap_or_else(|| "the registry".to_string());
            let status =
                if msg.contains("401") || msg.contains("unauthorized") || msg.contains("authentication required") {
                    "401 Unauthorized"
                } else if msg.contains("403") {
                    "403 Forbidden"
                } else {
                    "denied"
                };
            let w = ev.workload_of(p.pod).clone();
            let mounts = docker_config_mounts(pod, c);
            let what = target.clone().unwrap_or_else(|| format!("an image to {host}"));
            let refusal = match (mounts.first(), status) {
                (Some((s, path)), "401 Unauthorized") => format!(
                    "{host} rejects the push with 401 Unauthorized: the token in Secret {s} (mounted at {path}) is expired, belongs to another account, or is read-only (a pull-only token cannot push)."
                ),
                (None, "401 Unauthorized") => format!(
                    "{host} rejects the push with 401 Unauthorized: no registry credentials are mounted into container {}, so it pushes anonymously (or the token it finds elsewhere is expired, for another account, or read-only).",
                    p.container
                ),
                (Some((s, _)), _) => format!(
                    "{host} refuses the push ({status}): the token in Secret {s} may not write to this repository (a read-only token, or an account without push access)."
                ),
                (None, _) => format!(
                    "{host} refuses the push ({status}): the builder's credentials may not write to this repository (a read-only token, or an account without push access)."
                ),
            };
            let why = format!("{} {} builds and pushes {what}, but {refusal}", w.kind, w.name);
            let title = match &target {
                Some(t) => format!("{} {} cannot push {t}: {host} refuses its credentials", w.kind, w.name),
                None => format!("{} {} cannot push to {host}: the registry refuses its credentials", w.kind, w.name),
            };
            let mut f = util::problem_finding(&META, cx, p, title, why);
            f.root_key = format!("{}.push:{host}", Cause::ImageAuth.as_str());
            if let Some(c) = c {
                let mounted = match mounts.first() {
                    Some((s, path)) => format!("Secret {s} at {path}"),
                    None => "no registry credentials".to_string(),
                };
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Spec,
                    format!("container {}: image {}, mounts {mounted}", c.name, c.image.as_deref().unwrap_or_default()),
                    Some(w.clone()),
                ));
            }
            let secret = mounts.first().map(|(s, _)| s.clone()).unwrap_or_else(|| "registry-push".to_string());
            let reg_host = if host == "the registry" { "<registry>" } else { host.as_str() };
            if !mounts.is_empty() && reg_host != "<registry>" {
                f.fix.push(super::secret_hosts_cmd(ns, &secret));
            }
            f.fix.push(super::create_registry_secret(ns, &secret, reg_host, Scope::Push));
            if mounts.is_empty() {
                f.fix.push(Fix::text(match builder {
                    Builder::Kaniko => format!(
                        "Mount Secret {secret} into container {} at /kaniko/.docker (volume secret.items: key .dockerconfigjson, path config.json), where kaniko reads its push credentials",
                        p.container
                    ),
                    Builder::Buildkit => format!(
                        "Mount Secret {secret} into container {} (e.g. at /root/.docker, items: key .dockerconfigjson, path config.json) and set env DOCKER_CONFIG=/root/.docker so buildctl sends it",
                        p.container
                    ),
                    Builder::Buildah | Builder::Other => format!(
                        "Mount Secret {secret} into container {} as config.json (items: key .dockerconfigjson, path config.json) and point DOCKER_CONFIG (or REGISTRY_AUTH_FILE for buildah) at it",
                        p.container
                    ),
                }));
            }
            match w.kind.as_str() {
                "Job" => f.fix.push(Fix::cmd(
                    format!(
                        "Re-run the build: delete Job {} and submit it again (or let the pipeline re-submit it)",
                        w.name
                    ),
                    format!("kubectl {}delete job {}", w.ns_flag(), w.name),
                )),
                "CronJob" => f.fix.push(Fix::cmd(
                    "Re-run the build now",
                    format!("kubectl {}create job --from=cronjob/{} {}-manual", w.ns_flag(), w.name, w.name),
                )),
                _ => f.fix.extend(util::restart_workload(&w)),
            }
            f.fix.push(Fix::cmd(
                "Read the builder's log",
                format!("kubectl {}logs {pod_name} -c {} --tail=50", util::ns_flag(ns), p.container),
            ));
            out.push(f);
        }
    }
}

/// The Job that owns a pod, by its owner reference.
fn job_of<'a>(ev: &'a Evidence, pod: &Pod) -> Option<&'a ks_core::k8s_openapi::api::batch::v1::Job> {
    let owner = pod.metadata.owner_references.as_ref()?.iter().find(|o| o.kind == "Job")?;
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    ev.index.jobs.get(&(ns, owner.name.clone())).map(|&i| &ev.jobs[i])
}

/// Whether the Job completed (a later attempt pushed), so an earlier failed pod is history.
fn job_succeeded(job: &ks_core::k8s_openapi::api::batch::v1::Job) -> bool {
    job.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .flatten()
            .any(|c| (c.type_ == "Complete" || c.type_ == "SuccessCriteriaMet") && c.status == "True")
    })
}

fn builder_of(c: &Container) -> Builder {
    let image = c.image.as_deref().unwrap_or_default().to_ascii_lowercase();
    let cmd = c
        .command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .map(|s| s.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    if image.contains("kaniko") || cmd.contains("/kaniko/executor") {
        Builder::Kaniko
    } else if image.contains("buildkit") || cmd.contains("buildctl") {
        Builder::Buildkit
    } else if image.contains("buildah") || cmd.contains("buildah") {
        Builder::Buildah
    } else {
        Builder::Other
    }
}

/// The image a push error names: `failed to push X: ...`, kaniko's `push permission for "X"`
/// and `failed to push to destination X: ...`.
fn push_target(msg: &str) -> Option<String> {
    let take = |rest: &str| {
        let rest = rest.trim_start_matches('"');
        let end =
            rest.find(": ").or_else(|| rest.find('"')).or_else(|| rest.find(char::is_whitespace)).unwrap_or(rest.len());
        let t = rest[..end].trim_end_matches([':', ',', '"']);
        (!t.is_empty() && t.contains('/')).then(|| t.to_string())
    };
    for marker in ["failed to push to destination ", "push permission for ", "failed to push "] {
        if let Some(t) = msg.find(marker).and_then(|i| take(&msg[i + marker.len()..])) {
            return Some(t);
        }
    }
    None
}

/// The push destination in the builder's arguments: kaniko `--destination`, buildctl
/// `--output type=image,name=X,push=true`.
fn destination_arg(c: &Container) -> Option<String> {
    let words: Vec<&str> =
        c.command.iter().flatten().chain(c.args.iter().flatten()).flat_map(|s| s.split_whitespace()).collect();
    for (i, w) in words.iter().enumerate() {
        let value = if let Some(v) = w.strip_prefix("--destination=") {
            Some(v)
        } else if *w == "--destination" || *w == "-d" {
            words.get(i + 1).copied()
        } else if let Some(v) = w.strip_prefix("--output=") {
            Some(v)
        } else if *w == "--output" || *w == "-o" {
            words.get(i + 1).copied()
        } else {
            None
        };
        let Some(v) = value else { continue };
        // buildctl: `type=image,name=reg/app:1,push=true`.
        if v.contains("type=") {
            if let Some(name) = v.split(',').find_map(|kv| kv.strip_prefix("name=")) {
                return Some(name.trim_matches('"').to_string());
            }
            continue;
        }
        return Some(v.trim_matches('"').to_string());
    }
    None
}

/// Secret volumes mounted into the container at a Docker config path, as (secret, path).
fn docker_config_mounts(pod: &Pod, c: Option<&Container>) -> Vec<(String, String)> {
    let Some(c) = c else { return Vec::new() };
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.as_ref());
    let docker_config = c.env.iter().flatten().find(|e| e.name == "DOCKER_CONFIG").and_then(|e| e.value.clone());
    let mut out = Vec::new();
    for m in c.volume_mounts.iter().flatten() {
        let Some(secret) = volumes
            .and_then(|vs| vs.iter().find(|v| v.name == m.name))
            .and_then(|v| v.secret.as_ref())
            .and_then(|s| s.secret_name.clone())
        else {
            continue;
        };
        let path = &m.mount_path;
        let looks_like_config = path.contains(".docker")
            || path.ends_with("config.json")
            || docker_config.as_deref().is_some_and(|d| d.trim_end_matches('/') == path.trim_end_matches('/'))
            || secret.contains("registry")
            || secret.contains("docker")
            || secret.contains("regcred");
        if looks_like_config {
            out.push((secret, path.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::push_target;

    #[test]
    fn finds_the_push_target() {
        assert_eq!(
            push_target(
                "error: failed to solve: failed to push registry.digitalocean.com/acme/api:v17: failed to authorize: x"
            )
            .as_deref(),
            Some("registry.digitalocean.com/acme/api:v17")
        );
        assert_eq!(
            push_target(r#"error checking push permissions -- make sure you entered the correct tag name, and that you are authenticated correctly, and try again: checking push permission for "ghcr.io/acme/api:1.2": POST https://ghcr.io/v2/acme/api/blobs/uploads/: UNAUTHORIZED"#).as_deref(),
            Some("ghcr.io/acme/api:1.2")
        );
        assert_eq!(push_target("denied: requested access to the resource is denied"), None);
    }
}
