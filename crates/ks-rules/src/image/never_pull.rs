use ks_core::{Cause, EvidenceItem, EvidenceSource, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{Explained, LocalCluster};
use crate::facts::ProblemKind;
use crate::util;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Containers with `imagePullPolicy: Never` whose image is not on the node:
    /// `ErrImageNeverPull` with `Container image "x" is not present with pull policy of Never`.
    ///
    /// ### Why it breaks
    /// `Never` tells the kubelet to use only images already in the node's container runtime.
    /// Images built on a laptop live in the laptop's Docker, not in the kind, minikube or k3d
    /// node; on a multi-node cluster the image must be on every node the pod may land on.
    ///
    /// ### How to confirm
    /// `kubectl get pod -o jsonpath='{.spec.containers[*].imagePullPolicy}'` shows `Never`;
    /// `crictl images` on the node (`docker exec <node> crictl images` for kind) does not list
    /// the image.
    ///
    /// ### Fix
    /// Load the image into the node (`kind load docker-image`, `minikube image load`,
    /// `k3d image import`), or push it to a registry and set `imagePullPolicy: IfNotPresent`.
    ///
    /// ### Prevention
    /// Let the dev loop (Skaffold, Tilt) load images into the cluster, and keep `Never` out of
    /// manifests that leave the laptop.
    ///
    /// ### Example
    /// `Container image "shop-api:dev" is not present with pull policy of Never`.
    pub static META = {
        id: "KS0108",
        name: "image-never-pulled",
        cause: Cause::ImageNeverPull,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "imagePullPolicy Never and the image is not on the node",
    }
}

pub struct ImageNeverPulled;

impl Rule for ImageNeverPulled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if util::problems(cx, ProblemKind::Pull, Cause::ImageNeverPull).next().is_none() {
            return;
        }
        let running = super::running_images(cx);
        super::pull_findings(cx, &META, Cause::ImageNeverPull, out, |p, image| {
            let ev = cx.ev;
            let spec = super::spec_image(cx, p);
            let image = if spec.is_empty() { image.to_string() } else { spec };
            let pod = &ev.pods[p.pod];
            let node = super::node_of(pod).unwrap_or("<node>");
            let local = super::local_cluster(cx, node);
            // The same image running on another node: it was loaded there, not here.
            let mut elsewhere: Vec<String> = running
                .get(&super::ImageRef::parse(&image).qualified())
                .into_iter()
                .flatten()
                .filter(|(_, n)| n != node)
                .map(|(_, n)| n.clone())
                .collect();
            elsewhere.sort();
            elsewhere.dedup();

            let also = if elsewhere.is_empty() {
                String::new()
            } else {
                format!(
                    " It is present on {} (pods run it there), but the image must be on every node the pod may land on.",
                    util::join_names(&elsewhere)
                )
            };
            let why = format!(
                "Container {} has imagePullPolicy Never, and image {image} is not in node {node}'s container runtime, so the kubelet will not start it.{also}",
                p.container
            );
            let mut fixes = Vec::new();
            match &local {
                Some(LocalCluster::Kind(cluster)) => fixes.push(Fix::cmd(
                    format!("Load the image into the kind cluster {cluster}'s nodes"),
                    format!("kind load docker-image {image} --name {cluster}"),
                )),
                Some(LocalCluster::Minikube(profile)) => fixes.push(Fix::cmd(
                    "Load the image into the minikube node",
                    format!("minikube -p {profile} image load {image}"),
                )),
                Some(LocalCluster::K3d(cluster)) => fixes.push(Fix::cmd(
                    "Import the image into the k3d nodes",
                    format!("k3d image import {image} -c {cluster}"),
                )),
                None => fixes.push(Fix::cmd(
                    format!("Import the image into node {node}'s containerd (and every node that may run the pod)"),
                    format!("docker save {image} | ssh {node} sudo ctr -n k8s.io images import -"),
                )),
            }
            // The kubelet retries on its own: once the image is on the node the pod starts.
            let w = ev.workload_of(p.pod);
            let policy =
                format!("{{\"containers\":[{{\"name\":\"{}\",\"imagePullPolicy\":\"IfNotPresent\"}}]}}", p.container);
            let policy = if p.init { policy.replace("\"containers\"", "\"initContainers\"") } else { policy };
            if let Some(cmd) = super::template_patch(w, &policy) {
                fixes.push(Fix::cmd("Or push the image to a registry and let the kubelet pull it when missing", cmd));
            }
            let mut e =
                Explained::new(format!("Image {image} is not on node {node} and imagePullPolicy is Never"), why, fixes)
                    .key(format!("{}:{image}", Cause::ImageNeverPull.as_str()));
            e = e.evidence(EvidenceItem::new(
                EvidenceSource::Spec,
                format!("container {}: image {image}, imagePullPolicy Never", p.container),
                Some(w.clone()),
            ));
            e
        });
    }
}
