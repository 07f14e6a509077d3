//! The manifest source: YAML/JSON files, directories of them, Kustomize directories
//! (rendered with `kubectl kustomize`) and Helm charts (rendered with `helm template`), read
//! with the position of every document so findings can point at a file, line and column.
//!
//! Each object becomes both a [`ManifestDoc`] (the document as written, unknown fields
//! included, for schema checks and positions) and, when it decodes, a typed object in the
//! same evidence lists a snapshot fills, so the same rules read both.

mod render;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ks_core::manifest::{FieldPath, ManifestDoc, Positions};
use ks_core::yaml::DocCache;
use ks_core::{Evidence, Gap};
use rayon::prelude::*;
use serde_json::Value;

pub use render::{HelmOptions, RenderError};

use crate::SourceError;
use crate::objects::add_shared;

/// How `lint` reads its inputs.
#[derive(Clone, Debug)]
pub struct ManifestOptions {
    pub max_file_bytes: u64,
    pub helm: HelmOptions,
    pub typed: TypedObjects,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        ManifestOptions { max_file_bytes: 256 << 20, helm: HelmOptions::default(), typed: TypedObjects::Always }
    }
}

/// Whether each document is also decoded into the typed objects of [`Evidence`]
/// (`deployments`, `services`, ...), which the rules shared with snapshots read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypedObjects {
    Always,
    /// Only the workloads (Deployment, StatefulSet, DaemonSet, Job, CronJob), and only when
    /// build files (Dockerfile, skaffold.yaml) are among the inputs. The lint rules read
    /// the documents as written; only the build-file rules compare workloads' typed pod
    /// specs with Dockerfiles. The typed copies were a third of the memory of a large bundle.
    WorkloadsWithBuildFiles,
}

impl TypedObjects {
    /// Which documents of this run get typed copies, once the inputs are known.
    fn kinds(self, inputs: &[Input]) -> Typed {
        match self {
            TypedObjects::Always => Typed::All,
            TypedObjects::WorkloadsWithBuildFiles
                if inputs.iter().any(|i| matches!(i, Input::File(f, _) if crate::build::is_build_file(f))) =>
            {
                Typed::Workloads
            }
            TypedObjects::WorkloadsWithBuildFiles => Typed::None,
        }
    }
}

/// [`TypedObjects`] decided for one run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Typed {
    All,
    Workloads,
    None,
}

impl Typed {
    fn wants(self, kind: &str) -> bool {
        match self {
            Typed::All => true,
            Typed::Workloads => matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob"),
            Typed::None => false,
        }
    }
}

/// One thing to read: a file, or a directory rendered by a tool.
enum Input {
    /// A file, and the namespace a plain kustomization sets on its objects.
    File(PathBuf, Option<String>),
    Kustomization(PathBuf),
    Chart(PathBuf),
}

/// Read every manifest under `paths` (`-` is stdin). A path that does not exist, a chart
/// that cannot be rendered (no `helm` on PATH, a template error) or a kustomization that
/// does not build stop the run with an error naming it; unreadable files become gaps.
pub fn load_manifests(paths: &[PathBuf], opts: &ManifestOptions) -> Result<Evidence, SourceError> {
    let mut inputs = Vec::new();
    let mut stdin_text = None;
    for p in paths {
        if p.as_os_str() == "-" {
            let mut buf = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut buf)
                .map_err(|source| SourceError::Io { path: p.clone(), source })?;
            stdin_text = Some(buf);
            continue;
        }
        if !p.exists() {
            return Err(SourceError::NotFound { path: p.clone() });
        }
        collect(p, true, &mut inputs).map_err(|source| SourceError::Io { path: p.clone(), source })?;
    }
    let typed = opts.typed.kinds(&inputs);
    let cache = DocCache::default();
    let parts: Vec<Result<Evidence, SourceError>> = inputs
        .par_iter()
        .map(|input| {
            let mut ev = Evidence::default();
            match input {
                Input::File(f, ns) => {
                    load_file(f, opts, typed, &cache, &mut ev);
                    if let Some(ns) = ns {
                        set_namespace(&mut ev, ns);
                    }
                }
                Input::Kustomization(dir) => {
                    let text = render::kustomize(dir)?;
                    read_text(&format!("{} (kustomize)", dir.display()), Arc::from(text), typed, &cache, &mut ev);
                }
                Input::Chart(dir) => {
                    let text = render::helm_template(dir, &opts.helm)?;
                    read_text(&format!("{} (helm template)", dir.display()), Arc::from(text), typed, &cache, &mut ev);
                }
            }
            Ok(ev)
        })
        .collect();
    let mut evs = Vec::with_capacity(parts.len() + 1);
    for p in parts {
        evs.push(p?);
    }
    if let Some(text) = stdin_text {
        let mut ev = Evidence::default();
        read_text("<stdin>", Arc::from(text), typed, &cache, &mut ev);
        evs.push(ev);
    }
    let mut ev = Evidence::merge_all(evs);
    ev.finish();
    Ok(ev)
}

