//! Volume events: `FailedMount`, `FailedAttachVolume` on pods; `ProvisioningFailed`,
//! `FailedBinding`, `ExternalProvisioning` on PersistentVolumeClaims.

use super::Signature;
use ks_core::Cause;

pub static TABLE: &[Signature] = &[
    Signature {
        id: "volume-multi-attach",
        cause: Cause::VolumeMultiAttach,
        pattern: r#"Multi-Attach error for volume "(?P<volume>[^"]+)"(?: Volume is already used by pod\(s\) (?P<holders>.+?)(?: and \d+ pod\(s\) in different namespaces)?\s*$)?|Waiting for detach for volume "(?P<volume2>[^"]+)""#,
    },
    Signature {
        id: "volume-secret-missing",
        cause: Cause::ConfigSecretMissing,
        pattern: r#"MountVolume.SetUp failed for volume "(?P<volume>[^"]+)" : secrets? "(?P<name>[^"]+)" not found"#,
    },
    Signature {
        id: "volume-configmap-missing",
        cause: Cause::ConfigConfigmapMissing,
        pattern: r#"MountVolume.SetUp failed for volume "(?P<volume>[^"]+)" : configmaps? "(?P<name>[^"]+)" not found"#,
    },
    Signature {
        id: "volume-secret-key",
        cause: Cause::ConfigSecretKeyMissing,
        pattern: r#"MountVolume.SetUp failed for volume "(?P<volume>[^"]+)" : references non-existent secret key: (?P<key>\S+)"#,
    },
    Signature {
        id: "volume-configmap-key",
        cause: Cause::ConfigConfigmapKeyMissing,
        pattern: r#"MountVolume.SetUp failed for volume "(?P<volume>[^"]+)" : configmap references non-existent config key: (?P<key>\S+)"#,
    },
    Signature {
        id: "volume-pvc-missing",
        cause: Cause::VolumePvcPending,
        pattern: r#"persistentvolumeclaims? "(?P<name>[^"]+)" not found"#,
    },
    Signature {
        id: "volume-mount-failed",
        cause: Cause::VolumeMountFailed,
        pattern: r#"MountVolume\.(?P<op>\w+) failed for volume "(?P<volume>[^"]+)" : (?P<detail>.+)|AttachVolume\.Attach failed for volume "(?P<volume2>[^"]+)"(?: : (?P<detail2>.+))?"#,
    },
    // The kubelet's wait for all volumes timed out; the inner cause is in the other events.
    Signature {
        id: "volume-wait-timeout",
        cause: Cause::VolumeMountFailed,
        pattern: r#"Unable to (?:attach or )?mount volumes.*?unmounted volumes=\[(?P<unmounted>[^\]]*)\](?:.*?unattached volumes=\[(?P<unattached>[^\]]*)\])?|Unable to attach or mount volumes: (?P<detail>.+)"#,
    },
    Signature {
        id: "pvc-class-not-found",
        cause: Cause::VolumePvcPending,
        pattern: r#"storageclass\.storage\.k8s\.io "(?P<class>[^"]+)" not found"#,
    },
    Signature {
        id: "pvc-no-storage-class",
        cause: Cause::VolumePvcPending,
        pattern: r"no persistent volumes available for this claim and no storage class is set",
    },
    Signature {
        id: "pvc-provisioning-failed",
        cause: Cause::VolumePvcPending,
        pattern: r#"failed to provision volume with StorageClass "(?P<class>[^"]+)"(?:: (?P<detail>.+))?"#,
    },
    Signature {
        id: "pvc-waiting-provisioner",
        cause: Cause::VolumePvcPending,
        pattern: r#"waiting for a volume to be created,? either by (?:the )?external provisioner ["'](?P<provisioner>[^"']+)["']"#,
    },
];

super::matcher!(MATCHER, TABLE);

