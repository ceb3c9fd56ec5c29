//! The client side of a session: answers the server's requests (ping, sampling, elicitation,
//! roots) with the handlers the user registered, and passes notifications on.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use mcp_core::jsonrpc::{Notification, Request};
use mcp_core::schema::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, ListRootsResult,
};
use mcp_core::{ErrorObject, RawJson};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::session::cancel::CancelSignal;
use crate::session::inflight::HandlerResult;
use crate::session::{Dispatch, Handler, Shared};

pub(crate) type SamplingFn =
    dyn Fn(CreateMessageRequestParams) -> BoxFuture<'static, Result<CreateMessageResult, ErrorObject>> + Send + Sync;
pub(crate) type ElicitationFn =
    dyn Fn(ElicitRequestParams) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> + Send + Sync;
pub(crate) type RootsFn = dyn Fn() -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> + Send + Sync;
pub(crate) type NotificationFn = dyn Fn(Notification) + Send + Sync;

#[derive(Clone, Default)]
pub(crate) struct ClientHandlers {
    pub(crate) sampling: Option<Arc<SamplingFn>>,
    pub(crate) elicitation: Option<Arc<ElicitationFn>>,
    pub(crate) roots: Option<Arc<RootsFn>>,
    pub(crate) notification: Option<Arc<NotificationFn>>,
}

pub(crate) struct ClientSession {
    pub(crate) handlers: ClientHandlers,
}

fn later<P, R, F>(
    request: &Request,
    handler: Option<&Arc<F>>,
    call: impl FnOnce(&F, P) -> BoxFuture<'static, Result<R, ErrorObject>>,
) -> Dispatch
where
    P: DeserializeOwned,
    R: Serialize + 'static,
    F: ?Sized,
{
    let Some(handler) = handler else {
        return Dispatch::Now(Err(ErrorObject::method_not_found(&request.method)));
    };
    let params: P = match request.parse_params() {
        Ok(p) => p,
        Err(e) => return Dispatch::Now(Err(ErrorObject::invalid_params(format!("{}: {e}", request.method)))),
    };
    Dispatch::Later(call(handler, params).map(|r| r.and_then(|r| to_raw(&r))).boxed())
}

fn to_raw<T: Serialize>(value: &T) -> HandlerResult {
    RawJson::from_serialize(value).map_err(|e| ErrorObject::internal_error(format!("cannot serialize the result: {e}")))
}

impl Handler for ClientSession {
    fn on_request(&mut self, request: Request, _shared: &Arc<Shared>, _cancel: &CancelSignal) -> Dispatch {
        let h = &self.handlers;
        match request.method.as_str() {
            "ping" => Dispatch::Now(Ok(RawJson::empty_object())),
            "sampling/createMessage" => later(&request, h.sampling.as_ref(), |f, p| f(p)),
            "elicitation/create" => later(&request, h.elicitation.as_ref(), |f, p| f(p)),
            "roots/list" => later(&request, h.roots.as_ref(), |f, _: serde_json::Value| f()),
            method => Dispatch::Now(Err(ErrorObject::method_not_found(method))),
        }
    }

    fn on_notification(&mut self, notification: Notification, _shared: &Arc<Shared>) {
        if let Some(callback) = &self.handlers.notification {
            callback(notification);
        }
    }
}
