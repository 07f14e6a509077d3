use std::collections::{BTreeMap, BTreeSet, HashMap};

use ks_core::registry::ImageName;
use ks_core::{Cause, EvidenceItem, EvidenceSource, Fix, ObjectKey, RuleKind, Severity, declare_rule};
use serde_json::{Value, json};

use super::pod_templates::{ContainerAt, PodTemplate, yaml_block};
use super::{doc_finding, doc_name};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers of one role where some get pod facts from the downward API
    /// (`POD_NAME` from `fieldRef: metadata.name`, `POD_NAMESPACE` from `metadata.namespace`,
    /// `NODE_NAME` from `spec.nodeName`, `POD_IP` from `status.podIP`, ...) and others lack
    /// the variable altogether. Containers share a role when they run the same image
    /// repository with the same `command` (one sidecar declared in several workloads, or
    /// sibling containers of one pod), or have the same name across workloads and run images
    /// named after it (a sidecar `angzarr` running `angzarr-aggregate`, `angzarr-saga`, ...).
    ///
    /// ### Why it breaks
    /// Nothing fails at deploy time: the container starts, reads an empty variable and
    /// silently skips what needed it (registering itself, annotating its pod, leader
    /// election, per-pod metrics labels). The copies of the sidecar that have the variable
    /// work, the others quietly do not, so the symptom looks like a bug in the app.
    ///
    /// ### How to confirm
    /// `kubectl exec <pod> -c <container> -- env | grep POD_` shows the variable in one
    /// workload's container and not in the other's; `kubectl get deploy <name>
    /// -o jsonpath='{.spec.template.spec.containers[*].env}'` shows where it is declared.
    ///
    /// ### Fix
    /// Add the same `env` entries (with `valueFrom.fieldRef`) to every container of the
    /// role; the finding prints the exact block.
    ///
    /// ### Prevention
    /// Declare a sidecar once (a Helm named template or a Kustomize component) and include
    /// it in every workload instead of copying it per workload.
    ///
    /// ### Example
    /// Seed 000 (S0.3): the aggregate sidecars of a Helm chart had `POD_NAME` and
    /// `POD_NAMESPACE`, the saga, projector and process-manager sidecars did not, so only
    /// aggregates wrote their descriptor annotation and the topology service never saw the
    /// others.
    pub static META = {
        id: "KS1202",
        name: "sibling-missing-downward-env",
        cause: Cause::WorkloadMissingEnv,
        severity: Severity::Warning,
        kind: RuleKind::Static,
        summary: "a container lacks a downward-API env variable that other containers of its role set",
    }
}

pub struct SiblingMissingDownwardEnv;

/// One container that takes part in the comparison.
struct Member<'a> {
    tpl: usize,
    container: ContainerAt<'a>,
    /// The object and container it is (two documents for one object are one member twice).
    identity: (ObjectKey, String),
    /// Every env name the container declares.
    names: BTreeSet<&'a str>,
    /// Its downward-API variables: name → the whole env entry.
    downward: BTreeMap<&'a str, &'a Value>,
    /// Its command, args and env values as text, for `$(VAR)` references (written out only
    /// for the few members that lack a variable, not for every container of a large bundle).
    expanded: std::cell::OnceCell<String>,
}

impl Member<'_> {
    /// Whether the container spells `$(VAR)` in its command, args or env values.
    fn expands(&self, var: &str) -> bool {
        let c = &self.container.value;
        let text = self.expanded.get_or_init(|| [&c["command"], &c["args"], &c["env"]].map(|v| v.to_string()).concat());
        text.contains(&format!("$({var})"))
    }
}

impl Member<'_> {
    fn label(&self, tpls: &[PodTemplate<'_>]) -> String {
        format!("{} in {}", self.container.name, doc_name(tpls[self.tpl].doc))
    }
}

/// Image repository (`host/repo`) without tag or digest.
fn repository(image: &str) -> Option<String> {
    ImageName::parse(image).map(|n| n.qualified_repository())
}

