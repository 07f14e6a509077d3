//! The live path through the CLI, against `ks_serve` serving a snapshot on 127.0.0.1:
//! `scan` without `--snapshot` gives the findings `scan --snapshot` gives, `snapshot -o`
//! round-trips, RBAC gaps give one warning, and no seeded secret survives `snapshot -o`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use ks_serve::{Faults, ServeOptions};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn examples() -> Vec<PathBuf> {
    let mut out = vec![repo().join("examples/broken-cluster")];
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures/seeds"))
        .unwrap()
        .map(|e| e.unwrap().path().join("snapshot"))
        .filter(|p| p.is_dir())
        .collect();
    seeds.sort();
    out.extend(seeds);
    out
}

mod common;
use common::Cluster;

fn serve(dir: &Path, faults: Faults) -> Cluster {
    common::serve(dir, ServeOptions { faults, ..ServeOptions::default() })
}

fn kubesleuth() -> Command {
    let mut c = Command::cargo_bin("kubesleuth").unwrap();
    c.env_remove("KUBECONFIG");
    c
}

struct Run {
    code: Option<i32>,
    report: Value,
    stderr: String,
}

fn run(args: &[&str], extra: &[&Path]) -> Run {
    let out = kubesleuth().args(args).args(extra).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    Run { code: out.status.code(), report, stderr }
}

fn scan_files(dir: &Path) -> Run {
    run(&["scan", "--format", "json", "--snapshot"], &[dir])
}

fn scan_live(cluster: &Cluster, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "--format", "json", "--quiet"];
    args.extend_from_slice(extra);
    args.push("--kubeconfig");
    run(&args, &[&cluster.kubeconfig])
}

fn names(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| format!("{} {}/{}", f["rule"], f["object"]["namespace"], f["object"]["name"]))
        .collect()
}

