use ks_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use ks_core::{
    Cause, Evidence, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};
use serde_json::{Map, Value, json};

use crate::admission::injectors::{self, Injected};
use crate::facts::{ContainerProblem, ProblemKind};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Containers the kubelet refuses to create because `runAsNonRoot: true` meets a root
    /// user: `container's runAsUser breaks non-root policy` (runAsUser 0), `container has
    /// runAsNonRoot and image will run as root` (the image's USER is root), `image has
    /// non-numeric user (x), cannot verify user is non-root`. It shows the pod-level and
    /// container-level securityContext values, and recognises sidecars added by injectors
    /// (Dapr's `daprd`, Istio's `istio-proxy`/`istio-init`, Linkerd's `linkerd-proxy`) from
    /// the container name and the pod's annotations.
    ///
    /// ### Why it breaks
    /// The container-level securityContext overrides the pod-level one field by field, so a
    /// pod-level `runAsNonRoot: true` also applies to sidecars injected at admission, and a
    /// pod-level `runAsUser: 0` is inherited by a sidecar whose injector sets
    /// `runAsNonRoot: true` on it. Running the whole pod as root to get past the error then
    /// keeps failing on the sidecar (and runs the app as root).
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `CreateContainerConfigError` with the message and the
    /// container; `kubectl get pod <pod> -o jsonpath='{.spec.securityContext}'` and
    /// `{.spec.containers[*].securityContext}` show where runAsNonRoot and runAsUser come from.
    ///
    /// ### Fix
    /// Set runAsNonRoot/runAsUser where they belong: on the app container rather than the pod
    /// when injected sidecars have their own user; never a pod-level `runAsUser: 0`. For images
    /// that run as root or by user name, set a numeric non-root `runAsUser` or rebuild the image
    /// with `USER <uid>`.
    ///
    /// ### Prevention
    /// Keep pod-level securityContext to what every container (including injected sidecars)
    /// can satisfy; use numeric `USER` in Dockerfiles; test with the injector enabled.
    ///
    /// ### Example
    /// `container's runAsUser breaks non-root policy (pod: "backend-api-6f7d9c-x2k4q_shop(1a2b)",
    /// container: daprd)` with `dapr.io/enabled: "true"`.
    pub static META = {
        id: "KS0401",
        name: "run-as-non-root-violation",
        cause: Cause::SecurityRunAsNonRoot,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "runAsNonRoot is required but the container would run as root or an unverifiable user",
    }
}

pub struct RunAsNonRootViolation;

/// runAsNonRoot and runAsUser at one level.
#[derive(Clone, Copy, Debug, Default)]
struct Sc {
    non_root: Option<bool>,
    user: Option<i64>,
}

impl Sc {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.non_root {
            parts.push(format!("runAsNonRoot: {v}"));
        }
        if let Some(u) = self.user {
            parts.push(format!("runAsUser: {u}"));
        }
        if parts.is_empty() { "no runAsNonRoot, no runAsUser".to_string() } else { parts.join(", ") }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Pod,
    Container,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Pod => "pod-level",
            Level::Container => "container-level",
        }
    }
}

/// The effective value and where it comes from.
fn effective<T: Copy>(pod: Option<T>, container: Option<T>) -> Option<(T, Level)> {
    container.map(|v| (v, Level::Container)).or(pod.map(|v| (v, Level::Pod)))
}

fn workload_meta<'a>(ev: &'a Evidence, w: &ObjectRef) -> Option<&'a ObjectMeta> {
    let key = (w.namespace.clone().unwrap_or_default(), w.name.clone());
    let ix = &ev.index;
    match w.kind.as_str() {
        "Deployment" => ix.deployments.get(&key).map(|&i| &ev.deployments[i].metadata),
        "StatefulSet" => ix.stateful_sets.get(&key).map(|&i| &ev.stateful_sets[i].metadata),
        "DaemonSet" => ix.daemon_sets.get(&key).map(|&i| &ev.daemon_sets[i].metadata),
        "Job" => ix.jobs.get(&key).map(|&i| &ev.jobs[i].metadata),
        "CronJob" => ix.cron_jobs.get(&key).map(|&i| &ev.cron_jobs[i].metadata),
        _ => None,
    }
}

/// A strategic-merge patch of the pod template's securityContexts, or a note for bare pods
/// (whose securityContext cannot be changed in place).
fn sc_fix(ev: &Evidence, w: &ObjectRef, what: String, pod_sc: Option<Value>, containers: Vec<(String, Value)>) -> Fix {
    let mut spec = Map::new();
    if let Some(p) = pod_sc {
        spec.insert("securityContext".into(), p);
    }
    for (c, sc) in containers {
        let list = crate::admission::container_list(ev, w, &c);
        let entry = json!({"name": c, "securityContext": sc});
        match spec.get_mut(list).and_then(Value::as_array_mut) {
            Some(a) => a.push(entry),
            None => {
                spec.insert(list.to_string(), json!([entry]));
            }
        }
    }
    crate::admission::template_fix(w, what, Value::Object(spec))
}

