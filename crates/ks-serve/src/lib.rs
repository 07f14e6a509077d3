//! `kubesleuth serve`: a read-only Kubernetes API server over a snapshot.
//!
//! It answers enough of the API for the real `kubectl` (`get`, `describe`, `logs`, `-o
//! json|yaml|wide`, `-w`) and for API clients such as kube-rs: discovery (legacy and
//! aggregated v2), list with label and field selectors and `limit`/`continue` pagination, get,
//! watch, server-side `Table` printing, `PartialObjectMetadata`, and pod logs. Every write verb
//! answers 405. Nothing is fetched from anywhere: the answers are the snapshot's objects as
//! they were captured, except that Secrets carry key names, never values (see
//! [`SECRET_KEYS_ANNOTATION`]).
//!
//! [`Faults`] injects the failures a live cluster produces (403, 410 on continue, 429, slow
//! answers, a malformed list item), so a live collector can be tested against them.

mod body;
mod load;
mod resources;
mod select;
mod server;
mod table;

pub use load::{RawSnapshot, Resource, SECRET_KEYS_ANNOTATION, SYNTHESIZED_ANNOTATION, ServeError, load_raw};
pub use resources::ResourceInfo;
pub use server::{serve, serve_blocking};
pub use table::human_duration;

/// Failures to inject, by resource plural (`pods`, `events`, ...). For `forbidden` and `slow`,
/// `pods` also covers the pods' log, and `pods/log` covers only the log.
#[derive(Default, Clone, Debug)]
pub struct Faults {
    /// Resources answered 403 Forbidden (a `Status` with reason `Forbidden`) for every verb.
    pub forbidden: Vec<String>,
    /// The first request with a `continue` token gets 410 Gone (`Status` reason `Expired`).
    pub gone_on_continue: bool,
    /// The first list of each of these answers 429 with `Retry-After: 0`.
    pub too_many_requests_once: Vec<String>,
    /// Every answer about these resources is delayed this long.
    pub slow: Vec<(String, std::time::Duration)>,
    /// In lists of these, the first object is served malformed: its `spec` is the string `"x"`
    /// (or, for kinds without a spec, its `metadata.labels` is).
    pub malformed_in_list: Vec<String>,
}

/// How to serve.
#[derive(Default, Clone, Debug)]
pub struct ServeOptions {
    pub faults: Faults,
    /// Counts every request received, when set.
    pub request_log: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// `data` to answer a `get` of these Secrets (namespace, name) with, as a real API server
    /// would: for tests of what a live scan does with Secret values (imagePullSecrets). A
    /// snapshot never holds values, so `kubesleuth serve` never serves any.
    pub secret_data: std::collections::HashMap<(String, String), serde_json::Map<String, serde_json::Value>>,
}
