//! [`WsTransport`]: one WebSocket connection as an MCP [`Transport`](mcp_core::Transport).
//!
//! The transport reads and writes the socket directly (no task, no channel per connection).
//! Everything that happens without the application asking (heartbeat pings, the close
//! handshake, a server shutdown or policy close) is driven from `poll_next`, which a session
//! polls all the time it is alive.

use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures::{Sink, Stream};
use mcp_core::{Message, TransportError};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};

use crate::close_handle::{Stop, StopSignal};
use crate::config::WsConfig;
use crate::error::WsCloseReason;

/// Any byte stream a WebSocket runs on (TCP, TLS over TCP, an HTTP upgrade).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// The boxed byte stream under every [`WsTransport`].
pub(crate) type BoxIo = Box<dyn Io>;

/// One WebSocket connection carrying MCP: one JSON-RPC message (or batch) per text frame.
///
/// Built by [`WsServer`](crate::WsServer) (server side) and [`connect`](crate::connect)
/// (client side). It follows the `mcp_core` transport contract:
///
/// - a text frame that is not JSON (or not JSON-RPC) is a non-fatal item
///   ([`TransportError::Parse`] / [`TransportError::InvalidMessage`]) and the connection stays;
/// - a binary frame closes with 1003, a message over [`WsConfig::max_message_bytes`] with 1009,
///   a text frame that is not UTF-8 with 1007; each ends the stream with one fatal item,
///   [`TransportError::Other`] wrapping a [`WsCloseReason`];
/// - when nothing has arrived for [`WsConfig::ping_interval`], a ping goes out; when nothing
///   arrives within [`WsConfig::pong_timeout`] after it, the stream ends with
///   [`TransportError::ConnectionLost`];
/// - on a server shutdown the stream ends (`None`) so the session finishes in-flight work, and
///   closing the sink then sends close code 1001; otherwise closing sends 1000.
///
/// The heartbeat and the close handshake run while the stream is polled, which a session does
/// for as long as it lives. Dropping the transport without closing it sends a close frame if
/// the socket can take it without waiting.
///
/// # Cancel safety
///
/// `next()` is cancel-safe: partial frames stay in the transport's buffer.
pub struct WsTransport {
    /// Always `Some`, except inside `Drop`, which may hand it to a task that finishes the close.
    socket: Option<WebSocketStream<BoxIo>>,
    config: Timing,
    remote_addr: Option<SocketAddr>,
    /// Ping deadline, pong deadline or close deadline, depending on the state.
    timer: Pin<Box<Sleep>>,
    /// When the last frame of any kind arrived: proof the peer is alive.
    last_seen: Instant,
    /// When the unanswered ping went out, if one is outstanding.
    ping_sent: Option<Instant>,
    read: ReadState,
    close_sent: bool,
    /// A server shutdown was observed: close with 1001 rather than 1000.
    going_away: bool,
    stop: Option<StopSignal>,
    /// The server's connection slot, freed when the transport is dropped.
    _permit: Option<OwnedSemaphorePermit>,
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    ping_interval: Option<Duration>,
    pong_timeout: Duration,
    close_timeout: Duration,
    read_buffer_bytes: usize,
}

enum ReadState {
    Open,
    /// A close frame went out; discard what arrives until the peer's close frame (or EOF, or
    /// the deadline), then yield `error` (if any) and end.
    Closing {
        error: Option<TransportError>,
        /// `Some(n)`: the WebSocket layer has given up after an oversized frame, so drain raw
        /// bytes, at least `n` more, so the peer's pending write completes and it reads our
        /// close frame instead of a reset.
        raw_drain: Option<usize>,
    },
    Done,
}

impl fmt::Debug for WsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsTransport")
            .field("remote_addr", &self.remote_addr)
            .field("close_sent", &self.close_sent)
            .finish_non_exhaustive()
    }
}

