//! From a kubeconfig to an [`ApiClient`]: the kubeconfig found and checked as kubectl would
//! (see [`super::kubeconfig`]), kube's own retry layer off.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::KubeConfigOptions;
use kube::{Client, Config};

use super::kubeconfig;
use super::{ApiClient, RetryPolicy};

/// Which cluster, and how long one request may take.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`; without it `KUBECONFIG` (a list of files, merged) or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; without it the kubeconfig's current context.
    pub context: Option<String>,
    /// Per-request timeout; `None` waits forever.
    pub request_timeout: Option<Duration>,
}

/// Why there is no client.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "cannot load the kubeconfig: {0} (pass --kubeconfig PATH or set KUBECONFIG to read a \
         cluster, or -f PATH to read files)"
    )]
    Kubeconfig(String),
    #[error("cannot create a client for {server}: {message}")]
    Client { server: String, message: String },
}

/// The kube client configuration: kubeconfig like kubectl, kube's own retry layer off (requests
/// are retried by [`ApiClient::send`], with bounds), connect timeout no longer than the request
/// timeout.
pub async fn load_config(opts: &ConnectOptions) -> Result<Config, ConnectError> {
    let kopts = KubeConfigOptions { context: opts.context.clone(), ..KubeConfigOptions::default() };
    let explicit = opts.kubeconfig.as_deref();
    let loaded =
        kubeconfig::load(explicit, opts.context.as_deref()).map_err(ConnectError::Kubeconfig)?;
    let mut config = match loaded {
        Some(kc) => Config::from_custom_kubeconfig(kc, &kopts).await.map_err(|e| {
            ConnectError::Kubeconfig(format!(
                "{}: {}",
                kubeconfig::describe(explicit),
                kubeconfig::safe_chain(&e)
            ))
        })?,
        None => match explicit {
            Some(path) => {
                return Err(ConnectError::Kubeconfig(format!("{} does not exist", path.display())));
            }
            // kubectl falls back to the in-cluster service account when there is no kubeconfig.
            None => match (opts.context.is_none(), Config::incluster()) {
                (true, Ok(c)) => c,
                (true, Err(e)) => {
                    return Err(ConnectError::Kubeconfig(format!(
                        "no kubeconfig found (KUBECONFIG, ~/.kube/config) and not in a cluster: {}",
                        kubeconfig::safe_chain(&e)
                    )));
                }
                (false, _) => {
                    return Err(ConnectError::Kubeconfig(
                        "no kubeconfig found (KUBECONFIG, ~/.kube/config) for --context".to_owned(),
                    ));
                }
            },
        },
    };
    config.default_retry = false;
    config.read_timeout = None;
    if let Some(t) = opts.request_timeout {
        config.connect_timeout = Some(config.connect_timeout.map_or(t, |c| c.min(t)));
    }
    Ok(config)
}

/// The server URL as users wrote it (without kube's trailing slash).
pub fn server_url(config: &Config) -> String {
    config.cluster_url.to_string().trim_end_matches('/').to_owned()
}

/// Connects to the cluster of the kubeconfig.
pub async fn connect(opts: &ConnectOptions, retry: RetryPolicy) -> Result<ApiClient, ConnectError> {
    let config = load_config(opts).await?;
    let server = server_url(&config);
    let client = Client::try_from(config).map_err(|e| ConnectError::Client {
        server: server.clone(),
        message: kubeconfig::safe_chain(&e),
    })?;
    Ok(ApiClient::new(client, server, opts.request_timeout, retry))
}
