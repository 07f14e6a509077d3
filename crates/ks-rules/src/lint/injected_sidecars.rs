use ks_core::{Cause, EvidenceItem, EvidenceSource, Fix, RuleKind, Severity, declare_rule};

use super::pod_templates::PodTemplate;
use super::run_as_non_root_uid0::{UserFields, pod_uid0_victims};
use super::{doc_finding, doc_name};
use crate::admission::injectors::INJECTORS;
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// A pod template that asks a sidecar injector for its sidecar (`dapr.io/enabled:
    /// "true"`, `sidecar.istio.io/inject: "true"`, `linkerd.io/inject: enabled`,
    /// `vault.hashicorp.com/agent-inject: "true"`) while its pod-level securityContext gives
    /// that sidecar a user it will be refused with. The sidecars' own securityContexts are
    /// data (what each injector writes by default); the pod-level values fill in what they
    /// leave unset, exactly as the kubelet does:
    /// - error: the effective user is UID 0 and the effective `runAsNonRoot` is true —
    ///   typically a pod-level `runAsUser: 0` "fixing" a runAsNonRoot error, inherited by
    ///   Dapr's `daprd`, which the injector gives `runAsNonRoot: true` and no user;
    /// - warning: the sidecar's user cannot be verified — `runAsNonRoot: true` with no
    ///   `runAsUser` anywhere and the sidecar image replaced by an annotation
    ///   (`dapr.io/sidecar-image`), so the kubelet depends on that image's `USER`.
    ///
    /// Istio's and Linkerd's sidecars set their own `runAsUser` and `runAsNonRoot` (their
    /// root init containers set `runAsNonRoot: false`), so a pod-level `runAsNonRoot: true`
    /// or `runAsUser: 0` does not reach them.
    ///
    /// ### Why it breaks
    /// The injected container is not in the manifest, but it inherits every
    /// securityContext field it does not set itself. With `runAsNonRoot: true` and UID 0 the
    /// kubelet refuses it: `container's runAsUser breaks non-root policy (pod:
    /// "backend-api-…", container: daprd)`, and the pod stays in CreateContainerConfigError.
    /// A pod-level `runAsNonRoot: false` does not help, because the sidecar's own
    /// `runAsNonRoot: true` wins; and the pod-level `runAsUser: 0` also runs the app as root.
    ///
    /// ### How to confirm
    /// `kubectl get pod POD -o jsonpath='{.spec.containers[?(@.name=="daprd")].securityContext}'`
    /// shows the sidecar's own fields; `kubectl describe pod POD` shows the error.
    ///
    /// ### Fix
    /// Remove the pod-level `runAsUser: 0` (daprd's official image runs as UID 65532); if
    /// the app container needs a particular user, set it on that container. For a replaced
    /// sidecar image, make sure it has a numeric non-root `USER`, or give the pod a non-root
    /// `runAsUser`.
    ///
    /// ### Prevention
    /// Test charts with the injector enabled, and set users per container rather than per
    /// pod.
    ///
    /// ### Example
    /// Seed 002 (S2.4): after `runAsNonRoot: false` and `runAsUser: 0` were set in
    /// `values-local.yaml`, the daprd sidecar was still blocked, and Dapr was switched off.
    pub static META = {
        id: "KS1204",
        name: "pod-user-breaks-injected-sidecar",
        cause: Cause::SecurityRunAsNonRoot,
        severity: Severity::Error,
        kind: RuleKind::Static,
        summary: "the pod-level securityContext gives an injected sidecar a user the kubelet will refuse",
    }
}

pub struct PodUserBreaksInjectedSidecar;

