//! [`Server`]: tools, resources, prompts and completion served over any transport.

mod builder;
mod client_requests;
mod context;
mod listen;
mod modern;
mod registry;
mod session;
mod tool;
mod uri_template;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use futures::StreamExt;
use futures::future::BoxFuture;
use mcp_core::schema::{
    CallToolResult, CompleteRequestParams, CompleteResult, GetPromptResult, Implementation, LoggingLevel, Prompt,
    ReadResourceResult, Resource, ResourceTemplate, Tool,
};
use mcp_core::{Acceptor, ErrorObject, IncomingSession, Principal, SessionInfo, Transport};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub use builder::ServerBuilder;
pub use context::RequestContext;
pub use tool::ToolError;

use crate::config::SessionConfig;
use crate::error::PeerError;
use crate::session::driver::{Driver, SessionSummary};
use crate::session::send_from_sync;
use crate::session::{Outbound, SessionEvent, Shared};
use registry::{PromptEntry, Registry, ResourceEntry, TemplateEntry};
use session::ServerSession;
use tool::ToolEntry;

/// Decides whether a caller may see and call a tool.
pub type AuthorizeFn = dyn Fn(Option<&Principal>, &Tool) -> bool + Send + Sync;
type NotificationFn = dyn Fn(&crate::session::Peer, mcp_core::jsonrpc::Notification) + Send + Sync;
type CompleteFn = dyn Fn(RequestContext, CompleteRequestParams) -> BoxFuture<'static, Result<CompleteResult, ErrorObject>>
    + Send
    + Sync;

/// An MCP server: what it offers (tools, resources, prompts, completion) and how to serve it.
///
/// Cheap to clone (an `Arc` inside). One server serves any number of sessions, each with its
/// own state (negotiated version, log level, subscriptions); nothing mutable is shared
/// between sessions except the registry, which changes only through
/// [`add_tool`](Self::add_tool) and friends, and tells live sessions when it does.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    info: Implementation,
    instructions: Option<String>,
    config: SessionConfig,
    log_level: LoggingLevel,
    /// Whether the stateless 2026-07-28 revision is served too.
    modern: bool,
    authorize: Box<AuthorizeFn>,
    completion: Option<Box<CompleteFn>>,
    on_notification: Option<Box<NotificationFn>>,
    registry: RwLock<Arc<Registry>>,
    generation: AtomicU64,
    sessions: Mutex<HashMap<u64, mpsc::WeakSender<Outbound>>>,
    next_session: AtomicU64,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("name", &self.inner.info.name).finish_non_exhaustive()
    }
}

