//! The cancellation signal of one incoming request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::task::AtomicWaker;
use tokio::sync::Notify;

/// Fired when the peer cancels a request (or the session drops it); shared by the session
/// task, which drops the handler's future, and the handler, which may want to clean up.
#[derive(Clone, Default)]
pub(crate) struct CancelSignal(Arc<State>);

#[derive(Default)]
struct State {
    cancelled: AtomicBool,
    /// Wakes the in-flight slot so the session drops the handler future at once.
    slot: AtomicWaker,
    /// Wakes handler code waiting in `RequestContext::cancelled`.
    notify: Notify,
}

impl CancelSignal {
    pub(crate) fn cancel(&self) {
        if !self.0.cancelled.swap(true, Ordering::AcqRel) {
            self.0.slot.wake();
            self.0.notify.notify_waiters();
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::Acquire)
    }

    pub(crate) fn register_slot(&self, waker: &std::task::Waker) {
        self.0.slot.register(waker);
    }

    /// Completes once the request is cancelled.
    pub(crate) async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}
