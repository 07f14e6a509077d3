//! The inner loop's inputs: parsed Dockerfiles/Containerfiles, Skaffold configs, and (for
//! `kubesleuth doctor --local`) facts about the developer's machine.
//!
//! Sources fill these; rules only read. Every instruction and every Skaffold field a finding
//! may point at carries its 1-based line and column, so findings can say `Dockerfile:12:1`.

use crate::Location;

/// A 1-based line and column in a build file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const fn new(line: u32, column: u32) -> Pos {
        Pos { line, column }
    }
}

/// Everything the inner loop is made of.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildFiles {
    pub dockerfiles: Vec<Dockerfile>,
    pub skaffold: Vec<SkaffoldConfig>,
    /// The developer's machine, when `doctor --local` probed it.
    pub local: Option<LocalEnv>,
}

impl BuildFiles {
    pub fn merge(&mut self, other: BuildFiles) {
        self.dockerfiles.extend(other.dockerfiles);
        self.skaffold.extend(other.skaffold);
        if other.local.is_some() {
            self.local = other.local;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.dockerfiles.is_empty() && self.skaffold.is_empty() && self.local.is_none()
    }

    /// The Dockerfile loaded from this (lexically normalised) path.
    pub fn dockerfile(&self, key: &str) -> Option<&Dockerfile> {
        self.dockerfiles.iter().find(|d| d.key == key)
    }
}

// ---------------------------------------------------------------------------------------
// Dockerfiles

/// A parsed Dockerfile or Containerfile.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dockerfile {
    /// The path as the user gave it (for messages).
    pub path: String,
    /// The path lexically normalised (see [`normalize_path`]), to match Skaffold's references.
    pub key: String,
    /// `# syntax=` directive.
    pub syntax: Option<String>,
    /// The escape character (`\` unless `# escape=` says otherwise).
    pub escape: char,
    /// `ARG`s before the first `FROM`: name and default.
    pub global_args: Vec<(String, Option<String>)>,
    pub stages: Vec<Stage>,
}

impl Dockerfile {
    pub fn location(&self, pos: Pos) -> Location {
        Location { file: self.path.clone(), line: pos.line, column: pos.column, ..Location::default() }
    }

    /// A stage by name (case-insensitive, as BuildKit compares them) or index.
    pub fn stage_index(&self, name_or_index: &str) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name_or_index)))
            .or_else(|| name_or_index.parse::<usize>().ok().filter(|i| *i < self.stages.len()))
    }

    /// The stage that becomes the image: `target` when given and known, else the last one.
    pub fn final_stage(&self, target: Option<&str>) -> Option<&Stage> {
        match target.and_then(|t| self.stage_index(t)) {
            Some(i) => self.stages.get(i),
            None => self.stages.last(),
        }
    }

    /// The external image a stage finally builds on, following `FROM <stage>` links.
    pub fn external_base(&self, stage: usize) -> Option<&Stage> {
        let mut i = stage;
        // A stage can only name an earlier stage, so this walk ends; the bound guards
        // against a malformed model built by hand.
        for _ in 0..=self.stages.len() {
            let s = self.stages.get(i)?;
            match s.base_stage {
                Some(b) if b < i => i = b,
                Some(_) => return None,
                None => return Some(s),
            }
        }
        None
    }

    /// The stages a stage builds on (itself first), following `FROM <stage>` links.
    pub fn stage_chain(&self, stage: usize) -> Vec<usize> {
        let mut out = vec![stage];
        let mut i = stage;
        while let Some(b) = self.stages.get(i).and_then(|s| s.base_stage) {
            if b >= i {
                break;
            }
            out.push(b);
            i = b;
        }
        out
    }
}

/// One `FROM` and the instructions up to the next.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stage {
    pub index: usize,
    /// `AS name`.
    pub name: Option<String>,
    /// The base image with build arguments expanded (unknown ones are kept as written).
    pub base: String,
    /// The base image as written.
    pub base_raw: String,
    /// The earlier stage this one is built `FROM`, if any.
    pub base_stage: Option<usize>,
    pub platform: Option<String>,
    /// Position of the `FROM`.
    pub pos: Pos,
    pub instructions: Vec<Instruction>,
}

impl Stage {
    /// `name` or `#index` for messages.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("#{}", self.index),
        }
    }

    /// The last `USER` of this stage, if any.
    pub fn last_user(&self) -> Option<(&UserSpec, &Instruction)> {
        self.instructions.iter().rev().find_map(|i| match &i.kind {
            InstructionKind::User(u) => Some((u, i)),
            _ => None,
        })
    }

    /// The command the image starts: the last `ENTRYPOINT` and `CMD` of the stage.
    pub fn start_command(&self) -> (Option<&Instruction>, Option<&Instruction>) {
        let last = |f: fn(&InstructionKind) -> bool| self.instructions.iter().rev().find(|i| f(&i.kind));
        (last(|k| matches!(k, InstructionKind::Entrypoint(_))), last(|k| matches!(k, InstructionKind::Cmd(_))))
    }
}

