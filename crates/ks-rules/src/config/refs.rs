//! What a pod spec reads from Secrets and ConfigMaps, by name: env keys, `envFrom`, volumes
//! and projected volumes. Rules use it to say which container reads a missing object, which
//! keys to create, and where in the workload's template to point the reference elsewhere.

use ks_core::k8s_openapi::api::core::v1::{PodSpec, Volume};
use ks_core::{Evidence, ObjectRef};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Secret,
    ConfigMap,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Secret => "Secret",
            Kind::ConfigMap => "ConfigMap",
        }
    }
    /// kubectl's resource name.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::ConfigMap => "configmap",
        }
    }
}

/// One way a pod reads the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// `env[].valueFrom.{secret,configMap}KeyRef`.
    Env { container: String, var: String, key: String, optional: bool },
    /// `envFrom[].{secret,configMap}Ref`.
    EnvFrom { container: String, optional: bool },
    /// A volume (or a projected volume's source), with its `items[].key`.
    Volume { volume: String, keys: Vec<String>, optional: bool },
}

/// Every reference to `name` in a pod spec.
#[derive(Clone, Debug, Default)]
pub struct Refs {
    pub via: Vec<Via>,
    /// Named in `imagePullSecrets` (Secrets only).
    pub image_pull: bool,
}

