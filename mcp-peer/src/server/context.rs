//! [`RequestContext`]: what a request handler knows and can do besides returning a result.

use std::fmt;

use std::sync::Arc;

use mcp_core::schema::{
    InputResponse, InputResponses, LoggingLevel, LoggingMessageNotificationParams, ProgressNotificationParams,
    ProgressToken,
};
use mcp_core::{Principal, RequestId};
use serde_json::Value;

use crate::error::PeerError;
use crate::session::Peer;
use crate::session::cancel::CancelSignal;

/// The context of one incoming request: who is calling, progress and log reporting, the
/// cancellation signal, and a [`Peer`] for requests back to the client.
///
/// Cheap to clone; a handler may hand clones to tasks it spawns.
#[derive(Clone)]
pub struct RequestContext {
    peer: Peer,
    request_id: RequestId,
    cancel: CancelSignal,
    progress_token: Option<ProgressToken>,
    log_floor: LogFloor,
    /// The answers a retried request carries (2026-07-28 multi round-trip requests).
    input: Option<Arc<(InputResponses, Option<String>)>>,
}

/// Where a request's minimum log level comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LogFloor {
    /// The session's, set with `logging/setLevel` (legacy revisions).
    Session,
    /// The request's own `_meta` (2026-07-28); `None` means no log messages at all.
    Request(Option<LoggingLevel>),
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("session", &self.peer.session_id())
            .field("request_id", &self.request_id)
            .field("progress_token", &self.progress_token)
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    pub(crate) fn new(
        peer: Peer,
        request_id: RequestId,
        cancel: CancelSignal,
        progress_token: Option<ProgressToken>,
        log_floor: LogFloor,
    ) -> Self {
        Self { peer, request_id, cancel, progress_token, log_floor, input: None }
    }

    pub(crate) fn with_input(mut self, responses: InputResponses, state: Option<String>) -> Self {
        self.input = Some(Arc::new((responses, state)));
        self
    }

    /// The client's answer to the input request `key` of an earlier
    /// [`ToolError::InputRequired`](crate::ToolError::InputRequired), when this call is the retry
    /// that carries it (2026-07-28).
    pub fn input_response(&self, key: &str) -> Option<&InputResponse> {
        self.input.as_ref().and_then(|input| input.0.get(key))
    }

    /// The `requestState` the client echoed back with its answers, if any.
    pub fn request_state(&self) -> Option<&str> {
        self.input.as_ref().and_then(|input| input.1.as_deref())
    }

    /// The authenticated caller, when the transport authenticated one.
    pub fn principal(&self) -> Option<&Principal> {
        self.peer.principal()
    }

    /// What the transport knows about the session (remote address, extensions, ...).
    pub fn session_info(&self) -> &mcp_core::SessionInfo {
        self.peer.session_info()
    }

    /// The session's id.
    pub fn session_id(&self) -> &str {
        self.peer.session_id()
    }

    /// The id of the request being handled.
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// The progress token the caller sent, if it wants progress reports.
    pub fn progress_token(&self) -> Option<&ProgressToken> {
        self.progress_token.as_ref()
    }

    /// A handle for requests and notifications to the client (sampling, elicitation, roots).
    /// What is sent through it is tied to this request (see [`Peer`]).
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Reports progress (`notifications/progress`); does nothing when the caller sent no
    /// progress token. `progress` should increase with every call.
    ///
    /// # Errors
    /// [`PeerError::Closed`] when the session has ended.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) -> Result<(), PeerError> {
        let Some(token) = &self.progress_token else { return Ok(()) };
        // The typed params write an integral value as an integer (`"progress": 1`, not `1.0`).
        let mut params = ProgressNotificationParams::new(token.clone(), progress, total);
        params.message = message.map(str::to_owned);
        self.peer.notify("notifications/progress", &params).await
    }

    /// Sends a log message (`notifications/message`) if `level` is at or above the level the
    /// client asked for: with `logging/setLevel` (until 2025-11-25), or in the request's
    /// `_meta` (2026-07-28, where a request without a level gets no log messages).
    ///
    /// # Errors
    /// [`PeerError::Closed`] when the session has ended.
    pub async fn log(&self, level: LoggingLevel, data: impl Into<Value>) -> Result<(), PeerError> {
        let enabled = match self.log_floor {
            LogFloor::Session => self.peer.log_enabled(level),
            LogFloor::Request(floor) => floor.is_some_and(|floor| level >= floor),
        };
        if !enabled {
            return Ok(());
        }
        let params = LoggingMessageNotificationParams::new(level, data);
        self.peer.notify("notifications/message", &params).await
    }

    /// Completes when the client cancels this request. The session drops the handler's
    /// future at the same time; this is for work the handler handed to other tasks.
    ///
    /// # Cancel safety
    /// Cancel-safe.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Whether the client cancelled this request.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}
