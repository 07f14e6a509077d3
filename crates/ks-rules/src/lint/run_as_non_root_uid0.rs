use ks_core::{Cause, Fix, RuleKind, Severity, declare_rule};
use serde_json::Value;

use super::pod_templates::PodTemplate;
use super::{doc_finding, doc_name};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A container whose effective securityContext has both `runAsNonRoot: true` and
    /// `runAsUser: 0`: both in the pod-level securityContext, `runAsNonRoot: true` on the pod
    /// and `runAsUser: 0` on a container, or the other way round. The container-level value
    /// of each field overrides the pod-level one, field by field. Sidecars that an injector
    /// adds with `runAsNonRoot: true` and no user of their own (Dapr's `daprd`) are named
    /// too when the pod-level `runAsUser: 0` reaches them.
    ///
    /// ### Why it breaks
    /// The kubelet refuses to create the container: `Error: container's runAsUser breaks
    /// non-root policy (pod: "web-7d9c-x2k4q_shop(…)", container: web)`. The pod stays in
    /// `CreateContainerConfigError`; the API server accepts the manifest, so nothing fails
    /// until the pod starts.
    ///
    /// ### How to confirm
    /// `kubectl get deploy NAME -o jsonpath='{.spec.template.spec.securityContext}'` and
    /// `{.spec.template.spec.containers[*].securityContext}` show where each value comes
    /// from; `kubectl describe pod` shows the error above.
    ///
    /// ### Fix
    /// Decide per container: a container that must run as root gets `runAsNonRoot: false`
    /// in its own securityContext; every other container gets a non-root numeric
    /// `runAsUser` (one its image's files allow). Never set `runAsUser: 0` at the pod level.
    ///
    /// ### Prevention
    /// Keep the pod-level securityContext to what every container, injected sidecars
    /// included, can satisfy, and set users per container.
    ///
    /// ### Example
    /// Seed 002 (S2.4): `securityContext: {runAsNonRoot: true, runAsUser: 0}` copied between
    /// values files while trying to get a Dapr app to start.
    pub static META = {
        id: "KS1203",
        name: "run-as-non-root-with-uid-0",
        cause: Cause::SecurityRunAsNonRoot,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "a container's securityContext requires runAsNonRoot but sets runAsUser 0",
    }
}

pub struct RunAsNonRootWithUid0;

/// `runAsNonRoot` and `runAsUser` as written in one securityContext.
#[derive(Clone, Copy, Debug, Default)]
pub struct UserFields {
    pub non_root: Option<bool>,
    pub user: Option<i64>,
}

impl UserFields {
    pub fn of(sc: &Value) -> UserFields {
        UserFields { non_root: sc["runAsNonRoot"].as_bool(), user: sc["runAsUser"].as_i64() }
    }
}

/// The containers (declared in the template) that a pod-level `runAsUser: 0` makes
/// contradict `runAsNonRoot: true`: those without a user of their own whose effective
/// runAsNonRoot is true.
pub fn pod_uid0_victims<'a>(tpl: &PodTemplate<'a>) -> Vec<&'a str> {
    let pod = UserFields::of(tpl.security_context());
    if pod.user != Some(0) {
        return Vec::new();
    }
    tpl.containers()
        .into_iter()
        .filter(|c| {
            let own = UserFields::of(&c.value["securityContext"]);
            own.user.is_none() && own.non_root.or(pod.non_root) == Some(true)
        })
        .map(|c| c.name)
        .collect()
}

impl Rule for RunAsNonRootWithUid0 {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for tpl in cx.pod_templates() {
            let doc = tpl.doc;
            let pod = UserFields::of(tpl.security_context());
            let pod_sc_path = tpl.spec_path().key("securityContext");

            // A pod-level runAsUser: 0: one finding at that field for every container it hits.
            let victims = pod_uid0_victims(tpl);
            let injected = super::injected_sidecars::inheriting_uid0(tpl);
            if !victims.is_empty() {
                let mut names: Vec<String> = victims.iter().map(|s| s.to_string()).collect();
                names.extend(injected.iter().map(|(inj, c)| format!("the {inj} sidecar {c}")));
                let nr_where = if pod.non_root == Some(true) {
                    "the pod-level securityContext".to_string()
                } else {
                    format!("the container securityContext of {}", util::join_names(&victims))
                };
                let mut f = doc_finding(
                    &META,
                    doc,
                    &pod_sc_path.clone().key("runAsUser"),
                    format!("Pod-level runAsUser: 0 contradicts runAsNonRoot: true in {}", doc_name(doc)),
                    format!(
                        "{} sets runAsUser: 0 for the whole pod and {nr_where} sets runAsNonRoot: true, so the kubelet refuses to create {} with `container's runAsUser breaks non-root policy`, and the pod stays in CreateContainerConfigError.",
                        doc_name(doc),
                        util::join_names(&names)
                    ),
                );
                f.fix.push(Fix::text(format!(
                    "In {}, delete `runAsUser: 0` from {pod_sc_path} so each container runs as its image's (numeric, non-root) user, or set a non-root UID there (`runAsUser: 10001`, one the images' files allow)",
                    doc.file
                )));
                f.fix.push(Fix::text(
                    "If one container really needs root, give only that container `securityContext: {runAsUser: 0, runAsNonRoot: false}`",
                ));
                f.fix.push(Fix::cmd(
                    "or remove it from the live object until the manifest is applied",
                    format!(
                        "kubectl {}patch {} --type=json -p '[{{\"op\":\"remove\",\"path\":\"/{}/runAsUser\"}}]'",
                        tpl.ns_flag(),
                        tpl.kubectl_ref(),
                        pod_sc_path.0.iter().map(seg_text).collect::<Vec<_>>().join("/")
                    ),
                ));
                out.push(f);
            }

            // A container-level runAsUser: 0 under an effective runAsNonRoot: true.
            for c in tpl.containers() {
                let own = UserFields::of(&c.value["securityContext"]);
                if own.user != Some(0) || own.non_root.or(pod.non_root) != Some(true) {
                    continue;
                }
                let from_pod = own.non_root.is_none();
                let path = c.field("securityContext").key("runAsUser");
                let mut f = doc_finding(
                    &META,
                    doc,
                    &path,
                    format!(
                        "Container {} of {} sets runAsUser: 0 but runAsNonRoot: true forbids root",
                        c.name,
                        doc_name(doc)
                    ),
                    format!(
                        "Container {} sets runAsUser: 0 and {} sets runAsNonRoot: true; the kubelet refuses to create it (`container's runAsUser breaks non-root policy`), so the pod stays in CreateContainerConfigError.",
                        c.name,
                        if from_pod { "the pod-level securityContext" } else { "its own securityContext" }
                    ),
                );
                f.fix.push(Fix::text(format!(
                    "If {} must run as root, allow it for that container only: set `runAsNonRoot: false` in {}",
                    c.name,
                    c.field("securityContext")
                )));
                f.fix.push(Fix::text(format!(
                    "otherwise set {path} to a non-root UID the image's files allow (e.g. `runAsUser: 10001`) in {}",
                    doc.file
                )));
                out.push(f);
            }
        }
    }
}

fn seg_text(s: &ks_core::manifest::Seg) -> String {
    match s {
        ks_core::manifest::Seg::Key(k) => k.clone(),
        ks_core::manifest::Seg::Index(i) => i.to_string(),
    }
}
