use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::Explained;
use crate::util;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Pods stuck pulling (`ErrImagePull`, `ImagePullBackOff`, `ImageInspectError`) where the
    /// evidence does not say why: only `Back-off pulling image "x"` and no `Failed to pull
    /// image` event, or a runtime error no known signature explains.
    ///
    /// ### Why it breaks
    /// The pull fails for one of the usual reasons (credentials, missing tag, network, TLS,
    /// platform), but the runtime's error lives in the `Failed` event, which the API server
    /// drops after an hour, and older kubelets do not repeat it in the back-off message.
    /// Guessing the cause from the image name alone is how wrong fixes happen.
    ///
    /// ### How to confirm
    /// `kubectl get events -n <ns> --field-selector involvedObject.name=<pod>` or `kubectl
    /// describe pod <pod>` while the pod is retrying shows `Failed to pull image "...": <the
    /// runtime's error>`; `crictl pull <image>` on the node reproduces it.
    ///
    /// ### Fix
    /// Read the runtime's error with the command in the finding, then apply the matching fix
    /// (kubesleuth names it when the snapshot includes that event).
    ///
    /// ### Prevention
    /// Collect events together with pod state (`kubectl get events -A -o json`), and keep them
    /// longer with an event exporter.
    ///
    /// ### Example
    /// `ImagePullBackOff: Back-off pulling image "acme/worker:5.2"` with no `Failed` event.
    pub static META = {
        id: "KS0109",
        name: "image-pull-failed-unexplained",
        cause: Cause::ImageUnknown,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "an image pull fails and the evidence at hand does not say why",
    }
}

pub struct ImagePullFailedUnexplained;

impl Rule for ImagePullFailedUnexplained {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        super::pull_findings(cx, &META, Cause::ImageUnknown, out, |p, image| {
            let ev = cx.ev;
            let (ns, pod) = util::pod_names(ev, p.pod);
            let spec = super::spec_image(cx, p);
            let image = if spec.is_empty() { image.to_string() } else { spec };
            let node = super::node_of(&ev.pods[p.pod]).unwrap_or("<node>");
            let msg = p.message.trim();
            let only_backoff =
                msg.is_empty() || (msg.starts_with("Back-off pulling image") && !msg.contains("ErrImagePull:"));
            let has_failed_event = p.evidence.iter().any(|e| e.text.starts_with("Failed to pull image"));
            let lower = msg.to_ascii_lowercase();
            let (title, why) = if p.reason == "ImageInspectError" {
                (
                    format!("The container runtime on node {node} cannot inspect image {image}"),
                    format!(
                        "The kubelet could not ask node {node}'s container runtime whether {image} is present ({}): the runtime or its image store is in trouble, not the registry.",
                        if msg.is_empty() { "no message" } else { msg }
                    ),
                )
            } else if lower.contains("no space left on device") {
                (
                    format!("Node {node} has no disk space left to unpack image {image}"),
                    format!(
                        "Pulling {image} for container {} fails while writing to node {node}'s disk (no space left on device): the node's image filesystem is full, not the registry.",
                        p.container
                    ),
                )
            } else if only_backoff && !has_failed_event {
                (
                    format!("Pulling {image} fails and the snapshot does not say why"),
                    format!(
                        "Container {} of pod {pod} is in {} for {image}, but the snapshot holds only the back-off message, not the runtime's error: the `Failed to pull image` event has expired or was not collected. The cause (credentials, missing tag, network, TLS, platform) is in that event.",
                        p.container,
                        if p.reason.is_empty() { "a pull back-off" } else { &p.reason }
                    ),
                )
            } else {
                (
                    format!("Pulling {image} fails with an error kubesleuth does not recognise"),
                    format!(
                        "Container {} of pod {pod} cannot pull {image}; the runtime's error (quoted below) matches no known cause, so read it and the registry's side before changing anything.",
                        p.container
                    ),
                )
            };
            let mut fixes = Vec::new();
            if only_backoff && !has_failed_event {
                fixes.push(Fix::cmd(
                    format!(
                        "Show the runtime's error for pod {pod} (the `Failed to pull image` event settles the cause)"
                    ),
                    format!("kubectl get events {}--field-selector involvedObject.name={pod}", util::ns_flag(ns)),
                ));
            }
            if lower.contains("no space left on device") {
                fixes.push(Fix::cmd(
                    format!("On node {node} (ssh), see what fills the disk and remove unused images"),
                    "df -h /var/lib/containerd /var/lib/kubelet && sudo crictl rmi --prune",
                ));
            } else {
                fixes.push(Fix::cmd(
                    format!("Or reproduce the pull on node {node}"),
                    format!(
                        "kubectl debug node/{node} -it --image=busybox -- chroot /host crictl pull {}",
                        super::ImageRef::parse(&image).qualified()
                    ),
                ));
            }
            Explained::new(title, why, fixes).key(format!("{}:{image}", Cause::ImageUnknown.as_str()))
        });
    }
}
