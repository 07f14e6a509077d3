//! For the tests of the pipeline crates that read `../shared/corpus` (real manifests written
//! by others); not part of the API.

use std::path::{Path, PathBuf};

/// Every file under `../shared/corpus` whose extension is one of `exts`, or `None` (with a
/// message on stderr, so the calling test can skip) when the corpus is absent.
pub fn corpus_files(exts: &[&str]) -> Option<Vec<PathBuf>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !root.is_dir() {
        eprintln!("skipped: {} is absent", root.display());
        return None;
    }
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| exts.contains(&x)) {
                files.push(p);
            }
        }
    }
    files.sort();
    Some(files)
}
