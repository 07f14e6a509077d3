//! The networking rules against real pasted incidents (`shared/corpus/pasted`): each test
//! rebuilds the cluster state the paste shows and checks the rule names the labelled cause.
//! Skipped, with a message, when the corpus is not present.

use ks_core::{Evidence, Finding, LogExcerpt, LogKey};
use serde_json::{Value, json};

use crate::{Context, Rule};

fn case(prefix: &str) -> Option<(String, String)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/pasted");
    let Ok(rd) = std::fs::read_dir(root) else {
        eprintln!("skipping: {root} not present");
        return None;
    };
    let dir = rd
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix)));
    let Some(dir) = dir else {
        eprintln!("skipping: pasted case {prefix} not present");
        return None;
    };
    let evidence = std::fs::read_to_string(dir.join("evidence.txt")).ok()?;
    let label = std::fs::read_to_string(dir.join("label.yaml")).unwrap_or_default();
    Some((evidence, label))
}

/// Evidence from `kubectl get -o json` shaped items, the way the snapshot source fills it.
fn evidence(items: Vec<Value>, logs: Vec<(LogKey, &str)>) -> Evidence {
    let mut ev = Evidence::default();
    for item in items {
        let kind = item["kind"].as_str().unwrap_or_default().to_string();
        ev.collected.insert(kind.clone());
        let v = item.clone();
        match kind.as_str() {
            "Pod" => ev.pods.push(serde_json::from_value(v).expect("pod")),
            "Service" => ev.services.push(serde_json::from_value(v).expect("service")),
            "Endpoints" => ev.endpoints.push(serde_json::from_value(v).expect("endpoints")),
            "Ingress" => ev.ingresses.push(serde_json::from_value(v).expect("ingress")),
            "Event" => ev.events.push(serde_json::from_value(v).expect("event")),
            other => panic!("test builds no {other}"),
        }
    }
    for (k, text) in logs {
        ev.logs.insert(k, LogExcerpt::from_text(text, "pasted"));
    }
    ev.finish();
    ev
}

fn run(rule: &dyn Rule, ev: &Evidence) -> Vec<Finding> {
    let cx = Context::new(ev);
    let mut out = Vec::new();
    rule.check(&cx, &mut out);
    out
}

fn running_pod(ns: &str, name: &str, labels: Value, owner: Option<(&str, &str)>) -> Value {
    let mut meta =
        json!({"name": name, "namespace": ns, "labels": labels, "creationTimestamp": "2017-07-14T03:28:00Z"});
    if let Some((kind, oname)) = owner {
        meta["ownerReferences"] =
            json!([{"apiVersion": "v1", "kind": kind, "name": oname, "uid": "u", "controller": true}]);
    }
    json!({"kind": "Pod", "apiVersion": "v1", "metadata": meta,
        "spec": {"containers": [{"name": "main", "image": "example"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "main", "image": "example", "imageID": "", "ready": true, "restartCount": 0,
                "state": {"running": {"startedAt": "2017-07-14T03:28:10Z"}}}]}})
}

