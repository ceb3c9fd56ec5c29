//! HTTP error replies that carry a JSON-RPC error body, as the spec allows on every refusal.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use mcp_core::{ErrorObject, Message, RequestId};

/// An HTTP refusal: a status and a JSON-RPC error response body (with a null id unless the
/// request's id is known), so both HTTP-level and JSON-RPC-level clients learn what went wrong.
#[derive(Debug)]
pub(crate) struct HttpError {
    pub(crate) status: StatusCode,
    pub(crate) error: ErrorObject,
    pub(crate) id: Option<RequestId>,
}

impl HttpError {
    pub(crate) fn new(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        Self { status, error: ErrorObject::new(code, message), id: None }
    }

    /// A transport-level refusal: JSON-RPC has no code for these, so -32600 (invalid request)
    /// with a message that names the HTTP problem.
    pub(crate) fn invalid(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, mcp_core::jsonrpc::error_codes::INVALID_REQUEST, message)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = Message::error(self.id, self.error).to_vec();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}
