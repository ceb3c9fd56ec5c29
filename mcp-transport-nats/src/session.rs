//! The task behind each [`NatsTransport`]: it publishes what the application sends, delivers
//! what the peer sends, keeps the heartbeat and notices interruptions of the NATS connection.
//!
//! One task per session owns all of the session's state, so nothing is locked per message.
//! Control messages travel on their own subscription, so a slow application (a full inbound
//! channel) never delays a heartbeat answer.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::Ordering;

use async_nats::connection::State;
use async_nats::{Client, RequestErrorKind, Subscriber};
use bytes::Bytes;
use futures::channel::{mpsc, oneshot};
use futures::future::BoxFuture;
use futures::{FutureExt, Sink, StreamExt};
use mcp_core::TransportError;
use mcp_core::jsonrpc::Message;
use tokio::time::Instant;
use tracing::Instrument;

use crate::config::SessionSettings;
use crate::credit::Credit;
use crate::inflight::InFlight;
use crate::subjects::SessionSubjects;
use crate::transport::{NatsTransport, Outbound};
use crate::wire::{Control, INTERRUPTED, NOTICE_HEADER, PING, TOO_LARGE, TooLargeNotice};

/// How many ready messages a session task handles in a row before it looks at everything
/// else again (heartbeats, the other direction).
const BURST: usize = 32;

/// Which end of the session this task serves; used in messages about the other end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
        }
    }

    fn peer(self) -> &'static str {
        match self {
            Self::Client => "server instance",
            Self::Server => "client",
        }
    }
}

/// Everything a session task needs; the subscriptions exist before the task starts, so no
/// message published after the handshake can be missed.
pub(crate) struct SessionParts {
    pub(crate) side: Side,
    pub(crate) id: String,
    pub(crate) client: Client,
    pub(crate) subjects: SessionSubjects,
    pub(crate) data: Subscriber,
    pub(crate) control: Subscriber,
    pub(crate) settings: SessionSettings,
    /// The peer's receive window, from the handshake.
    pub(crate) peer_window: Option<u64>,
    /// Dropped when the session ends (the server's session count).
    pub(crate) slot: Option<Box<dyn Send + Sync>>,
}

/// Starts the session task and returns the application's handle.
pub(crate) fn spawn(parts: SessionParts) -> NatsTransport {
    let capacity = parts.settings.channel_capacity;
    // futures' channel holds `buffer + 1` messages per sender.
    let (out_tx, out_rx) = mpsc::channel(capacity.saturating_sub(1));
    let (in_tx, in_rx) = mpsc::channel(capacity.saturating_sub(1));
    let (closed_tx, closed_rx) = oneshot::channel();
    let transport = NatsTransport {
        session_id: parts.id.clone(),
        client: parts.client.clone(),
        outbound: out_tx,
        inbound: in_rx,
        closed: Some(closed_rx),
    };
    let span = tracing::debug_span!("nats_session", session = %parts.id, side = parts.side.name());
    let task = SessionTask::new(parts, out_rx, in_tx, closed_tx);
    tokio::spawn(task.run().instrument(span));
    transport
}

/// How the session ends.
enum Ending {
    /// The application closed or dropped its transport: tell the peer.
    Local,
    /// The peer closed, or a fatal error was delivered: nothing to tell.
    Remote,
}

struct SessionTask {
    side: Side,
    id: String,
    client: Client,
    subjects: SessionSubjects,
    /// `subjects.outbound` as a NATS subject, cheap to clone for each publish.
    outbound_subject: async_nats::Subject,
    peer_control: async_nats::Subject,
    data: Subscriber,
    control: Subscriber,
    settings: SessionSettings,
    outbound: mpsc::Receiver<Outbound>,
    inbound: mpsc::Sender<Result<Message, TransportError>>,
    closed: Option<oneshot::Sender<()>>,
    /// Items for the application, waiting for room in `inbound`; `true` for the peer's data
    /// messages, which count against our receive window.
    pending: VecDeque<(Result<Message, TransportError>, bool)>,
    /// Set once the session is over; the task exits when `pending` is delivered.
    ending: Option<Ending>,
    in_flight: InFlight,
    credit: Credit,
    ping: Option<BoxFuture<'static, Result<async_nats::Message, async_nats::RequestError>>>,
    misses: u32,
    /// The NATS connection's `connects` count when last checked: a change is a reconnect.
    connects: u64,
    last_interruption: Option<Instant>,
    _slot: Option<Box<dyn Send + Sync>>,
}

