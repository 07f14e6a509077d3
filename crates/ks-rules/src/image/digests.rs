//! Running containers against registry facts: for each running container, the digest it
//! runs, the digest its tag names now, and the verdict. The registry rules (KS13xx) and the
//! `kubesleuth images` table both read this, so they always agree.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use ks_core::registry::{
    HostFact, ImageFact, PullPolicy, RegistryError, RunningContainer, running_containers, short_digest,
};
use ks_core::{Evidence, EvidenceItem, EvidenceSource, Fix, ObjectRef};

use crate::util;

/// Why a container's image could not be compared.
#[derive(Clone, Copy, Debug)]
pub enum Unknown<'a> {
    /// No registry was asked (`--registries` not given, or the tag was not asked).
    NotChecked,
    /// `imageID` names no registry digest (an image built or loaded on the node).
    NoDigest,
    /// The image reference does not parse.
    InvalidReference,
    /// The registry host as a whole failed.
    Host(&'a HostFact, &'a RegistryError),
    /// The registry answered this tag with an error.
    Image(&'a ImageFact, &'a RegistryError),
}

impl Unknown<'_> {
    /// A few words for the table.
    pub fn reason(&self) -> String {
        match self {
            Unknown::NotChecked => "registry not checked".to_string(),
            Unknown::NoDigest => "no registry digest in imageID".to_string(),
            Unknown::InvalidReference => "invalid image reference".to_string(),
            Unknown::Host(_, e) | Unknown::Image(_, e) => match e.status {
                Some(s) => format!("registry: {}, HTTP {s}", e.kind.as_str()),
                None => format!("registry: {}", e.kind.as_str()),
            },
        }
    }

    pub fn error(&self) -> Option<&RegistryError> {
        match self {
            Unknown::Host(_, e) | Unknown::Image(_, e) => Some(e),
            _ => None,
        }
    }
}

/// The verdict for one running container.
#[derive(Clone, Copy, Debug)]
pub enum Status<'a> {
    /// Runs what its tag names now (the tag's digest, or a platform manifest of its index).
    Current,
    /// The spec pins a digest and names no tag: there is nothing newer to compare with.
    Pinned,
    /// Runs (or its spec pins) another digest than its tag names now.
    Stale,
    Unknown(Unknown<'a>),
}

impl Status<'_> {
    /// The table's word.
    pub fn label(&self) -> String {
        match self {
            Status::Current => "current".to_string(),
            Status::Pinned => "pinned".to_string(),
            Status::Stale => "STALE".to_string(),
            Status::Unknown(u) => format!("unknown ({})", u.reason()),
        }
    }
}

/// One running container, checked.
#[derive(Clone, Debug)]
pub struct Checked<'a> {
    pub rc: RunningContainer<'a>,
    pub workload: &'a ObjectRef,
    /// The registry's answer for the container's tag, when there is one.
    pub fact: Option<&'a ImageFact>,
    pub status: Status<'a>,
    pub policy: PullPolicy,
    /// The digest the container runs: the spec's pinned digest, else the one in `imageID`.
    pub running: Option<&'a str>,
    /// The spec names a tag and pins a digest (`app:latest@sha256:…`, as deploy tools write).
    pub pinned_tag: bool,
    /// The node's `(os, architecture)`.
    pub platform: Option<(&'a str, &'a str)>,
}

impl<'a> Checked<'a> {
    pub fn container(&self) -> &'a str {
        &self.rc.container.name
    }

    /// `host/repository:tag`, the key of the registry fact.
    pub fn tag_key(&self) -> Option<String> {
        self.rc.name.as_ref()?.tag_key()
    }

    /// The digest the tag names for this container: the platform manifest of the node's
    /// platform when the tag is an index and the container runs a platform manifest, else the
    /// tag's own digest.
    pub fn registry_digest(&self) -> Option<&'a str> {
        let fact = self.fact?;
        let own = fact.digest.as_deref()?;
        if fact.platforms.is_empty() || self.running == Some(own) {
            return Some(own);
        }
        match self.platform {
            Some((os, arch)) => Some(fact.platform_digest(os, arch).unwrap_or(own)),
            None => Some(own),
        }
    }

    /// The repository as the spec writes it, without tag or digest, for `REPO@sha256:…`.
    pub fn spec_repository(&self) -> &'a str {
        let name = self.rc.image.split('@').next().unwrap_or(self.rc.image);
        match name.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => repo,
            _ => name,
        }
    }

    pub fn pod_ref(&self, ev: &Evidence) -> ObjectRef {
        let (ns, name) = util::pod_names(ev, self.rc.pod);
        ObjectRef::new("Pod", Some(ns), name)
    }
}

