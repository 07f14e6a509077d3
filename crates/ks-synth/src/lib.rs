//! Generate a synthetic `kubectl cluster-info dump --output-directory` snapshot of a given
//! size: nodes, namespaces of Deployments with ReplicaSets, pods, Services and events, a
//! share of them broken in the ways the rules look for (crash loops with logs, image pulls,
//! missing Secret keys, unschedulable pods), the rest healthy. [`bundle`] writes a manifest
//! bundle for `kubesleuth lint`.

pub mod bundle;

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

/// Size of a synthetic snapshot.
#[derive(Clone, Debug)]
pub struct Size {
    pub nodes: usize,
    pub namespaces: usize,
    pub workloads: usize,
    pub pods_per_workload: usize,
    pub events: usize,
    /// One workload in `broken_every` is broken.
    pub broken_every: usize,
}

impl Size {
    /// The benchmark: 50,000 pods, 5,000 workloads, 200,000 events, 500 nodes.
    pub fn large() -> Size {
        Size { nodes: 500, namespaces: 50, workloads: 5_000, pods_per_workload: 10, events: 200_000, broken_every: 20 }
    }
    /// A tenth of it, for criterion.
    pub fn small() -> Size {
        Size { nodes: 50, namespaces: 10, workloads: 500, pods_per_workload: 10, events: 20_000, broken_every: 20 }
    }
}

const NOW: &str = "2026-11-20T10:00:00Z";
const EARLIER: &str = "2026-11-20T09:40:00Z";

fn hash(i: usize) -> String {
    // Deterministic pod-template-hash-like suffixes.
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = i.wrapping_mul(2654435761) ^ 0x5bd1e995;
    (0..9)
        .map(|_| {
            let c = alphabet[n % alphabet.len()] as char;
            n /= alphabet.len();
            n ^= i;
            c
        })
        .collect()
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    // What `kubectl cluster-info dump` writes: the list carries its kind's group version.
    let api_version = match kind {
        "Deployment" | "ReplicaSet" | "DaemonSet" | "StatefulSet" => "apps/v1",
        _ => "v1",
    };
    json!({"kind": format!("{kind}List"), "apiVersion": api_version, "metadata": {"resourceVersion": "1"}, "items": items})
}

fn write_json(path: &Path, v: &Value) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    serde_json::to_writer(&mut f, v)?;
    f.flush()?;
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Breakage {
    Healthy,
    CrashModule,
    Pull,
    SecretKey,
    Pending,
}

fn breakage(w: usize, every: usize) -> Breakage {
    if every == 0 || !w.is_multiple_of(every) {
        return Breakage::Healthy;
    }
    match (w / every) % 4 {
        0 => Breakage::CrashModule,
        1 => Breakage::Pull,
        2 => Breakage::SecretKey,
        _ => Breakage::Pending,
    }
}

