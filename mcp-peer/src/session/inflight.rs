//! One incoming request being handled: the handler's future, its cancellation and panic guard.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use mcp_core::{ErrorObject, Message, RawJson, RequestId};

use super::cancel::CancelSignal;

/// What a handler produces: a result, or the JSON-RPC error to answer with.
pub(crate) type HandlerResult = Result<RawJson, ErrorObject>;

/// A handler future in the session's in-flight set.
///
/// Resolves to the response to send, or `None` when the request was cancelled (the spec says
/// a cancelled request gets no response). A panic in the handler becomes -32603.
pub(crate) struct InFlight {
    pub(crate) id: RequestId,
    /// The batch this request belongs to, if it came in one.
    pub(crate) batch: Option<u64>,
    pub(crate) cancel: CancelSignal,
    future: BoxFuture<'static, HandlerResult>,
}

/// A finished in-flight request.
pub(crate) struct Finished {
    pub(crate) id: RequestId,
    pub(crate) batch: Option<u64>,
    pub(crate) response: Option<Message>,
}

impl InFlight {
    pub(crate) fn new(
        id: RequestId,
        batch: Option<u64>,
        cancel: CancelSignal,
        future: BoxFuture<'static, HandlerResult>,
    ) -> Self {
        Self { id, batch, cancel, future }
    }
}

impl Future for InFlight {
    type Output = Finished;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Finished> {
        let this = &mut *self;
        let done =
            |this: &mut Self, response| Poll::Ready(Finished { id: this.id.clone(), batch: this.batch, response });
        if this.cancel.is_cancelled() {
            return done(this, None);
        }
        this.cancel.register_slot(cx.waker());
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx)));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(_)) if this.cancel.is_cancelled() => done(this, None),
            Ok(Poll::Ready(Ok(result))) => {
                let response = Message::Response(mcp_core::jsonrpc::Response { id: this.id.clone(), result });
                done(this, Some(response))
            }
            Ok(Poll::Ready(Err(error))) => {
                let response = Message::error(Some(this.id.clone()), error);
                done(this, Some(response))
            }
            Err(panic) => {
                let what = panic_message(panic.as_ref());
                tracing::error!(id = %this.id, panic = %what, "request handler panicked; answering -32603");
                let response = Message::error(
                    Some(this.id.clone()),
                    ErrorObject::internal_error(format!("the handler panicked: {what}")),
                );
                // The future must not be polled again after a panic: replace it.
                this.future = Box::pin(futures::future::pending());
                done(this, Some(response))
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}