fn is_kustomization(dir: &Path) -> bool {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"].iter().any(|f| dir.join(f).is_file())
}

/// The files of a kustomization that only lists local manifest files under `resources`
/// and perhaps sets `namespace` (no patches, generators or name transforms): reading the
/// files gives what rendering gives, with real file positions.
fn plain_resources(dir: &Path) -> Option<(Vec<PathBuf>, Option<String>)> {
    let file = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .map(|f| dir.join(f))
        .find(|f| f.is_file())?;
    let text = std::fs::read_to_string(&file).ok()?;
    let (docs, err) = ks_core::yaml::parse_stream(&text);
    if err.is_some() || docs.len() != 1 {
        return None;
    }
    let Value::Object(m) = &docs[0].value else { return None };
    if m.keys().any(|k| !matches!(k.as_str(), "resources" | "apiVersion" | "kind" | "namespace")) {
        return None;
    }
    let namespace = match m.get("namespace") {
        None => None,
        Some(Value::String(ns)) => Some(ns.clone()),
        Some(_) => return None,
    };
    let mut files = Vec::new();
    for r in m.get("resources")?.as_array()? {
        let path = dir.join(r.as_str()?);
        if !path.is_file() || !is_manifest_file(&path) {
            return None;
        }
        files.push(path);
    }
    Some((files, namespace))
}

/// What `namespace:` in a kustomization does: every namespaced object gets it.
fn set_namespace(ev: &mut Evidence, ns: &str) {
    use ks_core::k8s_openapi::Metadata;
    fn set<T: Metadata<Ty = ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>>(
        items: &mut [T],
        ns: &str,
    ) {
        for o in items {
            o.metadata_mut().namespace = Some(ns.to_string());
        }
    }
    for d in ev.manifests.iter_mut().filter(|d| !CLUSTER_SCOPED.contains(&d.kind.as_str())) {
        d.namespace = Some(ns.to_string());
    }
    set(&mut ev.deployments, ns);
    set(&mut ev.stateful_sets, ns);
    set(&mut ev.daemon_sets, ns);
    set(&mut ev.replica_sets, ns);
    set(&mut ev.jobs, ns);
    set(&mut ev.cron_jobs, ns);
    set(&mut ev.services, ns);
    set(&mut ev.ingresses, ns);
    set(&mut ev.pvcs, ns);
    set(&mut ev.service_accounts, ns);
    set(&mut ev.endpoints, ns);
    for p in ev.pods.iter_mut() {
        p.metadata.namespace = Some(ns.to_string());
    }
    for s in ev.secrets.iter_mut() {
        s.metadata.namespace = Some(ns.to_string());
    }
    for c in ev.config_maps.iter_mut() {
        c.metadata.namespace = Some(ns.to_string());
    }
    for o in ev.other.iter_mut() {
        o.metadata.namespace = Some(ns.to_string());
    }
}

/// Kinds that have no namespace.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "CSIDriver",
    "RuntimeClass",
    "APIService",
];

fn is_chart(dir: &Path) -> bool {
    dir.join("Chart.yaml").is_file()
}

