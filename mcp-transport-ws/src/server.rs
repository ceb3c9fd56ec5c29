//! The server side: checking an upgrade request, answering it, and handing each connection
//! to the application as an [`IncomingSession`].
//!
//! [`WsServer::handle`] works inside any hyper-based HTTP server (axum included), so one app
//! can serve Streamable HTTP and WebSocket on the same `/mcp` path; [`WsListener`](crate::WsListener)
//! is the same thing with its own TCP listener.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use futures::Stream;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use mcp_core::{AuthError, IncomingSession, Principal, SessionInfo, TokenVerifier};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::auth::presented_token;
use crate::close_handle::CloseHandle;
use crate::config::WsConfig;
use crate::origin::OriginPolicy;
use crate::transport::{BoxIo, WsTransport};

/// The subprotocol of MCP over WebSocket, selected whenever a client offers it.
pub const SUBPROTOCOL: &str = "mcp";

/// Server settings. The defaults are safe for a loopback server; a server reachable from
/// other machines needs a [`verifier`](Self::verifier) and an origin allow-list.
#[derive(Clone)]
#[non_exhaustive]
pub struct WsServerConfig {
    /// Per-connection settings: size limit, heartbeat, close timeout.
    pub ws: WsConfig,
    /// Open connections at most; an upgrade beyond it is answered 503. Default 10,000.
    pub max_connections: usize,
    /// Which browser origins may connect. Default [`OriginPolicy::LoopbackOnly`].
    pub origins: OriginPolicy,
    /// Checks bearer tokens (see the [`auth`](crate::auth) module for where clients put them);
    /// `None` (the default) accepts everyone as [`Principal::anonymous`].
    pub verifier: Option<Arc<dyn TokenVerifier>>,
    /// Accept a token in the `access_token` query parameter. Default `false`: URLs end up in
    /// access logs.
    pub allow_query_token: bool,
    /// Upgraded connections waiting for the application to take them from the acceptor; the
    /// upgrade handlers wait beyond that. Default 64.
    pub accept_queue: usize,
    /// [`WsListener`](crate::WsListener) only: the path it serves (others get 404). Default `/mcp`.
    pub path: String,
    /// [`WsListener`](crate::WsListener) only: how long a client may take to send its upgrade
    /// request. Default 10 s.
    pub handshake_timeout: Duration,
    /// [`WsListener`](crate::WsListener) only: TCP connections still in their HTTP handshake at
    /// most; the listener stops accepting beyond it. Default 1,024.
    pub max_pending_handshakes: usize,
    /// [`WsListener`](crate::WsListener) only: listen on a non-loopback address without a
    /// verifier. Default `false`: such a listener refuses to start, as an unauthenticated MCP
    /// server is an open execution endpoint.
    pub allow_unauthenticated_remote: bool,
}

impl Default for WsServerConfig {
    fn default() -> Self {
        Self {
            ws: WsConfig::default(),
            max_connections: 10_000,
            origins: OriginPolicy::default(),
            verifier: None,
            allow_query_token: false,
            accept_queue: 64,
            path: "/mcp".to_owned(),
            handshake_timeout: Duration::from_secs(10),
            max_pending_handshakes: 1024,
            allow_unauthenticated_remote: false,
        }
    }
}

impl std::fmt::Debug for WsServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsServerConfig")
            .field("ws", &self.ws)
            .field("max_connections", &self.max_connections)
            .field("origins", &self.origins)
            .field("verifier", &self.verifier.as_ref().map(|_| "<dyn TokenVerifier>"))
            .field("allow_query_token", &self.allow_query_token)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl WsServerConfig {
    /// Sets the per-connection settings.
    #[must_use]
    pub fn with_ws(mut self, ws: WsConfig) -> Self {
        self.ws = ws;
        self
    }

    /// Requires a bearer token checked by `verifier`.
    #[must_use]
    pub fn with_verifier(mut self, verifier: impl TokenVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// Sets the origin policy.
    #[must_use]
    pub fn with_origins(mut self, origins: OriginPolicy) -> Self {
        self.origins = origins;
        self
    }

    /// Sets the cap on open connections (at least 1).
    #[must_use]
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }
}

// ===== WsServer =====

/// Accepts WebSocket upgrades and turns each into an [`IncomingSession`] on its [`WsAcceptor`].
///
/// Cheap to clone; every clone feeds the same acceptor. See the crate docs for mounting it in
/// an axum `Router`.
#[derive(Clone)]
pub struct WsServer {
    shared: Arc<Shared>,
}

struct Shared {
    config: WsServerConfig,
    sessions: mpsc::Sender<IncomingSession>,
    slots: Arc<Semaphore>,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for WsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsServer")
            .field("open_connections", &self.open_connections())
            .field("config", &self.shared.config)
            .finish()
    }
}

/// The stream of sessions a [`WsServer`] accepted: an [`mcp_core::Acceptor`].
///
/// It ends when every [`WsServer`] clone is dropped, or after [`WsServer::shutdown`].
pub struct WsAcceptor {
    sessions: mpsc::Receiver<IncomingSession>,
    shutdown: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
}

