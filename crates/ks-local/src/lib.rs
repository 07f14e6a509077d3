//! `kubesleuth doctor --local`: read-only probes of the developer's machine, turned into
//! [`LocalEnv`] facts for the KS151x rules.
//!
//! Every check is independent: a tool that is not on `PATH` skips its checks with a note,
//! a command that fails or hangs (each runs with a timeout) is a fact or a note, never an
//! error. Nothing here changes anything: only `config current-context`, `version`, `info`,
//! `inspect`, `network ls`, `get clusters/nodes`, `exec <node> cat <file>` and `/proc` reads.

mod procs;
mod run;

use std::path::{Path, PathBuf};
use std::time::Duration;

use ks_core::build::{EngineStatus, KindCluster, KindNode, KubeContext, LocalEnv, RegistryContainer};
use serde_json::Value;

pub use procs::{parse_listen_ports, port_forward_ports};
pub use run::{Output, find_tool, run_tool};

/// What to probe and how.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// Where `/proc` is (tests point it at a fake tree).
    pub proc_root: PathBuf,
    /// Longest any one command may take.
    pub timeout: Duration,
    /// The local registry container's name.
    pub registry_name: String,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            proc_root: PathBuf::from("/proc"),
            timeout: Duration::from_secs(8),
            registry_name: "kind-registry".to_string(),
        }
    }
}

/// Probe the machine.
pub fn probe(opts: &ProbeOptions) -> LocalEnv {
    let mut env = LocalEnv::default();
    probe_kube(opts, &mut env);
    probe_engines(opts, &mut env);
    probe_kind(opts, &mut env);
    probe_registry(opts, &mut env);
    probe_nodes(opts, &mut env);
    procs::probe_port_forwards(opts, &mut env);
    env
}

/// The last non-empty line of a tool's error output, for quoting.
fn error_line(out: &Output) -> String {
    let text = if out.stderr.trim().is_empty() { &out.stdout } else { &out.stderr };
    text.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("failed without a message").to_string()
}

fn probe_kube(opts: &ProbeOptions, env: &mut LocalEnv) {
    if find_tool("kubectl").is_none() {
        env.notes.push("kubectl not found on PATH: kube context check skipped".to_string());
        return;
    }
    let cur = match run_tool("kubectl", &["config", "current-context"], opts.timeout) {
        Some(o) if o.success => o.stdout.trim().to_string(),
        Some(o) => {
            env.notes.push(format!("kubectl has no current context ({}): kube context check skipped", error_line(&o)));
            return;
        }
        None => {
            env.notes.push("kubectl config current-context did not finish: kube context check skipped".to_string());
            return;
        }
    };
    let mut ctx = KubeContext { name: cur, ..KubeContext::default() };
    match run_tool("kubectl", &["version", "--request-timeout=3s"], opts.timeout) {
        Some(o) if o.success && o.stdout.contains("Server Version") => ctx.reachable = Some(true),
        Some(o) => {
            ctx.reachable = Some(false);
            ctx.error = Some(error_line(&o));
        }
        None => {
            ctx.reachable = Some(false);
            ctx.error = Some(format!("kubectl version did not answer within {}s", opts.timeout.as_secs()));
        }
    }
    env.kube = Some(ctx);
}

fn probe_engines(opts: &ProbeOptions, env: &mut LocalEnv) {
    for (tool, format) in [("docker", "{{.ServerVersion}}"), ("podman", "{{.Version.Version}}")] {
        if find_tool(tool).is_none() {
            env.notes.push(format!("{tool} not found on PATH: its engine check skipped"));
            continue;
        }
        let status = match run_tool(tool, &["info", "--format", format], opts.timeout) {
            Some(o) if o.success => EngineStatus {
                tool: tool.to_string(),
                running: true,
                error: None,
                version: Some(o.stdout.trim().to_string()).filter(|v| !v.is_empty()),
            },
            Some(o) => {
                EngineStatus { tool: tool.to_string(), running: false, error: Some(error_line(&o)), version: None }
            }
            None => EngineStatus {
                tool: tool.to_string(),
                running: false,
                error: Some(format!("`{tool} info` did not answer within {}s", opts.timeout.as_secs())),
                version: None,
            },
        };
        env.engines.push(status);
    }
}

