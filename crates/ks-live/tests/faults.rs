//! The failures a live cluster produces, injected by `ks_serve`: the scan goes on, says what
//! it missed, and still finds what the rest shows.

mod common;

use std::time::Duration;

use common::*;
use ks_live::LiveOptions;
use ks_serve::Faults;

fn example() -> std::path::PathBuf {
    repo().join("examples/broken-cluster")
}

fn rules_of(f: &serde_json::Value) -> Vec<String> {
    f.as_array().into_iter().flatten().map(|f| f["rule"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_kind_is_skipped_with_one_warning_and_a_gap() {
    let want = findings_json(&snapshot_evidence(&example()));
    let faults = Faults { forbidden: vec!["secrets".into(), "nodes".into()], ..Faults::default() };
    let served = serve(&example(), faults).await;
    let c = collect(&served, &LiveOptions::default()).await;
    let r = &c.report;
    let denied: Vec<(&str, Option<&str>)> =
        r.denied.iter().map(|d| (d.resource.as_str(), d.namespace.as_deref())).collect();
    assert!(denied.contains(&("nodes", None)) && denied.contains(&("secrets", None)), "{denied:?}");
    let warning = r.warning.as_deref().expect("one warning");
    assert!(!warning.contains('\n'));
    assert!(warning.contains("cannot list nodes cluster-wide"), "{warning}");
    // Denied cluster-wide, Secrets were also tried in the context's namespace.
    assert!(warning.contains("cannot list secrets cluster-wide or in namespace default"), "{warning}");
    assert!(warning.contains("deploy/rbac.yaml"), "{warning}");
    let gaps: Vec<String> = c.evidence.gaps.iter().map(|g| g.to_string()).collect();
    assert!(gaps.iter().any(|g| g.starts_with("cannot list secrets") && g.contains("forbidden")), "{gaps:?}");
    assert!(gaps.iter().any(|g| g.starts_with("cannot list nodes")), "{gaps:?}");
    assert!(!c.evidence.has_collected("Secret") && !c.evidence.has_collected("Node"));
    assert!(c.evidence.has_collected("Pod") && c.evidence.has_collected("Deployment"));
    // Everything that does not need Secrets or Nodes is still found.
    let got = findings_json(&c.evidence);
    let (want_rules, got_rules) = (rules_of(&want), rules_of(&got));
    for rule in ["KS0201", "KS0101"] {
        if want_rules.iter().any(|r| r == rule) {
            assert!(got_rules.iter().any(|r| r == rule), "{rule} missing: {got_rules:?}");
        }
    }
    assert!(got_rules.len() * 2 >= want_rules.len(), "{got_rules:?} vs {want_rules:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_continue_token_restarts_the_list_once() {
    let want = findings_json(&snapshot_evidence(&example()));
    let faults = Faults { gone_on_continue: true, ..Faults::default() };
    let served = serve(&example(), faults).await;
    // Small pages so that lists need continue tokens.
    let opts = LiveOptions { page_size: 3, secret_keys: true, ..LiveOptions::default() };
    let c = collect(&served, &opts).await;
    assert!(c.report.incomplete.is_empty(), "{:?}", c.report.incomplete);
    assert!(c.evidence.gaps.is_empty(), "{:?}", c.evidence.gaps);
    let got = findings_json(&c.evidence);
    assert_eq!(got, want, "{:?}", first_difference(&want, &got, ""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_is_retried() {
    let want = findings_json(&snapshot_evidence(&example()));
    let faults = Faults { too_many_requests_once: vec!["pods".into(), "events".into()], ..Faults::default() };
    let served = serve(&example(), faults).await;
    let opts = LiveOptions { secret_keys: true, ..LiveOptions::default() };
    let c = collect(&served, &opts).await;
    assert!(c.evidence.gaps.is_empty(), "{:?}", c.evidence.gaps);
    assert!(c.evidence.has_collected("Pod") && c.evidence.has_collected("Event"));
    let got = findings_json(&c.evidence);
    assert_eq!(got, want, "{:?}", first_difference(&want, &got, ""));

    // Two retries more than a clean run of the same scan.
    let clean = serve(&example(), Faults::default()).await;
    let c2 = collect(&clean, &opts).await;
    assert_eq!(c.report.requests, c2.report.requests + 2);
    assert_eq!(served.requests(), clean.requests() + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_endpoint_past_the_timeout_leaves_a_gap_and_a_partial_result() {
    let faults = Faults { slow: vec![("events".into(), Duration::from_secs(5))], ..Faults::default() };
    let served = serve(&example(), faults).await;
    let opts = LiveOptions { timeout: Duration::from_millis(1500), ..LiveOptions::default() };
    let started = std::time::Instant::now();
    let c = collect(&served, &opts).await;
    assert!(started.elapsed() < Duration::from_secs(4), "the deadline holds: {:?}", started.elapsed());
    assert!(c.report.timed_out);
    assert_eq!(c.report.incomplete, vec!["events".to_string()]);
    let gaps: Vec<String> = c.evidence.gaps.iter().map(|g| g.to_string()).collect();
    assert!(gaps.iter().any(|g| g.starts_with("events: not finished within")), "{gaps:?}");
    assert!(!c.evidence.has_collected("Event"));
    assert!(c.evidence.events.is_empty());
    // The rest arrived and is analysed.
    assert!(c.evidence.has_collected("Pod") && !c.evidence.pods.is_empty());
    assert!(!findings(&c.evidence).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_object_becomes_a_gap_naming_it_and_the_rest_is_used() {
    let files = snapshot_evidence(&example());
    let faults = Faults { malformed_in_list: vec!["deployments".into()], ..Faults::default() };
    let served = serve(&example(), faults).await;
    let c = collect(&served, &LiveOptions::default()).await;
    let gaps: Vec<String> = c.evidence.gaps.iter().map(|g| g.to_string()).collect();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert!(gaps[0].starts_with("Deployment ") && gaps[0].contains("malformed object"), "{gaps:?}");
    // The gap names the object that is missing from the evidence.
    let named = gaps[0].split_whitespace().nth(1).unwrap().trim_end_matches(':').to_string();
    let (ns, name) = named.split_once('/').unwrap();
    assert!(
        files
            .deployments
            .iter()
            .any(|d| d.metadata.name.as_deref() == Some(name) && d.metadata.namespace.as_deref() == Some(ns))
    );
    assert!(
        !c.evidence
            .deployments
            .iter()
            .any(|d| d.metadata.name.as_deref() == Some(name) && d.metadata.namespace.as_deref() == Some(ns))
    );
    assert_eq!(c.evidence.deployments.len(), files.deployments.len() - 1);
    assert!(!findings(&c.evidence).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_metadata_only_by_default() {
    let served = serve(&example(), Faults::default()).await;
    let c = collect(&served, &LiveOptions::default()).await;
    assert!(!c.evidence.secrets.is_empty());
    assert!(c.evidence.secrets.iter().all(|s| !s.keys_known && s.keys.is_empty()));
    assert!(c.evidence.has_collected("Secret"));
    let c = collect(&served, &LiveOptions { secret_keys: true, ..LiveOptions::default() }).await;
    assert!(c.evidence.secrets.iter().any(|s| s.keys_known && !s.keys.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_grow_with_kinds_and_pages_not_pods() {
    let served = serve(&example(), Faults::default()).await;
    let c = collect(&served, &LiveOptions { logs: false, ..LiveOptions::default() }).await;
    // One discovery request and one page per listed kind.
    let lists = c.report.requests - 1;
    assert!(lists as usize <= ks_live::kinds::RESOURCES.len(), "{lists}");
    assert!(c.evidence.pods.len() as u64 > lists, "{} pods, {lists} lists", c.evidence.pods.len());
    // Namespaced: the same kinds, one namespace.
    let c =
        collect(&served, &LiveOptions { logs: false, namespace: Some("shop".into()), ..LiveOptions::default() }).await;
    assert!(c.evidence.pods.iter().all(|p| p.metadata.namespace.as_deref() == Some("shop")));
    assert!(!c.evidence.pods.is_empty());
}
