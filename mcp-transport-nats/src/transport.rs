//! [`NatsTransport`]: one MCP session over NATS, the same type on both sides.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::channel::{mpsc, oneshot};
use futures::{Sink, Stream};
use mcp_core::TransportError;
use mcp_core::jsonrpc::{ErrorObject, Message};

use crate::inflight::RequestIds;

/// The name of the limit in "message too large" errors.
pub(crate) const MAX_PAYLOAD_SETTING: &str = "max_payload in the nats-server configuration";

/// One outgoing message, serialized by the sender's task.
#[derive(Debug)]
pub(crate) struct Outbound {
    pub(crate) payload: Bytes,
    pub(crate) requests: RequestIds,
}

/// One MCP session over NATS: a [`Transport`](mcp_core::Transport) on either side.
///
/// Made by [`connect`](crate::connect) (client side) or taken from a
/// [`NatsAcceptor`](crate::NatsAcceptor) (server side, boxed in an
/// [`IncomingSession`](mcp_core::IncomingSession)). A background task per session moves
/// messages between this handle and NATS and keeps the heartbeat; dropping the transport
/// closes the session (the peer sees a clean close).
///
/// # Errors
///
/// Sending a message larger than the NATS server's `max_payload` fails with a non-fatal
/// [`TransportError::MessageTooLarge`] naming the limit, and nothing is published for it;
/// when that message is a response, the peer gets an error response with the same id instead,
/// so its caller does not wait for an answer that will never come. The session goes on.
///
/// The stream ends with [`TransportError::ConnectionLost`] when the peer stops answering
/// heartbeats or its NATS subscription disappears, and with `None` when the peer closes.
///
/// # Cancel safety
///
/// Receiving is cancel-safe: messages wait in a channel, never in the `next()` future.
pub struct NatsTransport {
    pub(crate) session_id: String,
    pub(crate) client: async_nats::Client,
    pub(crate) outbound: mpsc::Sender<Outbound>,
    pub(crate) inbound: mpsc::Receiver<Result<Message, TransportError>>,
    /// Completes when the session task has published everything and the close.
    pub(crate) closed: Option<oneshot::Receiver<()>>,
}

impl NatsTransport {
    /// The session id (chosen by the server instance).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The message to publish instead of an oversized `msg`, if any: an error response to the
    /// same id when `msg` answers a request.
    fn stand_in(msg: &Message, error: &TransportError) -> Option<Message> {
        let id = match msg {
            Message::Response(r) => r.id.clone(),
            Message::Error(e) => e.id.clone()?,
            _ => return None,
        };
        Some(Message::error(
            Some(id),
            ErrorObject::internal_error(format_args!("the response could not be sent: {error}")),
        ))
    }
}

impl fmt::Debug for NatsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsTransport").field("session_id", &self.session_id).finish_non_exhaustive()
    }
}

impl Sink<Message> for NatsTransport {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.outbound.poll_ready(cx).map_err(|_| TransportError::Closed)
    }

    fn start_send(mut self: Pin<&mut Self>, msg: Message) -> Result<(), TransportError> {
        let payload = msg.to_vec();
        let limit = self.client.max_payload();
        if payload.len() > limit {
            let error = TransportError::MessageTooLarge {
                size: Some(payload.len()),
                limit,
                setting: Some(MAX_PAYLOAD_SETTING),
            };
            tracing::warn!(session = %self.session_id, size = payload.len(), limit, method = msg.method(), "outgoing message exceeds the NATS max_payload; not sent");
            if let Some(stand_in) = Self::stand_in(&msg, &error) {
                let payload = Bytes::from(stand_in.to_vec());
                self.outbound
                    .start_send(Outbound { payload, requests: RequestIds::None })
                    .map_err(|_| TransportError::Closed)?;
            }
            return Err(error);
        }
        let requests = RequestIds::of(&msg);
        self.outbound
            .start_send(Outbound { payload: Bytes::from(payload), requests })
            .map_err(|_| TransportError::Closed)
    }

    /// Accepted messages are in the session task's hands; it publishes them in order.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }

    /// Completes once every accepted message and the close have been handed to the NATS
    /// connection and flushed.
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.outbound.close_channel();
        if let Some(closed) = self.closed.as_mut() {
            if Pin::new(closed).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.closed = None;
        }
        Poll::Ready(Ok(()))
    }
}

impl Stream for NatsTransport {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inbound).poll_next(cx)
    }
}
