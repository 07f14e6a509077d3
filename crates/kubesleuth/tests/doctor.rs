//! `kubesleuth doctor --local` with fake `docker`/`podman`/`kubectl`/`kind` executables first
//! (and alone) on `PATH`, printing recorded outputs from `fixtures/doctor/`, and a fake
//! `/proc` tree; and with no tool at all.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn recorded(name: &str) -> String {
    let p = repo().join("fixtures/doctor").join(name);
    assert!(p.is_file(), "missing recorded output {}", p.display());
    p.canonicalize().expect("path").display().to_string()
}

/// What a fake tool answers to one exact argument list.
enum Reply {
    /// stdout from a recorded file, exit 0.
    File(&'static str),
    /// stdout text, exit 0.
    Out(&'static str),
    /// stdout from a recorded file, then stderr text and an exit code.
    FileErr(&'static str, &'static str, i32),
    /// stderr text and an exit code.
    Err(&'static str, i32),
}

fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

struct Machine {
    bin: tempfile::TempDir,
    proc_root: tempfile::TempDir,
}

impl Machine {
    fn new() -> Machine {
        Machine { bin: tempfile::tempdir().expect("tempdir"), proc_root: tempfile::tempdir().expect("tempdir") }
    }

    /// Install a fake tool answering exactly these argument lists; anything else exits 99.
    fn tool(&self, name: &str, replies: &[(&str, Reply)]) {
        let mut s = String::from("#!/bin/sh\ncase \"$*\" in\n");
        for (args, reply) in replies {
            let body = match reply {
                Reply::File(f) => format!("/bin/cat {}; exit 0", sq(&recorded(f))),
                Reply::Out(t) => format!("printf '%s\\n' {}; exit 0", sq(t)),
                Reply::FileErr(f, e, c) => {
                    format!("/bin/cat {}; printf '%s\\n' {} >&2; exit {c}", sq(&recorded(f)), sq(e))
                }
                Reply::Err(e, c) => format!("printf '%s\\n' {} >&2; exit {c}", sq(e)),
            };
            s.push_str(&format!("  {}) {body};;\n", sq(args)));
        }
        s.push_str(&format!("  *) printf '%s\\n' \"fake {name}: unexpected: $*\" >&2; exit 99;;\nesac\n"));
        let path = self.bin.path().join(name);
        std::fs::write(&path, s).expect("write fake tool");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }

    /// A fake `/proc` with `net/tcp` (one listening socket per entry) and these processes.
    fn procs(&self, procs: &[(u32, u32, &[&str], Option<u64>)], listen: &[(u64, u16)]) {
        let root = self.proc_root.path();
        std::fs::create_dir_all(root.join("net")).expect("mkdir");
        let mut tcp = String::from(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
        );
        for (i, (inode, port)) in listen.iter().enumerate() {
            tcp.push_str(&format!(
                "   {i}: 0100007F:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 {inode} 1 0000000000000000 100 0 0 10 0\n"
            ));
        }
        std::fs::write(root.join("net/tcp"), tcp).expect("write tcp");
        for (pid, ppid, argv, socket) in procs {
            let dir = root.join(pid.to_string());
            std::fs::create_dir_all(dir.join("fd")).expect("mkdir");
            let mut cmdline = argv.join("\0");
            cmdline.push('\0');
            std::fs::write(dir.join("cmdline"), cmdline).expect("cmdline");
            std::fs::write(dir.join("stat"), format!("{pid} (kubectl) S {ppid} {pid} {pid} 0 -1 4194560"))
                .expect("stat");
            #[cfg(unix)]
            if let Some(inode) = socket {
                std::os::unix::fs::symlink(format!("socket:[{inode}]"), dir.join("fd/3")).expect("symlink");
            }
        }
    }

    fn run(&self, extra: &[&str]) -> (i32, String) {
        let out = Command::cargo_bin("kubesleuth")
            .expect("binary")
            .env_clear()
            .env("PATH", self.bin.path())
            .args(["doctor", "--local", "--color", "never", "--proc-root"])
            .arg(self.proc_root.path())
            .args(extra)
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty() || out.status.code() == Some(2), "stderr: {stderr}");
        (out.status.code().unwrap_or(-1), stdout)
    }
}

/// The text report without the run time.
fn stable(text: &str) -> String {
    text.lines()
        .map(|l| match (l.rfind(" ("), l.strip_suffix(" ms)")) {
            (Some(i), Some(head)) if head[i + 2..].bytes().all(|b| b.is_ascii_digit()) => format!("{} (N ms)", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn kubectl_ok(m: &Machine, ctx: &'static str) {
    m.tool(
        "kubectl",
        &[
            ("config current-context", Reply::Out(ctx)),
            ("version --request-timeout=3s", Reply::File("kubectl-version-ok.txt")),
        ],
    );
}

#[test]
fn seed_000_registry_exited_and_off_the_kind_network() {
    let m = Machine::new();
    kubectl_ok(&m, "kind-angzarr");
    m.tool(
        "docker",
        &[
            ("info --format {{.ServerVersion}}", Reply::Out("27.3.1")),
            ("inspect --type container kind-registry", Reply::File("inspect-kind-registry-exited.json")),
            ("network ls --format {{.Name}}", Reply::File("network-ls.txt")),
            (
                "exec angzarr-control-plane cat /etc/containerd/certs.d/localhost:5001/hosts.toml",
                Reply::File("hosts-toml-kind-registry.toml"),
            ),
        ],
    );
    m.tool(
        "kind",
        &[("get clusters", Reply::Out("angzarr")), ("get nodes --name angzarr", Reply::Out("angzarr-control-plane"))],
    );
    m.procs(&[], &[]);
    let (code, out) = m.run(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[KS1510]") && out.contains("docker start kind-registry"), "{out}");
    assert!(out.contains("error[KS1511]") && out.contains("docker network connect kind kind-registry"), "{out}");
    assert!(!out.contains("KS1512"), "hosts.toml is in place: {out}");
    insta::assert_snapshot!("doctor_seed_000", stable(&out));

    let (_, json) = m.run(&["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let causes: Vec<&str> =
        v["findings"].as_array().expect("findings").iter().filter_map(|f| f["cause"].as_str()).collect();
    assert_eq!(causes, vec!["dev.local_registry", "dev.local_registry"]);
}

#[test]
fn healthy_machine_has_no_findings() {
    let m = Machine::new();
    kubectl_ok(&m, "kind-dev");
    m.tool(
        "docker",
        &[
            ("info --format {{.ServerVersion}}", Reply::Out("27.3.1")),
            ("inspect --type container kind-registry", Reply::File("inspect-kind-registry-running.json")),
            ("network ls --format {{.Name}}", Reply::File("network-ls.txt")),
            (
                "exec dev-control-plane cat /etc/containerd/certs.d/localhost:5001/hosts.toml",
                Reply::File("hosts-toml-kind-registry.toml"),
            ),
            (
                "exec dev-worker cat /etc/containerd/certs.d/localhost:5001/hosts.toml",
                Reply::File("hosts-toml-kind-registry.toml"),
            ),
        ],
    );
    m.tool("podman", &[("info --format {{.Version.Version}}", Reply::Err("Error: unable to connect to Podman socket: Get \"http://d/v5.2.2/libpod/_ping\": dial unix /run/user/1000/podman/podman.sock: connect: no such file or directory", 125))]);
    m.tool(
        "kind",
        &[("get clusters", Reply::Out("dev")), ("get nodes --name dev", Reply::Out("dev-control-plane\ndev-worker"))],
    );
    // A port-forward whose terminal is still open (parent is a shell) is not reported.
    m.procs(&[(5151, 4000, &["kubectl", "port-forward", "svc/web", "8080:80"], Some(515151))], &[(515151, 8080)]);
    let (code, out) = m.run(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No problems found."), "{out}");
    assert!(!out.contains("KS15"), "{out}");
}

#[test]
fn mirror_missing_context_down_and_orphaned_port_forward() {
    let m = Machine::new();
    m.tool("kubectl", &[
        ("config current-context", Reply::Out("kind-angzarr")),
        (
            "version --request-timeout=3s",
            Reply::FileErr(
                "kubectl-version-client-only.txt",
                "The connection to the server 127.0.0.1:40123 was refused - did you specify the right host or port?",
                1,
            ),
        ),
    ]);
    m.tool(
        "docker",
        &[
            ("info --format {{.ServerVersion}}", Reply::Out("27.3.1")),
            ("inspect --type container kind-registry", Reply::File("inspect-kind-registry-running.json")),
            ("network ls --format {{.Name}}", Reply::File("network-ls.txt")),
            (
                "exec angzarr-control-plane cat /etc/containerd/certs.d/localhost:5001/hosts.toml",
                Reply::Err("cat: /etc/containerd/certs.d/localhost:5001/hosts.toml: No such file or directory", 1),
            ),
            ("exec angzarr-control-plane cat /etc/containerd/config.toml", Reply::File("containerd-config-kind.toml")),
        ],
    );
    // No kind CLI: the cluster comes from the context name.
    m.procs(
        &[
            (
                4242,
                1,
                &["kubectl", "port-forward", "--address", "127.0.0.1", "-n", "angzarr", "svc/gateway", "19099:9099"],
                Some(424242),
            ),
            (4300, 4299, &["kubectl", "port-forward", "-n", "angzarr", "svc/grafana", "3000:3000"], Some(430000)),
            (4400, 1, &["/usr/bin/vim", "port-forward.md"], None),
        ],
        &[(424242, 19099), (430000, 3000)],
    );
    let (code, out) = m.run(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[KS1513]") && out.contains("127.0.0.1:40123 was refused"), "{out}");
    assert!(out.contains("warning[KS1512]") && out.contains("has no registry config sending"), "{out}");
    assert!(out.contains("warning[KS1515]") && out.contains("kill 4242"), "{out}");
    assert!(!out.contains("kill 4300") && !out.contains("4400"), "{out}");
    assert!(out.contains("kind not found on PATH: assuming cluster angzarr"), "{out}");
    insta::assert_snapshot!("doctor_mirror_context_port_forward", stable(&out));
}

#[test]
fn engine_down() {
    let m = Machine::new();
    m.tool(
        "docker",
        &[(
            "info --format {{.ServerVersion}}",
            Reply::Err(
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
                1,
            ),
        )],
    );
    m.procs(&[], &[]);
    let (code, out) = m.run(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[KS1514]") && out.contains("Cannot connect to the Docker daemon"), "{out}");
    assert!(out.contains("local registry check skipped"), "{out}");
    insta::assert_snapshot!("doctor_engine_down", stable(&out));
}

#[test]
fn no_tools_at_all_skips_every_check_and_exits_0() {
    let m = Machine::new();
    // An empty directory: neither /proc files nor ps.
    let (code, out) = m.run(&[]);
    assert_eq!(code, 0, "{out}");
    for note in [
        "kubectl not found on PATH",
        "docker not found on PATH",
        "podman not found on PATH",
        "kind not found on PATH",
        "no running docker/podman engine",
        "no /proc and no ps",
    ] {
        assert!(out.contains(note), "missing note {note:?}: {out}");
    }
    insta::assert_snapshot!("doctor_no_tools", stable(&out));
}

#[test]
fn doctor_without_local_is_a_usage_error() {
    Command::cargo_bin("kubesleuth").expect("binary").args(["doctor"]).assert().code(2);
}
