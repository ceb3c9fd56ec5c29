//! The server side: Streamable HTTP and legacy HTTP+SSE on one axum [`Router`], feeding an
//! [`Acceptor`](mcp_core::Acceptor) of MCP sessions.
//!
//! ```no_run
//! use futures::StreamExt;
//! use mcp_transport_sse::{HttpServer, HttpServerConfig};
//!
//! # async fn run() -> std::io::Result<()> {
//! let (server, mut sessions) = HttpServer::new(HttpServerConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! tokio::spawn(mcp_transport_sse::serve(listener, server, std::future::pending()));
//! while let Some(session) = sessions.next().await {
//!     // serve `session.transport` with an MCP server (mcp-peer), one task per session
//!     # drop(session);
//! }
//! # Ok(()) }
//! ```

mod coarse_timer;
mod config;
mod legacy;
mod registry;
mod request;
mod session;
mod sse_body;
mod streamable;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use futures::Stream;
use http::{HeaderMap, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use mcp_core::rerun::Rerun;
use mcp_core::{IncomingSession, Message, Principal, RequestId, SessionInfo, TransportError};
use rand::RngCore;
use tokio::sync::mpsc;

pub use config::HttpServerConfig;
pub use request::{PROTOCOL_VERSION, SESSION_ID};

use self::registry::Registry;
use self::session::{Session, SessionKind};
use crate::auth::{BearerAuthLayer, metadata_response};
use crate::http_error::HttpError;
use crate::session_store::SessionRecord;

/// State shared by every handler of one server.
pub(crate) struct Shared {
    pub(crate) config: HttpServerConfig,
    pub(crate) registry: Registry,
    acceptor: mpsc::Sender<IncomingSession>,
    shutting_down: AtomicBool,
    reaper_started: AtomicBool,
    /// Deadlines for a POST's first event (see [`streamable::FIRST_EVENT_WAIT`]).
    first_event_timer: coarse_timer::CoarseTimer,
}

/// The MCP HTTP server: build its [`Router`] with [`HttpServer::router`], mount it (or
/// [`serve`] it), and take sessions from the [`SessionAcceptor`] returned alongside.
///
/// Cloning is cheap; clones share the sessions.
#[derive(Clone)]
pub struct HttpServer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("config", &self.shared.config)
            .field("sessions", &self.shared.registry.len())
            .finish()
    }
}

/// The stream of sessions an [`HttpServer`] accepts: an [`Acceptor`](mcp_core::Acceptor).
///
/// A session's transport yields the client's messages and routes what is sent to it onto the
/// right HTTP response. It ends (`None`) when the client deletes the session, the session idles
/// out or the server shuts down. The acceptor ends when every [`HttpServer`] clone is dropped.
///
/// # Cancel safety
/// `next()` is cancel-safe: no session is lost by dropping the future.
pub struct SessionAcceptor {
    rx: mpsc::Receiver<IncomingSession>,
}

impl std::fmt::Debug for SessionAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionAcceptor").finish_non_exhaustive()
    }
}

impl Stream for SessionAcceptor {
    type Item = IncomingSession;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<IncomingSession>> {
        self.rx.poll_recv(cx)
    }
}

/// Lets the application close a session's SSE *connections* without ending the stream: the
/// client reconnects with `Last-Event-ID` and misses nothing (SSE polling, SEP-1699). Found in
/// every HTTP session's [`SessionInfo::extensions`].
#[derive(Clone)]
pub struct StreamControl {
    session: Weak<Session>,
}

impl std::fmt::Debug for StreamControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamControl").finish_non_exhaustive()
    }
}

impl StreamControl {
    /// Closes the connection carrying the response stream of `request`. Returns whether one was open.
    pub fn close_request_stream(&self, request: &RequestId) -> bool {
        self.session.upgrade().is_some_and(|s| s.close_request_connection(request))
    }

    /// Closes the standalone `GET` stream's connection. Returns whether one was open.
    pub fn close_standalone_stream(&self) -> bool {
        self.session.upgrade().is_some_and(|s| s.close_standalone_connection())
    }
}

