//! `subscriptions/listen` (2026-07-28): long-lived requests on which the server sends the
//! list-changed and resource-updated notifications the client asked for.
//!
//! A subscription is the listen request itself: it stays in flight (one concurrency slot)
//! until the client cancels it or the session stops reading, when it is answered with a
//! complete result, the spec's graceful closure.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::FutureExt;
use mcp_core::jsonrpc::Request;
use mcp_core::schema::{
    SubscriptionFilter, SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams, meta_keys,
};
use mcp_core::{ErrorObject, Message, RawJson, RequestId};
use serde_json::{Value, json};

use crate::session::{Dispatch, SessionEvent, Shared};

/// The live subscriptions of one session.
#[derive(Default)]
pub(crate) struct Listens {
    active: Vec<Listen>,
}

struct Listen {
    id: RequestId,
    granted: Granted,
    /// Cleared when the listen request ends (cancelled, answered, dropped).
    alive: Arc<AtomicBool>,
}

#[derive(Default)]
struct Granted {
    tools: bool,
    prompts: bool,
    resources: bool,
    uris: BTreeSet<String>,
}

/// Marks a subscription dead when its request's future goes away, however that happens.
struct AliveGuard(Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

fn subscription_meta(id: &RequestId) -> Value {
    json!({ meta_keys::SUBSCRIPTION_ID: id })
}

impl Listens {
    /// Opens the subscription `request` asks for: the acknowledgment goes out first, the
    /// request stays open until cancelled or the session closes.
    pub(crate) fn open(&mut self, request: &Request, shared: &Arc<Shared>) -> Dispatch {
        let params: SubscriptionsListenRequestParams = match request.parse_params() {
            Ok(p) => p,
            Err(e) => return Dispatch::Now(Err(ErrorObject::invalid_params(format!("subscriptions/listen: {e}")))),
        };
        let wanted = params.notifications;
        let granted = Granted {
            tools: wanted.tools_list_changed == Some(true),
            prompts: wanted.prompts_list_changed == Some(true),
            resources: wanted.resources_list_changed == Some(true),
            uris: wanted.resource_subscriptions.into_iter().collect(),
        };
        let id = request.id.clone();
        let ack = SubscriptionsAcknowledgedNotificationParams {
            meta: subscription_meta(&id).as_object().cloned(),
            notifications: SubscriptionFilter {
                tools_list_changed: granted.tools.then_some(true),
                prompts_list_changed: granted.prompts.then_some(true),
                resources_list_changed: granted.resources.then_some(true),
                resource_subscriptions: granted.uris.iter().cloned().collect(),
                extra: serde_json::Map::new(),
            },
            extra: serde_json::Map::new(),
        };
        let first = match Message::notification("notifications/subscriptions/acknowledged", &ack) {
            Ok(msg) => msg.with_related_request(Some(id.clone())),
            Err(e) => return Dispatch::Now(Err(ErrorObject::internal_error(e))),
        };
        let alive = Arc::new(AtomicBool::new(true));
        self.active.retain(|l| l.alive.load(Ordering::Acquire));
        self.active.push(Listen { id: id.clone(), granted, alive: alive.clone() });

        let guard = AliveGuard(alive);
        let closing = shared.closing.clone();
        let future = async move {
            let _guard = guard;
            closing.cancelled().await;
            RawJson::from_serialize(&json!({ "resultType": "complete", "_meta": subscription_meta(&id) }))
                .map_err(|e| ErrorObject::internal_error(e.to_string()))
        };
        Dispatch::Stream { first, future: future.boxed() }
    }

    /// The notifications `event` means for the live subscriptions.
    pub(crate) fn on_event(&mut self, event: &SessionEvent) -> Vec<Message> {
        self.active.retain(|l| l.alive.load(Ordering::Acquire));
        let mut out = Vec::new();
        for listen in &self.active {
            let g = &listen.granted;
            let (method, mut params) = match event {
                SessionEvent::ToolsChanged if g.tools => ("notifications/tools/list_changed", json!({})),
                SessionEvent::PromptsChanged if g.prompts => ("notifications/prompts/list_changed", json!({})),
                SessionEvent::ResourcesChanged if g.resources => ("notifications/resources/list_changed", json!({})),
                SessionEvent::ResourceUpdated(uri) if g.uris.contains(&**uri) => {
                    ("notifications/resources/updated", json!({ "uri": &**uri }))
                }
                _ => continue,
            };
            params["_meta"] = subscription_meta(&listen.id);
            if let Ok(msg) = Message::notification(method, &params) {
                out.push(msg.with_related_request(Some(listen.id.clone())));
            }
        }
        out
    }
}
