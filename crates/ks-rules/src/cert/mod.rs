//! cert-manager: Certificates that do not become Ready, explained by following the chain
//! Certificate → CertificateRequest → Order → Challenge down to the deepest message.

pub mod not_ready;

use ks_core::{DynObject, Evidence};

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[&not_ready::CertificateNotReady];

/// Whether `o` is a cert-manager object of `kind` (`Certificate`, `Order`…).
pub fn is_cm(o: &DynObject, kind: &str) -> bool {
    let group = match kind {
        "Order" | "Challenge" => "acme.cert-manager.io/",
        _ => "cert-manager.io/",
    };
    o.kind == kind && o.api_version.starts_with(group)
}

/// Whether `o` has an owner reference to `kind`/`name`.
pub fn owned_by(o: &DynObject, kind: &str, name: &str) -> bool {
    o.metadata.owner_references.iter().flatten().any(|r| r.kind == kind && r.name == name)
}

/// cert-manager objects of `kind` in namespace `ns` (cluster-scoped for `ns` = None).
pub fn objects<'a>(ev: &'a Evidence, kind: &'a str, ns: Option<&'a str>) -> impl Iterator<Item = &'a DynObject> + 'a {
    ev.other.iter().filter(move |o| is_cm(o, kind) && (ns.is_none() || o.namespace() == ns))
}