/// The engine to ask about containers: the first that answers (docker before podman).
fn engine(env: &LocalEnv) -> Option<&str> {
    env.engines.iter().find(|e| e.running).map(|e| e.tool.as_str())
}

fn probe_kind(opts: &ProbeOptions, env: &mut LocalEnv) {
    let mut names: Vec<String> = Vec::new();
    if find_tool("kind").is_some() {
        match run_tool("kind", &["get", "clusters"], opts.timeout) {
            Some(o) if o.success => {
                names.extend(o.stdout.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from))
            }
            Some(o) => env.notes.push(format!("kind get clusters failed: {}", error_line(&o))),
            None => env.notes.push("kind get clusters did not finish".to_string()),
        }
    } else if let Some(c) = env.kube.as_ref().and_then(|k| k.name.strip_prefix("kind-")) {
        // Without the kind CLI, the context name still says which cluster it is.
        env.notes.push(format!("kind not found on PATH: assuming cluster {c} from the kube context"));
        names.push(c.to_string());
    } else {
        env.notes.push("kind not found on PATH and the context is not kind-*: kind checks skipped".to_string());
    }
    for name in names {
        let nodes = if find_tool("kind").is_some() {
            match run_tool("kind", &["get", "nodes", "--name", &name], opts.timeout) {
                Some(o) if o.success => {
                    o.stdout.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
                }
                _ => vec![format!("{name}-control-plane")],
            }
        } else {
            vec![format!("{name}-control-plane")]
        };
        env.kind_clusters.push(KindCluster {
            name,
            nodes: nodes.into_iter().map(|n| KindNode { name: n, ..KindNode::default() }).collect(),
        });
    }
}

/// Read `docker inspect` / `podman inspect` output for one container.
pub fn parse_inspect(tool: &str, json: &str) -> Option<RegistryContainer> {
    let v: Value = serde_json::from_str(json).ok()?;
    let c = v.as_array()?.first()?;
    let name = c.get("Name").and_then(Value::as_str).unwrap_or_default().trim_start_matches('/').to_string();
    let state = c.get("State")?;
    let status = state.get("Status").and_then(Value::as_str).unwrap_or("unknown").to_string();
    let running = state.get("Running").and_then(Value::as_bool).unwrap_or(status == "running");
    let exit_code = state.get("ExitCode").and_then(Value::as_i64);
    let mut networks: Vec<String> = c
        .pointer("/NetworkSettings/Networks")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    networks.sort();
    // The published port of the registry (container port 5000 for registry:2), from the
    // container's configuration so it is known even while it is stopped.
    let bindings = c.pointer("/HostConfig/PortBindings").and_then(Value::as_object);
    let (container_port, host_port) = bindings
        .and_then(|m| {
            let (key, list) = m.iter().find(|(k, _)| k.starts_with("5000/")).or_else(|| m.iter().next())?;
            let first = list.as_array()?.first()?;
            let ip = first.get("HostIp").and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or("0.0.0.0");
            let port = first.get("HostPort").and_then(Value::as_str)?;
            Some((key.split('/').next().map(String::from), Some(format!("{ip}:{port}"))))
        })
        .unwrap_or((None, None));
    Some(RegistryContainer {
        name,
        tool: tool.to_string(),
        status,
        running,
        exit_code,
        networks,
        host_port,
        container_port,
    })
}

