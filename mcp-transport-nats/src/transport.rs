//! [`NatsTransport`]: one MCP session over NATS, the same type on both sides.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::channel::{mpsc, oneshot};
use futures::{Sink, Stream};
use mcp_core::TransportError;
use mcp_core::jsonrpc::{ErrorObject, ErrorResponse, Message};

use crate::inflight::RequestIds;

/// The name of the limit in "message too large" errors.
pub(crate) const MAX_PAYLOAD_SETTING: &str = "max_payload in the nats-server configuration";

/// What the application's sink hands the session task.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// A message, serialized by the sender's task.
    Data { payload: Bytes, requests: RequestIds },
    /// Tell the peer that a message of `size` bytes was not sent (over `limit`).
    TooLarge { size: usize, limit: usize },
    /// Deliver to our own stream: the error answer to a request we could not send.
    Local(Message),
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
/// A message larger than the NATS server's `max_payload` is not published, and the sink does
/// not fail (a frame error never comes out of a sink): the side that waits for it is told
/// instead, naming the limit. An oversized *request* is answered on this transport's own
/// stream with an error response for its id; an oversized *response* reaches the peer as an
/// error response for the same id; any other message (a notification) reaches the peer's
/// stream as a non-fatal [`TransportError::MessageTooLarge`]. The session goes on.
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

    /// What to do instead of publishing an oversized `msg`; see the type's `# Errors`.
    fn too_large(&self, msg: &Message, size: usize, limit: usize) -> Vec<Outbound> {
        let error = TransportError::MessageTooLarge { size: Some(size), limit, setting: Some(MAX_PAYLOAD_SETTING) };
        tracing::warn!(session = %self.session_id, size, limit, method = msg.method(), "outgoing message exceeds the NATS max_payload; not sent");
        let answer = |id| Message::error(Some(id), ErrorObject::internal_error(format_args!("not sent: {error}")));
        match msg {
            Message::Response(r) => {
                vec![Outbound::Data { payload: answer(r.id.clone()).to_vec().into(), requests: RequestIds::None }]
            }
            Message::Error(ErrorResponse { id: Some(id), .. }) => {
                vec![Outbound::Data { payload: answer(id.clone()).to_vec().into(), requests: RequestIds::None }]
            }
            _ => match RequestIds::of(msg).into_vec() {
                ids if ids.is_empty() => vec![Outbound::TooLarge { size, limit }],
                ids => ids.into_iter().map(|id| Outbound::Local(answer(id))).collect(),
            },
        }
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
            // Usually one item; a batch of requests may need more room than `poll_ready`
            // reserved, which `try_send` takes while there is any.
            let mut items = self.too_large(&msg, payload.len(), limit).into_iter();
            if let Some(first) = items.next() {
                self.outbound.start_send(first).map_err(|_| TransportError::Closed)?;
            }
            for item in items {
                if self.outbound.try_send(item).is_err() {
                    tracing::warn!(session = %self.session_id, "no room to answer every request of an oversized batch; the rest wait for their timeout");
                    break;
                }
            }
            return Ok(());
        }
        let requests = RequestIds::of(&msg);
        self.outbound
            .start_send(Outbound::Data { payload: Bytes::from(payload), requests })
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