impl WsTransport {
    /// Wraps an open WebSocket. Must be called inside a tokio runtime (it arms a timer).
    pub(crate) fn new(ws: WebSocketStream<BoxIo>, config: &WsConfig) -> Self {
        let now = Instant::now();
        let config = Timing {
            ping_interval: config.ping_interval,
            pong_timeout: config.pong_timeout,
            close_timeout: config.close_timeout,
            read_buffer_bytes: config.read_buffer_bytes,
        };
        let first = config.ping_interval.map_or(far_future(now), |every| now + every);
        Self {
            socket: Some(ws),
            config,
            remote_addr: None,
            timer: Box::pin(tokio::time::sleep_until(first)),
            last_seen: now,
            ping_sent: None,
            read: ReadState::Open,
            close_sent: false,
            going_away: false,
            stop: None,
            _permit: None,
        }
    }

    pub(crate) fn with_server_parts(
        mut self,
        remote_addr: Option<SocketAddr>,
        stop: StopSignal,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        self.remote_addr = remote_addr;
        self.stop = Some(stop);
        self._permit = Some(permit);
        self
    }

    fn ws(&mut self) -> Pin<&mut WebSocketStream<BoxIo>> {
        // Only `Drop` takes the socket, and nothing runs after it.
        #[allow(clippy::expect_used)]
        Pin::new(self.socket.as_mut().expect("the socket is taken only in Drop"))
    }

    /// The peer's address, when known.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    // ===== reading =====

