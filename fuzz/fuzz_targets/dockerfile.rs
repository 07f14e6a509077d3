//! Any bytes as a Dockerfile (and as a skaffold.yaml) through the build-file reader and every
//! rule: no panic, ever; every gap names the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut ev = ks_core::Evidence::default();
    ks_sources::build::load_build_file(std::path::Path::new("api/Dockerfile"), data, &mut ev);
    ks_sources::build::load_build_file(std::path::Path::new("skaffold.yaml"), data, &mut ev);
    assert!(ev.gaps.iter().all(|g| g.file.is_some()));
    ev.finish();
    let _ = ks_rules::run(&ev);
});
