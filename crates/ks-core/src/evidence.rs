//! The evidence model: everything known about a cluster, from whichever source.
//!
//! Sources fill the vectors and call [`Evidence::finish`], which builds the indexes once.
//! Rules only read. Secret values never enter this model: [`SecretInfo`] keeps key names.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Endpoints, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use crate::ObjectRef;
use crate::index::Index;

/// Annotation a source puts on a pod it had to invent (pasted text that names no pod), so
/// rules do not read more into it than the text says.
pub const SYNTHETIC_ANNOTATION: &str = "kubesleuth.io/synthetic";

/// `(kind, namespace, name)` identity of an object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectKey {
            kind: kind.to_string(),
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
        }
    }
}

/// A Secret as far as kubesleuth may know it: names and key names, never values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecretInfo {
    pub metadata: ObjectMeta,
    pub type_: Option<String>,
    /// Key names from `data` and `stringData`.
    pub keys: BTreeSet<String>,
    /// False when only metadata was read (live scans by default), so absent keys prove nothing.
    pub keys_known: bool,
}

impl<'de> Deserialize<'de> for SecretInfo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Values are skipped by `IgnoredAny` while parsing: they are never materialised.
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            metadata: ObjectMeta,
            #[serde(rename = "type", default)]
            type_: Option<String>,
            #[serde(default)]
            data: Option<BTreeMap<String, serde::de::IgnoredAny>>,
            #[serde(rename = "stringData", default)]
            string_data: Option<BTreeMap<String, serde::de::IgnoredAny>>,
        }
        let raw = Raw::deserialize(d)?;
        let keys_known = raw.data.is_some() || raw.string_data.is_some();
        let keys =
            raw.data.into_iter().flatten().chain(raw.string_data.into_iter().flatten()).map(|(k, _)| k).collect();
        Ok(SecretInfo { metadata: raw.metadata, type_: raw.type_, keys, keys_known })
    }
}

/// A ConfigMap's keys and (bounded) values; ConfigMaps are not secret, and rules read hosts
/// out of them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigMapInfo {
    pub metadata: ObjectMeta,
    pub keys: BTreeSet<String>,
    /// Values up to [`ConfigMapInfo::MAX_VALUE`] bytes; longer ones are left out.
    pub data: BTreeMap<String, String>,
    pub keys_known: bool,
}

impl ConfigMapInfo {
    pub const MAX_VALUE: usize = 4096;
}

impl<'de> Deserialize<'de> for ConfigMapInfo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            metadata: ObjectMeta,
            #[serde(default)]
            data: Option<BTreeMap<String, String>>,
            #[serde(rename = "binaryData", default)]
            binary_data: Option<BTreeMap<String, serde::de::IgnoredAny>>,
        }
        let raw = Raw::deserialize(d)?;
        let keys_known = raw.data.is_some() || raw.binary_data.is_some();
        let mut keys = BTreeSet::new();
        let mut data = BTreeMap::new();
        for (k, v) in raw.data.into_iter().flatten() {
            keys.insert(k.clone());
            if v.len() <= ConfigMapInfo::MAX_VALUE {
                data.insert(k, v);
            }
        }
        keys.extend(raw.binary_data.into_iter().flatten().map(|(k, _)| k));
        Ok(ConfigMapInfo { metadata: raw.metadata, keys, data, keys_known })
    }
}

/// Any other object (custom resources such as cert-manager's), kept as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct DynObject {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    /// Shared with the manifest document it was read from, when there is one.
    pub value: std::sync::Arc<serde_json::Value>,
}

impl DynObject {
    pub fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new(&self.kind, self.namespace(), self.name()).with_api_version(&self.api_version)
    }
    /// `status.conditions[type=T]` of a custom resource.
    pub fn condition(&self, type_: &str) -> Option<DynCondition<'_>> {
        let conds = self.value.pointer("/status/conditions")?.as_array()?;
        conds.iter().find_map(|c| {
            (c.get("type")?.as_str()? == type_).then(|| DynCondition {
                status: c.get("status").and_then(|v| v.as_str()).unwrap_or_default(),
                reason: c.get("reason").and_then(|v| v.as_str()).unwrap_or_default(),
                message: c.get("message").and_then(|v| v.as_str()).unwrap_or_default(),
                last_transition: c.get("lastTransitionTime").and_then(|v| v.as_str()).and_then(|s| s.parse().ok()),
            })
        })
    }
    pub fn str_at(&self, pointer: &str) -> Option<&str> {
        self.value.pointer(pointer)?.as_str()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DynCondition<'a> {
    pub status: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
    pub last_transition: Option<Timestamp>,
}

