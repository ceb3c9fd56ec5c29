//! [`ClientBuilder`]: who the client is, what it can do for the server, and how to connect.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use futures::FutureExt;
use mcp_core::jsonrpc::Notification;
use mcp_core::schema::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    ElicitationCapability, Implementation, InitializeRequestParams, InitializeResult, ListRootsResult, RootsCapability,
    SamplingCapability,
};
use mcp_core::schema::{DiscoverResult, meta_keys};
use mcp_core::{ErrorObject, ProtocolVersion, SessionInfo, Transport, TransportExt};
use tokio::sync::mpsc;

use super::Client;
use super::session::{ClientHandlers, ClientSession};
use crate::config::SessionConfig;
use crate::error::PeerError;
use crate::session::driver::Driver;
use crate::session::{Peer, PeerInfo, Shared};

static NEXT_CLIENT: AtomicU64 = AtomicU64::new(0);

/// Configures and connects a [`Client`]; see [`Client::builder`].
pub struct ClientBuilder {
    info: Implementation,
    version: ProtocolVersion,
    config: SessionConfig,
    capabilities: ClientCapabilities,
    handlers: ClientHandlers,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("info", &self.info)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientBuilder {
    /// A client named `mcp-peer` that asks for the latest legacy revision.
    pub fn new() -> Self {
        Self {
            info: Implementation::new("mcp-peer", env!("CARGO_PKG_VERSION")),
            version: ProtocolVersion::LATEST_LEGACY,
            config: SessionConfig::default(),
            capabilities: ClientCapabilities::default(),
            handlers: ClientHandlers::default(),
        }
    }

    /// The client's name (and version) in `clientInfo`.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.info = Implementation::new(name, version);
        self
    }

    /// The revision to ask for (default: the latest legacy revision). With 2026-07-28 the
    /// client probes `server/discover` and, when the server offers that revision, speaks it
    /// statelessly (every request carries its `_meta`); otherwise it falls back to the
    /// `initialize` handshake with the latest legacy revision.
    #[must_use]
    pub fn protocol_version(mut self, version: ProtocolVersion) -> Self {
        self.version = version;
        self
    }

    /// Limits and timeouts.
    #[must_use]
    pub fn config(mut self, config: SessionConfig) -> Self {
        self.config = config;
        self
    }

