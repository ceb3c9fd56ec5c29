//! One HTTP-borne MCP session: its inbound queue, and the routing of outgoing messages onto
//! the right SSE stream (or JSON reply).
//!
//! Streams are numbered per session: 0 is the standalone `GET` stream (or the legacy SSE
//! stream), each POST that carries requests opens the next number. An outgoing response goes on
//! the stream of the POST that carried its request; a request or notification with
//! `related_request` goes on that request's stream while it is open (SSE mode), else on stream 0.
//! Each event on a resumable stream is first recorded in the [`EventStore`], then sent live,
//! so a client that reconnects with `Last-Event-ID` gets exactly what it missed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Instant;

use bytes::Bytes;
use mcp_core::{Message, ProtocolVersion, RequestId, TransportError};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::event_store::EventStore;

/// The standalone stream: `GET` on Streamable HTTP, the only stream on legacy SSE.
pub(crate) const STANDALONE: u64 = 0;

/// What kind of HTTP session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionKind {
    /// Streamable HTTP with `Mcp-Session-Id`.
    Streamable,
    /// Legacy HTTP+SSE (2024-11-05).
    Legacy,
    /// A one-POST session of the stateless era (2026-07-28): no id, no GET stream, no resumption.
    Stateless,
}

/// One event for a live HTTP response: an SSE event id (when resumable) and the JSON payload.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) id: Option<String>,
    pub(crate) data: Bytes,
    /// The stream's last event (its last response): the response body ends right after it, in
    /// the same write, so the client sees the whole response at once and can reuse the connection.
    pub(crate) last: bool,
}

/// How a stream's events leave the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamMode {
    Sse,
    Json,
}

struct StreamSlot {
    live: Option<mpsc::Sender<Outgoing>>,
    /// Requests of this POST still unanswered; the stream ends when it reaches 0.
    pending: usize,
    mode: StreamMode,
    next_seq: u64,
    /// The highest `seq` already in the event store: replay covers up to here, live the rest.
    stored: u64,
}

struct State {
    last_active: Instant,
    version: Option<ProtocolVersion>,
    next_stream: u64,
    streams: HashMap<u64, StreamSlot>,
    by_request: HashMap<RequestId, u64>,
}

/// A session shared by the HTTP handlers (which feed it) and its transport (which drains it).
pub(crate) struct Session {
    pub(crate) id: Arc<str>,
    pub(crate) kind: SessionKind,
    /// The principal that created the session; only it may use it.
    pub(crate) principal: Option<String>,
    inbound: mpsc::Sender<Result<Message, TransportError>>,
    pub(crate) closed: CancellationToken,
    /// HTTP requests in progress and SSE streams open: a session with any is not idle.
    attached: AtomicUsize,
    event_store: Option<Arc<dyn EventStore>>,
    capacity: usize,
    state: Mutex<State>,
}

/// Why a resumption was refused.
#[derive(Debug)]
pub(crate) enum ResumeError {
    /// `Last-Event-ID` is not one of ours.
    Unknown,
    /// The event store failed.
    Store(String),
}

/// Why registering a POST's requests failed.
#[derive(Debug)]
pub(crate) struct DuplicateId(pub(crate) RequestId);