/// The object an event is about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvolvedObject {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: Option<String>,
    pub field_path: Option<String>,
}

/// An event, from `core/v1` or `events.k8s.io/v1`, reduced to what rules read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventRecord {
    pub namespace: Option<String>,
    pub involved: InvolvedObject,
    pub reason: String,
    pub message: String,
    /// `Normal` or `Warning`.
    pub type_: String,
    pub count: u32,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// Reporting component, e.g. `kubelet`, `default-scheduler`.
    pub component: String,
}

impl EventRecord {
    pub fn is_warning(&self) -> bool {
        self.type_ == "Warning"
    }
    /// `(x3 over 5m)` style count suffix, empty for a single occurrence.
    pub fn count_suffix(&self) -> String {
        if self.count > 1 { format!(" (x{})", self.count) } else { String::new() }
    }
}

impl<'de> Deserialize<'de> for EventRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, Default)]
        struct RawRef {
            #[serde(default)]
            kind: Option<String>,
            #[serde(default)]
            namespace: Option<String>,
            #[serde(default)]
            name: Option<String>,
            #[serde(default)]
            uid: Option<String>,
            #[serde(rename = "fieldPath", default)]
            field_path: Option<String>,
        }
        #[derive(Deserialize, Default)]
        struct RawSource {
            #[serde(default)]
            component: Option<String>,
        }
        #[derive(Deserialize, Default)]
        struct RawSeries {
            #[serde(default)]
            count: Option<u32>,
            #[serde(rename = "lastObservedTime", default)]
            last_observed: Option<Timestamp>,
        }
        #[derive(Deserialize, Default)]
        struct RawMeta {
            #[serde(default)]
            namespace: Option<String>,
            #[serde(rename = "creationTimestamp", default)]
            creation: Option<Timestamp>,
        }
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            metadata: RawMeta,
            // core/v1
            #[serde(rename = "involvedObject", default)]
            involved: Option<RawRef>,
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            count: Option<u32>,
            #[serde(rename = "firstTimestamp", default)]
            first: Option<Timestamp>,
            #[serde(rename = "lastTimestamp", default)]
            last: Option<Timestamp>,
            #[serde(default)]
            source: Option<RawSource>,
            // events.k8s.io/v1
            #[serde(default)]
            regarding: Option<RawRef>,
            #[serde(default)]
            note: Option<String>,
            #[serde(rename = "deprecatedCount", default)]
            deprecated_count: Option<u32>,
            #[serde(rename = "deprecatedFirstTimestamp", default)]
            deprecated_first: Option<Timestamp>,
            #[serde(rename = "deprecatedLastTimestamp", default)]
            deprecated_last: Option<Timestamp>,
            #[serde(rename = "reportingController", default)]
            reporting_controller: Option<String>,
            #[serde(rename = "reportingComponent", default)]
            reporting_component: Option<String>,
            // both
            #[serde(rename = "eventTime", default)]
            event_time: Option<Timestamp>,
            #[serde(default)]
            series: Option<RawSeries>,
            #[serde(default)]
            reason: Option<String>,
            #[serde(rename = "type", default)]
            type_: Option<String>,
        }
        let raw = Raw::deserialize(d)?;
        let r = raw.involved.or(raw.regarding).unwrap_or_default();
        let series_count = raw.series.as_ref().and_then(|s| s.count);
        let series_last = raw.series.as_ref().and_then(|s| s.last_observed);
        let last = raw.last.or(raw.deprecated_last).or(series_last).or(raw.event_time).or(raw.metadata.creation);
        let first = raw.first.or(raw.deprecated_first).or(raw.event_time).or(last);
        Ok(EventRecord {
            namespace: raw.metadata.namespace.clone().or_else(|| r.namespace.clone()),
            involved: InvolvedObject {
                kind: r.kind.unwrap_or_default(),
                namespace: r.namespace.or(raw.metadata.namespace),
                name: r.name.unwrap_or_default(),
                uid: r.uid,
                field_path: r.field_path,
            },
            reason: raw.reason.unwrap_or_default(),
            message: raw.message.or(raw.note).unwrap_or_default(),
            type_: raw.type_.unwrap_or_else(|| "Normal".to_string()),
            count: raw.count.or(series_count).or(raw.deprecated_count).unwrap_or(1).max(1),
            first,
            last,
            component: raw
                .source
                .and_then(|s| s.component)
                .or(raw.reporting_controller)
                .or(raw.reporting_component)
                .unwrap_or_default(),
        })
    }
}

