//! The inner loop (KS15xx): Dockerfiles, Skaffold configs and the developer's machine.
//! File rules are [`RuleKind::Static`](ks_core::RuleKind::Static) and point at the line of
//! the instruction or Skaffold field; `doctor --local` rules are
//! [`RuleKind::Local`](ks_core::RuleKind::Local) and read `ev.build.local`.

pub mod base_image_unpinned;
pub mod build_cache_output;
pub mod container_engine_down;
pub mod image_user_run_as_non_root;
pub mod kube_context_unreachable;
pub mod local_registry_network;
pub mod local_registry_stopped;
pub mod node_registry_mirror;
pub mod port_forward_orphaned;
pub mod reload_hook;
pub mod root_home_user;
pub mod sync_dest_stage;
pub mod tag_reuse;

use ks_core::build::{Artifact, Dockerfile, Instruction, InstructionKind, SkaffoldConfig, Stage, shell_words};
use ks_core::k8s_openapi::api::core::v1::{Container, PodSpec};
use ks_core::{Evidence, EvidenceItem, EvidenceSource, ObjectRef};

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[
    &build_cache_output::BuildCacheOverOutput,
    &root_home_user::RootHomeForNonRootUser,
    &sync_dest_stage::SyncDestOnlyInEarlierStage,
    &reload_hook::ReloadHookCannotWork,
    &tag_reuse::SkaffoldTagReused,
    &base_image_unpinned::BaseImageUnpinned,
    &image_user_run_as_non_root::ImageUserFailsRunAsNonRoot,
    &local_registry_stopped::LocalRegistryStopped,
    &local_registry_network::LocalRegistryOffKindNetwork,
    &node_registry_mirror::KindNodeRegistryMirrorMissing,
    &kube_context_unreachable::KubeContextUnreachable,
    &container_engine_down::ContainerEngineDown,
    &port_forward_orphaned::PortForwardOrphaned,
];

/// The object a Dockerfile finding names.
pub(crate) fn dockerfile_ref(df: &Dockerfile) -> ObjectRef {
    ObjectRef::new("Dockerfile", None, &df.path)
}

/// The object a Skaffold finding names.
pub(crate) fn skaffold_ref(c: &SkaffoldConfig) -> ObjectRef {
    ObjectRef::new("SkaffoldConfig", None, &c.path)
}

/// `path:line: TEXT` quoted from a Dockerfile.
pub(crate) fn quote(df: &Dockerfile, i: &Instruction) -> EvidenceItem {
    EvidenceItem::new(EvidenceSource::Manifest, format!("{}:{}: {}", df.path, i.pos.line, i.text), None)
}

/// `path:line: FROM base [AS name]` quoted from a Dockerfile.
pub(crate) fn quote_from(df: &Dockerfile, s: &Stage) -> EvidenceItem {
    let name = s.name.as_ref().map(|n| format!(" AS {n}")).unwrap_or_default();
    EvidenceItem::new(EvidenceSource::Manifest, format!("{}:{}: FROM {}{name}", df.path, s.pos.line, s.base_raw), None)
}

/// `path:line: text` quoted from a Skaffold config.
pub(crate) fn quote_skaffold(c: &SkaffoldConfig, line: u32, text: impl AsRef<str>) -> EvidenceItem {
    EvidenceItem::new(EvidenceSource::Manifest, format!("{}:{line}: {}", c.label(), text.as_ref()), None)
}

/// The Dockerfile a Skaffold artifact builds, when it was read too.
pub(crate) fn artifact_dockerfile<'a>(ev: &'a Evidence, a: &Artifact) -> Option<&'a Dockerfile> {
    a.uses_dockerfile.then(|| ev.build.dockerfile(&a.dockerfile_key)).flatten()
}

/// `repo` of `repo:tag@digest` (the tag is after the last `/`).
pub(crate) fn image_repo(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

/// The tag of an image reference, if it names one.
pub(crate) fn image_tag(image: &str) -> Option<&str> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let i = no_digest.rfind(':')?;
    (!no_digest[i..].contains('/')).then(|| &no_digest[i + 1..])
}

