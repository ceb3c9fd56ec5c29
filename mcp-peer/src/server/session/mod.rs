//! One server session: the lifecycle (initialize, version negotiation, the stateless
//! revision), what reaches the handlers, and the notifications live sessions get. The methods
//! themselves are in [`methods`].

use std::collections::HashSet;
use std::sync::Arc;

use futures::FutureExt;
use mcp_core::jsonrpc::{Notification, Request};
use mcp_core::schema::{
    CompletionsCapability, InitializeResult, ListChangedCapability, ResourcesCapability, ServerCapabilities,
};
use mcp_core::{ErrorObject, Message, ProtocolVersion, RawJson, RequestId};
use serde::Deserialize;
use serde_json::Value;

use super::Server;
use super::context::{LogFloor, RequestContext};
use super::listen::Listens;
use super::modern::{self, ModernMeta};
use super::registry::Registry;
use crate::session::cancel::CancelSignal;
use crate::session::inflight::HandlerResult;
use crate::session::{Dispatch, Handler, Peer, PeerInfo, SessionEvent, Shared};

/// Every request method a server session knows. Anything else is -32601, before or after
/// `initialize`, so that probing clients (`server/discover`) can fall back.
const METHODS: &[&str] = &[
    "ping",
    "initialize",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
];

mod methods;

pub(crate) use methods::to_raw;
use methods::{RequestMeta, params};

pub(crate) struct ServerSession {
    server: Server,
    key: u64,
    registry: (u64, Arc<Registry>),
    initialized: bool,
    /// What `initialize` announced; list_changed goes out only for these.
    capabilities: ServerCapabilities,
    subscriptions: HashSet<String>,
    /// `subscriptions/listen` requests in flight (2026-07-28).
    listens: Listens,
    /// Where the request being dispatched takes its log level from.
    log_floor: LogFloor,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitializeParams {
    protocol_version: String,
    #[serde(default)]
    capabilities: Value,
    #[serde(default)]
    client_info: Value,
}

impl ServerSession {
    pub(crate) fn new(server: Server, key: u64) -> Self {
        let mut registry = (0, Arc::new(Registry::default()));
        server.registry(&mut registry);
        Self {
            server,
            key,
            registry,
            initialized: false,
            capabilities: ServerCapabilities::default(),
            subscriptions: HashSet::new(),
            listens: Listens::default(),
            log_floor: LogFloor::Session,
        }
    }

    fn context(
        &self,
        shared: &Arc<Shared>,
        id: &RequestId,
        cancel: &CancelSignal,
        meta: Option<RequestMeta>,
    ) -> RequestContext {
        let peer = Peer::new(shared.clone(), Some(id.clone()));
        let token = meta.and_then(|m| m.progress_token);
        RequestContext::new(peer, id.clone(), cancel.clone(), token, self.log_floor)
    }

    fn capabilities(&self) -> ServerCapabilities {
        let registry = &self.registry.1;
        let mut caps = ServerCapabilities { logging: Some(Default::default()), ..Default::default() };
        if !registry.tools.is_empty() {
            caps.tools = Some(ListChangedCapability::list_changed());
        }
        if !registry.resources.is_empty() || !registry.templates.is_empty() {
            caps.resources =
                Some(ResourcesCapability { subscribe: Some(true), list_changed: Some(true), ..Default::default() });
        }
        if !registry.prompts.is_empty() {
            caps.prompts = Some(ListChangedCapability::list_changed());
        }
        if self.server.inner.completion.is_some() {
            caps.completions = Some(CompletionsCapability::default());
        }
        caps
    }

