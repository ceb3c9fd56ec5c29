//! Ending a connection from outside its transport: server shutdown (1001) and policy
//! violations (1008).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::FutureExt;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::error::WsCloseReason;

/// Closes one server-side connection for a policy violation (close code 1008), from any task.
///
/// Every session a [`WsServer`](crate::WsServer) accepts carries one in
/// `SessionInfo::extensions`; the gateway uses it when a caller's rights are revoked or a rate
/// limit says the session must end.
///
/// ```no_run
/// # fn demo(session: mcp_core::IncomingSession) {
/// use mcp_transport_ws::CloseHandle;
/// if let Some(handle) = session.info.extensions.get::<CloseHandle>() {
///     handle.close_policy_violation("token revoked");
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CloseHandle {
    token: CancellationToken,
    reason: Arc<Mutex<Option<String>>>,
}

impl CloseHandle {
    /// A handle whose connection also stops when `parent` (the server's shutdown token) does.
    pub(crate) fn child_of(parent: &CancellationToken) -> Self {
        Self { token: parent.child_token(), reason: Arc::default() }
    }

    /// Closes the connection with 1008 and `reason` (cut to 123 bytes): the transport sends the
    /// close frame and its stream yields a fatal [`WsCloseReason::PolicyViolation`] item.
    /// Calling it again, or after the connection ended, does nothing.
    pub fn close_policy_violation(&self, reason: impl Into<String>) {
        if let Ok(mut slot) = self.reason.lock() {
            slot.get_or_insert_with(|| reason.into());
        }
        self.token.cancel();
    }

    /// Whether the connection was told to stop (by this handle or by a server shutdown).
    pub fn is_closed(&self) -> bool {
        self.token.is_cancelled()
    }

    pub(crate) fn signal(&self) -> StopSignal {
        StopSignal { fired: Box::pin(self.token.clone().cancelled_owned()), reason: self.reason.clone() }
    }
}

/// What a transport watches to learn that it must stop.
pub(crate) struct StopSignal {
    fired: Pin<Box<WaitForCancellationFutureOwned>>,
    reason: Arc<Mutex<Option<String>>>,
}

/// How a transport must stop.
pub(crate) enum Stop {
    /// The server is shutting down: stop reading, let in-flight work finish, close with 1001.
    Shutdown,
    /// Close now with the given reason.
    Now(WsCloseReason),
}

impl StopSignal {
    /// Ready once the connection must stop.
    pub(crate) fn poll_stop(&mut self, cx: &mut Context<'_>) -> Poll<Stop> {
        self.fired.poll_unpin(cx).map(|()| {
            let why = self.reason.lock().ok().and_then(|mut r| r.take());
            why.map_or(Stop::Shutdown, |why| Stop::Now(WsCloseReason::PolicyViolation(why)))
        })
    }
}