    /// One step of the open state: stop signal, heartbeat, then the socket.
    fn poll_open(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, TransportError>>> {
        loop {
            if let Some(stop) = &mut self.stop
                && let Poll::Ready(stop) = stop.poll_stop(cx)
            {
                self.stop = None;
                match stop {
                    Stop::Shutdown => {
                        tracing::debug!(remote = ?self.remote_addr, "server shutting down: no more reads");
                        self.going_away = true;
                        self.read = ReadState::Done;
                        return Poll::Ready(None);
                    }
                    Stop::Now(reason) => {
                        self.begin_close(reason, None);
                        return self.poll_closing(cx);
                    }
                }
            }
            if let Some(item) = self.poll_heartbeat(cx) {
                return Poll::Ready(item);
            }
            if !matches!(self.read, ReadState::Open) {
                return self.poll_closing(cx);
            }
            let frame = match self.ws().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(frame) => frame,
            };
            self.last_seen = Instant::now();
            match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    return Poll::Ready(Some(Message::from_slice(text.as_bytes()).map_err(TransportError::from)));
                }
                Some(Ok(WsMessage::Binary(_))) => self.begin_close(WsCloseReason::BinaryFrame, None),
                // Pings are answered by the WebSocket layer; any frame proves liveness.
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {}
                // The close reply is queued; the next read sends it and ends the stream.
                Some(Ok(WsMessage::Close(frame))) => {
                    tracing::debug!(remote = ?self.remote_addr, ?frame, "peer closed the connection");
                    self.close_sent = true;
                }
                Some(Err(err)) => {
                    if let Some(item) = self.read_error(err) {
                        return Poll::Ready(Some(item));
                    }
                }
                None => {
                    self.read = ReadState::Done;
                    return Poll::Ready(None);
                }
            }
            if !matches!(self.read, ReadState::Open) {
                return self.poll_closing(cx);
            }
        }
    }

    /// Maps an error from the WebSocket layer: protocol violations close with their code,
    /// everything else means the connection is gone.
    fn read_error(&mut self, err: WsError) -> Option<Result<Message, TransportError>> {
        // `None`: the state changed (closing or done) and the caller goes on from there.
        let reason = match err {
            WsError::ConnectionClosed | WsError::AlreadyClosed => {
                self.read = ReadState::Done;
                return None;
            }
            WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                let pending = size.saturating_sub(self.config.read_buffer_bytes);
                self.begin_close(WsCloseReason::MessageTooLarge { size, limit: max_size }, Some(pending));
                return None;
            }
            WsError::Utf8(_) => WsCloseReason::InvalidUtf8,
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                self.read = ReadState::Done;
                return Some(Err(TransportError::ConnectionLost("the peer reset the connection".into())));
            }
            WsError::Protocol(p) => WsCloseReason::Protocol(p.to_string()),
            WsError::Capacity(c) => WsCloseReason::Protocol(c.to_string()),
            WsError::Io(e) => {
                self.read = ReadState::Done;
                return Some(Err(TransportError::Io(e)));
            }
            other => {
                self.read = ReadState::Done;
                return Some(Err(TransportError::ConnectionLost(other.to_string())));
            }
        };
        // The WebSocket layer stops reading after an error: send the close frame, skip the
        // handshake.
        self.send_close_frame(reason.code(), reason.wire_reason());
        tracing::warn!(remote = ?self.remote_addr, error = %reason, "closing WebSocket connection");
        self.read = ReadState::Done;
        Some(Err(TransportError::other(true, reason)))
    }

    /// Sends our close frame for `reason` and enters the closing state; the fatal item comes
    /// out once the peer has answered (or the close deadline passed).
    fn begin_close(&mut self, reason: WsCloseReason, raw_drain: Option<usize>) {
        tracing::warn!(remote = ?self.remote_addr, error = %reason, "closing WebSocket connection");
        self.send_close_frame(reason.code(), reason.wire_reason());
        self.enter_closing(Some(TransportError::other(true, reason)), raw_drain);
    }

    fn enter_closing(&mut self, error: Option<TransportError>, raw_drain: Option<usize>) {
        self.timer.as_mut().reset(Instant::now() + self.config.close_timeout);
        self.read = ReadState::Closing { error, raw_drain };
    }

    /// Queues a close frame without waiting (the socket write happens now if it can, else on
    /// the next flush). Failures mean the connection is already gone, which is what we want.
    fn send_close_frame(&mut self, code: CloseCode, reason: String) {
        if self.close_sent {
            return;
        }
        self.close_sent = true;
        let frame = CloseFrame { code, reason: Utf8Bytes::from(reason) };
        let _ = self.ws().start_send(WsMessage::Close(Some(frame)));
    }

    /// Drives the closing state to its end. Ready with the saved error, or `None`.
    fn poll_closing(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, TransportError>>> {
        let ReadState::Closing { raw_drain, .. } = self.read else {
            return Poll::Ready(None);
        };
        let mut raw_drain = raw_drain;
        // Push out our close frame if it is still queued; an error means the peer is gone.
        let mut finished = matches!(self.ws().poll_flush(cx), Poll::Ready(Err(_)));
        while !finished {
            match &mut raw_drain {
                None => match self.ws().poll_next(cx) {
                    Poll::Ready(Some(Ok(_))) => {}
                    Poll::Ready(None | Some(Err(_))) => finished = true,
                    Poll::Pending => break,
                },
                Some(pending) => {
                    let mut scratch = [0u8; 4096];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match Pin::new(self.ws().get_mut().get_mut()).poll_read(cx, &mut buf) {
                        Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                            *pending = pending.saturating_sub(buf.filled().len());
                        }
                        Poll::Ready(_) => finished = true,
                        Poll::Pending if *pending == 0 => finished = true,
                        Poll::Pending => break,
                    }
                }
            }
        }
        if let ReadState::Closing { raw_drain: saved, .. } = &mut self.read {
            *saved = raw_drain;
        }
        if !finished && self.timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let ReadState::Closing { error, .. } = std::mem::replace(&mut self.read, ReadState::Done) else {
            return Poll::Ready(None);
        };
        Poll::Ready(error.map(Err))
    }

    /// Sends pings and detects a dead peer. `Some(item)` ends the stream with `item`.
    fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> Option<Option<Result<Message, TransportError>>> {
        let every = self.config.ping_interval?;
        if !matches!(self.read, ReadState::Open) {
            return None;
        }
        while self.timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            match self.ping_sent {
                Some(sent) if self.last_seen < sent => {
                    let reason = WsCloseReason::HeartbeatTimeout { timeout: self.config.pong_timeout };
                    tracing::warn!(remote = ?self.remote_addr, error = %reason, "WebSocket peer is gone");
                    self.send_close_frame(reason.code(), reason.wire_reason());
                    self.read = ReadState::Done;
                    return Some(Some(Err(TransportError::ConnectionLost(reason.to_string()))));
                }
                _ if now.duration_since(self.last_seen) >= every => {
                    self.ping_sent = Some(now);
                    let _ = self.ws().start_send(WsMessage::Ping(Bytes::new()));
                    self.timer.as_mut().reset(now + self.config.pong_timeout);
                }
                _ => {
                    self.ping_sent = None;
                    self.timer.as_mut().reset(self.last_seen + every);
                }
            }
        }
        None
    }

    fn close_code(&self) -> CloseFrame {
        if self.going_away {
            CloseFrame { code: CloseCode::Away, reason: Utf8Bytes::from_static("server shutting down") }
        } else {
            CloseFrame { code: CloseCode::Normal, reason: Utf8Bytes::from_static("") }
        }
    }
}

