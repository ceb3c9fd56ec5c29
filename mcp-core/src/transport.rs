//! The contract every MCP transport implements.
//!
//! A [`Transport`] is a [`Sink`] of [`Message`]s and a [`Stream`] of `Result<Message,
//! TransportError>`: nothing more. Anything that is both is a transport (there is a blanket
//! implementation), so a custom transport is usually a channel or a socket wrapped in
//! [`Duplex::new`], with no hand-written `poll_*` functions.
//!
//! # The contract
//!
//! Receiving (the [`Stream`] half):
//! - Each item is one complete message (or a [`Message::Batch`]), in the order the peer sent them.
//! - A *frame-level* problem, one malformed or oversized message, is an `Err` item whose
//!   [`TransportError::is_fatal`] is `false`. The stream goes on and later messages are still
//!   delivered. A session answers such an item with [`TransportError::error_response`].
//! - A *fatal* problem (the connection is gone, an I/O error) is an `Err` item with
//!   `is_fatal() == true`; the stream then yields `None`.
//! - A clean close by the peer ends the stream with `None` and no error.
//!
//! # Cancel safety
//!
//! `StreamExt::next()` on a transport is cancel-safe: dropping the future before it completes
//! loses no message. Partial frames live in the transport's own buffer, never in the future.
//! This is what lets a session `select!` between reading and other work.
//!
//! Sending (the [`Sink`] half):
//! - `poll_ready` is the backpressure: it stays pending while the peer (or the medium) cannot
//!   take more. A transport never queues without bound.
//! - `start_send` + `poll_flush` hand the message to the medium; `poll_close` flushes what is
//!   queued and then closes the sending direction, so a message accepted by the sink is not
//!   lost by a close.
//!
//! # Errors
//!
//! After the sink returns a fatal error, further sends fail too (typically with
//! [`TransportError::Closed`]). A frame error never comes out of the sink.
//!
//! # Panics
//!
//! Transports never panic on input from the network; a malformed frame is an error item.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Sink, Stream};

use crate::jsonrpc::{DecodeError, ErrorObject, Message, RequestId};
use crate::principal::Principal;

// ===== TransportError =====

/// What can go wrong on a transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A frame was not valid JSON (or not UTF-8). Not fatal: answer -32700 with a null id.
    #[error("malformed message (not valid JSON): {detail}")]
    Parse {
        /// What the JSON parser reported.
        detail: String,
    },
    /// A frame was JSON but not a valid JSON-RPC message. Not fatal: answer -32600.
    #[error("invalid JSON-RPC message: {detail}")]
    InvalidMessage {
        /// The id of the offending message, when it could be read.
        id: Option<RequestId>,
        /// What is wrong with it.
        detail: String,
    },
    /// A frame exceeded the transport's size limit and was skipped. Not fatal.
    #[error(
        "message of {} exceeds the {} limit{}; skipped",
        size.map_or_else(|| "unknown size".to_owned(), |s| human_bytes(s as u64)),
        human_bytes(*limit as u64),
        setting.map(|s| format!(" (set {s})")).unwrap_or_default()
    )]
    MessageTooLarge {
        /// The size of the message in bytes, when known.
        size: Option<usize>,
        /// The limit in bytes.
        limit: usize,
        /// The configuration setting that controls the limit, e.g. `StdioConfig::max_message_bytes`.
        setting: Option<&'static str>,
    },
    /// A frame of a kind the transport does not carry (e.g. a binary WebSocket frame). Not fatal.
    #[error("unsupported frame: {0}")]
    UnsupportedFrame(String),
    /// The transport is closed: sending after close, or the session was ended locally. Fatal.
    #[error("transport closed")]
    Closed,
    /// The connection to the peer was lost (the process exited, the socket reset, the
    /// heartbeat went unanswered). Fatal.
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// An I/O error on the underlying medium. Fatal.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Any other error from a transport implementation.
    #[error("{source}")]
    Other {
        /// Whether the transport can go on after this error.
        fatal: bool,
        /// The underlying error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl TransportError {
    /// A custom error; `fatal` says whether the transport ends after it.
    pub fn other(fatal: bool, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Other { fatal, source: source.into() }
    }

    /// Whether the transport has ended. After a fatal error the stream yields `None` and sends
    /// fail; after a non-fatal one the transport goes on.
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Parse { .. }
            | Self::InvalidMessage { .. }
            | Self::MessageTooLarge { .. }
            | Self::UnsupportedFrame(_) => false,
            Self::Closed | Self::ConnectionLost(_) | Self::Io(_) => true,
            Self::Other { fatal, .. } => *fatal,
        }
    }

    /// For a frame-level error, the JSON-RPC error response to send back to the peer.
    ///
    /// `None` for errors that are not about one received frame.
    pub fn error_response(&self) -> Option<Message> {
        match self {
            Self::Parse { detail } => Some(Message::error(None, ErrorObject::parse_error(detail))),
            Self::InvalidMessage { id, detail } => {
                Some(Message::error(id.clone(), ErrorObject::invalid_request(detail)))
            }
            Self::MessageTooLarge { size, limit, .. } => Some(Message::error(
                None,
                ErrorObject::invalid_request(self).with_data(&serde_json::json!({ "limit": limit, "size": size })),
            )),
            Self::UnsupportedFrame(detail) => Some(Message::error(None, ErrorObject::invalid_request(detail))),
            _ => None,
        }
    }
}

