//! Turn one JSON object into evidence, recognised by its `kind` and `apiVersion` (never by
//! file name). Lists are unpacked by the caller.

use ks_core::{ConfigMapInfo, DynObject, EventRecord, Evidence, SecretInfo};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The `kind`/`apiVersion` head of an object, read without touching the rest.
#[derive(serde::Deserialize, Default)]
pub struct Head {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(rename = "apiVersion", default)]
    pub api_version: Option<String>,
}

/// An object's JSON: text (snapshots, the API) or an already decoded value (manifests).
trait Json {
    fn typed<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error>;
    fn value(&self) -> Result<Arc<serde_json::Value>, serde_json::Error>;
}

impl Json for &str {
    fn typed<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self)
    }
    fn value(&self) -> Result<Arc<serde_json::Value>, serde_json::Error> {
        serde_json::from_str(self).map(Arc::new)
    }
}

impl Json for &serde_json::Value {
    fn typed<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(*self)
    }
    fn value(&self) -> Result<Arc<serde_json::Value>, serde_json::Error> {
        Ok(Arc::new((*self).clone()))
    }
}

/// A manifest document's tree, which the untyped copy shares rather than clones.
impl Json for &Arc<serde_json::Value> {
    fn typed<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&***self)
    }
    fn value(&self) -> Result<Arc<serde_json::Value>, serde_json::Error> {
        Ok(Arc::clone(self))
    }
}

macro_rules! kinds {
    ($ev:ident, $kind:ident, $api:ident, $raw:ident; $($k:literal, $a:literal => $field:ident: $ty:ty;)*) => {
        match ($kind, $api) {
            $(($k, $a) => { $ev.$field.push($raw.typed::<$ty>()?); true })*
            _ => false,
        }
    };
}

/// Add one object. `kind` and `api_version` come from the object or, for items of a typed
/// list (`PodList`) that omit them, from the list.
pub fn add_object(ev: &mut Evidence, kind: &str, api_version: &str, raw: &str) -> Result<(), serde_json::Error> {
    add(ev, kind, api_version, raw)
}

/// [`add_object`] for a document already decoded (a manifest), without writing it out as
/// text and reading it back.
pub fn add_value(
    ev: &mut Evidence,
    kind: &str,
    api_version: &str,
    value: &serde_json::Value,
) -> Result<(), serde_json::Error> {
    add(ev, kind, api_version, value)
}

/// [`add_value`] for a tree the caller keeps too: the untyped copy shares it.
pub fn add_shared(
    ev: &mut Evidence,
    kind: &str,
    api_version: &str,
    value: &Arc<serde_json::Value>,
) -> Result<(), serde_json::Error> {
    add(ev, kind, api_version, value)
}

fn add(ev: &mut Evidence, kind: &str, api_version: &str, raw: impl Json) -> Result<(), serde_json::Error> {
    use ks_core::k8s_openapi::api::apps::v1 as apps;
    use ks_core::k8s_openapi::api::batch::v1 as batch;
    use ks_core::k8s_openapi::api::core::v1 as core;
    use ks_core::k8s_openapi::api::discovery::v1 as discovery;
    use ks_core::k8s_openapi::api::networking::v1 as networking;
    use ks_core::k8s_openapi::api::storage::v1 as storage;

    // Events come in two API groups; both reduce to one record.
    if kind == "Event" && (api_version == "v1" || api_version == "events.k8s.io/v1") {
        ev.events.push(raw.typed::<EventRecord>()?);
        return Ok(());
    }
    if kind == "Secret" && api_version == "v1" {
        ev.secrets.push(raw.typed::<SecretInfo>()?);
        return Ok(());
    }
    if kind == "ConfigMap" && api_version == "v1" {
        ev.config_maps.push(raw.typed::<ConfigMapInfo>()?);
        return Ok(());
    }
    let known = kinds! { ev, kind, api_version, raw;
        "Pod", "v1" => pods: Box<core::Pod>;
        "Node", "v1" => nodes: core::Node;
        "Service", "v1" => services: core::Service;
        "Endpoints", "v1" => endpoints: core::Endpoints;
        "PersistentVolumeClaim", "v1" => pvcs: core::PersistentVolumeClaim;
        "PersistentVolume", "v1" => pvs: core::PersistentVolume;
        "Namespace", "v1" => namespaces: core::Namespace;
        "ServiceAccount", "v1" => service_accounts: core::ServiceAccount;
        "Deployment", "apps/v1" => deployments: apps::Deployment;
        "ReplicaSet", "apps/v1" => replica_sets: apps::ReplicaSet;
        "StatefulSet", "apps/v1" => stateful_sets: apps::StatefulSet;
        "DaemonSet", "apps/v1" => daemon_sets: apps::DaemonSet;
        "Job", "batch/v1" => jobs: batch::Job;
        "CronJob", "batch/v1" => cron_jobs: batch::CronJob;
        "EndpointSlice", "discovery.k8s.io/v1" => endpoint_slices: discovery::EndpointSlice;
        "Ingress", "networking.k8s.io/v1" => ingresses: networking::Ingress;
        "IngressClass", "networking.k8s.io/v1" => ingress_classes: networking::IngressClass;
        "StorageClass", "storage.k8s.io/v1" => storage_classes: storage::StorageClass;
    };
    if known {
        return Ok(());
    }
    // Everything else (custom resources, older API versions) is kept as JSON.
    let value = raw.value()?;
    let metadata = match value.get("metadata") {
        Some(m) => serde_json::from_value(m.clone())?,
        None => Default::default(),
    };
    ev.other.push(DynObject { api_version: api_version.to_string(), kind: kind.to_string(), metadata, value });
    Ok(())
}

/// The item kind of a typed list: `PodList` → `Pod`.
pub fn item_kind(list_kind: &str) -> Option<&str> {
    list_kind.strip_suffix("List").filter(|k| !k.is_empty())
}
