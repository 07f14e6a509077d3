//! Connecting: the user's kubeconfig (or `--kubeconfig FILE`), the current or a named
//! context, and the in-cluster service account when run in a pod.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::LiveError;

/// Where to connect.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// A kubeconfig file instead of `$KUBECONFIG` / `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// A context other than the current one.
    pub context: Option<String>,
}

/// What the connection is to, for messages and the snapshot manifest.
#[derive(Clone, Debug)]
pub struct Target {
    /// The kubeconfig context name, or `in-cluster`.
    pub context: String,
    /// The namespace the context names (`default` when it names none).
    pub default_namespace: String,
}

/// Build a client. kube's own retry layer is off: the collector retries itself, so that it
/// can count requests and honour `Retry-After` within the scan's deadline.
pub async fn connect(opts: &ClientOptions) -> Result<(Client, Target), LiveError> {
    let kube_opts = KubeConfigOptions { context: opts.context.clone(), ..Default::default() };
    let (mut config, context) = match &opts.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path)
                .map_err(|e| LiveError::Config(format!("cannot read kubeconfig {}: {e}", path.display())))?;
            let name = opts.context.clone().or_else(|| kc.current_context.clone()).unwrap_or_default();
            let config = Config::from_custom_kubeconfig(kc, &kube_opts)
                .await
                .map_err(|e| LiveError::Config(format!("kubeconfig {}: {e}", path.display())))?;
            (config, name)
        }
        None if opts.context.is_some() => {
            let config =
                Config::from_kubeconfig(&kube_opts).await.map_err(|e| LiveError::Config(format!("kubeconfig: {e}")))?;
            (config, opts.context.clone().unwrap_or_default())
        }
        None => {
            // The kubeconfig first, then the pod's service account (what kubectl does).
            let name = Kubeconfig::read().ok().and_then(|kc| kc.current_context);
            let config = Config::infer().await.map_err(|e| {
                LiveError::Config(format!(
                    "no cluster to scan: {e}. Pass --kubeconfig FILE or --context NAME, or --snapshot PATH to read files"
                ))
            })?;
            let name = name.unwrap_or_else(|| "in-cluster".to_string());
            (config, name)
        }
    };
    config.default_retry = false;
    let target = Target { context, default_namespace: config.default_namespace.clone() };
    let client = Client::try_from(config).map_err(|e| LiveError::Config(format!("cannot build the client: {e}")))?;
    Ok((client, target))
}