/// Whether a container image is the one a Skaffold artifact builds: same repository, or the
/// artifact's name under a registry prefix (`skaffold --default-repo`).
pub(crate) fn image_matches(container_image: &str, artifact_image: &str) -> bool {
    let (c, a) = (image_repo(container_image), image_repo(artifact_image));
    c == a || c.ends_with(&format!("/{a}"))
}

/// A container of a workload's pod template.
pub(crate) struct WorkloadContainer<'a> {
    pub workload: ObjectRef,
    pub pod: &'a PodSpec,
    pub container: &'a Container,
}

/// Every container of every Deployment, StatefulSet, DaemonSet, Job and CronJob template.
pub(crate) fn workload_containers(ev: &Evidence) -> Vec<WorkloadContainer<'_>> {
    let mut out = Vec::new();
    for d in &ev.deployments {
        if let Some(spec) = d.spec.template.spec.as_ref() {
            for c in spec.containers.iter() {
                out.push(WorkloadContainer { workload: wref("Deployment", &d.metadata), pod: spec, container: c });
            }
        }
    }
    for s in &ev.stateful_sets {
        if let Some(spec) = s.spec.template.spec.as_ref() {
            for c in spec.containers.iter() {
                out.push(WorkloadContainer { workload: wref("StatefulSet", &s.metadata), pod: spec, container: c });
            }
        }
    }
    for s in &ev.daemon_sets {
        if let Some(spec) = s.spec.template.spec.as_ref() {
            for c in spec.containers.iter() {
                out.push(WorkloadContainer { workload: wref("DaemonSet", &s.metadata), pod: spec, container: c });
            }
        }
    }
    for j in &ev.jobs {
        if let Some(spec) = j.spec.as_ref().and_then(|s| s.template.spec.as_ref()) {
            for c in spec.containers.iter() {
                out.push(WorkloadContainer { workload: wref("Job", &j.metadata), pod: spec, container: c });
            }
        }
    }
    for cj in &ev.cron_jobs {
        if let Some(spec) = cj.spec.job_template.spec.as_ref().and_then(|s| s.template.spec.as_ref()) {
            for c in spec.containers.iter() {
                out.push(WorkloadContainer { workload: wref("CronJob", &cj.metadata), pod: spec, container: c });
            }
        }
    }
    out
}

fn wref(kind: &str, meta: &ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> ObjectRef {
    ObjectRef::new(kind, meta.namespace.as_deref(), meta.name.as_deref().unwrap_or_default())
}

/// The simple commands of a shell script: split on unquoted `;`, `&`, `|` and newlines,
/// then into words; leading `VAR=value` assignments, `sudo`, `exec` and `env` are dropped.
pub(crate) fn simple_commands(script: &str) -> Vec<Vec<String>> {
    let mut pieces = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in script.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match (quote, c) {
            (_, '\\') if quote != Some('\'') => {
                cur.push(c);
                escaped = true;
            }
            (Some(q), c) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, ';' | '&' | '|' | '\n' | '(' | ')') => pieces.push(std::mem::take(&mut cur)),
            (None, c) => cur.push(c),
        }
    }
    pieces.push(cur);
    pieces
        .into_iter()
        .map(|p| {
            let mut words = shell_words(&p);
            while let Some(first) = words.first() {
                let assignment = first
                    .split_once('=')
                    .is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                if assignment || matches!(first.as_str(), "sudo" | "exec" | "env" | "then" | "do" | "else") {
                    words.remove(0);
                } else {
                    break;
                }
            }
            words
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The program a command word names (`/usr/bin/pkill` -> `pkill`).
pub(crate) fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// The command words a hook or CMD runs, looking through `sh -c '<script>'` and
/// `kubectl exec ... -- <cmd>`.
pub(crate) fn commands_of(words: &[String]) -> Vec<Vec<String>> {
    let Some(first) = words.first() else { return Vec::new() };
    match program(first) {
        "sh" | "bash" | "ash" | "dash" | "zsh" => {
            match words.iter().position(|w| w == "-c" || (w.starts_with('-') && w.ends_with('c') && w.len() <= 4)) {
                Some(i) => words.get(i + 1).map(|s| simple_commands(s)).unwrap_or_default(),
                None => vec![words.to_vec()],
            }
        }
        "kubectl" | "oc" => match words.iter().position(|w| w == "--") {
            Some(i) if words.iter().any(|w| w == "exec") => commands_of(&words[i + 1..]),
            _ => vec![words.to_vec()],
        },
        _ => vec![words.to_vec()],
    }
}

/// `ENV` value of `name` in effect at the end of a stage chain (the stage first).
pub(crate) fn env_in_chain<'a>(df: &'a Dockerfile, chain: &[usize], name: &str) -> Option<&'a str> {
    for &i in chain {
        let st = &df.stages[i];
        for ins in st.instructions.iter().rev() {
            if let InstructionKind::Env(pairs) = &ins.kind
                && let Some((_, v)) = pairs.iter().rev().find(|(k, _)| k == name)
            {
                return Some(v);
            }
        }
    }
    None
}

