use std::collections::HashMap;

use ks_core::{Cause, Finding, Fix, RuleKind, RuleMeta, Severity, declare_rule};

use super::{Explained, ImageRef};
use crate::facts::{ContainerProblem, ProblemKind};
use crate::util;
use crate::{Context, Rule};

declare_rule! {
    /// ### What it finds
    /// Images built for another OS or CPU architecture than the node: at pull time
    /// `no match for platform in manifest` (containerd), `no matching manifest for
    /// linux/arm64/v8 in the manifest list entries` (Docker), `no image found in manifest list
    /// for architecture` (CRI-O); at start `exec format error` from a single-platform image
    /// whose binary the node's CPU cannot run.
    ///
    /// ### Why it breaks
    /// A multi-platform image index without an entry for the node's platform leaves the
    /// runtime nothing to pull. A single-platform image is pulled whatever its architecture,
    /// and its entrypoint then fails to execute: typically an image built on an Apple Silicon
    /// Mac (arm64) running on amd64 nodes, or an amd64-only image on arm64 (Graviton,
    /// Raspberry Pi) nodes. A script entrypoint without a `#!` line fails the same way.
    ///
    /// ### How to confirm
    /// `kubectl get node <node> -o jsonpath='{.status.nodeInfo.architecture}'` gives the
    /// node's architecture; `docker buildx imagetools inspect <image>` lists the image's
    /// platforms.
    ///
    /// ### Fix
    /// Build and push the image for the nodes' platform (`docker buildx build --platform
    /// linux/amd64,linux/arm64 --push`), or schedule the pods onto nodes of the image's
    /// architecture with a `kubernetes.io/arch` nodeSelector.
    ///
    /// ### Prevention
    /// Build multi-platform images in CI for every architecture the clusters run, and check
    /// an image's platforms before deploying it to a new node pool.
    ///
    /// ### Example
    /// `exec /usr/local/bin/collector: exec format error` on an arm64 node, or
    /// `no match for platform in manifest: not found`.
    pub static META = {
        id: "KS0106",
        name: "image-platform-mismatch",
        cause: Cause::ImagePlatform,
        severity: Severity::Error,
        kind: RuleKind::Runtime,
        summary: "the image has no build for the node's OS or CPU architecture",
    }
}

pub struct ImagePlatformMismatch;

impl Rule for ImagePlatformMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let any = |k| util::problems(cx, k, Cause::ImagePlatform).next().is_some();
        if !any(ProblemKind::Pull) && !any(ProblemKind::Crash) {
            return;
        }
        let running = super::running_images(cx);
        super::pull_findings(cx, &META, Cause::ImagePlatform, out, |p, _| explain(cx, &running, p, false));
        // `exec format error` at start is classified from the container's log or termination
        // message as a crash with this cause.
        for p in util::problems(cx, ProblemKind::Crash, Cause::ImagePlatform) {
            let e = explain(cx, &running, p, true);
            let mut f = util::problem_finding(&META, cx, p, e.title, e.root_cause);
            f.root_key = e.root_key.unwrap_or_default();
            f.evidence.extend(e.evidence);
            f.fix = e.fixes;
            f.fix.push(util::logs_previous(cx.ev, p.pod, &p.container));
            out.push(f);
        }
    }
}

