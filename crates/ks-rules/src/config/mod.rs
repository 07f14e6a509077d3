//! Configuration references: Secrets, ConfigMaps and ServiceAccounts a pod needs.

pub mod secret_key_missing;