impl From<DecodeError> for TransportError {
    fn from(err: DecodeError) -> Self {
        match err {
            DecodeError::Parse(detail) => Self::Parse { detail },
            DecodeError::Invalid { id, detail } => Self::InvalidMessage { id, detail },
        }
    }
}

/// Formats a byte count for error messages: `16 MiB`, `20.3 MiB`, `512 bytes`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            let whole = n / size;
            let tenth = (n % size) * 10 / size;
            return if tenth == 0 { format!("{whole} {unit}") } else { format!("{whole}.{tenth} {unit}") };
        }
    }
    format!("{n} bytes")
}

// ===== Transport =====

/// A bidirectional channel of MCP messages; see the [module docs](self) for the contract.
///
/// Implemented for every `Sink<Message, Error = TransportError> + Stream<Item =
/// Result<Message, TransportError>> + Send + 'static`.
pub trait Transport:
    Sink<Message, Error = TransportError> + Stream<Item = Result<Message, TransportError>> + Send + 'static
{
}

impl<T> Transport for T where
    T: Sink<Message, Error = TransportError> + Stream<Item = Result<Message, TransportError>> + Send + 'static
{
}

/// A type-erased transport, for choosing a transport at run time.
pub type BoxTransport = Pin<Box<dyn Transport>>;

/// Conversions for any [`Transport`].
pub trait TransportExt: Transport + Sized {
    /// Boxes the transport into a [`BoxTransport`].
    fn boxed(self) -> BoxTransport {
        Box::pin(self)
    }
}

impl<T: Transport> TransportExt for T {}

// ===== Duplex =====

/// Joins any sink and stream of messages into one [`Transport`].
///
/// Both halves are pinned on the heap once, so `Duplex` is `Unpin` whatever the halves are;
/// this makes `futures::sink::unfold` and `async-stream`-style streams usable directly.
///
/// ```
/// use futures::{SinkExt, StreamExt, channel::mpsc};
/// use mcp_core::{Duplex, Message, TransportError};
///
/// # futures::executor::block_on(async {
/// let (tx, rx) = mpsc::channel::<Message>(8);
/// // Whatever we send comes back: a loopback transport in two lines.
/// let sink = tx.sink_map_err(|_| TransportError::Closed);
/// let mut transport = Duplex::new(sink, rx.map(Ok));
/// transport.send(Message::notification("ping", &serde_json::json!({})).unwrap()).await.unwrap();
/// assert_eq!(transport.next().await.unwrap().unwrap().method(), Some("ping"));
/// # });
/// ```
pub struct Duplex<Si, St> {
    sink: Pin<Box<Si>>,
    stream: Pin<Box<St>>,
}

impl<Si, St> Duplex<Si, St>
where
    Si: Sink<Message, Error = TransportError>,
    St: Stream<Item = Result<Message, TransportError>>,
{
    /// Joins `sink` and `stream`.
    pub fn new(sink: Si, stream: St) -> Self {
        Self { sink: Box::pin(sink), stream: Box::pin(stream) }
    }
}

impl<Si, St> fmt::Debug for Duplex<Si, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Duplex").finish_non_exhaustive()
    }
}

impl<Si, St> Sink<Message> for Duplex<Si, St>
where
    Si: Sink<Message, Error = TransportError>,
{
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.sink.as_mut().poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        self.sink.as_mut().start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.sink.as_mut().poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.sink.as_mut().poll_close(cx)
    }
}