/// One instruction.
#[derive(Clone, Debug, PartialEq)]
pub struct Instruction {
    /// Position of the keyword.
    pub pos: Pos,
    /// The keyword in upper case (`RUN`, `COPY`, ...).
    pub keyword: String,
    /// The instruction on one line: continuations joined, heredoc bodies left out, cut to a
    /// readable length. For quoting as evidence.
    pub text: String,
    pub kind: InstructionKind,
    /// `WORKDIR` in effect (absolute; `/` when none was set).
    pub workdir: String,
    /// `USER` in effect when the instruction runs (`None`: the base image's user).
    pub user: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum InstructionKind {
    Run(Run),
    /// `COPY` and `ADD`.
    Copy(Copy),
    User(UserSpec),
    /// The new working directory, absolute.
    Workdir(String),
    /// Variables set, values expanded.
    Env(Vec<(String, String)>),
    /// Build arguments declared in a stage: name and default.
    Arg(Vec<(String, Option<String>)>),
    Cmd(CommandLine),
    Entrypoint(CommandLine),
    Shell(Vec<String>),
    /// Anything else (`LABEL`, `EXPOSE`, `HEALTHCHECK`, `ONBUILD`, ...).
    Other,
}

/// `USER user[:group]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserSpec {
    pub user: String,
    pub group: Option<String>,
}

impl UserSpec {
    /// Whether this names root (`root` or uid 0).
    pub fn is_root(&self) -> bool {
        self.user == "root" || self.user == "0"
    }
    /// Whether the user is a number, so the kubelet can check it against `runAsNonRoot`.
    pub fn is_numeric(&self) -> bool {
        !self.user.is_empty() && self.user.bytes().all(|b| b.is_ascii_digit())
    }
}

/// A command in exec form (`["a", "b"]`) or shell form (`a b`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandLine {
    Exec(Vec<String>),
    /// Continuations joined; run by the stage's `SHELL` (default `/bin/sh -c`).
    Shell(String),
}

impl CommandLine {
    /// Whitespace-separated words; shell quoting is honoured for simple `'..'`/`".."` quotes.
    pub fn words(&self) -> Vec<String> {
        match self {
            CommandLine::Exec(v) => v.clone(),
            CommandLine::Shell(s) => shell_words(s),
        }
    }

    /// The command as one string.
    pub fn display(&self) -> String {
        match self {
            CommandLine::Exec(v) => v.join(" "),
            CommandLine::Shell(s) => s.clone(),
        }
    }
}

/// Split a shell command into words, honouring simple quotes and backslash escapes. Not a
/// shell: no expansion, operators stay glued to words unless surrounded by spaces.
pub fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                has = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                has = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        _ => cur.push(c),
                    }
                }
            }
            '\\' => {
                has = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => {
                has = true;
                cur.push(c);
            }
        }
    }
    if has {
        out.push(cur);
    }
    out
}

/// `RUN`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    pub command: Option<CommandLine>,
    pub mounts: Vec<Mount>,
    pub heredocs: Vec<Heredoc>,
    /// `--network=`.
    pub network: Option<String>,
}

impl Run {
    /// The shell text the step runs: the command and every heredoc body.
    pub fn script(&self) -> String {
        let mut s = self.command.as_ref().map(CommandLine::display).unwrap_or_default();
        for h in &self.heredocs {
            s.push('\n');
            s.push_str(&h.body);
        }
        s
    }
}

/// A heredoc (`<<EOF ... EOF`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Heredoc {
    pub delimiter: String,
    pub body: String,
    /// False when the delimiter was quoted, so the body is not expanded.
    pub expand: bool,
}

/// `RUN --mount=...`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mount {
    /// `type=` (`bind` when absent, as BuildKit defaults).
    pub kind: String,
    /// `target=`/`dst=`/`destination=`, absolute (resolved against `WORKDIR`).
    pub target: String,
    pub source: Option<String>,
    pub from: Option<String>,
    pub id: Option<String>,
    /// The flag as written.
    pub raw: String,
}

/// `COPY` or `ADD`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copy {
    pub add: bool,
    /// `--from=` (a stage name/index or an image).
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    /// Sources as written (build arguments expanded); heredoc sources as `<<NAME`.
    pub sources: Vec<String>,
    /// Destination, absolute (resolved against `WORKDIR`), keeping a trailing `/`.
    pub dest: String,
}

// ---------------------------------------------------------------------------------------
// Skaffold

