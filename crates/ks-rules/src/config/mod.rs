//! Configuration references: Secrets, ConfigMaps and ServiceAccounts a pod needs. The kubelet
//! reports a missing object or key as `CreateContainerConfigError` (env references) or
//! `FailedMount` (volumes); both are classified once in [`crate::facts`]. The shared builders
//! below word the Secret and ConfigMap rules alike.

pub mod configmap_key_missing;
pub mod configmap_missing;
pub mod refs;
pub mod secret_key_missing;
pub mod secret_missing;
pub mod service_account_missing;

use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleMeta};

use crate::facts::{ProblemKind, pod_ref};
use crate::util::{self, ns_flag};
use crate::{Context, Rule};
use refs::Kind;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[
    &secret_key_missing::SecretKeyMissing,
    &secret_missing::SecretMissing,
    &configmap_missing::ConfigmapMissing,
    &configmap_key_missing::ConfigmapKeyMissing,
    &service_account_missing::ServiceAccountMissing,
];

/// Where the kubelet noticed the missing object.
enum Seen<'a> {
    /// Building a container's config (env references).
    Container(&'a str),
    /// Mounting a volume.
    Volume(String),
}

/// Findings for Secrets or ConfigMaps a pod references and its namespace does not have.
pub fn missing_findings(cx: &Context<'_>, meta: &'static RuleMeta, kind: Kind, out: &mut Vec<Finding>) {
    let ev = cx.ev;
    let cause = match kind {
        Kind::Secret => Cause::ConfigSecretMissing,
        Kind::ConfigMap => Cause::ConfigConfigmapMissing,
    };
    let from_env = util::problems(cx, ProblemKind::Config, cause)
        .map(|p| (p.pod, p.details.get("name").cloned(), Seen::Container(p.container.as_str()), &p.evidence));
    let from_volumes = cx.facts.mounts.iter().filter(|m| m.cause == cause).map(|m| {
        (
            m.pod,
            m.details.get("name").cloned(),
            Seen::Volume(m.details.get("volume").cloned().unwrap_or_default()),
            &m.evidence,
        )
    });
    for (i, name, seen, quoted) in from_env.chain(from_volumes) {
        let Some(name) = name.filter(|n| !n.is_empty()) else { continue };
        let (ns, _) = util::pod_names(ev, i);
        let ns = ns.to_string();
        let collected = ev.has_collected(kind.as_str());
        let exists = match kind {
            Kind::Secret => ev.secret(&ns, &name).is_some(),
            Kind::ConfigMap => ev.config_map(&ns, &name).is_some(),
        };
        // It exists now: the kubelet's retry will find it, the report is stale.
        if collected && exists {
            continue;
        }
        let r = ev.pods[i].spec.as_ref().map(|s| refs::refs(s, kind, &name)).unwrap_or_default();
        // A missing pull secret is an image pull problem (image.auth), never this.
        if r.via.is_empty() && r.image_pull {
            continue;
        }
        let w = ev.workload_of(i).clone();
        let k = kind.as_str();
        let effect = match &seen {
            Seen::Container(c) => {
                format!("the kubelet cannot build the config of container {c} (CreateContainerConfigError)")
            }
            Seen::Volume(v) => format!("the kubelet cannot mount volume {v} and the pod stays in ContainerCreating"),
        };
        let reads =
            if r.via.is_empty() { format!("needs {k} {name}") } else { format!("needs {k} {name} ({})", r.describe()) };
        let mut root =
            format!("{} {} {reads}, but namespace {ns} has no {k} of that name, so {effect}.", w.kind, w.name);
        let others = if collected { refs::other_namespaces(ev, kind, &ns, &name) } else { Vec::new() };
        let similar = if collected { refs::similar_names(ev, kind, &ns, &name) } else { Vec::new() };
        if !others.is_empty() {
            root.push_str(&format!(
                " A {k} named {name} exists in namespace {}; a pod can only use {k}s of its own namespace.",
                util::join_names(&others)
            ));
        }
        if !similar.is_empty() {
            root.push_str(&format!(" Namespace {ns} has similarly named {k}s: {}.", similar.join(", ")));
        }
        let root_ca = kind == Kind::ConfigMap && name == "kube-root-ca.crt";
        if root_ca {
            root = format!(
                "Every pod's service-account token volume mounts ConfigMap kube-root-ca.crt, which kube-controller-manager's root-ca-cert-publisher creates in each namespace; namespace {ns} does not have it, so {effect}. The controller-manager is not running, is unhealthy, or has not reached this new namespace yet."
            );
        }
        let mut f = util::finding(meta, w.clone(), format!("{k} {ns}/{name} does not exist"), root);
        f.affected.push(pod_ref(&ev.pods[i]));
        f.evidence = quoted.clone();
        if !r.via.is_empty() {
            f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, r.detail(kind, &name), Some(w.clone())));
        }
        for o in &others {
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("{k} {o}/{name} exists"),
                Some(ObjectRef::new(k, Some(o), &name)),
            ));
        }
        if !similar.is_empty() {
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("{k}s in {ns} with similar names: {}", similar.join(", ")),
                Some(ObjectRef::new("Namespace", None, &ns)),
            ));
        }
        f.root_key = format!("{}:{ns}/{name}", kind.resource());
        if root_ca {
            f.fix.push(Fix::cmd(
                "Check kube-controller-manager (it publishes kube-root-ca.crt into every namespace)",
                "kubectl -n kube-system get pods -l component=kube-controller-manager -o wide",
            ));
            f.fix.push(Fix::cmd(
                "Look for root-ca-cert-publisher errors in its log",
                "kubectl -n kube-system logs -l component=kube-controller-manager --tail=200 | grep -i root-ca",
            ));
            out.push(f);
            continue;
        }
        let res = kind.resource();
        let keys = r.keys();
        f.fix.push(Fix::cmd(
            if keys.is_empty() {
                format!("Create {k} {name} in {ns}")
            } else {
                format!("Create {k} {name} in {ns} with the keys the pod reads ({})", keys.join(", "))
            },
            create_command(kind, &ns, &name, &r),
        ));
        for o in &others {
            let fields = match kind {
                Kind::Secret => "{apiVersion, kind, type, data, metadata: {name: .metadata.name}}",
                Kind::ConfigMap => "{apiVersion, kind, data, binaryData, metadata: {name: .metadata.name}}",
            };
            f.fix.push(Fix::cmd(
                format!("or copy {k} {name} from namespace {o} into {ns} (values are piped, never printed)"),
                format!("kubectl -n {o} get {res} {name} -o json | jq '{fields}' | kubectl -n {ns} apply -f -"),
            ));
        }
        let pointers = refs::name_pointers(ev, &w, kind, &name);
        if let (Some(s), false) = (similar.first(), pointers.is_empty()) {
            f.fix.push(Fix::cmd(
                format!("or, if {s} is the one meant, point {} {} at it", w.kind, w.name),
                refs::json_patch(&w, &pointers, s),
            ));
        }
        if matches!(seen, Seen::Container(_))
            && let Some(rs) = util::restart_workload(&w)
        {
            f.fix.push(rs);
        }
        out.push(f);
    }
}