    fn initialize(&mut self, request: &Request, shared: &Shared) -> HandlerResult {
        if self.initialized {
            return Err(ErrorObject::invalid_request(
                "the session is already initialized; open a new session to initialize again",
            ));
        }
        let p: InitializeParams = params(request)?;
        // Echo the client's revision when we speak it; otherwise offer our latest legacy one
        // and let the client decide whether to go on.
        let version = match p.protocol_version.parse::<ProtocolVersion>() {
            Ok(v) if !v.is_stateless() => v,
            _ => ProtocolVersion::LATEST_LEGACY,
        };
        self.capabilities = self.capabilities();
        let inner = &self.server.inner;
        let mut result = InitializeResult::new(version, self.capabilities.clone(), inner.info.clone());
        result.instructions.clone_from(&inner.instructions);
        let _ = shared.peer_info.set(PeerInfo {
            protocol_version: version,
            capabilities: p.capabilities,
            info: p.client_info,
        });
        self.initialized = true;
        tracing::debug!(session = %shared.session_id, client_version = %p.protocol_version, %version, "session initialized");
        to_raw(&result)
    }
}

impl ServerSession {
    /// Serves a request of the stateless revision: its `_meta` names the revision, and no
    /// `initialize` came first.
    fn on_modern_request(
        &mut self,
        request: Request,
        meta: ModernMeta,
        shared: &Arc<Shared>,
        cancel: &CancelSignal,
    ) -> Dispatch {
        let inner = &self.server.inner;
        match meta.protocol_version.parse::<ProtocolVersion>() {
            Ok(v) if v.is_stateless() && inner.modern => {}
            Ok(v) if !v.is_stateless() => return Dispatch::Now(Err(not_initialized(&request.method))),
            _ => return Dispatch::Now(Err(modern::unsupported(&meta.protocol_version, inner.modern))),
        }
        self.server.registry(&mut self.registry);
        let method = request.method.clone();
        let info = inner.info.clone();
        let dispatch = match method.as_str() {
            "server/discover" => return Dispatch::Now(self.discover()),
            "subscriptions/listen" => self.listens.open(&request, shared),
            "initialize" | "logging/setLevel" | "resources/subscribe" | "resources/unsubscribe" => {
                return Dispatch::Now(Err(ErrorObject::method_not_found(&method)));
            }
            m if !METHODS.contains(&m) => return Dispatch::Now(Err(ErrorObject::method_not_found(m))),
            _ => {
                self.log_floor = LogFloor::Request(meta.log_level);
                let dispatch = self.dispatch(request, shared, cancel);
                self.log_floor = LogFloor::Session;
                dispatch
            }
        };
        let stamp = move |result: HandlerResult| result.and_then(|raw| modern::stamp(raw, &method, &info));
        match dispatch {
            Dispatch::Now(result) => Dispatch::Now(stamp(result)),
            Dispatch::Later(future) => Dispatch::Later(future.map(stamp).boxed()),
            Dispatch::Stream { first, future } => Dispatch::Stream { first, future: future.map(stamp).boxed() },
        }
    }

    fn discover(&self) -> HandlerResult {
        let inner = &self.server.inner;
        modern::discover(self.capabilities(), &inner.info, inner.instructions.as_deref())
    }
}

fn not_initialized(method: &str) -> ErrorObject {
    ErrorObject::invalid_request(format!(
        "{method} before initialize: send initialize (and notifications/initialized) first"
    ))
}

impl Handler for ServerSession {
    fn on_request(&mut self, request: Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let method = request.method.as_str();
        match method {
            "ping" => return Dispatch::Now(Ok(RawJson::empty_object())),
            "initialize" => return Dispatch::Now(self.initialize(&request, shared)),
            // Only a session that has not chosen the legacy handshake looks for a modern `_meta`,
            // so the requests of an initialized session are not parsed twice.
            _ if !self.initialized
                && let Some(meta) = modern::peek(request.params.as_ref()) =>
            {
                return self.on_modern_request(request, meta, shared, cancel);
            }
            "server/discover" if self.server.inner.modern => {
                self.server.registry(&mut self.registry);
                return Dispatch::Now(self.discover());
            }
            _ if !METHODS.contains(&method) => return Dispatch::Now(Err(ErrorObject::method_not_found(method))),
            _ if !self.initialized => return Dispatch::Now(Err(not_initialized(method))),
            _ => {}
        }
        self.server.registry(&mut self.registry);
        self.dispatch(request, shared, cancel)
    }

    fn on_notification(&mut self, notification: Notification, shared: &Arc<Shared>) {
        tracing::trace!(session = %shared.session_id, method = %notification.method, "notification");
        if notification.method == "notifications/initialized" {
            return;
        }
        if let Some(callback) = &self.server.inner.on_notification {
            callback(&Peer::new(shared.clone(), None), notification);
        }
    }

    fn on_event(&mut self, event: SessionEvent, _shared: &Arc<Shared>) -> Vec<Message> {
        let mut out = self.listens.on_event(&event);
        if self.initialized
            && let Some(msg) = self.legacy_event(event)
        {
            out.push(msg);
        }
        out
    }

    fn on_close(&mut self, _shared: &Arc<Shared>) {
        self.server.forget_session(self.key);
    }
}

impl ServerSession {
    /// The notification a legacy session gets about `event`, per what `initialize` announced
    /// and what it subscribed to.
    fn legacy_event(&self, event: SessionEvent) -> Option<Message> {
        let caps = &self.capabilities;
        let listed = |announced: Option<bool>, method: &str| {
            (announced == Some(true)).then(|| Message::notification(method, &serde_json::json!({})).ok()).flatten()
        };
        match event {
            SessionEvent::ToolsChanged => {
                listed(caps.tools.as_ref().and_then(|c| c.list_changed), "notifications/tools/list_changed")
            }
            SessionEvent::PromptsChanged => {
                listed(caps.prompts.as_ref().and_then(|c| c.list_changed), "notifications/prompts/list_changed")
            }
            SessionEvent::ResourcesChanged => {
                listed(caps.resources.as_ref().and_then(|c| c.list_changed), "notifications/resources/list_changed")
            }
            SessionEvent::ResourceUpdated(uri) => self
                .subscriptions
                .contains(&*uri)
                .then(|| {
                    Message::notification("notifications/resources/updated", &serde_json::json!({ "uri": &*uri })).ok()
                })
                .flatten(),
        }
    }
}