impl SessionTask {
    fn new(
        parts: SessionParts,
        outbound: mpsc::Receiver<Outbound>,
        inbound: mpsc::Sender<Result<Message, TransportError>>,
        closed: oneshot::Sender<()>,
    ) -> Self {
        let connects = parts.client.statistics().connects.load(Ordering::Relaxed);
        Self {
            side: parts.side,
            peer_control: SessionSubjects::control(&parts.subjects.outbound).into(),
            outbound_subject: parts.subjects.outbound.clone().into(),
            in_flight: InFlight::new(parts.settings.max_tracked_requests),
            credit: Credit::new(parts.settings.window, parts.peer_window),
            id: parts.id,
            client: parts.client,
            subjects: parts.subjects,
            data: parts.data,
            control: parts.control,
            settings: parts.settings,
            outbound,
            inbound,
            closed: Some(closed),
            pending: VecDeque::new(),
            ending: None,
            ping: None,
            misses: 0,
            connects,
            last_interruption: None,
            _slot: parts.slot,
        }
    }

    async fn run(mut self) {
        let interval = self.settings.heartbeat.interval;
        let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tracing::debug!(inbound = %self.subjects.inbound, outbound = %self.subjects.outbound, "session started");
        loop {
            let live = self.ending.is_none();
            // Unbiased: a busy direction must not starve the other or the heartbeat.
            tokio::select! {
                msg = self.control.next(), if live => match msg {
                    Some(msg) => self.on_control(msg).await,
                    None => self.fail(self.connection_closed()),
                },
                result = poll_ping(&mut self.ping), if live && self.ping.is_some() => {
                    self.ping = None;
                    self.on_ping_result(result);
                }
                _ = ticker.tick(), if live => self.on_tick().await,
                out = self.outbound.next(), if live && self.credit.may_send() => match out {
                    Some(out) => {
                        self.publish(out).await;
                        self.publish_ready().await;
                    }
                    None => self.ending = Some(Ending::Local),
                },
                ready = poll_fn(|cx| self.inbound.poll_ready(cx)), if !self.pending.is_empty() => match ready {
                    Ok(()) => {
                        if let Some((item, from_peer)) = self.pending.pop_front() {
                            // Cannot fail: the slot was just reserved.
                            let _ = std::pin::Pin::new(&mut self.inbound).start_send(item);
                            if from_peer {
                                self.consumed().await;
                            }
                        }
                    }
                    // The application dropped the transport.
                    Err(_) => self.ending = Some(Ending::Local),
                },
                msg = self.data.next(), if live && self.pending.is_empty() => {
                    self.on_inbound(msg).await;
                    self.receive_ready().await;
                }
            }
            match self.ending {
                Some(Ending::Local) => break self.close_locally().await,
                Some(Ending::Remote) if self.pending.is_empty() || self.inbound.is_closed() => break,
                _ => {}
            }
        }
        tracing::debug!("session ended");
    }

    // ===== batching: what is ready now skips a trip through `select!` =====

    /// Publishes what the application has already queued, as far as credit allows.
    async fn publish_ready(&mut self) {
        for _ in 0..BURST {
            if self.ending.is_some() || !self.credit.may_send() {
                return;
            }
            match self.outbound.try_recv() {
                Ok(out) => self.publish(out).await,
                Err(_) => return,
            }
        }
    }

    /// Hands what is pending to the application while its channel has room, then takes the
    /// peer's next messages that have already arrived.
    async fn receive_ready(&mut self) {
        for _ in 0..BURST {
            while let Some((item, from_peer)) = self.pending.pop_front() {
                match self.inbound.try_send(item) {
                    Ok(()) if from_peer => self.consumed().await,
                    Ok(()) => {}
                    Err(err) if err.is_full() => {
                        self.pending.push_front((err.into_inner(), from_peer));
                        return;
                    }
                    Err(_) => {
                        self.ending = Some(Ending::Local);
                        return;
                    }
                }
            }
            if self.ending.is_some() {
                return;
            }
            match self.data.next().now_or_never() {
                Some(msg) => self.on_inbound(msg).await,
                None => return,
            }
        }
    }

    // ===== the application's messages =====

