//! Volume events: `FailedMount`, `FailedAttachVolume`, PVC `ProvisioningFailed`.

use super::Signature;
use ks_core::Cause;

pub static TABLE: &[Signature] = &[
    Signature {
        id: "volume-multi-attach",
        cause: Cause::VolumeMultiAttach,
        pattern: r#"Multi-Attach error for volume "(?P<volume>[^"]+)"|Waiting for detach for volume "(?P<volume2>[^"]+)""#,
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
        pattern: r#"MountVolume\.\w+ failed for volume "(?P<volume>[^"]+)" : (?P<detail>.+)|Unable to attach or mount volumes: (?P<detail2>.+)|AttachVolume.Attach failed for volume "(?P<volume3>[^"]+)""#,
    },
    Signature {
        id: "pvc-no-storage-class",
        cause: Cause::VolumePvcPending,
        pattern: r#"storageclass\.storage\.k8s\.io "(?P<class>[^"]+)" not found|no persistent volumes available for this claim and no storage class is set|waiting for a volume to be created"#,
    },
    Signature {
        id: "pvc-provisioning-failed",
        cause: Cause::VolumePvcPending,
        pattern: r"failed to provision volume with StorageClass",
    },
];

super::matcher!(MATCHER, TABLE);
