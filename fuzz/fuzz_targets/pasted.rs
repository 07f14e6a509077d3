//! Any bytes through the pasted-text parser (describe, events, tables, logs) and the whole
//! diagnosis: no panic, ever.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut ev = ks_core::Evidence::default();
    ks_sources::pasted::load_pasted("fuzz.txt", data, &ks_sources::pasted::PasteOptions::default(), &mut ev);
    ev.finish();
    let findings = ks_rules::run(&ev);
    let _ = ks_correlate::correlate(&ev, findings);
});
