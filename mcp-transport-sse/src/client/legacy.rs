//! The legacy HTTP+SSE client transport (2024-11-05): one `GET` SSE stream for the server's
//! messages, whose `endpoint` event names where to POST ours.

use std::sync::{Arc, Mutex};

use http::StatusCode;
use http::header::{ACCEPT, CONTENT_TYPE};
use mcp_core::{Message, TransportError};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::sse_reader::{Cursor, EventReader, Item, decode_data};
use super::{HttpClientConfig, HttpClientError, HttpClientTransport};

/// Opens the SSE stream at `url`, waits for the `endpoint` event, and returns the transport.
///
/// # Errors
/// The URL is invalid, the stream cannot be opened, no `endpoint` event arrives within
/// `connect_timeout`, or the endpoint is on another origin.
pub async fn connect_legacy_sse(url: &str, config: HttpClientConfig) -> Result<HttpClientTransport, HttpClientError> {
    let url = reqwest::Url::parse(url).map_err(|_| HttpClientError::InvalidUrl(url.to_owned()))?;
    let http = config.build_http()?;
    let response = config.apply(http.get(url.clone()).header(ACCEPT, "text/event-stream")).send().await?;
    if !response.status().is_success() {
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default().chars().take(500).collect();
        return Err(HttpClientError::Status { status, url: url.to_string(), body });
    }
    let mut reader = EventReader::new(super::response::Response::from_reqwest(response).body, config.max_message_bytes);
    let mut cursor = Cursor::default();
    let endpoint = tokio::time::timeout(config.connect_timeout, async {
        while let Some(Ok(item)) = reader.next(&mut cursor).await {
            if let Item::Event(event) = item
                && event.event.as_deref() == Some("endpoint")
            {
                return Some(event.data);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or(HttpClientError::NoEndpoint(config.connect_timeout))?;
    let endpoint = url.join(endpoint.trim()).map_err(|_| HttpClientError::InvalidUrl(endpoint.clone()))?;
    if endpoint.origin() != url.origin() {
        return Err(HttpClientError::CrossOriginEndpoint(endpoint.to_string()));
    }
    let session_id = endpoint.query_pairs().find(|(k, _)| k == "sessionId").map(|(_, v)| v.into_owned());

    let (inbound, rx) = mpsc::channel(config.channel_capacity);
    let closed = CancellationToken::new();
    tokio::spawn(read_stream(reader, inbound.clone(), closed.clone()));

    let sink_state = (http, endpoint, Arc::new(config), inbound, closed.clone());
    let sink = futures::sink::unfold(sink_state, |state, message: Message| async move {
        let (http, endpoint, config, inbound, closed) = &state;
        if closed.is_cancelled() {
            return Err(TransportError::Closed);
        }
        let request = http.post(endpoint.clone()).header(CONTENT_TYPE, "application/json").body(message.to_vec());
        let response = config.apply(request).send().await.map_err(|e| HttpClientError::Http(e).fatal())?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            closed.cancel();
            return Err(HttpClientError::SessionExpired.fatal());
        }
        if !status.is_success() {
            let body: String = response.text().await.unwrap_or_default().chars().take(500).collect();
            let detail = HttpClientError::Status { status: status.as_u16(), url: endpoint.to_string(), body };
            tracing::warn!(%detail, "the SSE server refused a message");
            if let Some(id) = message.id().filter(|_| matches!(message, Message::Request(_))) {
                let error = mcp_core::ErrorObject::internal_error(&detail);
                let _ = inbound.send(Ok(Message::error(Some(id.clone()), error))).await;
            }
        }
        Ok(state)
    });
    let closer = closed.clone();
    let sink = CloseOnClose { inner: Box::pin(sink), closed: closer };
    Ok(HttpClientTransport::new(Box::pin(sink), rx, Arc::new(Mutex::new(session_id)), closed))
}

/// Delivers the stream's `message` events; a clean end of the stream ends the transport.
async fn read_stream(
    mut reader: EventReader,
    inbound: mpsc::Sender<Result<Message, TransportError>>,
    closed: CancellationToken,
) {
    let mut cursor = Cursor::default();
    loop {
        let next = tokio::select! {
            n = reader.next(&mut cursor) => n,
            () = closed.cancelled() => return,
        };
        let item = match next {
            None => break,
            Some(Err(err)) => {
                let _ = inbound.send(Err(TransportError::ConnectionLost(format!("SSE stream failed: {err}")))).await;
                break;
            }
            Some(Ok(Item::TooLarge(err))) => Err(err),
            Some(Ok(Item::Event(event))) => {
                if event.event.as_deref().is_some_and(|e| e != "message") {
                    continue;
                }
                match decode_data(&event) {
                    Some(item) => item,
                    None => continue,
                }
            }
        };
        tokio::select! {
            _ = inbound.send(item) => {}
            () = closed.cancelled() => return,
        }
    }
    closed.cancel();
}

impl<S: futures::Sink<Message, Error = TransportError> + Send> super::transport::Outbound for CloseOnClose<S> {}

/// Closing the sink closes the SSE stream, which ends the session on the server.
struct CloseOnClose<S> {
    inner: std::pin::Pin<Box<S>>,
    closed: CancellationToken,
}

impl<S: futures::Sink<Message, Error = TransportError>> futures::Sink<Message> for CloseOnClose<S> {
    type Error = TransportError;

    fn poll_ready(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        self.inner.as_mut().poll_ready(cx)
    }

    fn start_send(mut self: std::pin::Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        self.inner.as_mut().start_send(item)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        self.inner.as_mut().poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        let result = std::task::ready!(self.inner.as_mut().poll_close(cx));
        self.closed.cancel();
        std::task::Poll::Ready(result)
    }
}
