//! Configuration of server instances ([`NatsServerConfig`]) and clients ([`NatsClientConfig`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenVerifier;
use crate::subjects::DEFAULT_PREFIX;

/// Liveness checking of a session, the same on both sides.
///
/// Every `interval` each side sends a ping (a NATS request on the peer's control subject). A
/// ping not answered within `interval` is a miss; `misses` misses in a row end the session with
/// [`TransportError::ConnectionLost`](mcp_core::TransportError::ConnectionLost). When the
/// peer's subscription is gone (the NATS server answers "no responders": the peer's process
/// died or closed its connection) the session ends at once, except within `interval × misses`
/// after this side's own reconnection, while the peer may still be resubscribing.
///
/// A dead peer is thus detected within `interval × (misses + 1)`, and within about one
/// `interval` when its NATS connection is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// How often to ping the peer. Default: 5 s.
    pub interval: Duration,
    /// How many unanswered pings in a row mean the peer is dead. Default: 3.
    pub misses: u32,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self { interval: Duration::from_secs(5), misses: 3 }
    }
}

impl Heartbeat {
    /// A heartbeat every `interval`, dead after `misses` misses in a row (at least 1).
    pub fn new(interval: Duration, misses: u32) -> Self {
        Self { interval: interval.max(Duration::from_millis(1)), misses: misses.max(1) }
    }

    /// How long a silent peer stays alive at most.
    pub(crate) fn grace(&self) -> Duration {
        self.interval.saturating_mul(self.misses)
    }
}

/// The default number of messages buffered per direction of a session.
pub const DEFAULT_CHANNEL_CAPACITY: usize = 64;

/// The default largest number of sessions one server instance holds.
pub const DEFAULT_MAX_SESSIONS: usize = 10_000;

/// The default time a client waits for a connect reply.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default number of request ids a session remembers for interruption errors.
pub const DEFAULT_MAX_TRACKED_REQUESTS: usize = 4096;

/// The default receive window: unacknowledged data messages a side accepts from its peer.
pub const DEFAULT_WINDOW: u64 = 64;

/// What both sides of a session share.
#[derive(Debug, Clone)]
pub(crate) struct SessionSettings {
    pub(crate) heartbeat: Heartbeat,
    pub(crate) channel_capacity: usize,
    pub(crate) max_tracked_requests: usize,
    pub(crate) window: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            heartbeat: Heartbeat::default(),
            channel_capacity: DEFAULT_CHANNEL_CAPACITY,
            max_tracked_requests: DEFAULT_MAX_TRACKED_REQUESTS,
            window: DEFAULT_WINDOW,
        }
    }
}

/// Generates the setters that both configurations share.
macro_rules! session_setters {
    () => {
        /// Sets the subject prefix (default `mcp`); it may have several dot-separated tokens.
        #[must_use]
        pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
            self.prefix = prefix.into();
            self
        }

        /// Sets the heartbeat (default every 5 s, dead after 3 misses).
        #[must_use]
        pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
            self.session.heartbeat = heartbeat;
            self
        }

        /// Sets how many messages each direction of a session buffers (default 64) before
        /// sending waits (backpressure).
        #[must_use]
        pub fn channel_capacity(mut self, capacity: usize) -> Self {
            self.session.channel_capacity = capacity.max(1);
            self
        }

        /// Sets the receive window (default 64): how many data messages the peer may send that
        /// this side has not yet handed to the application. A peer that has used the window
        /// waits (its sends stay pending), so an application that stops reading slows its peer
        /// down instead of making NATS drop messages. Worst-case memory per session is about
        /// `window × max_payload`.
        #[must_use]
        pub fn window(mut self, window: u64) -> Self {
            self.session.window = window.max(1);
            self
        }

        /// Sets how many in-flight request ids a session remembers (default 4096) to answer
        /// them with an error when the NATS connection is interrupted. Requests beyond that are
        /// left to the session's own timeout.
        #[must_use]
        pub fn max_tracked_requests(mut self, max: usize) -> Self {
            self.session.max_tracked_requests = max;
            self
        }
    };
}

// ===== NatsServerConfig =====

/// Configuration of a server instance; see [`NatsAcceptor::bind`](crate::NatsAcceptor::bind).
#[derive(Clone)]
pub struct NatsServerConfig {
    pub(crate) service: String,
    pub(crate) prefix: String,
    pub(crate) session: SessionSettings,
    pub(crate) max_sessions: usize,
    pub(crate) accept_backlog: usize,
    pub(crate) verifier: Option<Arc<dyn TokenVerifier>>,
}

impl NatsServerConfig {
    /// Serving `service` under the default prefix `mcp`, with the defaults below.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            session: SessionSettings::default(),
            max_sessions: DEFAULT_MAX_SESSIONS,
            accept_backlog: 16,
            verifier: None,
        }
    }

    session_setters!();

    /// Sets the largest number of sessions this instance holds (default 10,000); further
    /// connect requests are refused with `busy`.
    #[must_use]
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max;
        self
    }

    /// Sets how many accepted sessions wait for the application to take them from the
    /// acceptor (default 16); beyond that, connect requests wait.
    #[must_use]
    pub fn accept_backlog(mut self, backlog: usize) -> Self {
        self.accept_backlog = backlog.max(1);
        self
    }

    /// Requires every connect request to carry a token that `verifier` accepts; the
    /// [`Principal`](mcp_core::Principal) it returns is attached to the session.
    #[must_use]
    pub fn verifier(mut self, verifier: impl TokenVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }
}

impl fmt::Debug for NatsServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsServerConfig")
            .field("service", &self.service)
            .field("prefix", &self.prefix)
            .field("session", &self.session)
            .field("max_sessions", &self.max_sessions)
            .field("accept_backlog", &self.accept_backlog)
            .field("verifier", &self.verifier.is_some())
            .finish()
    }
}

// ===== NatsClientConfig =====

/// Configuration of a client session; see [`connect`](crate::connect).
#[derive(Clone)]
pub struct NatsClientConfig {
    pub(crate) service: String,
    pub(crate) prefix: String,
    pub(crate) session: SessionSettings,
    pub(crate) connect_timeout: Duration,
    pub(crate) token: Option<String>,
}

impl NatsClientConfig {
    /// Connecting to `service` under the default prefix `mcp`, with the defaults below.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            session: SessionSettings::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            token: None,
        }
    }

    session_setters!();

    /// Sets how long to wait for a server instance to answer the connect request (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sends `token` in the connect request, for the server's
    /// [`TokenVerifier`](crate::TokenVerifier). It travels inside NATS: protect the connect
    /// subject with TLS and NATS permissions.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }
}

impl fmt::Debug for NatsClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsClientConfig")
            .field("service", &self.service)
            .field("prefix", &self.prefix)
            .field("session", &self.session)
            .field("connect_timeout", &self.connect_timeout)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