    /// Answers the server's `sampling/createMessage`, and declares the `sampling` capability.
    #[must_use]
    pub fn on_sampling<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(CreateMessageRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CreateMessageResult, ErrorObject>> + Send + 'static,
    {
        self.capabilities.sampling = Some(SamplingCapability::default());
        self.handlers.sampling = Some(Arc::new(move |p| handler(p).boxed()));
        self
    }

    /// Answers the server's `elicitation/create`, and declares the `elicitation` capability.
    #[must_use]
    pub fn on_elicitation<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(ElicitRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ElicitResult, ErrorObject>> + Send + 'static,
    {
        self.capabilities.elicitation = Some(ElicitationCapability::default());
        self.handlers.elicitation = Some(Arc::new(move |p| handler(p).boxed()));
        self
    }

    /// Answers the server's `roots/list`, and declares the `roots` capability.
    #[must_use]
    pub fn on_roots<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ListRootsResult, ErrorObject>> + Send + 'static,
    {
        self.capabilities.roots = Some(RootsCapability::default());
        self.handlers.roots = Some(Arc::new(move || handler().boxed()));
        self
    }

    /// Receives every notification from the server other than progress and cancellation
    /// (log messages, list changes, resource updates). Runs on the session task: keep it
    /// quick, hand heavy work to a channel.
    #[must_use]
    pub fn on_notification<F>(mut self, callback: F) -> Self
    where
        F: Fn(Notification) + Send + Sync + 'static,
    {
        self.handlers.notification = Some(Arc::new(callback));
        self
    }

    /// Starts the session on `transport` (spawning its task on the current tokio runtime)
    /// and performs the `initialize` handshake.
    ///
    /// # Errors
    /// [`PeerError::Rpc`] when the server refuses `initialize`; [`PeerError::Protocol`] when
    /// it answers with a revision this crate does not speak; [`PeerError::Closed`] or
    /// [`PeerError::Timeout`] when it does not answer.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    ///
    /// # Cancel safety
    /// Dropping the future before it completes drops the half-open session: its task ends
    /// and the transport is closed.
    pub async fn connect(self, transport: impl Transport) -> Result<Client, PeerError> {
        let n = NEXT_CLIENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.config.outbound_capacity);
        let info = SessionInfo::new("client");
        let shared = Arc::new(Shared::new(tx, self.config, format!("client-{n}").into(), info, 0));
        let handlers = self.handlers.clone();
        let handler = ClientSession { handlers: self.handlers };
        let driver = Driver::new(transport.boxed(), handler, shared.clone(), rx);
        let task = tokio::spawn(driver.run());
        let peer = Peer::new(shared.clone(), None);
        // Until the handshake is done, giving up (an error, or the caller dropping this
        // future) closes the session rather than leaving its task behind.
        let mut abandon = CloseOnDrop(Some(peer.clone()));

        let handshake = if self.version.is_stateless() {
            match discover(&peer, &shared, &self.capabilities, &self.info).await {
                Ok(Some(init)) => Ok(init),
                // Anything but a modern answer means a legacy server: fall back, as the spec's
                // stdio binding says.
                Ok(None) | Err(PeerError::Rpc { .. }) => {
                    initialize(&peer, ProtocolVersion::LATEST_LEGACY, self.capabilities, self.info).await
                }
                Err(e) => Err(e),
            }
        } else {
            initialize(&peer, self.version, self.capabilities, self.info).await
        };
        let (init, version) = handshake?;
        let info = PeerInfo {
            protocol_version: version,
            capabilities: serde_json::to_value(&init.capabilities).unwrap_or_default(),
            info: serde_json::to_value(&init.server_info).unwrap_or_default(),
        };
        let _ = shared.peer_info.set(info);
        if !version.is_stateless() {
            peer.notify("notifications/initialized", &serde_json::json!({})).await?;
        }
        abandon.0 = None;
        Ok(Client { peer, init, version, handlers, task: Some(task) })
    }
}

/// The legacy handshake: `initialize`, checking the revision the server picked.
async fn initialize(
    peer: &Peer,
    version: ProtocolVersion,
    capabilities: ClientCapabilities,
    info: Implementation,
) -> Result<(InitializeResult, ProtocolVersion), PeerError> {
    let params = InitializeRequestParams::new(version, capabilities, info);
    let init: InitializeResult = peer.request("initialize", &params).await?;
    match init.protocol_version.parse::<ProtocolVersion>() {
        Ok(v) if !v.is_stateless() => Ok((init, v)),
        _ => Err(PeerError::Protocol(format!(
            "the server answered initialize with protocol version {:?}, which this client does not speak",
            init.protocol_version
        ))),
    }
}

/// The stateless revision: `server/discover`, then every request carries the revision, the
/// client's capabilities and identity in its `_meta`. `None` when the server does not offer
/// 2026-07-28.
async fn discover(
    peer: &Peer,
    shared: &Shared,
    capabilities: &ClientCapabilities,
    info: &Implementation,
) -> Result<Option<(InitializeResult, ProtocolVersion)>, PeerError> {
    let version = ProtocolVersion::V2026_07_28;
    let mut meta = serde_json::Map::new();
    meta.insert(meta_keys::PROTOCOL_VERSION.into(), version.as_str().into());
    meta.insert(meta_keys::CLIENT_CAPABILITIES.into(), serde_json::to_value(capabilities).unwrap_or_default());
    meta.insert(meta_keys::CLIENT_INFO.into(), serde_json::to_value(info).unwrap_or_default());
    let discovered: DiscoverResult = peer.request("server/discover", &serde_json::json!({ "_meta": meta })).await?;
    if !discovered.supported_versions.iter().any(|v| v == version.as_str()) {
        return Ok(None);
    }
    let server_info = discovered
        .meta
        .as_ref()
        .and_then(|m| m.get(meta_keys::SERVER_INFO))
        .and_then(|v| serde_json::from_value::<Implementation>(v.clone()).ok())
        .unwrap_or_else(|| Implementation::new("unknown", ""));
    let mut init = InitializeResult::new(version, discovered.capabilities, server_info);
    init.instructions = discovered.instructions;
    let _ = shared.request_meta.set(meta);
    Ok(Some((init, version)))
}

/// Closes the session when dropped, unless disarmed.
struct CloseOnDrop(Option<Peer>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(peer) = self.0.take() {
            peer.close();
        }
    }
}
