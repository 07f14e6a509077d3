use std::process::ExitCode;

use ks_core::Summary;

use crate::cli::ScanArgs;
use crate::output::write_report;

pub fn run(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let d = if args.registries {
        super::diagnose_with(&args.source, |ev| {
            super::images::ask_registries(ev, &args.registry, super::images::live_of(&args.source))
        })?
    } else {
        super::diagnose(&args.source)?
    };
    let summary = Summary::count(&d.findings, d.evidence.object_count(), d.started.elapsed().as_millis() as u64);
    let code = write_report(&args.output, &d.findings, &d.evidence.gaps, summary);
    // The process ends right after: freeing a large snapshot object by object only costs time.
    std::mem::forget(d);
    code
}
