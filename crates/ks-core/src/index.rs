//! Indexes over the evidence, built once so that no rule is quadratic in the object count.

use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::ObjectRef;
use crate::evidence::{Evidence, ObjectKey};

type NsName = (String, String);

fn ns_name(meta: &ObjectMeta) -> NsName {
    (meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default())
}

fn by_name<T>(items: &[T], meta: impl Fn(&T) -> &ObjectMeta) -> HashMap<NsName, usize> {
    items.iter().enumerate().map(|(i, o)| (ns_name(meta(o)), i)).collect()
}

/// Keep the first of items with equal keys. Keys are remembered as 64-bit hashes, not
/// strings, so deduplicating 200,000 events costs a few megabytes, not a hundred.
fn dedup_by<T>(items: &mut Vec<T>, key: impl Fn(&T) -> String) {
    use std::hash::{Hash, Hasher};
    let mut seen = HashSet::with_capacity(items.len());
    items.retain(|o| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key(o).hash(&mut h);
        seen.insert(h.finish())
    });
}

fn meta_key(meta: &ObjectMeta) -> String {
    format!("{}/{}", meta.namespace.as_deref().unwrap_or_default(), meta.name.as_deref().unwrap_or_default())
}

/// The same object read twice (a dump plus an extra `kubectl get`) is kept once.
pub(crate) fn dedup(ev: &mut Evidence) {
    dedup_by(&mut ev.pods, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.nodes, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.deployments, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.replica_sets, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.stateful_sets, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.daemon_sets, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.jobs, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.cron_jobs, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.services, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.endpoints, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.endpoint_slices, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.ingresses, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.ingress_classes, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.pvcs, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.pvs, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.storage_classes, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.namespaces, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.service_accounts, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.secrets, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.config_maps, |o| meta_key(&o.metadata));
    dedup_by(&mut ev.other, |o| format!("{}/{}", o.kind, meta_key(&o.metadata)));
    dedup_by(&mut ev.events, |e| {
        format!(
            "{}/{}/{}/{}/{}/{:?}",
            e.involved.kind,
            e.involved.namespace.as_deref().unwrap_or_default(),
            e.involved.name,
            e.reason,
            e.message,
            e.last
        )
    });
}

/// Lookups by name, owner and involved object.
#[derive(Debug, Default)]
pub struct Index {
    pub now: Option<Timestamp>,
    pub pods: HashMap<NsName, usize>,
    pub nodes: HashMap<String, usize>,
    pub deployments: HashMap<NsName, usize>,
    pub replica_sets: HashMap<NsName, usize>,
    pub stateful_sets: HashMap<NsName, usize>,
    pub daemon_sets: HashMap<NsName, usize>,
    pub jobs: HashMap<NsName, usize>,
    pub cron_jobs: HashMap<NsName, usize>,
    pub services: HashMap<NsName, usize>,
    pub endpoints: HashMap<NsName, usize>,
    pub ingress_classes: HashMap<String, usize>,
    pub pvcs: HashMap<NsName, usize>,
    pub pvs: HashMap<String, usize>,
    pub storage_classes: HashMap<String, usize>,
    pub service_accounts: HashMap<NsName, usize>,
    pub secrets: HashMap<NsName, usize>,
    pub config_maps: HashMap<NsName, usize>,
    /// `(kind, ns, name)` of custom resources.
    pub other: HashMap<ObjectKey, usize>,
    /// Events by the object they are about, newest last.
    pub events_by_object: HashMap<ObjectKey, Vec<usize>>,
    /// Pods by the workload that ultimately owns them (Deployment, StatefulSet, DaemonSet,
    /// Job or CronJob; the pod itself when it has no owner).
    pub pods_by_workload: HashMap<ObjectRef, Vec<usize>>,
    /// The owning workload of each pod, by pod index.
    pub workload_of_pod: Vec<ObjectRef>,
    /// ReplicaSets by owning Deployment `(ns, name)`.
    pub replica_sets_by_deployment: HashMap<NsName, Vec<usize>>,
    /// Pods by node name.
    pub pods_by_node: HashMap<String, Vec<usize>>,
    /// Pods by namespace.
    pub pods_by_namespace: HashMap<String, Vec<usize>>,
    /// Every namespace any object was seen in (or that a Namespace object names).
    pub namespaces_seen: BTreeSet<String>,
    /// Manifest documents by `(kind, ns, name)` (the first one when an object is written twice).
    pub manifests: HashMap<ObjectKey, usize>,
}

fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    let owners = meta.owner_references.as_ref()?;
    owners.iter().find(|o| o.controller == Some(true)).or_else(|| owners.first())
}

fn max_ts(now: &mut Option<Timestamp>, t: Option<Timestamp>) {
    if let Some(t) = t
        && now.is_none_or(|n| t > n)
    {
        *now = Some(t);
    }
}

