//! The server's settings, each with the default DESIGN.md gives.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use crate::auth::AuthConfig;
use crate::event_store::{EventStore, MemoryEventStore};
use crate::origin::OriginPolicy;
use crate::session_store::{MemorySessionStore, SessionStore};

/// Settings of an [`HttpServer`](super::HttpServer). Start from `HttpServerConfig::default()`
/// and change what you need with the builder methods.
#[derive(Clone)]
pub struct HttpServerConfig {
    pub(crate) mcp_path: String,
    pub(crate) sse_path: String,
    pub(crate) messages_path: String,
    pub(crate) health_path: String,
    pub(crate) json_response: bool,
    pub(crate) stateless: bool,
    pub(crate) legacy_sse: bool,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_sessions: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) keep_alive: Option<Duration>,
    pub(crate) sse_retry: Duration,
    pub(crate) origin_policy: OriginPolicy,
    pub(crate) event_store: Option<Arc<dyn EventStore>>,
    pub(crate) session_store: Arc<dyn SessionStore>,
    pub(crate) channel_capacity: usize,
    pub(crate) accept_timeout: Duration,
    pub(crate) auth: Option<AuthConfig>,
    pub(crate) cors_origins: Option<Vec<HeaderValue>>,
    pub(crate) allow_unauthenticated_remote: bool,
    pub(crate) instance_id: Arc<str>,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        Self {
            mcp_path: "/mcp".into(),
            sse_path: "/sse".into(),
            messages_path: "/messages".into(),
            health_path: "/health".into(),
            json_response: false,
            stateless: true,
            legacy_sse: true,
            max_body_bytes: 4 << 20,
            max_sessions: 10_000,
            idle_timeout: Duration::from_secs(30 * 60),
            keep_alive: Some(Duration::from_secs(15)),
            sse_retry: Duration::from_secs(1),
            origin_policy: OriginPolicy::Loopback,
            event_store: Some(Arc::new(MemoryEventStore::default())),
            session_store: Arc::new(MemorySessionStore::new()),
            channel_capacity: 64,
            accept_timeout: Duration::from_secs(10),
            auth: None,
            cors_origins: None,
            allow_unauthenticated_remote: false,
            instance_id: super::random_token::<16>(),
        }
    }
}

impl fmt::Debug for HttpServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerConfig")
            .field("mcp_path", &self.mcp_path)
            .field("sse_path", &self.sse_path)
            .field("messages_path", &self.messages_path)
            .field("health_path", &self.health_path)
            .field("json_response", &self.json_response)
            .field("stateless", &self.stateless)
            .field("legacy_sse", &self.legacy_sse)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_sessions", &self.max_sessions)
            .field("idle_timeout", &self.idle_timeout)
            .field("keep_alive", &self.keep_alive)
            .field("sse_retry", &self.sse_retry)
            .field("origin_policy", &self.origin_policy)
            .field("event_store", &self.event_store.is_some())
            .field("auth", &self.auth.is_some())
            .field("cors_origins", &self.cors_origins)
            .field("allow_unauthenticated_remote", &self.allow_unauthenticated_remote)
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    };
}

impl HttpServerConfig {
    setter!(
        /// Whether POSTed requests are answered with one JSON body instead of an SSE stream
        /// (default `false`: SSE). With JSON, messages a request emits before its response go
        /// on the `GET` stream.
        json_response: bool
    );
    setter!(
        /// Whether a POST without a session from a 2026-07-28 client (stateless era) is served,
        /// as a one-request session (default `true`).
        stateless: bool
    );
    setter!(
        /// Whether the legacy HTTP+SSE endpoints (`GET /sse`, `POST /messages`) are served
        /// (default `true`).
        legacy_sse: bool
    );
    setter!(
        /// The largest POST body in bytes (default 4 MiB); larger bodies get 413 and the
        /// session goes on.
        max_body_bytes: usize
    );
    setter!(
        /// The most sessions at once (default 10,000); beyond it new sessions get 503.
        max_sessions: usize
    );
    setter!(
        /// How long a session with no request and no open stream lives (default 30 minutes).
        idle_timeout: Duration
    );
    setter!(
        /// The interval of keep-alive comments on SSE streams (default 15 s); `None` for none.
        keep_alive: Option<Duration>
    );
    setter!(
        /// The `retry` sent to SSE clients: how long they wait before reconnecting (default 1 s).
        sse_retry: Duration
    );
    setter!(
        /// Which `Host`/`Origin` headers are accepted (default [`OriginPolicy::Loopback`]).
        origin_policy: OriginPolicy
    );
    setter!(
        /// Where events are kept for resumption (default: in memory, bounded per session);
        /// `None` disables resumption and priming events.
        event_store: Option<Arc<dyn EventStore>>
    );
    setter!(
        /// Where session records are kept (default: in memory).
        session_store: Arc<dyn SessionStore>
    );
    setter!(
        /// Capacity of each session's inbound queue and of each stream's outbound queue
        /// (default 64): the backpressure window.
        channel_capacity: usize
    );
    setter!(
        /// How long a new session waits for the application to take it from the
        /// [`SessionAcceptor`](super::SessionAcceptor) before the request gets 503 (default 10 s).
        accept_timeout: Duration
    );
    setter!(
        /// Bearer authentication of every MCP request (default: none).
        auth: Option<AuthConfig>
    );
    setter!(
        /// Browser origins allowed by CORS (default: no CORS headers at all). The CORS layer
        /// exposes `Mcp-Session-Id` and accepts the MCP request headers.
        cors_origins: Option<Vec<HeaderValue>>
    );
    setter!(
        /// Whether [`serve`](super::serve) may listen on a non-loopback address without
        /// [`auth`](Self::auth) (default `false`: it refuses, because anyone who reaches the port
        /// could run the server's tools). Set it when something in front (a reverse proxy, a
        /// private network) authenticates instead.
        allow_unauthenticated_remote: bool
    );

    /// This server instance's name in [`SessionRecord`](crate::session_store::SessionRecord)s
    /// (default: 128 random bits, fresh per config). Give every instance sharing a
    /// [`SessionStore`] its own, stable name (a host name, a pod name) to make the records
    /// readable.
    #[must_use]
    pub fn instance_id(mut self, id: impl Into<Arc<str>>) -> Self {
        self.instance_id = id.into();
        self
    }

    /// The Streamable HTTP endpoint path (default `/mcp`).
    #[must_use]
    pub fn mcp_path(mut self, path: impl Into<String>) -> Self {
        self.mcp_path = path.into();
        self
    }

    /// The legacy SSE stream path (default `/sse`).
    #[must_use]
    pub fn sse_path(mut self, path: impl Into<String>) -> Self {
        self.sse_path = path.into();
        self
    }

    /// The legacy POST path (default `/messages`); the `endpoint` event points here.
    #[must_use]
    pub fn messages_path(mut self, path: impl Into<String>) -> Self {
        self.messages_path = path.into();
        self
    }

    /// The health path (default `/health`).
    #[must_use]
    pub fn health_path(mut self, path: impl Into<String>) -> Self {
        self.health_path = path.into();
        self
    }
}