    async fn publish(&mut self, out: Outbound) {
        let (payload, headers) = match out {
            Outbound::Data { payload, requests } => {
                self.in_flight.sent(requests);
                (payload, None)
            }
            Outbound::TooLarge { size, limit } => {
                let mut headers = async_nats::HeaderMap::new();
                headers.insert(NOTICE_HEADER, TOO_LARGE);
                let notice = serde_json::to_vec(&TooLargeNotice { size, limit }).unwrap_or_default();
                (Bytes::from(notice), Some(headers))
            }
            Outbound::Local(msg) => return self.deliver(Ok(msg), false),
        };
        self.credit.on_sent();
        let size = payload.len();
        let subject = self.outbound_subject.clone();
        let published = match headers {
            None => self.client.publish(subject, payload).await,
            Some(headers) => self.client.publish_with_headers(subject, headers, payload).await,
        };
        if let Err(err) = published {
            if matches!(err.kind(), async_nats::client::PublishErrorKind::MaxPayloadExceeded) {
                // The server's limit shrank after a reconnect, after the sink checked it.
                let limit = self.client.max_payload();
                self.deliver(
                    Err(TransportError::MessageTooLarge {
                        size: Some(size),
                        limit,
                        setting: Some(crate::transport::MAX_PAYLOAD_SETTING),
                    }),
                    false,
                );
            } else {
                self.fail(TransportError::ConnectionLost(format!(
                    "publishing to {} failed: {err}; the NATS connection is closed",
                    self.subjects.outbound
                )));
            }
        }
    }

    async fn close_locally(&mut self) {
        // What the application queued before closing or dropping the transport still goes
        // out (at most the channel's capacity beyond the peer's window).
        self.outbound.close();
        while let Ok(out) = self.outbound.try_recv() {
            self.publish(out).await;
        }
        let _ = self.client.publish(self.outbound_subject.clone(), Bytes::new()).await;
        // A flush cannot outlive a broken connection by more than one heartbeat.
        let _ = tokio::time::timeout(self.settings.heartbeat.interval, self.client.flush()).await;
        if let Some(closed) = self.closed.take() {
            let _ = closed.send(());
        }
    }

    // ===== the peer's messages =====

    async fn on_data(&mut self, payload: &[u8]) {
        match Message::from_slice(payload) {
            Ok(msg) => {
                if self.in_flight.received(&msg) {
                    self.deliver(Ok(msg), true);
                } else {
                    tracing::debug!(id = ?msg.id(), "dropping a late answer to a request already failed by an interruption");
                    self.consumed().await;
                }
            }
            Err(err) => {
                tracing::debug!(error = %err, size = payload.len(), "malformed message from the peer");
                self.deliver(Err(err.into()), true);
            }
        }
    }

    async fn on_inbound(&mut self, msg: Option<async_nats::Message>) {
        match msg {
            Some(msg) if msg.payload.is_empty() && msg.headers.is_none() => {
                tracing::debug!(peer = self.side.peer(), "peer closed the session");
                self.ending = Some(Ending::Remote);
            }
            Some(msg) if msg.headers.is_some() => self.on_notice(&msg).await,
            Some(msg) => self.on_data(&msg.payload).await,
            None => self.fail(self.connection_closed()),
        }
    }

    async fn on_notice(&mut self, msg: &async_nats::Message) {
        let kind = msg.headers.as_ref().and_then(|h| h.get(NOTICE_HEADER)).map(|v| v.as_str());
        match (kind, serde_json::from_slice::<TooLargeNotice>(&msg.payload)) {
            (Some(TOO_LARGE), Ok(notice)) => {
                tracing::info!(
                    size = notice.size,
                    limit = notice.limit,
                    "the peer could not send a message over max_payload"
                );
                let error = TransportError::MessageTooLarge {
                    size: Some(notice.size),
                    limit: notice.limit,
                    setting: Some(crate::transport::MAX_PAYLOAD_SETTING),
                };
                self.deliver(Err(error), true);
            }
            _ => {
                tracing::debug!(?kind, "ignoring an unknown notice");
                self.consumed().await;
            }
        }
    }

    /// One of the peer's data messages is done with: report it when a report is due.
    async fn consumed(&mut self) {
        if let Some(count) = self.credit.on_consumed() {
            self.report(count).await;
        }
    }

    async fn report(&mut self, consumed: u64) {
        let _ = self.client.publish(self.peer_control.clone(), Control::credit(consumed)).await;
    }