/// Check every running container of the evidence against its registry facts.
pub fn check<'a>(ev: &'a Evidence) -> Vec<Checked<'a>> {
    let images: HashMap<&str, &ImageFact> = ev.registry.images.iter().map(|i| (i.reference.as_str(), i)).collect();
    let hosts: HashMap<&str, &HostFact> = ev.registry.hosts.iter().map(|h| (h.host.as_str(), h)).collect();
    running_containers(ev)
        .into_iter()
        .map(|rc| {
            let workload = ev.workload_of(rc.pod);
            let policy = PullPolicy::of(rc.container);
            // The pinned digest, borrowed from the spec's own text (`repo:tag@sha256:…`).
            let image: &'a str = rc.image;
            let pinned = rc
                .name
                .as_ref()
                .and_then(|n| n.digest.as_ref())
                .and_then(|_| image.rsplit_once('@').map(|(_, d)| d.trim()));
            let running = pinned.or(rc.digest);
            let pinned_tag = rc.name.as_ref().is_some_and(|n| n.tag.is_some() && n.digest.is_some());
            let key = rc.name.as_ref().and_then(|n| n.tag_key());
            let fact = key.as_deref().and_then(|k| images.get(k).copied());
            let host = rc.name.as_ref().and_then(|n| hosts.get(n.host.as_str()).copied());
            let status = match (&rc.name, &key) {
                (None, _) => Status::Unknown(Unknown::InvalidReference),
                (Some(_), None) => Status::Pinned,
                (Some(_), Some(_)) => match (host.and_then(|h| h.error.as_ref().map(|e| (h, e))), fact) {
                    (Some((h, e)), _) => Status::Unknown(Unknown::Host(h, e)),
                    (None, None) => Status::Unknown(Unknown::NotChecked),
                    (None, Some(f)) => match (&f.error, running) {
                        (Some(e), _) => Status::Unknown(Unknown::Image(f, e)),
                        (None, None) => Status::Unknown(Unknown::NoDigest),
                        (None, Some(d)) if f.names(d) => Status::Current,
                        (None, Some(_)) => Status::Stale,
                    },
                },
            };
            let node = ev.pods[rc.pod].spec.as_ref().and_then(|s| s.node_name.as_deref());
            let platform = node
                .and_then(|n| ev.node(n))
                .and_then(|n| n.status.as_ref()?.node_info.as_ref())
                .map(|i| (i.operating_system.as_str(), i.architecture.as_str()));
            Checked { rc, workload, fact, status, policy, running, pinned_tag, platform }
        })
        .collect()
}

/// The containers of one workload that run one tag: what the tag-level rules look at.
pub struct Group<'c, 'a> {
    pub workload: &'a ObjectRef,
    pub container: &'a str,
    pub tag_key: String,
    pub fact: &'a ImageFact,
    pub members: Vec<&'c Checked<'a>>,
}

impl<'a> Group<'_, 'a> {
    pub fn stale(&self) -> impl Iterator<Item = &Checked<'a>> {
        self.members.iter().copied().filter(|c| matches!(c.status, Status::Stale))
    }

    pub fn current(&self) -> impl Iterator<Item = &Checked<'a>> {
        self.members.iter().copied().filter(|c| matches!(c.status, Status::Current))
    }

    /// The first stale member (groups handed to rules have one).
    pub fn first_stale(&self) -> Option<&Checked<'a>> {
        self.stale().next()
    }

    /// The distinct digests stale members run, sorted.
    pub fn stale_digests(&self) -> Vec<&'a str> {
        let mut d: Vec<&str> = self.stale().filter_map(|c| c.running).collect();
        d.sort_unstable();
        d.dedup();
        d
    }
}