/// One Skaffold configuration: a document of `skaffold.yaml`, or one of its profiles with
/// the profile's sections in place of the base ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SkaffoldConfig {
    pub path: String,
    /// The directory the file is in, lexically normalised (`.` for the current one).
    pub dir: String,
    pub api_version: String,
    /// `metadata.name`.
    pub name: Option<String>,
    /// The profile these sections come from.
    pub profile: Option<String>,
    pub pos: Pos,
    pub artifacts: Vec<Artifact>,
    pub tag_policy: Option<TagPolicy>,
    /// Manifests it deploys: `manifests.rawYaml`, `deploy.kubectl.manifests`, kustomize
    /// paths, as written.
    pub manifests: Vec<String>,
    /// `deploy.*.hooks`.
    pub deploy_hooks: Vec<Hook>,
}

impl SkaffoldConfig {
    pub fn location(&self, pos: Pos) -> Location {
        Location { file: self.path.clone(), line: pos.line, column: pos.column, ..Location::default() }
    }

    /// `path` or `path (profile dev)` for messages.
    pub fn label(&self) -> String {
        match &self.profile {
            Some(p) => format!("{} (profile {p})", self.path),
            None => self.path.clone(),
        }
    }
}

/// `build.artifacts[]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Artifact {
    pub image: String,
    pub pos: Pos,
    /// `context` (default `.`).
    pub context: String,
    /// `docker.dockerfile` (default `Dockerfile`), relative to the context.
    pub dockerfile: String,
    /// Where that Dockerfile is, lexically normalised, to look it up in [`BuildFiles`].
    pub dockerfile_key: String,
    /// Whether the artifact is built from a Dockerfile (docker, kaniko, buildpacks-less).
    pub uses_dockerfile: bool,
    /// `docker.target`.
    pub target: Option<String>,
    pub build_args: Vec<(String, String)>,
    pub sync: Option<SyncSpec>,
    /// `hooks.before`/`hooks.after` of the build.
    pub build_hooks: Vec<Hook>,
}

/// `sync:` of an artifact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncSpec {
    pub pos: Pos,
    pub manual: Vec<SyncRule>,
    /// `infer:` patterns.
    pub infer: Vec<String>,
    pub auto: bool,
    pub hooks: Vec<Hook>,
}

/// `sync.manual[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncRule {
    pub src: String,
    pub dest: String,
    pub strip: String,
    pub pos: Pos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HookPhase {
    BeforeBuild,
    AfterBuild,
    BeforeSync,
    AfterSync,
    BeforeDeploy,
    AfterDeploy,
}

impl HookPhase {
    pub const fn as_str(self) -> &'static str {
        match self {
            HookPhase::BeforeBuild => "before-build",
            HookPhase::AfterBuild => "after-build",
            HookPhase::BeforeSync => "before-sync",
            HookPhase::AfterSync => "after-sync",
            HookPhase::BeforeDeploy => "before-deploy",
            HookPhase::AfterDeploy => "after-deploy",
        }
    }
}

/// A lifecycle hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    pub phase: HookPhase,
    /// Runs inside the container (`container:`) rather than on the host.
    pub in_container: bool,
    pub command: Vec<String>,
    pub pod_name: Option<String>,
    pub container_name: Option<String>,
    pub pos: Pos,
}

/// `build.tagPolicy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagPolicy {
    pub kind: TagPolicyKind,
    /// `envTemplate.template` / `customTemplate.template`.
    pub template: Option<String>,
    /// `customTemplate.components[]`: name and the tagger it uses.
    pub components: Vec<(String, TagPolicyKind)>,
    /// `gitCommit.variant`.
    pub variant: Option<String>,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagPolicyKind {
    GitCommit,
    Sha256,
    EnvTemplate,
    DateTime,
    InputDigest,
    CustomTemplate,
    /// A tagger this model does not know.
    Other(String),
}

