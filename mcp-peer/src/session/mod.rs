//! The session engine shared by [`Server`](crate::Server) and [`Client`](crate::Client).
//!
//! One task per session (the [`driver`]) owns the transport. It reads messages, answers
//! requests through a [`Handler`], correlates responses with the requests it sent, and writes
//! what handlers and [`Peer`] handles queue for it. Everything else talks to it through a
//! bounded channel of [`Outbound`] commands.

pub(crate) mod cancel;
pub(crate) mod driver;
pub(crate) mod inflight;
pub(crate) mod peer;

use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use mcp_core::jsonrpc::{Notification, Request};
use mcp_core::{ErrorObject, ProtocolVersion, RawJson, RequestId, SessionInfo};
use tokio::sync::{mpsc, oneshot};

pub use peer::{Peer, Progress};

use crate::config::SessionConfig;
use cancel::CancelSignal;
use inflight::HandlerResult;

/// A command for the session task.
pub(crate) enum Outbound {
    /// Send a request and route its response to `pending`.
    Request { request: Request, pending: Pending },
    /// Send a notification.
    Notification(Notification),
    /// The caller of request `id` gave up (dropped, timed out): forget it and tell the peer.
    Cancel { id: RequestId, reason: String },
    /// Something changed that the session's handler may want to tell the peer.
    Event(SessionEvent),
    /// Stop reading, finish in-flight work, flush and close the transport.
    Close,
}

/// Server-side changes that live sessions announce to their peers.
#[derive(Debug, Clone)]
pub(crate) enum SessionEvent {
    ToolsChanged,
    ResourcesChanged,
    PromptsChanged,
    ResourceUpdated(Arc<str>),
}

/// Where the response to an outgoing request goes.
pub(crate) struct Pending {
    pub(crate) reply: oneshot::Sender<Result<RawJson, Failure>>,
    pub(crate) progress: Option<mpsc::Sender<Progress>>,
}

/// Why an outgoing request got no result.
pub(crate) enum Failure {
    Rpc(ErrorObject),
    Closed(String),
}

/// What the session knows about its peer once the handshake (or a stateless request) told it.
#[derive(Debug, Clone)]
pub(crate) struct PeerInfo {
    pub(crate) protocol_version: ProtocolVersion,
    /// The peer's declared capabilities, as sent.
    pub(crate) capabilities: serde_json::Value,
    /// The peer's `clientInfo` / `serverInfo`, as sent.
    pub(crate) info: serde_json::Value,
}

/// State shared by the session task and every handle onto the session.
pub(crate) struct Shared {
    pub(crate) tx: mpsc::Sender<Outbound>,
    next_id: AtomicI64,
    pub(crate) config: SessionConfig,
    pub(crate) session_id: Arc<str>,
    /// What the transport knows about the session (its principal, address, extensions).
    pub(crate) info: SessionInfo,
    pub(crate) peer_info: OnceLock<PeerInfo>,
    /// `_meta` entries every outgoing request carries (the stateless revision's protocol
    /// version, client capabilities and identity); unset in legacy sessions.
    pub(crate) request_meta: OnceLock<serde_json::Map<String, serde_json::Value>>,
    /// Fired when the session stops reading (the peer closed, a local close, a transport
    /// failure): long-lived requests end themselves on it.
    pub(crate) closing: CancelSignal,
    /// The minimum `LogLevel` (as u8) the peer asked for with `logging/setLevel`.
    pub(crate) log_level: AtomicU8,
}

impl Shared {
    pub(crate) fn new(
        tx: mpsc::Sender<Outbound>,
        config: SessionConfig,
        session_id: Arc<str>,
        info: SessionInfo,
        log_level: u8,
    ) -> Self {
        Self {
            tx,
            next_id: AtomicI64::new(0),
            config,
            session_id,
            info,
            peer_info: OnceLock::new(),
            request_meta: OnceLock::new(),
            closing: CancelSignal::default(),
            log_level: AtomicU8::new(log_level),
        }
    }

    pub(crate) fn next_id(&self) -> RequestId {
        RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed))
    }
}

/// How a handler answers one request.
pub(crate) enum Dispatch {
    /// The answer is known now (a list, an error): no task, no future.
    Now(HandlerResult),
    /// The answer comes from a future the session runs in its in-flight set.
    Later(BoxFuture<'static, HandlerResult>),
    /// A long-lived request (a subscription): `first` goes out at once, before anything the
    /// request produces later, and the answer comes when `future` completes.
    Stream { first: mcp_core::Message, future: BoxFuture<'static, HandlerResult> },
}

/// The role-specific part of a session: what the server or client does with incoming messages.
pub(crate) trait Handler: Send + 'static {
    /// Answers a request. `cancel` fires when the peer cancels it.
    fn on_request(&mut self, request: Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch;

    /// Handles a notification other than cancellation and progress (the engine's own).
    fn on_notification(&mut self, notification: Notification, shared: &Arc<Shared>);

    /// Turns an event into the messages the peer wants about it (often none).
    fn on_event(&mut self, _event: SessionEvent, _shared: &Arc<Shared>) -> Vec<mcp_core::Message> {
        Vec::new()
    }

    /// Whether JSON-RPC batches are allowed (the negotiated revision is 2025-03-26).
    fn allows_batch(&self, shared: &Shared) -> bool {
        shared.peer_info.get().is_some_and(|p| p.protocol_version.allows_batches())
    }

    /// Called once when the session ends.
    fn on_close(&mut self, _shared: &Arc<Shared>) {}
}

/// Sends a command from synchronous code (a `Drop`, a registry change): now if the queue has
/// room, else from a task, so that the command is not lost while the session runs.
pub(crate) fn send_from_sync(tx: &mpsc::Sender<Outbound>, command: Outbound) {
    match tx.try_send(command) {
        Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
        Err(mpsc::error::TrySendError::Full(command)) => {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let tx = tx.clone();
                runtime.spawn(async move {
                    let _ = tx.send(command).await;
                });
            }
        }
    }
}