/// The injector's own knob for its sidecar's user. `uid0_from_pod`: the pod gives the
/// sidecar its UID 0, so nothing in the injector needs to change.
fn injector_fix(inj: &Injected, c: &str, uid0_from_pod: bool) -> Fix {
    match inj.injector.name {
        "Dapr" if uid0_from_pod => Fix::text(format!(
            "{c} is added by the Dapr sidecar injector, which sets runAsNonRoot: true on it (Helm value dapr_sidecar_injector.sidecarRunAsNonRoot, default true); the official daprd image runs as UID 65532 and needs no runAsUser from the pod"
        )),
        "Dapr" => Fix::text(format!(
            "{c} is added by the Dapr sidecar injector; the official daprd image runs as UID 65532 and needs no root: find what gives it UID 0 (`helm get values dapr -n dapr-system` for dapr_sidecar_injector.* values, other mutating webhooks: `kubectl get mutatingwebhookconfigurations`)"
        )),
        "Istio" => Fix::text(format!(
            "{c} is added by the Istio injector; istio-init needs root to set up iptables: install Istio with the CNI plugin (`istioctl install --set components.cni.enabled=true`) so pods get no root init container, or keep runAsNonRoot off the pod level"
        )),
        "Linkerd" => Fix::text(format!(
            "{c} is added by the Linkerd injector; linkerd-init needs root: use the Linkerd CNI plugin (`linkerd install-cni`, then install with --set cniEnabled=true), and set the proxy's UID with the config.linkerd.io/proxy-uid annotation"
        )),
        name => Fix::text(format!(
            "{c} is added by the {name} injector: set its user in the injector's configuration, not in the pod"
        )),
    }
}

impl Rule for RunAsNonRootViolation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for p in util::problems(cx, ProblemKind::Config, Cause::SecurityRunAsNonRoot) {
            out.push(finding(cx, p));
        }
    }
}