#[test]
fn live_scans_give_the_findings_of_the_files_and_snapshots_round_trip() {
    let mut failures = Vec::new();
    for dir in examples() {
        let files = scan_files(&dir);
        let cluster = serve(&dir, Faults::default());
        let live = scan_live(&cluster, &["--secret-keys"]);
        assert_eq!(live.code, files.code, "{}: {}", dir.display(), live.stderr);
        assert!(live.stderr.is_empty(), "{}: {}", dir.display(), live.stderr);
        if live.report["findings"] != files.report["findings"] {
            failures.push(format!(
                "{}: live {:?} != files {:?}",
                dir.display(),
                names(&live.report),
                names(&files.report)
            ));
        }
        // What `snapshot -o` writes reads back to the same findings.
        let out = tempfile::tempdir().unwrap();
        let snap_dir = out.path().join("snap");
        let wrote = kubesleuth()
            .args(["snapshot", "--quiet", "--secret-keys", "-o"])
            .arg(&snap_dir)
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .output()
            .unwrap();
        assert!(wrote.status.success(), "{}", String::from_utf8_lossy(&wrote.stderr));
        assert!(snap_dir.join("nodes.json").is_file() && snap_dir.join("kubesleuth-snapshot.json").is_file());
        let back = scan_files(&snap_dir);
        assert!(back.report.get("unreadable").is_none(), "{}", back.report["unreadable"]);
        if back.report["findings"] != live.report["findings"] {
            failures.push(format!(
                "{}: round trip {:?} != live {:?}",
                dir.display(),
                names(&back.report),
                names(&live.report)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_snapshot_has_the_cluster_info_dump_layout_and_a_manifest() {
    let cluster = serve(&repo().join("examples/broken-cluster"), Faults::default());
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("incident-42");
    let wrote = kubesleuth()
        .args(["snapshot", "-A", "-o"])
        .arg(&dir)
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .output()
        .unwrap();
    assert!(wrote.status.success());
    let stderr = String::from_utf8_lossy(&wrote.stderr);
    assert!(stderr.starts_with("wrote ") && stderr.contains("redacted"), "{stderr}");
    for f in ["pods", "services", "deployments", "replicasets", "daemonsets", "events", "replication-controllers"] {
        let path = dir.join("shop").join(format!("{f}.json"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(v["kind"].as_str().unwrap().ends_with("List"), "{}", path.display());
    }
    let nodes: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("nodes.json")).unwrap()).unwrap();
    assert_eq!(nodes["kind"], "NodeList");
    assert!(!nodes["items"].as_array().unwrap().is_empty());
    assert!(dir.join("shop/secrets.json").is_file() && dir.join("shop/configmaps.json").is_file());
    let logs: Vec<PathBuf> = walk(&dir).into_iter().filter(|p| p.ends_with("logs.txt")).collect();
    assert!(!logs.is_empty());
    let text = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(text.starts_with("==== START logs for container "), "{text}");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("kubesleuth-snapshot.json")).unwrap()).unwrap();
    assert_eq!(manifest["context"], "snap-ctx");
    assert_eq!(manifest["tool"]["name"], "kubesleuth");
    assert!(manifest["kinds"].as_array().unwrap().iter().any(|k| k == "Pod"));
    assert!(manifest["created"].as_str().unwrap().ends_with('Z'));
    assert!(
        manifest["skipped"]["not_served"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "gateway.networking.k8s.io/httproutes")
    );
    // Secrets were read as metadata only: no data at all.
    let secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("shop/secrets.json")).unwrap()).unwrap();
    assert!(secrets["items"].as_array().unwrap().iter().all(|s| s.get("data").is_none()));
    // A second capture into the same directory is refused rather than mixed in.
    let again =
        kubesleuth().args(["snapshot", "-o"]).arg(&dir).arg("--kubeconfig").arg(&cluster.kubeconfig).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn forbidden_kinds_give_one_warning_and_the_scan_goes_on() {
    let dir = repo().join("examples/broken-cluster");
    let cluster = serve(&dir, Faults { forbidden: vec!["secrets".into(), "events".into()], ..Faults::default() });
    let live = scan_live(&cluster, &[]);
    assert_eq!(live.code, Some(1), "{}", live.stderr);
    let warnings: Vec<&str> = live.stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{}", live.stderr);
    assert!(
        warnings[0].starts_with("kubesleuth: warning: cannot list events, secrets cluster-wide"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("grant get/list/watch"));
    let gaps: Vec<String> = live.report["unreadable"].as_array().unwrap().iter().map(|g| g.to_string()).collect();
    assert!(gaps.iter().any(|g| g.contains("cannot list secrets")), "{gaps:?}");
    assert!(!names(&live.report).is_empty());
}

#[test]
fn an_unreachable_cluster_is_a_clear_error() {
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tmp = tempfile::tempdir().unwrap();
    let kc = tmp.path().join("kubeconfig");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             contexts:\n- name: gone\n  context:\n    cluster: c\n    user: u\ncurrent-context: gone\nusers:\n- name: u\n  user: {{}}\n"
        ),
    )
    .unwrap();
    let out = kubesleuth().args(["scan", "--quiet", "--timeout", "20s", "--kubeconfig"]).arg(&kc).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read the cluster (context gone): cannot reach the API server"), "{stderr}");
    let missing = kubesleuth().args(["scan", "--kubeconfig", "/nonexistent/kubeconfig"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read kubeconfig /nonexistent/kubeconfig"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Secrets planted in every place a snapshot could leak them.
const SEEDED: &[&str] = &[
    "SEED-SECRET-VALUE-1",
    "U0VFRC1TRUNSRVQtVkFMVUUtMQ==",
    "SEED-LA-SECRET-2",
    "SEED-ENV-PASSWORD",
    "SEED-ENV-TOKEN",
    "SEED-ENV-APIKEY",
    "SEEDURLPASS",
    "AKIASEEDSEEDSEED1234",
    "SEEDBEARERANNOTATION99",
    "SEED-LA-PASSWORD",
    "eyJzdWIiOiJzZWVkIn0",
    "SEEDJWTSIGNATURE",
    "MIIEowSEEDPEMBODYLINE",
    "SEEDLOGPASSWORD",
    "SEEDPREVBEARER99",
    "SEED-CM-PASSWORD",
    "SEEDCMURLPASS",
    "SEEDEVENTTOKEN12345",
];

fn seeded_snapshot(dir: &Path) {
    let ns = dir.join("shop");
    std::fs::create_dir_all(ns.join("api-7d9f-x1/")).unwrap();
    let la_secret = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"stringData":{"db-password":"SEED-LA-SECRET-2"}}"#;
    let la_pod = r#"{"kind":"Pod","spec":{"containers":[{"name":"api","env":[{"name":"DB_PASSWORD","value":"SEED-LA-PASSWORD"}]}]}}"#;
    let secrets = serde_json::json!({"kind": "List", "apiVersion": "v1", "items": [{
        "kind": "Secret", "apiVersion": "v1",
        "metadata": {"name": "db", "namespace": "shop", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": la_secret}},
        "type": "Opaque",
        "data": {"db-password": "U0VFRC1TRUNSRVQtVkFMVUUtMQ=="}
    }]});
    std::fs::write(ns.join("secrets.json"), secrets.to_string()).unwrap();
    let cm = serde_json::json!({"kind": "List", "apiVersion": "v1", "items": [{
        "kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "app", "namespace": "shop"},
        "data": {"DB_PASSWORD": "SEED-CM-PASSWORD", "DATABASE_URL": "mysql://app:SEEDCMURLPASS@db:3306/app", "LOG_LEVEL": "debug"}
    }]});
    std::fs::write(ns.join("configmaps.json"), cm.to_string()).unwrap();
    let pods = serde_json::json!({"kind": "PodList", "apiVersion": "v1", "items": [{
        "metadata": {"name": "api-7d9f-x1", "namespace": "shop", "uid": "u1", "creationTimestamp": "2026-11-20T09:00:00Z",
            "annotations": {"note": "curl -H 'Authorization: Bearer SEEDBEARERANNOTATION99'",
                            "kubectl.kubernetes.io/last-applied-configuration": la_pod}},
        "spec": {"containers": [{"name": "api", "image": "shop/api:1", "env": [
            {"name": "DB_PASSWORD", "value": "SEED-ENV-PASSWORD"},
            {"name": "GITHUB_TOKEN", "value": "SEED-ENV-TOKEN"},
            {"name": "STRIPE_API_KEY", "value": "SEED-ENV-APIKEY"},
            {"name": "DATABASE_URL", "value": "postgres://app:SEEDURLPASS@db.shop.svc:5432/app"},
            {"name": "AWS_ACCESS_KEY_ID", "value": "AKIASEEDSEEDSEED1234"},
            {"name": "DB_HOST", "value": "db.shop.svc"}
        ]}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "api", "image": "shop/api:1", "imageID": "", "ready": false,
            "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=api"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-11-20T09:58:00Z"}}}]}
    }]});
    std::fs::write(ns.join("pods.json"), pods.to_string()).unwrap();
    let events = serde_json::json!({"kind": "EventList", "apiVersion": "v1", "items": [{
        "metadata": {"name": "api.1", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "api-7d9f-x1"},
        "reason": "Unhealthy", "type": "Warning", "count": 3, "lastTimestamp": "2026-11-20T09:59:00Z",
        "message": "Readiness probe failed: 401 for header Authorization: Bearer SEEDEVENTTOKEN12345"
    }]});
    std::fs::write(ns.join("events.json"), events.to_string()).unwrap();
    let log = "starting api\n\
               using token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWVkIn0.SEEDJWTSIGNATURE\n\
               -----BEGIN RSA PRIVATE KEY-----\nMIIEowSEEDPEMBODYLINE\nabcdef0123456789+/=\n-----END RSA PRIVATE KEY-----\n\
               db login failed password=SEEDLOGPASSWORD\n\
               Error: connect ECONNREFUSED 10.0.0.7:5432\n";
    std::fs::write(
        ns.join("api-7d9f-x1/logs.txt"),
        format!(
            "==== START logs for container api of pod shop/api-7d9f-x1 ====\n{log}==== END logs for container api of pod shop/api-7d9f-x1 ====\n"
        ),
    )
    .unwrap();
    std::fs::write(
        ns.join("api-7d9f-x1/api.previous.log"),
        "GET /health Authorization: Bearer SEEDPREVBEARER99\nexit 1\n",
    )
    .unwrap();
    std::fs::write(dir.join("nodes.json"), r#"{"kind":"NodeList","apiVersion":"v1","items":[]}"#).unwrap();
}

#[test]
fn no_seeded_secret_survives_a_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let seeded = tmp.path().join("seeded");
    seeded_snapshot(&seeded);
    let cluster = serve(&seeded, Faults::default());
    for extra in [&[][..], &["--secret-keys"][..]] {
        let out = tmp.path().join(format!("out{}", extra.len()));
        let wrote = kubesleuth()
            .args(["snapshot", "--quiet", "-o"])
            .arg(&out)
            .args(extra)
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .output()
            .unwrap();
        assert!(wrote.status.success(), "{}", String::from_utf8_lossy(&wrote.stderr));
        let files = walk(&out);
        let all: String = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect::<Vec<_>>().join("\n");
        for s in SEEDED {
            let hit = files.iter().find(|f| std::fs::read_to_string(f).unwrap().contains(s));
            assert!(hit.is_none(), "{s} survived in {}", hit.unwrap().display());
        }
        // The logs were captured (current and previous) and redacted, not dropped.
        assert!(
            out.join("shop/api-7d9f-x1/logs.txt").is_file() && out.join("shop/api-7d9f-x1/api.previous.log").is_file()
        );
        assert!(all.contains("ECONNREFUSED 10.0.0.7:5432") && all.contains("<redacted:sha256:"));
        // Names stay: rules and people need them.
        for name in ["DB_PASSWORD", "GITHUB_TOKEN", "DATABASE_URL", "db.shop.svc:5432", "\"db\""] {
            assert!(all.contains(name), "{name} is gone");
        }
        if !extra.is_empty() {
            assert!(all.contains("db-password"), "Secret key names survive with --secret-keys");
        }
    }
}