/// Group containers that were compared (current or stale) by workload, container and tag;
/// only groups with at least one stale member are returned, in a stable order.
pub fn stale_groups<'c, 'a>(checked: &'c [Checked<'a>]) -> Vec<Group<'c, 'a>> {
    let mut groups: BTreeMap<(&'a ObjectRef, &'a str, String), Vec<&'c Checked<'a>>> = BTreeMap::new();
    for c in checked {
        if !matches!(c.status, Status::Current | Status::Stale) {
            continue;
        }
        let Some(key) = c.tag_key() else { continue };
        groups.entry((c.workload, c.container(), key)).or_default().push(c);
    }
    groups
        .into_iter()
        .filter_map(|((workload, container, tag_key), members)| {
            let fact = members.first()?.fact?;
            members.iter().any(|c| matches!(c.status, Status::Stale)).then_some(Group {
                workload,
                container,
                tag_key,
                fact,
                members,
            })
        })
        .collect()
}

/// `sha256:abcd…` shortened for titles: `sha256:0123456789ab`.
pub fn short(d: &str) -> String {
    let alg = d.split_once(':').map_or("sha256", |(a, _)| a);
    format!("{alg}:{}", short_digest(d))
}

/// The registry's answer as an evidence line.
pub fn registry_evidence(ev: &Evidence, fact: &ImageFact) -> EvidenceItem {
    let mut text = format!("{} names {}", fact.reference, fact.digest.as_deref().unwrap_or("?"));
    if !fact.platforms.is_empty() {
        let ps: Vec<String> = fact.platforms.iter().map(|p| format!("{} {}", p.platform(), short(&p.digest))).collect();
        text.push_str(&format!(" (index: {})", ps.join(", ")));
    }
    if let Some(c) = fact.created {
        match &fact.created_platform {
            Some(p) => text.push_str(&format!("; {p} image built {c}")),
            None => text.push_str(&format!("; image built {c}")),
        }
    }
    if let Some(at) = ev.registry.checked_at {
        text.push_str(&format!("; asked {at}"));
    }
    EvidenceItem::new(EvidenceSource::Registry, text, None)
}

/// The container status line: what a pod runs.
pub fn status_evidence(ev: &Evidence, c: &Checked<'_>) -> EvidenceItem {
    let mut text = format!("container {} imageID {}", c.container(), c.rc.image_id);
    if let Some(t) = c.rc.started {
        text.push_str(&format!(", running since {t}"));
    }
    EvidenceItem::new(EvidenceSource::Status, text, Some(c.pod_ref(ev)))
}

/// The spec line: the image and pull policy as the pod spec writes them.
pub fn spec_evidence(ev: &Evidence, c: &Checked<'_>) -> EvidenceItem {
    EvidenceItem::new(
        EvidenceSource::Spec,
        format!("container {} image {} imagePullPolicy {}", c.container(), c.rc.image, c.policy.as_str()),
        Some(c.pod_ref(ev)),
    )
}

/// `kubectl set image` pinning the container to `digest`, for the kinds whose pod template
/// (or, for a bare Pod, whose spec image) can change; `None` for Jobs.
pub fn pin_command(c: &Checked<'_>, digest: &str) -> Option<Fix> {
    let w = c.workload;
    let target = format!("{}={}@{digest}", c.container(), c.spec_repository());
    let what = match w.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" => {
            format!(
                "Pin container {} of {} to the digest the tag names now (this changes the template, so a rollout starts)",
                c.container(),
                w.kubectl_ref()
            )
        }
        "Pod" | "CronJob" | "ReplicaSet" => {
            format!("Pin container {} of {} to the digest the tag names now", c.container(), w.kubectl_ref())
        }
        _ => return None,
    };
    Some(Fix::cmd(what, format!("kubectl {}set image {} {target}", w.ns_flag(), w.kubectl_ref())))
}

/// When the tag's current image was built, for root causes: ` (built 2026-…)` or empty.
pub fn built(fact: &ImageFact) -> String {
    fact.created.map(|c| format!(" (built {c})")).unwrap_or_default()
}

/// Whether every stale member started before the tag's current image was built: then no pod
/// was started since the tag moved. `None` when the registry gave no build time.
pub fn all_started_before_push(g: &Group<'_, '_>) -> Option<bool> {
    let created: Timestamp = g.fact.created?;
    Some(g.stale().all(|c| c.rc.started.is_some_and(|s| s < created)))
}