impl std::fmt::Debug for WsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsAcceptor").field("queued", &self.sessions.len()).finish()
    }
}

impl Stream for WsAcceptor {
    type Item = IncomingSession;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<IncomingSession>> {
        if let Some(shutdown) = &mut self.shutdown
            && shutdown.as_mut().poll(cx).is_ready()
        {
            // Sessions already queued still come out (their streams end at once); then `None`.
            self.shutdown = None;
            self.sessions.close();
        }
        self.sessions.poll_recv(cx)
    }
}

impl WsServer {
    /// A server and the acceptor its sessions come out of.
    pub fn new(config: WsServerConfig) -> (Self, WsAcceptor) {
        let (tx, rx) = mpsc::channel(config.accept_queue.max(1));
        let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
        let shutdown = CancellationToken::new();
        let acceptor = WsAcceptor { sessions: rx, shutdown: Some(Box::pin(shutdown.clone().cancelled_owned())) };
        let shared = Shared { config, sessions: tx, slots, shutdown };
        (Self { shared: Arc::new(shared) }, acceptor)
    }

    /// The settings.
    pub fn config(&self) -> &WsServerConfig {
        &self.shared.config
    }

    /// Connections upgraded and not yet dropped.
    pub fn open_connections(&self) -> usize {
        self.shared.config.max_connections.max(1) - self.shared.slots.available_permits()
    }

    /// Cancelled when [`shutdown`](Self::shutdown) starts.
    pub(crate) fn shutdown_token(&self) -> &CancellationToken {
        &self.shared.shutdown
    }

    /// Stops accepting upgrades (503 from now on) and tells every open connection to finish:
    /// each transport's stream ends, so its session completes in-flight requests and closes
    /// the transport, which sends close code 1001. Waits until every connection is gone or
    /// `grace` passed.
    ///
    /// Returns how many connections were still open when it gave up (0 on a clean drain); a
    /// transport dropped later still sends 1001.
    pub async fn shutdown(&self, grace: Duration) -> usize {
        self.shared.shutdown.cancel();
        let all = u32::try_from(self.shared.config.max_connections.max(1)).unwrap_or(u32::MAX);
        match tokio::time::timeout(grace, self.shared.slots.acquire_many(all)).await {
            Ok(_) => 0,
            Err(_) => self.open_connections(),
        }
    }

    /// Answers a WebSocket upgrade request: `101 Switching Protocols` and a new session on the
    /// acceptor, or an HTTP error saying what is wrong (400, 401, 403, 405, 426, 503).
    ///
    /// The request must come from a hyper server with upgrades enabled (`axum::serve` does);
    /// the peer address is taken from axum's `ConnectInfo<SocketAddr>` extension when present.
    /// Use [`is_websocket_upgrade`] first if the path also serves plain HTTP.
    pub async fn handle<B>(&self, mut req: Request<B>) -> Response<Body> {
        let shared = &self.shared;
        let remote = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        if shared.shutdown.is_cancelled() {
            return Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the server is shutting down").into_response();
        }
        let accept_key = match check_upgrade(&req) {
            Ok(key) => key,
            Err(refusal) => return refusal.into_response(),
        };
        let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if !shared.config.origins.allows(origin) {
            tracing::warn!(?remote, origin, "WebSocket upgrade refused: origin not allowed");
            return Refusal::new(StatusCode::FORBIDDEN, "origin not allowed (see WsServerConfig::origins)")
                .into_response();
        }
        let offered = offered_subprotocols(req.headers());
        let principal = match self.authenticate(req.headers(), req.uri().query(), &offered).await {
            Ok(principal) => principal,
            Err(refusal) => return refusal.into_response(),
        };
        let selected = offered.contains(&SUBPROTOCOL);
        let Ok(permit) = shared.slots.clone().try_acquire_owned() else {
            tracing::warn!(
                ?remote,
                max = shared.config.max_connections,
                "WebSocket upgrade refused: too many connections"
            );
            let refusal = Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "too many open connections; retry later");
            return refusal.with_header(header::RETRY_AFTER, "1").into_response();
        };
        let Some(on_upgrade) = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
            tracing::error!("WebSocket upgrade impossible: the HTTP server does not support upgrades");
            return Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "this HTTP server cannot upgrade connections (serve with hyper `with_upgrades()` or axum::serve)",
            )
            .into_response();
        };
        let mut info = SessionInfo::new("ws").with_principal(principal);
        info.remote_addr = remote;
        info.extensions.insert(safe_headers(req.headers()));
        let close = CloseHandle::child_of(&shared.shutdown);
        info.extensions.insert(close.clone());
        tokio::spawn(self.clone().hand_over(on_upgrade, info, close, permit));

        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = resp.headers_mut();
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        if let Ok(accept) = HeaderValue::from_str(&accept_key) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        if selected {
            h.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(SUBPROTOCOL));
        }
        resp
    }

    /// The principal of the request (from its headers, subprotocols and query), or the
    /// response refusing it.
    async fn authenticate(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        offered: &[&str],
    ) -> Result<Principal, Refusal> {
        let config = &self.shared.config;
        let Some(verifier) = &config.verifier else {
            return Ok(Principal::anonymous());
        };
        let token = presented_token(headers, offered, query, config.allow_query_token)
            .map_err(|why| unauthorized(why, true))?;
        let Some((token, source)) = token else {
            return Err(unauthorized("a bearer token is required", false));
        };
        match verifier.verify(&token).await {
            Ok(principal) => {
                tracing::debug!(principal = %principal.id, ?source, "WebSocket client authenticated");
                Ok(principal)
            }
            Err(AuthError::Unavailable(detail)) => {
                tracing::warn!(?source, %detail, "WebSocket upgrade refused: token verification unavailable");
                Err(Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "token verification unavailable; retry later"))
            }
            Err(_) => {
                tracing::info!(?source, "WebSocket upgrade refused: invalid token");
                Err(unauthorized("invalid token", true))
            }
        }
    }

    /// Waits for the upgrade to complete and queues the session for the acceptor.
    async fn hand_over(
        self,
        on_upgrade: hyper::upgrade::OnUpgrade,
        info: SessionInfo,
        close: CloseHandle,
        permit: OwnedSemaphorePermit,
    ) {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::debug!(remote = ?info.remote_addr, error = %err, "WebSocket upgrade did not complete");
                return;
            }
        };
        let config = &self.shared.config.ws;
        let io: BoxIo = Box::new(TokioIo::new(upgraded));
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config.tungstenite())).await;
        let transport = WsTransport::new(ws, config).with_server_parts(info.remote_addr, close.signal(), permit);
        tracing::debug!(remote = ?info.remote_addr, "WebSocket session accepted");
        if self.shared.sessions.send(IncomingSession::new(transport, info)).await.is_err() {
            tracing::debug!("WebSocket session dropped: nobody takes sessions from the acceptor");
        }
    }
}

