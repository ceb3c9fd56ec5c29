//! Session limits and timeouts; every default is the one DESIGN.md names.

use std::time::Duration;

/// Limits and timeouts of one session, for servers and clients alike.
///
/// ```
/// use std::time::Duration;
/// use mcp_peer::SessionConfig;
///
/// let config = SessionConfig::default().request_timeout(Duration::from_secs(5)).max_concurrency(8);
/// assert_eq!(config.max_concurrency, 8);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    /// How long an outgoing request waits for its response; each progress notification for the
    /// request restarts the wait. Default 60 s.
    pub request_timeout: Duration,
    /// The longest an outgoing request may take, progress or not. Default 10 min.
    pub max_request_duration: Duration,
    /// How many incoming requests are handled at once. When full, the session stops reading
    /// from the transport (backpressure) until a handler finishes. Default 256.
    pub max_concurrency: usize,
    /// Capacity of the queue between handles (handlers, clients) and the session task. Default 64.
    pub outbound_capacity: usize,
    /// Items per page of every `*/list` result. Default 100.
    pub page_size: usize,
    /// How long a session may take to finish in-flight work and flush its messages once it
    /// stops reading (the peer closed, `close`, shutdown), and how long `serve_acceptor`
    /// waits for its sessions after shutdown; what is left then is dropped. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            max_request_duration: Duration::from_secs(600),
            max_concurrency: 256,
            outbound_capacity: 64,
            page_size: 100,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl SessionConfig {
    /// Sets [`request_timeout`](Self::request_timeout).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`max_request_duration`](Self::max_request_duration).
    #[must_use]
    pub fn max_request_duration(mut self, cap: Duration) -> Self {
        self.max_request_duration = cap;
        self
    }

    /// Sets [`max_concurrency`](Self::max_concurrency) (at least 1).
    #[must_use]
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Sets [`outbound_capacity`](Self::outbound_capacity) (at least 1).
    #[must_use]
    pub fn outbound_capacity(mut self, n: usize) -> Self {
        self.outbound_capacity = n.max(1);
        self
    }

    /// Sets [`page_size`](Self::page_size) (at least 1).
    #[must_use]
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Sets [`shutdown_grace`](Self::shutdown_grace).
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}
