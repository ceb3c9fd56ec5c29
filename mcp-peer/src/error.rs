//! What can go wrong in a session, as seen by the code that made a call.

use std::time::Duration;

use mcp_core::{ErrorObject, TransportError};

/// Why a call to the peer (or a whole session) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The transport failed (connection lost, I/O error); the session is over.
    #[error("transport error: {0}")]
    Transport(#[from] TransportError),
    /// The peer answered with a JSON-RPC error.
    #[error("the peer answered {method:?} with an error: {error}")]
    Rpc {
        /// The method that was called.
        method: String,
        /// The error object the peer sent.
        error: ErrorObject,
    },
    /// The peer sent no response within the timeout; `notifications/cancelled` was sent.
    #[error(
        "request {method:?} timed out after {}ms without a response (configure SessionConfig::request_timeout); cancelled",
        after.as_millis()
    )]
    Timeout {
        /// The method that was called.
        method: String,
        /// How long the request waited.
        after: Duration,
    },
    /// The request was cancelled before it completed.
    #[error("request {method:?} was cancelled: {reason}")]
    Cancelled {
        /// The method that was called.
        method: String,
        /// Why.
        reason: String,
    },
    /// The session is closed (the peer disconnected, or `close` was called) so the call
    /// cannot complete. Open a new session to go on.
    #[error("session closed: {0}")]
    Closed(String),
    /// The peer did not declare the capability a request needs (a server asking a client
    /// that declared no `sampling` capability to sample).
    #[error("cannot send {method:?}: the peer did not declare the {capability:?} capability")]
    MissingCapability {
        /// The capability, e.g. `"sampling"`.
        capability: String,
        /// The method that needs it.
        method: String,
    },
    /// The peer broke the protocol (a malformed result, a missing capability, an unsupported
    /// protocol version).
    #[error("protocol violation: {0}")]
    Protocol(String),
}

impl PeerError {
    /// The JSON-RPC error object, when the peer answered with one.
    pub fn rpc_error(&self) -> Option<&ErrorObject> {
        match self {
            Self::Rpc { error, .. } => Some(error),
            _ => None,
        }
    }

    pub(crate) fn closed(what: impl Into<String>) -> Self {
        Self::Closed(what.into())
    }
}