/// Write the snapshot under `dir`; returns the number of pods written.
pub fn generate(dir: &Path, size: &Size) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let nodes: Vec<Value> = (0..size.nodes)
        .map(|n| {
            json!({"metadata": {"name": format!("node-{n}"), "labels": {"kubernetes.io/hostname": format!("node-{n}")}},
                   "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                              "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": NOW}],
                              "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux"}}})
        })
        .collect();
    write_json(&dir.join("nodes.json"), &list("Node", nodes))?;

    let per_ns = size.workloads.div_ceil(size.namespaces.max(1));
    let pods_total = size.workloads * size.pods_per_workload;
    let events_per_pod = size.events.div_ceil(pods_total.max(1));
    let mut written = 0;
    for ns_i in 0..size.namespaces {
        let ns = format!("team-{ns_i}");
        let ns_dir = dir.join(&ns);
        std::fs::create_dir_all(&ns_dir)?;
        let (mut deps, mut rss, mut pods, mut svcs, mut events, mut secrets) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for local in 0..per_ns {
            let w = ns_i * per_ns + local;
            if w >= size.workloads {
                break;
            }
            let name = format!("svc-{w}");
            let h = hash(w);
            let rs = format!("{name}-{h}");
            let b = breakage(w, size.broken_every);
            let replicas = size.pods_per_workload;
            let env = json!([{"name": "DB_URL", "valueFrom": {"secretKeyRef": {"name": format!("{name}-secrets"), "key": "db-url"}}}]);
            let container = json!({"name": "app", "image": format!("registry.example.com/{ns}/{name}:1.{w}"), "env": env,
                                   "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}});
            deps.push(json!({"metadata": {"name": name, "namespace": ns, "uid": format!("d-{w}")},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                         "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container.clone()]}}},
                "status": {"replicas": replicas, "readyReplicas": if b == Breakage::Healthy { replicas } else { 0 },
                           "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}}));
            rss.push(json!({"metadata": {"name": rs, "namespace": ns, "uid": format!("rs-{w}"),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": format!("d-{w}"), "controller": true}]},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}}}));
            svcs.push(json!({"metadata": {"name": name, "namespace": ns}, "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}));
            let key = if b == Breakage::SecretKey { "database-url" } else { "db-url" };
            secrets.push(json!({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": format!("{name}-secrets"), "namespace": ns},
                                "data": {key: "c2VjcmV0"}}));
            for p in 0..replicas {
                let pod = format!("{rs}-{}", &hash(w * 131 + p)[..5]);
                let node = format!("node-{}", (w * replicas + p) % size.nodes.max(1));
                let uid = format!("p-{w}-{p}");
                let (phase, state, last, ready, restarts) = match b {
                    Breakage::Healthy => ("Running", json!({"running": {"startedAt": EARLIER}}), json!({}), true, 0),
                    Breakage::CrashModule => (
                        "Running",
                        json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 5m0s restarting failed container=app pod={pod}_{ns}({uid})")}}),
                        json!({"terminated": {"reason": "Error", "exitCode": 1, "startedAt": EARLIER, "finishedAt": NOW}}),
                        false,
                        9,
                    ),
                    Breakage::Pull => (
                        "Pending",
                        json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"registry.example.com/{ns}/{name}:1.{w}\"")}}),
                        json!({}),
                        false,
                        0,
                    ),
                    Breakage::SecretKey => (
                        "Pending",
                        json!({"waiting": {"reason": "CreateContainerConfigError", "message": format!("couldn't find key db-url in Secret {ns}/{name}-secrets")}}),
                        json!({}),
                        false,
                        0,
                    ),
                    Breakage::Pending => ("Pending", Value::Null, json!({}), false, 0),
                };
                let mut spec = json!({"containers": [container.clone()]});
                let mut status = json!({"phase": phase, "startTime": EARLIER,
                    "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}, "lastTransitionTime": EARLIER}]});
                if b == Breakage::Pending {
                    status["conditions"] = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "message": format!("0/{} nodes are available: {} Insufficient cpu. preemption: 0/{} nodes are available: {} No preemption victims found for incoming pod.", size.nodes, size.nodes, size.nodes, size.nodes),
                        "lastTransitionTime": EARLIER}]);
                } else {
                    spec["nodeName"] = json!(node);
                    status["containerStatuses"] = json!([{"name": "app", "image": format!("registry.example.com/{ns}/{name}:1.{w}"),
                        "imageID": format!("registry.example.com/{ns}/{name}@sha256:{:064x}", w), "ready": ready, "restartCount": restarts,
                        "started": ready, "state": state, "lastState": last}]);
                }
                pods.push(json!({"metadata": {"name": pod, "namespace": ns, "uid": uid, "creationTimestamp": EARLIER,
                    "labels": {"app": name, "pod-template-hash": h},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": format!("rs-{w}"), "controller": true}]},
                    "spec": spec, "status": status}));
                for e in 0..events_per_pod {
                    let (reason, typ, msg) = match (b, e) {
                        (Breakage::CrashModule, 0) => (
                            "BackOff",
                            "Warning",
                            format!("Back-off restarting failed container app in pod {pod}_{ns}({uid})"),
                        ),
                        (Breakage::Pull, 0) => (
                            "Failed",
                            "Warning",
                            format!(
                                "Failed to pull image \"registry.example.com/{ns}/{name}:1.{w}\": failed to pull and unpack image \"registry.example.com/{ns}/{name}:1.{w}\": failed to resolve reference \"registry.example.com/{ns}/{name}:1.{w}\": registry.example.com/{ns}/{name}:1.{w}: not found"
                            ),
                        ),
                        (Breakage::SecretKey, 0) => (
                            "Failed",
                            "Warning",
                            format!("Error: couldn't find key db-url in Secret {ns}/{name}-secrets"),
                        ),
                        (Breakage::Pending, _) => (
                            "FailedScheduling",
                            "Warning",
                            format!(
                                "0/{} nodes are available: {} Insufficient cpu. preemption: 0/{} nodes are available: {} No preemption victims found for incoming pod.",
                                size.nodes, size.nodes, size.nodes, size.nodes
                            ),
                        ),
                        (_, 1) => (
                            "Pulled",
                            "Normal",
                            format!(
                                "Container image \"registry.example.com/{ns}/{name}:1.{w}\" already present on machine"
                            ),
                        ),
                        (_, 2) => ("Created", "Normal", "Created container: app".to_string()),
                        (_, 3) => ("Started", "Normal", "Started container app".to_string()),
                        _ => ("Scheduled", "Normal", format!("Successfully assigned {ns}/{pod} to {node}")),
                    };
                    events.push(json!({"metadata": {"name": format!("{pod}.{e:x}"), "namespace": ns},
                        "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "uid": uid, "fieldPath": "spec.containers{app}"},
                        "reason": reason, "message": msg, "type": typ, "count": if typ == "Warning" { 12 } else { 1 },
                        "firstTimestamp": EARLIER, "lastTimestamp": if typ == "Warning" { NOW } else { EARLIER },
                        "source": {"component": if reason == "FailedScheduling" { "default-scheduler" } else { "kubelet" }}}));
                }
                if b == Breakage::CrashModule {
                    let pod_dir = ns_dir.join(&pod);
                    std::fs::create_dir_all(&pod_dir)?;
                    std::fs::write(
                        pod_dir.join("logs.txt"),
                        format!(
                            "==== START logs for container app of pod {ns}/{pod} ====\nTraceback (most recent call last):\n  File \"/app/main.py\", line 1, in <module>\n    import dapr\nModuleNotFoundError: No module named 'dapr'\n==== END logs for container app of pod {ns}/{pod} ====\n"
                        ),
                    )?;
                }
                written += 1;
            }
        }
        write_json(&ns_dir.join("deployments.json"), &list("Deployment", deps))?;
        write_json(&ns_dir.join("replicasets.json"), &list("ReplicaSet", rss))?;
        write_json(&ns_dir.join("pods.json"), &list("Pod", pods))?;
        write_json(&ns_dir.join("services.json"), &list("Service", svcs))?;
        write_json(&ns_dir.join("events.json"), &list("Event", events))?;
        write_json(&ns_dir.join("daemonsets.json"), &list("DaemonSet", vec![]))?;
        write_json(&ns_dir.join("replicationcontrollers.json"), &list("ReplicationController", vec![]))?;
        write_json(&ns_dir.join("secrets.json"), &json!({"kind": "List", "apiVersion": "v1", "items": secrets}))?;
    }
    Ok(written)
}