impl Server {
    /// Starts building a server that introduces itself as `name` `version`.
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder::new(Implementation::new(name, version))
    }

    /// The server's implementation info (`serverInfo`).
    pub fn info(&self) -> &Implementation {
        &self.inner.info
    }

    /// The session configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    // ===== serving =====

    /// Serves one session on `transport` until the peer closes it, then finishes in-flight
    /// handlers and flushes their responses.
    ///
    /// # Errors
    /// [`PeerError::Transport`] when the transport failed (in-flight work is dropped then).
    ///
    /// # Cancel safety
    /// Dropping the future ends the session at once: in-flight handlers are dropped, nothing
    /// more is sent and the transport is dropped without a close. For a graceful end, close
    /// the transport from the other side or use [`Server::serve_acceptor`]'s shutdown.
    pub async fn serve(&self, transport: impl Transport) -> Result<SessionSummary, PeerError> {
        self.serve_session(IncomingSession::new(transport, SessionInfo::new("custom"))).await
    }

    /// Serves one accepted session; its [`SessionInfo`] (principal, session id) is what
    /// handlers see in their [`RequestContext`].
    ///
    /// # Errors
    /// As [`Server::serve`].
    ///
    /// # Cancel safety
    /// As [`Server::serve`].
    pub async fn serve_session(&self, session: IncomingSession) -> Result<SessionSummary, PeerError> {
        let (driver, _tx) = self.prepare(session);
        drop(_tx);
        let (summary, error) = driver.run().await;
        match error {
            Some(e) => Err(PeerError::Transport(e)),
            None => Ok(summary),
        }
    }

    /// Serves every session `acceptor` yields, each in its own task, until the acceptor ends
    /// or `shutdown` completes. Then it stops accepting, lets live sessions finish their
    /// in-flight work for up to [`SessionConfig::shutdown_grace`], and aborts what is left.
    ///
    /// Returns how many sessions were served.
    ///
    /// # Cancel safety
    /// Dropping the future aborts every session it started (their tasks belong to it); use
    /// `shutdown` for a graceful end.
    pub async fn serve_acceptor<A, S>(&self, acceptor: A, shutdown: S) -> u64
    where
        A: Acceptor,
        S: Future<Output = ()> + Send,
    {
        let mut acceptor = std::pin::pin!(acceptor);
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tasks = JoinSet::new();
        let mut live: HashMap<tokio::task::Id, mpsc::Sender<Outbound>> = HashMap::new();
        let mut served = 0u64;
        loop {
            tokio::select! {
                incoming = acceptor.next() => {
                    let Some(session) = incoming else { break };
                    served += 1;
                    let (driver, tx) = self.prepare(session);
                    let handle = tasks.spawn(async move { driver.run().await });
                    live.insert(handle.id(), tx);
                }
                Some(done) = tasks.join_next_with_id() => {
                    let id = match &done {
                        // How the session ended was logged by the session itself.
                        Ok((id, _)) => *id,
                        Err(e) => {
                            tracing::error!(error = %e, "a session task failed");
                            e.id()
                        }
                    };
                    live.remove(&id);
                }
                () = &mut shutdown => break,
            }
        }
        tracing::info!(sessions = live.len(), "shutting down: no longer accepting; draining live sessions");
        for tx in live.values() {
            let _ = tx.try_send(Outbound::Close);
        }
        let grace = self.inner.config.shutdown_grace;
        if tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await.is_err() {
            tracing::warn!(
                sessions = tasks.len(),
                grace_ms = grace.as_millis() as u64,
                "sessions still busy after the shutdown grace period; aborting them"
            );
            tasks.shutdown().await;
        }
        served
    }

    fn prepare(&self, session: IncomingSession) -> (Driver<ServerSession>, mpsc::Sender<Outbound>) {
        let inner = &self.inner;
        let key = inner.next_session.fetch_add(1, Ordering::Relaxed);
        let IncomingSession { transport, info } = session;
        let session_id: Arc<str> = match &info.session_id {
            Some(id) => id.as_str().into(),
            None => format!("{}-{key}", info.transport).into(),
        };
        let (tx, rx) = mpsc::channel(inner.config.outbound_capacity);
        let shared = Arc::new(Shared::new(tx.clone(), inner.config.clone(), session_id, info, inner.log_level as u8));
        if let Ok(mut sessions) = inner.sessions.lock() {
            sessions.insert(key, tx.downgrade());
        }
        let handler = ServerSession::new(self.clone(), key);
        (Driver::new(transport, handler, shared, rx), tx)
    }

    // ===== runtime registry changes =====

    /// Adds (or replaces) a tool while serving; live sessions get `notifications/tools/list_changed`.
    pub fn add_tool<F, T, Fut>(&self, tool: Tool, handler: F)
    where
        F: Fn(RequestContext, T) -> Fut + Send + Sync + 'static,
        T: DeserializeOwned + Send + 'static,
        Fut: Future<Output = Result<CallToolResult, ToolError>> + Send + 'static,
    {
        let entry = ToolEntry::new(tool, handler);
        self.update(|r| r.tools.insert(entry), SessionEvent::ToolsChanged);
    }

    /// Removes a tool; returns whether it existed. Live sessions are told when it did.
    pub fn remove_tool(&self, name: &str) -> bool {
        self.update_if(|r| r.tools.remove(name), SessionEvent::ToolsChanged)
    }

    /// Adds (or replaces) a resource; live sessions get `notifications/resources/list_changed`.
    pub fn add_resource<F, Fut>(&self, resource: Resource, read: F)
    where
        F: Fn(RequestContext, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, ErrorObject>> + Send + 'static,
    {
        let entry = ResourceEntry::new(resource, read);
        self.update(|r| r.resources.insert(entry), SessionEvent::ResourcesChanged);
    }

    /// Removes a resource by URI; returns whether it existed.
    pub fn remove_resource(&self, uri: &str) -> bool {
        self.update_if(|r| r.resources.remove(uri), SessionEvent::ResourcesChanged)
    }

    /// Adds (or replaces) a resource template.
    pub fn add_resource_template<F, Fut>(&self, template: ResourceTemplate, read: F)
    where
        F: Fn(RequestContext, String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, ErrorObject>> + Send + 'static,
    {
        let entry = TemplateEntry::new(template, read);
        self.update(|r| r.templates.insert(entry), SessionEvent::ResourcesChanged);
    }

    /// Adds (or replaces) a prompt; live sessions get `notifications/prompts/list_changed`.
    pub fn add_prompt<F, Fut>(&self, prompt: Prompt, get: F)
    where
        F: Fn(RequestContext, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, ErrorObject>> + Send + 'static,
    {
        let entry = PromptEntry::new(prompt, get);
        self.update(|r| r.prompts.insert(entry), SessionEvent::PromptsChanged);
    }

    /// Removes a prompt; returns whether it existed.
    pub fn remove_prompt(&self, name: &str) -> bool {
        self.update_if(|r| r.prompts.remove(name), SessionEvent::PromptsChanged)
    }

    /// Tells every session subscribed to `uri` that the resource changed
    /// (`notifications/resources/updated`).
    pub fn notify_resource_updated(&self, uri: &str) {
        self.broadcast(&SessionEvent::ResourceUpdated(uri.into()));
    }

    fn update(&self, change: impl FnOnce(&mut Registry), event: SessionEvent) {
        self.update_if(
            |r| {
                change(r);
                true
            },
            event,
        );
    }

    fn update_if(&self, change: impl FnOnce(&mut Registry) -> bool, event: SessionEvent) -> bool {
        let changed = {
            let Ok(mut current) = self.inner.registry.write() else { return false };
            let mut next = Registry::clone(&current);
            let changed = change(&mut next);
            if changed {
                *current = Arc::new(next);
                self.inner.generation.fetch_add(1, Ordering::Release);
            }
            changed
        };
        if changed {
            self.broadcast(&event);
        }
        changed
    }

    fn broadcast(&self, event: &SessionEvent) {
        let senders: Vec<_> = match self.inner.sessions.lock() {
            Ok(sessions) => sessions.values().filter_map(mpsc::WeakSender::upgrade).collect(),
            Err(_) => return,
        };
        for tx in senders {
            send_from_sync(&tx, Outbound::Event(event.clone()));
        }
    }

    /// The current registry snapshot, refreshed into `cache` only when it changed.
    fn registry(&self, cache: &mut (u64, Arc<Registry>)) {
        let generation = self.inner.generation.load(Ordering::Acquire);
        if generation != cache.0
            && let Ok(current) = self.inner.registry.read()
        {
            *cache = (generation, current.clone());
        }
    }

    fn forget_session(&self, key: u64) {
        if let Ok(mut sessions) = self.inner.sessions.lock() {
            sessions.remove(&key);
        }
    }
}