impl HttpServer {
    /// A server with `config`, and the stream of sessions it will accept.
    pub fn new(config: HttpServerConfig) -> (Self, SessionAcceptor) {
        let (acceptor, rx) = mpsc::channel(config.channel_capacity.max(1));
        let shared = Arc::new(Shared {
            config,
            registry: Registry::default(),
            acceptor,
            shutting_down: AtomicBool::new(false),
            reaper_started: AtomicBool::new(false),
            first_event_timer: coarse_timer::CoarseTimer::new(streamable::FIRST_EVENT_WAIT),
        });
        (Self { shared }, SessionAcceptor { rx })
    }

    /// The configuration.
    pub fn config(&self) -> &HttpServerConfig {
        &self.shared.config
    }

    /// How many sessions are live (Streamable HTTP and legacy SSE).
    pub fn session_count(&self) -> usize {
        self.shared.registry.len()
    }

    /// Starts shutting down: `/health` answers 503 and new sessions are refused with 503.
    /// Existing sessions go on until [`HttpServer::close_all_sessions`].
    pub fn begin_shutdown(&self) {
        self.shared.shutting_down.store(true, Ordering::Release);
    }

    /// Ends every session: their transports' streams end and their SSE connections close.
    pub fn close_all_sessions(&self) {
        for session in self.shared.registry.drain() {
            self.shared.forget(&session);
        }
    }

    /// The routes: the Streamable HTTP endpoint (`POST`/`GET`/`DELETE`), the legacy SSE pair,
    /// `/health`, and the RFC 9728 metadata when configured. Host/Origin checks and (when
    /// configured) bearer auth cover the MCP routes; CORS (when configured) covers everything.
    ///
    /// When serving it yourself, set `TCP_NODELAY` on accepted sockets (as [`serve`] does, with
    /// `axum::serve::ListenerExt::tap_io`): SSE events are small writes, and Nagle's algorithm
    /// with delayed ACKs otherwise adds ~40 ms to each.
    pub fn router(&self) -> Router {
        let config = &self.shared.config;
        let mut mcp = Router::new().route(
            &config.mcp_path,
            axum::routing::post(streamable::post).get(streamable::get).delete(streamable::delete),
        );
        if config.legacy_sse {
            mcp = mcp
                .route(&config.sse_path, get(legacy::stream))
                .route(&config.messages_path, axum::routing::post(legacy::message));
        }
        let mut mcp = mcp.with_state(Arc::clone(&self.shared));
        if let Some(auth) = &config.auth {
            mcp = mcp.layer(BearerAuthLayer::new(auth.clone()));
        }
        let mcp = mcp.layer(middleware::from_fn_with_state(Arc::clone(&self.shared), origin_guard));
        let mut router =
            Router::new().route(&config.health_path, get(health)).with_state(Arc::clone(&self.shared)).merge(mcp);
        if let Some(metadata) = config.auth.as_ref().and_then(|a| a.resource_metadata()).cloned() {
            let path = metadata.well_known_path();
            router = router.route(&path, get(move || async move { metadata_response(&metadata) }));
        }
        if let Some(origins) = &config.cors_origins {
            router = router.layer(crate::cors::cors_layer(origins.clone()));
        }
        router
    }
}

/// 403 for a request whose `Host` or `Origin` the policy refuses (DNS rebinding).
async fn origin_guard(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let authority = request.uri().authority().map(|a| a.as_str().to_owned());
    match shared.config.origin_policy.check(request.headers(), authority.as_deref()) {
        Ok(()) => next.run(request).await,
        Err(rejection) => {
            tracing::warn!(%rejection, "request refused by the Host/Origin policy");
            HttpError::invalid(StatusCode::FORBIDDEN, format!("Forbidden: {rejection}")).into_response()
        }
    }
}

