//! What the socket acceptors share: their settings, the bound on concurrent connections, and
//! the accept loop that honours it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Sink, Stream};
use mcp_core::{IncomingSession, Message, SessionInfo, Transport, TransportError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::PollSemaphore;

use crate::config::StdioConfig;

/// How long to pause accepting after an error that is not about one connection (the process
/// ran out of descriptors or memory), instead of spinning on the same error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Settings of a [`TcpAcceptor`](super::TcpAcceptor) or [`UnixAcceptor`](super::UnixAcceptor).
///
/// ```
/// use mcp_transport_stdio::{ListenerConfig, StdioConfig};
///
/// let config = ListenerConfig::default()
///     .with_max_connections(64)
///     .with_framing(StdioConfig::default().with_max_message_bytes(1 << 20));
/// assert_eq!(config.max_connections, 64);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListenerConfig {
    /// How many sessions may be open at once (default 10,000). At the limit the acceptor
    /// stops accepting (new connections wait in the kernel's backlog) until a session ends.
    pub max_connections: usize,
    /// The framing limits of each session.
    pub framing: StdioConfig,
    /// Whether a TCP acceptor may listen on a non-loopback address (default `false`). Raw TCP
    /// has no authentication: anyone who can connect can call every tool. Set it only when a
    /// firewall, tunnel or authenticating proxy stands in front.
    pub allow_non_loopback: bool,
    /// The permissions of a Unix socket file the acceptor creates (default `0o600`: only this
    /// user may connect).
    pub unix_socket_mode: u32,
    /// TCP keepalive for accepted connections: how long a connection may be silent before the
    /// kernel probes the peer (default 60 s; 3 probes 10 s apart then end a dead connection).
    /// `None` turns it off. Raw TCP has no heartbeat of its own, so without it a vanished peer
    /// would hold its session and its connection slot forever.
    pub tcp_keepalive: Option<Duration>,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            framing: StdioConfig::default(),
            allow_non_loopback: false,
            unix_socket_mode: 0o600,
            tcp_keepalive: Some(super::tcp::DEFAULT_KEEPALIVE),
        }
    }
}

impl ListenerConfig {
    /// Sets [`max_connections`](Self::max_connections) (at least 1).
    #[must_use]
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets [`framing`](Self::framing).
    #[must_use]
    pub fn with_framing(mut self, framing: StdioConfig) -> Self {
        self.framing = framing;
        self
    }

    /// Sets [`allow_non_loopback`](Self::allow_non_loopback).
    #[must_use]
    pub fn with_allow_non_loopback(mut self, allow: bool) -> Self {
        self.allow_non_loopback = allow;
        self
    }

    /// Sets [`tcp_keepalive`](Self::tcp_keepalive).
    #[must_use]
    pub fn with_tcp_keepalive(mut self, idle: Option<Duration>) -> Self {
        self.tcp_keepalive = idle;
        self
    }

    /// Sets [`unix_socket_mode`](Self::unix_socket_mode).
    #[must_use]
    pub fn with_unix_socket_mode(mut self, mode: u32) -> Self {
        self.unix_socket_mode = mode;
        self
    }
}

// ===== the accept loop =====

/// A listening socket, as the accept loop sees it.
pub(crate) trait Listen: Unpin + Send + 'static {
    /// The transport of one accepted connection.
    type Transport: Transport;

    /// Accepts one connection.
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(Self::Transport, SessionInfo)>>;
}

/// Accepts connections from `L` while fewer than `max_connections` sessions are open.
pub(crate) struct LimitedAccept<L> {
    listener: L,
    permits: PollSemaphore,
    max_connections: usize,
    /// Acquired before accepting, so that a connection is only taken when it can be served.
    permit: Option<OwnedSemaphorePermit>,
    backoff: Option<Pin<Box<tokio::time::Sleep>>>,
    saturated: bool,
}

impl<L: Listen> LimitedAccept<L> {
    pub(crate) fn new(listener: L, max_connections: usize) -> Self {
        let max_connections = max_connections.max(1);
        Self {
            listener,
            permits: PollSemaphore::new(Arc::new(Semaphore::new(max_connections))),
            max_connections,
            permit: None,
            backoff: None,
            saturated: false,
        }
    }

    pub(crate) fn listener(&self) -> &L {
        &self.listener
    }

    /// How many sessions are open now.
    pub(crate) fn open_sessions(&self) -> usize {
        self.max_connections - self.permits.available_permits() - usize::from(self.permit.is_some())
    }

    pub(crate) fn poll_next_session(&mut self, cx: &mut Context<'_>) -> Poll<Option<IncomingSession>> {
        loop {
            if self.permit.is_none() {
                match self.permits.poll_acquire(cx) {
                    Poll::Ready(Some(permit)) => {
                        self.permit = Some(permit);
                        self.saturated = false;
                    }
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => {
                        if !self.saturated {
                            self.saturated = true;
                            tracing::warn!(
                                max_connections = self.max_connections,
                                "connection limit reached; new connections wait until a session ends \
                                 (raise ListenerConfig::max_connections to serve more at once)"
                            );
                        }
                        return Poll::Pending;
                    }
                }
            }
            if let Some(backoff) = self.backoff.as_mut() {
                std::task::ready!(backoff.as_mut().poll(cx));
                self.backoff = None;
            }
            match std::task::ready!(self.listener.poll_accept(cx)) {
                Ok((transport, info)) => {
                    let permit = self.permit.take();
                    tracing::debug!(transport = info.transport, remote = ?info.remote_addr, "accepted a connection");
                    return Poll::Ready(Some(IncomingSession::new(Permitted { transport, _permit: permit }, info)));
                }
                Err(e) => {
                    // One failed connection never ends the acceptor. An error about that one
                    // connection is skipped; anything else (out of descriptors, a listener-level
                    // failure) pauses accepting briefly instead of spinning on it.
                    let per_connection = matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
                    );
                    tracing::warn!(error = %e, exhausted = is_resource_exhaustion(&e), "accepting a connection failed");
                    if !per_connection {
                        self.backoff = Some(Box::pin(tokio::time::sleep(ACCEPT_BACKOFF)));
                    }
                }
            }
        }
    }
}

fn is_resource_exhaustion(e: &io::Error) -> bool {
    use rustix::io::Errno;
    Errno::from_io_error(e)
        .is_some_and(|errno| [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM].contains(&errno))
}

// ===== Permitted =====

pin_project_lite::pin_project! {
    /// A session's transport holding its slot under the connection limit until dropped.
    struct Permitted<T> {
        #[pin]
        transport: T,
        _permit: Option<OwnedSemaphorePermit>,
    }
}

impl<T: Stream> Stream for Permitted<T> {
    type Item = T::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T::Item>> {
        self.project().transport.poll_next(cx)
    }
}

impl<T: Sink<Message, Error = TransportError>> Sink<Message> for Permitted<T> {
    type Error = TransportError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.project().transport.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        self.project().transport.start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.project().transport.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.project().transport.poll_close(cx)
    }
}
