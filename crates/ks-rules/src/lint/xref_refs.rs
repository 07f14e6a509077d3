//! The findings of the pod-reference rules (KS1101..KS1106), worded alike for Secrets,
//! ConfigMaps, ServiceAccounts and PVCs: an object the bundle does not define (a warning
//! naming what must exist in the cluster) and a key an object of the bundle lacks (an error).

use ks_core::manifest::FieldPath;
use ks_core::registry::ImageName;
use ks_core::{EvidenceItem, EvidenceSource, Finding, Fix, ManifestDoc, RuleMeta};

use super::pod_templates::PodTemplate;
use super::xref_bundle::{Bundle, Def, Defs, PodRef, RefKind, Use, at, is_placeholder, ns_flag, qualified};
use super::{doc_finding, doc_name};
use crate::Context;
use crate::util::join_names;

/// ConfigMaps the cluster puts in every namespace: the API server's CA bundle (projected into
/// every service-account token volume), OpenShift's service CA, and Istio's root cert.
const AUTO_CONFIGMAPS: &[&str] = &["kube-root-ca.crt", "openshift-service-ca.crt", "istio-ca-root-cert"];

/// The quoted line of a field, as evidence.
pub fn quote(doc: &ManifestDoc, path: &FieldPath) -> EvidenceItem {
    super::quote_line(doc, &doc.locate(path))
}

fn defs<'b, 'a>(b: &'b Bundle<'a>, kind: RefKind) -> &'b Defs<'a> {
    match kind {
        RefKind::Secret => &b.secrets,
        RefKind::ConfigMap => &b.config_maps,
        RefKind::ServiceAccount => &b.service_accounts,
        RefKind::Pvc => &b.pvcs,
    }
}

/// kubectl's resource name.
fn resource(kind: RefKind) -> &'static str {
    match kind {
        RefKind::Secret => "secret",
        RefKind::ConfigMap => "configmap",
        RefKind::ServiceAccount => "serviceaccount",
        RefKind::Pvc => "pvc",
    }
}

/// Names of a StatefulSet's `volumeClaimTemplates`: the controller creates those claims.
fn claim_templates<'a>(t: &PodTemplate<'a>) -> Vec<&'a str> {
    if t.doc.kind != "StatefulSet" {
        return Vec::new();
    }
    t.doc.value["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["metadata"]["name"].as_str())
        .collect()
}

