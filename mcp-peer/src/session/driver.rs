//! The session task: one future that owns the transport and drives everything else.
//!
//! It is written as a hand-rolled poll loop rather than `select!` so that writing never
//! blocks reading: a response the peer sends is always taken off the transport even while
//! our own sink is full, which is what keeps two busy peers from deadlocking each other.

use std::collections::VecDeque;

use foldhash::{HashMap, HashMapExt};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::FuturesUnordered;
use futures::{SinkExt, StreamExt};
use mcp_core::jsonrpc::{ErrorResponse, Notification, Request, Response};
use mcp_core::rerun::SelfWakes;
use mcp_core::{BoxTransport, ErrorObject, Message, RawJson, RequestId, TransportError};
use serde::Deserialize;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::cancel::CancelSignal;
use super::inflight::{Finished, InFlight};
use super::{Dispatch, Failure, Handler, Outbound, Pending, Progress, Shared};

/// How many messages one poll handles before yielding to the runtime.
const BUDGET: usize = 128;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEnd {
    /// The peer closed the transport; all in-flight work was finished and flushed.
    PeerClosed,
    /// The session was closed locally (`close`, shutdown); in-flight work was finished.
    Closed,
    /// The transport failed; in-flight work was dropped.
    TransportFailed(String),
    /// Reading had stopped (EOF or close) but in-flight work or unsent messages were still
    /// there after [`SessionConfig::shutdown_grace`](crate::SessionConfig::shutdown_grace);
    /// they were dropped.
    DrainTimedOut,
}

/// What happened in a session, returned when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionSummary {
    /// The session's id.
    pub session_id: String,
    /// How it ended.
    pub end: SessionEnd,
    /// Requests received from the peer.
    pub requests_received: u64,
    /// Requests sent to the peer.
    pub requests_sent: u64,
}

#[derive(PartialEq, Eq)]
enum Reading {
    Open,
    /// Stopped by `close`: finish what is in flight.
    Stopped,
    /// The peer closed its side.
    Eof,
}

struct BatchReply {
    remaining: usize,
    responses: Vec<Message>,
}

pub(crate) struct Driver<H: Handler> {
    transport: BoxTransport,
    handler: H,
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Outbound>,
    pending: HashMap<RequestId, Pending>,
    inflight: FuturesUnordered<InFlight>,
    cancels: HashMap<RequestId, CancelSignal>,
    batches: HashMap<u64, BatchReply>,
    next_batch: u64,
    out: VecDeque<Message>,
    /// How many of `out` answer the peer (responses, errors, batches of them).
    replies_queued: usize,
    /// Stop reading when this many replies wait to be written, and stop taking commands when
    /// this many messages of any kind do. Replies alone gate reading so that a session whose
    /// own requests fill the queue still reads the responses that will drain it.
    out_high_water: usize,
    reading: Reading,
    needs_flush: bool,
    /// `poll_drive` stopped for its budget: the task is to yield.
    budget_spent: bool,
    /// Bounds the drain once reading has stopped, so a stuck handler or a peer that no
    /// longer reads cannot keep the session alive for ever.
    drain_timer: Option<Pin<Box<tokio::time::Sleep>>>,
    fatal: Option<TransportError>,
    summary: SessionSummary,
}

impl<H: Handler> Driver<H> {
    pub(crate) fn new(transport: BoxTransport, handler: H, shared: Arc<Shared>, rx: mpsc::Receiver<Outbound>) -> Self {
        let out_high_water = shared.config.max_concurrency + shared.config.outbound_capacity + 16;
        let summary = SessionSummary {
            session_id: shared.session_id.to_string(),
            end: SessionEnd::Closed,
            requests_received: 0,
            requests_sent: 0,
        };
        Self {
            transport,
            handler,
            shared,
            rx,
            pending: HashMap::new(),
            inflight: FuturesUnordered::new(),
            cancels: HashMap::new(),
            batches: HashMap::new(),
            next_batch: 0,
            out: VecDeque::new(),
            replies_queued: 0,
            out_high_water,
            reading: Reading::Open,
            needs_flush: false,
            budget_spent: false,
            drain_timer: None,
            fatal: None,
            summary,
        }
    }