fn probe_registry(opts: &ProbeOptions, env: &mut LocalEnv) {
    let Some(tool) = engine(env).map(str::to_string) else {
        env.notes.push("no running docker/podman engine: local registry check skipped".to_string());
        return;
    };
    match run_tool(&tool, &["inspect", "--type", "container", &opts.registry_name], opts.timeout) {
        Some(o) if o.success => match parse_inspect(&tool, &o.stdout) {
            Some(r) => env.registry = Some(r),
            None => env.notes.push(format!("{tool} inspect {}: output not understood", opts.registry_name)),
        },
        Some(o) => env.notes.push(format!(
            "no container named {} ({}): local registry checks skipped",
            opts.registry_name,
            error_line(&o)
        )),
        None => env.notes.push(format!("{tool} inspect {} did not finish", opts.registry_name)),
    }
    match run_tool(&tool, &["network", "ls", "--format", "{{.Name}}"], opts.timeout) {
        Some(o) if o.success => env.kind_network = Some(o.stdout.lines().any(|l| l.trim() == "kind")),
        Some(o) => env.notes.push(format!("{tool} network ls failed: {}", error_line(&o))),
        None => env.notes.push(format!("{tool} network ls did not finish")),
    }
}

fn probe_nodes(opts: &ProbeOptions, env: &mut LocalEnv) {
    let Some(tool) = engine(env).map(str::to_string) else { return };
    let Some(port) = env
        .registry
        .as_ref()
        .map(|r| r.host_port.as_deref().and_then(|p| p.rsplit(':').next()).unwrap_or("5001").to_string())
    else {
        return;
    };
    let hosts = format!("/etc/containerd/certs.d/localhost:{port}/hosts.toml");
    for cluster in &mut env.kind_clusters {
        for node in &mut cluster.nodes {
            match run_tool(&tool, &["exec", &node.name, "cat", &hosts], opts.timeout) {
                Some(o) if o.success => node.hosts_toml = Some(o.stdout.clone()),
                Some(o) if o.stderr.contains("No such file") || o.stdout.contains("No such file") => {
                    // The older way: a mirror in containerd's own config.
                    node.config_mirror = match run_tool(
                        &tool,
                        &["exec", &node.name, "cat", "/etc/containerd/config.toml"],
                        opts.timeout,
                    ) {
                        Some(c) if c.success => Some(c.stdout.contains(&format!("mirrors.\"localhost:{port}\""))),
                        _ => None,
                    };
                }
                Some(o) => node.error = Some(error_line(&o)),
                None => node.error = Some(format!("{tool} exec {} did not finish", node.name)),
            }
        }
    }
}

/// A fake `/proc` root or the real one exists.
pub(crate) fn has_proc(root: &Path) -> bool {
    root.join("self").exists() || root.join("net").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_docker_and_podman_inspect() {
        let docker = r#"[{"Name":"/kind-registry","State":{"Status":"exited","Running":false,"ExitCode":0},
            "HostConfig":{"PortBindings":{"5000/tcp":[{"HostIp":"127.0.0.1","HostPort":"5001"}]}},
            "NetworkSettings":{"Networks":{"bridge":{}}}}]"#;
        let r = parse_inspect("docker", docker).unwrap();
        assert_eq!(r.name, "kind-registry");
        assert_eq!((r.status.as_str(), r.running, r.exit_code), ("exited", false, Some(0)));
        assert_eq!(r.networks, vec!["bridge"]);
        assert_eq!(r.host_port.as_deref(), Some("127.0.0.1:5001"));
        assert_eq!(r.container_port.as_deref(), Some("5000"));
        let podman = r#"[{"Name":"kind-registry","State":{"Status":"running","Running":true},
            "HostConfig":{"PortBindings":{"5000/tcp":[{"HostIp":"","HostPort":"5001"}]}},
            "NetworkSettings":{"Networks":{"kind":{},"podman":{}}}}]"#;
        let r = parse_inspect("podman", podman).unwrap();
        assert!(r.running);
        assert_eq!(r.networks, vec!["kind", "podman"]);
        assert_eq!(r.host_port.as_deref(), Some("0.0.0.0:5001"));
        assert!(parse_inspect("docker", "[]").is_none());
        assert!(parse_inspect("docker", "not json").is_none());
    }
}
