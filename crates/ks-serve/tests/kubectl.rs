//! kubectl fidelity: the real `kubectl` against the server over `examples/broken-cluster`.
//! Expectations are read from the snapshot's files directly, not from the server's code.
//! Skips, with a message, when `kubectl` is not on PATH.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

fn example_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/broken-cluster"))
}

fn kubectl_available() -> bool {
    match Command::new("kubectl").args(["version", "--client"]).output() {
        Ok(o) if o.status.success() => true,
        _ => {
            eprintln!("kubectl is not on PATH: skipping the kubectl fidelity test");
            false
        }
    }
}

/// One server for every test in this file, on a free port, on its own thread.
fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let snap = ks_serve::load_raw(&[example_dir()]).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || ks_serve::serve_blocking(listener, Arc::new(snap), Default::default()));
        url
    })
}

struct Kubectl {
    dir: tempfile::TempDir,
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Kubectl {
    /// A kubeconfig of its own and a discovery cache in a temporary directory, so nothing of
    /// the user's configuration (or credentials) is read.
    fn new() -> Kubectl {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: snapshot\n  cluster:\n    server: {}\n\
             contexts:\n- name: snapshot\n  context:\n    cluster: snapshot\n    user: nobody\n\
             users:\n- name: nobody\n  user: {{}}\ncurrent-context: snapshot\n",
            server()
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        Kubectl { dir }
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new("kubectl")
            .args(args)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .env("KUBECONFIG", self.dir.path().join("config"))
            .output()
            .unwrap();
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Run and require success.
    fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert!(r.ok, "kubectl {args:?} failed: {}", r.stderr);
        r.stdout
    }
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Every item of `<ns>/<file>` lists in the snapshot, with its namespace directory.
fn items_of(file: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(example_dir()).unwrap() {
        let p = entry.unwrap().path().join(file);
        if p.exists() {
            out.extend(read_json(&p)["items"].as_array().unwrap().iter().cloned());
        }
    }
    out
}

fn ns_name(o: &Value) -> (String, String) {
    (
        o["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
        o["metadata"]["name"].as_str().unwrap().to_string(),
    )
}

const POD: &str = "api-gateway-56tnmvt67-rn97j";

#[test]
fn get_pods_all_namespaces_table() {
    if !kubectl_available() {
        return;
    }
    let k = Kubectl::new();
    let out = k.ok(&["get", "pods", "-A"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let rows: BTreeMap<(String, String), Vec<String>> = lines
        .map(|l| {
            let cells: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            ((cells[0].clone(), cells[1].clone()), cells)
        })
        .collect();
    let pods = items_of("pods.json");
    let want: BTreeSet<(String, String)> = pods.iter().map(ns_name).collect();
    assert_eq!(rows.keys().cloned().collect::<BTreeSet<_>>(), want);

    // STATUS is the waiting reason of a single-container pod, Running for a ready one.
    let mut checked = 0;
    for p in &pods {
        let statuses = p["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
        if statuses.len() != 1 || p["spec"].get("initContainers").is_some() || p["status"].get("reason").is_some() {
            continue;
        }
        let s = &statuses[0];
        let expected = if let Some(r) = s["state"]["waiting"]["reason"].as_str() {
            r.to_string()
        } else if s["ready"] == true && s["state"].get("running").is_some() {
            "Running".to_string()
        } else {
            continue;
        };
        assert_eq!(rows[&ns_name(p)][3], expected, "{:?}", ns_name(p));
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} pods checked");
    // Ages count from the snapshot's newest timestamp (2026-11-20T09:59:59Z), not the clock:
    // this pod was created at 09:13:20.
    let gw = &rows[&("shop".to_string(), POD.to_string())];
    assert_eq!((gw[3].as_str(), gw.last().unwrap().as_str()), ("CrashLoopBackOff", "46m"));
}

#[test]
fn get_pods_json_lists_the_snapshot_items() {
    if !kubectl_available() {
        return;
    }
    let k = Kubectl::new();
    let list: Value = serde_json::from_str(&k.ok(&["get", "pods", "-A", "-o", "json"])).unwrap();
    let got: BTreeSet<(String, String)> = list["items"].as_array().unwrap().iter().map(ns_name).collect();
    let want: BTreeSet<(String, String)> = items_of("pods.json").iter().map(ns_name).collect();
    assert_eq!(got, want);
    let one: Value = serde_json::from_str(&k.ok(&["get", "pod", POD, "-n", "shop", "-o", "json"])).unwrap();
    assert_eq!(one["metadata"]["uid"], "022c8b0d-f4f6-4285-bdb4-a619605874c8");
    let missing = k.run(&["get", "pod", "nosuch", "-n", "shop"]);
    assert!(!missing.ok && missing.stderr.contains("pods \"nosuch\" not found"), "{}", missing.stderr);
}

#[test]
fn describe_pod_shows_its_events() {
    if !kubectl_available() {
        return;
    }
    let k = Kubectl::new();
    let out = k.ok(&["describe", "pod", POD, "-n", "shop"]);
    assert!(out.lines().any(|l| l.starts_with("Name:") && l.ends_with(POD)), "{out}");
    let events = out.split("\nEvents:").nth(1).unwrap_or_else(|| panic!("no Events section: {out}"));
    let messages: Vec<String> = read_json(&example_dir().join("shop/events.json"))["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["involvedObject"]["name"] == POD)
        .map(|e| e["message"].as_str().unwrap().trim().to_string())
        .collect();
    assert!(messages.len() >= 5);
    for m in &messages {
        assert!(events.contains(m.as_str()), "describe lacks event {m:?}:\n{events}");
    }
}

/// The body of a cluster-info dump log section, read without the server's parser.
fn section(file: &Path, container: &str) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let start = format!("==== START logs for container {container} of pod ");
    let from = text.find(&start).unwrap();
    let body_start = from + text[from..].find('\n').unwrap() + 1;
    let end = text[body_start..].find("==== END logs for container ").map_or(text.len(), |e| body_start + e);
    text[body_start..end].to_string()
}

#[test]
fn logs_print_the_snapshot_text() {
    if !kubectl_available() {
        return;
    }
    let k = Kubectl::new();
    let dir = example_dir().join("shop").join(POD);
    assert_eq!(k.ok(&["logs", POD, "-n", "shop"]), section(&dir.join("logs.txt"), "api"));
    assert_eq!(
        k.ok(&["logs", POD, "-n", "shop", "-c", "api", "--previous"]),
        std::fs::read_to_string(dir.join("api.previous.log")).unwrap()
    );
    let tail = k.ok(&["logs", POD, "-n", "shop", "--tail", "2"]);
    assert_eq!(tail.lines().count(), 2);
    assert!(section(&dir.join("logs.txt"), "api").ends_with(&tail));
    let orders = example_dir().join("shop/orders-j9nzw99rv-btjps/logs.txt");
    assert_eq!(k.ok(&["logs", "orders-j9nzw99rv-btjps", "-n", "shop", "-c", "orders"]), section(&orders, "orders"));
}

#[test]
fn get_events_deployments_services_nodes() {
    if !kubectl_available() {
        return;
    }
    let k = Kubectl::new();
    let out = k.ok(&["get", "events", "-n", "shop"]);
    let header: Vec<&str> = out.lines().next().unwrap().split("  ").filter(|s| !s.is_empty()).map(str::trim).collect();
    assert_eq!(header, ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    let shop_events = read_json(&example_dir().join("shop/events.json"))["items"].as_array().unwrap().len();
    assert_eq!(out.lines().count() - 1, shop_events);
    assert!(out.lines().any(|l| l.contains("BackOff") && l.contains(&format!("pod/{POD}"))));

    let out = k.ok(&["get", "deploy,svc", "-A"]);
    for d in items_of("deployments.json") {
        let (ns, name) = ns_name(&d);
        assert!(
            out.lines().any(|l| l.starts_with(&ns) && l.contains(&format!("deployment.apps/{name} "))),
            "{ns}/{name}"
        );
    }
    for s in items_of("services.json") {
        let (ns, name) = ns_name(&s);
        assert!(out.lines().any(|l| l.starts_with(&ns) && l.contains(&format!("service/{name} "))), "{ns}/{name}");
    }

    let out = k.ok(&["get", "nodes", "-o", "name"]);
    let want: Vec<String> = read_json(&example_dir().join("nodes.json"))["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| format!("node/{}", n["metadata"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
}

#[test]
fn secrets_show_key_names_and_no_values() {
    if !kubectl_available() {
        return;
    }
    let k = Kubectl::new();
    let out = k.ok(&["get", "secrets", "-A", "-o", "json"]);
    let on_disk = read_json(&example_dir().join("extra/secrets.json"));
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), on_disk["items"].as_array().unwrap().len());
    for s in on_disk["items"].as_array().unwrap() {
        let data = s["data"].as_object().unwrap();
        for v in data.values() {
            assert!(!out.contains(v.as_str().unwrap()), "a secret value was served");
        }
        let served = list["items"].as_array().unwrap().iter().find(|i| ns_name(i) == ns_name(s)).unwrap();
        assert!(served.get("data").is_none());
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        assert_eq!(served["metadata"]["annotations"]["kubesleuth.io/keys"], keys.join(","));
    }
    let table = k.ok(&["get", "secrets", "-n", "shop", "checkout-secrets"]);
    assert!(
        table.lines().nth(1).unwrap().split_whitespace().collect::<Vec<_>>()[..3]
            == ["checkout-secrets", "Opaque", "4"]
    );
}

#[test]
fn writes_are_refused() {
    if !kubectl_available() {
        return;
    }
    let k = Kubectl::new();
    let r = k.run(&["delete", "pod", POD, "-n", "shop"]);
    assert!(!r.ok && r.stderr.contains("MethodNotAllowed"), "{}", r.stderr);
    assert!(k.ok(&["get", "pod", POD, "-n", "shop", "-o", "name"]).contains(POD));
}