/// `GET /health`: 200 `{"status":"ok","sessions":N}`, or 503 with `"shutting_down"`.
async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let sessions = shared.registry.len();
    let (status, text) = if shared.shutting_down.load(Ordering::Acquire) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting_down")
    } else {
        (StatusCode::OK, "ok")
    };
    (status, axum::Json(serde_json::json!({ "status": text, "sessions": sessions }))).into_response()
}

/// A fresh session id: 256 random bits from the OS-seeded CSPRNG, base64url (visible ASCII).
fn mint_session_id() -> Arc<str> {
    random_token::<32>()
}

/// `N` random bytes from the OS-seeded CSPRNG, base64url.
pub(crate) fn random_token<const N: usize>() -> Arc<str> {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes).into()
}

impl Shared {
    /// Creates a session, registers it, and hands its transport to the application.
    ///
    /// # Errors
    /// 503 while shutting down, at the session limit, or when the application does not take
    /// the session in time.
    pub(crate) async fn create_session(
        self: &Arc<Self>,
        kind: SessionKind,
        headers: &HeaderMap,
        extensions: &http::Extensions,
    ) -> Result<Arc<Session>, HttpError> {
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(HttpError::invalid(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable: shutting down"));
        }
        let principal = extensions.get::<Principal>().cloned();
        let (session, inbound) = Session::new(
            mint_session_id(),
            kind,
            principal.as_ref().map(|p| p.id.clone()),
            self.config.event_store.clone(),
            self.config.channel_capacity,
        );
        if kind != SessionKind::Stateless {
            if !self.registry.insert(Arc::clone(&session), self.config.max_sessions) {
                tracing::warn!(max = self.config.max_sessions, "session limit reached; refusing a new session");
                return Err(HttpError::invalid(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "Service Unavailable: the server holds its maximum of {} sessions (HttpServerConfig::max_sessions); retry later",
                        self.config.max_sessions
                    ),
                ));
            }
            let record = SessionRecord {
                id: session.id.to_string(),
                principal: session.principal.clone(),
                transport: transport_name(kind),
                instance: Arc::clone(&self.config.instance_id),
                created_at: SystemTime::now(),
            };
            if let Err(err) = self.config.session_store.insert(record).await {
                self.forget(&session);
                tracing::error!(error = %err, "session store refused a new session");
                return Err(HttpError::invalid(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable: session store failed",
                ));
            }
            self.start_reaper();
        }
        let mut info = SessionInfo::new(transport_name(kind));
        if kind != SessionKind::Stateless {
            info.session_id = Some(session.id.to_string());
        }
        info.remote_addr = extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0);
        info.principal = principal;
        info.extensions.insert(StreamControl { session: session.downgrade() });
        info.extensions.insert(headers.clone());
        let incoming = IncomingSession::new(session_transport(&session, inbound), info);
        match tokio::time::timeout(self.config.accept_timeout, self.acceptor.send(incoming)).await {
            Ok(Ok(())) => {
                tracing::debug!(session = %session.id, transport = transport_name(kind), "session created");
                Ok(session)
            }
            _ => {
                self.forget(&session);
                tracing::warn!("no one is accepting sessions (the SessionAcceptor is full or dropped)");
                Err(HttpError::invalid(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable: the server is not accepting new sessions",
                ))
            }
        }
    }

    /// Ends a session and forgets it everywhere.
    pub(crate) fn end_session(&self, session: &Session) {
        self.registry.remove(&session.id);
        self.forget(session);
    }

    fn forget(&self, session: &Session) {
        self.registry.remove(&session.id);
        session.close();
        if session.kind == SessionKind::Stateless {
            return;
        }
        let id = session.id.to_string();
        let events = self.config.event_store.clone();
        let store = Arc::clone(&self.config.session_store);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Some(events) = events {
                    events.remove_session(&id).await;
                }
                if let Err(err) = store.remove(&id).await {
                    tracing::warn!(error = %err, "session store failed to remove a session");
                }
            });
        }
    }

    /// Reaps idle sessions in the background; the task ends with the server.
    fn start_reaper(self: &Arc<Self>) {
        if self.reaper_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let idle = self.config.idle_timeout;
        let period = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(shared) = weak.upgrade() else { break };
                for session in shared.registry.idle(idle) {
                    tracing::info!(session = %session.id, idle_secs = idle.as_secs(), "reaping idle session");
                    shared.end_session(&session);
                }
            }
        });
    }
}

