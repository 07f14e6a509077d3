//! A real registry for tests (feature `test-support`): Debian's `docker-registry`
//! (distribution v2) started on a loopback address with a temporary storage directory, and
//! helpers that push small images (config blob, layer blob, manifest, multi-platform index)
//! over the HTTP API, as a `docker push` would.
//!
//! Everything panics on failure: this is test code.

use std::io::Read as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// `sha256:<hex>` of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The registry binary: `$KS_TEST_REGISTRY_BIN`, Debian's `/usr/bin/docker-registry`, or
/// `registry` / `docker-registry` on the PATH.
pub fn registry_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KS_TEST_REGISTRY_BIN") {
        return Some(PathBuf::from(p));
    }
    let fixed = PathBuf::from("/usr/bin/docker-registry");
    if fixed.is_file() {
        return Some(fixed);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|d| [d.join("docker-registry"), d.join("registry")]).find(|p| p.is_file())
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// An image as pushed.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub manifest: Vec<u8>,
    pub digest: String,
    pub config_digest: String,
}

/// A running `docker-registry serve`, killed on drop.
pub struct TestRegistry {
    child: Child,
    /// `127.0.0.1:<port>`: the host part of image references.
    pub host: String,
    log: PathBuf,
    auth: Option<(String, String)>,
    /// `http`, or `https` for a registry serving a self-signed certificate.
    scheme: &'static str,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl TestRegistry {
    /// A registry without auth on 127.0.0.1, or `None` (with a message) when the binary is
    /// absent.
    pub fn start(dir: &Path) -> Option<TestRegistry> {
        Self::start_at(dir, "127.0.0.1", None)
    }

    /// A registry with htpasswd basic auth (needs `htpasswd` from apache2-utils).
    pub fn start_with_auth(dir: &Path, user: &str, password: &str) -> Option<TestRegistry> {
        Self::start_at(dir, "127.0.0.1", Some((user, password)))
    }

    /// A registry on another loopback address (`127.0.0.2`): one kubesleuth does not treat as
    /// plain HTTP by default.
    pub fn start_at(dir: &Path, ip: &str, auth: Option<(&str, &str)>) -> Option<TestRegistry> {
        Self::start_with(dir, ip, auth, false)
    }

    /// A registry on `ip` serving HTTPS with a self-signed certificate made by `openssl`
    /// (what an `--insecure-registry` often is), or `None` with a message without openssl.
    pub fn start_self_signed(dir: &Path, ip: &str) -> Option<TestRegistry> {
        Self::start_with(dir, ip, None, true)
    }

