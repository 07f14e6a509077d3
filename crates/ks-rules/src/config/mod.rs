//! Configuration references: Secrets, ConfigMaps and ServiceAccounts a pod needs.

pub mod secret_key_missing;

use crate::Rule;

/// This area's rules; the registry concatenates every area's list.
pub static RULES: &[&dyn Rule] = &[&secret_key_missing::SecretKeyMissing];
