//! Cause codes: the public contract of `../shared/design/causes.md`.
//! Codes are never renamed or reused; add new ones at the end of a group.

use serde::{Serialize, Serializer};

macro_rules! causes {
    ($($variant:ident => $code:literal, $meaning:literal;)*) => {
        /// The root cause a finding names. `as_str` is the stable code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Cause { $($variant,)* }

        impl Cause {
            /// Every cause, in catalogue order.
            pub const ALL: &'static [Cause] = &[$(Cause::$variant,)*];

            /// The stable code, e.g. `config.secret_key_missing`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Cause::$variant => $code,)* }
            }

            /// One-line meaning from the catalogue.
            pub const fn meaning(self) -> &'static str {
                match self { $(Cause::$variant => $meaning,)* }
            }

            /// Parse a stable code.
            pub fn from_code(code: &str) -> Option<Cause> {
                match code { $($code => Some(Cause::$variant),)* _ => None }
            }
        }
    };
}

causes! {
    ImageAuth => "image.auth", "the registry refused the pull or push: missing, wrong or expired credentials";
    ImageNotFound => "image.not_found", "the repository, tag or digest does not exist";
    ImageRateLimit => "image.rate_limit", "the registry throttled the pull (toomanyrequests)";
    ImageNetwork => "image.network", "the registry is unreachable from the node";
    ImageTls => "image.tls", "TLS failure talking to the registry";
    ImagePlatform => "image.platform", "no image for the node's OS/architecture";
    ImageInvalidName => "image.invalid_name", "the image reference cannot be parsed";
    ImageNeverPull => "image.never_pull", "imagePullPolicy: Never and the image is not on the node";
    ImageUnknown => "image.unknown", "the image pull fails and the evidence at hand does not say why";
    ImageStale => "image.stale", "the pod runs an older digest than its tag now points to";
    CrashOom => "crash.oom", "the container was killed for exceeding its memory limit";
    CrashMissingDependency => "crash.missing_dependency", "a module, package, class or shared library is missing from the image";
    CrashPermission => "crash.permission", "permission denied on a file or directory, or a read-only filesystem";
    CrashConfig => "crash.config", "missing or invalid configuration";
    CrashLockFile => "crash.lock_file", "the data directory is locked by another instance or a stale lock file";
    CrashExecNotFound => "crash.exec_not_found", "the command or entrypoint does not exist in the image";
    CrashDependencyUnreachable => "crash.dependency_unreachable", "the app exits because it cannot reach a database or service it needs";
    CrashProbe => "crash.probe", "the liveness or startup probe kills the container";
    CrashPortInUse => "crash.port_in_use", "the app cannot bind its port";
    CrashUnknown => "crash.unknown", "the container keeps exiting and no known signature explains why";
    ConfigSecretMissing => "config.secret_missing", "a referenced Secret does not exist in the namespace";
    ConfigSecretKeyMissing => "config.secret_key_missing", "a referenced key is absent from an existing Secret";
    ConfigConfigmapMissing => "config.configmap_missing", "a referenced ConfigMap does not exist";
    ConfigConfigmapKeyMissing => "config.configmap_key_missing", "a referenced key is absent from an existing ConfigMap";
    ConfigServiceAccountMissing => "config.service_account_missing", "the pod's ServiceAccount does not exist";
    SecurityRunAsNonRoot => "security.run_as_non_root", "runAsNonRoot is required but a container runs as root or a non-numeric user";
    SecurityInvalidField => "security.invalid_field", "a field is placed where Kubernetes ignores or rejects it";
    SecurityPrivileged => "security.privileged", "privileged containers, host namespaces, dangerous capabilities";
    AdmissionPodSecurity => "admission.pod_security", "Pod Security Admission rejected the pod";
    AdmissionQuota => "admission.quota", "a ResourceQuota blocks creation";
    AdmissionLimitRange => "admission.limit_range", "a LimitRange blocks creation";
    AdmissionWebhook => "admission.webhook", "an admission webhook denied the object or failed to answer";
    SchedInsufficientResources => "sched.insufficient_resources", "no node has enough free resources";
    SchedTaint => "sched.taint", "the nodes carry taints the pod does not tolerate";
    SchedAffinity => "sched.affinity", "nodeSelector or (anti-)affinity matches no node";
    SchedPvcUnbound => "sched.pvc_unbound", "the pod waits for a PersistentVolumeClaim that is not bound";
    SchedVolumeNodeAffinity => "sched.volume_node_affinity", "the pod's volume lives where the pod cannot go";
    VolumeMountFailed => "volume.mount_failed", "the kubelet cannot mount a volume";
    VolumeMultiAttach => "volume.multi_attach", "a ReadWriteOnce volume is still attached to another node";
    VolumePvcPending => "volume.pvc_pending", "a PVC stays Pending";
    NetServiceNoEndpoints => "net.service_no_endpoints", "a Service selects no ready pods";
    NetIngressClass => "net.ingress_class", "an Ingress has no class or no controller for its class";
    NetIngressBackendMissing => "net.ingress_backend_missing", "an Ingress points at a Service or port that does not exist";
    NetDanglingReference => "net.dangling_reference", "configuration names an in-cluster host that does not exist";
    NetReadiness => "net.readiness", "a readiness probe keeps failing";
    CertNotReady => "cert.not_ready", "a cert-manager Certificate is not Ready";
    NodeNotReady => "node.not_ready", "a node is NotReady or unreachable";
    NodePressure => "node.pressure", "a node reports memory, disk or PID pressure";
    NodeEviction => "node.eviction", "pods were evicted from a node under resource pressure";
    WorkloadRolloutStuck => "workload.rollout_stuck", "a rollout does not progress";
    WorkloadUpdateNotApplied => "workload.update_not_applied", "the object changed but the pods still run the old template or image";
    WorkloadBadSpec => "workload.bad_spec", "a manifest error Kubernetes would reject or misread";
    WorkloadMissingEnv => "workload.missing_env", "a container lacks an environment variable its siblings have";
    JobBackoffLimit => "job.backoff_limit", "a Job failed too many times";
    JobDeadline => "job.deadline", "a Job exceeded activeDeadlineSeconds";
    SidecarInjection => "sidecar.injection", "an injected sidecar failed to be injected or to start";
    DriftSpec => "drift.spec", "the live object differs from the manifest kept in Git";
    DriftImage => "drift.image", "the image running differs from the image in Git";
    BuildDockerfileMissing => "build.dockerfile_missing", "an image build cannot find its Dockerfile";
    BuildDependencyConflict => "build.dependency_conflict", "the image build fails resolving packages";
    BuildContextTooLarge => "build.context_too_large", "the build context exceeds what the builder accepts";
    BuildNetwork => "build.network", "the build cannot reach a package index or registry";
    DevTagPolicy => "dev.tag_policy", "tooling reuses a mutable tag so nodes keep serving a cached image";
    DevBuildCache => "dev.build_cache", "a build cache setup lets stale output into the image";
    DevDockerfileUser => "dev.dockerfile_user", "the Dockerfile installs files for one user and runs as another";
    DevSyncReload => "dev.sync_reload", "file sync or reload hooks cannot work in the target container";
    DevLocalRegistry => "dev.local_registry", "a local development registry is not reachable from the cluster";
    DevKubeContext => "dev.kube_context", "the current kube context points at a cluster that does not answer";
    DevContainerEngine => "dev.container_engine", "the docker/podman client cannot reach a running engine";
    DevPortForward => "dev.port_forward", "a leftover kubectl port-forward process still holds a local port";
    EnvProviderAnnotation => "env.provider_annotation", "a cloud-provider annotation pins a setting that disagrees with the real resource";
}

impl Cause {
    /// Codes kubesleuth added to the shared catalogue, where a real failure needed one.
    pub const ADDED: &'static [Cause] =
        &[Cause::ImageUnknown, Cause::DevKubeContext, Cause::DevContainerEngine, Cause::DevPortForward];
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Cause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const ADDED: &[Cause] = Cause::ADDED;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Cause::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            assert_eq!(Cause::from_code(c.as_str()), Some(*c));
        }
        assert_eq!(Cause::from_code("no.such"), None);
    }

    #[test]
    fn codes_match_the_design_catalogue_when_present() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/design/causes.md");
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipping: {path} not present");
            return;
        };
        let documented: Vec<&str> =
            text.lines().filter_map(|l| l.strip_prefix("| `")).filter_map(|l| l.split('`').next()).collect();
        assert!(documented.len() > 50, "catalogue parse failed");
        for code in &documented {
            assert!(Cause::from_code(code).is_some(), "cause {code} missing from Cause");
        }
        for c in Cause::ALL {
            assert!(
                documented.contains(&c.as_str()) || ADDED.contains(c),
                "{} is neither in causes.md nor in Cause::ADDED",
                c.as_str()
            );
        }
    }
}
