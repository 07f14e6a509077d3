//! The cluster-info-dump log splitter: sections must be in bounds and in order.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut last = 0;
        for s in ks_sources::logs::split_sections(text) {
            assert!(s.whole.start >= last && s.body.start <= s.body.end && s.body.end <= text.len());
            assert!(text.is_char_boundary(s.body.start) && text.is_char_boundary(s.body.end));
            last = s.whole.end;
        }
    }
});
