//! Any text through the manifest reader (YAML with positions) and every lint and drift
//! rule, including position lookups for each finding: no panic, ever.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut ev = ks_core::Evidence::default();
    ks_sources::manifests::load_text("fuzz.yaml", std::sync::Arc::from(text), &mut ev);
    ev.finish();
    let _ = ks_rules::run_kind(&ev, ks_core::RuleKind::Static);
    let _ = ks_rules::run_kind(&ev, ks_core::RuleKind::Drift);
});