/// What an injector's sidecar carries in its own securityContext by default.
pub struct SidecarDefaults {
    /// `Injector::name` in [`INJECTORS`].
    pub injector: &'static str,
    /// The pod annotation (or label) that requests injection, and the values that enable it.
    pub enable: (&'static str, &'static [&'static str]),
    pub container: &'static str,
    pub non_root: Option<bool>,
    pub user: Option<i64>,
    /// The UID the official image runs as, when the securityContext sets none.
    pub image_user: Option<i64>,
    /// An annotation that replaces the sidecar image.
    pub image_annotation: Option<&'static str>,
    /// Where the injector's setting lives, for fixes.
    pub knob: &'static str,
}

/// From the injectors' sources: Dapr `pkg/injector/patcher/sidecar_container.go`
/// (`RunAsNonRoot` from `SIDECAR_RUN_AS_NON_ROOT`, default true; `RunAsUser` unset), Istio's
/// injection template (istio-proxy UID 1337; istio-init UID 0 with `runAsNonRoot: false`),
/// Linkerd's partials (proxy UID 2102; linkerd-init UID 0 with `runAsNonRoot: false`, or UID
/// 65534 in releases that run it without root: either way its own values), and
/// vault-k8s (agent UID 100).
pub static SIDECARS: &[SidecarDefaults] = &[
    SidecarDefaults {
        injector: "Dapr",
        enable: ("dapr.io/enabled", &["true"]),
        container: "daprd",
        non_root: Some(true),
        user: None,
        image_user: Some(65532),
        image_annotation: Some("dapr.io/sidecar-image"),
        knob: "the Helm value dapr_sidecar_injector.sidecarRunAsNonRoot, default true",
    },
    SidecarDefaults {
        injector: "Istio",
        enable: ("sidecar.istio.io/inject", &["true"]),
        container: "istio-proxy",
        non_root: Some(true),
        user: Some(1337),
        image_user: Some(1337),
        image_annotation: None,
        knob: "the injection template (values.global.proxy)",
    },
    SidecarDefaults {
        injector: "Istio",
        enable: ("sidecar.istio.io/inject", &["true"]),
        container: "istio-init",
        non_root: Some(false),
        user: Some(0),
        image_user: Some(0),
        image_annotation: None,
        knob: "the injection template (values.global.proxy_init)",
    },
    SidecarDefaults {
        injector: "Linkerd",
        enable: ("linkerd.io/inject", &["enabled", "ingress"]),
        container: "linkerd-proxy",
        non_root: Some(true),
        user: Some(2102),
        image_user: Some(2102),
        image_annotation: None,
        knob: "the config.linkerd.io/proxy-uid annotation",
    },
    SidecarDefaults {
        injector: "Linkerd",
        enable: ("linkerd.io/inject", &["enabled", "ingress"]),
        container: "linkerd-init",
        non_root: Some(false),
        user: Some(0),
        image_user: Some(0),
        image_annotation: None,
        knob: "the proxyInit values of the Linkerd chart",
    },
    SidecarDefaults {
        injector: "Vault Agent",
        enable: ("vault.hashicorp.com/agent-inject", &["true"]),
        container: "vault-agent",
        non_root: Some(true),
        user: Some(100),
        image_user: Some(100),
        image_annotation: None,
        knob: "the vault.hashicorp.com/agent-run-as-user annotation",
    },
];

/// The sidecars this template asks for (and does not declare itself).
fn requested<'a>(tpl: &PodTemplate<'a>) -> Vec<&'static SidecarDefaults> {
    let declared: Vec<&str> = tpl.containers().iter().map(|c| c.name).collect();
    SIDECARS
        .iter()
        .filter(|s| {
            tpl.annotation(s.enable.0).is_some_and(|v| s.enable.1.contains(&v.trim().to_ascii_lowercase().as_str()))
        })
        .filter(|s| !declared.contains(&s.container))
        .collect()
}

/// The injected sidecars that get UID 0 from the pod-level securityContext while their own
/// `runAsNonRoot` is true: `(injector, container)`.
pub fn inheriting_uid0(tpl: &PodTemplate<'_>) -> Vec<(&'static str, &'static str)> {
    let pod = UserFields::of(tpl.security_context());
    requested(tpl)
        .into_iter()
        .filter(|s| s.user.is_none() && pod.user == Some(0) && s.non_root.or(pod.non_root) == Some(true))
        .map(|s| (s.injector, s.container))
        .collect()
}

