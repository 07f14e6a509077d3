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

/// A cheap stand-in for the cargo-fuzz target (`fuzz/fuzz_targets/dockerfile.rs`), run on
/// every `cargo test`: mutations of the fixture build files (byte flips, inserted escape
/// characters, heredoc markers, quotes, cut lines) never panic and every gap names the file.
#[test]
fn mutated_build_files_never_panic() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/rules"));
    let mut files = Vec::new();
    walk(root, &mut files);
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).expect("readable")).collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const TOKENS: &[&[u8]] = &[
        b"\\\n",
        b"<<EOF\n",
        b"<<-'X'",
        b"\nEOF\n",
        b"${A:-",
        b"}",
        b"\"",
        b"'",
        b"[\"a\", ",
        b"--mount=",
        b"\nFROM ",
        b" AS ",
        b"\r\n",
        b"# escape=`\n",
        b"\xff",
        b"\xc3",
        b"\n  - ",
        b": [",
        b"{{",
        b"\t",
        b"\0",
    ];
    let mut runs = 0;
    for round in 0..4000 {
        let mut data = seeds[round % seeds.len()].clone();
        for _ in 0..(1 + next() % 8) {
            let at = if data.is_empty() { 0 } else { (next() as usize) % data.len() };
            match next() % 4 {
                0 if !data.is_empty() => data[at] = next() as u8,
                1 => {
                    let t = TOKENS[(next() as usize) % TOKENS.len()];
                    data.splice(at..at, t.iter().copied());
                }
                2 if !data.is_empty() => {
                    let end = (at + (next() as usize) % 40).min(data.len());
                    data.drain(at..end);
                }
                _ => data.truncate(at),
            }
        }
        let mut ev = Evidence::default();
        load_build_file(Path::new("x/Dockerfile"), &data, &mut ev);
        load_build_file(Path::new("x/skaffold.yaml"), &data, &mut ev);
        assert!(ev.gaps.iter().all(|g| g.file.is_some()));
        for df in &ev.build.dockerfiles {
            for st in &df.stages {
                let _ = (df.stage_chain(st.index), df.external_base(st.index), st.start_command());
            }
        }
        runs += 1;
    }
    assert_eq!(runs, 4000);
}
