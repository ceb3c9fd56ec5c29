//! The transport type both HTTP clients return.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::{Sink, Stream};
use mcp_core::{Message, TransportError};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard, WaitForCancellationFutureOwned};

/// The sending half of a client transport. A send may run inside the transport (a POST polled
/// by whoever polls the transport), in which case what it receives comes out of
/// [`Outbound::poll_received`], not the shared queue.
pub(crate) trait Outbound: Sink<Message, Error = TransportError> + Send {
    /// Runs the sends in progress and returns one message they received, if any; they wake
    /// `cx` when they can go on.
    fn poll_received(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Option<Result<Message, TransportError>> {
        None
    }
}

/// A client-side HTTP transport: what is sent becomes POSTs, what the server sends (in POST
/// responses and SSE streams) comes out of the stream.
///
/// # Polling
/// The Streamable HTTP client's POSTs run inside the transport, not in tasks of their own: they
/// make progress while the transport is polled, so keep reading its stream (an MCP session
/// always does), as with a WebSocket. The two halves may be split and polled from different
/// tasks.
///
/// # Cancel safety
/// Receiving is cancel-safe: messages wait in a bounded queue, never in the future.
///
/// # Errors
/// A fatal error item ends the stream; its source is an
/// [`HttpClientError`](super::HttpClientError), [`SessionExpired`](super::HttpClientError::SessionExpired)
/// when the server forgot the session (initialize again on a new transport).
pub struct HttpClientTransport {
    sink: Pin<Box<dyn Outbound>>,
    inbound: mpsc::Receiver<Result<Message, TransportError>>,
    session_id: Arc<Mutex<Option<String>>>,
    closed: Pin<Box<WaitForCancellationFutureOwned>>,
    ended: bool,
    /// Dropping the transport stops its background tasks and closes its SSE connections (a
    /// legacy server then ends the session; a Streamable HTTP session idles out, as no DELETE
    /// can be sent from `drop`: call `close` for that).
    _stop_on_drop: DropGuard,
}

impl std::fmt::Debug for HttpClientTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClientTransport").field("session_id", &self.session_id()).finish_non_exhaustive()
    }
}

impl HttpClientTransport {
    pub(crate) fn new(
        sink: Pin<Box<dyn Outbound>>,
        inbound: mpsc::Receiver<Result<Message, TransportError>>,
        session_id: Arc<Mutex<Option<String>>>,
        closed: CancellationToken,
    ) -> Self {
        Self {
            sink,
            inbound,
            session_id,
            closed: Box::pin(closed.clone().cancelled_owned()),
            ended: false,
            _stop_on_drop: closed.drop_guard(),
        }
    }

    /// The session id the server assigned, once known.
    pub fn session_id(&self) -> Option<String> {
        self.session_id.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Sink<Message> for HttpClientTransport {
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

impl Stream for HttpClientTransport {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let received = match self.sink.as_mut().poll_received(cx) {
            Some(item) => Poll::Ready(Some(item)),
            None => self.inbound.poll_recv(cx),
        };
        match received {
            Poll::Ready(Some(item)) => {
                if item.as_ref().is_err_and(TransportError::is_fatal) {
                    self.ended = true;
                }
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                self.ended = true;
                Poll::Ready(None)
            }
            // Nothing queued: the stream ends once the transport is closed.
            Poll::Pending => match self.closed.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.ended = true;
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
