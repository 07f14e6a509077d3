use ks_core::k8s_openapi::api::core::v1::Volume;
use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{pv, pvc};
use crate::facts::{MountFailure, pod_ref};
use crate::signatures::volume::{DETAIL_MATCHER, split_list};
use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// Pods stuck in `ContainerCreating` because the kubelet cannot attach or mount one of
    /// their volumes: `MountVolume.SetUp failed`, `MountVolume.MountDevice failed`,
    /// `AttachVolume.Attach failed`, or the timed-out wait `Unable to attach or mount
    /// volumes: unmounted volumes=[...]`, with the inner cause dug out of the other events:
    /// a CSI driver not registered on the node, an NFS server that refuses or cannot be
    /// reached, a missing mount helper, a hostPath that is not what the spec says. Missing
    /// Secret and ConfigMap volumes are reported by the configuration rules instead.
    ///
    /// ### Why it breaks
    /// No container starts until every volume is mounted. The storage backend, the node's
    /// mount tools or the CSI node plugin must work on the very node the pod landed on.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` lists the `FailedMount`/`FailedAttachVolume` events; the
    /// inner error after ` : ` names the cause. `kubectl get csinode <node>` shows which CSI
    /// drivers the node has registered; `kubectl get volumeattachments` shows attach state.
    ///
    /// ### Fix
    /// Repair the storage path the error names: run the CSI driver's node plugin on the node,
    /// install the NFS client (`nfs-common`/`nfs-utils`), export the share to the nodes, open
    /// the firewall to the NFS server, or create the hostPath directory.
    ///
    /// ### Prevention
    /// Bake mount helpers into node images, deploy CSI node plugins as DaemonSets that
    /// tolerate every taint, and monitor the storage backend from the nodes.
    ///
    /// ### Example
    /// `MountVolume.MountDevice failed for volume "pvc-9" : ... driver name ebs.csi.aws.com
    /// not found in the list of registered CSI drivers`.
    pub static META = {
        id: "KS0506",
        name: "volume-mount-failed",
        cause: Cause::VolumeMountFailed,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the kubelet cannot attach or mount a volume of the pod",
    }
}

pub struct VolumeMountFailed;

/// Failures younger than this may still resolve on the kubelet's next try.
const GRACE_SECS: i64 = 30;

impl Rule for VolumeMountFailed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for m in cx.facts.mounts.iter().filter(|m| m.cause == Cause::VolumeMountFailed) {
            let pod = &cx.ev.pods[m.pod];
            if cx.ev.age_secs(pod.metadata.creation_timestamp.as_ref().map(|t| t.0)).is_some_and(|a| a < GRACE_SECS) {
                continue;
            }
            // A transient kubelet cache message about projected tokens, not a failure.
            if m.message.contains("not registered") {
                continue;
            }
            if let Some(f) = explain(cx, m) {
                out.push(f);
            }
        }
    }
}

fn pod_volume<'p>(cx: &'p Context<'_>, m: &MountFailure, name: &str) -> Option<&'p Volume> {
    let pod = &cx.ev.pods[m.pod];
    let (ns, _) = util::pod_names(cx.ev, m.pod);
    let vols = pod.spec.as_ref()?.volumes.as_ref()?;
    vols.iter().find(|v| v.name == name).or_else(|| {
        // PVC-backed volumes are named after their PersistentVolume in mount events.
        vols.iter().find(|v| {
            v.persistent_volume_claim.as_ref().is_some_and(|c| {
                pvc(cx.ev, ns, &c.claim_name).and_then(|c| c.spec.as_ref()?.volume_name.clone()).as_deref()
                    == Some(name)
            })
        })
    })
}

/// `volume data (PVC shop/data, PV pvc-1, CSI driver x)`; the NFS server and path when known.
fn describe_volume(cx: &Context<'_>, m: &MountFailure, v: Option<&Volume>, name: &str) -> (String, Option<String>) {
    let (ns, _) = util::pod_names(cx.ev, m.pod);
    let Some(v) = v else { return (format!("volume {name}"), None) };
    if let Some(n) = &v.nfs {
        let target = format!("{}:{}", n.server, n.path);
        return (format!("NFS volume {} ({target})", v.name), Some(target));
    }
    if let Some(c) = &v.persistent_volume_claim {
        let claim = pvc(cx.ev, ns, &c.claim_name);
        let pv_name = claim.and_then(|c| c.spec.as_ref()?.volume_name.clone());
        let volume = pv_name.as_deref().and_then(|p| pv(cx.ev, p));
        let spec = volume.and_then(|p| p.spec.as_ref());
        let nfs = spec.and_then(|s| s.nfs.as_ref()).map(|n| format!("{}:{}", n.server, n.path));
        let driver = spec.and_then(|s| s.csi.as_ref()).map(|c| c.driver.clone());
        let mut parts = vec![format!("PVC {}", c.claim_name)];
        parts.extend(pv_name.map(|p| format!("PV {p}")));
        parts.extend(driver.map(|d| format!("CSI driver {d}")));
        parts.extend(nfs.clone().map(|n| format!("NFS {n}")));
        return (format!("volume {} ({})", v.name, parts.join(", ")), nfs);
    }
    if let Some(c) = &v.csi {
        return (format!("volume {} (CSI driver {})", v.name, c.driver), None);
    }
    if let Some(h) = &v.host_path {
        return (format!("hostPath volume {} ({})", v.name, h.path), None);
    }
    (format!("volume {}", v.name), None)
}

