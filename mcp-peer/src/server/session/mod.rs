//! One server session: the lifecycle (initialize, version negotiation) and the dispatch of
//! every server method.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::FutureExt;
use mcp_core::jsonrpc::{Notification, Request, error_codes};
use mcp_core::schema::{
    CompletionsCapability, InitializeResult, ListChangedCapability, LoggingLevel, ProgressToken, Prompt, Resource,
    ResourceTemplate, ResourcesCapability, ServerCapabilities, Tool,
};
use mcp_core::{ErrorObject, Message, ProtocolVersion, RawJson, RequestId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Server;
use super::context::{LogFloor, RequestContext};
use super::listen::Listens;
use super::modern::{self, ModernMeta};
use super::registry::{Registry, page};
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

/// The `_meta` fields a server reads from a request.
#[derive(Deserialize, Default)]
struct RequestMeta {
    #[serde(rename = "progressToken")]
    progress_token: Option<ProgressToken>,
}

#[derive(Deserialize)]
struct CallParams {
    name: String,
    #[serde(default)]
    arguments: Option<Value>,
    #[serde(default, rename = "_meta")]
    meta: Option<RequestMeta>,
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct UriParams {
    uri: String,
    #[serde(default, rename = "_meta")]
    meta: Option<RequestMeta>,
}

#[derive(Deserialize)]
struct PromptParams {
    name: String,
    #[serde(default)]
    arguments: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default, rename = "_meta")]
    meta: Option<RequestMeta>,
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

/// A page of a list result, serialized straight from the registry without cloning.
struct ListPage<'a, T> {
    key: &'static str,
    items: Vec<&'a T>,
    next_cursor: Option<String>,
}

impl<T: Serialize> Serialize for ListPage<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1 + usize::from(self.next_cursor.is_some())))?;
        map.serialize_entry(self.key, &self.items)?;
        if let Some(cursor) = &self.next_cursor {
            map.serialize_entry("nextCursor", cursor)?;
        }
        map.end()
    }
}

fn list_result<T: Serialize>(key: &'static str, items: Vec<&T>, next_cursor: Option<String>) -> HandlerResult {
    to_raw(&ListPage { key, items, next_cursor })
}

pub(crate) fn to_raw<T: Serialize + ?Sized>(value: &T) -> HandlerResult {
    RawJson::from_serialize(value).map_err(|e| ErrorObject::internal_error(format!("cannot serialize the result: {e}")))
}

