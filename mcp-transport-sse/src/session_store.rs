//! The seam where session records live, so that another server instance can learn about a session.
//!
//! The live parts of a session (its channels and open HTTP streams) are always local to the
//! instance that created it; a [`SessionStore`] holds what can be shared: who owns the session,
//! which protocol version it negotiated, when it was created. The default is in memory; a shared
//! implementation (Redis) lets a load balancer without sticky sessions tell "expired" (404) from
//! "served elsewhere".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use futures::future::BoxFuture;

/// What is known about one session, shareable between instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The `Mcp-Session-Id` (or legacy `sessionId`).
    pub id: String,
    /// The id of the principal that created the session; only it may use the session.
    pub principal: Option<String>,
    /// `"http"` (Streamable HTTP) or `"sse"` (legacy HTTP+SSE).
    pub transport: &'static str,
    /// The [`instance_id`](crate::HttpServerConfig::instance_id) of the server holding the
    /// session: requests for it sent to another instance get 421 Misdirected Request.
    pub instance: Arc<str>,
    /// When the session was created.
    pub created_at: SystemTime,
}

/// Errors of a [`SessionStore`] backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionStoreError {
    /// The backend failed.
    #[error("session store backend failed: {0}")]
    Backend(String),
}

/// Keeps [`SessionRecord`]s. Object safe: used as `Arc<dyn SessionStore>`.
pub trait SessionStore: Send + Sync + 'static {
    /// Records a new session.
    ///
    /// # Errors
    /// A backend failure; the server then refuses the session with 503.
    fn insert(&self, record: SessionRecord) -> BoxFuture<'_, Result<(), SessionStoreError>>;

    /// The record of session `id`, if it exists.
    ///
    /// # Errors
    /// A backend failure.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<SessionRecord>, SessionStoreError>>;

    /// Forgets session `id`.
    ///
    /// # Errors
    /// A backend failure; the server logs it.
    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), SessionStoreError>>;
}

/// The in-memory [`SessionStore`].
#[derive(Debug, Default)]
pub struct MemorySessionStore {
    records: Mutex<HashMap<String, SessionRecord>>,
}

impl MemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionRecord>> {
        self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SessionStore for MemorySessionStore {
    fn insert(&self, record: SessionRecord) -> BoxFuture<'_, Result<(), SessionStoreError>> {
        self.lock().insert(record.id.clone(), record);
        Box::pin(std::future::ready(Ok(())))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<SessionRecord>, SessionStoreError>> {
        let record = self.lock().get(id).cloned();
        Box::pin(std::future::ready(Ok(record)))
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), SessionStoreError>> {
        self.lock().remove(id);
        Box::pin(std::future::ready(Ok(())))
    }
}