    fn start_with(dir: &Path, ip: &str, auth: Option<(&str, &str)>, tls: bool) -> Option<TestRegistry> {
        let Some(bin) = registry_binary() else {
            eprintln!(
                "skipping: docker-registry is not installed (apt-get install docker-registry, or set KS_TEST_REGISTRY_BIN)"
            );
            return None;
        };
        let port = TcpListener::bind((ip, 0)).and_then(|l| l.local_addr()).expect("free port").port();
        let host = format!("{ip}:{port}");
        std::fs::create_dir_all(dir.join("data")).expect("data dir");
        let mut auth_yaml = String::new();
        if let Some((user, password)) = auth {
            let Some(htpasswd) = on_path("htpasswd") else {
                eprintln!("skipping: htpasswd is not installed (apt-get install apache2-utils)");
                return None;
            };
            // distribution only accepts bcrypt entries.
            let out = Command::new(htpasswd).args(["-Bbn", user, password]).output().expect("htpasswd runs");
            assert!(out.status.success(), "htpasswd failed");
            std::fs::write(dir.join("htpasswd"), &out.stdout).expect("write htpasswd");
            auth_yaml = format!(
                "auth:\n  htpasswd:\n    realm: kubesleuth-test\n    path: {}\n",
                dir.join("htpasswd").display()
            );
        }
        let mut tls_yaml = String::new();
        if tls {
            let Some(openssl) = on_path("openssl") else {
                eprintln!("skipping: openssl is not installed (apt-get install openssl)");
                return None;
            };
            let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
            let ok = Command::new(openssl)
                .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj"])
                .arg(format!("/CN={ip}"))
                .arg("-addext")
                .arg(format!("subjectAltName=IP:{ip}"))
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&cert)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "openssl could not make a certificate");
            tls_yaml = format!("  tls:\n    certificate: {}\n    key: {}\n", cert.display(), key.display());
        }
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{tls_yaml}{auth_yaml}",
            dir.join("data").display()
        );
        std::fs::write(dir.join("config.yml"), config).expect("write config");
        let log = dir.join("registry.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(bin)
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .expect("docker-registry starts");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        crate::client::install_crypto_provider();
        let http = reqwest::Client::builder()
            .no_proxy()
            .tls_danger_accept_invalid_certs(tls)
            .user_agent("ks-test-pusher")
            .build()
            .expect("client");
        let scheme = if tls { "https" } else { "http" };
        let reg = TestRegistry { child, host, log, auth: auth.map(|(u, p)| (u.into(), p.into())), scheme, rt, http };
        reg.wait_ready();
        Some(reg)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let url = format!("{}://{}/v2/", self.scheme, self.host);
            if self.rt.block_on(self.http.get(&url).send()).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut log = String::new();
        let _ = std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut log));
        panic!("docker-registry did not start on {}:\n{log}", self.host);
    }

    fn req(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let url =
            if url.starts_with("http") { url.to_string() } else { format!("{}://{}{url}", self.scheme, self.host) };
        let r = self.http.request(method, url);
        match &self.auth {
            Some((u, p)) => r.basic_auth(u, Some(p)),
            None => r,
        }
    }

    /// Upload a blob (POST then PUT with the digest), returning its digest.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        self.rt.block_on(async {
            let r = self
                .req(reqwest::Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
                .send()
                .await
                .expect("upload starts");
            assert_eq!(r.status().as_u16(), 202, "blob upload start: {}", r.status());
            let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).expect("Location").to_string();
            let sep = if loc.contains('?') { '&' } else { '?' };
            let r = self
                .req(reqwest::Method::PUT, &format!("{loc}{sep}digest={digest}"))
                .header("content-type", "application/octet-stream")
                .body(bytes.to_vec())
                .send()
                .await
                .expect("upload ends");
            assert_eq!(r.status().as_u16(), 201, "blob upload: {}", r.status());
        });
        digest
    }

    /// PUT a manifest (or index) under a tag or digest, returning its digest.
    pub fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> String {
        self.rt.block_on(async {
            let r = self
                .req(reqwest::Method::PUT, &format!("/v2/{repo}/manifests/{reference}"))
                .header("content-type", media_type)
                .body(body.to_vec())
                .send()
                .await
                .expect("manifest put");
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            assert_eq!(status, 201, "manifest put {repo}:{reference}: {text}");
        });
        sha256(body)
    }

    /// A small single-platform image: a config blob (with `created`), one layer, a manifest.
    /// Pushed by digest; `tag` it with [`TestRegistry::tag`]. The same inputs always give the
    /// same digests.
    pub fn push_image(&self, repo: &str, label: &str, arch: &str, created: &str) -> Pushed {
        // JSON is written by hand so that the bytes, and so the digests, never depend on a
        // serializer's key order: snapshots of the output can name them.
        let layer = format!("layer of {label}").into_bytes();
        let layer_digest = self.push_blob(repo, &layer);
        let config = format!(
            r#"{{"architecture":"{arch}","os":"linux","created":"{created}","config":{{"Env":["BUILD={label}"]}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
            sha256(&layer)
        )
        .into_bytes();
        let config_digest = self.push_blob(repo, &config);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"{OCI_LAYER}","digest":"{layer_digest}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        )
        .into_bytes();
        let digest = self.put_manifest(repo, &sha256(&manifest), OCI_MANIFEST, &manifest);
        Pushed { manifest, digest, config_digest }
    }

    /// An index over platform images (`(image, os, arch)`), pushed by digest.
    pub fn push_index(&self, repo: &str, children: &[(&Pushed, &str, &str)]) -> Pushed {
        let manifests: Vec<String> = children
            .iter()
            .map(|(p, os, arch)| {
                format!(
                    r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":{},"platform":{{"os":"{os}","architecture":"{arch}"}}}}"#,
                    p.digest,
                    p.manifest.len()
                )
            })
            .collect();
        let index = format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#, manifests.join(","))
            .into_bytes();
        let digest = self.put_manifest(repo, &sha256(&index), OCI_INDEX, &index);
        Pushed { manifest: index, digest, config_digest: String::new() }
    }

    /// Point `tag` at a pushed image or index (moving it if it existed).
    pub fn tag(&self, repo: &str, tag: &str, image: &Pushed) {
        let media_type = if image.config_digest.is_empty() { OCI_INDEX } else { OCI_MANIFEST };
        self.put_manifest(repo, tag, media_type, &image.manifest);
    }

    /// Requests kubesleuth sent, counted in the registry's own access log (by user agent).
    pub fn kubesleuth_requests(&self) -> usize {
        self.access_log().lines().filter(|l| l.contains("\"kubesleuth/")).count()
    }

    /// The registry's log (access log lines included).
    pub fn access_log(&self) -> String {
        // The access log is written as requests finish; give the last line a moment.
        std::thread::sleep(Duration::from_millis(100));
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stop the registry now (to test an unreachable host).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}