/// What is known about the base image's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BaseKind {
    /// No shell, no tools: `scratch`, distroless, Chainguard's non-`-dev` images.
    NoShell,
    /// A shell but no procps (`ps`, `pkill`, `pgrep`): Debian/Ubuntu base and `-slim` images.
    NoProcps,
    /// BusyBox (Alpine): `pkill`, `killall` applets are there.
    Busybox,
    Unknown,
}

pub(crate) fn base_kind(image: &str) -> BaseKind {
    let repo = image_repo(image).to_ascii_lowercase();
    let tag = image_tag(image).unwrap_or_default().to_ascii_lowercase();
    let name = repo.rsplit('/').next().unwrap_or(&repo);
    if repo == "scratch" || repo.contains("distroless") || (repo.starts_with("cgr.dev/") && !tag.contains("dev")) {
        return BaseKind::NoShell;
    }
    if name == "alpine" || name == "busybox" || tag.contains("alpine") {
        return BaseKind::Busybox;
    }
    if tag.contains("slim") || name == "debian" || name == "ubuntu" {
        return BaseKind::NoProcps;
    }
    BaseKind::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_parts() {
        assert_eq!(image_repo("localhost:5001/shop/api:dev@sha256:ab"), "localhost:5001/shop/api");
        assert_eq!(image_repo("localhost:5001/shop/api"), "localhost:5001/shop/api");
        assert_eq!(image_tag("localhost:5001/shop/api"), None);
        assert_eq!(image_tag("python:3.12-slim"), Some("3.12-slim"));
        assert!(image_matches("localhost:5001/crucible-platform/api-service:abc", "crucible-platform/api-service"));
        assert!(!image_matches("other/api-service:abc", "crucible-platform/api-service"));
        assert!(!image_matches("x/myapi-service", "api-service"));
    }

    #[test]
    fn commands_through_shells_and_exec() {
        let c = commands_of(&["sh".into(), "-c".into(), "cd /app && pkill -HUP uvicorn || true".into()]);
        assert_eq!(c, vec![vec!["cd", "/app"], vec!["pkill", "-HUP", "uvicorn"], vec!["true"]]);
        let c = commands_of(&["kubectl", "exec", "deploy/api", "--", "kill", "-HUP", "1"].map(String::from));
        assert_eq!(c, vec![vec!["kill", "-HUP", "1"]]);
        let c = simple_commands("A=1 sudo /usr/bin/cp 'a b' c; echo \"x;y\"");
        assert_eq!(c, vec![vec!["/usr/bin/cp", "a b", "c"], vec!["echo", "x;y"]]);
        assert_eq!(program("/usr/bin/pkill"), "pkill");
    }

    #[test]
    fn base_kinds() {
        assert_eq!(base_kind("python:3.12-slim"), BaseKind::NoProcps);
        assert_eq!(base_kind("gcr.io/distroless/python3-debian12:nonroot"), BaseKind::NoShell);
        assert_eq!(base_kind("cgr.dev/chainguard/python:latest-dev"), BaseKind::Unknown);
        assert_eq!(base_kind("python:3.12-alpine"), BaseKind::Busybox);
        assert_eq!(base_kind("python:3.12"), BaseKind::Unknown);
    }
}