/// Inner causes inside a mount or attach failure (the kubelet quotes the mount helper's or
/// the CSI driver's error), for wording a `volume.mount_failed` finding. Matched against
/// the whole event message; first match wins.
pub static DETAIL_TABLE: &[Signature] = &[
    Signature {
        id: "mount-csi-driver-not-registered",
        cause: Cause::VolumeMountFailed,
        pattern: r"driver name (?P<driver>\S+) not found in the list of registered CSI drivers",
    },
    Signature {
        id: "mount-helper-missing",
        cause: Cause::VolumeMountFailed,
        pattern: r"you might need a /sbin/mount\.<type> helper program",
    },
    Signature {
        id: "mount-nfs-access-denied",
        cause: Cause::VolumeMountFailed,
        pattern: r"mount\.nfs: access denied by server while mounting (?P<export>\S+)",
    },
    Signature {
        id: "mount-nfs-unreachable",
        cause: Cause::VolumeMountFailed,
        pattern: r"mount\.nfs: (?P<error>Connection timed out|Connection refused|No route to host)",
    },
    Signature {
        id: "mount-nfs-no-export",
        cause: Cause::VolumeMountFailed,
        pattern: r"mount\.nfs: (?:mounting (?P<export>\S+) failed, reason given by server: )?No such file or directory",
    },
    Signature {
        id: "mount-hostpath-type",
        cause: Cause::VolumeMountFailed,
        pattern: r"hostPath type check failed: (?P<path>\S+) is not a (?P<kind>[\w ]+)",
    },
    Signature {
        id: "mount-rpc-error",
        cause: Cause::VolumeMountFailed,
        pattern: r"rpc error: code = (?P<code>\w+) desc = (?P<desc>.+)",
    },
];

super::matcher!(DETAIL_MATCHER, DETAIL_TABLE);

