//! The block-YAML fast path against the full parser: whenever the fast path reads a text, the
//! full parser reads it too, to the same documents, values, first lines and duplicate keys;
//! and the position index the fast path builds places every field where the full parser's
//! `locate` does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(fast) = ks_core::yaml::parse_stream_fast(text) else { return };
    let (full, err) = ks_core::yaml::parse_stream_full(text);
    assert!(err.is_none(), "the full parser rejects what the fast path read: {err:?}");
    assert_eq!(fast.len(), full.len(), "document count");
    for (f, g) in fast.iter().zip(&full) {
        assert_eq!(f.value, g.value);
        if !f.value.is_null() {
            assert_eq!(f.start_line, g.start_line);
            if let Err(e) = ks_core::yaml::index_matches_locate(text, g, usize::MAX, usize::MAX) {
                panic!("position index: {e}");
            }
        }
        assert_eq!(f.duplicate_keys, g.duplicate_keys);
    }
});
