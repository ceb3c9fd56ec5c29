//! Errors of opening sessions and binding acceptors (errors *on* a session are
//! [`TransportError`](mcp_core::TransportError)s).

use std::time::Duration;

/// Why a session could not be opened or an acceptor bound.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsError {
    /// A subject prefix or service name cannot be used in a subject.
    #[error("invalid {what} {value:?}: must be {rule}")]
    InvalidName {
        /// Which name: `"service name"` or `"subject prefix"`.
        what: &'static str,
        /// The rejected value.
        value: String,
        /// What a valid value looks like.
        rule: &'static str,
    },
    /// Subscribing to a subject failed (the NATS connection is closed, or the subject is denied).
    #[error("could not subscribe to {subject}: {source}; check the NATS connection and its permissions")]
    Subscribe {
        /// The subject.
        subject: String,
        /// What async-nats reported.
        source: async_nats::SubscribeError,
    },
    /// No server instance listens on the service's connect subject.
    #[error("no MCP server instance is listening on {subject}; start one, or check the service name and prefix")]
    NoServer {
        /// The connect subject.
        subject: String,
    },
    /// No server instance answered the connect request in time.
    #[error(
        "no answer to the connect request on {subject} within {after:?}; the instances may be overloaded (set NatsClientConfig::connect_timeout)"
    )]
    ConnectTimeout {
        /// The connect subject.
        subject: String,
        /// How long the client waited.
        after: Duration,
    },
    /// Sending the connect request failed.
    #[error("connect request on {subject} failed: {source}")]
    Request {
        /// The connect subject.
        subject: String,
        /// What async-nats reported.
        source: async_nats::RequestError,
    },
    /// The server instance refused the session.
    #[error("the server refused the session ({code}): {message}")]
    Rejected {
        /// A machine-readable reason: `unauthorized`, `unavailable` (retry later), `busy` or
        /// `bad_request`.
        code: String,
        /// What the server said.
        message: String,
    },
    /// The peer broke the connect protocol (a reply that is not a valid connect reply).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A `nats://host:port/<service>` URL could not be parsed.
    #[error("invalid NATS URL {url:?}: {reason}")]
    Url {
        /// The URL, with any password or token removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Connecting to the NATS server failed.
    #[error("could not connect to the NATS server at {server}: {source}")]
    Connect {
        /// The server address (without credentials).
        server: String,
        /// What async-nats reported.
        source: async_nats::ConnectError,
    },
}
