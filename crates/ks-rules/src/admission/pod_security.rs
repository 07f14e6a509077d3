use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};
use serde_json::{Map, Value, json};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Workloads whose pods the API server refuses because the namespace enforces a Pod
    /// Security level they violate: `FailedCreate` events (or the Deployment's
    /// `ReplicaFailure` condition) reading `pods "x" is forbidden: violates PodSecurity
    /// "restricted:latest": ...`, while the workload still lacks pods.
    ///
    /// ### Why it breaks
    /// The namespace label `pod-security.kubernetes.io/enforce` makes Pod Security Admission
    /// check every new pod. The Deployment itself is accepted (only a warning is printed), but
    /// its ReplicaSet cannot create a single pod, so the rollout never starts and nothing shows
    /// up in `kubectl get pods`.
    ///
    /// ### How to confirm
    /// `kubectl describe rs -l app=<name>` or `kubectl get events --field-selector
    /// reason=FailedCreate` shows the refusal with the list of violations;
    /// `kubectl get ns <ns> --show-labels` shows the enforced level.
    ///
    /// ### Fix
    /// Set the securityContext fields each violation names in the pod template
    /// (`allowPrivilegeEscalation: false`, `capabilities.drop: ["ALL"]`, `runAsNonRoot: true`,
    /// `seccompProfile.type: RuntimeDefault` for restricted), or, if the workload really needs
    /// more privilege, run it in a namespace labelled with a lower level.
    ///
    /// ### Prevention
    /// Check manifests against the namespace's level before deploying (`kubectl apply
    /// --dry-run=server` prints `would violate PodSecurity` warnings), and keep
    /// `pod-security.kubernetes.io/warn` and `audit` labels at the target level.
    ///
    /// ### Example
    /// `Error creating: pods "web-7c5d-abc" is forbidden: violates PodSecurity
    /// "restricted:latest": allowPrivilegeEscalation != false (container "web" must set
    /// securityContext.allowPrivilegeEscalation=false)`.
    pub static META = {
        id: "KS0402",
        name: "pod-security-rejected",
        cause: Cause::AdmissionPodSecurity,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "pod security admission refuses the workload's pods",
    }
}

pub struct PodSecurityRejected;

/// One entry of the `violates PodSecurity` list: `check (detail)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `allowPrivilegeEscalation != false`, `host namespaces`...
    pub check: String,
    /// The text in parentheses.
    pub detail: String,
    /// Containers the detail names.
    pub containers: Vec<String>,
}

