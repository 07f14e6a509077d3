//! `skaffold.yaml` (apiVersion `skaffold/v1*`, `v2*`, `v3*`, `v4beta*`) into
//! [`SkaffoldConfig`]s, with the line and column of every artifact, sync rule, hook and tag
//! policy.
//!
//! Only the parts the inner-loop rules read are modelled: `build.artifacts[]` (image,
//! context, docker/kaniko Dockerfile and target, build args, sync, build hooks),
//! `build.tagPolicy`, what gets deployed (`manifests.rawYaml`, `manifests.kustomize.paths`,
//! `deploy.kubectl.manifests`, `deploy.kustomize.paths`) and deploy hooks. Each profile that
//! replaces `build`, `deploy` or `manifests` becomes a config of its own, with the base
//! config's other sections, as Skaffold applies an activated profile.

use std::collections::BTreeMap;

use ks_core::Gap;
use ks_core::build::{
    Artifact, Hook, HookPhase, Pos, SkaffoldConfig, SyncRule, SyncSpec, TagPolicy, TagPolicyKind, join_path,
    normalize_path,
};
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawConfig {
    #[serde(default)]
    api_version: Option<Spanned<String>>,
    #[serde(default)]
    metadata: Option<RawMeta>,
    #[serde(default)]
    build: Option<RawBuild>,
    #[serde(default)]
    deploy: Option<RawDeploy>,
    #[serde(default)]
    manifests: Option<RawManifests>,
    #[serde(default)]
    profiles: Vec<RawProfile>,
}

