//! Any bytes through the snapshot loader and the whole diagnosis: no panic, ever.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut ev = ks_core::Evidence::default();
    ks_sources::load_bytes("fuzz.json", data, &mut ev);
    ev.finish();
    let findings = ks_rules::run(&ev);
    let _ = ks_correlate::correlate(&ev, findings);
});