/// Split a `[a b]` / `a, b` list from a volume message into names.
pub fn split_list(list: &str) -> Vec<String> {
    list.split([' ', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> Option<&'static str> {
        MATCHER.first(text).map(|m| m.sig.id)
    }

    #[test]
    fn every_signature_has_a_reference_wording() {
        let m = MATCHER
            .first(r#"Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) web-1, web-2"#)
            .unwrap();
        assert_eq!(m.sig.id, "volume-multi-attach");
        assert_eq!(m.get("holders"), "web-1, web-2");
        let m = MATCHER
            .first(r#"Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) web-1 and 2 pod(s) in different namespaces"#)
            .unwrap();
        assert_eq!(m.get("holders"), "web-1");
        assert_eq!(
            id(
                r#"Multi-Attach error for volume "pvc-1" Volume is already exclusively attached to one node and can't be attached to another"#
            ),
            Some("volume-multi-attach")
        );
        assert_eq!(
            id(
                r#"Waiting for detach for volume "pvc-1" Volume is already exclusively attached to one node, waiting on detach before it can be attached to another node"#
            ),
            Some("volume-multi-attach")
        );
        assert_eq!(
            id(r#"MountVolume.SetUp failed for volume "cfg" : configmap "app" not found"#),
            Some("volume-configmap-missing")
        );
        assert_eq!(
            id(r#"MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found"#),
            Some("volume-secret-missing")
        );
        let m = MATCHER.first(r#"MountVolume.MountDevice failed for volume "pvc-9" : kubernetes.io/csi: attacher.MountDevice failed to create newCsiDriverClient: driver name ebs.csi.aws.com not found in the list of registered CSI drivers"#).unwrap();
        assert_eq!(m.sig.id, "volume-mount-failed");
        assert_eq!(m.get("op"), "MountDevice");
        assert_eq!(m.get("volume"), "pvc-9");
        assert_eq!(
            id(r#"AttachVolume.Attach failed for volume "pvc-9" : rpc error: code = Internal desc = timed out"#),
            Some("volume-mount-failed")
        );
        let m = MATCHER.first("Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data kube-api-access-x]: timed out waiting for the condition").unwrap();
        assert_eq!(m.sig.id, "volume-wait-timeout");
        assert_eq!(m.get("unmounted"), "data");
        assert_eq!(split_list(m.get("unattached")), vec!["data", "kube-api-access-x"]);
        assert_eq!(
            id(
                r#"Unable to mount volumes for pod "web_shop(1)": timeout expired waiting for volumes to attach or mount for pod "shop"/"web". list of unmounted volumes=[data]. list of unattached volumes=[data]"#
            ),
            Some("volume-wait-timeout")
        );
        assert_eq!(
            MATCHER.first(r#"storageclass.storage.k8s.io "fast-ssd" not found"#).unwrap().get("class"),
            "fast-ssd"
        );
        assert_eq!(
            id("no persistent volumes available for this claim and no storage class is set"),
            Some("pvc-no-storage-class")
        );
        let m = MATCHER.first(r#"failed to provision volume with StorageClass "gp3": rpc error: code = Internal desc = UnauthorizedOperation"#).unwrap();
        assert_eq!((m.sig.id, m.get("class")), ("pvc-provisioning-failed", "gp3"));
        let m = MATCHER.first(r#"waiting for a volume to be created, either by external provisioner "ebs.csi.aws.com" or manually created by system administrator"#).unwrap();
        assert_eq!(m.get("provisioner"), "ebs.csi.aws.com");
        let m = MATCHER.first("Waiting for a volume to be created either by the external provisioner 'nfs.csi.k8s.io' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.").unwrap();
        assert_eq!(m.get("provisioner"), "nfs.csi.k8s.io");
    }

    #[test]
    fn mount_details_have_real_wordings() {
        let cases = [
            (
                r#"MountVolume.MountDevice failed for volume "pvc-9" : kubernetes.io/csi: attacher.MountDevice failed to create newCsiDriverClient: driver name ebs.csi.aws.com not found in the list of registered CSI drivers"#,
                "mount-csi-driver-not-registered",
                "driver",
                "ebs.csi.aws.com",
            ),
            (
                "MountVolume.SetUp failed for volume \"share\" : mount failed: exit status 32\nMounting command: mount\nMounting arguments: -t nfs 10.0.0.5:/exports/share /var/lib/kubelet/pods/1/volumes/kubernetes.io~nfs/share\nOutput: mount: wrong fs type, bad option, bad superblock on 10.0.0.5:/exports/share, missing codepage or helper program, or other error\n(for several filesystems (e.g. nfs, cifs) you might need a /sbin/mount.<type> helper program)",
                "mount-helper-missing",
                "",
                "",
            ),
            (
                "Output: mount.nfs: access denied by server while mounting 10.0.0.5:/exports/share",
                "mount-nfs-access-denied",
                "export",
                "10.0.0.5:/exports/share",
            ),
            ("Output: mount.nfs: Connection timed out", "mount-nfs-unreachable", "error", "Connection timed out"),
            (
                "Output: mount.nfs: mounting 10.0.0.5:/nope failed, reason given by server: No such file or directory",
                "mount-nfs-no-export",
                "export",
                "10.0.0.5:/nope",
            ),
            (
                r#"MountVolume.SetUp failed for volume "logs" : hostPath type check failed: /var/log/app is not a directory"#,
                "mount-hostpath-type",
                "path",
                "/var/log/app",
            ),
            (
                r#"AttachVolume.Attach failed for volume "pvc-9" : rpc error: code = Internal desc = Could not attach volume "vol-1" to node "i-1": timed out"#,
                "mount-rpc-error",
                "code",
                "Internal",
            ),
        ];
        for (text, id, cap, want) in cases {
            let m = DETAIL_MATCHER.first(text).unwrap_or_else(|| panic!("no detail match: {text}"));
            assert_eq!(m.sig.id, id, "{text}");
            if !cap.is_empty() {
                assert_eq!(m.get(cap), want);
            }
        }
        for s in DETAIL_TABLE {
            assert!(regex::Regex::new(&format!("(?i){}", s.pattern)).is_ok(), "{}", s.id);
        }
    }

    #[test]
    fn pasted_volume_incidents_match() {
        let Some(text) = crate::signatures::sched::tests::pasted("030-") else {
            eprintln!("skipping pasted case 030: shared/corpus/pasted not present");
            return;
        };
        let line = text.lines().find(|l| l.contains("Multi-Attach")).expect("030 quotes a Multi-Attach event");
        let msg = &line[line.find("Multi-Attach").unwrap_or(0)..];
        let m = MATCHER.first(msg).expect("030 matches");
        assert_eq!(m.sig.cause, Cause::VolumeMultiAttach);
        assert_eq!(m.get("volume"), "pvc-bca43bf8-e4a9-4a4f-89ba-c95fdeda3b46");
        assert_eq!(
            split_list(m.get("holders")),
            vec!["vm-import-controller-harvester-vm-import-controller-7f4bf5l9ln9"]
        );
    }
}