impl Index {
    pub fn build(ev: &Evidence) -> Index {
        let mut ix = Index {
            pods: by_name(&ev.pods, |o| &o.metadata),
            nodes: ev.nodes.iter().enumerate().map(|(i, n)| (n.metadata.name.clone().unwrap_or_default(), i)).collect(),
            deployments: by_name(&ev.deployments, |o| &o.metadata),
            replica_sets: by_name(&ev.replica_sets, |o| &o.metadata),
            stateful_sets: by_name(&ev.stateful_sets, |o| &o.metadata),
            daemon_sets: by_name(&ev.daemon_sets, |o| &o.metadata),
            jobs: by_name(&ev.jobs, |o| &o.metadata),
            cron_jobs: by_name(&ev.cron_jobs, |o| &o.metadata),
            services: by_name(&ev.services, |o| &o.metadata),
            endpoints: by_name(&ev.endpoints, |o| &o.metadata),
            ingress_classes: ev
                .ingress_classes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.metadata.name.clone().unwrap_or_default(), i))
                .collect(),
            pvcs: by_name(&ev.pvcs, |o| &o.metadata),
            pvs: ev.pvs.iter().enumerate().map(|(i, n)| (n.metadata.name.clone().unwrap_or_default(), i)).collect(),
            storage_classes: ev
                .storage_classes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.metadata.name.clone().unwrap_or_default(), i))
                .collect(),
            service_accounts: by_name(&ev.service_accounts, |o| &o.metadata),
            secrets: by_name(&ev.secrets, |o| &o.metadata),
            config_maps: by_name(&ev.config_maps, |o| &o.metadata),
            other: ev
                .other
                .iter()
                .enumerate()
                .map(|(i, o)| (ObjectKey::new(&o.kind, o.namespace(), o.name()), i))
                .collect(),
            ..Index::default()
        };
        for (i, d) in ev.manifests.iter().enumerate() {
            ix.manifests.entry(d.key()).or_insert(i);
        }

        // The snapshot's own clock.
        let mut now = None;
        for e in &ev.events {
            max_ts(&mut now, e.last);
        }
        for p in &ev.pods {
            max_ts(&mut now, p.metadata.creation_timestamp.as_ref().map(|t| t.0));
            let Some(st) = &p.status else { continue };
            for c in st.conditions.iter().flatten() {
                max_ts(&mut now, c.last_transition_time.as_ref().map(|t| t.0));
            }
            for cs in st.container_statuses.iter().flatten() {
                for s in [cs.state.as_ref(), cs.last_state.as_ref()].into_iter().flatten() {
                    if let Some(r) = &s.running {
                        max_ts(&mut now, r.started_at.as_ref().map(|t| t.0));
                    }
                    if let Some(t) = &s.terminated {
                        max_ts(&mut now, t.finished_at.as_ref().map(|t| t.0));
                    }
                }
            }
        }
        for n in &ev.nodes {
            for c in n.status.iter().flat_map(|s| s.conditions.iter().flatten()) {
                max_ts(&mut now, c.last_heartbeat_time.as_ref().map(|t| t.0));
            }
        }
        ix.now = now;

        for (i, e) in ev.events.iter().enumerate() {
            let key = ObjectKey::new(
                &e.involved.kind,
                e.involved.namespace.as_deref().or(e.namespace.as_deref()),
                &e.involved.name,
            );
            ix.events_by_object.entry(key).or_default().push(i);
        }
        for list in ix.events_by_object.values_mut() {
            list.sort_by_key(|&i| ev.events[i].last);
        }

        for (i, rs) in ev.replica_sets.iter().enumerate() {
            if let Some(o) = controller_of(&rs.metadata).filter(|o| o.kind == "Deployment") {
                let ns = rs.metadata.namespace.clone().unwrap_or_default();
                ix.replica_sets_by_deployment.entry((ns, o.name.clone())).or_default().push(i);
            }
        }

        ix.workload_of_pod = ev.pods.iter().map(|p| ix.resolve_workload(ev, &p.metadata)).collect();
        for (i, w) in ix.workload_of_pod.iter().enumerate() {
            ix.pods_by_workload.entry(w.clone()).or_default().push(i);
        }
        for (i, p) in ev.pods.iter().enumerate() {
            if let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.clone()) {
                ix.pods_by_node.entry(node).or_default().push(i);
            }
            let ns = p.metadata.namespace.clone().unwrap_or_default();
            ix.pods_by_namespace.entry(ns).or_default().push(i);
        }

        let mut seen = BTreeSet::new();
        let metas = ev
            .pods
            .iter()
            .map(|o| &o.metadata)
            .chain(ev.deployments.iter().map(|o| &o.metadata))
            .chain(ev.services.iter().map(|o| &o.metadata))
            .chain(ev.secrets.iter().map(|o| &o.metadata))
            .chain(ev.config_maps.iter().map(|o| &o.metadata))
            .chain(ev.stateful_sets.iter().map(|o| &o.metadata))
            .chain(ev.daemon_sets.iter().map(|o| &o.metadata))
            .chain(ev.jobs.iter().map(|o| &o.metadata));
        for m in metas {
            if let Some(ns) = &m.namespace {
                seen.insert(ns.clone());
            }
        }
        for n in &ev.namespaces {
            if let Some(name) = &n.metadata.name {
                seen.insert(name.clone());
            }
        }
        ix.namespaces_seen = seen;
        ix
    }

    /// Follow controller owner references up to the workload a user manages.
    fn resolve_workload(&self, ev: &Evidence, pod: &ObjectMeta) -> ObjectRef {
        let ns = pod.namespace.clone().unwrap_or_default();
        let pod_name = pod.name.clone().unwrap_or_default();
        let Some(owner) = controller_of(pod) else {
            return ObjectRef::new("Pod", Some(&ns), &pod_name).with_api_version("v1");
        };
        match owner.kind.as_str() {
            "ReplicaSet" => {
                let rs = self.replica_sets.get(&(ns.clone(), owner.name.clone())).map(|&i| &ev.replica_sets[i]);
                if let Some(rs) = rs {
                    if let Some(d) = controller_of(&rs.metadata).filter(|o| o.kind == "Deployment") {
                        return ObjectRef::new("Deployment", Some(&ns), &d.name).with_api_version("apps/v1");
                    }
                    if controller_of(&rs.metadata).is_none() {
                        return ObjectRef::new("ReplicaSet", Some(&ns), &owner.name).with_api_version("apps/v1");
                    }
                }
                // Without the ReplicaSet object, the Deployment's name is the ReplicaSet's
                // minus its pod-template-hash suffix.
                let hash = pod.labels.as_ref().and_then(|l| l.get("pod-template-hash"));
                match hash.and_then(|h| owner.name.strip_suffix(&format!("-{h}"))) {
                    Some(deploy) => ObjectRef::new("Deployment", Some(&ns), deploy).with_api_version("apps/v1"),
                    None => ObjectRef::new("ReplicaSet", Some(&ns), &owner.name).with_api_version("apps/v1"),
                }
            }
            "Job" => {
                let job = self.jobs.get(&(ns.clone(), owner.name.clone())).map(|&i| &ev.jobs[i]);
                if let Some(cj) = job.and_then(|j| controller_of(&j.metadata)).filter(|o| o.kind == "CronJob") {
                    return ObjectRef::new("CronJob", Some(&ns), &cj.name).with_api_version("batch/v1");
                }
                ObjectRef::new("Job", Some(&ns), &owner.name).with_api_version("batch/v1")
            }
            kind => {
                let api = owner.api_version.as_str();
                ObjectRef::new(kind, Some(&ns), &owner.name).with_api_version(api)
            }
        }
    }
}