impl TagPolicyKind {
    pub fn as_str(&self) -> &str {
        match self {
            TagPolicyKind::GitCommit => "gitCommit",
            TagPolicyKind::Sha256 => "sha256",
            TagPolicyKind::EnvTemplate => "envTemplate",
            TagPolicyKind::DateTime => "dateTime",
            TagPolicyKind::InputDigest => "inputDigest",
            TagPolicyKind::CustomTemplate => "customTemplate",
            TagPolicyKind::Other(s) => s,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The developer's machine

/// What `doctor --local` found. Facts only; rules decide what is wrong.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalEnv {
    /// The current kube context, when kubectl is present.
    pub kube: Option<KubeContext>,
    /// docker / podman clients found and whether their engine answers.
    pub engines: Vec<EngineStatus>,
    /// kind clusters (`kind get clusters`, or guessed from a `kind-*` context).
    pub kind_clusters: Vec<KindCluster>,
    /// The local registry container, when one was looked for and found.
    pub registry: Option<RegistryContainer>,
    /// Whether the engine has a network named `kind` (None: not checked).
    pub kind_network: Option<bool>,
    /// `kubectl port-forward` processes.
    pub port_forwards: Vec<PortForward>,
    /// What was checked, what was skipped and why (each check is independent).
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubeContext {
    pub name: String,
    /// The server answered `kubectl version` (None: not checked).
    pub reachable: Option<bool>,
    /// kubectl's error when it did not.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineStatus {
    /// `docker` or `podman`.
    pub tool: String,
    pub running: bool,
    /// The client's error when the engine did not answer.
    pub error: Option<String>,
    /// Server version, when it answered.
    pub version: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindCluster {
    pub name: String,
    /// Node containers and what their containerd says about the local registry.
    pub nodes: Vec<KindNode>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindNode {
    pub name: String,
    /// `/etc/containerd/certs.d/<host:port>/hosts.toml` as read from the node (None: absent).
    pub hosts_toml: Option<String>,
    /// Whether `/etc/containerd/config.toml` configures a mirror for the registry host
    /// (the older `registry.mirrors` way); None when not read.
    pub config_mirror: Option<bool>,
    /// Why the node could not be read, if it could not.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistryContainer {
    /// Container name (`kind-registry`).
    pub name: String,
    /// `docker` or `podman`.
    pub tool: String,
    /// `State.Status`: running, exited, created, paused...
    pub status: String,
    pub running: bool,
    pub exit_code: Option<i64>,
    /// Networks it is attached to.
    pub networks: Vec<String>,
    /// `host:port` published for the registry's port 5000 (e.g. `127.0.0.1:5001`).
    pub host_port: Option<String>,
    /// The port inside the container (5000 for `registry:2`).
    pub container_port: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortForward {
    pub pid: u32,
    pub ppid: Option<u32>,
    /// The command line.
    pub command: String,
    /// Local ports it listens on (from the socket table, else from its arguments).
    pub ports: Vec<u16>,
}

// ---------------------------------------------------------------------------------------
// Paths

/// Lexically normalise a `/`-separated path: drop `.` and empty components, fold `..`.
/// Keeps a leading `/`; an empty relative path becomes `.`.
pub fn normalize_path(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !abs {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// `base/rel` normalised; `rel` wins when absolute.
pub fn join_path(base: &str, rel: &str) -> String {
    if rel.starts_with('/') || base.is_empty() || base == "." {
        normalize_path(rel)
    } else {
        normalize_path(&format!("{base}/{rel}"))
    }
}

/// Whether `path` is `dir` or lies below it (both absolute, normalised).
pub fn path_within(path: &str, dir: &str) -> bool {
    let (p, d) = (normalize_path(path), normalize_path(dir));
    d == "/" || p == d || p.strip_prefix(&d).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_nest() {
        assert_eq!(normalize_path("./a/../b//c/"), "b/c");
        assert_eq!(normalize_path("/app/./target/.."), "/app");
        assert_eq!(normalize_path(""), ".");
        assert_eq!(normalize_path("../x"), "../x");
        assert_eq!(join_path("repo", "./api/Dockerfile"), "repo/api/Dockerfile");
        assert_eq!(join_path(".", "Dockerfile"), "Dockerfile");
        assert_eq!(join_path("/app", "/etc"), "/etc");
        assert!(path_within("/app/target/release", "/app/target"));
        assert!(path_within("/app/target", "/app/target/"));
        assert!(!path_within("/app/targets", "/app/target"));
        assert!(path_within("/x", "/"));
    }

    #[test]
    fn shell_words_honour_quotes() {
        assert_eq!(
            shell_words(r#"pkill -HUP -f "uvicorn main:app" 'a b' c\ d"#),
            vec!["pkill", "-HUP", "-f", "uvicorn main:app", "a b", "c d"]
        );
        assert!(shell_words("   ").is_empty());
    }

    #[test]
    fn stage_chains_follow_from_links() {
        let mut d = Dockerfile::default();
        for (i, base) in [None, Some(0), Some(1)].into_iter().enumerate() {
            d.stages.push(Stage { index: i, base_stage: base, name: Some(format!("s{i}")), ..Stage::default() });
        }
        assert_eq!(d.stage_chain(2), vec![2, 1, 0]);
        assert_eq!(d.external_base(2).map(|s| s.index), Some(0));
        assert_eq!(d.stage_index("S1"), Some(1));
        assert_eq!(d.stage_index("2"), Some(2));
        assert_eq!(d.final_stage(Some("s0")).map(|s| s.index), Some(0));
        assert_eq!(d.final_stage(None).map(|s| s.index), Some(2));
    }
}