impl Refs {
    /// The key names the pod reads, in order, once each.
    pub fn keys(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in &self.via {
            let keys: Vec<&String> = match v {
                Via::Env { key, .. } => vec![key],
                Via::Volume { keys, .. } => keys.iter().collect(),
                Via::EnvFrom { .. } => vec![],
            };
            for k in keys {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
        out
    }

    pub fn has_env_from(&self) -> bool {
        self.via.iter().any(|v| matches!(v, Via::EnvFrom { .. }))
    }

    pub fn volumes(&self) -> Vec<&str> {
        self.via
            .iter()
            .filter_map(|v| match v {
                Via::Volume { volume, .. } => Some(volume.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Short: `env MONGODB_URL and JWT_SECRET of container backend, volume tls`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut containers: Vec<&str> = Vec::new();
        for v in &self.via {
            if let Via::Env { container, .. } | Via::EnvFrom { container, .. } = v
                && !containers.contains(&container.as_str())
            {
                containers.push(container);
            }
        }
        for c in containers {
            let vars: Vec<&str> = self
                .via
                .iter()
                .filter_map(|v| match v {
                    Via::Env { container, var, .. } if container == c => Some(var.as_str()),
                    _ => None,
                })
                .collect();
            let env_from = self.via.iter().any(|v| matches!(v, Via::EnvFrom { container, .. } if container == c));
            let what = match (vars.is_empty(), env_from) {
                (false, true) => format!("env {} and envFrom", crate::util::join_names(&vars)),
                (false, false) => format!("env {}", crate::util::join_names(&vars)),
                (true, _) => "envFrom".to_string(),
            };
            parts.push(format!("{what} of container {c}"));
        }
        for v in self.volumes() {
            parts.push(format!("volume {v}"));
        }
        parts.join(", ")
    }

    /// Every reference spelled out, for evidence:
    /// `env MONGODB_URL <- secretKeyRef backend-secrets/mongodb-url; volume tls <- secret tls`.
    pub fn detail(&self, kind: Kind, name: &str) -> String {
        let (key_ref, from_ref, vol) = match kind {
            Kind::Secret => ("secretKeyRef", "secretRef", "secret"),
            Kind::ConfigMap => ("configMapKeyRef", "configMapRef", "configMap"),
        };
        self.via
            .iter()
            .map(|v| match v {
                Via::Env { var, key, .. } => format!("env {var} <- {key_ref} {name}/{key}"),
                Via::EnvFrom { container, .. } => format!("container {container} envFrom <- {from_ref} {name}"),
                Via::Volume { volume, keys, .. } if keys.is_empty() => format!("volume {volume} <- {vol} {name}"),
                Via::Volume { volume, keys, .. } => {
                    format!("volume {volume} <- {vol} {name} items {}", keys.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn volume_refs(v: &Volume, kind: Kind, name: &str, out: &mut Vec<Via>) {
    let items = |items: Option<&Vec<ks_core::k8s_openapi::api::core::v1::KeyToPath>>| -> Vec<String> {
        items.into_iter().flatten().map(|i| i.key.clone()).collect()
    };
    match kind {
        Kind::Secret => {
            if let Some(s) = v.secret.as_ref().filter(|s| s.secret_name.as_deref() == Some(name)) {
                out.push(Via::Volume {
                    volume: v.name.clone(),
                    keys: items(s.items.as_ref()),
                    optional: s.optional == Some(true),
                });
            }
        }
        Kind::ConfigMap => {
            if let Some(c) = v.config_map.as_ref().filter(|c| c.name == name) {
                out.push(Via::Volume {
                    volume: v.name.clone(),
                    keys: items(c.items.as_ref()),
                    optional: c.optional == Some(true),
                });
            }
        }
    }
    for src in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
        let hit = match kind {
            Kind::Secret => {
                src.secret.as_ref().filter(|s| s.name == name).map(|s| (items(s.items.as_ref()), s.optional))
            }
            Kind::ConfigMap => {
                src.config_map.as_ref().filter(|c| c.name == name).map(|c| (items(c.items.as_ref()), c.optional))
            }
        };
        if let Some((keys, optional)) = hit {
            out.push(Via::Volume { volume: v.name.clone(), keys, optional: optional == Some(true) });
        }
    }
}

/// Every reference to the Secret or ConfigMap `name` in `spec`.
pub fn refs(spec: &PodSpec, kind: Kind, name: &str) -> Refs {
    let mut r = Refs::default();
    for c in spec.init_containers.iter().flatten().chain(spec.containers.iter()) {
        for e in c.env.iter().flatten() {
            let Some(vf) = &e.value_from else { continue };
            let hit = match kind {
                Kind::Secret => {
                    vf.secret_key_ref.as_ref().filter(|s| s.name == name).map(|s| (s.key.clone(), s.optional))
                }
                Kind::ConfigMap => {
                    vf.config_map_key_ref.as_ref().filter(|s| s.name == name).map(|s| (s.key.clone(), s.optional))
                }
            };
            if let Some((key, optional)) = hit {
                r.via.push(Via::Env {
                    container: c.name.clone(),
                    var: e.name.clone(),
                    key,
                    optional: optional == Some(true),
                });
            }
        }
        for ef in c.env_from.iter().flatten() {
            let hit = match kind {
                Kind::Secret => ef.secret_ref.as_ref().filter(|s| s.name == name).map(|s| s.optional),
                Kind::ConfigMap => ef.config_map_ref.as_ref().filter(|s| s.name == name).map(|s| s.optional),
            };
            if let Some(optional) = hit {
                r.via.push(Via::EnvFrom { container: c.name.clone(), optional: optional == Some(true) });
            }
        }
    }
    for v in spec.volumes.iter().flatten() {
        volume_refs(v, kind, name, &mut r.via);
    }
    if kind == Kind::Secret {
        r.image_pull = spec.image_pull_secrets.iter().flatten().any(|s| s.name == name);
    }
    r
}

/// JSON pointers of every `name` field in the workload's template that names the object, for
/// a `kubectl patch --type json` that points the references elsewhere.
pub fn name_pointers(ev: &Evidence, w: &ObjectRef, kind: Kind, name: &str) -> Vec<String> {
    let Some((spec, prefix)) = crate::util::pod_template(ev, w) else { return Vec::new() };
    let mut out = Vec::new();
    let lists =
        [("initContainers", spec.init_containers.as_deref().unwrap_or_default()), ("containers", &spec.containers)];
    for (list, containers) in lists {
        for (ci, c) in containers.iter().enumerate() {
            for (ei, e) in c.env.iter().flatten().enumerate() {
                let Some(vf) = &e.value_from else { continue };
                let field = match kind {
                    Kind::Secret => vf.secret_key_ref.as_ref().filter(|s| s.name == name).map(|_| "secretKeyRef"),
                    Kind::ConfigMap => {
                        vf.config_map_key_ref.as_ref().filter(|s| s.name == name).map(|_| "configMapKeyRef")
                    }
                };
                if let Some(field) = field {
                    out.push(format!("{prefix}/{list}/{ci}/env/{ei}/valueFrom/{field}/name"));
                }
            }
            for (ei, ef) in c.env_from.iter().flatten().enumerate() {
                let field = match kind {
                    Kind::Secret => ef.secret_ref.as_ref().filter(|s| s.name == name).map(|_| "secretRef"),
                    Kind::ConfigMap => ef.config_map_ref.as_ref().filter(|s| s.name == name).map(|_| "configMapRef"),
                };
                if let Some(field) = field {
                    out.push(format!("{prefix}/{list}/{ci}/envFrom/{ei}/{field}/name"));
                }
            }
        }
    }
    for (vi, v) in spec.volumes.iter().flatten().enumerate() {
        match kind {
            Kind::Secret if v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) == Some(name) => {
                out.push(format!("{prefix}/volumes/{vi}/secret/secretName"));
            }
            Kind::ConfigMap if v.config_map.as_ref().is_some_and(|c| c.name == name) => {
                out.push(format!("{prefix}/volumes/{vi}/configMap/name"));
            }
            _ => {}
        }
    }
    out
}

/// JSON pointer of `items[].key == key` in the template volume named `volume`.
pub fn volume_item_pointer(ev: &Evidence, w: &ObjectRef, kind: Kind, volume: &str, key: &str) -> Option<String> {
    let (spec, prefix) = crate::util::pod_template(ev, w)?;
    let (vi, v) = spec.volumes.iter().flatten().enumerate().find(|(_, v)| v.name == volume)?;
    let (field, items) = match kind {
        Kind::Secret => ("secret", v.secret.as_ref()?.items.as_ref()?),
        Kind::ConfigMap => ("configMap", v.config_map.as_ref()?.items.as_ref()?),
    };
    let ii = items.iter().position(|i| i.key == key)?;
    Some(format!("{prefix}/volumes/{vi}/{field}/items/{ii}/key"))
}

/// `kubectl patch --type json` replacing every pointer's value.
pub fn json_patch(w: &ObjectRef, pointers: &[String], value: &str) -> String {
    let ops: Vec<serde_json::Value> =
        pointers.iter().map(|p| serde_json::json!({"op": "replace", "path": p, "value": value})).collect();
    format!(
        "kubectl {}patch {} {} --type json -p '{}'",
        w.ns_flag(),
        w.kind.to_ascii_lowercase(),
        w.name,
        serde_json::Value::Array(ops)
    )
}

/// Names of the kind in the namespace (when collected).
fn names_in<'a>(ev: &'a Evidence, kind: Kind, ns: &'a str) -> Box<dyn Iterator<Item = &'a str> + 'a> {
    match kind {
        Kind::Secret => Box::new(
            ev.secrets
                .iter()
                .filter(move |s| s.metadata.namespace.as_deref() == Some(ns))
                .filter_map(|s| s.metadata.name.as_deref()),
        ),
        Kind::ConfigMap => Box::new(
            ev.config_maps
                .iter()
                .filter(move |s| s.metadata.namespace.as_deref() == Some(ns))
                .filter_map(|s| s.metadata.name.as_deref()),
        ),
    }
}

/// Objects of the kind in `ns` whose names are close to `name` (a typo, a renamed release).
pub fn similar_names(ev: &Evidence, kind: Kind, ns: &str, name: &str) -> Vec<String> {
    let mut scored: Vec<(f64, String)> = names_in(ev, kind, ns)
        .filter(|n| *n != name && *n != "kube-root-ca.crt" && !n.starts_with("sh.helm.release."))
        .filter_map(|n| {
            let s = strsim::normalized_levenshtein(n, name);
            let contains = name.len() >= 4 && n.len() >= 4 && (n.contains(name) || name.contains(n));
            (s >= 0.7 || contains).then(|| (s, n.to_string()))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Other namespaces holding an object of the kind with exactly this name.
pub fn other_namespaces(ev: &Evidence, kind: Kind, ns: &str, name: &str) -> Vec<String> {
    let mut out: Vec<String> = match kind {
        Kind::Secret => ev
            .secrets
            .iter()
            .filter(|s| s.metadata.name.as_deref() == Some(name))
            .filter_map(|s| s.metadata.namespace.clone())
            .collect(),
        Kind::ConfigMap => ev
            .config_maps
            .iter()
            .filter(|s| s.metadata.name.as_deref() == Some(name))
            .filter_map(|s| s.metadata.namespace.clone())
            .collect(),
    };
    out.retain(|n| n != ns);
    out.sort();
    out.dedup();
    out
}

/// The key of `existing` closest to `key` (a rename or a typo), if any is close.
pub fn closest_key(existing: &[String], key: &str) -> Option<String> {
    existing
        .iter()
        .map(|k| (strsim::normalized_levenshtein(k, key), k))
        .filter(|(s, _)| *s >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ks_core::k8s_openapi::api::core::v1::Pod;

    fn spec() -> PodSpec {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "spec": {
                "containers": [{
                    "name": "app",
                    "env": [{"name": "DB", "valueFrom": {"secretKeyRef": {"name": "s", "key": "db-url"}}}],
                    "envFrom": [{"secretRef": {"name": "s"}}]
                }],
                "volumes": [
                    {"name": "tls", "secret": {"secretName": "s", "items": [{"key": "tls.crt", "path": "c"}]}},
                    {"name": "all", "projected": {"sources": [{"secret": {"name": "s"}}, {"configMap": {"name": "c"}}]}}
                ],
                "imagePullSecrets": [{"name": "regcred"}]
            }
        }))
        .unwrap();
        pod.spec.unwrap()
    }

    #[test]
    fn finds_every_reference() {
        let r = refs(&spec(), Kind::Secret, "s");
        assert_eq!(r.via.len(), 4);
        assert_eq!(r.keys(), ["db-url", "tls.crt"]);
        assert!(r.has_env_from());
        assert_eq!(r.volumes(), ["tls", "all"]);
        assert!(!r.image_pull);
        let r = refs(&spec(), Kind::Secret, "regcred");
        assert!(r.via.is_empty() && r.image_pull);
        assert_eq!(refs(&spec(), Kind::ConfigMap, "c").volumes(), ["all"]);
    }

    #[test]
    fn closest_keys() {
        let keys = vec!["mongo-url".to_string(), "jwt-secret".to_string()];
        assert_eq!(closest_key(&keys, "mongodb-url").as_deref(), Some("mongo-url"));
        assert_eq!(closest_key(&keys, "zzz"), None);
    }
}