fn params<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, ErrorObject> {
    request.parse_params().map_err(|e| ErrorObject::invalid_params(format!("{}: {e}", request.method)))
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

    fn list_tools(&self, request: &Request, shared: &Shared) -> HandlerResult {
        let p: ListParams = params(request)?;
        let authorize = &self.server.inner.authorize;
        let principal = shared.info.principal.as_ref();
        let visible = self.registry.1.tools.iter().map(|e| &e.tool).filter(|t| authorize(principal, t));
        let (items, next) = page(visible, p.cursor.as_deref(), shared.config.page_size)?;
        list_result::<Tool>("tools", items, next)
    }

    fn call_tool(&self, request: &Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let p: CallParams = match params(request) {
            Ok(p) => p,
            Err(e) => return Dispatch::Now(Err(e)),
        };
        let Some(entry) = self.registry.1.tools.get(&p.name) else {
            return Dispatch::Now(Err(ErrorObject::invalid_params(format!("Unknown tool: {}", p.name))));
        };
        if !(self.server.inner.authorize)(shared.info.principal.as_ref(), &entry.tool) {
            tracing::info!(session = %shared.session_id, tool = %p.name, principal = ?shared.info.principal.as_ref().map(|p| &p.id), "tool call denied");
            let denied = mcp_core::schema::CallToolResult::error_text(format!(
                "Permission denied: tool {} not authorized",
                p.name
            ));
            return Dispatch::Now(to_raw(&denied));
        }
        let args = match p.arguments {
            None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
            Some(args) => args,
        };
        let ctx = self.context(shared, &request.id, cancel, p.meta);
        match entry.start(ctx, args) {
            Ok(future) => Dispatch::Later(future),
            Err(e) => Dispatch::Now(Err(e)),
        }
    }

    fn read_resource(&self, request: &Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let p: UriParams = match params(request) {
            Ok(p) => p,
            Err(e) => return Dispatch::Now(Err(e)),
        };
        let Some((read, vars)) = self.registry.1.find_resource(&p.uri) else {
            let error = ErrorObject::new(error_codes::RESOURCE_NOT_FOUND, format!("Resource not found: {}", p.uri))
                .with_data(&serde_json::json!({ "uri": p.uri }));
            return Dispatch::Now(Err(error));
        };
        let ctx = self.context(shared, &request.id, cancel, p.meta);
        let future = read(ctx, p.uri, vars);
        Dispatch::Later(future.map(|r| r.and_then(|r| to_raw(&r))).boxed())
    }

    fn get_prompt(&self, request: &Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let p: PromptParams = match params(request) {
            Ok(p) => p,
            Err(e) => return Dispatch::Now(Err(e)),
        };
        let Some(entry) = self.registry.1.prompts.get(&p.name) else {
            return Dispatch::Now(Err(ErrorObject::invalid_params(format!("Unknown prompt: {}", p.name))));
        };
        let args = p.arguments.unwrap_or_default();
        let missing: Vec<&str> = entry
            .prompt
            .arguments
            .iter()
            .filter(|a| a.required == Some(true) && !args.contains_key(&a.name))
            .map(|a| a.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Dispatch::Now(Err(ErrorObject::invalid_params(format!(
                "prompt {:?} is missing required argument(s): {}",
                p.name,
                missing.join(", ")
            ))));
        }
        let ctx = self.context(shared, &request.id, cancel, p.meta);
        Dispatch::Later((entry.get)(ctx, args).map(|r| r.and_then(|r| to_raw(&r))).boxed())
    }

    fn complete(&self, request: &Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let Some(complete) = &self.server.inner.completion else {
            return Dispatch::Now(Err(ErrorObject::method_not_found(&request.method)));
        };
        let p = match params(request) {
            Ok(p) => p,
            Err(e) => return Dispatch::Now(Err(e)),
        };
        let ctx = self.context(shared, &request.id, cancel, None);
        Dispatch::Later(complete(ctx, p).map(|r| r.and_then(|r| to_raw(&r))).boxed())
    }

    fn set_level(request: &Request, shared: &Shared) -> HandlerResult {
        #[derive(Deserialize)]
        struct SetLevel {
            level: LoggingLevel,
        }
        let p: SetLevel = params(request)?;
        shared.log_level.store(p.level as u8, Ordering::Relaxed);
        Ok(RawJson::empty_object())
    }

    fn subscription(&mut self, request: &Request, subscribe: bool) -> HandlerResult {
        let p: UriParams = params(request)?;
        if subscribe {
            self.subscriptions.insert(p.uri);
        } else {
            self.subscriptions.remove(&p.uri);
        }
        Ok(RawJson::empty_object())
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

    /// Dispatches a request of an initialized (or stateless) session.
    fn dispatch(&mut self, request: Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let registry = &self.registry.1;
        let page_size = shared.config.page_size;
        match request.method.as_str() {
            "ping" => Dispatch::Now(Ok(RawJson::empty_object())),
            "tools/list" => Dispatch::Now(self.list_tools(&request, shared)),
            "tools/call" => self.call_tool(&request, shared, cancel),
            "resources/list" => Dispatch::Now(params::<ListParams>(&request).and_then(|p| {
                let items = registry.resources.iter().map(|e| &e.resource);
                let (items, next) = page(items, p.cursor.as_deref(), page_size)?;
                list_result::<Resource>("resources", items, next)
            })),
            "resources/templates/list" => Dispatch::Now(params::<ListParams>(&request).and_then(|p| {
                let items = registry.templates.iter().map(|e| &e.template);
                let (items, next) = page(items, p.cursor.as_deref(), page_size)?;
                list_result::<ResourceTemplate>("resourceTemplates", items, next)
            })),
            "resources/read" => self.read_resource(&request, shared, cancel),
            "resources/subscribe" => Dispatch::Now(self.subscription(&request, true)),
            "resources/unsubscribe" => Dispatch::Now(self.subscription(&request, false)),
            "prompts/list" => Dispatch::Now(params::<ListParams>(&request).and_then(|p| {
                let items = registry.prompts.iter().map(|e| &e.prompt);
                let (items, next) = page(items, p.cursor.as_deref(), page_size)?;
                list_result::<Prompt>("prompts", items, next)
            })),
            "prompts/get" => self.get_prompt(&request, shared, cancel),
            "completion/complete" => self.complete(&request, shared, cancel),
            "logging/setLevel" => Dispatch::Now(Self::set_level(&request, shared)),
            method => Dispatch::Now(Err(ErrorObject::method_not_found(method))),
        }
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
