//! `kubesleuth images` and `scan --registries` end to end against real registries: Debian's
//! `docker-registry` (distribution v2) started on loopback by the test, images pushed over the
//! HTTP API, tags moved, snapshots written with `imageID`s naming the old digests. Seeds S0.5,
//! S0.9 and S3.2, every registry finding, and the hard negatives (index digest, platform
//! digest, digest-pinned image). Skips with a message when `docker-registry` is absent.

use std::path::Path;

use assert_cmd::Command;
use ks_registry::testing::{Pushed, TestRegistry};

mod common;
use serde_json::{Value, json};

const T_DEPLOYED: &str = "2026-11-20T08:00:00Z";
const T_OLD_BUILD: &str = "2026-11-19T18:00:00Z";
const T_NEW_BUILD: &str = "2026-11-20T09:30:00Z";
const T_RESTARTED: &str = "2026-11-20T09:50:00Z";

// ---------------------------------------------------------------------------------------
// Snapshot building

fn node(name: &str, arch: &str) -> Value {
    json!({"kind":"Node","apiVersion":"v1","metadata":{"name":name},"spec":{},
        "status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":"2026-11-20T10:00:00Z","lastTransitionTime":"2026-11-01T08:00:00Z"}],
        "nodeInfo":{"architecture":arch,"operatingSystem":"linux","containerRuntimeVersion":"containerd://1.7.22","kubeletVersion":"v1.31.2","osImage":"Debian","kernelVersion":"6.1","kubeProxyVersion":"v1.31.2","machineID":"m","systemUUID":"s","bootID":"b"}}})
}

/// A Deployment fully rolled out on its template, its ReplicaSet, and its pods, each pod
/// `(name, node, imageID, startedAt)`.
struct Workload<'a> {
    ns: &'a str,
    name: &'a str,
    container: &'a str,
    image: String,
    policy: Option<&'a str>,
    pods: Vec<(String, &'a str, String, &'a str)>,
}

impl Workload<'_> {
    fn items(&self) -> Vec<Value> {
        let (ns, name) = (self.ns, self.name);
        let mut c = json!({"name": self.container, "image": self.image});
        if let Some(p) = self.policy {
            c["imagePullPolicy"] = json!(p);
        }
        let n = self.pods.len();
        let rs = format!("{name}-5d8f7c6b9");
        let mut out = vec![
            json!({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":name,"namespace":ns,"uid":format!("d-{name}"),"generation":4,"labels":{"app":name}},
                "spec":{"replicas":n,"selector":{"matchLabels":{"app":name}},"template":{"metadata":{"labels":{"app":name}},"spec":{"containers":[c.clone()]}}},
                "status":{"observedGeneration":4,"replicas":n,"updatedReplicas":n,"readyReplicas":n,"availableReplicas":n}}),
            json!({"kind":"ReplicaSet","apiVersion":"apps/v1","metadata":{"name":rs,"namespace":ns,"uid":format!("rs-{name}"),
                "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":name,"uid":format!("d-{name}"),"controller":true}]},
                "spec":{"selector":{"matchLabels":{"app":name}}}}),
        ];
        for (pod, node, image_id, started) in &self.pods {
            out.push(json!({"kind":"Pod","apiVersion":"v1",
                "metadata":{"name":pod,"namespace":ns,"uid":format!("p-{pod}"),"labels":{"app":name,"pod-template-hash":"5d8f7c6b9"},"creationTimestamp":started,
                    "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":rs,"uid":format!("rs-{name}"),"controller":true}]},
                "spec":{"containers":[c.clone()],"nodeName":node,"serviceAccountName":"default"},
                "status":{"phase":"Running","containerStatuses":[{"name":self.container,"image":self.image,"imageID":image_id,"ready":true,"restartCount":0,"started":true,"state":{"running":{"startedAt":started}}}],
                    "conditions":[{"type":"Ready","status":"True","lastTransitionTime":started}]}}));
        }
        out
    }
}

