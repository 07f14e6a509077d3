//! `kubesleuth doctor --local`: the developer's machine, through the same rules and report.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use ks_core::{Evidence, Gap, RuleKind, Summary};
use ks_local::ProbeOptions;

use crate::cli::DoctorArgs;
use crate::output::write_report;

pub fn run(args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    if !args.local {
        bail!("doctor checks the local machine only for now: run `kubesleuth doctor --local`");
    }
    let started = Instant::now();
    let mut opts = ProbeOptions { registry_name: args.registry_name.clone(), ..ProbeOptions::default() };
    if let Some(p) = &args.proc_root {
        opts.proc_root = p.clone();
    }
    let local = ks_local::probe(&opts);
    // Skipped checks are reported like unreadable inputs: the rest was still checked.
    let gaps = local.notes.iter().map(|n| Gap { file: None, line: None, message: n.clone() }).collect();
    let mut ev = Evidence { gaps, ..Evidence::default() };
    ev.build.local = Some(local);
    ev.finish();
    let findings = ks_correlate::correlate(&ev, ks_rules::run_kind(&ev, RuleKind::Local));
    let summary = Summary::count(&findings, 0, started.elapsed().as_millis() as u64);
    write_report(&args.output, &findings, &ev.gaps, summary)
}