    async fn on_control(&mut self, msg: async_nats::Message) {
        match Control::parse(&msg.payload) {
            Control::Ping => {
                if let Some(reply) = msg.reply {
                    let _ = self.client.publish(reply, Bytes::new()).await;
                }
            }
            Control::Credit(consumed) => self.credit.on_report(consumed),
            Control::Interrupted => {
                tracing::info!(peer = self.side.peer(), "the peer's NATS connection was interrupted");
                let why = format!("the {}'s NATS connection was interrupted", self.side.peer());
                self.interrupted(&why);
            }
            Control::Unknown => tracing::debug!(len = msg.payload.len(), "ignoring an unknown control message"),
        }
    }

    fn deliver(&mut self, item: Result<Message, TransportError>, from_peer: bool) {
        self.pending.push_back((item, from_peer));
    }

    /// Ends the session with a fatal error, delivered after what is already pending.
    fn fail(&mut self, error: TransportError) {
        if self.ending.is_none() {
            tracing::info!(error = %error, "session failed");
            self.deliver(Err(error), false);
            self.ending = Some(Ending::Remote);
            self.outbound.close();
        }
    }

    fn connection_closed(&self) -> TransportError {
        TransportError::ConnectionLost(format!(
            "the NATS connection of session {} was closed; reconnect and open a new session",
            self.id
        ))
    }

    // ===== liveness =====

    async fn on_tick(&mut self) {
        self.check_connection();
        if let Some(consumed) = self.credit.report_due() {
            self.report(consumed).await;
        }
        if self.ping.is_none() {
            let client = self.client.clone();
            let subject = self.peer_control.clone();
            let request = async_nats::Request::new()
                .payload(Bytes::from_static(PING))
                .timeout(Some(self.settings.heartbeat.interval));
            self.ping = Some(Box::pin(async move { client.send_request(subject, request).await }));
        }
    }

    fn on_ping_result(&mut self, result: Result<async_nats::Message, async_nats::RequestError>) {
        let err = match result {
            Ok(_) => {
                self.misses = 0;
                return;
            }
            Err(err) => err,
        };
        let heartbeat = self.settings.heartbeat;
        if err.kind() == RequestErrorKind::NoResponders {
            self.check_connection();
            let settled = self.last_interruption.is_none_or(|at| at.elapsed() >= heartbeat.grace());
            if settled {
                return self.fail(TransportError::ConnectionLost(format!(
                    "the {} of session {} is gone (nobody subscribes to {} any more: it exited or closed its \
                     NATS connection); open a new session",
                    self.side.peer(),
                    self.id,
                    self.peer_control
                )));
            }
        }
        self.misses += 1;
        tracing::debug!(misses = self.misses, error = %err, "heartbeat not answered");
        if self.misses >= heartbeat.misses {
            self.fail(TransportError::ConnectionLost(format!(
                "the {} of session {} answered no heartbeat for {:?} ({} pings every {:?}); open a new session",
                self.side.peer(),
                self.id,
                heartbeat.grace(),
                heartbeat.misses,
                heartbeat.interval
            )));
        }
    }

    /// Notices a reconnection (or a disconnection in progress) of the NATS connection: the
    /// requests in flight may have been lost, so they are failed and the peer is told.
    fn check_connection(&mut self) {
        let connects = self.client.statistics().connects.load(Ordering::Relaxed);
        let connected = self.client.connection_state() == State::Connected;
        if connects == self.connects && connected {
            return;
        }
        self.last_interruption = Some(Instant::now());
        if connects != self.connects && connected {
            self.connects = connects;
            tracing::info!("the NATS connection was re-established; telling the peer");
            let client = self.client.clone();
            let subject = self.peer_control.clone();
            // Fire and forget: a lost notice only means the peer's requests wait for their timeout.
            tokio::spawn(async move {
                let _ = client.publish(subject, Bytes::from_static(INTERRUPTED)).await;
            });
        }
        self.interrupted("the NATS connection was interrupted");
    }

    /// Messages in flight either way may be lost: fail our requests in flight, and stop
    /// waiting for credit for messages the peer may never see.
    fn interrupted(&mut self, why: &str) {
        self.credit.on_interruption();
        for error in self.in_flight.abandon_all(why) {
            self.deliver(Ok(error), false);
        }
    }
}

/// Polls the heartbeat request in flight; only called while there is one.
async fn poll_ping(
    ping: &mut Option<BoxFuture<'static, Result<async_nats::Message, async_nats::RequestError>>>,
) -> Result<async_nats::Message, async_nats::RequestError> {
    match ping {
        Some(fut) => fut.await,
        None => std::future::pending().await,
    }
}