fn finding(cx: &Context<'_>, p: &ContainerProblem) -> Finding {
    let ev = cx.ev;
    let pod = &ev.pods[p.pod];
    let (ns, _) = util::pod_names(ev, p.pod);
    let w = ev.workload_of(p.pod).clone();
    let c = p.container.as_str();
    let psc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
    let pod_sc = Sc { non_root: psc.and_then(|s| s.run_as_non_root), user: psc.and_then(|s| s.run_as_user) };
    let csc = util::container_spec(ev, p.pod, c).and_then(|c| c.security_context.as_ref());
    let c_sc = Sc { non_root: csc.and_then(|s| s.run_as_non_root), user: csc.and_then(|s| s.run_as_user) };
    let non_root = effective(pod_sc.non_root, c_sc.non_root);
    let user = effective(pod_sc.user, c_sc.user);
    let nr_from = non_root.map(|(_, f)| f).unwrap_or(Level::Pod);
    let injected = injectors::injected(ev, p.pod, c);
    let pod_spec = pod.spec.as_ref();
    // The app containers: every regular container not added by an injector.
    let apps: Vec<String> = pod_spec
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n != c && injectors::injected(ev, p.pod, n).is_none())
        .collect();
    let image = util::container_spec(ev, p.pod, c).and_then(|c| c.image.clone()).unwrap_or_else(|| p.image.clone());

    let mut evidence = p.evidence.clone();
    let pref = crate::facts::pod_ref(pod);
    evidence.push(EvidenceItem::new(
        EvidenceSource::Spec,
        format!("pod securityContext: {}", pod_sc.describe()),
        Some(pref.clone()),
    ));
    evidence.push(EvidenceItem::new(
        EvidenceSource::Spec,
        format!("container {c} securityContext: {}", c_sc.describe()),
        Some(pref.clone()),
    ));
    if let Some(inj) = &injected {
        evidence.push(EvidenceItem::new(
            EvidenceSource::Spec,
            format!("{c} is injected by {}: {}", inj.injector.name, inj.sign),
            Some(pref.clone()),
        ));
    }

    let wname = format!("{} {}", w.kind, w.name);
    let mut fixes = Vec::new();
    let (title, root, key) = match (p.signature.unwrap_or_default(), &injected) {
        ("nonroot-user-zero", Some(inj)) => {
            let iname = inj.injector.name;
            let sidecar = format!("{c}, the sidecar the {iname} injector adds ({})", inj.sign);
            let (title, root) = match user.map(|(_, f)| f) {
                Some(Level::Pod) if nr_from == Level::Container => {
                    let app_root: Vec<(String, Value)> = apps
                        .iter()
                        .filter(|a| {
                            pod_spec
                                .and_then(|s| s.containers.iter().find(|x| &x.name == *a))
                                .and_then(|x| x.security_context.as_ref())
                                .and_then(|s| s.run_as_user)
                                .is_none()
                        })
                        .map(|a| (a.clone(), json!({"runAsUser": 0})))
                        .collect();
                    let keep = if app_root.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " and keep UID 0 only on {} (better: a non-root UID)",
                            util::join_names(&app_root.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
                        )
                    };
                    fixes.push(sc_fix(
                        ev,
                        &w,
                        format!("Remove the pod-level runAsUser: 0{keep}, so {c} runs as its own non-root user"),
                        Some(json!({"runAsUser": null})),
                        app_root,
                    ));
                    (
                        format!("Pod-level runAsUser: 0 breaks the injected {iname} sidecar {c}"),
                        format!(
                            "{wname} sets runAsUser: 0 for the whole pod, and {sidecar}, inherits it while its own securityContext sets runAsNonRoot: true; the kubelet refuses to run it as UID 0, so the pod never starts."
                        ),
                    )
                }
                Some(Level::Container) if nr_from == Level::Pod => {
                    let app_nr: Vec<(String, Value)> =
                        apps.iter().map(|a| (a.clone(), json!({"runAsNonRoot": true}))).collect();
                    fixes.push(sc_fix(
                        ev,
                        &w,
                        format!(
                            "Require non-root on the app container{} {} instead of the whole pod, so the rule stops applying to the injected {c}",
                            if apps.len() == 1 { "" } else { "s" },
                            util::join_names(&apps)
                        ),
                        Some(json!({"runAsNonRoot": null})),
                        app_nr,
                    ));
                    (
                        format!(
                            "Pod-level runAsNonRoot: true blocks the injected {iname} sidecar {c}, which runs as root"
                        ),
                        format!(
                            "{wname} sets runAsNonRoot: true for the whole pod, so it also applies to {sidecar}, which runs with runAsUser: 0; the kubelet refuses to start it, so the pod never starts although the app container is not at fault."
                        ),
                    )
                }
                Some(Level::Pod) => {
                    fixes.push(sc_fix(
                        ev,
                        &w,
                        "Remove the pod-level runAsUser: 0 (it contradicts the pod-level runAsNonRoot: true for every container)".to_string(),
                        Some(json!({"runAsUser": null})),
                        Vec::new(),
                    ));
                    (
                        format!(
                            "Pod-level runAsUser: 0 contradicts runAsNonRoot: true for the injected {iname} sidecar {c}"
                        ),
                        format!(
                            "{wname} sets both runAsNonRoot: true and runAsUser: 0 at the pod level; {sidecar}, is the first container the kubelet refuses, and every other container without its own runAsUser would be refused too."
                        ),
                    )
                }
                _ => (
                    format!("The {iname} injector gives its sidecar {c} runAsUser: 0 with runAsNonRoot: true"),
                    format!(
                        "{sidecar}, carries both runAsNonRoot: true and runAsUser: 0 in its own securityContext, a contradiction the kubelet refuses; the injector's configuration, not {wname}, sets them."
                    ),
                ),
            };
            fixes.push(injector_fix(inj, c, user.is_some_and(|(_, f)| f == Level::Pod)));
            fixes.push(Fix::text(format!(
                "Do not \"fix\" this with a pod-level runAsUser: 0 or runAsNonRoot: false: {c} keeps its own runAsNonRoot: true from the injector, so the error stays, and every container would run as root"
            )));
            (title, root, format!("run-as-non-root:{ns}:{c}"))
        }
        ("nonroot-user-zero", None) => {
            let uf = user.map(|(_, f)| f).unwrap_or(Level::Container);
            if uf == Level::Container {
                fixes.push(sc_fix(
                    ev,
                    &w,
                    format!("If {c} must run as root, allow it for that container only"),
                    None,
                    vec![(c.to_string(), json!({"runAsNonRoot": false}))],
                ));
                fixes.push(sc_fix(
                    ev,
                    &w,
                    format!("otherwise run {c} as a non-root UID (one the image's files allow)"),
                    None,
                    vec![(c.to_string(), json!({"runAsUser": 10001}))],
                ));
            } else {
                fixes.push(sc_fix(
                    ev,
                    &w,
                    "Remove the pod-level runAsUser: 0".to_string(),
                    Some(json!({"runAsUser": null})),
                    Vec::new(),
                ));
            }
            (
                format!("Container {c} runs as UID 0 but runAsNonRoot: true forbids root"),
                format!(
                    "Container {c} of {wname} gets runAsUser: 0 from the {} securityContext and runAsNonRoot: true from the {} securityContext; the kubelet refuses this contradiction and never creates the container.",
                    uf.as_str(),
                    nr_from.as_str()
                ),
                format!("run-as-non-root:{ns}/{}:{c}", w.name),
            )
        }
        ("nonroot-image-nonnumeric", _) => {
            let u = p.details.get("user").cloned().unwrap_or_default();
            fixes.push(Fix::cmd(
                format!("Find the numeric UID of user {u} in the image"),
                format!("docker run --rm --entrypoint id {image} -u {u}"),
            ));
            let mut set_uid = sc_fix(
                ev,
                &w,
                format!("Run {c} as that UID (replace <uid>)"),
                None,
                vec![(c.to_string(), json!({"runAsUser": "<uid>"}))],
            );
            // A number, not a string: the placeholder goes in unquoted.
            set_uid.command = set_uid.command.map(|c| c.replace("\"<uid>\"", "<uid>"));
            fixes.push(set_uid);
            fixes.push(Fix::text(format!(
                "or use the numeric form in the Dockerfile (`USER <uid>` instead of `USER {u}`)"
            )));
            (
                format!("Image user {u} of container {c} is not numeric, so runAsNonRoot cannot be verified"),
                format!(
                    "Container {c} of {wname} runs as the image's user {u}, a name; with runAsNonRoot: true (from the {} securityContext) the kubelet must prove the UID is not 0 and cannot from a name, so it refuses to create the container.",
                    nr_from.as_str()
                ),
                format!("run-as-non-root:{ns}/{}:{c}", w.name),
            )
        }
        (sig, inj) => {
            let invalid = sig == "nonroot-invalid-uid";
            if let Some(inj) = inj {
                fixes.push(injector_fix(inj, c, false));
                if nr_from == Level::Pod && !apps.is_empty() {
                    let app_nr: Vec<(String, Value)> =
                        apps.iter().map(|a| (a.clone(), json!({"runAsNonRoot": true}))).collect();
                    fixes.push(sc_fix(
                        ev,
                        &w,
                        format!("or require non-root on {} only, not on the whole pod", util::join_names(&apps)),
                        Some(json!({"runAsNonRoot": null})),
                        app_nr,
                    ));
                }
            } else {
                fixes.push(sc_fix(
                    ev,
                    &w,
                    format!("Run {c} as a non-root UID (one the image's files allow)"),
                    None,
                    vec![(c.to_string(), json!({"runAsUser": 10001}))],
                ));
                fixes.push(Fix::text(format!(
                    "or rebuild {image} with a numeric non-root user (`USER 10001` in the Dockerfile, files chowned to it)"
                )));
            }
            let who = match inj {
                Some(i) => format!("Container {c}, added by the {} injector ({}),", i.injector.name, i.sign),
                None => format!("Container {c} of {wname}"),
            };
            let title = if invalid {
                format!("Image of container {c} has a user id out of range for runAsNonRoot")
            } else {
                format!("Image of container {c} runs as root, but runAsNonRoot: true requires non-root")
            };
            let root = if invalid {
                format!(
                    "{who} runs as the image's user, whose UID is outside the valid range; with runAsNonRoot: true the kubelet refuses to create it."
                )
            } else {
                format!(
                    "{who} sets no runAsUser, so it runs as the image's user, root (image {image}); runAsNonRoot: true from the {} securityContext forbids that, so the kubelet refuses to create it.",
                    nr_from.as_str()
                )
            };
            (title, root, format!("run-as-non-root:{ns}/{}:{c}", w.name))
        }
    };
    // Charts usually split the two levels into podSecurityContext and securityContext.
    let meta = workload_meta(ev, &w);
    let release = meta.and_then(|m| m.annotations.as_ref()).and_then(|a| a.get("meta.helm.sh/release-name"));
    let helm = release.is_some()
        || meta
            .and_then(|m| m.labels.as_ref())
            .and_then(|l| l.get("app.kubernetes.io/managed-by"))
            .is_some_and(|v| v == "Helm");
    if helm {
        fixes.push(Fix::text(format!(
            "{wname} is deployed with Helm{}: make the change in the chart's values (usually `podSecurityContext` for the pod level and `securityContext` for the container level) and upgrade the release, or the next upgrade reverts it",
            release.map(|r| format!(" (release {r})")).unwrap_or_default()
        )));
    }
    let mut f = util::finding(&META, w, title, root);
    f.affected.push(pref);
    f.evidence = evidence;
    f.fix = fixes;
    f.root_key = key;
    f
}
