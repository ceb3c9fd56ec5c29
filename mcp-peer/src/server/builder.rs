//! [`ServerBuilder`]: declares what a server offers.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use futures::FutureExt;
use mcp_core::schema::{
    CallToolResult, CompleteRequestParams, CompleteResult, GetPromptResult, Implementation, LoggingLevel, Prompt,
    ReadResourceResult, Resource, ResourceTemplate, Tool,
};
use mcp_core::{ErrorObject, Principal};
use serde::de::DeserializeOwned;

use super::registry::{PromptEntry, Registry, ResourceEntry, TemplateEntry};
use super::tool::{ToolEntry, ToolError};
use super::{AuthorizeFn, CompleteFn, Inner, NotificationFn, RequestContext, Server};
use crate::config::SessionConfig;
use crate::session::Peer;
use mcp_core::jsonrpc::Notification;

/// Builds a [`Server`]; see [`Server::builder`].
///
/// ```
/// use mcp_core::schema::{CallToolResult, Tool};
/// use mcp_peer::{RequestContext, Server};
/// use serde_json::json;
///
/// #[derive(serde::Deserialize)]
/// struct EchoArgs {
///     message: String,
/// }
///
/// let schema = json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]});
/// let server = Server::builder("demo", "1.0.0")
///     .instructions("Echoes what you send.")
///     .tool(Tool::new("echo", schema).with_description("Echoes a message"), |_ctx: RequestContext, args: EchoArgs| async move {
///         Ok(CallToolResult::text(args.message))
///     })
///     .build();
/// assert_eq!(server.info().name, "demo");
/// ```
pub struct ServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    config: SessionConfig,
    log_level: LoggingLevel,
    modern: bool,
    authorize: Box<AuthorizeFn>,
    completion: Option<Box<CompleteFn>>,
    on_notification: Option<Box<NotificationFn>>,
    registry: Registry,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder").field("info", &self.info).finish_non_exhaustive()
    }
}

impl ServerBuilder {
    pub(super) fn new(info: Implementation) -> Self {
        Self {
            info,
            instructions: None,
            config: SessionConfig::default(),
            log_level: LoggingLevel::Info,
            modern: false,
            authorize: Box::new(|principal: Option<&Principal>, tool: &Tool| {
                principal.is_none_or(|p| p.may_use_tool(&tool.name))
            }),
            completion: None,
            on_notification: None,
            registry: Registry::default(),
        }
    }

    /// Sets the `serverInfo` (title, description, icons, ...) as a whole.
    #[must_use]
    pub fn info(mut self, info: Implementation) -> Self {
        self.info = info;
        self
    }

    /// Instructions for the model, sent in the `initialize` result.
    #[must_use]
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Limits and timeouts of every session.
    #[must_use]
    pub fn config(mut self, config: SessionConfig) -> Self {
        self.config = config;
        self
    }

    /// The least severe log level sent before the client calls `logging/setLevel`
    /// (default `info`).
    #[must_use]
    pub fn default_log_level(mut self, level: LoggingLevel) -> Self {
        self.log_level = level;
        self
    }

    /// Also serves the stateless 2026-07-28 revision (default: off, legacy revisions only).
    ///
    /// When on, `server/discover` is answered (a probing client then picks 2026-07-28), and a
    /// request whose `_meta` names 2026-07-28 is served without `initialize`, with its log
    /// level from its own `_meta` and `resultType`, cache hints and `serverInfo` added to its
    /// result; `subscriptions/listen` delivers list changes and resource updates. Either way a request naming a revision the server does not speak gets -32022
    /// with the supported list, and legacy clients are served as before.
    #[must_use]
    pub fn stateless_revision(mut self, enabled: bool) -> Self {
        self.modern = enabled;
        self
    }

    /// Registers a tool. Its arguments are validated against `tool.input_schema` (compiled
    /// once, here), then decoded into `T` (use `serde_json::Value` for untyped arguments).
    #[must_use]
    pub fn tool<F, T, Fut>(mut self, tool: Tool, handler: F) -> Self
    where
        F: Fn(RequestContext, T) -> Fut + Send + Sync + 'static,
        T: DeserializeOwned + Send + 'static,
        Fut: Future<Output = Result<CallToolResult, ToolError>> + Send + 'static,
    {
        self.registry.tools.insert(ToolEntry::new(tool, handler));
        self
    }

    /// Registers a resource at a fixed URI; `read` gets the URI.
    #[must_use]
    pub fn resource<F, Fut>(mut self, resource: Resource, read: F) -> Self
    where
        F: Fn(RequestContext, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, ErrorObject>> + Send + 'static,
    {
        self.registry.resources.insert(ResourceEntry::new(resource, read));
        self
    }

    /// Registers a resource template (`users://{id}/profile`); `read` gets the URI and the
    /// values of its variables.
    #[must_use]
    pub fn resource_template<F, Fut>(mut self, template: ResourceTemplate, read: F) -> Self
    where
        F: Fn(RequestContext, String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, ErrorObject>> + Send + 'static,
    {
        self.registry.templates.insert(TemplateEntry::new(template, read));
        self
    }

    /// Registers a prompt; `get` gets the arguments, after the required ones were checked.
    #[must_use]
    pub fn prompt<F, Fut>(mut self, prompt: Prompt, get: F) -> Self
    where
        F: Fn(RequestContext, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, ErrorObject>> + Send + 'static,
    {
        self.registry.prompts.insert(PromptEntry::new(prompt, get));
        self
    }

    /// Answers `completion/complete` (argument autocompletion for prompts and templates).
    #[must_use]
    pub fn completion<F, Fut>(mut self, complete: F) -> Self
    where
        F: Fn(RequestContext, CompleteRequestParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CompleteResult, ErrorObject>> + Send + 'static,
    {
        self.completion = Some(Box::new(move |ctx, params| complete(ctx, params).boxed()));
        self
    }

    /// Receives the client's notifications other than the engine's own (cancellation,
    /// progress, `notifications/initialized`): `notifications/roots/list_changed` and
    /// anything custom. Runs on the session task: keep it quick.
    #[must_use]
    pub fn on_notification<F>(mut self, callback: F) -> Self
    where
        F: Fn(&Peer, Notification) + Send + Sync + 'static,
    {
        self.on_notification = Some(Box::new(callback));
        self
    }

    /// Decides which tools a caller may see (`tools/list`) and call (`tools/call`). The
    /// default allows what [`Principal::may_use_tool`] allows, and everything for sessions
    /// without a principal.
    #[must_use]
    pub fn authorize_tools<F>(mut self, hook: F) -> Self
    where
        F: Fn(Option<&Principal>, &Tool) -> bool + Send + Sync + 'static,
    {
        self.authorize = Box::new(hook);
        self
    }

    /// Builds the server.
    pub fn build(self) -> Server {
        Server {
            inner: Arc::new(Inner {
                info: self.info,
                instructions: self.instructions,
                config: self.config,
                log_level: self.log_level,
                modern: self.modern,
                authorize: self.authorize,
                completion: self.completion,
                on_notification: self.on_notification,
                registry: RwLock::new(Arc::new(self.registry)),
                generation: AtomicU64::new(1),
                sessions: Mutex::new(HashMap::new()),
                next_session: AtomicU64::new(0),
            }),
        }
    }
}
