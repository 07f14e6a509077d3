//! The kinds a live scan lists: exactly what the rules read (see `ks_sources::objects`), and
//! nothing else. `deploy/rbac.yaml` grants get/list/watch on this table; keep them in step.

/// One listable resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceSpec {
    /// API group, empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// URL path segment (`pods`), also the RBAC resource name.
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    /// Served by an optional API group (a CRD): skipped quietly when the cluster lacks it.
    pub optional: bool,
    /// Only listed for `kubesleuth snapshot` (the cluster-info dump layout has it; no rule
    /// reads it).
    pub snapshot_only: bool,
}

impl ResourceSpec {
    /// `v1`, `apps/v1`.
    pub fn api_version(&self) -> String {
        self.api_version_at(self.version)
    }

    /// The apiVersion at another version of the same group (a CRD served at `v1beta1`).
    pub fn api_version_at(&self, version: &str) -> String {
        if self.group.is_empty() { version.to_string() } else { format!("{}/{version}", self.group) }
    }

    /// How warnings and gaps name it: `secrets`, `events.k8s.io/events`.
    pub fn display(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}/{}", self.group, self.plural) }
    }

    /// The list path, cluster-wide (`ns` = None) or in one namespace.
    pub fn list_path(&self, ns: Option<&str>) -> String {
        self.list_path_at(self.version, ns)
    }

    /// The list path at another version of the same group.
    pub fn list_path_at(&self, version: &str, ns: Option<&str>) -> String {
        let base =
            if self.group.is_empty() { format!("/api/{version}") } else { format!("/apis/{}/{version}", self.group) };
        match ns {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }
}

const fn spec(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceSpec {
    ResourceSpec { group, version, plural, kind, namespaced, optional: false, snapshot_only: false }
}

const fn crd(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceSpec {
    ResourceSpec { group, version, plural, kind, namespaced, optional: true, snapshot_only: false }
}

/// Everything a scan may list. Events are listed from `core/v1` (what `kubectl cluster-info
/// dump` writes and what `kubectl get events` reads); `events.k8s.io/v1` serves the same
/// objects and is only a fallback when the core list is forbidden.
pub const RESOURCES: &[ResourceSpec] = &[
    spec("", "v1", "namespaces", "Namespace", false),
    spec("", "v1", "nodes", "Node", false),
    spec("", "v1", "pods", "Pod", true),
    spec("", "v1", "events", "Event", true),
    spec("", "v1", "services", "Service", true),
    spec("", "v1", "endpoints", "Endpoints", true),
    spec("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true),
    spec("", "v1", "persistentvolumes", "PersistentVolume", false),
    spec("", "v1", "serviceaccounts", "ServiceAccount", true),
    spec("", "v1", "secrets", "Secret", true),
    spec("", "v1", "configmaps", "ConfigMap", true),
    spec("", "v1", "limitranges", "LimitRange", true),
    spec("", "v1", "resourcequotas", "ResourceQuota", true),
    ResourceSpec { snapshot_only: true, ..spec("", "v1", "replicationcontrollers", "ReplicationController", true) },
    spec("apps", "v1", "deployments", "Deployment", true),
    spec("apps", "v1", "replicasets", "ReplicaSet", true),
    spec("apps", "v1", "statefulsets", "StatefulSet", true),
    spec("apps", "v1", "daemonsets", "DaemonSet", true),
    spec("batch", "v1", "jobs", "Job", true),
    spec("batch", "v1", "cronjobs", "CronJob", true),
    spec("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true),
    spec("networking.k8s.io", "v1", "ingresses", "Ingress", true),
    spec("networking.k8s.io", "v1", "ingressclasses", "IngressClass", false),
    spec("storage.k8s.io", "v1", "storageclasses", "StorageClass", false),
    spec(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        false,
    ),
    spec("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false),
    crd("cert-manager.io", "v1", "certificates", "Certificate", true),
    crd("cert-manager.io", "v1", "certificaterequests", "CertificateRequest", true),
    crd("cert-manager.io", "v1", "issuers", "Issuer", true),
    crd("cert-manager.io", "v1", "clusterissuers", "ClusterIssuer", false),
    crd("acme.cert-manager.io", "v1", "orders", "Order", true),
    crd("acme.cert-manager.io", "v1", "challenges", "Challenge", true),
    crd("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute", true),
    crd("gateway.networking.k8s.io", "v1", "grpcroutes", "GRPCRoute", true),
    // Istio serves several versions; discovery picks the preferred one.
    crd("networking.istio.io", "v1", "serviceentries", "ServiceEntry", true),
];

/// The fallback for core events when they are forbidden.
pub const EVENTS_K8S_IO: ResourceSpec = spec("events.k8s.io", "v1", "events", "Event", true);

/// The spec serving `kind`, if a scan lists it.
pub fn by_kind(kind: &str) -> Option<&'static ResourceSpec> {
    RESOURCES.iter().find(|r| r.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_api_layout() {
        let pods = by_kind("Pod").unwrap();
        assert_eq!(pods.list_path(None), "/api/v1/pods");
        assert_eq!(pods.list_path(Some("shop")), "/api/v1/namespaces/shop/pods");
        let deploy = by_kind("Deployment").unwrap();
        assert_eq!(deploy.list_path(Some("shop")), "/apis/apps/v1/namespaces/shop/deployments");
        let nodes = by_kind("Node").unwrap();
        // Cluster-scoped kinds ignore the namespace.
        assert_eq!(nodes.list_path(Some("shop")), "/api/v1/nodes");
        assert_eq!(EVENTS_K8S_IO.display(), "events.k8s.io/events");
        assert_eq!(by_kind("Secret").unwrap().display(), "secrets");
    }

    #[test]
    fn every_kind_is_listed_once() {
        let mut kinds: Vec<&str> = RESOURCES.iter().map(|r| r.kind).collect();
        kinds.sort();
        let n = kinds.len();
        kinds.dedup();
        assert_eq!(kinds.len(), n);
    }
}