#[derive(Deserialize, Default)]
struct RawMeta {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawBuild {
    #[serde(default)]
    artifacts: Vec<RawArtifact>,
    #[serde(default)]
    tag_policy: Option<Spanned<BTreeMap<String, Value>>>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct RawArtifact {
    image: Spanned<String>,
    #[serde(default)]
    context: Option<String>,
    #[serde(default)]
    docker: Option<RawDocker>,
    #[serde(default)]
    kaniko: Option<RawDocker>,
    #[serde(default)]
    sync: Option<Spanned<RawSync>>,
    #[serde(default)]
    hooks: Option<RawBuildHooks>,
    // Builders that do not read a Dockerfile.
    #[serde(default)]
    jib: Option<Value>,
    #[serde(default)]
    buildpacks: Option<Value>,
    #[serde(default)]
    ko: Option<Value>,
    #[serde(default)]
    bazel: Option<Value>,
    #[serde(default)]
    custom: Option<Value>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawDocker {
    #[serde(default, alias = "dockerfilePath")]
    dockerfile: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    build_args: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawSync {
    #[serde(default)]
    manual: Vec<Spanned<RawSyncRule>>,
    #[serde(default)]
    infer: Vec<String>,
    #[serde(default)]
    auto: Option<Value>,
    #[serde(default)]
    hooks: Option<RawHooks>,
}

#[derive(Deserialize, Default, Clone)]
struct RawSyncRule {
    #[serde(default)]
    src: String,
    #[serde(default)]
    dest: String,
    #[serde(default)]
    strip: Option<String>,
}

/// Build hooks are host commands directly under `before`/`after`.
#[derive(Deserialize, Default, Clone)]
struct RawBuildHooks {
    #[serde(default)]
    before: Vec<Spanned<RawCommand>>,
    #[serde(default)]
    after: Vec<Spanned<RawCommand>>,
}

/// Sync and deploy hooks wrap the command in `host:` or `container:`.
#[derive(Deserialize, Default, Clone)]
struct RawHooks {
    #[serde(default)]
    before: Vec<Spanned<RawHookItem>>,
    #[serde(default)]
    after: Vec<Spanned<RawHookItem>>,
}

#[derive(Deserialize, Default, Clone)]
struct RawHookItem {
    #[serde(default)]
    host: Option<RawCommand>,
    #[serde(default)]
    container: Option<RawCommand>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawCommand {
    #[serde(default)]
    command: Value,
    #[serde(default)]
    pod_name: Option<String>,
    #[serde(default)]
    container_name: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawDeploy {
    #[serde(default)]
    kubectl: Option<RawDeployer>,
    #[serde(default)]
    kustomize: Option<RawDeployer>,
    #[serde(default)]
    helm: Option<RawDeployer>,
    #[serde(default)]
    kpt: Option<RawDeployer>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawDeployer {
    #[serde(default)]
    manifests: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    hooks: Option<RawHooks>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawManifests {
    #[serde(default)]
    raw_yaml: Vec<String>,
    #[serde(default)]
    kustomize: Option<RawKustomize>,
}

#[derive(Deserialize, Default, Clone)]
struct RawKustomize {
    #[serde(default)]
    paths: Vec<String>,
}

#[derive(Deserialize, Default)]
struct RawProfile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    build: Option<RawBuild>,
    #[serde(default)]
    deploy: Option<RawDeploy>,
    #[serde(default)]
    manifests: Option<RawManifests>,
}

fn pos(l: &serde_saphyr::Location) -> Pos {
    Pos::new(l.line().min(u32::MAX as u64) as u32, l.column().min(u32::MAX as u64) as u32)
}

/// Parse every Skaffold document of a file. Documents of other kinds are ignored; a file
/// with YAML errors yields a gap with the line, never a panic.
pub fn parse_skaffold(path: &str, text: &str) -> (Vec<SkaffoldConfig>, Vec<Gap>) {
    let dir = match path.rfind('/') {
        Some(i) => normalize_path(&path[..i]),
        None => ".".to_string(),
    };
    let docs: Vec<RawConfig> = match serde_saphyr::from_multiple(text) {
        Ok(d) => d,
        Err(e) => {
            let line = e.location().map(|l| l.line().min(u32::MAX as u64) as u32);
            let message = e.to_string();
            // serde-saphyr may render a source snippet after the first line: keep the message.
            let first = message.lines().next().unwrap_or("invalid YAML").to_string();
            return (
                Vec::new(),
                vec![Gap {
                    file: Some(path.to_string()),
                    line,
                    message: format!("cannot read the Skaffold config: {first}"),
                }],
            );
        }
    };
    let mut out = Vec::new();
    for doc in docs {
        let Some(api) = doc.api_version.as_ref().filter(|a| a.value.starts_with("skaffold/")) else { continue };
        let base = SkaffoldConfig {
            path: path.to_string(),
            dir: dir.clone(),
            api_version: api.value.clone(),
            name: doc.metadata.as_ref().and_then(|m| m.name.clone()),
            profile: None,
            pos: pos(&api.referenced),
            ..SkaffoldConfig::default()
        };
        let mut cfg = base.clone();
        fill(&mut cfg, doc.build.as_ref(), doc.deploy.as_ref(), doc.manifests.as_ref());
        out.push(cfg);
        for p in &doc.profiles {
            if p.build.is_none() && p.deploy.is_none() && p.manifests.is_none() {
                continue;
            }
            let mut cfg = base.clone();
            cfg.profile = Some(p.name.clone());
            fill(
                &mut cfg,
                p.build.as_ref().or(doc.build.as_ref()),
                p.deploy.as_ref().or(doc.deploy.as_ref()),
                p.manifests.as_ref().or(doc.manifests.as_ref()),
            );
            out.push(cfg);
        }
    }
    (out, Vec::new())
}

fn fill(cfg: &mut SkaffoldConfig, build: Option<&RawBuild>, deploy: Option<&RawDeploy>, m: Option<&RawManifests>) {
    if let Some(b) = build {
        cfg.tag_policy = b.tag_policy.as_ref().map(tag_policy);
        cfg.artifacts = b.artifacts.iter().map(|a| artifact(&cfg.dir, a)).collect();
    }
    if let Some(m) = m {
        cfg.manifests.extend(m.raw_yaml.iter().cloned());
        cfg.manifests.extend(m.kustomize.iter().flat_map(|k| k.paths.iter().cloned()));
    }
    if let Some(d) = deploy {
        for deployer in [&d.kubectl, &d.kustomize, &d.helm, &d.kpt].into_iter().flatten() {
            cfg.manifests.extend(deployer.manifests.iter().cloned());
            cfg.manifests.extend(deployer.paths.iter().cloned());
            if let Some(h) = &deployer.hooks {
                cfg.deploy_hooks.extend(hooks(h, HookPhase::BeforeDeploy, HookPhase::AfterDeploy));
            }
        }
    }
}

fn artifact(dir: &str, a: &RawArtifact) -> Artifact {
    let context = a.context.clone().unwrap_or_else(|| ".".to_string());
    let docker = a.docker.as_ref().or(a.kaniko.as_ref());
    let other_builder =
        a.jib.is_some() || a.buildpacks.is_some() || a.ko.is_some() || a.bazel.is_some() || a.custom.is_some();
    let dockerfile = docker.and_then(|d| d.dockerfile.clone()).unwrap_or_else(|| "Dockerfile".to_string());
    let build_args = docker
        .and_then(|d| d.build_args.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    Artifact {
        image: a.image.value.clone(),
        pos: pos(&a.image.referenced),
        dockerfile_key: join_path(&join_path(dir, &context), &dockerfile),
        context,
        dockerfile,
        uses_dockerfile: !other_builder,
        target: docker.and_then(|d| d.target.clone()),
        build_args,
        sync: a.sync.as_ref().map(|s| sync(&s.value, pos(&s.referenced))),
        build_hooks: a
            .hooks
            .as_ref()
            .map(|h| {
                let mk = |phase, items: &[Spanned<RawCommand>]| -> Vec<Hook> {
                    items
                        .iter()
                        .map(|c| Hook {
                            phase,
                            in_container: false,
                            command: command(&c.value.command),
                            pod_name: None,
                            container_name: None,
                            pos: pos(&c.referenced),
                        })
                        .collect()
                };
                let mut v = mk(HookPhase::BeforeBuild, &h.before);
                v.extend(mk(HookPhase::AfterBuild, &h.after));
                v
            })
            .unwrap_or_default(),
    }
}

fn sync(s: &RawSync, at: Pos) -> SyncSpec {
    SyncSpec {
        pos: at,
        manual: s
            .manual
            .iter()
            .map(|r| SyncRule {
                src: r.value.src.clone(),
                dest: r.value.dest.clone(),
                strip: r.value.strip.clone().unwrap_or_default(),
                pos: pos(&r.referenced),
            })
            .collect(),
        infer: s.infer.clone(),
        // `auto: true` or `auto: {}` both turn it on.
        auto: matches!(&s.auto, Some(Value::Bool(true)) | Some(Value::Object(_))),
        hooks: s.hooks.as_ref().map(|h| hooks(h, HookPhase::BeforeSync, HookPhase::AfterSync)).unwrap_or_default(),
    }
}

fn hooks(h: &RawHooks, before: HookPhase, after: HookPhase) -> Vec<Hook> {
    let mut out = Vec::new();
    for (phase, items) in [(before, &h.before), (after, &h.after)] {
        for item in items {
            let (cmd, in_container) = match (&item.value.container, &item.value.host) {
                (Some(c), _) => (c, true),
                (None, Some(h)) => (h, false),
                (None, None) => continue,
            };
            out.push(Hook {
                phase,
                in_container,
                command: command(&cmd.command),
                pod_name: cmd.pod_name.clone(),
                container_name: cmd.container_name.clone(),
                pos: pos(&item.referenced),
            });
        }
    }
    out
}

/// A hook command: a list of strings (Skaffold's schema) or, leniently, one string.
fn command(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn tag_policy(t: &Spanned<BTreeMap<String, Value>>) -> TagPolicy {
    let kind_of = |k: &str| match k {
        "gitCommit" => TagPolicyKind::GitCommit,
        "sha256" => TagPolicyKind::Sha256,
        "envTemplate" => TagPolicyKind::EnvTemplate,
        "dateTime" => TagPolicyKind::DateTime,
        "inputDigest" => TagPolicyKind::InputDigest,
        "customTemplate" => TagPolicyKind::CustomTemplate,
        other => TagPolicyKind::Other(other.to_string()),
    };
    // Skaffold allows exactly one tagger; with none it defaults to gitCommit.
    let (kind, body) = match t.value.iter().next() {
        Some((k, v)) => (kind_of(k), v),
        None => (TagPolicyKind::GitCommit, &Value::Null),
    };
    let components = body
        .get("components")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    let name = c.get("name")?.as_str()?.to_string();
                    let tagger = c.as_object()?.keys().find(|k| *k != "name").map(|k| kind_of(k))?;
                    Some((name, tagger))
                })
                .collect()
        })
        .unwrap_or_default();
    TagPolicy {
        kind,
        template: body.get("template").and_then(Value::as_str).map(str::to_string),
        components,
        variant: body.get("variant").and_then(Value::as_str).map(str::to_string),
        pos: pos(&t.referenced),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: &str = r#"apiVersion: skaffold/v4beta11
kind: Config
metadata:
  name: crucible
build:
  tagPolicy:
    envTemplate:
      template: "dev"
  artifacts:
  - image: crucible-platform/api-service
    context: .
    docker:
      dockerfile: api/Dockerfile
      target: runtime
      buildArgs:
        CACHEBUST: "{{.TIMESTAMP}}"
        N: 3
    sync:
      manual:
      - src: "api/**/*.py"
        dest: /app
        strip: "api/"
      hooks:
        after:
        - container:
            command: ["pkill", "-HUP", "uvicorn"]
    hooks:
      before:
      - command: ["sh", "-c", "./hook.sh"]
        os: [darwin, linux]
  - image: jib-thing
    jib: {}
manifests:
  rawYaml:
  - k8s/*.yaml
deploy:
  kubectl:
    hooks:
      after:
      - host:
          command: ["sh", "-c", "kubectl rollout status deploy/api"]
profiles:
- name: dev
  build:
    tagPolicy:
      sha256: {}
    artifacts:
    - image: crucible-platform/api-service
      context: api
- name: only-activation
  activation:
  - command: dev
"#;

    #[test]
    fn reads_v4_artifacts_sync_hooks_tag_policy_and_profiles() {
        let (cfgs, gaps) = parse_skaffold("repo/skaffold.yaml", V4);
        assert!(gaps.is_empty(), "{gaps:?}");
        assert_eq!(cfgs.len(), 2);
        let c = &cfgs[0];
        assert_eq!(c.api_version, "skaffold/v4beta11");
        assert_eq!(c.name.as_deref(), Some("crucible"));
        assert_eq!(c.pos, Pos::new(1, 13));
        let tp = c.tag_policy.as_ref().unwrap();
        assert_eq!(tp.kind, TagPolicyKind::EnvTemplate);
        assert_eq!(tp.template.as_deref(), Some("dev"));
        assert_eq!(tp.pos.line, 7);
        let a = &c.artifacts[0];
        assert_eq!(a.image, "crucible-platform/api-service");
        assert_eq!(a.pos.line, 10);
        assert_eq!(a.dockerfile_key, "repo/api/Dockerfile");
        assert_eq!(a.target.as_deref(), Some("runtime"));
        assert!(a.build_args.contains(&("N".to_string(), "3".to_string())));
        let s = a.sync.as_ref().unwrap();
        assert_eq!(s.manual[0].dest, "/app");
        assert_eq!(s.manual[0].strip, "api/");
        assert_eq!(s.manual[0].pos.line, 20);
        assert_eq!(s.hooks[0].phase, HookPhase::AfterSync);
        assert!(s.hooks[0].in_container);
        assert_eq!(s.hooks[0].command, vec!["pkill", "-HUP", "uvicorn"]);
        assert_eq!(s.hooks[0].pos.line, 25);
        assert_eq!(a.build_hooks[0].phase, HookPhase::BeforeBuild);
        assert!(!c.artifacts[1].uses_dockerfile);
        assert_eq!(c.manifests, vec!["k8s/*.yaml"]);
        assert_eq!(c.deploy_hooks[0].phase, HookPhase::AfterDeploy);
        let p = &cfgs[1];
        assert_eq!(p.profile.as_deref(), Some("dev"));
        assert_eq!(p.tag_policy.as_ref().unwrap().kind, TagPolicyKind::Sha256);
        assert_eq!(p.artifacts[0].dockerfile_key, "repo/api/Dockerfile");
        // The profile keeps the base config's manifests.
        assert_eq!(p.manifests, vec!["k8s/*.yaml"]);
    }

    #[test]
    fn reads_v2_deploy_manifests_and_custom_template() {
        let text = "apiVersion: skaffold/v2beta29\nkind: Config\nbuild:\n  tagPolicy:\n    customTemplate:\n      template: \"{{.FOO}}_{{.BAR}}\"\n      components:\n      - name: FOO\n        dateTime: {}\n      - name: BAR\n        gitCommit:\n          variant: AbbrevCommitSha\n  artifacts:\n  - image: web\ndeploy:\n  kubectl:\n    manifests: [\"k8s/web.yaml\"]\n  kustomize:\n    paths: [overlays/dev]\n";
        let (cfgs, gaps) = parse_skaffold("skaffold.yaml", text);
        assert!(gaps.is_empty(), "{gaps:?}");
        let tp = cfgs[0].tag_policy.as_ref().unwrap();
        assert_eq!(tp.kind, TagPolicyKind::CustomTemplate);
        assert_eq!(
            tp.components,
            vec![("FOO".to_string(), TagPolicyKind::DateTime), ("BAR".to_string(), TagPolicyKind::GitCommit)]
        );
        assert_eq!(cfgs[0].manifests, vec!["k8s/web.yaml", "overlays/dev"]);
        assert_eq!(cfgs[0].artifacts[0].dockerfile_key, "Dockerfile");
    }

    #[test]
    fn other_documents_are_ignored_and_bad_yaml_is_a_gap() {
        let (cfgs, gaps) = parse_skaffold("skaffold.yaml", "apiVersion: v1\nkind: ConfigMap\n");
        assert!(cfgs.is_empty() && gaps.is_empty());
        let (cfgs, gaps) = parse_skaffold("skaffold.yaml", "apiVersion: skaffold/v4beta1\nbuild: [\n");
        assert!(cfgs.is_empty());
        assert_eq!(gaps.len(), 1);
        assert!(gaps[0].line.is_some(), "{gaps:?}");
    }
}