impl Evidence {
    /// Events about an object, oldest first.
    pub fn events_for(&self, kind: &str, namespace: Option<&str>, name: &str) -> Vec<&crate::EventRecord> {
        self.index
            .events_by_object
            .get(&ObjectKey::new(kind, namespace, name))
            .map(|v| v.iter().map(|&i| &self.events[i]).collect())
            .unwrap_or_default()
    }

    /// The workload that owns pod `i`.
    pub fn workload_of(&self, pod_index: usize) -> &ObjectRef {
        &self.index.workload_of_pod[pod_index]
    }

    pub fn secret(&self, ns: &str, name: &str) -> Option<&crate::SecretInfo> {
        self.index.secrets.get(&(ns.to_string(), name.to_string())).map(|&i| &self.secrets[i])
    }

    pub fn config_map(&self, ns: &str, name: &str) -> Option<&crate::ConfigMapInfo> {
        self.index.config_maps.get(&(ns.to_string(), name.to_string())).map(|&i| &self.config_maps[i])
    }

    pub fn service(&self, ns: &str, name: &str) -> Option<&k8s_openapi::api::core::v1::Service> {
        self.index.services.get(&(ns.to_string(), name.to_string())).map(|&i| &self.services[i])
    }

    pub fn node(&self, name: &str) -> Option<&k8s_openapi::api::core::v1::Node> {
        self.index.nodes.get(name).map(|&i| &self.nodes[i])
    }

    pub fn custom(&self, kind: &str, ns: Option<&str>, name: &str) -> Option<&crate::DynObject> {
        self.index.other.get(&ObjectKey::new(kind, ns, name)).map(|&i| &self.other[i])
    }
}
