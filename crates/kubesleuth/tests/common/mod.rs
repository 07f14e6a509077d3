//! Shared by the CLI tests that scan a live cluster: a snapshot served over the Kubernetes
//! API on 127.0.0.1, and a kubeconfig pointing at it; and the seed tests' fix check.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ks_serve::ServeOptions;

/// A served snapshot; the server thread ends with the test process.
pub struct Cluster {
    _dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

pub fn serve(dir: &Path, opts: ServeOptions) -> Cluster {
    let snap = Arc::new(ks_serve::load_raw(&[dir.to_path_buf()]).expect("snapshot loads"));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || ks_serve::serve_blocking(listener, snap, opts));
    let tmp = tempfile::tempdir().expect("tempdir");
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: snap\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             contexts:\n- name: snap-ctx\n  context:\n    cluster: snap\n    user: nobody\n\
             current-context: snap-ctx\nusers:\n- name: nobody\n  user: {{}}\n"
        ),
    )
    .expect("kubeconfig");
    Cluster { _dir: tmp, kubeconfig }
}

/// A finding's fixes as one text (`description command` per line), for the seeds'
/// `fix_mentions`: each mention missing from it is pushed to `failures`, labelled `what`.
pub fn check_fix_mentions(hit: &serde_json::Value, want: &serde_json::Value, what: &str, failures: &mut Vec<String>) {
    let fix_text: String = hit["fix"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!("{} {}", f["description"].as_str().unwrap_or_default(), f["command"].as_str().unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join("\n");
    for m in want["fix_mentions"].as_array().into_iter().flatten() {
        let m = m.as_str().unwrap_or_default();
        if !fix_text.contains(m) {
            failures.push(format!("{what}: fix does not mention {m:?}:\n{fix_text}"));
        }
    }
}
