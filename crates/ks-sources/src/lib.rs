//! kubesleuth sources: they collect and normalise evidence, and never decide what is wrong.
//!
//! The snapshot source reads `kubectl cluster-info dump` output (directory layout and the
//! stdout stream), any `kubectl get -o json|yaml` output, and container log files.

pub mod build;
pub mod error;
pub mod logs;
pub mod manifests;
pub mod objects;
pub mod pasted;
pub mod snapshot;

pub use error::SourceError;
pub use manifests::{ManifestOptions, load_manifests};
pub use snapshot::{SnapshotOptions, load_bytes, load_paths};
