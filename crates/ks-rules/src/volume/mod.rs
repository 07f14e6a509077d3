//! Volumes: mounts the kubelet cannot perform, ReadWriteOnce volumes held on another node,
//! and PersistentVolumeClaims that never bind. Mount and attach failures are classified once
//! in [`crate::facts`] (`cx.facts.mounts`); Secret/ConfigMap volume failures there belong to
//! the config rules.

pub mod mount_failed;
pub mod multi_attach;
pub mod pvc_pending;

use ks_core::k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use ks_core::k8s_openapi::api::storage::v1::StorageClass;
use ks_core::{EventRecord, Evidence, EvidenceItem, EvidenceSource, Fix, ObjectRef};

use crate::Rule;
use crate::signatures::volume::MATCHER;
use crate::util::{join_names, ns_flag};

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] =
    &[&mount_failed::VolumeMountFailed, &multi_attach::VolumeMultiAttach, &pvc_pending::PvcPending];

/// How long a PVC may wait on its provisioner with no error before that counts as a problem.
const PROVISION_GRACE_SECS: i64 = 5 * 60;

pub fn pvc<'e>(ev: &'e Evidence, ns: &str, name: &str) -> Option<&'e PersistentVolumeClaim> {
    ev.index.pvcs.get(&(ns.to_string(), name.to_string())).map(|&i| &ev.pvcs[i])
}

pub fn pv<'e>(ev: &'e Evidence, name: &str) -> Option<&'e PersistentVolume> {
    ev.index.pvs.get(name).map(|&i| &ev.pvs[i])
}

pub fn storage_class<'e>(ev: &'e Evidence, name: &str) -> Option<&'e StorageClass> {
    ev.index.storage_classes.get(name).map(|&i| &ev.storage_classes[i])
}

pub fn is_default_class(sc: &StorageClass) -> bool {
    sc.metadata.annotations.as_ref().is_some_and(|a| {
        a.get("storageclass.kubernetes.io/is-default-class")
            .or_else(|| a.get("storageclass.beta.kubernetes.io/is-default-class"))
            .is_some_and(|v| v == "true")
    })
}

pub fn pvc_ref(ns: &str, name: &str) -> ObjectRef {
    ObjectRef::new("PersistentVolumeClaim", Some(ns), name).with_api_version("v1")
}

/// The PVC names pod `pod` mounts.
pub fn pod_claims(pod: &Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| v.persistent_volume_claim.as_ref().map(|c| c.claim_name.clone()))
        .collect()
}

/// Pods (indexes) in `ns` that mount claim `name`.
pub fn claim_users(ev: &Evidence, ns: &str, name: &str) -> Vec<usize> {
    ev.index
        .pods_by_namespace
        .get(ns)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| pod_claims(&ev.pods[i]).iter().any(|c| c == name))
        .collect()
}

/// Why a claim is not bound, with its evidence and fixes.
#[derive(Debug, Default)]
pub struct PvcDiagnosis {
    /// `PVC shop/data is Pending: ...` style title.
    pub title: String,
    pub why: String,
    pub evidence: Vec<EvidenceItem>,
    pub fixes: Vec<Fix>,
    /// False when the claim is bound, or waits in a normal state (WaitForFirstConsumer, a
    /// provisioner that is still within its grace period).
    pub problem: bool,
    pub root_key: String,
}

fn class_list(ev: &Evidence) -> String {
    if ev.storage_classes.is_empty() {
        return "the cluster has no StorageClass at all".to_string();
    }
    let names: Vec<String> = ev
        .storage_classes
        .iter()
        .map(|s| {
            let n = s.metadata.name.clone().unwrap_or_default();
            if is_default_class(s) { format!("{n} (default)") } else { n }
        })
        .collect();
    format!("existing StorageClasses: {}", join_names(&names))
}

fn event_line(e: &EventRecord) -> String {
    format!("{}: {}{}", e.reason, e.message.trim(), e.count_suffix())
}

