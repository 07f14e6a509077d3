use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::facts::ProblemKind;
use crate::util::{self, ns_flag};
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// A container whose `env[].valueFrom.secretKeyRef` (or a secret volume's `items[].key`)
    /// names a key that the Secret does not have. The kubelet refuses to create the container:
    /// the pod sits in `CreateContainerConfigError` (or `ContainerCreating` for volumes).
    ///
    /// ### Why it breaks
    /// The Secret exists, so nothing fails at apply time, but the key was renamed, misspelt,
    /// or never added. The kubelet will not start the container until the key exists or the
    /// reference is marked `optional: true`.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `couldn't find key <key> in Secret <ns>/<name>`;
    /// `kubectl get secret <name> -o jsonpath='{.data}'` lists the keys that exist.
    ///
    /// ### Fix
    /// Add the key to the Secret, or point the reference at the key that exists.
    ///
    /// ### Prevention
    /// Lint manifests in CI: `kubesleuth lint` checks secretKeyRef keys against the Secrets in
    /// the bundle. Keep Secret generation and the Deployment that reads it in one release.
    ///
    /// ### Example
    /// `couldn't find key mongodb-url in Secret shop/backend-secrets` while the Secret holds
    /// `mongo-url`.
    pub static META = {
        id: "KS0201",
        name: "secret-key-missing",
        cause: Cause::ConfigSecretKeyMissing,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "a secretKeyRef names a key the Secret does not have",
    }
}

pub struct SecretKeyMissing;

impl Rule for SecretKeyMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for p in util::problems(cx, ProblemKind::Config, Cause::ConfigSecretKeyMissing) {
            let (pod_ns, _) = util::pod_names(ev, p.pod);
            let key = p.details.get("key").cloned().unwrap_or_default();
            let ns = p.details.get("ns").cloned().unwrap_or_else(|| pod_ns.to_string());
            let name = p.details.get("name").cloned().unwrap_or_default();
            let workload = ev.workload_of(p.pod).clone();
            // Which env var reads it, from the container spec.
            let env_var = util::container_spec(ev, p.pod, &p.container).and_then(|c| {
                c.env.iter().flatten().find_map(|e| {
                    let r = e.value_from.as_ref()?.secret_key_ref.as_ref()?;
                    (r.name == name && r.key == key).then(|| e.name.clone())
                })
            });
            let secret = ev.secret(&ns, &name);
            let existing: Vec<String> =
                secret.filter(|s| s.keys_known).map(|s| s.keys.iter().cloned().collect()).unwrap_or_default();
            let reads = match &env_var {
                Some(v) => format!("The container {} reads env {v} from secretKeyRef {name}/{key}.", p.container),
                None => format!("The container {} references key {key} of Secret {name}.", p.container),
            };
            let keys_sentence = if existing.is_empty() {
                "The Secret exists but does not hold that key.".to_string()
            } else {
                format!("The Secret exists but its keys are: {}.", existing.join(", "))
            };
            let root =
                format!("{reads} {keys_sentence} The kubelet will not start the container until the key exists.");
            let mut f = util::problem_finding(&META, cx, p, format!("Secret {ns}/{name} has no key {key}"), root);
            f.root_key = format!("secret-key:{ns}/{name}:{key}");
            if let Some(v) = &env_var {
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Spec,
                    format!("env {v} <- secretKeyRef {name}/{key}"),
                    Some(workload.clone()),
                ));
            }
            if !existing.is_empty() {
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Spec,
                    format!("Secret {ns}/{name} keys: {}", existing.join(", ")),
                    Some(ks_core::ObjectRef::new("Secret", Some(&ns), &name)),
                ));
            }
            f.fix.push(Fix::cmd(
                format!("Add the key {key} to the Secret"),
                format!(
                    "kubectl {}patch secret {name} --type merge -p '{{\"stringData\":{{\"{key}\":\"<value>\"}}}}'",
                    ns_flag(&ns)
                ),
            ));
            let closest = existing
                .iter()
                .map(|k| (strsim::normalized_levenshtein(k, &key), k))
                .filter(|(s, _)| *s >= 0.5)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k)| k.clone());
            let pointer = env_var.as_deref().and_then(|v| util::template_env_pointer(ev, &workload, &p.container, v));
            if let (Some(k), Some(ptr)) = (closest, pointer) {
                f.fix.push(Fix::cmd(
                    format!("or read the key that exists ({k}) instead"),
                    util::json_patch_replace(&workload, &format!("{ptr}/valueFrom/secretKeyRef/key"), &k),
                ));
            }
            if let Some(r) = util::restart_workload(&workload) {
                f.fix.push(r);
            }
            out.push(f);
        }
        // Secret volumes with `items[].key` that the Secret lacks.
        for m in cx.facts.mounts.iter().filter(|m| m.cause == Cause::ConfigSecretKeyMissing) {
            let (ns, _) = util::pod_names(ev, m.pod);
            let key = m.details.get("key").cloned().unwrap_or_default();
            let volume = m.details.get("volume").cloned().unwrap_or_default();
            let secret_name = ev.pods[m.pod]
                .spec
                .as_ref()
                .and_then(|s| s.volumes.as_ref())
                .and_then(|vs| vs.iter().find(|v| v.name == volume))
                .and_then(|v| v.secret.as_ref())
                .and_then(|s| s.secret_name.clone())
                .unwrap_or_else(|| volume.clone());
            let mut f = util::finding(
                &META,
                ev.workload_of(m.pod).clone(),
                format!("Secret {ns}/{secret_name} has no key {key}"),
                format!(
                    "Volume {volume} projects key {key} of Secret {secret_name}, which the Secret does not have; the kubelet cannot mount the volume, so the pod stays in ContainerCreating."
                ),
            );
            f.affected.push(crate::facts::pod_ref(&ev.pods[m.pod]));
            f.evidence = m.evidence.clone();
            f.root_key = format!("secret-key:{ns}/{secret_name}:{key}");
            f.fix.push(Fix::cmd(
                format!("Add the key {key} to the Secret"),
                format!("kubectl {}patch secret {secret_name} --type merge -p '{{\"stringData\":{{\"{key}\":\"<value>\"}}}}'", ns_flag(ns)),
            ));
            out.push(f);
        }
    }
}