    /// Runs the session to its end; returns what happened and the transport's fatal error, if any.
    pub(crate) async fn run(mut self) -> (SessionSummary, Option<TransportError>) {
        let span = tracing::debug_span!("mcp_session", session = %self.shared.session_id);
        // Handlers, queues and the transport's own work live in this task and wake each other
        // while it runs: such a wake-up is another round of this poll, not a requeue.
        let wakes = SelfWakes::new();
        let end = futures::future::poll_fn(|cx| {
            let end = wakes.poll(cx, |cx| self.poll_drive(cx));
            if end.is_pending() && std::mem::take(&mut self.budget_spent) {
                // Let other tasks run; come back at once.
                cx.waker().wake_by_ref();
            }
            end
        })
        .instrument(span)
        .await;
        match &end {
            SessionEnd::TransportFailed(why) => {
                tracing::info!(session = %self.shared.session_id, error = %why, "session ended: transport failed");
            }
            _ => {
                let grace = self.shared.config.shutdown_grace;
                match tokio::time::timeout(grace, self.transport.close()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::debug!(session = %self.shared.session_id, error = %e, "closing the transport failed");
                    }
                    Err(_) => {
                        tracing::warn!(session = %self.shared.session_id, grace_ms = grace.as_millis() as u64, "closing the transport did not finish in time; dropping it");
                    }
                }
                tracing::debug!(session = %self.shared.session_id, ?end, "session ended");
            }
        }
        self.fail_pending("the session has ended");
        self.rx.close();
        self.handler.on_close(&self.shared);
        self.summary.end = end;
        (self.summary, self.fatal.take())
    }

    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<SessionEnd> {
        let mut budget = BUDGET;
        loop {
            let mut progressed = false;

            // 1. Write what is queued, as far as the sink takes it.
            while !self.out.is_empty() {
                match self.transport.as_mut().poll_ready(cx) {
                    Poll::Ready(Ok(())) => {
                        let Some(msg) = self.out.pop_front() else { break };
                        if is_reply(&msg) {
                            self.replies_queued -= 1;
                        }
                        if let Err(e) = self.transport.as_mut().start_send(msg) {
                            return Poll::Ready(self.transport_failed(e));
                        }
                        self.needs_flush = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(self.transport_failed(e)),
                    Poll::Pending => break,
                }
            }

            // 2. Commands from handles, while there is room to queue what they produce.
            let mut commands_drained = false;
            while self.out.len() < self.out_high_water && budget > 0 {
                match self.rx.poll_recv(cx) {
                    Poll::Ready(Some(command)) => {
                        budget -= 1;
                        progressed = true;
                        self.on_command(command);
                    }
                    Poll::Ready(None) | Poll::Pending => {
                        commands_drained = true;
                        break;
                    }
                }
            }

            // 3. Collect finished handlers (`on_finished` sends what they sent first).
            while commands_drained && let Poll::Ready(Some(finished)) = self.inflight.poll_next_unpin(cx) {
                self.on_finished(finished, cx);
                progressed = true;
            }

            // 4. Read from the transport while a handler slot and queue room are free
            //    (backpressure: a full session stops reading).
            while self.reading == Reading::Open
                && self.inflight.len() < self.shared.config.max_concurrency
                && self.replies_queued < self.out_high_water
                && budget > 0
            {
                match self.transport.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(msg))) => {
                        budget -= 1;
                        progressed = true;
                        self.on_message(msg, cx);
                    }
                    Poll::Ready(Some(Err(e))) if !e.is_fatal() => {
                        budget -= 1;
                        progressed = true;
                        tracing::debug!(session = %self.shared.session_id, error = %e, "bad frame from the peer");
                        if let Some(reply) = e.error_response() {
                            self.queue(reply);
                        }
                    }
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(self.transport_failed(e)),
                    Poll::Ready(None) => {
                        progressed = true;
                        self.stop_reading(Reading::Eof);
                        self.fail_pending("the peer closed the connection");
                    }
                    Poll::Pending => break,
                }
            }

            if budget == 0 {
                // `run` yields to the runtime (a wake-up through `cx` would only be another
                // round of this poll).
                self.budget_spent = true;
                break;
            }
            if !progressed {
                break;
            }
        }

        // While reading is held back, flushing is what lets a transport whose sends run inside
        // its own polls (the Streamable HTTP client) move them on.
        let reading_held = self.reading == Reading::Open
            && (self.inflight.len() >= self.shared.config.max_concurrency
                || self.replies_queued >= self.out_high_water);
        if self.needs_flush || reading_held {
            match self.transport.as_mut().poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return Poll::Ready(self.transport_failed(e)),
                Poll::Pending => {}
            }
        }

        if self.reading != Reading::Open && self.inflight.is_empty() && self.out.is_empty() && !self.needs_flush {
            return Poll::Ready(match self.reading {
                Reading::Eof => SessionEnd::PeerClosed,
                _ => SessionEnd::Closed,
            });
        }
        if let Some(timer) = &mut self.drain_timer
            && timer.as_mut().poll(cx).is_ready()
        {
            tracing::warn!(
                session = %self.shared.session_id,
                in_flight = self.inflight.len(),
                unsent = self.out.len(),
                "the session did not drain within SessionConfig::shutdown_grace; dropping what is left"
            );
            for (_, cancel) in self.cancels.drain() {
                cancel.cancel();
            }
            self.inflight = FuturesUnordered::new();
            self.out.clear();
            self.replies_queued = 0;
            return Poll::Ready(SessionEnd::DrainTimedOut);
        }
        Poll::Pending
    }

    /// Stops reading (the peer closed, or a local close) and starts the drain deadline.
    fn stop_reading(&mut self, how: Reading) {
        self.reading = how;
        self.shared.closing.cancel();
        self.drain_timer = Some(Box::pin(tokio::time::sleep(self.shared.config.shutdown_grace)));
    }

    fn queue(&mut self, msg: Message) {
        if is_reply(&msg) {
            self.replies_queued += 1;
        }
        self.out.push_back(msg);
    }

    fn transport_failed(&mut self, error: TransportError) -> SessionEnd {
        let why = error.to_string();
        self.fatal = Some(error);
        self.shared.closing.cancel();
        self.fail_pending(&format!("the transport failed: {why}"));
        for (_, cancel) in self.cancels.drain() {
            cancel.cancel();
        }
        SessionEnd::TransportFailed(why)
    }

    fn fail_pending(&mut self, why: &str) {
        for (_, pending) in self.pending.drain() {
            let _ = pending.reply.send(Err(Failure::Closed(why.to_owned())));
        }
    }

    // ===== commands from handles =====

    fn on_command(&mut self, command: Outbound) {
        match command {
            Outbound::Request { request, pending } => {
                if self.reading != Reading::Open {
                    let _ = pending.reply.send(Err(Failure::Closed("the session is closing".into())));
                    return;
                }
                self.summary.requests_sent += 1;
                self.pending.insert(request.id.clone(), pending);
                self.queue(Message::Request(request));
            }
            Outbound::Notification(n) => self.queue(Message::Notification(n)),
            Outbound::Cancel { id, reason } => {
                if self.pending.remove(&id).is_some() {
                    let params = serde_json::json!({ "requestId": id, "reason": reason });
                    if let Ok(msg) = Message::notification("notifications/cancelled", &params) {
                        self.queue(msg);
                    }
                }
            }
            Outbound::Event(event) => {
                for msg in self.handler.on_event(event, &self.shared) {
                    self.queue(msg);
                }
            }
            Outbound::Close => {
                if self.reading == Reading::Open {
                    self.stop_reading(Reading::Stopped);
                    self.fail_pending("the session was closed locally");
                }
            }
        }
    }

    // ===== messages from the peer =====

    fn on_message(&mut self, msg: Message, cx: &mut Context<'_>) {
        match msg {
            Message::Request(request) => self.on_request(request, None, cx),
            Message::Notification(n) => self.on_notification(n),
            Message::Response(Response { id, result }) => self.on_response(&id, Ok(result)),
            Message::Error(ErrorResponse { id: Some(id), error }) => self.on_response(&id, Err(error)),
            Message::Error(ErrorResponse { id: None, error }) => {
                tracing::warn!(session = %self.shared.session_id, %error, "the peer reported an error about a message it could not read");
            }
            Message::Batch(items) => self.on_batch(items, cx),
        }
    }

    fn on_response(&mut self, id: &RequestId, result: Result<RawJson, ErrorObject>) {
        match self.pending.remove(id) {
            Some(pending) => {
                let _ = pending.reply.send(result.map_err(Failure::Rpc));
            }
            None => {
                tracing::debug!(session = %self.shared.session_id, %id, "response to no pending request (cancelled or timed out?); ignored")
            }
        }
    }

    fn on_request(&mut self, request: Request, batch: Option<u64>, cx: &mut Context<'_>) {
        self.summary.requests_received += 1;
        tracing::trace!(session = %self.shared.session_id, id = %request.id, method = %request.method, "request");
        let id = request.id.clone();
        if self.cancels.contains_key(&id) {
            let error =
                ErrorObject::invalid_request(format!("request id {id} is already in use by a request in flight"));
            self.respond(batch, Message::error(Some(id), error));
            return;
        }
        let cancel = CancelSignal::default();
        match self.handler.on_request(request, &self.shared, &cancel) {
            Dispatch::Now(result) => {
                let msg = match result {
                    Ok(result) => Message::Response(Response { id, result }),
                    Err(error) => Message::error(Some(id), error),
                };
                self.respond(batch, msg);
            }
            Dispatch::Later(future) => self.start(InFlight::new(id, batch, cancel, future), cx),
            Dispatch::Stream { first, future } => {
                self.queue(first);
                self.start(InFlight::new(id, batch, cancel, future), cx);
            }
        }
    }

    /// Polls a handler once where it arrives: one that finishes at once (most do) is answered
    /// without a trip through the in-flight set; the others join it.
    fn start(&mut self, mut handler: InFlight, cx: &mut Context<'_>) {
        if let Poll::Ready(finished) = Pin::new(&mut handler).poll(cx) {
            self.on_finished(finished, cx);
            return;
        }
        self.cancels.insert(handler.id.clone(), handler.cancel.clone());
        self.inflight.push(handler);
    }

    /// Answers a finished handler. What it sent before finishing (progress, log messages) sits
    /// in the command queue and must go out before its response, so the queue is drained first
    /// (it is bounded, so this is too).
    fn on_finished(&mut self, finished: Finished, cx: &mut Context<'_>) {
        while let Poll::Ready(Some(command)) = self.rx.poll_recv(cx) {
            self.on_command(command);
        }
        self.cancels.remove(&finished.id);
        match finished.response {
            Some(msg) => self.respond(finished.batch, msg),
            None => self.respond_nothing(finished.batch),
        }
    }

    fn respond(&mut self, batch: Option<u64>, msg: Message) {
        match batch.and_then(|b| self.batches.get_mut(&b).map(|r| (b, r))) {
            Some((b, reply)) => {
                reply.responses.push(msg);
                reply.remaining -= 1;
                self.finish_batch_if_done(b);
            }
            None => self.queue(msg),
        }
    }

    fn respond_nothing(&mut self, batch: Option<u64>) {
        if let Some(b) = batch
            && let Some(reply) = self.batches.get_mut(&b)
        {
            reply.remaining -= 1;
            self.finish_batch_if_done(b);
        }
    }

    fn finish_batch_if_done(&mut self, b: u64) {
        if self.batches.get(&b).is_some_and(|r| r.remaining == 0)
            && let Some(reply) = self.batches.remove(&b)
            && !reply.responses.is_empty()
        {
            self.queue(Message::Batch(reply.responses));
        }
    }

    fn on_batch(&mut self, items: Vec<Message>, cx: &mut Context<'_>) {
        if !self.handler.allows_batch(&self.shared) {
            let error = ErrorObject::invalid_request(
                "JSON-RPC batches are only allowed in MCP revision 2025-03-26; send one message at a time",
            );
            self.queue(Message::error(None, error));
            return;
        }
        let requests = items.iter().filter(|m| matches!(m, Message::Request(_))).count();
        let limit = self.shared.config.max_concurrency;
        if requests > limit {
            // A batch is read as one message, so its size must be bounded separately from the
            // concurrency limit it would otherwise bypass.
            let error = ErrorObject::invalid_request(format!(
                "a batch of {requests} requests exceeds the limit of {limit} (SessionConfig::max_concurrency); send fewer at once"
            ));
            self.queue(Message::error(None, error));
            return;
        }
        let b = self.next_batch;
        self.next_batch += 1;
        if requests > 0 {
            self.batches.insert(b, BatchReply { remaining: requests, responses: Vec::with_capacity(requests) });
        }
        for item in items {
            match item {
                Message::Request(request) => self.on_request(request, Some(b), cx),
                other => self.on_message(other, cx),
            }
        }
    }

    fn on_notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "notifications/cancelled" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Cancelled {
                    request_id: RequestId,
                }
                match n.params.as_ref().map(RawJson::parse::<Cancelled>) {
                    Some(Ok(c)) => {
                        if let Some(cancel) = self.cancels.get(&c.request_id) {
                            tracing::debug!(session = %self.shared.session_id, id = %c.request_id, "request cancelled by the peer");
                            cancel.cancel();
                        }
                    }
                    _ => {
                        tracing::debug!(session = %self.shared.session_id, "malformed notifications/cancelled; ignored")
                    }
                }
            }
            "notifications/progress" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct ProgressParams {
                    progress_token: RequestId,
                    #[serde(flatten)]
                    progress: Progress,
                }
                match n.params.as_ref().map(RawJson::parse::<ProgressParams>) {
                    Some(Ok(p)) => {
                        if let Some(tx) =
                            self.pending.get(&p.progress_token).and_then(|pending| pending.progress.as_ref())
                        {
                            // A full queue means the caller is behind; later reports supersede this one.
                            let _ = tx.try_send(p.progress);
                        }
                    }
                    _ => {
                        tracing::debug!(session = %self.shared.session_id, "malformed notifications/progress; ignored")
                    }
                }
            }
            _ => self.handler.on_notification(n, &self.shared),
        }
    }
}

fn is_reply(msg: &Message) -> bool {
    matches!(msg, Message::Response(_) | Message::Error(_) | Message::Batch(_))
}