/// Diagnose claim `ns/name`.
pub fn diagnose_pvc(ev: &Evidence, ns: &str, name: &str) -> PvcDiagnosis {
    let mut d = PvcDiagnosis { root_key: format!("pvc:{ns}/{name}"), ..PvcDiagnosis::default() };
    let obj = pvc_ref(ns, name);
    let Some(claim) = pvc(ev, ns, name) else {
        if ev.has_collected("PersistentVolumeClaim") {
            d.problem = true;
            d.title = format!("PVC {ns}/{name} does not exist");
            d.why = format!("The pod mounts PersistentVolumeClaim {name}, which does not exist in namespace {ns}.");
            d.fixes.push(Fix::cmd(
                format!("Create the claim {name} (or fix claimName in the pod template)"),
                format!("kubectl {}get pvc", ns_flag(ns)),
            ));
        } else {
            d.problem = true;
            d.title = format!("PVC {ns}/{name} is not bound");
            d.why = format!(
                "The scheduler waits for PersistentVolumeClaim {name} to bind; the claim itself is not in the evidence."
            );
            d.fixes.push(Fix::cmd(
                "See why the claim is not bound",
                format!("kubectl {}describe pvc {name}", ns_flag(ns)),
            ));
        }
        return d;
    };
    let phase = claim.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    if phase == "Bound" {
        return d;
    }
    let spec = claim.spec.as_ref();
    let class = spec.and_then(|s| s.storage_class_name.clone());
    let events = ev.events_for("PersistentVolumeClaim", Some(ns), name);
    let warnings: Vec<&&EventRecord> = events.iter().filter(|e| e.is_warning()).collect();
    let newest_warning = warnings.last();
    let sc_collected = ev.has_collected("StorageClass") || !ev.storage_classes.is_empty();
    let default = ev.storage_classes.iter().find(|s| is_default_class(s));
    let age = ev.age_secs(claim.metadata.creation_timestamp.as_ref().map(|t| t.0));

    d.evidence.push(EvidenceItem::new(
        EvidenceSource::Status,
        format!(
            "PVC {name}: phase {phase}, storageClassName {}",
            match &class {
                None => "not set".to_string(),
                Some(c) if c.is_empty() => "\"\"".to_string(),
                Some(c) => c.clone(),
            }
        ),
        Some(obj.clone()),
    ));
    if let Some(w) = newest_warning {
        d.evidence.push(EvidenceItem::new(EvidenceSource::Event, event_line(w), Some(obj.clone())));
    }
    let classes = class_list(ev);
    let describe = Fix::cmd("See the claim's events", format!("kubectl {}describe pvc {name}", ns_flag(ns)));
    let recreate = |class: &str| {
        Fix::cmd(
            format!(
                "storageClassName cannot be changed on an existing claim: recreate {name} with class {class} (re-apply your manifest/chart with the class set)"
            ),
            format!(
                "kubectl {0}get pvc {name} -o yaml | sed -e '/^  resourceVersion:/d' -e '/^  uid:/d' -e '/^  creationTimestamp:/d' -e '/^status:/,$d' -e 's/storageClassName: .*/storageClassName: {class}/' > {name}.yaml && kubectl {0}delete pvc {name} && kubectl {0}create -f {name}.yaml",
                ns_flag(ns)
            ),
        )
    };

    let class_missing = |c: &str| -> bool {
        (sc_collected && storage_class(ev, c).is_none())
            || warnings.iter().any(|e| MATCHER.first(&e.message).is_some_and(|m| m.sig.id == "pvc-class-not-found"))
    };
    match class.as_deref() {
        None if default.is_none()
            && (sc_collected || warnings.iter().any(|e| e.message.contains("no storage class is set"))) =>
        {
            d.problem = true;
            d.title = format!("PVC {ns}/{name} has no StorageClass and the cluster has no default");
            d.why = format!(
                "PersistentVolumeClaim {name} sets no storageClassName, and no StorageClass is marked default, so nothing provisions a volume for it and no pre-created PersistentVolume matches; {classes}."
            );
            d.evidence.push(EvidenceItem::new(EvidenceSource::Spec, classes.clone(), None));
            match ev.storage_classes.first() {
                Some(sc) => {
                    let n = sc.metadata.name.clone().unwrap_or_default();
                    d.fixes.push(Fix::cmd(
                        format!("Mark StorageClass {n} as the default; claims without a class then get it (Kubernetes 1.28+ also assigns it to claims already pending)"),
                        format!("kubectl patch storageclass {n} -p '{{\"metadata\":{{\"annotations\":{{\"storageclass.kubernetes.io/is-default-class\":\"true\"}}}}}}'"),
                    ));
                }
                None => {
                    d.fixes.push(Fix::cmd(
                        "Install a dynamic provisioner and make its class the default (on a lab or single-node cluster, e.g. local-path-provisioner; on a cloud, the provider's CSI driver)",
                        "kubectl apply -f https://raw.githubusercontent.com/rancher/local-path-provisioner/master/deploy/local-path-storage.yaml && kubectl patch storageclass local-path -p '{\"metadata\":{\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":\"true\"}}}'",
                    ));
                }
            }
            d.fixes.push(Fix::text(format!(
                "Or create a PersistentVolume by hand that matches the claim's size and access modes, or set storageClassName in the chart values for {name}"
            )));
            d.root_key = "storage:no-default-class".to_string();
        }
        Some(c) if !c.is_empty() && class_missing(c) => {
            d.problem = true;
            d.title = format!("PVC {ns}/{name} names StorageClass {c}, which does not exist");
            d.why = format!(
                "PersistentVolumeClaim {name} asks for StorageClass {c}, which does not exist, so nothing provisions it; {classes}."
            );
            d.evidence.push(EvidenceItem::new(EvidenceSource::Spec, classes.clone(), None));
            let target = default.or(ev.storage_classes.first()).and_then(|s| s.metadata.name.clone());
            match target {
                Some(t) => d.fixes.push(recreate(&t)),
                None => d
                    .fixes
                    .push(Fix::text(format!("Create StorageClass {c} with a provisioner that runs in this cluster"))),
            }
            d.root_key = format!("storage:class-missing:{c}");
        }
        Some("") => {
            let pending_long = age.is_none_or(|a| a > PROVISION_GRACE_SECS);
            d.problem = pending_long;
            d.title = format!("PVC {ns}/{name} waits for a PersistentVolume that does not exist");
            d.why = format!(
                "PersistentVolumeClaim {name} sets storageClassName \"\", which disables dynamic provisioning: it binds only to a pre-created PersistentVolume of matching size and access modes, and none is available."
            );
            d.fixes.push(Fix::text(format!(
                "Create a PersistentVolume with storageClassName \"\" that fits the claim, or recreate {name} with a StorageClass; {classes}"
            )));
        }
        _ => {
            // A class exists (named, or the default): its provisioner is the suspect.
            let sc =
                class.as_deref().and_then(|c| storage_class(ev, c)).or(if class.is_none() { default } else { None });
            let cname = sc.and_then(|s| s.metadata.name.clone()).or(class.clone()).unwrap_or_default();
            let provisioner = sc.map(|s| s.provisioner.clone()).or_else(|| {
                events.iter().rev().find_map(|e| {
                    MATCHER.first(&e.message).map(|m| m.get("provisioner").to_string()).filter(|p| !p.is_empty())
                })
            });
            let wffc = sc.and_then(|s| s.volume_binding_mode.as_deref()) == Some("WaitForFirstConsumer")
                || events.last().is_some_and(|e| e.reason == "WaitForFirstConsumer");
            let failed =
                warnings.iter().rev().find(|e| e.reason == "ProvisioningFailed" || e.reason == "FailedBinding");
            if let Some(e) = failed {
                let detail = MATCHER
                    .first(&e.message)
                    .map(|m| m.get("detail").to_string())
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| e.message.trim().to_string());
                d.problem = true;
                d.title = format!(
                    "Provisioning PVC {ns}/{name} fails{}",
                    provisioner.as_deref().map(|p| format!(" in {p}")).unwrap_or_default()
                );
                d.why = format!(
                    "The provisioner of StorageClass {cname} cannot create a volume for PersistentVolumeClaim {name}: {detail}"
                );
                if let Some(p) = &provisioner {
                    d.fixes.push(provisioner_logs_fix(p));
                }
                d.root_key = format!("storage:provisioning:{cname}");
            } else if provisioner.as_deref() == Some("kubernetes.io/no-provisioner") {
                d.problem = !wffc && age.is_none_or(|a| a > PROVISION_GRACE_SECS);
                d.title = format!("PVC {ns}/{name} waits for a PersistentVolume nobody creates");
                d.why = format!(
                    "StorageClass {cname} has no provisioner (kubernetes.io/no-provisioner): claim {name} binds only to a pre-created PersistentVolume of that class, and none is available."
                );
                d.fixes.push(Fix::text(format!(
                    "Create a PersistentVolume of class {cname} (e.g. a local volume on a node) that fits the claim"
                )));
            } else if wffc {
                // Normal until a pod that uses it is scheduled; a pending consumer is the
                // scheduler's finding.
                d.problem = false;
            } else if age.is_none_or(|a| a > PROVISION_GRACE_SECS)
                && events.iter().any(|e| e.reason == "ExternalProvisioning")
            {
                let p = provisioner.clone().unwrap_or_default();
                let mins = age.map(|a| format!(" for {} min", a / 60)).unwrap_or_default();
                d.problem = true;
                d.title = format!("PVC {ns}/{name} waits on provisioner {p}, which does not answer");
                d.why = format!(
                    "Claim {name} of StorageClass {cname} has waited{mins} for the external provisioner {p} to create a volume, with no progress and no error: the provisioner (CSI controller) is most likely not installed or not running."
                );
                if let Some(e) = events.iter().rev().find(|e| e.reason == "ExternalProvisioning") {
                    d.evidence.push(EvidenceItem::new(EvidenceSource::Event, event_line(e), Some(obj.clone())));
                }
                d.fixes.push(provisioner_logs_fix(&p));
                if p == "ebs.csi.aws.com" {
                    d.fixes.push(Fix::cmd(
                        "On EKS the EBS CSI driver is an add-on that must be installed (with an IAM role)",
                        "aws eks create-addon --cluster-name <cluster> --addon-name aws-ebs-csi-driver",
                    ));
                }
                d.root_key = format!("storage:provisioner:{p}");
            }
        }
    }
    d.fixes.push(describe);
    d
}

fn provisioner_logs_fix(provisioner: &str) -> Fix {
    let short = provisioner.split(['.', '/']).next().unwrap_or(provisioner);
    Fix::cmd(
        format!("Check that the provisioner {provisioner} runs, and read its log"),
        format!("kubectl get pods -A -o wide | grep -i -E '{short}|csi|provisioner'"),
    )
}
