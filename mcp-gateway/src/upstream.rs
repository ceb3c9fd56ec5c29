//! Where the gateway's MCP server comes from: the built-in demo server, a child process per
//! session, or a remote server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mcp_core::{BoxTransport, TransportExt};
use mcp_transport_stdio::{ChildProcess, StderrMode};

use crate::cli::UpstreamSpec;
use crate::telemetry;

/// Opens one upstream session per client session.
#[derive(Clone)]
pub struct Upstream {
    kind: Kind,
    healthy: Arc<AtomicBool>,
}

#[derive(Clone)]
enum Kind {
    Builtin(mcp_peer::Server),
    Stdio(Arc<ChildProcess>),
    Nats {
        url: mcp_transport_nats::NatsUrl,
        client: Arc<tokio::sync::OnceCell<mcp_transport_nats::async_nats::Client>>,
    },
}

/// Why an upstream session could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The child process could not be started.
    #[error("cannot start the upstream command {program:?}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The remote server could not be reached.
    #[error("cannot reach the upstream {url}: {detail}")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// The URL names a transport the gateway cannot connect to.
    #[error("unsupported upstream URL {0:?}: expected nats://host:port/SERVICE (other schemes: see --help)")]
    Unsupported(String),
}

impl Upstream {
    /// The upstream described by the settings.
    ///
    /// # Errors
    /// When the `--connect` URL is not usable.
    pub fn new(spec: &UpstreamSpec, env: &[(String, String)]) -> Result<Self, UpstreamError> {
        let kind = match spec {
            UpstreamSpec::Builtin => Kind::Builtin(mcp_testkit::fixtures::everything()),
            UpstreamSpec::Stdio { program, args, .. } => {
                let child = ChildProcess::new(program)
                    .args(args)
                    .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .stderr(StderrMode::default());
                Kind::Stdio(Arc::new(child))
            }
            UpstreamSpec::Connect(url) if url.starts_with("nats://") => Kind::Nats {
                url: mcp_transport_nats::NatsUrl::parse(url)
                    .map_err(|e| UpstreamError::Connect { url: url.clone(), detail: e.to_string() })?,
                client: Arc::default(),
            },
            UpstreamSpec::Connect(url) => return Err(UpstreamError::Unsupported(url.clone())),
        };
        Ok(Self { kind, healthy: Arc::new(AtomicBool::new(true)) })
    }

    /// Whether the last attempt to open an upstream session succeeded.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Opens a new upstream session.
    ///
    /// # Errors
    /// When the child cannot be spawned or the remote server cannot be reached; the upstream
    /// then reports unhealthy until an attempt succeeds.
    pub async fn open(&self) -> Result<BoxTransport, UpstreamError> {
        let result = self.open_inner().await;
        self.healthy.store(result.is_ok(), Ordering::Relaxed);
        if result.is_err() {
            telemetry::upstream_crashed();
        }
        result
    }

    async fn open_inner(&self) -> Result<BoxTransport, UpstreamError> {
        match &self.kind {
            Kind::Builtin(server) => {
                let (gateway_end, server_end) = mcp_core::memory::pair(64);
                let server = server.clone();
                tokio::spawn(async move { server.serve(server_end).await });
                Ok(gateway_end.boxed())
            }
            Kind::Stdio(child) => child
                .spawn()
                .map(TransportExt::boxed)
                .map_err(|source| UpstreamError::Spawn { program: format!("{child:?}"), source }),
            Kind::Nats { url, client } => {
                let connect_err = |detail: String| UpstreamError::Connect { url: url.server(), detail };
                let client = client.get_or_try_init(|| url.connect()).await.map_err(|e| connect_err(e.to_string()))?;
                mcp_transport_nats::connect(client, url.client_config())
                    .await
                    .map(TransportExt::boxed)
                    .map_err(|e| connect_err(e.to_string()))
            }
        }
    }

    /// Checks the upstream can be opened (used at start-up for `/health`).
    pub async fn probe(&self) -> Result<(), UpstreamError> {
        let transport = self.open().await?;
        drop(transport);
        Ok(())
    }
}
