//! kubesleuth's core: the one evidence model every source fills and every rule reads,
//! the finding type every rule emits, the cause codes, and rule metadata.
//!
//! Dependencies point one way: sources, rules, correlate and report depend on this crate,
//! never on each other.

pub mod build;
pub mod cause;
pub mod evidence;
pub mod finding;
pub mod index;
pub mod kinds;
pub mod manifest;
pub mod registry;
pub mod rule;
#[doc(hidden)]
pub mod test_support;
pub mod yaml;

pub use cause::Cause;
pub use evidence::{ConfigMapInfo, DynObject, EventRecord, Evidence, Gap, LogExcerpt, LogKey, ObjectKey, SecretInfo};
pub use finding::{EvidenceItem, EvidenceSource, Finding, Fix, Location, ObjectRef, Severity, Summary};
pub use manifest::{FieldPath, ManifestDoc};
pub use rule::{DOC_SECTIONS, RuleDocs, RuleKind, RuleMeta};

/// Re-exported so downstream crates name the same k8s-openapi types.
pub use k8s_openapi;
