//! One session's transport: [`RedisTransport`], the same type on the client and the server side.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures::task::AtomicWaker;
use futures::{Sink, Stream};
use mcp_core::{Message, TransportError};
use tokio::sync::mpsc;
use tokio_util::sync::PollSender;

use crate::bus::BusShared;
use crate::frame::{CONTROL_TAG, Control};

/// Which end of a session a transport is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

/// What the bus's tasks and the transport share about one session.
pub(crate) struct SessionState {
    pub(crate) id: String,
    pub(crate) side: Side,
    /// The channel or stream this end reads.
    pub(crate) inbound: Bytes,
    /// The channel or stream this end writes.
    pub(crate) outbound: Bytes,
    /// Durable mode: messages go through streams, announced by doorbells.
    pub(crate) durable: bool,
    /// Why the session ended, once it failed; the first reason wins.
    failure: Mutex<Option<String>>,
    /// Messages Redis confirmed (published or appended), in queue order.
    confirmed: AtomicU64,
    /// Woken on every confirmation and on failure: a `poll_close` waiting for the queue to drain.
    waker: AtomicWaker,
    /// Messages the peer's application has read, from its latest credit frame.
    peer_read: AtomicU64,
    /// Woken by credit and on failure: a `poll_ready` waiting for the peer to read.
    credit_waker: AtomicWaker,
}

impl SessionState {
    pub(crate) fn new(id: String, side: Side, inbound: Bytes, outbound: Bytes, durable: bool) -> Arc<Self> {
        Arc::new(Self {
            id,
            side,
            inbound,
            outbound,
            durable,
            failure: Mutex::new(None),
            confirmed: AtomicU64::new(0),
            waker: AtomicWaker::new(),
            peer_read: AtomicU64::new(0),
            credit_waker: AtomicWaker::new(),
        })
    }

    /// Records why the session ended; returns `false` if it had already failed.
    pub(crate) fn set_failure(&self, reason: String) -> bool {
        let first = {
            let mut slot = self.failure.lock().unwrap_or_else(|e| e.into_inner());
            let first = slot.is_none();
            if first {
                *slot = Some(reason);
            }
            first
        };
        self.waker.wake();
        self.credit_waker.wake();
        first
    }

    /// The peer reports having read `read` messages.
    pub(crate) fn grant(&self, read: u64) {
        self.peer_read.fetch_max(read, Ordering::AcqRel);
        self.credit_waker.wake();
    }

    pub(crate) fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn confirm(&self) {
        self.confirmed.fetch_add(1, Ordering::Release);
        self.waker.wake();
    }
}

/// A message (or control frame) on its way to the process's publisher.
pub(crate) struct Outgoing {
    pub(crate) state: Arc<SessionState>,
    /// A JSON-RPC message or a control frame; field `m` of the stream entry in durable mode.
    pub(crate) payload: Bytes,
    /// Position in this direction of the session, from 1; the stream entry id in durable mode.
    pub(crate) seq: u64,
    /// A close or credit frame: losing it (the peer is already gone) is not an error.
    pub(crate) best_effort: bool,
}

impl Outgoing {
    /// A control frame.
    pub(crate) fn control(state: Arc<SessionState>, seq: u64, best_effort: bool, control: &Control) -> Self {
        Self { state, payload: control.encode(), seq, best_effort }
    }
}