/// `kubectl create secret|configmap` with the keys the pod reads.
fn create_command(kind: Kind, ns: &str, name: &str, r: &refs::Refs) -> String {
    let keys = r.keys();
    let volume_keys: Vec<String> = r
        .via
        .iter()
        .filter_map(|v| match v {
            refs::Via::Volume { keys, .. } => Some(keys.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let tlsish = |s: &str| s.contains("tls") || s.contains("cert");
    let head = format!("kubectl {}create", ns_flag(ns));
    match kind {
        Kind::Secret => {
            let tls = keys.iter().all(|k| k == "tls.crt" || k == "tls.key" || k == "ca.crt")
                && (!keys.is_empty()
                    || (!r.volumes().is_empty() && (tlsish(name) || r.volumes().iter().any(|v| tlsish(v)))));
            if tls {
                return format!("{head} secret tls {name} --cert=<path/to/tls.crt> --key=<path/to/tls.key>");
            }
            if keys.is_empty() {
                return if r.has_env_from() || r.volumes().is_empty() {
                    format!("{head} secret generic {name} --from-env-file=<{name}.env>")
                } else {
                    format!("{head} secret generic {name} --from-file=<path/to/file>")
                };
            }
            let lits: Vec<String> = keys.iter().map(|k| format!("--from-literal={k}=<value>")).collect();
            format!("{head} secret generic {name} {}", lits.join(" "))
        }
        Kind::ConfigMap => {
            if keys.is_empty() {
                return if r.has_env_from() || r.volumes().is_empty() {
                    format!("{head} configmap {name} --from-env-file=<{name}.env>")
                } else {
                    format!("{head} configmap {name} --from-file=<path/to/file>")
                };
            }
            let args: Vec<String> = keys
                .iter()
                .map(|k| {
                    if volume_keys.contains(k) {
                        format!("--from-file={k}=<path/to/{k}>")
                    } else {
                        format!("--from-literal={k}=<value>")
                    }
                })
                .collect();
            format!("{head} configmap {name} {}", args.join(" "))
        }
    }
}

/// Findings for env or volume references to a key the Secret or ConfigMap does not have.
pub fn key_missing_findings(cx: &Context<'_>, meta: &'static RuleMeta, kind: Kind, out: &mut Vec<Finding>) {
    let ev = cx.ev;
    let (cause, ref_field) = match kind {
        Kind::Secret => (Cause::ConfigSecretKeyMissing, "secretKeyRef"),
        Kind::ConfigMap => (Cause::ConfigConfigmapKeyMissing, "configMapKeyRef"),
    };
    let k = kind.as_str();
    let res = kind.resource();
    let data_field = match kind {
        Kind::Secret => "stringData",
        Kind::ConfigMap => "data",
    };
    let existing_keys = |ns: &str, name: &str| -> Vec<String> {
        match kind {
            Kind::Secret => ev.secret(ns, name).filter(|s| s.keys_known).map(|s| s.keys.iter().cloned().collect()),
            Kind::ConfigMap => {
                ev.config_map(ns, name).filter(|c| c.keys_known).map(|c| c.keys.iter().cloned().collect())
            }
        }
        .unwrap_or_default()
    };
    let add_key = |ns: &str, name: &str, key: &str| {
        Fix::cmd(
            format!("Add the key {key} to the {k}"),
            format!(
                "kubectl {}patch {res} {name} --type merge -p '{{\"{data_field}\":{{\"{key}\":\"<value>\"}}}}'",
                ns_flag(ns)
            ),
        )
    };
    for p in util::problems(cx, ProblemKind::Config, cause) {
        let (pod_ns, _) = util::pod_names(ev, p.pod);
        let key = p.details.get("key").cloned().unwrap_or_default();
        let ns = p.details.get("ns").cloned().unwrap_or_else(|| pod_ns.to_string());
        let name = p.details.get("name").cloned().unwrap_or_default();
        let workload = ev.workload_of(p.pod).clone();
        // Which env var reads it, from the container spec.
        let env_var = util::container_spec(ev, p.pod, &p.container).and_then(|c| {
            c.env.iter().flatten().find_map(|e| {
                let vf = e.value_from.as_ref()?;
                let (n, kk) = match kind {
                    Kind::Secret => vf.secret_key_ref.as_ref().map(|r| (&r.name, &r.key))?,
                    Kind::ConfigMap => vf.config_map_key_ref.as_ref().map(|r| (&r.name, &r.key))?,
                };
                (*n == name && *kk == key).then(|| e.name.clone())
            })
        });
        let existing = existing_keys(&ns, &name);
        let reads = match &env_var {
            Some(v) => format!("The container {} reads env {v} from {ref_field} {name}/{key}.", p.container),
            None => format!("The container {} references key {key} of {k} {name}.", p.container),
        };
        let keys_sentence = if existing.is_empty() {
            format!("The {k} exists but does not hold that key.")
        } else {
            format!("The {k} exists but its keys are: {}.", existing.join(", "))
        };
        let root = format!("{reads} {keys_sentence} The kubelet will not start the container until the key exists.");
        let mut f = util::problem_finding(meta, cx, p, format!("{k} {ns}/{name} has no key {key}"), root);
        f.root_key = format!("{res}-key:{ns}/{name}:{key}");
        if let Some(v) = &env_var {
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("env {v} <- {ref_field} {name}/{key}"),
                Some(workload.clone()),
            ));
        }
        if !existing.is_empty() {
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("{k} {ns}/{name} keys: {}", existing.join(", ")),
                Some(ObjectRef::new(k, Some(&ns), &name)),
            ));
        }
        f.fix.push(add_key(&ns, &name, &key));
        let closest = refs::closest_key(&existing, &key);
        let pointer = env_var.as_deref().and_then(|v| util::template_env_pointer(ev, &workload, &p.container, v));
        if let (Some(c), Some(ptr)) = (closest, pointer) {
            f.fix.push(Fix::cmd(
                format!("or read the key that exists ({c}) instead"),
                util::json_patch_replace(&workload, &format!("{ptr}/valueFrom/{ref_field}/key"), &c),
            ));
        }
        if let Some(r) = util::restart_workload(&workload) {
            f.fix.push(r);
        }
        out.push(f);
    }
    // Volumes with `items[].key` that the object lacks.
    for m in cx.facts.mounts.iter().filter(|m| m.cause == cause) {
        let (ns, _) = util::pod_names(ev, m.pod);
        let key = m.details.get("key").cloned().unwrap_or_default();
        let volume = m.details.get("volume").cloned().unwrap_or_default();
        let vol = ev.pods[m.pod]
            .spec
            .as_ref()
            .and_then(|s| s.volumes.as_ref())
            .and_then(|vs| vs.iter().find(|v| v.name == volume));
        let obj_name = match kind {
            Kind::Secret => vol.and_then(|v| v.secret.as_ref()).and_then(|s| s.secret_name.clone()),
            Kind::ConfigMap => vol.and_then(|v| v.config_map.as_ref()).map(|c| c.name.clone()),
        }
        .unwrap_or_else(|| volume.clone());
        let workload = ev.workload_of(m.pod).clone();
        let existing = existing_keys(ns, &obj_name);
        let keys_phrase =
            if existing.is_empty() { String::new() } else { format!(" (its keys are: {})", existing.join(", ")) };
        let mut f = util::finding(
            meta,
            workload.clone(),
            format!("{k} {ns}/{obj_name} has no key {key}"),
            format!(
                "Volume {volume} projects key {key} of {k} {obj_name}, which the {k} does not have{keys_phrase}; the kubelet cannot mount the volume, so the pod stays in ContainerCreating."
            ),
        );
        f.affected.push(pod_ref(&ev.pods[m.pod]));
        f.evidence = m.evidence.clone();
        f.evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("volume {volume} <- {k} {obj_name} items[].key {key}"),
            Some(workload.clone()),
        ));
        if !existing.is_empty() {
            f.evidence.push(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("{k} {ns}/{obj_name} keys: {}", existing.join(", ")),
                Some(ObjectRef::new(k, Some(ns), &obj_name)),
            ));
        }
        f.root_key = format!("{res}-key:{ns}/{obj_name}:{key}");
        f.fix.push(add_key(ns, &obj_name, &key));
        let closest = refs::closest_key(&existing, &key);
        let pointer = refs::volume_item_pointer(ev, &workload, kind, &volume, &key);
        if let (Some(c), Some(ptr)) = (closest, pointer) {
            f.fix.push(Fix::cmd(
                format!("or project the key that exists ({c}) instead"),
                util::json_patch_replace(&workload, &ptr, &c),
            ));
        }
        out.push(f);
    }
}