/// Which container's log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// `kubectl logs --previous`: the last terminated instance.
    pub previous: bool,
}

/// The tail of a container log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogExcerpt {
    /// The last lines, oldest first (at most [`LogExcerpt::MAX_LINES`]).
    pub lines: Vec<String>,
    /// Where it was read from (file path, or `api`).
    pub source: String,
    /// Earlier lines were dropped.
    pub truncated: bool,
}

impl LogExcerpt {
    pub const MAX_LINES: usize = 200;
    pub const MAX_LINE_BYTES: usize = 2048;

    /// Keep the tail of `text`, bounded in lines and line length.
    pub fn from_text(text: &str, source: impl Into<String>) -> LogExcerpt {
        let all: Vec<&str> = text.lines().collect();
        let start = all.len().saturating_sub(Self::MAX_LINES);
        let lines = all[start..]
            .iter()
            .map(|l| {
                let l = l.trim_end_matches('\r');
                if l.len() > Self::MAX_LINE_BYTES {
                    let mut cut = Self::MAX_LINE_BYTES;
                    while !l.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    l[..cut].to_string()
                } else {
                    l.to_string()
                }
            })
            .collect();
        LogExcerpt { lines, source: source.into(), truncated: start > 0 }
    }
}

/// Something the source could not read; reported, never fatal on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub file: Option<String>,
    pub line: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: {}", self.message),
            (Some(file), None) => write!(f, "{file}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Everything known about the cluster.
#[derive(Debug, Default)]
pub struct Evidence {
    pub pods: Vec<Box<Pod>>,
    pub nodes: Vec<Node>,
    pub deployments: Vec<Deployment>,
    pub replica_sets: Vec<ReplicaSet>,
    pub stateful_sets: Vec<StatefulSet>,
    pub daemon_sets: Vec<DaemonSet>,
    pub jobs: Vec<Job>,
    pub cron_jobs: Vec<CronJob>,
    pub services: Vec<Service>,
    pub endpoints: Vec<Endpoints>,
    pub endpoint_slices: Vec<EndpointSlice>,
    pub ingresses: Vec<Ingress>,
    pub ingress_classes: Vec<IngressClass>,
    pub pvcs: Vec<PersistentVolumeClaim>,
    pub pvs: Vec<PersistentVolume>,
    pub storage_classes: Vec<StorageClass>,
    pub namespaces: Vec<Namespace>,
    pub service_accounts: Vec<ServiceAccount>,
    pub secrets: Vec<SecretInfo>,
    pub config_maps: Vec<ConfigMapInfo>,
    pub other: Vec<DynObject>,
    pub events: Vec<EventRecord>,
    pub logs: HashMap<LogKey, LogExcerpt>,
    /// Documents read from manifest files, with their positions (for `lint` and drift).
    pub manifests: Vec<crate::manifest::ManifestDoc>,
    /// The Kubernetes version manifests will be applied to (`lint --kube-version`); `None`
    /// means the newest this build knows.
    pub kube_version: Option<(u32, u32)>,
    /// What OCI registries said about the tags running pods use (`--registries`, or a
    /// recorded `RegistryFacts` document). Empty when no registry was asked.
    pub registry: crate::registry::RegistryFacts,
    /// What could not be read.
    pub gaps: Vec<Gap>,
    /// Kinds the source listed (even when empty), so rules can tell "absent" from "not
    /// collected": a Secret is only missing if Secrets were collected.
    pub collected: BTreeSet<String>,
    /// Dockerfiles, Skaffold configs and the developer's machine (`lint`, `doctor --local`).
    pub build: crate::build::BuildFiles,
    /// Indexes, built by [`Evidence::finish`].
    pub index: Index,
}

impl Evidence {
    /// Fold another partial evidence set into this one (sources load files in parallel).
    pub fn merge(&mut self, other: Evidence) {
        self.pods.extend(other.pods);
        self.nodes.extend(other.nodes);
        self.deployments.extend(other.deployments);
        self.replica_sets.extend(other.replica_sets);
        self.stateful_sets.extend(other.stateful_sets);
        self.daemon_sets.extend(other.daemon_sets);
        self.jobs.extend(other.jobs);
        self.cron_jobs.extend(other.cron_jobs);
        self.services.extend(other.services);
        self.endpoints.extend(other.endpoints);
        self.endpoint_slices.extend(other.endpoint_slices);
        self.ingresses.extend(other.ingresses);
        self.ingress_classes.extend(other.ingress_classes);
        self.pvcs.extend(other.pvcs);
        self.pvs.extend(other.pvs);
        self.storage_classes.extend(other.storage_classes);
        self.namespaces.extend(other.namespaces);
        self.service_accounts.extend(other.service_accounts);
        self.secrets.extend(other.secrets);
        self.config_maps.extend(other.config_maps);
        self.other.extend(other.other);
        self.events.extend(other.events);
        self.manifests.extend(other.manifests);
        self.registry.merge(other.registry);
        for (k, v) in other.logs {
            // Two sources of one log: keep the longer tail.
            match self.logs.get(&k) {
                Some(old) if old.lines.len() >= v.lines.len() => {}
                _ => {
                    self.logs.insert(k, v);
                }
            }
        }
        self.gaps.extend(other.gaps);
        self.collected.extend(other.collected);
        self.build.merge(other.build);
    }

    /// Fold many partial evidence sets at once, reserving every list's final size first so
    /// that a large snapshot is moved once instead of copied on each doubling.
    pub fn merge_all(parts: Vec<Evidence>) -> Evidence {
        let mut out = Evidence::default();
        macro_rules! reserve {
            ($($field:ident),*) => {
                $(out.$field.reserve_exact(parts.iter().map(|p| p.$field.len()).sum());)*
            };
        }
        reserve!(
            pods,
            nodes,
            deployments,
            replica_sets,
            stateful_sets,
            daemon_sets,
            jobs,
            cron_jobs,
            services,
            endpoints,
            endpoint_slices,
            ingresses,
            ingress_classes,
            pvcs,
            pvs,
            storage_classes,
            namespaces,
            service_accounts,
            secrets,
            config_maps,
            other,
            events,
            manifests,
            gaps
        );
        for p in parts {
            out.merge(p);
        }
        out
    }

    /// Drop duplicates (one object read from two files) and build the indexes.
    pub fn finish(&mut self) {
        crate::registry::lift_recorded(self);
        crate::index::dedup(self);
        self.index = Index::build(self);
    }

    /// The manifest document an object was read from (for positions), if it came from one.
    pub fn manifest_of(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<&crate::manifest::ManifestDoc> {
        self.index.manifests.get(&ObjectKey::new(kind, namespace, name)).map(|&i| &self.manifests[i])
    }

    /// Number of objects (for the summary line).
    pub fn object_count(&self) -> usize {
        self.pods.len()
            + self.nodes.len()
            + self.deployments.len()
            + self.replica_sets.len()
            + self.stateful_sets.len()
            + self.daemon_sets.len()
            + self.jobs.len()
            + self.cron_jobs.len()
            + self.services.len()
            + self.endpoints.len()
            + self.endpoint_slices.len()
            + self.ingresses.len()
            + self.ingress_classes.len()
            + self.pvcs.len()
            + self.pvs.len()
            + self.storage_classes.len()
            + self.namespaces.len()
            + self.service_accounts.len()
            + self.secrets.len()
            + self.config_maps.len()
            + self.other.len()
    }

    /// Whether the source listed this kind at all.
    pub fn has_collected(&self, kind: &str) -> bool {
        self.collected.contains(kind)
    }

    /// The snapshot's own "now": its newest timestamp. Never the wall clock, so an old
    /// snapshot reads the same today as the day it was taken.
    pub fn now(&self) -> Option<Timestamp> {
        self.index.now
    }

    /// Seconds between `t` and the snapshot's now (0 when either is unknown or `t` is later).
    pub fn age_secs(&self, t: Option<Timestamp>) -> Option<i64> {
        let (now, t) = (self.index.now?, t?);
        Some((now.as_second() - t.as_second()).max(0))
    }
}