fn is_manifest_file(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

/// Files a directory walk reads, and rendered directories. A directory named explicitly is
/// rendered when it is a kustomization or chart; below it, charts are rendered (their
/// templates are not YAML) and everything else is read file by file.
fn collect(p: &Path, explicit: bool, out: &mut Vec<Input>) -> std::io::Result<()> {
    if p.is_dir() {
        if is_chart(p) {
            out.push(Input::Chart(p.to_path_buf()));
            return Ok(());
        }
        if explicit && is_kustomization(p) {
            match plain_resources(p) {
                // Only lists local files: read them, so findings point into the real files.
                Some((files, ns)) => out.extend(files.into_iter().map(|f| Input::File(f, ns.clone()))),
                None => out.push(Input::Kustomization(p.to_path_buf())),
            }
            return Ok(());
        }
        let walker = ignore::WalkBuilder::new(p).hidden(true).git_ignore(true).require_git(false).build();
        let mut charts: Vec<PathBuf> = Vec::new();
        let mut files = Vec::new();
        for entry in walker {
            let Ok(entry) = entry else { continue };
            let path = entry.path();
            if entry.file_type().is_some_and(|t| t.is_dir()) {
                if path != p && is_chart(path) {
                    charts.push(path.to_path_buf());
                }
                continue;
            }
            if charts.iter().any(|c| path.starts_with(c)) {
                continue;
            }
            // HOOK: build files
            if is_manifest_file(path) || crate::build::is_build_file(path) {
                files.push(path.to_path_buf());
            }
        }
        files.sort();
        charts.sort();
        out.extend(charts.into_iter().map(Input::Chart));
        out.extend(files.into_iter().map(|f| Input::File(f, None)));
    } else {
        out.push(Input::File(p.to_path_buf(), None));
    }
    Ok(())
}

fn gap(ev: &mut Evidence, file: &str, line: Option<u32>, message: impl Into<String>) {
    ev.gaps.push(Gap { file: Some(file.to_string()), line, message: message.into() });
}

fn load_file(path: &Path, opts: &ManifestOptions, typed: Typed, cache: &DocCache, ev: &mut Evidence) {
    let name = path.display().to_string();
    match std::fs::metadata(path) {
        Ok(m) if m.len() > opts.max_file_bytes => {
            return gap(
                ev,
                &name,
                None,
                format!("file is {} bytes, over the {} byte limit; skipped", m.len(), opts.max_file_bytes),
            );
        }
        Err(e) => return gap(ev, &name, None, format!("cannot read: {e}")),
        Ok(_) => {}
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return gap(ev, &name, None, format!("cannot read: {e}")),
    };
    // Dockerfiles and skaffold.yaml go to the build-file reader (KS15xx rules).
    if crate::build::is_build_file(path) {
        return crate::build::load_build_file(path, &bytes, ev);
    }
    match String::from_utf8(bytes) {
        Ok(text) => read_text(&name, Arc::from(text), typed, cache, ev),
        Err(e) => {
            let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|b| **b == b'\n').count();
            gap(ev, &name, Some(line as u32), "binary data, not UTF-8 text; skipped")
        }
    }
}

/// Read one YAML/JSON text (a file, stdin, rendered output) into `ev`, with the typed
/// objects.
pub fn load_text(name: &str, text: Arc<str>, ev: &mut Evidence) {
    read_text(name, text, Typed::All, &DocCache::default(), ev);
}

/// [`load_text`], with the typed objects `typed` asks for.
fn read_text(name: &str, text: Arc<str>, typed: Typed, cache: &DocCache, ev: &mut Evidence) {
    let file: Arc<str> = Arc::from(name);
    let from = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    // The memchr crate's vectorised search: std's `contains` was 1 % of a corpus run.
    if memchr::memchr(0, text[from..].as_bytes()).is_some() {
        return gap(ev, name, None, "binary data (NUL bytes); skipped");
    }
    let (docs, err) = ks_core::yaml::parse_stream_shared(&text, from, cache);
    let sources = if text.contains("# Source: ") { helm_sources(&text) } else { Vec::new() };
    let starts = ks_core::manifest::line_starts(&text, docs.iter().map(|d| d.start_line));
    for (doc, start_byte) in docs.into_iter().zip(starts) {
        let template = sources.iter().rev().find(|(line, _)| *line < doc.start_line).map(|(_, s)| s.clone());
        let value = doc.value;
        let Value::Object(map) = &*value else { continue };
        let is_list = map.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
            && map.get("items").is_some_and(Value::is_array);
        let base = ManifestDoc {
            file: file.clone(),
            text: text.clone(),
            start_line: doc.start_line,
            end_line: doc.end_line,
            start_byte,
            value: Value::Null.into(),
            api_version: String::new(),
            kind: String::new(),
            namespace: None,
            name: String::new(),
            template,
            duplicate_keys: doc.duplicate_keys,
            prefix: FieldPath::default(),
            positions: Positions::new(doc.simple),
        };
        if !is_list {
            add_doc(base, value, typed, ev);
            continue;
        }
        // The list itself is not kept: its items are taken, not copied (a list another
        // file repeats is copied).
        let Value::Object(mut map) = Arc::unwrap_or_clone(value) else { continue };
        let Some(Value::Array(items)) = map.remove("items") else { continue };
        for (i, item) in items.into_iter().enumerate() {
            let mut d = base.clone();
            d.prefix = FieldPath::default().key("items").index(i);
            d.duplicate_keys.clear();
            add_doc(d, Arc::new(item), typed, ev);
        }
    }
    if let Some(e) = err {
        gap(ev, name, Some(e.line), format!("YAML syntax error at column {}: {}", e.column, e.message));
    }
}

