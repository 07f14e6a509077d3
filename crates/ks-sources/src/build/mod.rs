//! Build files: Dockerfiles/Containerfiles and Skaffold configs, read into
//! [`ks_core::build::BuildFiles`]. `kubesleuth lint` hands every file [`is_build_file`]
//! accepts to [`load_build_file`].

pub mod dockerfile;
pub mod expand;
pub mod skaffold;

use std::path::Path;

use ks_core::{Evidence, Gap};

pub use dockerfile::parse_dockerfile;
pub use skaffold::parse_skaffold;

/// Build files larger than this are not read (a Dockerfile is a few kilobytes).
pub const MAX_BUILD_FILE_BYTES: usize = 4 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildFileKind {
    Dockerfile,
    Skaffold,
}

/// What kind of build file a path names, by its file name: `Dockerfile`, `Containerfile`,
/// `*.Dockerfile`, `*.Containerfile`, `Dockerfile.*`, `Containerfile.*` (any case), and
/// `skaffold.yaml`/`skaffold*.yaml`/`.yml`.
pub fn build_file_kind(path: &Path) -> Option<BuildFileKind> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let docker = ["dockerfile", "containerfile"].iter().any(|base| {
        name == *base
            || name.strip_prefix(base).is_some_and(|r| r.starts_with('.') && r.len() > 1)
            || name.strip_suffix(base).is_some_and(|r| r.ends_with('.') && r.len() > 1)
    });
    // `Dockerfile.dockerignore` is an ignore file, not a Dockerfile.
    if docker && !name.ends_with(".dockerignore") {
        return Some(BuildFileKind::Dockerfile);
    }
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    if yaml && name.starts_with("skaffold") {
        return Some(BuildFileKind::Skaffold);
    }
    None
}

/// Whether `lint` should read this file with [`load_build_file`].
pub fn is_build_file(path: &Path) -> bool {
    build_file_kind(path).is_some()
}

/// Parse one build file into `ev.build`. Problems become `ev.gaps` with file and line;
/// this never panics and never fails as a whole. For a Skaffold file, documents whose
/// `apiVersion` is not `skaffold/*` are left alone (a manifest loader may read them).
pub fn load_build_file(path: &Path, bytes: &[u8], ev: &mut Evidence) {
    let shown = path.to_string_lossy().replace('\\', "/");
    let gap = |message: String| Gap { file: Some(shown.clone()), line: None, message };
    let Some(kind) = build_file_kind(path) else {
        ev.gaps.push(gap("not a Dockerfile, Containerfile or skaffold.yaml".to_string()));
        return;
    };
    if bytes.len() > MAX_BUILD_FILE_BYTES {
        ev.gaps.push(gap(format!("skipped: {} bytes is more than a build file holds", bytes.len())));
        return;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            ev.gaps.push(gap(format!("not UTF-8 text (invalid byte at offset {})", e.valid_up_to())));
            return;
        }
    };
    match kind {
        BuildFileKind::Dockerfile => {
            let (df, gaps) = parse_dockerfile(&shown, text);
            ev.gaps.extend(gaps);
            if !df.stages.is_empty() {
                ev.build.dockerfiles.push(df);
            }
        }
        BuildFileKind::Skaffold => {
            let (cfgs, gaps) = parse_skaffold(&shown, text);
            ev.gaps.extend(gaps);
            ev.build.skaffold.extend(cfgs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_build_file_names() {
        for yes in [
            "Dockerfile",
            "dockerfile",
            "api/Dockerfile.dev",
            "Containerfile",
            "Containerfile.prod",
            "web.Dockerfile",
            "x/y.containerfile",
            "skaffold.yaml",
            "skaffold-dev.yml",
        ] {
            assert!(is_build_file(Path::new(yes)), "{yes}");
        }
        for no in
            ["Dockerfile.dockerignore", "dockerfiles", "Dockerfile.", ".Dockerfile", "skaffold.json", "deploy.yaml", ""]
        {
            assert!(!is_build_file(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn load_never_fails_and_reports_gaps() {
        let mut ev = Evidence::default();
        load_build_file(Path::new("Dockerfile"), b"FROM alpine\nRUN echo\n", &mut ev);
        load_build_file(Path::new("bad/Dockerfile"), b"\xff\xfe", &mut ev);
        load_build_file(Path::new("skaffold.yaml"), b"apiVersion: skaffold/v4beta1\nkind: Config\n", &mut ev);
        load_build_file(Path::new("empty/Containerfile"), b"", &mut ev);
        assert_eq!(ev.build.dockerfiles.len(), 1);
        assert_eq!(ev.build.skaffold.len(), 1);
        let files: Vec<_> = ev.gaps.iter().map(|g| g.file.clone().unwrap_or_default()).collect();
        assert_eq!(files, vec!["bad/Dockerfile", "empty/Containerfile"]);
    }
}
