//! [`WsListener`]: a standalone WebSocket server on its own TCP port.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use futures::Stream;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use mcp_core::IncomingSession;
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::server::{WsAcceptor, WsServer, WsServerConfig};

/// A WebSocket MCP server on its own TCP listener: an [`mcp_core::Acceptor`] of sessions.
///
/// It answers upgrades on [`WsServerConfig::path`] (default `/mcp`) exactly as
/// [`WsServer::handle`] does, and 404 elsewhere. Dropping the listener stops accepting; open
/// sessions live on. For a graceful stop use [`WsServer::shutdown`] on [`server`](Self::server).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures::StreamExt;
/// use mcp_transport_ws::{WsListener, WsServerConfig};
///
/// let mut listener = WsListener::bind("127.0.0.1:0", WsServerConfig::default()).await?;
/// println!("serving {}", listener.url());
/// while let Some(session) = listener.next().await {
///     tokio::spawn(async move { /* server.serve_session(session).await */ drop(session) });
/// }
/// # Ok(()) }
/// ```
pub struct WsListener {
    acceptor: WsAcceptor,
    server: WsServer,
    local_addr: SocketAddr,
    accept_loop: JoinHandle<()>,
}

impl std::fmt::Debug for WsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsListener").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

impl WsListener {
    /// Binds `addr` and starts accepting connections.
    ///
    /// # Errors
    /// The bind error, or `InvalidInput` when `addr` is not a loopback address and no
    /// [`WsServerConfig::verifier`] is configured (set
    /// [`WsServerConfig::allow_unauthenticated_remote`] to accept that risk).
    pub async fn bind(addr: impl ToSocketAddrs, config: WsServerConfig) -> io::Result<Self> {
        let tcp = TcpListener::bind(addr).await?;
        let local_addr = tcp.local_addr()?;
        if !local_addr.ip().is_loopback() && config.verifier.is_none() && !config.allow_unauthenticated_remote {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to serve MCP over WebSocket on {local_addr} without authentication: set \
                     WsServerConfig::verifier, or WsServerConfig::allow_unauthenticated_remote to let anyone \
                     who reaches the port run tools"
                ),
            ));
        }
        let handshakes = Arc::new(Semaphore::new(config.max_pending_handshakes.max(1)));
        let (server, acceptor) = WsServer::new(config);
        let accept_loop = tokio::spawn(accept_loop(tcp, server.clone(), handshakes));
        tracing::info!(%local_addr, "WebSocket MCP listener started");
        Ok(Self { acceptor, server, local_addr, accept_loop })
    }

    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The `ws://` URL clients connect to.
    pub fn url(&self) -> String {
        format!("ws://{}{}", self.local_addr, self.server.config().path)
    }

    /// The server behind the listener: connection count, [`WsServer::shutdown`].
    pub fn server(&self) -> &WsServer {
        &self.server
    }
}

impl Stream for WsListener {
    type Item = IncomingSession;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<IncomingSession>> {
        Pin::new(&mut self.acceptor).poll_next(cx)
    }
}

impl Drop for WsListener {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn accept_loop(tcp: TcpListener, server: WsServer, handshakes: Arc<Semaphore>) {
    let shutdown = server.shutdown_token().clone();
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else { return };
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = tcp.accept() => accepted,
        };
        match accepted {
            Ok((stream, remote)) => {
                let server = server.clone();
                tokio::spawn(async move {
                    serve_connection(stream, remote, server).await;
                    drop(permit);
                });
            }
            Err(err) => {
                // Out of file descriptors or similar: back off instead of spinning.
                tracing::warn!(error = %err, "accepting a TCP connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves one TCP connection's HTTP upgrade request.
async fn serve_connection(stream: TcpStream, remote: SocketAddr, server: WsServer) {
    let _ = stream.set_nodelay(true);
    let timeout = server.config().handshake_timeout;
    let service = service_fn(move |mut req: Request<Incoming>| {
        let server = server.clone();
        async move {
            if req.uri().path() != server.config().path {
                let mut resp = Response::new(Body::from("not found: MCP over WebSocket is served on another path\n"));
                *resp.status_mut() = StatusCode::NOT_FOUND;
                return Ok::<_, Infallible>(resp);
            }
            req.extensions_mut().insert(ConnectInfo(remote));
            Ok(server.handle(req).await)
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(err) = conn.await {
        tracing::debug!(%remote, error = %err, "HTTP connection before the WebSocket upgrade failed");
    }
}
