//! `kubesleuth serve`: the snapshot as a read-only Kubernetes API, so `kubectl` (or any API
//! client) can browse it as if it were the cluster. The URL goes to stdout (one line, for
//! scripts that start it with `--port 0`); everything else to stderr.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use ks_serve::{ServeOptions, load_raw, serve_blocking};

use crate::cli::ServeArgs;

/// Unreadable parts listed one by one before the rest is only counted.
const GAPS_SHOWN: usize = 5;

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let snap = load_raw(&args.paths).context("cannot load the snapshot")?;
    for g in snap.gaps().iter().take(GAPS_SHOWN) {
        eprintln!("kubesleuth: warning: skipped {g}");
    }
    if snap.gaps().len() > GAPS_SHOWN {
        eprintln!("kubesleuth: warning: {} more unreadable parts skipped", snap.gaps().len() - GAPS_SHOWN);
    }
    let addr = SocketAddr::new(args.address, args.port);
    let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr().context("cannot read the address listened on")?;
    if !args.address.is_loopback() {
        eprintln!(
            "kubesleuth: warning: listening on {local}, which is not a loopback address: anyone who can reach it \
             can read the snapshot (objects, logs, Secret key names) without authentication"
        );
    }
    // An unspecified address is reachable on loopback too; that is what to give kubectl.
    let reach = if args.address.is_unspecified() {
        let lo = if args.address.is_ipv4() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
        };
        SocketAddr::new(lo, local.port())
    } else {
        local
    };
    let url = format!("http://{reach}");
    let from = args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    eprintln!(
        "kubesleuth: serving {} objects and {} container logs from {from}, read-only, at {url}",
        snap.object_count(),
        snap.logs().len()
    );
    if let Some(now) = snap.now() {
        eprintln!("kubesleuth: ages are counted from the snapshot's own time, {now}, not from the clock");
    }
    eprintln!("kubesleuth: try   kubectl --server {url} get pods -A");
    eprintln!(
        "kubesleuth: (kubectl still sends your kubeconfig's credentials; add --kubeconfig /dev/null to send none)"
    );
    eprintln!("kubesleuth: Ctrl-C stops the server");
    let mut out = std::io::stdout().lock();
    writeln!(out, "{url}").and_then(|()| out.flush()).context("cannot write to stdout")?;
    drop(out);
    serve_blocking(listener, Arc::new(snap), ServeOptions::default()).context("the server stopped")?;
    Ok(ExitCode::SUCCESS)
}
