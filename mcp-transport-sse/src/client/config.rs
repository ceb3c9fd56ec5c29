//! Client settings.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

/// Settings of the HTTP client transports. Start from `HttpClientConfig::default()`.
#[derive(Debug, Clone)]
pub struct HttpClientConfig {
    pub(crate) headers: HeaderMap,
    pub(crate) bearer: Option<String>,
    pub(crate) max_message_bytes: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) max_reconnects: usize,
    pub(crate) default_retry: Duration,
    pub(crate) standalone_stream: bool,
    pub(crate) channel_capacity: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) http: Option<reqwest::Client>,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        Self {
            headers: HeaderMap::new(),
            bearer: None,
            max_message_bytes: mcp_core::codec::DEFAULT_MAX_MESSAGE_BYTES,
            max_in_flight: 32,
            max_reconnects: 5,
            default_retry: Duration::from_secs(1),
            standalone_stream: true,
            channel_capacity: 64,
            connect_timeout: Duration::from_secs(10),
            http: None,
        }
    }
}

impl HttpClientConfig {
    /// Adds a header sent with every request.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sends `Authorization: Bearer <token>` with every request. The token is never logged.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// The largest message accepted from the server (default 16 MiB); larger SSE events are
    /// skipped with a non-fatal error item.
    #[must_use]
    pub fn max_message_bytes(mut self, max: usize) -> Self {
        self.max_message_bytes = max;
        self
    }

    /// How many POSTs may be in flight at once (default 32); more sends wait: backpressure.
    #[must_use]
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max.max(1);
        self
    }

    /// How many times in a row a lost SSE stream is reconnected before giving up (default 5).
    #[must_use]
    pub fn max_reconnects(mut self, max: usize) -> Self {
        self.max_reconnects = max;
        self
    }

    /// The reconnection delay when the server sent no `retry` (default 1 s).
    #[must_use]
    pub fn default_retry(mut self, retry: Duration) -> Self {
        self.default_retry = retry;
        self
    }

    /// Whether to open the standalone `GET` stream after initialization (default `true`).
    #[must_use]
    pub fn standalone_stream(mut self, open: bool) -> Self {
        self.standalone_stream = open;
        self
    }

    /// Capacity of the queue of received messages (default 64).
    #[must_use]
    pub fn channel_capacity(mut self, capacity: usize) -> Self {
        self.channel_capacity = capacity.max(1);
        self
    }

    /// How long the legacy client waits for the `endpoint` event, and the Streamable HTTP
    /// client for a TCP connection of its own (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Uses this reqwest client (for TLS roots, proxies, timeouts) for every request. Without
    /// one, the Streamable HTTP client POSTs to a plain `http://` endpoint (no proxy in the
    /// environment, no credentials in the URL) over HTTP/1.1 connections of its own, polled
    /// inside the transport, and uses a default reqwest client for everything else.
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The reqwest client to use: the configured one, or a default one with the ring TLS provider.
    pub(crate) fn build_http(&self) -> Result<reqwest::Client, super::HttpClientError> {
        if let Some(client) = &self.http {
            return Ok(client.clone());
        }
        // reqwest is built without a TLS provider; ring is the workspace's choice. Installing
        // fails harmlessly when the application already installed one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder().build().map_err(super::HttpClientError::Http)
    }

    /// The headers every request carries (custom ones and the bearer token, marked sensitive),
    /// or an error when the token is not a valid header value.
    pub(crate) fn header_map(&self) -> Result<HeaderMap, http::header::InvalidHeaderValue> {
        let mut headers = self.headers.clone();
        if let Some(token) = &self.bearer {
            let mut value = HeaderValue::try_from(format!("Bearer {token}"))?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        Ok(headers)
    }

    /// The headers every request carries: custom ones and the bearer token.
    pub(crate) fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.header_map() {
            Ok(headers) => request.headers(headers),
            // reqwest reports the invalid token when the request is sent.
            Err(_) => request.headers(self.headers.clone()).bearer_auth(self.bearer.as_deref().unwrap_or_default()),
        }
    }
}
