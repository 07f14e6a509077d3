//! kubesleuth's live source: list a cluster through the Kubernetes API into the same
//! [`ks_core::Evidence`] the snapshot source builds, and write what was read as a redacted
//! `kubectl cluster-info dump` style snapshot.

pub mod api;
pub mod client;
pub mod collect;
pub mod kinds;
pub mod logs;
pub mod progress;
pub mod pull_secrets;
pub mod redact;
pub mod write;

pub use api::Api;
pub use client::{ClientOptions, Target, connect};
pub use collect::{Collection, Denied, Kept, LiveOptions, Report, collect};

/// Errors that stop a live scan before it starts. Once connected, problems become gaps.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Config(String),
    #[error("{path}: {source}")]
    Write { path: std::path::PathBuf, source: std::io::Error },
    #[error("{0}")]
    Runtime(String),
}

/// Connect with `client` options and collect, on a runtime of its own: the CLI is
/// synchronous everywhere else.
pub fn collect_blocking(client: &ClientOptions, opts: &LiveOptions) -> Result<(Collection, Target), LiveError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| LiveError::Runtime(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let (kube_client, target) = connect(client).await?;
        let api = Api::new(kube_client);
        let collection = collect(&api, &target.default_namespace, opts).await;
        Ok((collection, target))
    })
}

/// Connect with `client` options and read the registry credentials of `wanted`
/// imagePullSecrets ([`pull_secrets::read`]), on a runtime of its own.
pub fn pull_credentials_blocking(
    client: &ClientOptions,
    wanted: &[pull_secrets::Wanted],
) -> Result<pull_secrets::PullCredentials, LiveError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LiveError::Runtime(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let (kube_client, _) = connect(client).await?;
        Ok(pull_secrets::read(&Api::new(kube_client), wanted).await)
    })
}