impl<Si, St> Stream for Duplex<Si, St>
where
    St: Stream<Item = Result<Message, TransportError>>,
{
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

// ===== sessions and acceptors =====

/// A type map for whatever a transport knows about a session beyond the common fields
/// (HTTP headers, a TLS client certificate, a NATS subject).
#[derive(Default)]
pub struct Extensions {
    map: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl Extensions {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value`, returning the previous value of the same type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) -> Option<T> {
        self.map.insert(TypeId::of::<T>(), Box::new(value)).and_then(|old| old.downcast::<T>().ok().map(|b| *b))
    }

    /// The stored value of type `T`.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.map.get(&TypeId::of::<T>()).and_then(|b| b.downcast_ref::<T>())
    }

    /// Removes and returns the stored value of type `T`.
    pub fn remove<T: Send + Sync + 'static>(&mut self) -> Option<T> {
        self.map.remove(&TypeId::of::<T>()).and_then(|b| b.downcast::<T>().ok().map(|b| *b))
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions").field("len", &self.map.len()).finish()
    }
}

/// What a transport knows about one session: who is calling and from where.
#[derive(Debug, Default)]
pub struct SessionInfo {
    /// The transport's name: `"stdio"`, `"tcp"`, `"http"`, `"sse"`, `"ws"`, `"nats"`, `"redis"`, ...
    pub transport: &'static str,
    /// A transport-specific session identifier (HTTP `Mcp-Session-Id`, NATS session id), if any.
    pub session_id: Option<String>,
    /// The peer's network address, when the medium has one.
    pub remote_addr: Option<SocketAddr>,
    /// The authenticated caller, when the transport authenticated one.
    pub principal: Option<Principal>,
    /// Anything else the transport knows.
    pub extensions: Extensions,
}

impl SessionInfo {
    /// Info for a session on `transport` with nothing else known.
    pub fn new(transport: &'static str) -> Self {
        Self { transport, ..Self::default() }
    }

    /// Sets the principal.
    #[must_use]
    pub fn with_principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Sets the remote address.
    #[must_use]
    pub fn with_remote_addr(mut self, addr: SocketAddr) -> Self {
        self.remote_addr = Some(addr);
        self
    }
}

/// A session a server-side transport accepted: a transport plus what is known about it.
pub struct IncomingSession {
    /// The session's messages.
    pub transport: BoxTransport,
    /// Who is calling and from where.
    pub info: SessionInfo,
}

impl IncomingSession {
    /// A session from any transport.
    pub fn new(transport: impl Transport, info: SessionInfo) -> Self {
        Self { transport: Box::pin(transport), info }
    }
}

impl fmt::Debug for IncomingSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingSession").field("info", &self.info).finish_non_exhaustive()
    }
}

/// A server-side transport that accepts many sessions: a stream of [`IncomingSession`]s.
///
/// The stream ends when the listener is closed. Failures of one connection attempt (a TLS
/// handshake, a rejected upgrade) are the acceptor's to log and never end the stream. A server
/// typically runs one session task per item; see `mcp-peer`.
pub trait Acceptor: Stream<Item = IncomingSession> + Send + 'static {}

impl<T> Acceptor for T where T: Stream<Item = IncomingSession> + Send + 'static {}

/// A type-erased [`Acceptor`].
pub type BoxAcceptor = Pin<Box<dyn Acceptor>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_reads_well() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(16 << 20), "16 MiB");
        assert_eq!(human_bytes((20 << 20) + (3 << 20) / 10 + 1), "20.3 MiB");
    }

    #[test]
    fn too_large_names_the_limit_and_setting() {
        let e = TransportError::MessageTooLarge {
            size: Some(21_300_000),
            limit: 16 << 20,
            setting: Some("StdioConfig::max_message_bytes"),
        };
        assert_eq!(
            e.to_string(),
            "message of 20.3 MiB exceeds the 16 MiB limit (set StdioConfig::max_message_bytes); skipped"
        );
        assert!(!e.is_fatal());
        let resp = e.error_response().unwrap();
        assert!(resp.to_string().contains("-32600"), "{resp}");
    }

    #[test]
    fn extensions_store_by_type() {
        let mut ext = Extensions::new();
        assert!(ext.insert(5u32).is_none());
        assert_eq!(ext.insert(6u32), Some(5));
        ext.insert("hello");
        assert_eq!(ext.get::<u32>(), Some(&6));
        assert_eq!(ext.remove::<&str>(), Some("hello"));
        assert!(ext.get::<&str>().is_none());
    }
}
