//! What the server calls each kind: group, version, plural, short names, scope. Built-in kinds
//! come from a table that matches a v1.31 API server's discovery; custom resources get their
//! names from a CustomResourceDefinition in the snapshot when there is one, and from the usual
//! English plural of the kind otherwise.

/// One resource type as discovery describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The lower-case plural used in URLs (`pods`).
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    /// `all` for the kinds `kubectl get all` shows.
    pub categories: Vec<String>,
    pub namespaced: bool,
}

impl ResourceInfo {
    /// `v1` for the core group, `apps/v1` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }
}

/// Split an `apiVersion` into group and version (`apps/v1` → (`apps`, `v1`), `v1` → (``, `v1`)).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// (group, version, kind, plural, short names, namespaced, in category `all`)
type Row = (&'static str, &'static str, &'static str, &'static str, &'static [&'static str], bool, bool);

/// Built-in kinds. The first block is always served, even when the snapshot holds none of them
/// (an empty list, as a real cluster would answer); the rest only when the snapshot has some.
const ALWAYS: &[Row] = &[
    ("", "v1", "Pod", "pods", &["po"], true, true),
    ("", "v1", "Service", "services", &["svc"], true, true),
    ("", "v1", "Event", "events", &["ev"], true, false),
    ("", "v1", "Node", "nodes", &["no"], false, false),
    ("", "v1", "Namespace", "namespaces", &["ns"], false, false),
    ("", "v1", "ConfigMap", "configmaps", &["cm"], true, false),
    ("", "v1", "Secret", "secrets", &[], true, false),
    ("", "v1", "ServiceAccount", "serviceaccounts", &["sa"], true, false),
    ("", "v1", "Endpoints", "endpoints", &["ep"], true, false),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", &["pvc"], true, false),
    ("", "v1", "PersistentVolume", "persistentvolumes", &["pv"], false, false),
    ("", "v1", "ReplicationController", "replicationcontrollers", &["rc"], true, true),
    ("apps", "v1", "Deployment", "deployments", &["deploy"], true, true),
    ("apps", "v1", "ReplicaSet", "replicasets", &["rs"], true, true),
    ("apps", "v1", "StatefulSet", "statefulsets", &["sts"], true, true),
    ("apps", "v1", "DaemonSet", "daemonsets", &["ds"], true, true),
    ("batch", "v1", "Job", "jobs", &[], true, true),
    ("batch", "v1", "CronJob", "cronjobs", &["cj"], true, true),
];

const WHEN_PRESENT: &[Row] = &[
    ("", "v1", "LimitRange", "limitranges", &["limits"], true, false),
    ("", "v1", "ResourceQuota", "resourcequotas", &["quota"], true, false),
    ("", "v1", "PodTemplate", "podtemplates", &[], true, false),
    ("apps", "v1", "ControllerRevision", "controllerrevisions", &[], true, false),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", &["ing"], true, false),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", &[], false, false),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", &["netpol"], true, false),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", &[], true, false),
    ("events.k8s.io", "v1", "Event", "events", &["ev"], true, false),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", &["sc"], false, false),
    ("storage.k8s.io", "v1", "CSIDriver", "csidrivers", &[], false, false),
    ("storage.k8s.io", "v1", "CSINode", "csinodes", &[], false, false),
    ("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", &[], false, false),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", &["hpa"], true, true),
    ("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", &["hpa"], true, true),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", &["pdb"], true, false),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", &[], true, false),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", &[], true, false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", &[], false, false),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", &[], false, false),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        &[],
        false,
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        &[],
        false,
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        &["crd", "crds"],
        false,
        false,
    ),
    ("coordination.k8s.io", "v1", "Lease", "leases", &[], true, false),
    ("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", &["pc"], false, false),
    ("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", &[], false, false),
    ("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", &["csr"], false, false),
    // Well-known custom resources, so `kubectl get certs` works without their CRDs in the snapshot.
    ("cert-manager.io", "v1", "Certificate", "certificates", &["cert", "certs"], true, false),
    ("cert-manager.io", "v1", "CertificateRequest", "certificaterequests", &["cr", "crs"], true, false),
    ("cert-manager.io", "v1", "Issuer", "issuers", &[], true, false),
    ("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers", &[], false, false),
    ("acme.cert-manager.io", "v1", "Order", "orders", &[], true, false),
    ("acme.cert-manager.io", "v1", "Challenge", "challenges", &[], true, false),
];