fn explain(
    cx: &Context<'_>,
    running: &HashMap<String, Vec<(usize, String)>>,
    p: &ContainerProblem,
    at_start: bool,
) -> Explained {
    let ev = cx.ev;
    let spec = super::spec_image(cx, p);
    // Pasted text may not name the image.
    let spec = if spec.is_empty() { "its image".to_string() } else { spec };
    let r = ImageRef::parse(&spec);
    let pod = &ev.pods[p.pod];
    let node = super::node_of(pod).unwrap_or("<node>");
    let platform = super::node_platform(cx, pod);
    let node_arch = platform.as_ref().map(|(_, a)| a.clone());
    let node_os = platform.as_ref().map(|(o, _)| o.clone()).unwrap_or_else(|| "linux".to_string());
    // The platform the runtime asked for, when the message names it.
    let wanted = p
        .details
        .get("platform")
        .cloned()
        .or_else(|| p.details.get("arch").map(|a| format!("{node_os}/{a}")))
        .or_else(|| node_arch.as_ref().map(|a| format!("{node_os}/{a}")));
    let on_node = match &node_arch {
        Some(a) => format!("node {node} ({node_os}/{a})"),
        None => format!("node {node}"),
    };
    // Architectures of the other nodes, for the nodeSelector alternative.
    let mut others: Vec<String> = ev
        .nodes
        .iter()
        .filter_map(|n| n.status.as_ref()?.node_info.as_ref().map(|i| i.architecture.clone()))
        .filter(|a| !a.is_empty() && Some(a) != node_arch.as_ref())
        .collect();
    others.sort();
    others.dedup();
    // The same image running on a node of another architecture shows what it is built for.
    let runs_on: Option<(String, String, String)> =
        running.get(&r.qualified()).into_iter().flatten().find_map(|(i, n)| {
            let (_, arch) = super::node_platform(cx, &ev.pods[*i]).filter(|_| n != node)?;
            (Some(&arch) != node_arch.as_ref()).then(|| (util::pod_names(ev, *i).1.to_string(), n.clone(), arch))
        });

    let runs_note = runs_on
        .as_ref()
        .map(|(pod, n, arch)| format!(" It runs on {arch} (pod {pod} on node {n}), so it is built for {arch}."))
        .unwrap_or_default();
    let (title, why) = if at_start {
        (
            match &node_arch {
                Some(a) => format!("Container {} in {spec} is not built for {a} (exec format error)", p.container),
                None => format!(
                    "Container {} in {spec} is built for another CPU architecture (exec format error)",
                    p.container
                ),
            },
            format!(
                "Container {} fails to start on {on_node} with exec format error: the entrypoint binary in {spec} is built for another CPU architecture (typically an image built on an Apple Silicon Mac running on amd64 nodes, or an amd64-only image on arm64 nodes). A script entrypoint without a #! line fails the same way.{runs_note}",
                p.container
            ),
        )
    } else {
        let plat = wanted.clone().unwrap_or_else(|| "the node's platform".to_string());
        (
            format!("Image {spec} has no build for {plat}"),
            format!(
                "The image index of {spec} lists no entry for {plat}, the platform of {on_node}, so the container runtime finds nothing to pull for container {}.{runs_note}",
                p.container
            ),
        )
    };

    let mut archs: Vec<String> = vec!["amd64".into(), "arm64".into()];
    if let Some(a) = &node_arch
        && !archs.contains(a)
    {
        archs.push(a.clone());
    }
    let platforms: Vec<String> = archs.iter().map(|a| format!("{node_os}/{a}")).collect();
    let mut fixes = vec![
        if at_start {
            Fix::cmd(
                format!("Check which platform {spec} is built for"),
                format!("crane config {} | jq -r '.os + \"/\" + .architecture'", r.qualified()),
            )
        } else {
            Fix::cmd(
                format!("List the platforms {spec} is published for"),
                format!("docker buildx imagetools inspect {}", r.qualified()),
            )
        },
        Fix::cmd(
            format!("Rebuild and push {spec} for the nodes' platforms"),
            format!("docker buildx build --platform {} -t {} --push .", platforms.join(","), r.qualified()),
        ),
    ];
    let pin = match (&runs_on, others.as_slice()) {
        (Some((_, _, arch)), _) => Some((arch.clone(), format!("Or run it only on the {arch} nodes, where it works"))),
        (None, [other]) => {
            Some((other.clone(), format!("Or, if the image is built for {other}, run it only on the {other} nodes")))
        }
        _ => None,
    };
    if let Some((arch, why)) = pin {
        let w = ev.workload_of(p.pod);
        let sel = format!("{{\"nodeSelector\":{{\"kubernetes.io/arch\":\"{arch}\"}}}}");
        if let Some(cmd) = super::template_patch(w, &sel) {
            fixes.push(Fix::cmd(why, cmd));
        }
    }
    let mut e = Explained::new(title, why, fixes).key(format!("{}:{}", Cause::ImagePlatform.as_str(), r.qualified()));
    if let Some((os, arch)) = &platform {
        e = e.evidence(super::node_evidence(node, os, arch));
    }
    e
}
