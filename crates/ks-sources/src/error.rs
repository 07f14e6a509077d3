use std::path::PathBuf;

/// Errors that stop a source as a whole. Problems with single files become
/// [`ks_core::Gap`]s instead, and the rest is still analysed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Render(crate::manifests::RenderError),
    #[error("nothing could be read: {detail}")]
    NothingReadable { detail: String },
}