/// References of one kind that must resolve (not optional, not a placeholder, not an object
/// the cluster makes by itself).
fn required_refs<'r, 'a>(t: &PodTemplate<'a>, all: &'r [PodRef<'a>], kind: RefKind) -> Vec<&'r PodRef<'a>> {
    let claims = claim_templates(t);
    all.iter()
        .filter(|r| r.kind == kind && !r.optional && !is_placeholder(r.name))
        .filter(|r| match kind {
            RefKind::ServiceAccount => r.name != "default",
            RefKind::ConfigMap => !AUTO_CONFIGMAPS.contains(&r.name),
            RefKind::Pvc => !claims.contains(&r.name),
            RefKind::Secret => true,
        })
        .collect()
}

/// Group references by name, in the order they are written.
fn by_name<'r, 'a>(refs: &[&'r PodRef<'a>]) -> Vec<(&'a str, Vec<&'r PodRef<'a>>)> {
    let mut out: Vec<(&'a str, Vec<&'r PodRef<'a>>)> = Vec::new();
    for &r in refs {
        match out.iter_mut().find(|(n, _)| *n == r.name) {
            Some((_, v)) => v.push(r),
            None => out.push((r.name, vec![r])),
        }
    }
    out
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// The registry the pod's images come from (for a `docker-registry` Secret's server).
fn registry_of(t: &PodTemplate<'_>) -> String {
    let host = t
        .containers()
        .iter()
        .filter_map(|c| c.image())
        .filter_map(ImageName::parse)
        .map(|n| n.host)
        .find(|h| h != "docker.io");
    host.unwrap_or_else(|| "https://index.docker.io/v1/".to_string())
}

/// What happens at runtime when the object is absent.
fn effect(kind: RefKind, name: &str, ns: Option<&str>, refs: &[&PodRef<'_>]) -> String {
    let first_volume = refs.iter().find(|r| r.use_ == Use::Volume).map(|r| r.via.trim_start_matches("volume "));
    match kind {
        RefKind::Secret | RefKind::ConfigMap => {
            let res = resource(kind);
            if refs.iter().any(|r| r.use_ == Use::Env) {
                format!(
                    "the kubelet refuses to start the container: `{res} \"{name}\" not found` (CreateContainerConfigError)"
                )
            } else if let Some(v) = first_volume {
                format!(
                    "the kubelet cannot mount the volume (`MountVolume.SetUp failed for volume \"{v}\" : {res} \"{name}\" not found`) and the pod stays in ContainerCreating"
                )
            } else {
                "the kubelet pulls the images without these credentials, and an image from a private registry fails with ImagePullBackOff".to_string()
            }
        }
        RefKind::ServiceAccount => format!(
            "no pod can be created: `error looking up service account {}: serviceaccount \"{name}\" not found`",
            qualified(Some(ns.unwrap_or("<namespace>")), name)
        ),
        RefKind::Pvc => format!("the pod stays Pending: `persistentvolumeclaim \"{name}\" not found`"),
    }
}

/// The command that creates the object with the keys the pod reads.
fn create_command(kind: RefKind, ns: Option<&str>, name: &str, refs: &[&PodRef<'_>], t: &PodTemplate<'_>) -> String {
    let n = ns_flag(ns);
    let keys = unique(refs.iter().filter_map(|r| r.key));
    let mut args: Vec<String> = keys.iter().map(|k| format!("--from-literal={k}=<value>")).collect();
    if refs.iter().any(|r| r.use_ == Use::Env && r.key.is_none()) {
        args.push("--from-env-file=<file.env>".to_string());
    }
    if refs.iter().any(|r| r.use_ == Use::Volume && r.key.is_none()) {
        args.push("--from-file=<file>".to_string());
    }
    match kind {
        RefKind::Secret if args.is_empty() && refs.iter().all(|r| r.use_ == Use::ImagePull) => format!(
            "kubectl {n}create secret docker-registry {name} --docker-server={} --docker-username=<user> --docker-password=<password>",
            registry_of(t)
        ),
        RefKind::Secret => format!("kubectl {n}create secret generic {name} {}", args.join(" ")),
        RefKind::ConfigMap => format!("kubectl {n}create configmap {name} {}", args.join(" ")),
        RefKind::ServiceAccount => format!("kubectl {n}create serviceaccount {name}"),
        RefKind::Pvc => format!(
            "kubectl {n}apply -f - <<'EOF'\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: <size, e.g. 10Gi>\nEOF"
        ),
    }
}

/// KS1101, KS1103, KS1105, KS1106: references to objects no manifest of the bundle defines.
pub fn not_in_bundle(cx: &Context<'_>, meta: &'static RuleMeta, kind: RefKind, out: &mut Vec<Finding>) {
    let bundle = &cx.xref().bundle;
    let defs = defs(bundle, kind);
    for (t, all) in cx.xref().templates.iter().zip(&cx.xref().refs) {
        let ns = t.doc.namespace.as_deref();
        let refs = required_refs(t, all, kind);
        for (name, refs) in by_name(&refs) {
            if defs.has(ns, name) {
                continue;
            }
            let k = kind.as_str();
            let keys = unique(refs.iter().filter_map(|r| r.key));
            let what = match keys.len() {
                0 => String::new(),
                1 => format!(" (key {})", keys[0]),
                _ => format!(" (keys {})", join_names(&keys)),
            };
            let q = qualified(ns, name);
            let vias = unique(refs.iter().map(|r| r.via.as_str()));
            let where_ = match ns {
                Some(_) => "the cluster".to_string(),
                None => format!("the namespace {} is applied to", doc_name(t.doc)),
            };
            let mut f = doc_finding(
                meta,
                t.doc,
                &refs[0].path,
                format!("{k} {q}{what} must exist in the cluster; it is not in this bundle"),
                format!(
                    "{} uses {k} {q} ({}), and no manifest in this bundle defines it. It may be created elsewhere (another release, an operator, by hand), but if it is not in {where_} when the pods start, {}.",
                    doc_name(t.doc),
                    vias.join("; "),
                    effect(kind, name, ns, &refs),
                ),
            );
            let mut quoted = vec![refs[0].path.clone()];
            for r in &refs {
                let p = r.key_path.clone().unwrap_or_else(|| r.path.clone());
                if !quoted.contains(&p) && quoted.len() < 6 {
                    f.evidence.push(quote(t.doc, &p));
                    quoted.push(p);
                }
            }
            f.root_key = format!("{}:{}:{}", meta.id, k, q);
            f.fix.push(Fix::cmd(
                format!("Check whether {k} {q} already exists in the cluster"),
                format!("kubectl {}get {} {name}", ns_flag(ns), resource(kind)),
            ));
            f.fix.push(Fix::cmd(format!("If not, create it{what}"), create_command(kind, ns, name, &refs, t)));
            let optional_hint = matches!(kind, RefKind::Secret | RefKind::ConfigMap)
                && refs.iter().all(|r| matches!(r.use_, Use::Env | Use::Volume));
            f.fix.push(Fix::text(if optional_hint {
                format!(
                    "Or add the {k}'s manifest to this bundle so it is applied with {}; if the app can run without it, mark the reference `optional: true` at {}",
                    doc_name(t.doc),
                    at(t.doc, &refs[0].path)
                )
            } else {
                format!("Or add the {k}'s manifest to this bundle so it is applied with {}", doc_name(t.doc))
            }));
            out.push(f);
        }
    }
}

/// The existing key that `key` most likely is after a rename or typo: the same after
/// ignoring case and `-`/`_`/`.`, or within a few edits of it (`mongo-url` for
/// `mongodb-url`; not `tls.crt` for `ca.crt`, which is another file altogether).
fn renamed_key(existing: &[String], key: &str) -> Option<String> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_', '.'], "");
    existing
        .iter()
        .find(|k| norm(k) == norm(key))
        .or_else(|| {
            existing
                .iter()
                .map(|k| (strsim::normalized_levenshtein(k, key), k))
                .filter(|(s, _)| *s >= 0.75)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k)| k)
        })
        .cloned()
}

/// Where a definition's keys are written (its `data`, else where it is named).
fn keys_path(def: &Def<'_>) -> FieldPath {
    for field in ["data", "stringData", "binaryData"] {
        if def.doc.value.get(field).is_some_and(|v| v.is_object()) {
            return FieldPath::parse(field);
        }
    }
    def.path.clone()
}

/// KS1102, KS1104: a key the bundle's Secret or ConfigMap does not have.
pub fn key_missing(cx: &Context<'_>, meta: &'static RuleMeta, kind: RefKind, out: &mut Vec<Finding>) {
    let bundle = &cx.xref().bundle;
    let defs = defs(bundle, kind);
    for (t, all) in cx.xref().templates.iter().zip(&cx.xref().refs) {
        let ns = t.doc.namespace.as_deref();
        let refs = required_refs(t, all, kind);
        // One finding per (object, key), at its first reference.
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for r in &refs {
            let Some(key) = r.key.filter(|k| !is_placeholder(k)) else { continue };
            if seen.contains(&(r.name, key)) {
                continue;
            }
            let found = defs.find(ns, r.name);
            // Absent objects are KS1101/KS1103's; unknown key lists prove nothing.
            let Some(def) = found.first() else { continue };
            if found.iter().any(|d| d.keys.as_ref().is_none_or(|k| k.contains(key))) {
                continue;
            }
            seen.push((r.name, key));
            let same: Vec<&PodRef<'_>> =
                refs.iter().copied().filter(|o| o.name == r.name && o.key == Some(key)).collect();
            let k = kind.as_str();
            let q = qualified(def.ns.or(ns), r.name);
            let have: Vec<&str> = def.keys.iter().flatten().copied().collect();
            let have_text = if have.is_empty() {
                "no keys at all".to_string()
            } else {
                format!("only the keys {}", join_names(&have))
            };
            let def_at = at(def.doc, &keys_path(def));
            let failure = if same.iter().any(|o| o.use_ == Use::Env) {
                format!(
                    "the kubelet refuses to start the container: `couldn't find key {key} in {k} {q}` (CreateContainerConfigError)"
                )
            } else {
                let msg = match kind {
                    RefKind::ConfigMap => format!("configmap references non-existent config key: {key}"),
                    _ => format!("references non-existent secret key: {key}"),
                };
                format!("the kubelet cannot mount {} (`{msg}`) and the pod stays in ContainerCreating", same[0].via)
            };
            let generated =
                if def.doc.kind == k { String::new() } else { format!(" (made from {})", doc_name(def.doc)) };
            let key_path = r.key_path.clone().unwrap_or_else(|| r.path.clone());
            let mut f = doc_finding(
                meta,
                t.doc,
                &key_path,
                format!("{k} {q} has no key {key}"),
                format!(
                    "{} reads key {key} of {k} {q} ({}), but the {k} this bundle defines at {def_at}{generated} has {have_text}. When it is applied as written, {failure}.",
                    doc_name(t.doc),
                    unique(same.iter().map(|o| o.via.as_str())).join("; "),
                ),
            );
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Manifest,
                format!(
                    "{def_at}: {} keys: {}",
                    doc_name(def.doc),
                    if have.is_empty() { "(none)".to_string() } else { have.join(", ") }
                ),
                Some(def.doc.object_ref()),
            ));
            f.root_key = format!("{}:{}:{}:{}", meta.id, k, q, key);
            let add = if def.doc.kind == k {
                match kind {
                    RefKind::ConfigMap => format!("Add the key `{key}` to `data` of {k} {q} at {def_at}"),
                    _ => format!(
                        "Add the key `{key}` to {k} {q} at {def_at} (under `stringData`, or base64-encoded under `data`)"
                    ),
                }
            } else {
                format!("Add the key `{key}` to {} at {def_at}, which generates {k} {q}", doc_name(def.doc))
            };
            f.fix.push(Fix::text(add));
            let owned: Vec<String> = have.iter().map(|s| s.to_string()).collect();
            if let Some(close) = renamed_key(&owned, key) {
                f.fix.push(Fix::text(format!(
                    "Or, if the key was renamed, read the key that exists: set `key: {close}` at {} ({key_path})",
                    at(t.doc, &key_path)
                )));
            }
            if def.doc.kind == k {
                let field = if kind == RefKind::Secret { "stringData" } else { "data" };
                f.fix.push(Fix::cmd(
                    format!("If {k} {q} is already in the cluster, add the key there too"),
                    format!(
                        "kubectl {}patch {} {} --type merge -p '{{\"{field}\":{{\"{key}\":\"<value>\"}}}}'",
                        ns_flag(def.ns.or(ns)),
                        resource(kind),
                        r.name
                    ),
                ));
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::renamed_key;

    #[test]
    fn renamed_keys_are_close_not_merely_similar() {
        let keys: Vec<String> =
            ["mongo-url", "jwt-secret", "tls.crt", "cache_ttl"].iter().map(|s| s.to_string()).collect();
        assert_eq!(renamed_key(&keys, "mongodb-url").as_deref(), Some("mongo-url"));
        assert_eq!(renamed_key(&keys, "cache-ttl").as_deref(), Some("cache_ttl"));
        assert_eq!(renamed_key(&keys, "ca.crt"), None);
        assert_eq!(renamed_key(&keys, "api-key"), None);
    }
}