/// One MCP session over Redis: a [`Transport`](mcp_core::Transport) on either end.
///
/// Clients get one from [`RedisBus::connect`](crate::RedisBus::connect), servers from the
/// [`RedisAcceptor`](crate::RedisAcceptor) (inside an [`IncomingSession`](mcp_core::IncomingSession)).
///
/// # Cancel safety
///
/// Receiving is cancel-safe: received messages wait in a bounded per-session queue, never in
/// the future.
///
/// # Errors
///
/// The stream yields a non-fatal [`TransportError::Parse`]/[`TransportError::InvalidMessage`]/
/// [`TransportError::MessageTooLarge`] for one bad message and goes on; it ends with a fatal
/// [`TransportError::ConnectionLost`] saying why when the peer stops heartbeating, Redis becomes
/// unreachable (pub/sub mode: at once; durable mode: after
/// [`RedisConfig::outage_timeout`](crate::RedisConfig::outage_timeout)), or a message could
/// not be delivered. A clean close by the peer ends it with `None`.
///
/// The sink's `poll_flush` hands messages to the process's publisher, which writes them in
/// order, pipelined with other sessions' messages; `poll_close` sends a close frame and waits
/// until Redis has confirmed everything sent. Sending a message larger than
/// [`RedisConfig::max_message_bytes`](crate::RedisConfig::max_message_bytes) fails with the
/// non-fatal [`TransportError::MessageTooLarge`] and nothing is sent.
pub struct RedisTransport {
    bus: Arc<BusShared>,
    state: Arc<SessionState>,
    inbound: mpsc::Receiver<Bytes>,
    outgoing: PollSender<Outgoing>,
    /// A second handle on the publisher queue for credit frames, which the receiving half sends
    /// without disturbing a slot the sending half may have reserved.
    credit_out: PollSender<Outgoing>,
    peer_instance: String,
    next_seq: u64,
    queued: u64,
    /// Flow control: messages sent, messages read, and the read count last granted to the peer.
    sent: u64,
    read: u64,
    granted: u64,
    window: u64,
    close_sent: bool,
    ended: bool,
    max_message_bytes: usize,
}

impl RedisTransport {
    /// `first_seq`: the sequence number of the next outgoing frame (2 on a server, whose accept
    /// frame was 1).
    pub(crate) fn new(
        bus: Arc<BusShared>,
        state: Arc<SessionState>,
        inbound: mpsc::Receiver<Bytes>,
        peer_instance: String,
        first_seq: u64,
    ) -> Self {
        let outgoing = PollSender::new(bus.outgoing.clone());
        let credit_out = PollSender::new(bus.outgoing.clone());
        let max_message_bytes = bus.config.max_message_bytes;
        let window = bus.config.session_queue as u64;
        let queued = first_seq - 1;
        Self {
            bus,
            state,
            inbound,
            outgoing,
            credit_out,
            peer_instance,
            next_seq: first_seq,
            queued,
            sent: 0,
            read: 0,
            granted: 0,
            window,
            close_sent: false,
            ended: false,
            max_message_bytes,
        }
    }

    /// The session's id (also in its key and channel names).
    pub fn session_id(&self) -> &str {
        &self.state.id
    }

    /// On a client, the server instance that took the session; on a server, this instance.
    pub fn instance(&self) -> &str {
        &self.peer_instance
    }

    fn lost(&self) -> Option<TransportError> {
        self.state.failure().map(TransportError::ConnectionLost)
    }

    fn decode(&self, payload: &[u8]) -> Option<Result<Message, TransportError>> {
        if payload.len() > self.max_message_bytes {
            return Some(Err(self.too_large(payload.len())));
        }
        Some(Message::from_slice(payload).map_err(TransportError::from))
    }

    fn too_large(&self, size: usize) -> TransportError {
        TransportError::MessageTooLarge {
            size: Some(size),
            limit: self.max_message_bytes,
            setting: Some("RedisConfig::max_message_bytes"),
        }
    }

    fn enqueue(&mut self, item: Outgoing) -> Result<(), TransportError> {
        self.outgoing.send_item(item).map_err(|_| TransportError::Closed)?;
        self.next_seq += 1;
        self.queued += 1;
        Ok(())
    }

    /// Tells the peer how much this end has read once half a window is unreported, so that it
    /// never waits for credit while this end reads.
    fn grant_credit(&mut self, cx: &mut Context<'_>) {
        if self.read - self.granted < self.window.div_ceil(2) || self.state.failure().is_some() {
            return;
        }
        // Pending registers the waker: a freed slot polls the stream again.
        if let Poll::Ready(Ok(())) = self.credit_out.poll_reserve(cx) {
            let credit = Control::Credit { read: self.read };
            let item = Outgoing::control(self.state.clone(), self.next_seq, true, &credit);
            if self.credit_out.send_item(item).is_ok() {
                self.next_seq += 1;
                self.queued += 1;
                self.granted = self.read;
            }
        }
    }

