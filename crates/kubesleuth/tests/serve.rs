//! `kubesleuth serve` as a process: `--port 0` prints its URL on stdout, the hint on stderr,
//! and answers the Kubernetes API over the bundled snapshot.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/broken-cluster");

/// Ends the server when the test ends, passing or not.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serve_on_a_free_port_prints_the_url_and_answers() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubesleuth"))
        .args(["serve", EXAMPLE, "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _server = Server(child);
    let mut url = String::new();
    BufReader::new(stdout).read_line(&mut url).unwrap();
    let url = url.trim();
    let addr = url.strip_prefix("http://127.0.0.1:").map(|port| format!("127.0.0.1:{port}")).unwrap_or_else(|| {
        panic!("stdout's first line is not a loopback URL: {url:?}");
    });
    assert_ne!(addr, "127.0.0.1:0");

    // The hint is printed before the URL, so it is complete by now.
    let mut hint = String::new();
    let mut lines = BufReader::new(stderr).lines();
    while !hint.contains("Ctrl-C") {
        hint.push_str(&lines.next().unwrap().unwrap());
        hint.push('\n');
    }
    assert!(hint.contains(&format!("kubectl --server {url} get pods -A")), "{hint}");
    assert!(hint.contains("2026-11-20T09:59:59Z"), "{hint}");

    let version = http_get(&addr, "/version");
    assert!(version.starts_with("HTTP/1.1 200"), "{version}");
    assert!(version.contains("\"gitVersion\":\"v1.31.1\""), "{version}");
    let pod = http_get(&addr, "/api/v1/namespaces/shop/pods/api-gateway-56tnmvt67-rn97j");
    assert!(pod.contains("\"uid\":\"022c8b0d-f4f6-4285-bdb4-a619605874c8\""), "{pod}");
    let missing = http_get(&addr, "/api/v1/namespaces/shop/pods/nosuch");
    assert!(missing.starts_with("HTTP/1.1 404") && missing.contains("\"reason\":\"NotFound\""), "{missing}");
}

#[test]
fn serve_refuses_a_missing_snapshot() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubesleuth"))
        .args(["serve", "/nonexistent/dir", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dir: no such file or directory"));
}
