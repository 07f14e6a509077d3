//! `kubesleuth explain`: the same diagnosis from text people paste.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use ks_core::{Evidence, Summary};
use ks_sources::pasted::{PasteOptions, load_pasted};

use crate::cli::ExplainArgs;
use crate::output::write_report;

pub fn run(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let opts = PasteOptions::default();
    let mut ev = Evidence::default();
    let stdin_wanted = args.inputs.is_empty() || args.inputs.iter().any(|p| p.as_os_str() == "-");
    if args.inputs.is_empty() && std::io::stdin().is_terminal() {
        bail!(
            "paste `kubectl describe`/`get events`/log output on stdin (e.g. `kubectl describe pod web | kubesleuth explain`) or pass files"
        );
    }
    for path in args.inputs.iter().filter(|p| p.as_os_str() != "-") {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        load_pasted(&path.display().to_string(), &bytes, &opts, &mut ev);
    }
    if stdin_wanted {
        let mut bytes = Vec::new();
        std::io::stdin().lock().take(opts.max_bytes as u64 + 1).read_to_end(&mut bytes).context("cannot read stdin")?;
        load_pasted("<stdin>", &bytes, &opts, &mut ev);
    }
    ev.finish();
    if ev.object_count() == 0 && ev.events.is_empty() && ev.logs.is_empty() {
        let detail = ev.gaps.first().map(|g| g.to_string()).unwrap_or_else(|| "the input is empty".to_string());
        bail!("nothing to explain: {detail}");
    }
    let findings = ks_correlate::correlate(&ev, ks_rules::run(&ev));
    let summary = Summary::count(&findings, ev.object_count(), started.elapsed().as_millis() as u64);
    write_report(&args.output, &findings, &ev.gaps, summary)
}
