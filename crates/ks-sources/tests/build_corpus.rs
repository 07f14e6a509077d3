//! The build-file reader on real files: every Dockerfile/Containerfile and skaffold.yaml in
//! `../shared/corpus` (skipped when absent) and in the repository's fixtures.

use std::path::{Path, PathBuf};

use ks_core::Evidence;
use ks_sources::build::{is_build_file, load_build_file};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if is_build_file(&p) {
            out.push(p);
        }
    }
}

fn load_all(files: &[PathBuf]) -> Evidence {
    let mut ev = Evidence::default();
    for f in files {
        let bytes = std::fs::read(f).expect("readable");
        load_build_file(f, &bytes, &mut ev);
    }
    ev
}

#[test]
fn shared_corpus_build_files_parse_without_gaps() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus"));
    if !root.is_dir() {
        eprintln!("skipping: {} not present", root.display());
        return;
    }
    let mut files = Vec::new();
    walk(root, &mut files);
    let ev = load_all(&files);
    let dockerfiles = files.iter().filter(|f| !f.to_string_lossy().contains("skaffold")).count();
    eprintln!(
        "corpus: {} build files ({dockerfiles} Dockerfiles, {} Skaffold configs read)",
        files.len(),
        ev.build.skaffold.len()
    );
    assert!(ev.gaps.is_empty(), "{:#?}", ev.gaps);
    assert_eq!(ev.build.dockerfiles.len(), dockerfiles);
    // istio's samples/cicd/skaffold/skaffold.yaml: six skaffold/v2beta22 documents, with
    // dev/run profiles, manifests and a before-deploy host hook.
    if let Some(istio) = files.iter().find(|f| f.ends_with("samples/cicd/skaffold/skaffold.yaml")) {
        let shown = istio.to_string_lossy().replace('\\', "/");
        let cfgs: Vec<_> = ev.build.skaffold.iter().filter(|c| c.path == shown).collect();
        assert!(cfgs.iter().all(|c| c.api_version == "skaffold/v2beta22"));
        assert!(cfgs.iter().any(|c| c.name.as_deref() == Some("bookinfo") && c.deploy_hooks.len() == 2));
        assert!(cfgs.iter().any(|c| c.manifests.iter().any(|m| m.ends_with("bookinfo.yaml"))));
        assert!(cfgs.iter().any(|c| c.profile.as_deref() == Some("dev")));
    }
}

#[test]
fn fixture_build_files_parse_without_gaps() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/rules"));
    let mut files = Vec::new();
    walk(root, &mut files);
    assert!(files.len() >= 20, "found only {} fixture build files", files.len());
    let ev = load_all(&files);
    assert!(ev.gaps.is_empty(), "{:#?}", ev.gaps);
    for df in &ev.build.dockerfiles {
        assert!(!df.stages.is_empty(), "{}", df.path);
        for st in &df.stages {
            for i in &st.instructions {
                assert!(i.pos.line >= 1 && i.pos.column >= 1, "{}: {:?}", df.path, i.pos);
            }
        }
    }
}