fn add_doc(mut d: ManifestDoc, value: Arc<Value>, typed: Typed, ev: &mut Evidence) {
    // Indexed, not `Value::pointer`: that allocates twice per path segment, for every
    // document of a large bundle.
    let text = |v: &Value| v.as_str().map(str::to_string);
    let (Some(kind), Some(api_version)) = (text(&value["kind"]), text(&value["apiVersion"])) else {
        // Not a Kubernetes object (a values file, a compose file): not ours to judge.
        return;
    };
    let meta = &value["metadata"];
    d.kind = kind;
    d.api_version = api_version;
    d.namespace = text(&meta["namespace"]);
    d.name = text(&meta["name"]).or_else(|| text(&meta["generateName"])).unwrap_or_default();
    // The typed copy is what the rules shared with snapshots read; a document that does not
    // decode is left to the schema rules, which say why.
    if typed.wants(&d.kind) {
        let _ = add_shared(ev, &d.kind, &d.api_version, &value);
    }
    d.value = value;
    ev.manifests.push(d);
}

/// `(line, template)` for every `# Source: chart/templates/x.yaml` comment Helm writes.
fn helm_sources(text: &str) -> Vec<(u32, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| l.strip_prefix("# Source: ").map(|s| (i as u32 + 1, s.trim().to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Evidence {
        let mut ev = Evidence::default();
        load_text("t.yaml", Arc::from(text), &mut ev);
        ev.finish();
        ev
    }

    #[test]
    fn documents_become_manifests_and_typed_objects() {
        let ev = load(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n",
        );
        assert_eq!(ev.manifests.len(), 2);
        assert_eq!(ev.deployments.len(), 1);
        assert_eq!(ev.services.len(), 1);
        assert_eq!(ev.manifests[1].start_line, 13);
        let loc = ev.manifests[0].locate(&FieldPath::parse("spec.template.spec.containers[0].image"));
        assert_eq!((loc.line, loc.column), (11, 32));
    }

    /// `lint` reads typed objects only when build files need them.
    #[test]
    fn typed_objects_only_with_build_files_when_asked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: web:1}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n";
        std::fs::write(dir.path().join("deploy.yaml"), deploy).expect("write");
        let opts = |typed| ManifestOptions { typed, ..ManifestOptions::default() };
        let paths = [dir.path().to_path_buf()];
        let load = |typed| load_manifests(&paths, &opts(typed)).expect("loads");
        let lint = load(TypedObjects::WorkloadsWithBuildFiles);
        assert_eq!((lint.manifests.len(), lint.deployments.len(), lint.services.len()), (2, 0, 0));
        let all = load(TypedObjects::Always);
        assert_eq!((all.deployments.len(), all.services.len()), (1, 1));
        std::fs::write(dir.path().join("Dockerfile"), "FROM alpine:3.20\nUSER 1000\n").expect("write");
        let lint = load(TypedObjects::WorkloadsWithBuildFiles);
        assert_eq!((lint.manifests.len(), lint.deployments.len(), lint.services.len()), (2, 1, 0));
        assert!(!lint.build.is_empty());
    }

    #[test]
    fn list_items_locate_inside_the_list() {
        let ev =
            load("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n");
        assert_eq!(ev.manifests.len(), 1);
        let loc = ev.manifests[0].locate(&FieldPath::parse("metadata.name"));
        assert_eq!((loc.line, loc.column), (7, 5));
    }

    #[test]
    fn helm_source_comments_name_the_template() {
        let ev = load(
            "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
        );
        assert_eq!(ev.manifests[0].template.as_deref(), Some("web/templates/svc.yaml"));
        assert_eq!(ev.manifests[1].template.as_deref(), Some("web/templates/cm.yaml"));
    }

    #[test]
    fn syntax_error_is_a_gap_with_its_line_and_earlier_documents_stay() {
        let ev = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [\n");
        assert_eq!(ev.manifests.len(), 1);
        assert_eq!(ev.gaps.len(), 1);
        assert!(ev.gaps[0].line.is_some_and(|l| l >= 5), "{:?}", ev.gaps);
    }
}