impl Session {
    /// A new session and the receiving end of its inbound queue (the transport's stream).
    pub(crate) fn new(
        id: Arc<str>,
        kind: SessionKind,
        principal: Option<String>,
        event_store: Option<Arc<dyn EventStore>>,
        capacity: usize,
    ) -> (Arc<Self>, mpsc::Receiver<Result<Message, TransportError>>) {
        let (inbound, rx) = mpsc::channel(capacity.max(1));
        let mut streams = HashMap::new();
        streams
            .insert(STANDALONE, StreamSlot { live: None, pending: 0, mode: StreamMode::Sse, next_seq: 1, stored: 0 });
        let event_store = if kind == SessionKind::Streamable { event_store } else { None };
        let session = Arc::new(Self {
            id,
            kind,
            principal,
            inbound,
            closed: CancellationToken::new(),
            attached: AtomicUsize::new(0),
            event_store,
            capacity: capacity.max(1),
            state: Mutex::new(State {
                last_active: Instant::now(),
                version: None,
                next_stream: 1,
                streams,
                by_request: HashMap::new(),
            }),
        });
        (session, rx)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether events on this session carry ids and can be resumed.
    pub(crate) fn resumable(&self) -> bool {
        self.event_store.is_some()
    }

    /// The negotiated protocol version, once the `initialize` response went out.
    pub(crate) fn version(&self) -> Option<ProtocolVersion> {
        self.lock().version
    }

    /// Marks the session busy until the guard drops.
    pub(crate) fn attach(self: &Arc<Self>) -> ActivityGuard {
        self.attached.fetch_add(1, Ordering::AcqRel);
        self.lock().last_active = Instant::now();
        ActivityGuard(Arc::clone(self))
    }

    /// Whether the session has had no request and no open stream for at least `idle`.
    pub(crate) fn is_idle(&self, idle: std::time::Duration) -> bool {
        self.attached.load(Ordering::Acquire) == 0 && self.lock().last_active.elapsed() >= idle
    }

    /// Ends the session: the transport's stream ends, open SSE streams end, sends fail.
    pub(crate) fn close(&self) {
        self.closed.cancel();
        let mut state = self.lock();
        state.streams.clear();
        state.by_request.clear();
    }

    /// Hands a client message to the session's transport, waiting while its queue is full.
    ///
    /// # Errors
    /// `Closed` when the session is gone (closed, or its transport was dropped).
    pub(crate) async fn deliver(&self, item: Result<Message, TransportError>) -> Result<(), TransportError> {
        if self.closed.is_cancelled() {
            return Err(TransportError::Closed);
        }
        tokio::select! {
            sent = self.inbound.send(item) => sent.map_err(|_| TransportError::Closed),
            () = self.closed.cancelled() => Err(TransportError::Closed),
        }
    }

    /// Opens the stream for a POST carrying the requests `ids`.
    pub(crate) fn open_request_stream(
        &self,
        ids: &[RequestId],
        mode: StreamMode,
    ) -> Result<(u64, mpsc::Receiver<Outgoing>), DuplicateId> {
        let mut state = self.lock();
        if let Some(dup) = ids.iter().find(|id| state.by_request.contains_key(id)) {
            return Err(DuplicateId(dup.clone()));
        }
        let stream = state.next_stream;
        state.next_stream += 1;
        let (tx, rx) = mpsc::channel(self.capacity);
        state.streams.insert(stream, StreamSlot { live: Some(tx), pending: ids.len(), mode, next_seq: 1, stored: 0 });
        for id in ids {
            state.by_request.insert(id.clone(), stream);
        }
        Ok((stream, rx))
    }

    /// Forgets a request stream whose requests never reached the transport.
    pub(crate) fn abandon_request_stream(&self, stream: u64, ids: &[RequestId]) {
        let mut state = self.lock();
        state.streams.remove(&stream);
        for id in ids {
            state.by_request.remove(id);
        }
    }

    /// Attaches a fresh `GET` connection to the standalone stream; `None` if one is already live.
    /// Also returns the stream's cursor, the id a priming event carries.
    pub(crate) fn open_standalone(&self) -> Option<(mpsc::Receiver<Outgoing>, String)> {
        let mut state = self.lock();
        let slot = state.streams.get_mut(&STANDALONE)?;
        if slot.live.as_ref().is_some_and(|live| !live.is_closed()) {
            return None;
        }
        let (tx, rx) = mpsc::channel(self.capacity);
        slot.live = Some(tx);
        Some((rx, event_id(STANDALONE, slot.stored)))
    }

    /// Resumes the stream named by `last_event_id`: the events it missed, then (if the stream
    /// is still open) a live channel for the rest, replacing any older connection.
    pub(crate) async fn resume(
        &self,
        last_event_id: &str,
    ) -> Result<(Vec<Outgoing>, Option<mpsc::Receiver<Outgoing>>), ResumeError> {
        let (stream, after) = parse_event_id(last_event_id).ok_or(ResumeError::Unknown)?;
        let (live, upto) = {
            let mut state = self.lock();
            if stream >= state.next_stream {
                return Err(ResumeError::Unknown);
            }
            match state.streams.get_mut(&stream) {
                Some(slot) if slot.mode == StreamMode::Sse => {
                    let (tx, rx) = mpsc::channel(self.capacity);
                    slot.live = Some(tx);
                    (Some(rx), slot.stored)
                }
                // Finished (or JSON) stream: replay what is left, then end.
                _ => (None, u64::MAX),
            }
        };
        let store = self.event_store.as_ref().ok_or(ResumeError::Unknown)?;
        let events = store.replay(&self.id, stream, after).await.map_err(|e| ResumeError::Store(e.to_string()))?;
        let replay = events
            .into_iter()
            .filter(|(seq, _)| *seq <= upto)
            .map(|(seq, data)| Outgoing { id: Some(event_id(stream, seq)), data, last: false })
            .collect();
        Ok((replay, live))
    }

    /// Closes the live connection of the stream that carries `request` (the client reconnects
    /// with `Last-Event-ID`; nothing is lost). Returns whether there was one.
    pub(crate) fn close_request_connection(&self, request: &RequestId) -> bool {
        let mut state = self.lock();
        let Some(&stream) = state.by_request.get(request) else { return false };
        state.streams.get_mut(&stream).and_then(|slot| slot.live.take()).is_some()
    }

    /// Closes the live connection of the standalone stream.
    pub(crate) fn close_standalone_connection(&self) -> bool {
        self.lock().streams.get_mut(&STANDALONE).and_then(|slot| slot.live.take()).is_some()
    }

    /// Routes one outgoing message; see the module docs. Waits while the target connection's
    /// queue is full (backpressure from a slow client).
    ///
    /// # Errors
    /// `Closed` once the session has ended.
    pub(crate) async fn send(&self, message: Message) -> Result<(), TransportError> {
        if self.closed.is_cancelled() {
            return Err(TransportError::Closed);
        }
        if let Message::Batch(items) = message {
            for item in items {
                Box::pin(self.send(item)).await?;
            }
            return Ok(());
        }
        self.sniff_version(&message);
        let data = Bytes::from(message.to_vec());
        let (stream, seq, final_event, sse) = {
            let mut state = self.lock();
            let (stream, final_event) = route(&mut state, &message);
            match state.streams.get_mut(&stream) {
                Some(slot) => {
                    slot.next_seq += 1;
                    (stream, slot.next_seq - 1, final_event, slot.mode == StreamMode::Sse)
                }
                None => (stream, 0, final_event, false),
            }
        };
        let resumable = self.event_store.is_some() && sse;
        if let Some(store) = self.event_store.as_ref().filter(|_| resumable)
            && let Err(err) = store.append(&self.id, stream, seq, data.clone()).await
        {
            tracing::warn!(session = %self.id, stream, error = %err, "event store append failed; event not resumable");
        }
        let live = {
            let mut state = self.lock();
            match state.streams.get_mut(&stream) {
                Some(slot) => {
                    slot.stored = seq;
                    let live = slot.live.clone();
                    if final_event {
                        state.streams.remove(&stream);
                    }
                    live
                }
                None => None,
            }
        };
        let Some(live) = live else {
            tracing::debug!(session = %self.id, stream, "no live connection for this message; kept for resumption only");
            return Ok(());
        };
        let event = Outgoing { id: resumable.then(|| event_id(stream, seq)), data, last: final_event };
        tokio::select! {
            sent = live.send(event) => {
                if sent.is_err() {
                    tracing::debug!(session = %self.id, stream, "client disconnected from stream");
                    let mut state = self.lock();
                    if let Some(slot) = state.streams.get_mut(&stream)
                        && slot.live.as_ref().is_some_and(|l| l.same_channel(&live))
                    {
                        slot.live = None;
                    }
                }
                Ok(())
            }
            () = self.closed.cancelled() => Err(TransportError::Closed),
        }
    }

    /// Learns the negotiated version from the `initialize` result, the one message that has it.
    fn sniff_version(&self, message: &Message) {
        let Message::Response(response) = message else { return };
        let mut state = self.lock();
        if state.version.is_some() || !response.result.get().contains("\"protocolVersion\"") {
            return;
        }
        #[derive(serde::Deserialize)]
        struct Negotiated {
            #[serde(rename = "protocolVersion")]
            protocol_version: String,
        }
        if let Ok(n) = response.result.parse::<Negotiated>() {
            state.version = n.protocol_version.parse().ok();
        }
    }

    /// A weak handle for [`StreamControl`](super::StreamControl).
    pub(crate) fn downgrade(self: &Arc<Self>) -> Weak<Self> {
        Arc::downgrade(self)
    }
}

/// Picks the stream for `message`; returns it and whether this event ends it.
fn route(state: &mut State, message: &Message) -> (u64, bool) {
    match message {
        Message::Response(_) | Message::Error(_) => {
            let Some(id) = message.id() else { return (STANDALONE, false) };
            let Some(stream) = state.by_request.remove(id) else { return (STANDALONE, false) };
            let Some(slot) = state.streams.get_mut(&stream) else { return (STANDALONE, false) };
            slot.pending = slot.pending.saturating_sub(1);
            (stream, slot.pending == 0)
        }
        _ => {
            let target = message
                .related_request()
                .and_then(|id| state.by_request.get(id))
                .filter(|stream| state.streams.get(stream).is_some_and(|slot| slot.mode == StreamMode::Sse));
            (target.copied().unwrap_or(STANDALONE), false)
        }
    }
}

/// `"<stream>_<seq>"`: names the stream so that a `Last-Event-ID` finds it again.
pub(crate) fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}_{seq}")
}

fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (stream, seq) = id.split_once('_')?;
    Some((stream.parse().ok()?, seq.parse().ok()?))
}

/// Keeps a session from being reaped while an HTTP request or stream is using it.
pub(crate) struct ActivityGuard(Arc<Session>);

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        self.0.lock().last_active = Instant::now();
        self.0.attached.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_round_trip() {
        assert_eq!(parse_event_id(&event_id(3, 17)), Some((3, 17)));
        assert_eq!(parse_event_id("x_1"), None);
        assert_eq!(parse_event_id("17"), None);
    }
}
