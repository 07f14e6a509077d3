use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Pods whose image pull is refused by the registry: `pull access denied`,
    /// `unauthorized: authentication required`, `no basic auth credentials`, `401 Unauthorized`.
    ///
    /// ### Why it breaks
    /// The registry wants credentials the node does not have: the pod (or its ServiceAccount)
    /// has no `imagePullSecrets`, the secret names another registry host, or the token expired.
    /// Docker Hub answers a misspelt repository the same way, so check the name too.
    ///
    /// ### How to confirm
    /// `kubectl describe pod` shows `Failed to pull image ... unauthorized` or `pull access
    /// denied`; `kubectl get pod -o jsonpath='{.spec.imagePullSecrets}'` is empty or names a
    /// Secret that does not exist or holds credentials for another host.
    ///
    /// ### Fix
    /// Create a `docker-registry` Secret for the registry host and reference it from the pod
    /// template or the ServiceAccount.
    ///
    /// ### Prevention
    /// Attach the pull secret to the namespace's default ServiceAccount, and lint for private
    /// registry images without imagePullSecrets (`kubesleuth lint`).
    ///
    /// ### Example
    /// `Failed to pull image "myacr.azurecr.io/backend:1.4": ... 401 Unauthorized`.
    pub static META = {
        id: "KS0101",
        name: "image-pull-unauthorized",
        cause: Cause::ImageAuth,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the registry refuses to serve the image without valid credentials",
    }
}

pub struct ImagePullUnauthorized;

impl Rule for ImagePullUnauthorized {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pull_findings(cx, &META, Cause::ImageAuth, out, |p, image| {
            let host = super::registry_host(image);
            let pod = &cx.ev.pods[p.pod];
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let secrets: Vec<String> =
                pod.spec.iter().flat_map(|s| s.image_pull_secrets.iter().flatten()).map(|r| r.name.clone()).collect();
            let missing: Vec<&String> =
                secrets.iter().filter(|s| cx.ev.has_collected("Secret") && cx.ev.secret(&ns, s).is_none()).collect();
            let why = if secrets.is_empty() {
                format!("The pod has no imagePullSecrets, so the node pulls {image} anonymously and {host} refuses.")
            } else if !missing.is_empty() {
                format!(
                    "The pod's imagePullSecrets name {}, which does not exist in namespace {ns}, so the node has no credentials for {host}.",
                    crate::util::join_names(&missing)
                )
            } else {
                format!(
                    "The pod uses imagePullSecrets {}, but {host} rejects those credentials (wrong host, expired or read-only token), or the repository name is wrong.",
                    crate::util::join_names(&secrets)
                )
            };
            let secret = secrets.first().cloned().unwrap_or_else(|| "regcred".to_string());
            let w = cx.ev.workload_of(p.pod);
            let mut fixes = vec![Fix::cmd(
                format!("Create (or refresh) the pull secret for {host}"),
                format!(
                    "kubectl -n {ns} create secret docker-registry {secret} --docker-server={host} --docker-username=<user> --docker-password=<token> --dry-run=client -o yaml | kubectl apply -f -"
                ),
            )];
            if secrets.is_empty() {
                fixes.push(Fix::cmd(
                    "Reference it from the pod template",
                    format!(
                        "kubectl {}patch {} {} -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"imagePullSecrets\":[{{\"name\":\"{secret}\"}}]}}}}}}}}'",
                        w.ns_flag(),
                        w.kind.to_ascii_lowercase(),
                        w.name
                    ),
                ));
            }
            (format!("Registry {host} refuses to serve {image} to the node"), why, fixes)
        });
    }
}
