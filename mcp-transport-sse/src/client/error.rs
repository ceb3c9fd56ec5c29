//! Client errors.

use mcp_core::TransportError;

/// What can go wrong in the HTTP client transports. Fatal ones reach the caller wrapped in
/// [`TransportError::Other`]; downcast the source to tell them apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The server answered 404 for our session: it expired or was deleted. Start a new
    /// transport and initialize again.
    #[error("the server ended the MCP session (HTTP 404); reconnect and initialize again")]
    SessionExpired,
    /// The server answered with an unexpected status.
    #[error("HTTP {status} from {url}: {body}")]
    Status {
        /// The status.
        status: u16,
        /// The request URL.
        url: String,
        /// The start of the response body.
        body: String,
    },
    /// The HTTP request failed (connection refused, TLS, timeout).
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The legacy server did not send an `endpoint` event in time.
    #[error("the SSE server sent no endpoint event within {0:?}")]
    NoEndpoint(std::time::Duration),
    /// The legacy server's endpoint is on another origin than its SSE URL (refused: it could
    /// send our messages to a third party).
    #[error("the SSE server's endpoint {0:?} is not on the same origin; refused")]
    CrossOriginEndpoint(String),
    /// The URL could not be parsed.
    #[error("invalid URL {0:?}")]
    InvalidUrl(String),
    /// A custom header or the bearer token is not a valid HTTP header value.
    #[error("a custom header or the bearer token is not a valid HTTP header value")]
    InvalidHeader,
}

impl HttpClientError {
    /// As a fatal transport error.
    pub(crate) fn fatal(self) -> TransportError {
        TransportError::other(true, self)
    }
}
