//! The block-YAML fast path against the full parser: whenever the fast path reads a text, the
//! full parser reads it too, to the same documents, values, first lines and duplicate keys;
//! a field found by reading only its path (`yaml::find`) is where the full parser's
//! `locate` places it; and a stream read a document at a time (`parse_stream`, when the fast path
//! declines it whole) gives what the full parser gives, errors included; and a stream read
//! through the per-run document cache (`parse_stream_shared`, what `lint` reads files with)
//! gives what `parse_stream` gives, errors and end lines included, whether its documents are
//! new to the cache or were read before (every text is read twice through one cache).
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use ks_core::yaml::{DocCache, YamlDoc};

fn same(a: &[YamlDoc], b: &[YamlDoc], text: &str) {
    assert_eq!(a.len(), b.len(), "document count");
    for (f, g) in a.iter().zip(b) {
        assert_eq!(f.value, g.value);
        if !f.value.is_null() {
            assert_eq!(f.start_line, g.start_line);
            if let Err(e) = ks_core::yaml::find_matches_locate(text, g, usize::MAX, usize::MAX) {
                panic!("positions: {e}");
            }
        }
        assert_eq!(f.duplicate_keys, g.duplicate_keys);
    }
}

fn same_shared(text: &str) {
    let (plain, err) = ks_core::yaml::parse_stream(text);
    let shared_text: Arc<str> = Arc::from(text);
    let cache = DocCache::default();
    for _ in 0..2 {
        let (shared, e) = ks_core::yaml::parse_stream_shared(&shared_text, 0, &cache);
        assert_eq!(e, err, "errors differ through the cache");
        assert_eq!(shared.len(), plain.len(), "document count through the cache");
        for (s, p) in shared.iter().zip(&plain) {
            assert_eq!(*s.value, p.value);
            assert_eq!((s.start_line, s.end_line), (p.start_line, p.end_line));
            assert_eq!(s.duplicate_keys, p.duplicate_keys);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    same_shared(text);
    let (full, err) = ks_core::yaml::parse_stream_full(text);
    match ks_core::yaml::parse_stream_fast(text) {
        Some(fast) => {
            assert!(err.is_none(), "the full parser rejects what the fast path read: {err:?}");
            same(&fast, &full, text);
        }
        None if err.is_none() => {
            let (docs, e) = ks_core::yaml::parse_stream(text);
            assert!(e.is_none(), "read a document at a time: {e:?}");
            same(&docs, &full, text);
        }
        None => {
            // A syntax error anywhere is still one when read a document at a time.
            assert!(ks_core::yaml::parse_stream(text).1.is_some(), "read a document at a time, the error is lost");
        }
    }
});