fn explain(cx: &Context<'_>, m: &MountFailure) -> Option<Finding> {
    let ev = cx.ev;
    let pod = &ev.pods[m.pod];
    let (ns, pod_name) = util::pod_names(ev, m.pod);
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    let on_node = node.as_deref().map(|n| format!(" on node {n}")).unwrap_or_default();
    let w = ev.workload_of(m.pod).clone();
    let mut f = util::finding(&META, w, String::new(), String::new());
    f.affected.push(pod_ref(pod));
    f.evidence = m.evidence.clone();

    if m.signature == "volume-wait-timeout" {
        let unmounted = split_list(m.details.get("unmounted").map(String::as_str).unwrap_or_default());
        // Secret, ConfigMap and token volumes are the configuration rules' business.
        let own: Vec<&String> = unmounted
            .iter()
            .filter(|v| {
                pod_volume(cx, m, v).is_none_or(|v| {
                    v.secret.is_none() && v.config_map.is_none() && v.projected.is_none() && v.downward_api.is_none()
                })
            })
            .collect();
        if own.is_empty() && !unmounted.is_empty() {
            return None;
        }
        let described: Vec<String> = own.iter().map(|v| describe_volume(cx, m, pod_volume(cx, m, v), v).0).collect();
        let list = if described.is_empty() { "its volumes".to_string() } else { util::join_names(&described) };
        f.title = format!("Pod cannot start: {list} never mounted");
        f.root_cause = format!(
            "The kubelet{on_node} waited for {list} of pod {pod_name} and gave up (it retries every two minutes); no event in the evidence says why, so the attach or the driver's node stage is stuck."
        );
        f.root_key = format!("mount:{ns}/{}", own.first().map(|s| s.as_str()).unwrap_or("?"));
        f.fix.push(Fix::cmd("See whether the volumes are attached to the node", "kubectl get volumeattachments"));
        f.fix.push(util::describe_pod(ev, m.pod));
        return Some(f);
    }

    let name = m.details.get("volume").cloned().unwrap_or_default();
    let v = pod_volume(cx, m, &name);
    let (what, nfs) = describe_volume(cx, m, v, &name);
    let op = m.details.get("op").cloned().unwrap_or_else(|| "Attach".to_string());
    let detail = DETAIL_MATCHER.first(&m.message);
    let inner = m.details.get("detail").cloned().unwrap_or_default();
    let node_s = node.clone().unwrap_or_else(|| "<node>".to_string());
    match detail.as_ref().map(|d| d.sig.id) {
        Some("mount-csi-driver-not-registered") => {
            let driver = detail.as_ref().map(|d| d.get("driver").to_string()).unwrap_or_default();
            f.title = format!("CSI driver {driver} is not registered{on_node}");
            f.root_cause = format!(
                "The kubelet{on_node} cannot mount {what} of pod {pod_name}: the CSI driver {driver} has no node plugin registered there (its DaemonSet pod is missing, crashing or not tolerated on the node)."
            );
            f.root_key = format!("csi-driver:{driver}");
            f.fix.push(Fix::cmd(
                format!("List the drivers registered on {node_s}"),
                format!("kubectl get csinode {node_s} -o jsonpath='{{.spec.drivers[*].name}}'"),
            ));
            f.fix.push(Fix::cmd(
                format!("Find the driver's node plugin pod on {node_s} and check it runs"),
                format!(
                    "kubectl get pods -A -o wide --field-selector spec.nodeName={node_s} | grep -i -E 'csi|{}'",
                    driver.split('.').next().unwrap_or(&driver)
                ),
            ));
        }
        Some("mount-helper-missing") => {
            f.title = format!("Node {node_s} lacks the mount helper for {what}");
            f.root_cause = format!(
                "Mounting {what} of pod {pod_name} fails{on_node} because the node has no mount helper for the filesystem (for NFS: the nfs-common / nfs-utils package)."
            );
            f.root_key = format!("mount-helper:{node_s}");
            f.fix.push(Fix::text(format!(
                "Install the NFS client on {node_s} and every node that may run the pod (Debian/Ubuntu: apt-get install -y nfs-common; RHEL/Amazon Linux: yum install -y nfs-utils), ideally in the node image"
            )));
        }
        Some("mount-nfs-access-denied") => {
            let export = detail.as_ref().map(|d| d.get("export").to_string()).or(nfs.clone()).unwrap_or_default();
            f.title = format!("NFS server refuses to export {export} to the node");
            f.root_cause = format!(
                "The NFS server answers \"access denied\" when node {node_s} mounts {export} for pod {pod_name}: the export does not list the node's address (or needs options such as no_root_squash/insecure)."
            );
            f.root_key = format!("nfs:{export}");
            f.fix.push(Fix::text(format!(
                "On the NFS server, allow the node network in /etc/exports for {} and reload with exportfs -rv",
                export.split_once(':').map(|(_, p)| p).unwrap_or(&export)
            )));
        }
        Some("mount-nfs-unreachable") => {
            let target = nfs.clone().unwrap_or_else(|| "the NFS server".to_string());
            let server = target.split(':').next().unwrap_or(&target).to_string();
            let err = detail.as_ref().map(|d| d.get("error").to_string()).unwrap_or_default();
            f.title = format!("Node {node_s} cannot reach NFS server {server}");
            f.root_cause = format!(
                "Mounting {what} of pod {pod_name}{on_node} fails with \"{err}\": the NFS server {server} is down or a firewall/security group blocks port 2049 from the nodes."
            );
            f.root_key = format!("nfs:{target}");
            f.fix.push(Fix::cmd(
                format!("Test the NFS port from {node_s}"),
                format!("kubectl debug node/{node_s} -it --image=busybox -- nc -zv -w 3 {server} 2049"),
            ));
        }
        Some("mount-nfs-no-export") => {
            let export = detail
                .as_ref()
                .map(|d| d.get("export").to_string())
                .filter(|e| !e.is_empty())
                .or(nfs.clone())
                .unwrap_or_default();
            f.title = format!("NFS export {export} does not exist");
            f.root_cause = format!("The NFS server has no export {export}, which {what} of pod {pod_name} mounts.");
            f.root_key = format!("nfs:{export}");
            f.fix.push(Fix::text(format!(
                "Create and export the directory on the server, or correct the volume's path ({export})"
            )));
        }
        Some("mount-hostpath-type") => {
            let path = detail.as_ref().map(|d| d.get("path").to_string()).unwrap_or_default();
            let kind = detail.as_ref().map(|d| d.get("kind").to_string()).unwrap_or_default();
            f.title = format!("hostPath {path} is not a {kind} on node {node_s}");
            f.root_cause = format!(
                "{what} of pod {pod_name} requires {path} to be a {kind} on the node (hostPath.type), and on {node_s} it is not."
            );
            f.root_key = format!("hostpath:{node_s}:{path}");
            f.fix.push(Fix::text(format!(
                "Create {path} on the node (or set hostPath.type: DirectoryOrCreate / FileOrCreate in the pod template)"
            )));
        }
        other => {
            let desc = detail
                .as_ref()
                .filter(|_| other == Some("mount-rpc-error"))
                .map(|d| format!("{} ({})", d.get("desc").trim(), d.get("code")))
                .unwrap_or_else(|| inner.trim().to_string());
            let stage = match op.as_str() {
                "Attach" => "attach",
                "MountDevice" | "WaitForAttach" => "stage (MountDevice)",
                _ => "mount",
            };
            f.title = format!("Cannot {stage} {what}");
            f.root_cause = format!(
                "The {} cannot {stage} {what} for pod {pod_name}{on_node}: {desc}",
                if stage == "attach" { "attach/detach controller" } else { "kubelet" }
            );
            f.root_key = format!("mount:{ns}/{name}");
            let driver = v.and_then(|v| v.csi.as_ref().map(|c| c.driver.clone())).or_else(|| {
                what.split("CSI driver ")
                    .nth(1)
                    .map(|s| s.trim_end_matches(')').split(',').next().unwrap_or(s).to_string())
            });
            match driver {
                Some(d) => f.fix.push(Fix::cmd(
                    format!("Read the CSI driver {d}'s controller and node plugin logs"),
                    format!("kubectl get pods -A -o wide | grep -i -E '{}'", d.split('.').next().unwrap_or(&d)),
                )),
                None => f
                    .fix
                    .push(Fix::cmd("See the attach state of the cluster's volumes", "kubectl get volumeattachments")),
            }
        }
    }
    if v.is_some() {
        f.evidence.push(EvidenceItem::new(EvidenceSource::Spec, format!("pod volume: {what}"), Some(pod_ref(pod))));
    }
    f.fix.push(util::describe_pod(ev, m.pod));
    Some(f)
}
