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
    Shared(crate::shared::SharedUpstream),
    Nats {
        url: mcp_transport_nats::NatsUrl,
        client: Arc<tokio::sync::OnceCell<mcp_transport_nats::async_nats::Client>>,
        token: Option<String>,
    },
    Redis {
        config: mcp_transport_redis::RedisConfig,
        bus: Arc<tokio::sync::OnceCell<mcp_transport_redis::RedisBus>>,
        token: Option<String>,
    },
    StreamableHttp {
        url: String,
        token: Option<String>,
    },
    LegacySse {
        url: String,
        token: Option<String>,
    },
    WebSocket {
        url: String,
        token: Option<String>,
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
    #[error(
        "unsupported upstream URL {0:?}: expected http(s)://HOST/mcp, http(s)://HOST/sse, ws(s)://HOST/PATH, nats://HOST:PORT/SERVICE or redis://HOST:PORT/SERVICE"
    )]
    Unsupported(String),
}

impl Upstream {
    /// The upstream described by the settings.
    ///
    /// # Errors
    /// When the `--connect` URL is not usable.
    pub fn new(spec: &UpstreamSpec, env: &[(String, String)], token: Option<&str>) -> Result<Self, UpstreamError> {
        let token = token.map(str::to_owned);
        let kind = match spec {
            UpstreamSpec::Builtin => Kind::Builtin(mcp_testkit::fixtures::everything()),
            UpstreamSpec::Stdio { program, args, shared } => {
                let child = ChildProcess::new(program)
                    .args(args)
                    .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .stderr(StderrMode::default());
                if *shared {
                    Kind::Shared(crate::shared::SharedUpstream::new(Arc::new(child), Default::default()))
                } else {
                    Kind::Stdio(Arc::new(child))
                }
            }
            UpstreamSpec::Connect(url) if url.starts_with("nats://") => Kind::Nats {
                url: mcp_transport_nats::NatsUrl::parse(url)
                    .map_err(|e| UpstreamError::Connect { url: url.clone(), detail: e.to_string() })?,
                client: Arc::default(),
                token: token.clone(),
            },
            UpstreamSpec::Connect(url) if url.starts_with("redis://") || url.starts_with("rediss://") => Kind::Redis {
                config: mcp_transport_redis::RedisConfig::from_url(url)
                    .map_err(|e| UpstreamError::Connect { url: url.clone(), detail: e.to_string() })?,
                bus: Arc::default(),
                token: token.clone(),
            },
            UpstreamSpec::Connect(url) if url.starts_with("ws://") || url.starts_with("wss://") => {
                Kind::WebSocket { url: url.clone(), token }
            }
            UpstreamSpec::Connect(url) if url.starts_with("http://") || url.starts_with("https://") => {
                // The legacy transport lives at .../sse by convention; everything else is
                // Streamable HTTP.
                if url.trim_end_matches('/').ends_with("/sse") {
                    Kind::LegacySse { url: url.clone(), token }
                } else {
                    Kind::StreamableHttp { url: url.clone(), token }
                }
            }
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
            telemetry::upstream_start_failed();
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
            Kind::Shared(shared) => shared
                .open_session()
                .await
                .map_err(|e| UpstreamError::Connect { url: "the --shared child".into(), detail: e.to_string() }),
            Kind::Nats { url, client, token } => {
                let connect_err = |detail: String| UpstreamError::Connect { url: url.server(), detail };
                let client = client.get_or_try_init(|| url.connect()).await.map_err(|e| connect_err(e.to_string()))?;
                mcp_transport_nats::connect(
                    client,
                    match token {
                        Some(t) => url.client_config().token(t.clone()),
                        None => url.client_config(),
                    },
                )
                .await
                .map(TransportExt::boxed)
                .map_err(|e| connect_err(e.to_string()))
            }
            Kind::Redis { config, bus, token } => {
                let connect_err = |detail: String| UpstreamError::Connect { url: config.redacted_redis_url(), detail };
                let bus = bus
                    .get_or_try_init(|| mcp_transport_redis::RedisBus::open(config.clone()))
                    .await
                    .map_err(|e| connect_err(e.to_string()))?;
                let session = match token {
                    Some(token) => bus.connect_with_token(token).await,
                    None => bus.connect().await,
                };
                session.map(TransportExt::boxed).map_err(|e| connect_err(e.to_string()))
            }
            Kind::StreamableHttp { url, token } | Kind::LegacySse { url, token } => {
                let mut config = mcp_transport_sse::HttpClientConfig::default();
                if let Some(token) = token {
                    config = config.bearer_token(token.clone());
                }
                let result = if matches!(self.kind, Kind::LegacySse { .. }) {
                    mcp_transport_sse::connect_legacy_sse(url, config).await
                } else {
                    mcp_transport_sse::connect_streamable_http(url, config)
                };
                result
                    .map(TransportExt::boxed)
                    .map_err(|e| UpstreamError::Connect { url: url.clone(), detail: e.to_string() })
            }
            Kind::WebSocket { url, token } => {
                let mut config = mcp_transport_ws::WsClientConfig::default();
                if let Some(token) = token {
                    config = config.with_bearer_token(token.clone());
                }
                mcp_transport_ws::connect(url, &config)
                    .await
                    .map(TransportExt::boxed)
                    .map_err(|e| UpstreamError::Connect { url: url.clone(), detail: e.to_string() })
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
