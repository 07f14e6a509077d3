//! Registry credentials: from the caller's hook, else the user's docker config. A credential
//! is only ever sent to the host it was found for, and is never printed: its `Debug` shows
//! the kind only.

use docker_credential::{CredentialRetrievalError, DockerCredential};
use ks_core::registry::AuthSource;

use crate::Options;

/// A registry credential.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// A docker `identitytoken`: an OAuth2 refresh token for the registry's token service.
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { .. } => f.write_str("Credential::Basic(<redacted>)"),
            Credential::IdentityToken(_) => f.write_str("Credential::IdentityToken(<redacted>)"),
        }
    }
}

/// What was found for a host, and where from.
pub(crate) struct Found {
    pub credential: Option<Credential>,
    pub source: AuthSource,
    /// Why a configured credential could not be used (never holds the credential or a
    /// helper's output).
    pub note: Option<String>,
}

/// The docker config key for a host: Docker Hub's is its v1 index URL.
fn server_key(host: &str) -> &str {
    if host == "docker.io" { "https://index.docker.io/v1/" } else { host }
}

pub(crate) fn lookup(host: &str, opts: &Options) -> Found {
    if let Some(c) = opts.credentials.get(host) {
        return Found { credential: Some(c.clone()), source: AuthSource::PullSecret, note: None };
    }
    let anonymous = |note: Option<String>| Found { credential: None, source: AuthSource::Anonymous, note };
    if !opts.docker_config {
        return anonymous(None);
    }
    match docker_credential::get_credential(server_key(host)) {
        Ok(DockerCredential::UsernamePassword(username, password)) => Found {
            credential: Some(Credential::Basic { username, password }),
            source: AuthSource::DockerConfig,
            note: None,
        },
        Ok(DockerCredential::IdentityToken(t)) => {
            Found { credential: Some(Credential::IdentityToken(t)), source: AuthSource::DockerConfig, note: None }
        }
        Err(
            CredentialRetrievalError::NoCredentialConfigured
            | CredentialRetrievalError::ConfigNotFound
            | CredentialRetrievalError::ConfigReadError,
        ) => anonymous(None),
        Err(CredentialRetrievalError::HelperFailure { helper, .. }) => {
            // The helper's stdout/stderr may echo secrets: only its name is kept.
            anonymous(Some(format!("docker credential helper {helper} failed for {host}; asked anonymously")))
        }
        Err(e) => anonymous(Some(format!("docker config credentials for {host} unusable ({e}); asked anonymously"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credential::Basic { username: "u".into(), password: "CANARY-PASSWORD".into() };
        assert!(!format!("{c:?}").contains("CANARY"));
        assert!(!format!("{:?}", Credential::IdentityToken("CANARY".into())).contains("CANARY"));
    }

    #[test]
    fn the_hook_wins_over_the_docker_config() {
        let mut opts = Options { docker_config: false, ..Options::default() };
        assert!(lookup("r.example:5000", &opts).credential.is_none());
        opts.credentials
            .insert("r.example:5000".into(), Credential::Basic { username: "u".into(), password: "p".into() });
        let f = lookup("r.example:5000", &opts);
        assert_eq!(f.source, AuthSource::PullSecret);
        assert!(f.credential.is_some());
        assert!(lookup("other.example", &opts).credential.is_none());
    }
}
