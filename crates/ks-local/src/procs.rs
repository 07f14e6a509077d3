//! `kubectl port-forward` processes: from `/proc` (command line, parent, listening sockets),
//! or from `ps` where there is no `/proc` (macOS).

use std::collections::HashMap;
use std::path::Path;

use ks_core::build::{LocalEnv, PortForward};

use crate::ProbeOptions;
use crate::run::{find_tool, run_tool};

/// Whether argv is a `kubectl port-forward` (also `oc port-forward`, `kubectl-port-forward`).
fn is_port_forward(args: &[String]) -> bool {
    let prog = args.first().map(|a| a.rsplit('/').next().unwrap_or(a)).unwrap_or_default();
    matches!(prog, "kubectl" | "oc" | "kubectl.exe") && args.iter().any(|a| a == "port-forward")
}

/// Local ports named on a port-forward command line (`8080:80`, `19099:9099`, `5432`).
pub fn port_forward_ports(args: &[String]) -> Vec<u16> {
    let Some(i) = args.iter().position(|a| a == "port-forward") else { return Vec::new() };
    let mut out = Vec::new();
    let mut skip_value = false;
    let mut resource_seen = false;
    for a in &args[i + 1..] {
        if skip_value {
            skip_value = false;
            continue;
        }
        if a.starts_with('-') {
            // Flags that take a separate value.
            skip_value = !a.contains('=')
                && matches!(
                    a.as_str(),
                    "-n" | "--namespace" | "--address" | "--pod-running-timeout" | "--context" | "--kubeconfig"
                );
            continue;
        }
        if !resource_seen {
            resource_seen = true;
            continue;
        }
        let local = a.split(':').next().unwrap_or_default();
        if let Ok(p) = local.parse::<u16>() {
            out.push(p);
        }
    }
    out
}

/// Listening TCP sockets of `/proc/net/tcp` text: inode -> local port.
pub fn parse_listen_ports(text: &str) -> HashMap<u64, u16> {
    let mut out = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
        if f.len() < 10 || f[3] != "0A" {
            continue;
        }
        let port = f[1].rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
        if let (Some(port), Ok(inode)) = (port, f[9].parse::<u64>()) {
            out.insert(inode, port);
        }
    }
    out
}

/// Socket inodes a process has open (`/proc/<pid>/fd/* -> socket:[inode]`).
fn socket_inodes(pid_dir: &Path) -> Vec<u64> {
    let Ok(rd) = std::fs::read_dir(pid_dir.join("fd")) else { return Vec::new() };
    rd.flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|t| {
            let t = t.to_string_lossy().into_owned();
            t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

/// The parent pid from `/proc/<pid>/stat` (the field after the state, behind `(comm)`).
fn ppid_from_stat(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) fn probe_port_forwards(opts: &ProbeOptions, env: &mut LocalEnv) {
    let root = &opts.proc_root;
    if crate::has_proc(root) {
        let mut listen = HashMap::new();
        for f in ["net/tcp", "net/tcp6"] {
            if let Ok(t) = std::fs::read_to_string(root.join(f)) {
                listen.extend(parse_listen_ports(&t));
            }
        }
        let Ok(rd) = std::fs::read_dir(root) else { return };
        let mut found = Vec::new();
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            let dir = e.path();
            let Ok(cmdline) = std::fs::read(dir.join("cmdline")) else { continue };
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            if !is_port_forward(&args) {
                continue;
            }
            let ppid = std::fs::read_to_string(dir.join("stat")).ok().as_deref().and_then(ppid_from_stat);
            let mut ports: Vec<u16> = socket_inodes(&dir).iter().filter_map(|i| listen.get(i).copied()).collect();
            if ports.is_empty() {
                ports = port_forward_ports(&args);
            }
            ports.sort_unstable();
            ports.dedup();
            found.push(PortForward { pid, ppid, command: args.join(" "), ports });
        }
        found.sort_by_key(|p| p.pid);
        env.port_forwards = found;
        return;
    }
    if find_tool("ps").is_none() {
        env.notes.push("no /proc and no ps: port-forward check skipped".to_string());
        return;
    }
    match run_tool("ps", &["-axo", "pid=,ppid=,args="], opts.timeout) {
        Some(o) if o.success => {
            for line in o.stdout.lines() {
                let mut it = line.split_whitespace();
                let (Some(pid), Some(ppid)) = (it.next().and_then(|p| p.parse().ok()), it.next()) else { continue };
                let args: Vec<String> = it.map(String::from).collect();
                if is_port_forward(&args) {
                    env.port_forwards.push(PortForward {
                        pid,
                        ppid: ppid.parse().ok(),
                        command: args.join(" "),
                        ports: port_forward_ports(&args),
                    });
                }
            }
        }
        _ => env.notes.push("ps failed: port-forward check skipped".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn ports_from_command_lines() {
        assert_eq!(
            port_forward_ports(&words("kubectl port-forward -n angzarr svc/gateway 19099:9099 8080")),
            vec![19099, 8080]
        );
        assert_eq!(
            port_forward_ports(&words("kubectl port-forward --address 127.0.0.1 -n ns svc/x :80 5432:5432")),
            vec![5432]
        );
        assert!(is_port_forward(&words("/usr/local/bin/kubectl port-forward pod/x 1:2")));
        assert!(!is_port_forward(&words("vim port-forward.md")));
    }

    #[test]
    fn proc_net_tcp_and_stat() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:4A9B 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 434343 1\n";
        let m = parse_listen_ports(tcp);
        assert_eq!(m.get(&424242), Some(&19099));
        assert!(!m.contains_key(&434343));
        assert_eq!(ppid_from_stat("4242 (kubectl) S 1 4242 4200 0 -1"), Some(1));
        assert_eq!(ppid_from_stat("4242 (a) b) S 77 1"), Some(77));
    }
}