fn from_row(r: &Row) -> ResourceInfo {
    let (group, version, kind, plural, short, namespaced, all) = *r;
    ResourceInfo {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
        plural: plural.to_string(),
        singular: kind.to_ascii_lowercase(),
        short_names: short.iter().map(|s| s.to_string()).collect(),
        categories: if all { vec!["all".to_string()] } else { Vec::new() },
        namespaced,
    }
}

/// The resource types served even when the snapshot holds none of them.
pub fn always_served() -> Vec<ResourceInfo> {
    ALWAYS.iter().map(from_row).collect()
}

/// The table entry for a kind at a group/version, if it is a known one.
pub fn known(group: &str, version: &str, kind: &str) -> Option<ResourceInfo> {
    ALWAYS.iter().chain(WHEN_PRESENT).find(|r| r.0 == group && r.1 == version && r.2 == kind).map(from_row)
}

/// Names a CustomResourceDefinition gives its kind.
#[derive(Clone, Debug, Default)]
pub struct CrdNames {
    pub plural: Option<String>,
    pub singular: Option<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub namespaced: Option<bool>,
}

impl CrdNames {
    /// Read `spec.names` and `spec.scope` of a CustomResourceDefinition; returns its group and kind.
    pub fn from_crd(crd: &serde_json::Value) -> Option<(String, String, CrdNames)> {
        let spec = crd.get("spec")?;
        let group = spec.get("group")?.as_str()?.to_string();
        let names = spec.get("names")?;
        let kind = names.get("kind")?.as_str()?.to_string();
        let strings = |key: &str| -> Vec<String> {
            names
                .get(key)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let out = CrdNames {
            plural: names.get("plural").and_then(|v| v.as_str()).map(str::to_string),
            singular: names.get("singular").and_then(|v| v.as_str()).map(str::to_string),
            short_names: strings("shortNames"),
            categories: strings("categories"),
            namespaced: spec.get("scope").and_then(|v| v.as_str()).map(|s| s != "Cluster"),
        };
        Some((group, kind, out))
    }
}

/// A resource type for a kind the table does not know: names from its CRD when the snapshot
/// has one, otherwise the English plural of the kind; scoped by whether its objects have a
/// namespace.
pub fn custom(group: &str, version: &str, kind: &str, crd: Option<&CrdNames>, any_namespaced: bool) -> ResourceInfo {
    let lower = kind.to_ascii_lowercase();
    let crd = crd.cloned().unwrap_or_default();
    ResourceInfo {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
        plural: crd.plural.unwrap_or_else(|| plural_of(&lower)),
        singular: crd.singular.unwrap_or(lower),
        short_names: crd.short_names,
        categories: crd.categories,
        namespaced: crd.namespaced.unwrap_or(any_namespaced),
    }
}

/// The plural Kubernetes' own RESTMapper guesses for a lower-case kind.
pub fn plural_of(lower: &str) -> String {
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if lower.ends_with('s') || lower.ends_with("ch") || lower.ends_with("sh") || lower.ends_with('x') {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_follows_the_restmapper_rules() {
        assert_eq!(plural_of("policy"), "policies");
        assert_eq!(plural_of("gateway"), "gateways");
        assert_eq!(plural_of("ingress"), "ingresses");
        assert_eq!(plural_of("certificate"), "certificates");
        assert_eq!(plural_of("box"), "boxes");
    }

    #[test]
    fn known_kinds_have_short_names_and_scope() {
        let d = known("apps", "v1", "Deployment").unwrap();
        assert_eq!(
            (d.plural.as_str(), d.short_names.as_slice(), d.namespaced),
            ("deployments", &["deploy".to_string()][..], true)
        );
        assert!(!known("", "v1", "Node").unwrap().namespaced);
        assert!(known("apps", "v1beta1", "Deployment").is_none());
    }

    #[test]
    fn custom_kinds_use_their_crd_names() {
        let crd = serde_json::json!({"spec": {"group": "example.io", "scope": "Cluster",
            "names": {"kind": "Widget", "plural": "widgetz", "singular": "widget", "shortNames": ["wd"]}}});
        let (group, kind, names) = CrdNames::from_crd(&crd).unwrap();
        assert_eq!((group.as_str(), kind.as_str()), ("example.io", "Widget"));
        let info = custom("example.io", "v1", "Widget", Some(&names), true);
        assert_eq!((info.plural.as_str(), info.namespaced), ("widgetz", false));
        let guessed = custom("example.io", "v1", "Gadget", None, true);
        assert_eq!(
            (guessed.plural.as_str(), guessed.singular.as_str(), guessed.namespaced),
            ("gadgets", "gadget", true)
        );
    }
}