    /// Whether the peer has room for one more message; registers for credit when not.
    fn peer_has_room(&self, cx: &mut Context<'_>) -> bool {
        let room = |s: &Self| s.sent.saturating_sub(s.state.peer_read.load(Ordering::Acquire)) < s.window;
        if room(self) {
            return true;
        }
        self.state.credit_waker.register(cx.waker());
        room(self)
    }
}

impl Stream for RedisTransport {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.grant_credit(cx);
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            match ready!(self.inbound.poll_recv(cx)) {
                Some(payload) if payload.first() == Some(&CONTROL_TAG) => {
                    match Control::decode(&payload) {
                        Some(Control::Close) => {
                            tracing::debug!(session = %self.state.id, "peer closed the session");
                            self.ended = true;
                            self.bus.peer_closed(&self.state);
                        }
                        Some(Control::TooLarge { size }) => {
                            self.read += 1;
                            return Poll::Ready(Some(Err(self.too_large(size))));
                        }
                        _ => {}
                    }
                    // Accept frames were consumed during setup; unknown control frames are
                    // from a newer peer and carry nothing for this one.
                }
                Some(payload) => {
                    self.read += 1;
                    return Poll::Ready(self.decode(&payload));
                }
                None => {
                    self.ended = true;
                    return Poll::Ready(self.lost().map(Err));
                }
            }
        }
    }
}

impl Sink<Message> for RedisTransport {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        if let Some(err) = self.lost() {
            return Poll::Ready(Err(err));
        }
        if self.close_sent {
            return Poll::Ready(Err(TransportError::Closed));
        }
        if !self.peer_has_room(cx) {
            // Woken by credit or by failure; a failure is reported on the next poll.
            return match self.lost() {
                Some(err) => Poll::Ready(Err(err)),
                None => Poll::Pending,
            };
        }
        self.outgoing.poll_reserve(cx).map_err(|_| TransportError::Closed)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        let payload = item.to_vec();
        if payload.len() > self.max_message_bytes {
            self.outgoing.abort_send();
            return Err(self.too_large(payload.len()));
        }
        let frame = Outgoing {
            state: self.state.clone(),
            payload: Bytes::from(payload),
            seq: self.next_seq,
            best_effort: false,
        };
        self.enqueue(frame)?;
        self.sent += 1;
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        match self.lost() {
            Some(err) => Poll::Ready(Err(err)),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        if !self.close_sent {
            if let Some(err) = self.lost() {
                return Poll::Ready(Err(err));
            }
            ready!(self.outgoing.poll_reserve(cx)).map_err(|_| TransportError::Closed)?;
            let close = Outgoing::control(self.state.clone(), self.next_seq, true, &Control::Close);
            self.enqueue(close)?;
            self.close_sent = true;
        }
        loop {
            if let Some(err) = self.lost() {
                return Poll::Ready(Err(err));
            }
            if self.state.confirmed.load(Ordering::Acquire) >= self.queued {
                return Poll::Ready(Ok(()));
            }
            self.state.waker.register(cx.waker());
            if self.state.confirmed.load(Ordering::Acquire) < self.queued && self.state.failure().is_none() {
                return Poll::Pending;
            }
        }
    }
}

impl Drop for RedisTransport {
    fn drop(&mut self) {
        if !self.close_sent && self.state.failure().is_none() {
            // Best effort: tell the peer now rather than after its heartbeat check.
            if let Some(tx) = self.outgoing.get_ref() {
                let _ = tx.try_send(Outgoing::control(self.state.clone(), self.next_seq, true, &Control::Close));
            }
        }
        self.bus.unregister(&self.state);
    }
}

impl fmt::Debug for RedisTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTransport")
            .field("session", &self.state.id)
            .field("side", &self.state.side)
            .field("instance", &self.peer_instance)
            .finish_non_exhaustive()
    }
}