pub(crate) fn transport_name(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Streamable | SessionKind::Stateless => "http",
        SessionKind::Legacy => "sse",
    }
}

/// The session as the application sees it: client messages in, server messages routed out.
fn session_transport(
    session: &Arc<Session>,
    inbound: mpsc::Receiver<Result<Message, TransportError>>,
) -> impl mcp_core::Transport {
    let stream = InboundStream { rx: inbound, closed: Box::pin(session.closed.clone().cancelled_owned()) };
    let sink = futures::sink::unfold(Arc::clone(session), |session, message: Message| async move {
        session.send(message).await?;
        Ok::<_, TransportError>(session)
    });
    mcp_core::Duplex::new(sink, stream)
}

/// A session's inbound messages. When the session ends, messages already accepted (their POST
/// got 202) are still delivered, then the stream ends.
struct InboundStream {
    rx: mpsc::Receiver<Result<Message, TransportError>>,
    closed: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
}

impl Stream for InboundStream {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.rx.poll_recv(cx) {
            Poll::Pending => self.closed.as_mut().poll(cx).map(|()| None),
            ready => ready,
        }
    }
}

/// Serves `server`'s router on `listener` until `shutdown` completes, then drains: `/health`
/// turns 503, sessions are closed, and in-flight requests get up to 10 s to finish.
///
/// # Errors
/// An I/O error of the listener, or `InvalidInput` at once when the listener is not on a
/// loopback address and no [`HttpServerConfig::auth`] is configured (set
/// [`HttpServerConfig::allow_unauthenticated_remote`] to accept that risk).
pub async fn serve(
    listener: tokio::net::TcpListener,
    server: HttpServer,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local_addr = listener.local_addr()?;
    let config = server.config();
    if !local_addr.ip().is_loopback() && config.auth.is_none() && !config.allow_unauthenticated_remote {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "refusing to serve MCP over HTTP on {local_addr} without authentication: set HttpServerConfig::auth, \
                 or HttpServerConfig::allow_unauthenticated_remote to let anyone who reaches the port run tools"
            ),
        ));
    }
    let router = server.router();
    let closer = server.clone();
    let shutdown = async move {
        shutdown.await;
        closer.begin_shutdown();
        closer.close_all_sessions();
    };
    serve_router(listener, router, shutdown).await
}

/// Serves any axum `router` on `listener` the way [`serve`] does (for an application that
/// mounts [`HttpServer::router`] beside routes of its own): `TCP_NODELAY` on every connection,
/// [`ConnectInfo`] in every request, HTTP/1.1 and HTTP/2 with upgrades, each connection's task
/// under [`Rerun`]; once `shutdown` completes, no new connections, and those open get up to
/// 10 s to finish their requests.
///
/// # Errors
/// None today beyond the signature's `io::Result` (accept errors are logged and retried).
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    http.http2().enable_connect_protocol();
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors, a connection reset before it was accepted: the
                // listener itself is fine.
                Err(err) => {
                    tracing::debug!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // SSE writes small events one by one: without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
        let service = tower::ServiceExt::map_request(router.clone(), move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            request
        });
        let connection = http.serve_connection_with_upgrades(TokioIo::new(tcp), TowerToHyperService::new(service));
        let connection = connections.watch(connection.into_owned());
        // hyper's connection and the handler it polls hand each other work through channels,
        // waking their own task while it runs: Rerun makes that another round of the poll
        // instead of a requeue that wakes another worker thread.
        tokio::spawn(Rerun::new(Box::pin(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%remote, error = %err, "connection ended with an error");
            }
        })));
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), connections.shutdown()).await.is_err() {
        tracing::warn!("in-flight requests did not finish within 10 s of shutdown; dropping them");
    }
    Ok(())
}