/// The last path component of the image repository (`angzarr-saga` of
/// `localhost:5001/angzarr-saga:dev`).
fn image_basename(image: &str) -> Option<String> {
    let n = ImageName::parse(image)?;
    n.repository.rsplit('/').next().map(str::to_ascii_lowercase)
}

fn members<'a>(tpls: &[PodTemplate<'a>]) -> Vec<Member<'a>> {
    let mut out = Vec::new();
    for (t, tpl) in tpls.iter().enumerate() {
        for c in tpl.containers().into_iter().filter(ContainerAt::runs_with_app) {
            let env = c.value["env"].as_array().map(Vec::as_slice).unwrap_or_default();
            let names = env.iter().filter_map(|e| e["name"].as_str()).collect();
            let downward = env
                .iter()
                .filter(|e| e["valueFrom"]["fieldRef"]["fieldPath"].is_string())
                .filter_map(|e| Some((e["name"].as_str()?, e)))
                .collect();
            let identity = (tpl.doc.key(), c.name.to_string());
            out.push(Member { tpl: t, container: c, identity, names, downward, expanded: Default::default() });
        }
    }
    out
}

/// How many other containers a finding names.
const MAX_NAMED: usize = 5;

/// Container names too generic to say two containers play one role (`app` runs anything).
const GENERIC_NAMES: &[&str] =
    &["app", "main", "server", "web", "api", "worker", "container", "service", "backend", "frontend", "default"];

/// Groups of members that share a role (indexes into `members`). Containers of different
/// namespaces never share one.
fn roles(members: &[Member<'_>], tpls: &[PodTemplate<'_>]) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, m) in members.iter().enumerate() {
        let Some(image) = m.container.image() else { continue };
        let doc = tpls[m.tpl].doc;
        let ns = doc.namespace.as_deref().unwrap_or("\0none");
        let name = m.container.name.to_ascii_lowercase();
        if let Some(repo) = repository(image) {
            // One program started the same way (same image and command): under one name
            // across workloads, or as siblings in one pod. A different command (a migration
            // Job, a worker of the web image) or a differently named container of another
            // workload (the API server and the repo server of one image) is another role.
            let command = m.container.value["command"].to_string();
            groups.entry(format!("image\0{ns}\0{repo}\0{command}\0{name}")).or_default().push(i);
            groups.entry(format!("pod\0{}\0{repo}\0{command}", m.tpl)).or_default().push(i);
        }
        // One sidecar name across workloads, running images named after it (`angzarr` runs
        // `angzarr-aggregate`, `angzarr-saga`, ...).
        if name.len() >= 3
            && !GENERIC_NAMES.contains(&name.as_str())
            && image_basename(image).is_some_and(|b| b.contains(&name))
        {
            groups.entry(format!("name\0{ns}\0{name}")).or_default().push(i);
        }
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

/// Files that define the same workload are alternatives (`install.yaml` and
/// `ha/install.yaml`, `calico.yaml` and `canal.yaml`), not parts of one deployment. Only
/// workloads count: a Namespace or ServiceAccount repeated in every file of a project says
/// nothing.
struct Alternatives<'a> {
    /// File → the workloads (numbered) it defines that another file defines too, in
    /// ascending order. Not the pairs of files: a workload repeated in hundreds of fixture
    /// files would make their square.
    shared: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Alternatives<'a> {
    fn new(docs: &'a [ks_core::ManifestDoc]) -> Self {
        let mut files: HashMap<ObjectKey, BTreeSet<&str>> = HashMap::new();
        for d in docs.iter().filter(|d| super::pod_spec_path(&d.kind).is_some()) {
            files.entry(d.key()).or_default().insert(&d.file);
        }
        let mut shared: HashMap<&str, Vec<usize>> = HashMap::new();
        for (workload, fs) in files.values().filter(|fs| fs.len() > 1).enumerate() {
            for f in fs {
                shared.entry(*f).or_default().push(workload);
            }
        }
        Alternatives { shared }
    }

    /// Whether files `a` and `b` define a workload in common.
    fn exclusive(&self, a: &str, b: &str) -> bool {
        if a == b {
            return false;
        }
        match (self.shared.get(a), self.shared.get(b)) {
            (Some(x), Some(y)) => x.iter().any(|w| y.binary_search(w).is_ok()),
            _ => false,
        }
    }
}