/// Names of the stale pods, `a, b and c`.
pub fn stale_pod_names(ev: &Evidence, g: &Group<'_, '_>) -> String {
    let names: Vec<&str> = g.stale().map(|c| util::pod_names(ev, c.rc.pod).1).collect();
    util::join_names(&names)
}

/// Registry errors of one kind on one host, with what they kept from being checked.
pub struct HostProblem<'c, 'a> {
    pub host: &'a str,
    /// The host fact, when the host was asked.
    pub fact: Option<&'a HostFact>,
    /// The host as a whole failed (its `/v2/` did not answer): none of its tags was asked.
    pub whole_host: bool,
    /// The first error (they share a kind).
    pub error: &'a RegistryError,
    /// The tags that could not be checked, `host/repository:tag`, sorted.
    pub tags: Vec<String>,
    /// The workloads whose running containers could not be checked, sorted.
    pub workloads: Vec<&'a ObjectRef>,
    /// One running container that could not be checked.
    pub example: &'c Checked<'a>,
}

/// Group the containers whose check failed with `kind` by registry host.
pub fn host_problems<'c, 'a>(
    ev: &'a Evidence,
    checked: &'c [Checked<'a>],
    kind: ks_core::registry::RegistryErrorKind,
) -> Vec<HostProblem<'c, 'a>> {
    let mut by_host: BTreeMap<&'a str, HostProblem<'c, 'a>> = BTreeMap::new();
    for c in checked {
        let Status::Unknown(u) = c.status else { continue };
        let (host, whole, e, tag): (&'a str, bool, &'a RegistryError, Option<String>) = match u {
            Unknown::Host(h, e) if e.kind == kind => (h.host.as_str(), true, e, c.tag_key()),
            Unknown::Image(f, e) if e.kind == kind => (f.host.as_str(), false, e, Some(f.reference.clone())),
            _ => continue,
        };
        let p = by_host.entry(host).or_insert_with(|| HostProblem {
            host,
            fact: ev.registry.host(host),
            whole_host: whole,
            error: e,
            tags: Vec::new(),
            workloads: Vec::new(),
            example: c,
        });
        if let Some(t) = tag
            && !p.tags.contains(&t)
        {
            p.tags.push(t);
        }
        if !p.workloads.contains(&c.workload) {
            p.workloads.push(c.workload);
        }
    }
    let mut out: Vec<HostProblem<'c, 'a>> = by_host.into_values().collect();
    for p in &mut out {
        p.tags.sort();
        p.workloads.sort();
    }
    out
}

/// The finding every registry-error rule emits: one per host, about the registry itself,
/// naming the workloads it kept from being checked.
pub fn host_problem_finding(
    ev: &Evidence,
    meta: &'static ks_core::RuleMeta,
    p: &HostProblem<'_, '_>,
    title: String,
    root_cause: String,
    fixes: Vec<Fix>,
) -> ks_core::Finding {
    let mut f = util::finding(meta, ObjectRef::new("Registry", None, p.host), title, root_cause);
    f.affected = p.workloads.iter().map(|w| (*w).clone()).collect();
    let mut text = p.error.message.clone();
    if let Some(at) = ev.registry.checked_at {
        text.push_str(&format!(" (asked {at})"));
    }
    f.evidence.push(EvidenceItem::new(EvidenceSource::Registry, text, None));
    if let Some(n) = p.fact.and_then(|h| h.note.as_deref()) {
        f.evidence.push(EvidenceItem::new(EvidenceSource::Registry, n.to_string(), None));
    }
    f.evidence.push(status_evidence(ev, p.example));
    f.fix = fixes;
    f.root_key = format!("{}:{}", meta.cause.as_str(), p.host);
    f
}

/// The one tag, or `N image tags`, for titles.
pub fn tags_phrase(p: &HostProblem<'_, '_>) -> String {
    match p.tags.as_slice() {
        [one] => one.clone(),
        many => format!("{} image tags", many.len()),
    }
}

/// `curl` for the registry's `/v2/` endpoint, or for one tag's manifest.
pub fn curl_v2(p: &HostProblem<'_, '_>, path: &str) -> String {
    let base = p.fact.map(|h| h.endpoint.clone()).unwrap_or_else(|| format!("https://{}", p.host));
    format!("curl -sS -o /dev/null -w '%{{http_code}}\\n' {base}/v2/{path}")
}
