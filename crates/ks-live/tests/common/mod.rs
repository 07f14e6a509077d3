//! Shared by the end-to-end tests: serve a snapshot with `ks_serve` on 127.0.0.1:0 and point
//! the live collector at it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ks_core::{Evidence, Finding};
use ks_live::{Api, Collection, LiveOptions};
use ks_serve::{Faults, ServeOptions};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every example snapshot: the bundled one and the seed scenarios.
pub fn example_snapshots() -> Vec<PathBuf> {
    let mut out = vec![repo().join("examples/broken-cluster")];
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures/seeds"))
        .expect("fixtures/seeds")
        .map(|e| e.expect("entry").path().join("snapshot"))
        .filter(|p| p.is_dir())
        .collect();
    seeds.sort();
    out.extend(seeds);
    out
}

pub struct Served {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
}

impl Served {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Serve `dir` in this runtime with `faults`.
pub async fn serve(dir: &Path, faults: Faults) -> Served {
    let snap = ks_serve::load_raw(&[dir.to_path_buf()]).expect("snapshot loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(AtomicU64::new(0));
    let opts = ServeOptions { faults, request_log: Some(requests.clone()), ..ServeOptions::default() };
    tokio::spawn(ks_serve::serve(listener, Arc::new(snap), opts));
    Served { addr, requests }
}

/// A collector client for a plain-HTTP server, retries quick.
pub fn api(served: &Served) -> Api {
    let mut config = kube::Config::new(served.url().parse().expect("url"));
    config.default_retry = false;
    let client = kube::Client::try_from(config).expect("client");
    Api::new(client).with_backoff(Duration::from_millis(10))
}

pub async fn collect(served: &Served, opts: &LiveOptions) -> Collection {
    ks_live::collect(&api(served), "default", opts).await
}

pub fn findings(ev: &Evidence) -> Vec<Finding> {
    ks_correlate::correlate(ev, ks_rules::run(ev))
}

pub fn findings_json(ev: &Evidence) -> serde_json::Value {
    serde_json::to_value(findings(ev)).expect("findings serialise")
}

pub fn snapshot_evidence(dir: &Path) -> Evidence {
    ks_sources::load_paths(&[dir.to_path_buf()], &Default::default()).expect("snapshot loads")
}

/// `(rule, object)` of each finding, for readable assertion messages.
pub fn summary(f: &serde_json::Value) -> Vec<String> {
    f.as_array()
        .into_iter()
        .flatten()
        .map(|f| format!("{} {} {}/{}", f["rule"], f["object"]["kind"], f["object"]["namespace"], f["object"]["name"]))
        .collect()
}

/// The first difference between two JSON values, as `path: left != right`.
pub fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}/{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}/{i}")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} != {b}")),
    }
}
