//! The unknown-field decoder over borrowed paths (`ks_rules::lint::ignored`) against
//! `serde_ignored` and `serde_path_to_error`: on any document of a kind with a schema, the
//! same unknown fields and the same decode error at the same path. The first byte picks the
//! kind; the rest is read as YAML and given that kind, so the fuzzer explores field shapes
//! rather than looking for `kind: Deployment`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ks_rules::lint::schema::{KNOWN, unknown_fields_agree};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (api, kind) = KNOWN[pick as usize % KNOWN.len()];
    for doc in ks_core::yaml::parse_stream(text).0 {
        let serde_json::Value::Object(mut map) = doc.value else { continue };
        map.insert("apiVersion".into(), api.into());
        map.insert("kind".into(), kind.into());
        if let Some(Err(e)) = unknown_fields_agree(&serde_json::Value::Object(map)) {
            panic!("{e}");
        }
    }
});
