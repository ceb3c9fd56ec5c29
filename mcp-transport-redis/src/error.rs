//! Errors of setting up sessions; errors of a running session are [`mcp_core::TransportError`]s.

use std::time::Duration;

/// Why a bus, an acceptor or a client session could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisTransportError {
    /// The URL is not of the form `redis[s]://host:port/<service>[?mode=..&prefix=..&db=..]`.
    #[error("invalid Redis transport URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, with any password redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration's values do not fit together.
    #[error("invalid Redis transport configuration: {0}")]
    InvalidConfig(String),
    /// A Redis command failed (Redis unreachable, authentication refused, out of memory).
    #[error("Redis at {url} failed while {action}: {source}; check that redis-server is running and reachable")]
    Redis {
        /// The Redis URL, with any password redacted.
        url: String,
        /// What the transport was doing.
        action: &'static str,
        /// The error from the `redis` crate.
        source: redis::RedisError,
    },
    /// The session announcement reached no subscriber: no server of the service is running.
    #[error(
        "no server instance of service `{service}` is listening (PUBLISH on `{channel}` reached no subscriber); \
         start a server or check the service name and key prefix"
    )]
    NoServer {
        /// The service name.
        service: String,
        /// The connect channel the announcement went to.
        channel: String,
    },
    /// Server instances heard the announcement but none took the session in time.
    #[error(
        "no server instance of service `{service}` took the session within {timeout:?}; the servers may be \
         overloaded or running in another mode than `{mode}` (set RedisConfig::accept_timeout to wait longer)"
    )]
    AcceptTimeout {
        /// The service name.
        service: String,
        /// How long the client waited.
        timeout: Duration,
        /// The client's mode.
        mode: &'static str,
    },
    /// The server instance that took the session refused it (typically: bad credentials).
    #[error("server instance `{instance}` of service `{service}` refused the session: {reason}")]
    Rejected {
        /// The service name.
        service: String,
        /// The instance that refused.
        instance: String,
        /// The reason it gave.
        reason: String,
    },
    /// The session ended while it was being set up (its Redis subscription dropped, for example).
    #[error("session {session} ended during setup: {reason}")]
    SessionLost {
        /// The session id.
        session: String,
        /// Why it ended.
        reason: String,
    },
}

impl RedisTransportError {
    pub(crate) fn redis(url: String, action: &'static str, source: redis::RedisError) -> Self {
        Self::Redis { url, action, source }
    }
}