fn write_snapshot(dir: &Path, items: Vec<Value>) {
    std::fs::create_dir_all(dir).expect("snapshot dir");
    let list = json!({"kind":"List","apiVersion":"v1","items":items});
    std::fs::write(dir.join("cluster.json"), serde_json::to_vec_pretty(&list).expect("json")).expect("write");
}

// ---------------------------------------------------------------------------------------
// Running the CLI

/// kubesleuth with an empty docker config, so the user's own never leaks into a test.
fn kubesleuth(docker_config: &Path) -> Command {
    let mut c = Command::cargo_bin("kubesleuth").expect("binary");
    c.env("DOCKER_CONFIG", docker_config).env("NO_COLOR", "1").env_remove("HTTP_PROXY").env_remove("HTTPS_PROXY");
    c
}

fn json_out(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("kubesleuth runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON: {e}\n{}", String::from_utf8_lossy(&out.stdout)))
}

fn text_out(cmd: &mut Command) -> String {
    let out = cmd.output().expect("kubesleuth runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `(rule, cause, kind/ns/name)` of every finding.
fn found(report: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let o = &f["object"];
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["cause"].as_str().unwrap_or_default().to_string(),
                format!(
                    "{}/{}/{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["namespace"].as_str().unwrap_or(""),
                    o["name"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    v.sort();
    v
}

fn finding<'a>(report: &'a Value, rule: &str, name: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule && f["object"]["name"] == name)
        .unwrap_or_else(|| panic!("no {rule} on {name}: {:#?}", found(report)))
}

fn fix_text(f: &Value) -> String {
    f["fix"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| format!("{} {}", x["description"].as_str().unwrap_or(""), x["command"].as_str().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Redact what changes from run to run: registry ports, the check time (whole seconds, so
/// always 20 characters, possibly after a line break), the duration.
fn redact(text: &str, hosts: &[(&str, &str)]) -> String {
    let mut s = text.to_string();
    for (host, label) in hosts {
        s = s.replace(host, label);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("asked") {
        let after = &rest[i + "asked".len()..];
        let ws = after.len() - after.trim_start().len();
        let ts = &after[ws..];
        let is_time =
            ts.len() >= 20 && ts.as_bytes()[4] == b'-' && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'Z';
        out.push_str(&rest[..i + "asked".len()]);
        if is_time {
            out.push_str(&after[..ws]);
            out.push_str("[CHECKED-AT]");
            rest = &ts[20..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    let mut final_ = String::new();
    for line in out.lines() {
        match (line.rfind(" ("), line.ends_with(" ms)")) {
            (Some(i), true) if line[i + 2..line.len() - 4].chars().all(|c| c.is_ascii_digit()) => {
                final_.push_str(&line[..i]);
                final_.push_str(" (X ms)");
            }
            _ => final_.push_str(line),
        }
        final_.push('\n');
    }
    final_
}

/// Push `old` then `new` builds of `repo` and leave `tag` on `new`.
fn moved_tag(reg: &TestRegistry, repo: &str, tag: &str) -> (Pushed, Pushed) {
    let old = reg.push_image(repo, &format!("{repo}-old"), "amd64", T_OLD_BUILD);
    let new = reg.push_image(repo, &format!("{repo}-new"), "amd64", T_NEW_BUILD);
    reg.tag(repo, tag, &old);
    reg.tag(repo, tag, &new);
    (old, new)
}

// ---------------------------------------------------------------------------------------
// Seeds

/// S0.5: Skaffold pinned `:latest@sha256:<old>` into the Deployment; the tag was pushed again
/// and nothing reaches the pods.
#[test]
fn seed_s0_5_sha_pinned_tag_keeps_the_old_image() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(reg) = TestRegistry::start(&tmp.path().join("reg")) else { return };
    let h = reg.host.clone();
    let (old, new) = moved_tag(&reg, "angzarr-topology", "latest");
    let w = Workload {
        ns: "angzarr",
        name: "topology",
        container: "topology",
        image: format!("{h}/angzarr-topology:latest@{}", old.digest),
        policy: Some("IfNotPresent"),
        pods: vec![(
            "topology-5d8f7c6b9-r2d2c".into(),
            "kind-control-plane",
            format!("{h}/angzarr-topology@{}", old.digest),
            T_RESTARTED,
        )],
    };
    let snap = tmp.path().join("snap");
    write_snapshot(&snap, [vec![node("kind-control-plane", "amd64")], w.items()].concat());
    let report =
        json_out(kubesleuth(tmp.path()).args(["scan", "--registries", "--format", "json", "--snapshot"]).arg(&snap));
    let stale = finding(&report, "KS1301", "topology");
    assert_eq!(stale["cause"], "image.stale");
    let policy = finding(&report, "KS1304", "topology");
    assert_eq!(policy["cause"], "dev.tag_policy");
    let pin = format!("kubectl -n angzarr set image deployment/topology topology={h}/angzarr-topology@{}", new.digest);
    assert!(fix_text(stale).contains(&pin), "{}", fix_text(stale));
    assert!(fix_text(policy).contains(&pin), "{}", fix_text(policy));
    assert!(fix_text(policy).contains("skaffold run"));
    assert_eq!(found(&report).len(), 2, "{:#?}", found(&report));

    let text = text_out(kubesleuth(tmp.path()).args(["images", "--snapshot"]).arg(&snap));
    insta::assert_snapshot!("images_s0_5", redact(&text, &[(&h, "[REGISTRY]")]));
}

/// S0.9: a reused tag with `IfNotPresent` on a kind node: the pod restarted after the push
/// still runs the cached old image.
#[test]
fn seed_s0_9_node_cache_serves_the_old_image() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(reg) = TestRegistry::start(&tmp.path().join("reg")) else { return };
    let h = reg.host.clone();
    let (old, new) = moved_tag(&reg, "agg-order-rs", "v2");
    let w = Workload {
        ns: "orders",
        name: "agg-order",
        container: "agg-order",
        image: format!("{h}/agg-order-rs:v2"),
        policy: Some("IfNotPresent"),
        pods: vec![(
            "agg-order-5d8f7c6b9-h5j2k".into(),
            "kind-control-plane",
            format!("{h}/agg-order-rs@{}", old.digest),
            T_RESTARTED,
        )],
    };
    let snap = tmp.path().join("snap");
    write_snapshot(&snap, [vec![node("kind-control-plane", "amd64")], w.items()].concat());
    let report =
        json_out(kubesleuth(tmp.path()).args(["scan", "--registries", "--format", "json", "--snapshot"]).arg(&snap));
    let stale = finding(&report, "KS1301", "agg-order");
    assert!(stale["root_cause"].as_str().is_some_and(|r| r.contains("restart is not enough")), "{stale:#}");
    let policy = finding(&report, "KS1304", "agg-order");
    let rc = policy["root_cause"].as_str().unwrap_or_default();
    assert!(rc.contains("started after the new image was built"), "{rc}");
    let pin = format!("kubectl -n orders set image deployment/agg-order agg-order={h}/agg-order-rs@{}", new.digest);
    assert!(fix_text(policy).contains(&pin), "{}", fix_text(policy));
    // The pod started after the push: no "no rollout happened" story.
    assert!(!found(&report).iter().any(|(r, ..)| r == "KS1303"), "{:#?}", found(&report));

    let text = text_out(kubesleuth(tmp.path()).args(["images", "--snapshot"]).arg(&snap));
    insta::assert_snapshot!("images_s0_9", redact(&text, &[(&h, "[REGISTRY]")]));
}

/// S3.2: the tag the Deployment names was pushed again after the rollout; applying the
/// manifests changes nothing, so no rollout happens.
#[test]
fn seed_s3_2_update_not_applied() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(reg) = TestRegistry::start(&tmp.path().join("reg")) else { return };
    let h = reg.host.clone();
    let (old, new) = moved_tag(&reg, "klinematrix/backend", "latest");
    let w = Workload {
        ns: "klinematrix-prod",
        name: "backend",
        container: "backend",
        image: format!("{h}/klinematrix/backend:latest"),
        policy: None,
        pods: (0..2)
            .map(|i| {
                (
                    format!("backend-5d8f7c6b9-{i}x7kq"),
                    "node-1",
                    format!("{h}/klinematrix/backend@{}", old.digest),
                    T_DEPLOYED,
                )
            })
            .collect(),
    };
    let snap = tmp.path().join("snap");
    write_snapshot(&snap, [vec![node("node-1", "amd64")], w.items()].concat());
    let report =
        json_out(kubesleuth(tmp.path()).args(["scan", "--registries", "--format", "json", "--snapshot"]).arg(&snap));
    let not_applied = finding(&report, "KS1303", "backend");
    assert_eq!(not_applied["cause"], "workload.update_not_applied");
    let fixes = fix_text(not_applied);
    let pin = format!(
        "kubectl -n klinematrix-prod set image deployment/backend backend={h}/klinematrix/backend@{}",
        new.digest
    );
    assert!(fixes.contains(&pin), "{fixes}");
    assert!(fixes.contains("kubectl -n klinematrix-prod rollout restart deployment/backend"), "{fixes}");
    assert_eq!(finding(&report, "KS1301", "backend")["cause"], "image.stale");
    assert_eq!(not_applied["affected"].as_array().map(Vec::len), Some(2));

    let text = text_out(kubesleuth(tmp.path()).args(["images", "--snapshot"]).arg(&snap));
    insta::assert_snapshot!("images_s3_2", redact(&text, &[(&h, "[REGISTRY]")]));
}

// ---------------------------------------------------------------------------------------
// Every finding, the hard negatives, and request counts

fn b64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

struct Cluster {
    _tmp: tempfile::TempDir,
    main: TestRegistry,
    private: TestRegistry,
    tls: TestRegistry,
    dead_host: String,
    snap: std::path::PathBuf,
    docker_config: std::path::PathBuf,
}

/// One snapshot exercising every registry rule and every hard negative.
fn cluster() -> Option<Cluster> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let main = TestRegistry::start(&tmp.path().join("main"))?;
    let private = TestRegistry::start_with_auth(&tmp.path().join("private"), "ci", "CANARY-SECRET-VALUE-DO-NOT-PRINT")?;
    let tls = TestRegistry::start_at(&tmp.path().join("tls"), "127.0.0.2", None)?;
    let mut dead = TestRegistry::start(&tmp.path().join("dead"))?;
    let dead_host = dead.host.clone();
    dead.stop();
    let (m, p, t) = (main.host.clone(), private.host.clone(), tls.host.clone());

    // backend: S3.2 (Always via :latest, pods older than the push).
    let (b_old, _) = moved_tag(&main, "shop/backend", "latest");
    // cache: S0.9 (IfNotPresent, restarted after the push).
    let (c_old, _) = moved_tag(&main, "shop/cache", "v2");
    // web: 3 pods, one on an older digest (Always): digests differ.
    let (w_old, w_new) = moved_tag(&main, "shop/web", "v1");
    // frontend: a two-platform index; pods on the platform digest and on the index digest.
    let amd = main.push_image("shop/frontend", "fe-amd64", "amd64", T_OLD_BUILD);
    let arm = main.push_image("shop/frontend", "fe-arm64", "arm64", T_OLD_BUILD);
    let index = main.push_index("shop/frontend", &[(&amd, "linux", "amd64"), (&arm, "linux", "arm64")]);
    main.tag("shop/frontend", "2.1", &index);
    // worker: pinned by digest alone (with the tag moved since: still not stale).
    let (k_old, _) = moved_tag(&main, "shop/worker", "latest");
    // private app on the basic-auth registry, current.
    let priv_img = private.push_image("team/app", "app-1", "amd64", T_OLD_BUILD);
    private.tag("team/app", "v1", &priv_img);
    let tls_img = tls.push_image("edge/proxy", "proxy-1", "amd64", T_OLD_BUILD);
    tls.tag("edge/proxy", "v1", &tls_img);

    let ids = |host: &str, repo: &str, d: &str| format!("{host}/{repo}@{d}");
    let workloads = vec![
        Workload {
            ns: "shop",
            name: "backend",
            container: "backend",
            image: format!("{m}/shop/backend:latest"),
            policy: None,
            pods: vec![(
                "backend-5d8f7c6b9-aaaaa".into(),
                "node-amd",
                ids(&m, "shop/backend", &b_old.digest),
                T_DEPLOYED,
            )],
        },
        Workload {
            ns: "shop",
            name: "cache",
            container: "cache",
            image: format!("{m}/shop/cache:v2"),
            policy: None,
            pods: vec![("cache-5d8f7c6b9-bbbbb".into(), "node-amd", ids(&m, "shop/cache", &c_old.digest), T_RESTARTED)],
        },
        Workload {
            ns: "shop",
            name: "web",
            container: "web",
            image: format!("{m}/shop/web:v1"),
            policy: Some("Always"),
            pods: vec![
                ("web-5d8f7c6b9-ccccc".into(), "node-amd", ids(&m, "shop/web", &w_new.digest), T_RESTARTED),
                ("web-5d8f7c6b9-ddddd".into(), "node-amd", ids(&m, "shop/web", &w_new.digest), T_RESTARTED),
                ("web-5d8f7c6b9-eeeee".into(), "node-amd", ids(&m, "shop/web", &w_old.digest), T_DEPLOYED),
            ],
        },
        Workload {
            ns: "shop",
            name: "frontend",
            container: "frontend",
            image: format!("{m}/shop/frontend:2.1"),
            policy: None,
            pods: vec![
                ("frontend-5d8f7c6b9-fffff".into(), "node-amd", ids(&m, "shop/frontend", &amd.digest), T_DEPLOYED),
                (
                    "frontend-5d8f7c6b9-ggggg".into(),
                    "node-arm",
                    format!("docker-pullable://{}", ids(&m, "shop/frontend", &index.digest)),
                    T_DEPLOYED,
                ),
            ],
        },
        Workload {
            ns: "shop",
            name: "worker",
            container: "worker",
            image: ids(&m, "shop/worker", &k_old.digest),
            policy: None,
            pods: vec![(
                "worker-5d8f7c6b9-hhhhh".into(),
                "node-amd",
                ids(&m, "shop/worker", &k_old.digest),
                T_DEPLOYED,
            )],
        },
        Workload {
            ns: "shop",
            name: "legacy",
            container: "legacy",
            image: format!("{m}/shop/legacy:1.0"),
            policy: None,
            pods: vec![(
                "legacy-5d8f7c6b9-iiiii".into(),
                "node-amd",
                ids(&m, "shop/legacy", &format!("sha256:{}", "7".repeat(64))),
                T_DEPLOYED,
            )],
        },
        Workload {
            ns: "team",
            name: "app",
            container: "app",
            image: format!("{p}/team/app:v1"),
            policy: None,
            pods: vec![("app-5d8f7c6b9-jjjjj".into(), "node-amd", ids(&p, "team/app", &priv_img.digest), T_DEPLOYED)],
        },
        Workload {
            ns: "edge",
            name: "proxy",
            container: "proxy",
            image: format!("{t}/edge/proxy:v1"),
            policy: None,
            pods: vec![(
                "proxy-5d8f7c6b9-kkkkk".into(),
                "node-amd",
                ids(&t, "edge/proxy", &tls_img.digest),
                T_DEPLOYED,
            )],
        },
        Workload {
            ns: "ops",
            name: "agent",
            container: "agent",
            image: format!("{dead_host}/ops/agent:v1"),
            policy: None,
            pods: (0..3)
                .map(|i| {
                    (
                        format!("agent-5d8f7c6b9-l{i}"),
                        "node-amd",
                        ids(&dead_host, "ops/agent", &format!("sha256:{}", "8".repeat(64))),
                        T_DEPLOYED,
                    )
                })
                .collect(),
        },
        Workload {
            ns: "ops",
            name: "collector",
            container: "collector",
            image: format!("{dead_host}/ops/collector:v1"),
            policy: None,
            pods: vec![(
                "collector-5d8f7c6b9-mmmmm".into(),
                "node-amd",
                ids(&dead_host, "ops/collector", &format!("sha256:{}", "6".repeat(64))),
                T_DEPLOYED,
            )],
        },
    ];
    let mut items = vec![node("node-amd", "amd64"), node("node-arm", "arm64")];
    for w in &workloads {
        items.extend(w.items());
    }
    let snap = tmp.path().join("snap");
    write_snapshot(&snap, items);
    let docker_config = tmp.path().join("docker");
    std::fs::create_dir_all(&docker_config).expect("docker config dir");
    Some(Cluster { main, private, tls, dead_host, snap, docker_config, _tmp: tmp })
}

impl Cluster {
    fn hosts(&self) -> Vec<(&str, &str)> {
        vec![
            (self.main.host.as_str(), "[REGISTRY]"),
            (self.private.host.as_str(), "[AUTH-REGISTRY]"),
            (self.tls.host.as_str(), "[TLS-REGISTRY]"),
            (self.dead_host.as_str(), "[DEAD-REGISTRY]"),
        ]
    }
}

#[test]
fn every_registry_finding_fires_once_and_matching_digests_stay_quiet() {
    let Some(c) = cluster() else { return };
    let report = json_out(
        kubesleuth(&c.docker_config).args(["scan", "--registries", "--format", "json", "--snapshot"]).arg(&c.snap),
    );
    let got = found(&report);
    let (m, p, t, d) = (&c.main.host, &c.private.host, &c.tls.host, &c.dead_host);
    let want = vec![
        ("KS1301".into(), "image.stale".into(), "Deployment/shop/backend".into()),
        ("KS1301".into(), "image.stale".into(), "Deployment/shop/cache".into()),
        ("KS1302".into(), "image.stale".into(), "Deployment/shop/web".into()),
        ("KS1303".into(), "workload.update_not_applied".into(), "Deployment/shop/backend".into()),
        ("KS1304".into(), "dev.tag_policy".into(), "Deployment/shop/cache".into()),
        ("KS1305".into(), "image.auth".into(), format!("Registry//{p}")),
        ("KS1306".into(), "image.not_found".into(), format!("Registry//{m}")),
        ("KS1307".into(), "image.network".into(), format!("Registry//{d}")),
        ("KS1308".into(), "image.tls".into(), format!("Registry//{t}")),
    ];
    let mut want: Vec<(String, String, String)> = want;
    want.sort();
    assert_eq!(got, want, "frontend (index and platform digests) and worker (pinned) must stay quiet");

    // The dead registry is one finding naming both of its workloads.
    let dead = finding(&report, "KS1307", d);
    let affected: Vec<&str> =
        dead["affected"].as_array().expect("affected").iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(affected, vec!["agent", "collector"]);
    // The HTTP registry asked over HTTPS says how to fix it.
    assert!(fix_text(finding(&report, "KS1308", t)).contains(&format!("--insecure-registry {t}")));
    let stdout = report.to_string();
    assert!(!stdout.contains("CANARY"), "a credential was printed");

    // Requests: the main registry answers one manifest per distinct tag (backend, cache, web,
    // frontend, legacy; the pinned worker asks nothing), one probe, and one config blob per tag
    // with a stale pod (backend, cache, web): 9. The registry's access log agrees.
    assert_eq!(c.main.kubesleuth_requests(), 1 + 5 + 3, "{}", c.main.access_log());
    assert_eq!(c.private.kubesleuth_requests(), 1, "a refused host is asked once");

    let text = text_out(kubesleuth(&c.docker_config).args(["images", "--snapshot"]).arg(&c.snap));
    insta::assert_snapshot!("images_every_finding", redact(&text, &c.hosts()));
}

#[test]
fn docker_config_credentials_open_the_auth_registry() {
    let Some(c) = cluster() else { return };
    let p = c.private.host.clone();
    let auth = b64(b"ci:CANARY-SECRET-VALUE-DO-NOT-PRINT");
    std::fs::write(c.docker_config.join("config.json"), format!(r#"{{"auths":{{"{p}":{{"auth":"{auth}"}}}}}}"#))
        .expect("docker config");
    let report = json_out(kubesleuth(&c.docker_config).args(["images", "--format", "json", "--snapshot"]).arg(&c.snap));
    assert!(!found(&report).iter().any(|(r, ..)| r == "KS1305"), "{:#?}", found(&report));
    let app = report["images"]
        .as_array()
        .expect("images")
        .iter()
        .find(|r| r["workload"] == "deployment/app")
        .expect("app row");
    assert_eq!(app["status"], "current", "{app:#}");
    let host =
        report["registry"]["hosts"].as_array().expect("hosts").iter().find(|h| h["host"] == p.as_str()).expect("host");
    assert_eq!(host["auth"], "dockerConfig");
    assert!(!report.to_string().contains("CANARY"), "a credential was printed");
    assert!(!report.to_string().contains(&auth), "a credential was printed");
}

#[test]
fn scan_without_registries_never_asks_and_recorded_facts_replay_offline() {
    let Some(c) = cluster() else { return };
    let report = json_out(kubesleuth(&c.docker_config).args(["scan", "--format", "json", "--snapshot"]).arg(&c.snap));
    assert!(!found(&report).iter().any(|(r, ..)| r.starts_with("KS13")), "{:#?}", found(&report));
    assert_eq!(c.main.kubesleuth_requests(), 0, "scan without --registries asked a registry");

    // Record the check, drop it into the snapshot, and replay it without the network.
    let facts = c.snap.join("registry-facts.json");
    let live = json_out(
        kubesleuth(&c.docker_config)
            .args(["images", "--format", "json", "--save-facts"])
            .arg(&facts)
            .arg("--snapshot")
            .arg(&c.snap),
    );
    let asked = c.main.kubesleuth_requests();
    // main 9; the auth, TLS and dead registries are each asked once (their /v2/ fails).
    assert_eq!(live["registry"]["requests"].as_u64(), Some(9 + 1 + 1 + 1), "{:#}", live["registry"]);
    let offline = json_out(
        kubesleuth(&c.docker_config).args(["images", "--offline", "--format", "json", "--snapshot"]).arg(&c.snap),
    );
    assert_eq!(c.main.kubesleuth_requests(), asked, "--offline asked a registry");
    assert_eq!(found(&offline), found(&live));
    assert_eq!(offline["images"], live["images"]);
    // A plain scan of the snapshot with the recorded facts reports them too.
    let replay = json_out(kubesleuth(&c.docker_config).args(["scan", "--format", "json", "--snapshot"]).arg(&c.snap));
    assert_eq!(found(&replay).into_iter().filter(|(r, ..)| r.starts_with("KS13")).collect::<Vec<_>>(), found(&live));
}

/// A live cluster (a snapshot served on 127.0.0.1) whose `team/app` pod pulls from the
/// basic-auth registry with imagePullSecret `team/regcred`. `secret` gives, for the registry's
/// host, the data a `get` of that Secret answers with; `None` serves it as a snapshot holds it
/// (key names, no values).
struct LiveAuth {
    _tmp: tempfile::TempDir,
    private: TestRegistry,
    cluster: common::Cluster,
    docker_config: std::path::PathBuf,
}

fn live_pull_secret_cluster(secret: impl FnOnce(&str) -> Option<serde_json::Map<String, Value>>) -> Option<LiveAuth> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let private = TestRegistry::start_with_auth(&tmp.path().join("private"), "ci", "CANARY-SECRET-VALUE-DO-NOT-PRINT")?;
    let p = private.host.clone();
    let img = private.push_image("team/app", "app-1", "amd64", T_OLD_BUILD);
    private.tag("team/app", "v1", &img);
    let app = Workload {
        ns: "team",
        name: "app",
        container: "app",
        image: format!("{p}/team/app:v1"),
        policy: None,
        pods: vec![("app-5d8f7c6b9-jjjjj".into(), "node-amd", format!("{p}/team/app@{}", img.digest), T_DEPLOYED)],
    };
    let mut items = vec![node("node-amd", "amd64")];
    for mut item in app.items() {
        if item["kind"] == "Pod" {
            item["spec"]["imagePullSecrets"] = json!([{"name": "regcred"}]);
        }
        items.push(item);
    }
    items.push(json!({"kind":"Secret","apiVersion":"v1","type":"kubernetes.io/dockerconfigjson",
        "metadata":{"name":"regcred","namespace":"team"},"data":{".dockerconfigjson":""}}));
    let snap = tmp.path().join("snap");
    write_snapshot(&snap, items);

    let mut opts = ks_serve::ServeOptions::default();
    if let Some(data) = secret(&p) {
        opts.secret_data.insert(("team".into(), "regcred".into()), data);
    }
    let cluster = common::serve(&snap, opts);
    let docker_config = tmp.path().join("docker");
    std::fs::create_dir_all(&docker_config).expect("docker config dir");
    Some(LiveAuth { _tmp: tmp, private, cluster, docker_config })
}

/// What `kubectl create secret docker-registry regcred --docker-server=HOST --docker-username=ci
/// --docker-password=...` stores.
fn dockerconfigjson(host: &str) -> serde_json::Map<String, Value> {
    let auth = b64(b"ci:CANARY-SECRET-VALUE-DO-NOT-PRINT");
    let cfg = format!(
        r#"{{"auths":{{"{host}":{{"username":"ci","password":"CANARY-SECRET-VALUE-DO-NOT-PRINT","auth":"{auth}"}}}}}}"#
    );
    let mut m = serde_json::Map::new();
    m.insert(".dockerconfigjson".into(), json!(b64(cfg.as_bytes())));
    m
}

fn images_live(c: &LiveAuth) -> (Value, String) {
    let out = kubesleuth(&c.docker_config)
        .env_remove("KUBECONFIG")
        .args(["images", "--format", "json", "--quiet", "--kubeconfig"])
        .arg(&c.cluster.kubeconfig)
        .output()
        .expect("kubesleuth runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(matches!(out.status.code(), Some(0 | 1)), "exit {:?}: {stderr}", out.status);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    (report, stderr)
}

#[test]
fn live_scan_asks_the_registry_with_the_pods_image_pull_secret() {
    let Some(c) = live_pull_secret_cluster(|host| Some(dockerconfigjson(host))) else { return };
    let (report, stderr) = images_live(&c);
    assert!(!found(&report).iter().any(|(r, ..)| r == "KS1305"), "{:#?}", found(&report));
    let app = report["images"].as_array().expect("images").iter().find(|r| r["workload"] == "deployment/app");
    assert_eq!(app.expect("app row")["status"], "current", "{report:#}");
    let host =
        report["registry"]["hosts"].as_array().expect("hosts").iter().find(|h| h["host"] == c.private.host.as_str());
    assert_eq!(host.expect("host")["auth"], "pullSecret");
    for out in [report.to_string(), stderr] {
        assert!(!out.contains("CANARY"), "a credential was printed: {out}");
    }
}

#[test]
fn live_scan_without_usable_pull_secret_data_reports_the_auth_failure() {
    // The Secret exists but holds no registry configuration (as a snapshot serves it).
    let Some(c) = live_pull_secret_cluster(|_| None) else { return };
    let out = kubesleuth(&c.docker_config)
        .env_remove("KUBECONFIG")
        .args(["images", "--format", "json", "--kubeconfig"])
        .arg(&c.cluster.kubeconfig)
        .output()
        .expect("kubesleuth runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("note: imagePullSecret team/regcred has no registry configuration key"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let auth: Vec<_> = found(&report).into_iter().filter(|(r, ..)| r == "KS1305").collect();
    assert_eq!(auth.len(), 1, "{:#?}", found(&report));
    // `--no-pull-secrets` does not read the Secret at all: no note.
    let Some(c) = live_pull_secret_cluster(|host| Some(dockerconfigjson(host))) else { return };
    let out = kubesleuth(&c.docker_config)
        .env_remove("KUBECONFIG")
        .args(["images", "--format", "json", "--no-pull-secrets", "--kubeconfig"])
        .arg(&c.cluster.kubeconfig)
        .output()
        .expect("kubesleuth runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(found(&report).into_iter().filter(|(r, ..)| r == "KS1305").count(), 1);
}