impl Rule for PodUserBreaksInjectedSidecar {
    fn meta(&self) -> &'static ks_core::RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<ks_core::Finding>) {
        for tpl in cx.pod_templates() {
            let doc = tpl.doc;
            let pod = UserFields::of(tpl.security_context());
            let pod_sc = tpl.spec_path().key("securityContext");
            // KS1203 reports a pod-level runAsUser: 0 that also hits declared containers, and
            // names the injected sidecars there.
            let covered = !pod_uid0_victims(tpl).is_empty();
            let apps: Vec<&str> = tpl.containers().iter().filter(|c| !c.init).map(|c| c.name).collect();
            for s in requested(tpl) {
                let non_root = s.non_root.or(pod.non_root);
                let user = s.user.or(pod.user);
                let (enable_key, _) = s.enable;
                let enable_value = tpl.annotation(enable_key).unwrap_or_default();
                let sign = format!("{enable_key}: \"{enable_value}\"");
                let namespace = INJECTORS.iter().find(|i| i.name == s.injector).map(|i| i.namespace).unwrap_or("");
                if non_root == Some(true) && user == Some(0) && s.user.is_none() {
                    if covered {
                        continue;
                    }
                    let mut f = doc_finding(
                        &META,
                        doc,
                        &pod_sc.clone().key("runAsUser"),
                        format!(
                            "Pod-level runAsUser: 0 in {} breaks the {} sidecar {}",
                            doc_name(doc),
                            s.injector,
                            s.container
                        ),
                        format!(
                            "{} asks the {} injector for {} ({sign}); the injector gives {} runAsNonRoot: true{} and no runAsUser, so it inherits the pod-level runAsUser: 0 and the kubelet refuses it (`container's runAsUser breaks non-root policy (pod: \"{}-…\", container: {})`): the pod stays in CreateContainerConfigError.{} The pod-level runAsUser: 0 also runs {} as root.",
                            doc_name(doc),
                            s.injector,
                            s.container,
                            s.container,
                            if s.non_root.is_some() { format!(" (from {})", s.knob) } else { String::new() },
                            doc.name,
                            s.container,
                            if pod.non_root == Some(false) {
                                " The pod-level runAsNonRoot: false does not help: the sidecar's own runAsNonRoot: true wins."
                            } else {
                                ""
                            },
                            util::join_names(&apps),
                        ),
                    );
                    if pod.non_root == Some(false) {
                        f.evidence.push(quote(tpl, &pod_sc.clone().key("runAsNonRoot")));
                    }
                    f.evidence.push(quote(tpl, &tpl.annotation_path(enable_key)));
                    f.fix.push(Fix::text(format!(
                        "In {}, delete `runAsUser: 0`{} from {pod_sc}: {} then runs as {}",
                        doc.file,
                        if pod.non_root == Some(false) { " and `runAsNonRoot: false`" } else { "" },
                        s.container,
                        s.image_user
                            .map(|u| format!("UID {u}, its image's user"))
                            .unwrap_or_else(|| "its image's user".into())
                    )));
                    f.fix.push(Fix::text(format!(
                        "If {} needs a particular user, set it on that container only ({}.containers[*].securityContext.runAsUser), preferably a non-root UID",
                        util::join_names(&apps),
                        tpl.spec_path()
                    )));
                    f.fix.push(Fix::cmd(
                        "or remove it from the live object until the manifest is applied",
                        format!(
                            "kubectl {}patch {} --type=json -p '[{{\"op\":\"remove\",\"path\":\"/{}/runAsUser\"}}]'",
                            tpl.ns_flag(),
                            tpl.kubectl_ref(),
                            pod_sc.to_string().replace('.', "/")
                        ),
                    ));
                    f.fix.push(Fix::text(format!(
                        "A pod-level runAsNonRoot: false does not help, and disabling the {} sidecar only hides the error (the app loses the sidecar); turning off the injector's non-root setting ({}, injector in namespace {namespace}) would run {} as root as well",
                        s.injector, s.knob, s.container
                    )));
                    f.root_key = format!("KS1204:{}:{}", doc.key_string(), s.container);
                    out.push(f);
                    continue;
                }
                // The user depends on a replaced sidecar image the manifest cannot show.
                if non_root == Some(true)
                    && user.is_none()
                    && let Some(ann) = s.image_annotation
                    && let Some(image) = tpl.annotation(ann)
                {
                    let mut f = doc_finding(
                        &META,
                        doc,
                        &tpl.annotation_path(ann),
                        format!(
                            "{} replaces the {} sidecar image, so its runAsNonRoot: true cannot be verified",
                            doc_name(doc),
                            s.container
                        ),
                        format!(
                            "The {} injector gives {} runAsNonRoot: true and no runAsUser, and {} sets no pod-level runAsUser, so {} runs as the USER of {image}; if that image runs as root or as a user name, the kubelet refuses it (`container has runAsNonRoot and image will run as root`).",
                            s.injector,
                            s.container,
                            doc_name(doc),
                            s.container
                        ),
                    );
                    f.severity = Severity::Warning;
                    f.evidence.push(quote(tpl, &tpl.annotation_path(enable_key)));
                    f.fix.push(Fix::cmd(
                        format!("Check the user of {image} (it must be a numeric non-zero UID)"),
                        format!("docker image inspect --format '{{{{.Config.User}}}}' {image}"),
                    ));
                    f.fix.push(Fix::text(format!(
                        "or give the pod a non-root user that {} inherits: `runAsUser: 10001` in {pod_sc} of {}",
                        s.container, doc.file
                    )));
                    f.root_key = format!("KS1204:{}:{}:image", doc.key_string(), s.container);
                    out.push(f);
                }
            }
        }
    }
}

/// A `manifest` evidence line quoting the field at `path`.
fn quote(tpl: &PodTemplate<'_>, path: &ks_core::FieldPath) -> EvidenceItem {
    let loc = tpl.doc.locate(path);
    let line = loc.source_line.as_deref().unwrap_or("").trim().to_string();
    EvidenceItem::new(
        EvidenceSource::Manifest,
        format!("{}:{}: {line}", loc.file, loc.line),
        Some(tpl.doc.object_ref()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sidecar_belongs_to_a_known_injector() {
        for s in SIDECARS {
            let inj = INJECTORS.iter().find(|i| i.name == s.injector).unwrap_or_else(|| panic!("{}", s.injector));
            assert!(inj.containers.contains(&s.container), "{} is not a container of {}", s.container, inj.name);
            if s.user == Some(0) {
                // A root container must opt out of runAsNonRoot itself, or every pod with a
                // pod-level runAsNonRoot: true would be refused.
                assert_eq!(s.non_root, Some(false), "{}", s.container);
            }
        }
    }
}