/// 039: the Service selects `name=nginx-ingress`, the pods are `app=nginx-ingress`, and the
/// Endpoints show `subsets: []`.
#[test]
fn pasted_039_service_selector_mismatch() {
    let Some((text, label)) = case("039-") else { return };
    // `kubectl get pod --selector=app=nginx-ingress` lists the pods and shows their label.
    let pod_label = text
        .lines()
        .find_map(|l| l.split("--selector=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.split_once('='))
        .expect("the paste shows the pods' label");
    let pods: Vec<&str> =
        text.lines().filter(|l| l.contains("Running")).filter_map(|l| l.split_whitespace().next()).collect();
    assert!(!pods.is_empty(), "the paste lists running pods");
    // `kubectl get endpoints NAME -n NS -o yaml` with `subsets: []`.
    let ep_line = text.lines().find(|l| l.contains("get endpoints")).expect("endpoints command");
    let words: Vec<&str> = ep_line.split_whitespace().collect();
    let svc = words[words.iter().position(|w| *w == "endpoints").expect("name") + 1];
    let ns = words[words.iter().position(|w| *w == "-n").expect("ns") + 1];
    assert!(text.contains("subsets: []"));
    // The Service's selector is in the thread, summarised by the label.
    let selector = label
        .split("selector is ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.split_once('='))
        .expect("label names the selector");

    let mut items: Vec<Value> = pods
        .iter()
        .map(|p| {
            running_pod(ns, p, json!({pod_label.0: pod_label.1}), Some(("ReplicationController", "nginx-ingress-rc")))
        })
        .collect();
    items.push(json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": svc, "namespace": ns},
        "spec": {"selector": {selector.0: selector.1}, "clusterIP": "10.0.0.12", "ports": [{"port": 80, "targetPort": 80}]}}));
    items.push(
        json!({"kind": "Endpoints", "apiVersion": "v1", "metadata": {"name": svc, "namespace": ns}, "subsets": []}),
    );
    let ev = evidence(items, vec![]);
    let out = run(&super::service_no_endpoints::ServiceNoEndpoints, &ev);
    assert_eq!(out.len(), 1, "{out:#?}");
    let f = &out[0];
    let want = format!("{}: {} where the selector wants {}: {}", pod_label.0, pod_label.1, selector.0, selector.1);
    assert!(f.root_cause.contains(&want), "{}", f.root_cause);
    let patch = format!("\"value\":{{\"{}\":\"{}\"}}", pod_label.0, pod_label.1);
    assert!(f.fix.iter().any(|x| x.command.as_deref().is_some_and(|c| c.contains(&patch))), "{:#?}", f.fix);
}

/// 040: ingress-nginx ignores an Ingress that has no class.
#[test]
fn pasted_040_ingress_without_class() {
    let Some((text, _)) = case("040-") else { return };
    let line = text.lines().find(|l| l.contains("Ignoring ingress")).expect("the controller's line");
    let m = super::signatures::INGRESS_LOG_MATCHER.first(line).expect("the line matches");
    let (ns, name) = (m.get("ns").to_string(), m.get("name").to_string());
    let items = vec![json!({"kind": "Ingress", "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"rules": [{"host": "keycloak.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "keycloak", "port": {"number": 8080}}}}]}}]}})];
    let key = LogKey {
        namespace: "ingress-nginx".into(),
        pod: "ingress-nginx-controller-1".into(),
        container: "controller".into(),
        previous: false,
    };
    let ev = evidence(items, vec![(key, &text)]);
    let out = run(&super::ingress_class::IngressClassMissing, &ev);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert!(out[0].title.contains("has no ingress class"), "{}", out[0].title);
    assert!(out[0].evidence.iter().any(|e| e.text.contains("ingress does not contain a valid IngressClass")));
    assert!(
        out[0].fix.iter().any(|f| f.command.as_deref().is_some_and(|c| c.contains("\"ingressClassName\":"))),
        "{:#?}",
        out[0].fix
    );
}

/// 057: the app cannot resolve `postgres`, and there is no Service of that name.
#[test]
fn pasted_057_host_without_service() {
    let Some((text, _)) = case("057-") else { return };
    let ns = "airflow";
    let mut pod = running_pod(ns, "web-5d8f9c-abcde", json!({"app": "web"}), None);
    pod["status"]["phase"] = json!("Running");
    pod["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
    pod["status"]["containerStatuses"] = json!([{"name": "main", "image": "example", "imageID": "", "ready": false, "restartCount": 5,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container=main"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2017-07-14T03:30:00Z"}}}]);
    let items = vec![
        pod,
        json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "web", "namespace": ns},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 8080}]}}),
    ];
    let key = LogKey { namespace: ns.into(), pod: "web-5d8f9c-abcde".into(), container: "main".into(), previous: true };
    let ev = evidence(items, vec![(key, &text)]);
    let out = run(&super::dangling_reference::DanglingServiceReference, &ev);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert!(out[0].title.contains("Service airflow/postgres does not exist"), "{}", out[0].title);
    assert!(out[0].evidence.iter().any(|e| e.text.contains("could not translate host name \"postgres\"")));
}