/// Whether a request asks for a WebSocket upgrade (`Upgrade: websocket`), so a handler that
/// also serves plain HTTP on the same path can pass it to [`WsServer::handle`].
pub fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("websocket")))
}

/// Checks the RFC 6455 handshake fields; the `Sec-WebSocket-Accept` value, or the rejection.
fn check_upgrade<B>(req: &Request<B>) -> Result<String, Refusal> {
    if req.method() != http::Method::GET {
        let refusal = Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "a WebSocket upgrade must be a GET request");
        return Err(refusal.with_header(header::ALLOW, "GET"));
    }
    let connection_upgrade = req
        .headers()
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")));
    if !connection_upgrade || !is_websocket_upgrade(req.headers()) {
        let refusal =
            Refusal::new(StatusCode::UPGRADE_REQUIRED, "this endpoint speaks WebSocket: send an upgrade request");
        return Err(refusal.with_header(header::UPGRADE, "websocket"));
    }
    if req.headers().get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        let refusal = Refusal::new(StatusCode::UPGRADE_REQUIRED, "unsupported WebSocket version: use 13");
        return Err(refusal.with_header(header::SEC_WEBSOCKET_VERSION, "13"));
    }
    match req.headers().get(header::SEC_WEBSOCKET_KEY) {
        Some(key) if !key.is_empty() => Ok(derive_accept_key(key.as_bytes())),
        _ => Err(Refusal::new(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key")),
    }
}

/// The entries of every `Sec-WebSocket-Protocol` header, in order.
fn offered_subprotocols(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The upgrade request's headers without the ones that may carry secrets, for the session's
/// extensions.
fn safe_headers(headers: &HeaderMap) -> HeaderMap {
    let mut safe = headers.clone();
    safe.remove(header::AUTHORIZATION);
    safe.remove(header::SEC_WEBSOCKET_PROTOCOL);
    safe.remove(header::COOKIE);
    safe
}

/// An HTTP refusal of an upgrade: the status, a plain-text reason, at most one extra header.
struct Refusal {
    status: StatusCode,
    why: &'static str,
    header: Option<(header::HeaderName, &'static str)>,
}

impl Refusal {
    fn new(status: StatusCode, why: &'static str) -> Self {
        Self { status, why, header: None }
    }

    fn with_header(mut self, name: header::HeaderName, value: &'static str) -> Self {
        self.header = Some((name, value));
        self
    }

    fn into_response(self) -> Response<Body> {
        let mut resp = Response::new(Body::from(format!("{}\n", self.why)));
        *resp.status_mut() = self.status;
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        if let Some((name, value)) = self.header {
            headers.insert(name, HeaderValue::from_static(value));
        }
        resp
    }
}

fn unauthorized(why: &'static str, invalid: bool) -> Refusal {
    let challenge = if invalid { r#"Bearer realm="mcp", error="invalid_token""# } else { r#"Bearer realm="mcp""# };
    Refusal::new(StatusCode::UNAUTHORIZED, why).with_header(header::WWW_AUTHENTICATE, challenge)
}
