//! The live path end to end: every example snapshot served over the Kubernetes API by
//! `ks_serve`, collected by the live collector, gives exactly the findings `scan --snapshot`
//! gives on the files.

mod common;

use common::*;
use ks_live::LiveOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_gives_the_same_findings_live_as_from_files() {
    let mut failures = Vec::new();
    for dir in example_snapshots() {
        let want = findings_json(&snapshot_evidence(&dir));
        let served = serve(&dir, Default::default()).await;
        let opts = LiveOptions { secret_keys: true, ..LiveOptions::default() };
        let c = collect(&served, &opts).await;
        assert!(c.report.denied.is_empty() && !c.report.timed_out, "{}: {:?}", dir.display(), c.report);
        let got = findings_json(&c.evidence);
        if got != want {
            failures.push(format!(
                "{}: {}\n  files: {:#?}\n  live:  {:#?}",
                dir.display(),
                first_difference(&want, &got, "").unwrap_or_default(),
                summary(&want),
                summary(&got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