/// Split the violation list at top-level `, ` separators.
pub fn parse_violations(list: &str) -> Vec<Violation> {
    let mut items = Vec::new();
    let (mut depth, mut in_quote, mut start) = (0i32, false, 0usize);
    let bytes = list.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_quote = !in_quote,
            b'(' | b'[' | b'{' if !in_quote => depth += 1,
            b')' | b']' | b'}' if !in_quote => depth -= 1,
            b',' if !in_quote && depth == 0 && bytes.get(i + 1) == Some(&b' ') => {
                items.push(&list[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    items.push(&list[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (check, detail) = match (item.find(" ("), item.ends_with(')')) {
                (Some(p), true) => (&item[..p], &item[p + 2..item.len() - 1]),
                _ => (item, ""),
            };
            Violation { check: check.trim().to_string(), detail: detail.to_string(), containers: containers_in(detail) }
        })
        .collect()
}

/// Container names in `container "a" must ...` / `containers "a", "b" must ...`.
fn containers_in(detail: &str) -> Vec<String> {
    let Some(p) = detail.find("container") else { return Vec::new() };
    let rest = &detail[p..];
    let end = rest.find(" must").or_else(|| rest.find(" uses")).unwrap_or(rest.len());
    rest[..end].split('"').skip(1).step_by(2).map(str::to_string).collect()
}

/// Checks of the baseline level: relaxing restricted to baseline does not help with these.
const BASELINE_CHECKS: &[&str] = &[
    "privileged",
    "host namespaces",
    "hostPath volumes",
    "hostPort",
    "hostProcess",
    "non-default capabilities",
    "seLinuxOptions",
    "procMount",
    "forbidden sysctls",
    "sysctls",
    "forbidden AppArmor profile",
    "forbidden AppArmor profiles",
];

/// The pod-level and per-container securityContext fields that clear the mechanical
/// violations, and the steps for the rest.
struct Plan {
    pod: Map<String, Value>,
    containers: Vec<(String, Map<String, Value>)>,
    manual: Vec<String>,
}

impl Plan {
    fn container(&mut self, name: &str) -> &mut Map<String, Value> {
        let i = match self.containers.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.containers.push((name.to_string(), Map::new()));
                self.containers.len() - 1
            }
        };
        &mut self.containers[i].1
    }
}

fn plan(violations: &[Violation], template_containers: &[String]) -> Plan {
    let mut p = Plan { pod: Map::new(), containers: Vec::new(), manual: Vec::new() };
    for v in violations {
        // Pod-or-container checks name the containers lacking the field; without names,
        // every container of the template.
        let names = if v.containers.is_empty() { template_containers.to_vec() } else { v.containers.clone() };
        match v.check.as_str() {
            "allowPrivilegeEscalation != false" => {
                for c in &names {
                    p.container(c).insert("allowPrivilegeEscalation".into(), json!(false));
                }
            }
            "unrestricted capabilities" => {
                for c in &names {
                    p.container(c).insert("capabilities".into(), json!({"drop": ["ALL"]}));
                }
                if v.detail.contains("must not include") {
                    p.manual.push(format!(
                        "Remove the added capabilities from {}: {}",
                        util::join_names(&names),
                        v.detail
                    ));
                }
            }
            "runAsNonRoot != true" => {
                p.pod.insert("runAsNonRoot".into(), json!(true));
                p.manual.push(
                    "runAsNonRoot: true needs an image that runs as a non-root user (a numeric USER in the Dockerfile, or runAsUser set to a non-zero UID)".to_string(),
                );
            }
            "seccompProfile" if !v.detail.contains("Unconfined") => {
                p.pod.insert("seccompProfile".into(), json!({"type": "RuntimeDefault"}));
            }
            "privileged" => {
                for c in &names {
                    p.container(c).insert("privileged".into(), json!(false));
                }
            }
            "host namespaces" => {
                for field in ["hostNetwork", "hostPID", "hostIPC"] {
                    if v.detail.contains(&format!("{field}=true")) {
                        p.pod.insert(field.into(), json!(false));
                    }
                }
            }
            "runAsUser=0" => p.manual.push(format!(
                "Do not run as UID 0: set runAsUser to a non-zero UID ({})",
                if v.detail.is_empty() { "pod or container".to_string() } else { v.detail.clone() }
            )),
            "hostPath volumes" => p.manual.push(format!(
                "Replace the hostPath volumes ({}) with a persistentVolumeClaim, emptyDir or configMap, or run the workload in a namespace whose level allows hostPath",
                v.detail
            )),
            "hostPort" => p.manual.push(format!(
                "Remove hostPort from the containers ({}); expose the port through a Service instead",
                v.detail
            )),
            "restricted volume types" => p.manual.push(format!(
                "Use only configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral or persistentVolumeClaim volumes ({})",
                v.detail
            )),
            _ => p.manual.push(if v.detail.is_empty() {
                format!("Fix {}", v.check)
            } else {
                format!("Fix {}: {}", v.check, v.detail)
            }),
        }
    }
    p
}

impl Rule for PodSecurityRejected {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ev = cx.ev;
        for fl in super::create_failures(cx).iter().filter(|f| f.sig.cause == Cause::AdmissionPodSecurity) {
            let ns = fl.ns().to_string();
            let w = fl.workload.clone();
            let level_full = fl.get("level").to_string();
            let (level, version) = level_full.split_once(':').unwrap_or((level_full.as_str(), "latest"));
            let violations = parse_violations(fl.get("detail"));
            let checks: Vec<&str> = violations.iter().map(|v| v.check.as_str()).collect();
            let title =
                format!("Pod Security level {level} in namespace {ns} refuses the pods of {} {}", w.kind, w.name);
            let root = format!(
                "Namespace {ns} enforces the {level} Pod Security level (version {version}); the API server refuses every pod {} {} tries to create{} because it violates: {}.",
                w.kind,
                w.name,
                super::replicas_phrase(fl),
                if checks.is_empty() { fl.get("detail").to_string() } else { checks.join(", ") }
            );
            let mut f = util::finding(&META, w.clone(), title, root);
            f.evidence = fl.evidence.clone();
            f.root_key = format!("pod-security:{ns}:{level}");
            // The namespace labels that set the level.
            let ns_obj = ev.namespaces.iter().find(|n| n.metadata.name.as_deref() == Some(ns.as_str()));
            let ns_labels = ns_obj.and_then(|n| n.metadata.labels.as_ref());
            let psa: Vec<String> = ns_labels
                .into_iter()
                .flatten()
                .filter(|(k, _)| k.starts_with("pod-security.kubernetes.io/"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if !psa.is_empty() {
                f.evidence.push(EvidenceItem::new(
                    EvidenceSource::Spec,
                    format!("namespace labels: {}", psa.join(", ")),
                    Some(ObjectRef::new("Namespace", None, &ns)),
                ));
            }
            // Fix per violation: one patch for the fields that can be set mechanically.
            let template = util::pod_template(ev, &w).map(|(s, _)| s);
            let template_containers: Vec<String> =
                template.map(|s| s.containers.iter().map(|c| c.name.clone()).collect()).unwrap_or_default();
            let p = plan(&violations, &template_containers);
            if !p.pod.is_empty() || !p.containers.is_empty() {
                let mut spec = Map::new();
                if !p.pod.is_empty() {
                    let (sc, rest): (Map<String, Value>, Map<String, Value>) =
                        p.pod.clone().into_iter().partition(|(k, _)| !k.starts_with("host"));
                    if !sc.is_empty() {
                        spec.insert("securityContext".into(), Value::Object(sc));
                    }
                    spec.extend(rest);
                }
                for (c, sc) in &p.containers {
                    let list = super::container_list(ev, &w, c);
                    let entry = json!({"name": c, "securityContext": sc});
                    match spec.get_mut(list).and_then(Value::as_array_mut) {
                        Some(a) => a.push(entry),
                        None => {
                            spec.insert(list.to_string(), json!([entry]));
                        }
                    }
                }
                let what: Vec<String> = p
                    .pod
                    .keys()
                    .map(|k| format!("pod {k}"))
                    .chain(
                        p.containers
                            .iter()
                            .map(|(c, sc)| format!("{c}: {}", sc.keys().cloned().collect::<Vec<_>>().join(", "))),
                    )
                    .collect();
                f.fix.push(super::template_fix(
                    &w,
                    format!("Make the pod template meet {level} ({})", what.join("; ")),
                    Value::Object(spec),
                ));
            }
            for m in &p.manual {
                f.fix.push(Fix::text(m.clone()));
            }
            f.fix.push(Fix::cmd(
                format!("Check what else in {ns} would violate {level} (prints warnings, changes nothing)"),
                format!(
                    "kubectl label --dry-run=server --overwrite ns {ns} pod-security.kubernetes.io/enforce={level}"
                ),
            ));
            let lower = if level == "restricted" && !checks.iter().any(|c| BASELINE_CHECKS.contains(c)) {
                "baseline"
            } else {
                "privileged"
            };
            if level != "privileged" {
                f.fix.push(Fix::cmd(
                    format!(
                        "Only if {} {} really needs it: enforce {lower} in {ns} and keep warnings at {level} (weakens isolation for every pod there)",
                        w.kind, w.name
                    ),
                    format!(
                        "kubectl label --overwrite ns {ns} pod-security.kubernetes.io/enforce={lower} pod-security.kubernetes.io/warn={level}"
                    ),
                ));
            }
            let openshift = ns_obj
                .and_then(|n| n.metadata.annotations.as_ref())
                .is_some_and(|a| a.keys().any(|k| k.starts_with("openshift.io/")))
                || ns_labels.is_some_and(|l| l.keys().any(|k| k.starts_with("security.openshift.io/")));
            if openshift {
                f.fix.push(Fix::cmd(
                    "On OpenShift the label syncer rewrites these labels: turn it off for the namespace first",
                    format!("kubectl label --overwrite ns {ns} security.openshift.io/scc.podSecurityLabelSync=false"),
                ));
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_violation_list() {
        let v = parse_violations(
            r#"allowPrivilegeEscalation != false (container "padder-cnt" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "padder-cnt" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "padder-cnt" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "padder-cnt" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#,
        );
        let checks: Vec<&str> = v.iter().map(|v| v.check.as_str()).collect();
        assert_eq!(
            checks,
            [
                "allowPrivilegeEscalation != false",
                "unrestricted capabilities",
                "runAsNonRoot != true",
                "seccompProfile"
            ]
        );
        assert!(v.iter().all(|v| v.containers == ["padder-cnt"]));
        let v = parse_violations(
            r#"host namespaces (hostNetwork=true, hostPID=true), privileged (containers "a", "b" must not set securityContext.privileged=true)"#,
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].detail, "hostNetwork=true, hostPID=true");
        assert_eq!(v[1].containers, ["a", "b"]);
    }

    #[test]
    fn plans_the_mechanical_fields() {
        let v = parse_violations(
            r#"allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false), seccompProfile (pod or container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"), hostPath volumes (volume "data")"#,
        );
        let p = plan(&v, &["web".to_string()]);
        assert_eq!(p.pod.get("seccompProfile"), Some(&json!({"type": "RuntimeDefault"})));
        assert_eq!(p.containers[0].1.get("allowPrivilegeEscalation"), Some(&json!(false)));
        assert!(p.manual[0].starts_with("Replace the hostPath volumes (volume \"data\")"), "{:?}", p.manual);
    }
}
