//! Sidecar injectors: mutating webhooks that add containers to pods at admission (service
//! meshes, Dapr, Vault). A container they add is not in the workload's template, so users do
//! not know where its settings come from; rules name the injector and its own knobs.

use ks_core::Evidence;

/// One injector and what gives its work away.
#[derive(Debug)]
pub struct Injector {
    /// Product name, e.g. `Istio`.
    pub name: &'static str,
    /// Containers it injects (sidecars and init containers).
    pub containers: &'static [&'static str],
    /// Webhook names (`webhooks[].name`) of its mutating webhook configuration; a name
    /// matches when it equals one of these or ends with `.` plus one.
    pub webhooks: &'static [&'static str],
    /// Pod annotations (or labels) set on pods it injected or asked to inject.
    pub annotations: &'static [&'static str],
    /// Namespace of its control plane by default.
    pub namespace: &'static str,
    /// Label selector of the injector's own pods.
    pub selector: &'static str,
}

pub static INJECTORS: &[Injector] = &[
    Injector {
        name: "Istio",
        containers: &["istio-proxy", "istio-init", "istio-validation"],
        webhooks: &["sidecar-injector.istio.io"],
        annotations: &["sidecar.istio.io/status", "sidecar.istio.io/inject"],
        namespace: "istio-system",
        selector: "app=istiod",
    },
    Injector {
        name: "Dapr",
        containers: &["daprd"],
        webhooks: &["sidecar-injector.dapr.io"],
        annotations: &["dapr.io/enabled", "dapr.io/app-id"],
        namespace: "dapr-system",
        selector: "app=dapr-sidecar-injector",
    },
    Injector {
        name: "Linkerd",
        containers: &["linkerd-proxy", "linkerd-init", "linkerd-network-validator"],
        webhooks: &["linkerd-proxy-injector.linkerd.io"],
        annotations: &["linkerd.io/proxy-version", "linkerd.io/inject"],
        namespace: "linkerd",
        selector: "linkerd.io/control-plane-component=proxy-injector",
    },
    Injector {
        name: "Vault Agent",
        containers: &["vault-agent", "vault-agent-init"],
        webhooks: &["vault.hashicorp.com"],
        annotations: &["vault.hashicorp.com/agent-inject", "vault.hashicorp.com/agent-inject-status"],
        namespace: "vault",
        selector: "app.kubernetes.io/name=vault-agent-injector",
    },
];

/// The injector a webhook name belongs to (`namespace.sidecar-injector.istio.io` → Istio).
pub fn by_webhook(webhook: &str) -> Option<&'static Injector> {
    let w = webhook.to_ascii_lowercase();
    INJECTORS.iter().find(|i| i.webhooks.iter().any(|h| w == *h || w.ends_with(&format!(".{h}"))))
}

/// How we know a container was injected.
#[derive(Debug, Clone)]
pub struct Injected {
    pub injector: &'static Injector,
    /// `annotation dapr.io/enabled: "true"`, or the template that lacks the container.
    pub sign: String,
    /// The container is absent from the workload's pod template.
    pub not_in_template: bool,
}

/// Whether `container` of pod `i` was added by a known injector: its name is one the
/// injector uses and the pod carries the injector's annotation, or the workload's template
/// does not have it.
pub fn injected(ev: &Evidence, i: usize, container: &str) -> Option<Injected> {
    let injector = INJECTORS.iter().find(|inj| inj.containers.contains(&container))?;
    let pod = &ev.pods[i];
    let w = ev.workload_of(i);
    let template = crate::util::pod_template(ev, w).map(|(s, _)| s);
    let in_template =
        template.map(|s| s.containers.iter().chain(s.init_containers.iter().flatten()).any(|c| c.name == container));
    if in_template == Some(true) {
        // Declared by the user, not injected.
        return None;
    }
    let meta = &pod.metadata;
    let sign = injector.annotations.iter().find_map(|a| {
        let v = meta
            .annotations
            .as_ref()
            .and_then(|m| m.get(*a))
            .or_else(|| meta.labels.as_ref().and_then(|m| m.get(*a)))?;
        // Long JSON values (Istio's status) say nothing more than that the key is set.
        if v.len() > 40 || v.contains('{') {
            Some(format!("annotation {a} is set"))
        } else {
            Some(format!("annotation {a}: \"{v}\""))
        }
    });
    let not_in_template = in_template == Some(false);
    let sign = match sign {
        Some(s) => s,
        None if not_in_template => format!("container {container} is not in {} {}'s pod template", w.kind, w.name),
        None => return None,
    };
    Some(Injected { injector, sign, not_in_template })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_names_map_to_their_injector() {
        assert_eq!(by_webhook("sidecar-injector.istio.io").map(|i| i.name), Some("Istio"));
        assert_eq!(by_webhook("namespace.sidecar-injector.istio.io").map(|i| i.name), Some("Istio"));
        assert_eq!(by_webhook("rev.object.sidecar-injector.istio.io").map(|i| i.name), Some("Istio"));
        assert_eq!(by_webhook("sidecar-injector.dapr.io").map(|i| i.name), Some("Dapr"));
        assert_eq!(by_webhook("linkerd-proxy-injector.linkerd.io").map(|i| i.name), Some("Linkerd"));
        assert!(by_webhook("validation.gatekeeper.sh").is_none());
        assert!(by_webhook("notsidecar-injector.istio.io").is_none());
    }
}
