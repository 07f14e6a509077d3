//! kubectl's names for resources (`po`, `deploy`, `pods`, `certificates.cert-manager.io`),
//! shared by the command line and the pasted-text source.

/// The kind a resource argument names (`po`, `pods`, `deploy/web`, `certificates.cert-manager.io`).
pub fn kind_of_resource(r: &str) -> Option<&'static str> {
    let r = r.to_ascii_lowercase();
    let base = r.split('.').next().unwrap_or_default();
    Some(match base {
        "po" | "pod" | "pods" => "Pod",
        "no" | "node" | "nodes" => "Node",
        "deploy" | "deployment" | "deployments" => "Deployment",
        "rs" | "replicaset" | "replicasets" => "ReplicaSet",
        "sts" | "statefulset" | "statefulsets" => "StatefulSet",
        "ds" | "daemonset" | "daemonsets" => "DaemonSet",
        "job" | "jobs" => "Job",
        "cj" | "cronjob" | "cronjobs" => "CronJob",
        "svc" | "service" | "services" => "Service",
        "ep" | "endpoints" => "Endpoints",
        "ing" | "ingress" | "ingresses" => "Ingress",
        "pvc" | "persistentvolumeclaim" | "persistentvolumeclaims" => "PersistentVolumeClaim",
        "pv" | "persistentvolume" | "persistentvolumes" => "PersistentVolume",
        "ev" | "event" | "events" => "Event",
        "ns" | "namespace" | "namespaces" => "Namespace",
        "cm" | "configmap" | "configmaps" => "ConfigMap",
        "secret" | "secrets" => "Secret",
        "sa" | "serviceaccount" | "serviceaccounts" => "ServiceAccount",
        "cert" | "certs" | "certificate" | "certificates" => "Certificate",
        "challenge" | "challenges" => "Challenge",
        "order" | "orders" => "Order",
        "certificaterequest" | "certificaterequests" | "cr" => "CertificateRequest",
        "issuer" | "issuers" => "Issuer",
        "clusterissuer" | "clusterissuers" => "ClusterIssuer",
        "hpa" | "horizontalpodautoscaler" | "horizontalpodautoscalers" => "HorizontalPodAutoscaler",
        "rc" | "replicationcontroller" | "replicationcontrollers" => "ReplicationController",
        _ => return None,
    })
}
