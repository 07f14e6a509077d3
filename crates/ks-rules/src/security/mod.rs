//! Security contexts the kubelet refuses: runAsNonRoot against a root user, including the
//! sidecars injectors add at admission.

pub mod run_as_non_root;

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[&run_as_non_root::RunAsNonRootViolation];
