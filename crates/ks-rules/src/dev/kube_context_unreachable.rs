use ks_core::{
    Cause, EvidenceItem, EvidenceSource, Finding, Fix, ObjectRef, RuleKind, RuleMeta, Severity, declare_rule,
};

use crate::{Context, Rule, util};

declare_rule! {
    /// ### What it finds
    /// The current kube context's API server does not answer `kubectl version
    /// --request-timeout=3s`.
    ///
    /// ### Why it breaks
    /// Every `kubectl`, `skaffold` and `helm` command goes to that server. A kind or minikube
    /// cluster whose node container is stopped, a kubeconfig still naming the port of a
    /// deleted cluster, or a cloud context whose credentials expired all look the same from
    /// the tools: timeouts or `connection refused` on every command.
    ///
    /// ### How to confirm
    /// `kubectl cluster-info`; `kubectl config view --minify` shows the server URL; for kind,
    /// `docker ps -a --filter label=io.x-k8s.kind.cluster` shows whether the nodes run.
    ///
    /// ### Fix
    /// Start the cluster (its node containers for kind), refresh the kubeconfig entry (`kind
    /// export kubeconfig --name <cluster>`), or switch to a context that works.
    ///
    /// ### Prevention
    /// Check `kubectl config current-context` in scripts before deploying; delete contexts of
    /// clusters you removed (`kubectl config delete-context`).
    ///
    /// ### Example
    /// `The connection to the server 127.0.0.1:40123 was refused - did you specify the right
    /// host or port?` for context `kind-dev` after a reboot.
    pub static META = {
        id: "KS1513",
        name: "kube-context-unreachable",
        cause: Cause::DevKubeContext,
        severity: Severity::Error,
        kind: RuleKind::Local,
        summary: "the current kube context's API server does not answer",
    }
}

pub struct KubeContextUnreachable;

impl Rule for KubeContextUnreachable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(local) = &cx.ev.build.local else { return };
        let Some(k) = &local.kube else { return };
        if k.reachable != Some(false) {
            return;
        }
        let err = k.error.clone().unwrap_or_else(|| "no answer".to_string());
        let mut f = util::finding(
            &META,
            ObjectRef::new("KubeContext", None, &k.name),
            format!("kube context {} does not answer", k.name),
            format!(
                "The current context is {}, and its API server did not answer within 3 seconds (`{err}`); \
                 kubectl, skaffold and helm all fail the same way.",
                k.name
            ),
        );
        f.evidence.push(EvidenceItem::new(EvidenceSource::Status, format!("kubectl version: {err}"), None));
        if let Some(cluster) = k.name.strip_prefix("kind-") {
            let known = local.kind_clusters.iter().any(|c| c.name == cluster);
            if known {
                f.fix.push(Fix::cmd(
                    format!("Start the stopped node containers of kind cluster {cluster}"),
                    format!("docker start $(docker ps -aq --filter label=io.x-k8s.kind.cluster={cluster})"),
                ));
                f.fix.push(Fix::cmd(
                    "Refresh the kubeconfig entry (the API port changes when the node is recreated)",
                    format!("kind export kubeconfig --name {cluster}"),
                ));
            } else {
                f.fix.push(Fix::cmd(
                    format!("kind has no cluster {cluster} any more: create it again or drop the context"),
                    format!("kind create cluster --name {cluster}   # or: kubectl config delete-context {}", k.name),
                ));
            }
        }
        f.fix.push(Fix::cmd(
            "See the server this context names and pick another context",
            "kubectl config get-contexts",
        ));
        f.root_key = format!("kube-context:{}", k.name);
        out.push(f);
    }
}