impl Rule for SiblingMissingDownwardEnv {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        let tpls = cx.pod_templates();
        let members = members(tpls);
        let alternatives = Alternatives::new(&cx.ev.manifests);
        let groups = roles(&members, tpls);
        // Whether two members may be compared: different containers, not from alternative files.
        let comparable = |i: usize, j: usize| {
            let (a, b) = (&members[i], &members[j]);
            a.identity != b.identity && !alternatives.exclusive(&tpls[a.tpl].doc.file, &tpls[b.tpl].doc.file)
        };
        // member → missing variable → (up to MAX_NAMED of) the members of its role that have it.
        let mut missing: BTreeMap<usize, BTreeMap<&str, BTreeSet<usize>>> = BTreeMap::new();
        // member → the groups it belongs to.
        let mut member_groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (g, group) in groups.iter().enumerate() {
            let mut havers: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for &j in group {
                member_groups.entry(j).or_default().push(g);
                for v in members[j].downward.keys() {
                    havers.entry(v).or_default().push(j);
                }
            }
            for &i in group {
                let me = &members[i];
                for (v, hs) in &havers {
                    if me.names.contains(v) {
                        continue;
                    }
                    // A variable the other container spells as `$(VAR)` in its own command or
                    // args is consumed by the kubelet's expansion there (`--listen=[$(IP)]:9100`)
                    // and says nothing about this one, unless this one spells it too (then the
                    // literal `$(VAR)` reaches the program).
                    let found: Vec<usize> = hs
                        .iter()
                        .copied()
                        .filter(|&j| (!members[j].expands(v) || me.expands(v)) && comparable(i, j))
                        .take(MAX_NAMED)
                        .collect();
                    if !found.is_empty() {
                        missing.entry(i).or_default().entry(v).or_default().extend(found);
                    }
                }
            }
        }
        for (i, vars) in missing {
            let me = &members[i];
            let tpl = &tpls[me.tpl];
            let doc = tpl.doc;
            let var_names: Vec<&str> = vars.keys().copied().collect();
            let havers: BTreeSet<usize> = vars.values().flatten().copied().take(MAX_NAMED).collect();
            let have_labels: Vec<String> = havers.iter().map(|&j| members[j].label(tpls)).collect();
            // A few of the other members of the role that lack the variables too (the scan
            // stops there: a large bundle may hold thousands).
            let mut lacking: BTreeSet<usize> = BTreeSet::new();
            'scan: for &g in member_groups.get(&i).into_iter().flatten() {
                for &j in &groups[g] {
                    if j != i && vars.keys().any(|v| !members[j].names.contains(v)) && comparable(i, j) {
                        lacking.insert(j);
                        if lacking.len() > MAX_NAMED {
                            break 'scan;
                        }
                    }
                }
            }
            let mut also_lacking: Vec<String> =
                lacking.iter().take(MAX_NAMED).map(|&j| members[j].label(tpls)).collect();
            if lacking.len() > MAX_NAMED {
                also_lacking.push("others".to_string());
            }
            // The entries to copy: the first member that has each variable, as written there.
            let entries: Vec<Value> = vars
                .iter()
                .filter_map(|(v, hv)| hv.iter().next().and_then(|&j| members[j].downward.get(v)).map(|e| (*e).clone()))
                .collect();
            let fields: Vec<String> = entries
                .iter()
                .filter_map(|e| {
                    Some(format!("{} ← {}", e["name"].as_str()?, e["valueFrom"]["fieldRef"]["fieldPath"].as_str()?))
                })
                .collect();
            let env_path = me.container.field("env");
            let at = if me.container.value.get("env").is_some() { env_path.clone() } else { me.container.path() };
            let plural = if var_names.len() == 1 { "" } else { "s" };
            let mut f = doc_finding(
                &META,
                doc,
                &at,
                format!(
                    "Container {} of {} lacks {} that other {} containers set from the downward API",
                    me.container.name,
                    doc_name(doc),
                    util::join_names(&var_names),
                    role_word(me, havers.iter().map(|&j| &members[j]))
                ),
                format!(
                    "{} set{} the downward-API variable{plural} {}, but container {} of {} does not declare {}; it runs without {}, and whatever it does with {} (registration, pod annotations, leader election) silently does not happen.",
                    util::join_names(&have_labels),
                    if have_labels.len() == 1 { "s" } else { "" },
                    fields.join(", "),
                    me.container.name,
                    doc_name(doc),
                    if var_names.len() == 1 { "it" } else { "them" },
                    if var_names.len() == 1 { "it" } else { "them" },
                    if var_names.len() == 1 { "it" } else { "them" },
                ),
            );
            for &j in &havers {
                let h = &members[j];
                let hd = tpls[h.tpl].doc;
                let hpath = h.container.field("env");
                let loc = hd.locate(&hpath);
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Manifest,
                    format!(
                        "{}:{}: container {} of {} sets {}",
                        loc.file,
                        loc.line,
                        h.container.name,
                        doc_name(hd),
                        util::join_names(
                            &vars.keys().filter(|v| h.downward.contains_key(*v)).copied().collect::<Vec<_>>()
                        )
                    ),
                    Some(hd.object_ref()),
                ));
            }
            if !also_lacking.is_empty() {
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Manifest,
                    format!(
                        "also without {}: {}",
                        util::join_names(&var_names),
                        util::join_names(&also_lacking.iter().collect::<Vec<_>>())
                    ),
                    None,
                ));
            }
            let block = yaml_block(&Value::Array(entries.clone()), 0);
            let block = if me.container.value.get("env").is_some() {
                format!("append to {env_path}:\n{block}")
            } else {
                format!("add to {}:\nenv:\n{block}", me.container.path())
            };
            f.fix.push(Fix::text(format!(
                "Declare the same downward-API variable{plural} in container {} of {} ({}) — {block}",
                me.container.name,
                doc_name(doc),
                doc.file,
            )));
            if me.container.value.get("env").is_some() {
                let pointer = format!("{}/-", json_pointer(&env_path));
                let ops: Vec<Value> =
                    entries.iter().map(|e| json!({"op": "add", "path": pointer, "value": e})).collect();
                f.fix.push(Fix::cmd(
                    "or patch the live object until the manifest is applied",
                    format!(
                        "kubectl {}patch {} --type=json -p '{}'",
                        tpl.ns_flag(),
                        tpl.kubectl_ref(),
                        Value::Array(ops)
                    ),
                ));
            }
            if !also_lacking.is_empty() {
                f.fix.push(Fix::text(format!(
                    "The same applies to {}",
                    util::join_names(&also_lacking.iter().collect::<Vec<_>>())
                )));
            }
            f.root_key = format!("KS1202:{}:{}:{}", doc.key_string(), me.container.name, var_names.join(","));
            out.push(f);
        }
    }
}

/// How the role is called in the title: the image when the role is "same image", else the
/// shared container name.
fn role_word<'m, 'a: 'm>(me: &Member<'a>, havers: impl Iterator<Item = &'m Member<'a>>) -> String {
    let mine = me.container.image().and_then(repository);
    let mut havers = havers.peekable();
    let same_image =
        mine.is_some() && havers.peek().is_some() && havers.all(|h| h.container.image().and_then(repository) == mine);
    match me.container.image().and_then(image_basename) {
        Some(b) if same_image => format!("`{b}`"),
        _ => format!("`{}`", me.container.name),
    }
}

/// `/spec/template/spec/containers/1/env` for a JSON patch.
fn json_pointer(p: &ks_core::manifest::FieldPath) -> String {
    use ks_core::manifest::Seg;
    p.0.iter()
        .map(|s| match s {
            Seg::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => format!("/{i}"),
        })
        .collect()
}
