//! An HTTP response as the clients read it: status, headers and a body of chunks, whether it
//! came through reqwest or through a connection of the client's own ([`super::direct`]).

use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};

/// Why reading a response (or sending its request) failed.
pub(crate) type HttpError = Box<dyn std::error::Error + Send + Sync>;

/// A response body: its chunks as they arrive.
pub(crate) type Body = Pin<Box<dyn Stream<Item = Result<Bytes, HttpError>> + Send>>;

/// See the module docs.
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
}

impl Response {
    pub(crate) fn from_reqwest(mut response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = Box::pin(response.bytes_stream().map(|chunk| chunk.map_err(HttpError::from)));
        Self { status, headers, body }
    }

    /// Whether the body is an SSE stream.
    pub(crate) fn is_sse(&self) -> bool {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/event-stream"))
    }

    /// The whole body; an error once it grows past `limit` bytes (nothing larger is buffered).
    pub(crate) async fn bytes(mut self, limit: usize) -> Result<Bytes, HttpError> {
        let mut whole = BytesMut::new();
        while let Some(chunk) = self.body.next().await {
            let chunk = chunk?;
            if whole.len() + chunk.len() > limit {
                return Err(format!("the response body exceeds the {limit}-byte message limit").into());
            }
            whole.extend_from_slice(&chunk);
        }
        Ok(whole.freeze())
    }

    /// The start of the body as text (at most 500 characters), for error messages.
    pub(crate) async fn excerpt(self) -> String {
        let bytes = self.bytes(64 * 1024).await.unwrap_or_default();
        String::from_utf8_lossy(&bytes).chars().take(500).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(chunks: &[&'static str]) -> Response {
        let chunks: Vec<Result<Bytes, HttpError>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c.as_bytes()))).collect();
        Response { status: StatusCode::OK, headers: HeaderMap::new(), body: Box::pin(futures::stream::iter(chunks)) }
    }

    #[tokio::test]
    async fn a_body_is_read_whole_up_to_its_limit_and_no_further() {
        assert_eq!(response(&["{\"a\":", "1}"]).bytes(7).await.unwrap(), Bytes::from_static(b"{\"a\":1}"));
        let err = response(&["{\"a\":", "12}"]).bytes(7).await.unwrap_err();
        assert!(err.to_string().contains("7-byte message limit"), "{err}");
    }
}