fn far_future(now: Instant) -> Instant {
    now + Duration::from_secs(86_400 * 365)
}

fn send_error(err: WsError) -> TransportError {
    match err {
        WsError::ConnectionClosed | WsError::AlreadyClosed | WsError::Protocol(ProtocolError::SendAfterClosing) => {
            TransportError::Closed
        }
        WsError::Io(e) => TransportError::Io(e),
        other => TransportError::ConnectionLost(other.to_string()),
    }
}

// ===== impl Stream =====

impl Stream for WsTransport {
    type Item = Result<Message, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.read {
            ReadState::Done => Poll::Ready(None),
            ReadState::Closing { .. } => this.poll_closing(cx),
            ReadState::Open => this.poll_open(cx),
        }
    }
}

// ===== impl Sink =====

impl Sink<Message> for WsTransport {
    type Error = TransportError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.get_mut();
        if this.close_sent {
            return Poll::Ready(Err(TransportError::Closed));
        }
        this.ws().poll_ready(cx).map_err(send_error)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        let this = self.get_mut();
        if this.close_sent {
            return Err(TransportError::Closed);
        }
        let text = serde_json::to_string(&item).map_err(|e| TransportError::other(false, e))?;
        this.ws().start_send(WsMessage::Text(text.into())).map_err(send_error)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.get_mut().ws().poll_flush(cx).map_err(send_error)
    }

    /// Sends the close frame (1000, or 1001 after a server shutdown), then waits up to
    /// [`WsConfig::close_timeout`] for the peer's, discarding whatever else arrives.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.get_mut();
        if !this.close_sent {
            let frame = this.close_code();
            this.send_close_frame(frame.code, frame.reason.to_string());
        }
        match this.read {
            ReadState::Open => this.enter_closing(None, None),
            ReadState::Closing { .. } => {}
            ReadState::Done => {
                return this.ws().poll_flush(cx).map(|_| Ok(()));
            }
        }
        // A read-side error found while closing was already reported or is moot now.
        let _ = ready!(this.poll_closing(cx));
        Poll::Ready(Ok(()))
    }
}

impl Drop for WsTransport {
    /// Sends the close frame the application did not (1000, or 1001 after a server shutdown).
    /// When the socket cannot take it at once, a short task finishes the close (bounded by
    /// [`WsConfig::close_timeout`]), so the peer sees a close frame rather than a reset.
    fn drop(&mut self) {
        if self.close_sent {
            return;
        }
        let frame = self.close_code();
        self.send_close_frame(frame.code, frame.reason.to_string());
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        if self.ws().poll_flush(&mut cx).is_ready() {
            return;
        }
        let (Ok(runtime), Some(mut ws)) = (tokio::runtime::Handle::try_current(), self.socket.take()) else {
            return;
        };
        let limit = self.config.close_timeout;
        runtime.spawn(async move {
            let _ = tokio::time::timeout(limit, futures::future::poll_fn(|cx| Pin::new(&mut ws).poll_flush(cx))).await;
        });
    }
}
