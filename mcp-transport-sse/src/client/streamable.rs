//! The Streamable HTTP client transport.
//!
//! Each message sent becomes a POST (at most `max_in_flight` at once). A POST answered with
//! JSON delivers that message; one answered with SSE delivers every event until the responses
//! to its requests arrived, reconnecting with `GET` + `Last-Event-ID` (after the server's
//! `retry`) if the connection drops first. After `notifications/initialized` the standalone
//! `GET` stream is opened and kept open the same way. Closing the transport sends `DELETE`.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::future::Shared;
use futures::{FutureExt, Sink};
use http::StatusCode;
use http::header::{ACCEPT, CONTENT_TYPE};
use mcp_core::{ErrorObject, Message, RequestId, TransportError};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio_util::sync::{CancellationToken, PollSemaphore};

use super::sse_reader::{Cursor, EventReader, Item, decode_data};
use super::{HttpClientConfig, HttpClientError, HttpClientTransport};

const SESSION_ID: &str = "mcp-session-id";
const PROTOCOL_VERSION: &str = "mcp-protocol-version";

/// Connects to the Streamable HTTP endpoint at `url` (no I/O happens until the first send).
///
/// # Errors
/// An invalid URL, or a reqwest client that cannot be built.
pub fn connect_streamable_http(url: &str, config: HttpClientConfig) -> Result<HttpClientTransport, HttpClientError> {
    let url = reqwest::Url::parse(url).map_err(|_| HttpClientError::InvalidUrl(url.to_owned()))?;
    let http = config.build_http()?;
    let (inbound, rx) = mpsc::channel(config.channel_capacity);
    let session_id = Arc::new(Mutex::new(None));
    let closed = CancellationToken::new();
    let inner = Arc::new(Inner {
        http,
        url,
        permits: Arc::new(Semaphore::new(config.max_in_flight)),
        config,
        session_id: Arc::clone(&session_id),
        version: Mutex::new(None),
        inbound,
        closed: closed.clone(),
        sending: AtomicUsize::new(0),
        sent: Notify::new(),
    });
    let sink = ClientSink {
        permits: PollSemaphore::new(Arc::clone(&inner.permits)),
        inner,
        permit: None,
        last_gate: None,
        closing: None,
    };
    Ok(HttpClientTransport::new(Box::pin(sink), rx, session_id, closed))
}

struct Inner {
    http: reqwest::Client,
    url: reqwest::Url,
    config: HttpClientConfig,
    permits: Arc<Semaphore>,
    session_id: Arc<Mutex<Option<String>>>,
    version: Mutex<Option<String>>,
    inbound: mpsc::Sender<Result<Message, TransportError>>,
    closed: CancellationToken,
    /// POSTs whose response headers have not arrived: close waits for them.
    sending: AtomicUsize,
    sent: Notify,
}

impl Inner {
    fn session(&self) -> Option<String> {
        self.session_id.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Session id, negotiated version, custom headers and bearer token.
    fn headers(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(id) = self.session() {
            request = request.header(SESSION_ID, id);
        }
        if let Some(version) = self.version.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            request = request.header(PROTOCOL_VERSION, version);
        }
        self.config.apply(request)
    }

    async fn deliver(&self, item: Result<Message, TransportError>) {
        if let Ok(message) = &item {
            self.sniff_version(message);
        }
        tokio::select! {
            _ = self.inbound.send(item) => {}
            () = self.closed.cancelled() => {}
        }
    }

    fn sniff_version(&self, message: &Message) {
        let Message::Response(response) = message else { return };
        let mut version = self.version.lock().unwrap_or_else(PoisonError::into_inner);
        if version.is_some() || !response.result.get().contains("\"protocolVersion\"") {
            return;
        }
        #[derive(serde::Deserialize)]
        struct Negotiated {
            #[serde(rename = "protocolVersion")]
            protocol_version: String,
        }
        if let Ok(n) = response.result.parse::<Negotiated>() {
            *version = Some(n.protocol_version);
        }
    }

    /// Answers requests that will get no response from the server, so callers do not hang.
    async fn fail_requests(&self, ids: impl IntoIterator<Item = RequestId>, reason: &str) {
        for id in ids {
            self.deliver(Ok(Message::error(Some(id), ErrorObject::internal_error(reason)))).await;
        }
    }

    async fn expired(&self) {
        tracing::info!("the server ended the MCP session (HTTP 404)");
        self.deliver(Err(HttpClientError::SessionExpired.fatal())).await;
        self.closed.cancel();
    }

    async fn sleep(&self, delay: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = self.closed.cancelled() => false,
        }
    }

    /// A `GET` of the endpoint, resuming after `last_event_id` when given.
    async fn get(&self, last_event_id: Option<&str>) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self.http.get(self.url.clone()).header(ACCEPT, "text/event-stream");
        request = self.headers(request);
        if let Some(last) = last_event_id {
            request = request.header("last-event-id", last);
        }
        request.send().await
    }
}

fn request_ids(message: &Message) -> Vec<RequestId> {
    match message {
        Message::Request(r) => vec![r.id.clone()],
        Message::Batch(items) => items.iter().flat_map(request_ids).collect(),
        _ => Vec::new(),
    }
}

fn is_sse(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/event-stream"))
}

// ===== the sink =====

struct ClientSink {
    inner: Arc<Inner>,
    permits: PollSemaphore,
    permit: Option<OwnedSemaphorePermit>,
    /// Fires when the latest ordering message (see [`Gate`]) reached the server.
    last_gate: Option<Shared<oneshot::Receiver<()>>>,
    closing: Option<BoxFuture<'static, ()>>,
}

/// Keeps send order where it matters. POSTs run concurrently, so two messages could reach the
/// server out of order. `initialize` (whose answer carries the session id), notifications and
/// responses are quick to accept, and the server must see them in order (`initialized` before
/// the next request, a reply before the caller's next message): every message waits until the
/// last such message sent before it got its HTTP response headers. Requests do not hold up later
/// messages (their answers may stream for long).
struct Gate {
    wait: Option<Shared<oneshot::Receiver<()>>>,
    open: Option<oneshot::Sender<()>>,
}

impl Gate {
    async fn wait(&mut self, closed: &CancellationToken) -> bool {
        let Some(wait) = self.wait.take() else { return true };
        tokio::select! {
            _ = wait => true,
            () = closed.cancelled() => false,
        }
    }

    fn open(&mut self) {
        if let Some(open) = self.open.take() {
            let _ = open.send(());
        }
    }
}

impl Sink<Message> for ClientSink {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        if self.inner.closed.is_cancelled() {
            return Poll::Ready(Err(TransportError::Closed));
        }
        if self.permit.is_none() {
            match self.permits.poll_acquire(cx) {
                Poll::Ready(Some(permit)) => self.permit = Some(permit),
                Poll::Ready(None) => return Poll::Ready(Err(TransportError::Closed)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), TransportError> {
        if self.inner.closed.is_cancelled() {
            return Err(TransportError::Closed);
        }
        let permit = self.permit.take();
        let is_init = matches!(&message, Message::Request(r) if r.method == "initialize");
        let ordering = is_init || !matches!(message, Message::Request(_) | Message::Batch(_));
        let mut gate = Gate { wait: self.last_gate.clone(), open: None };
        if ordering {
            let (open, opened) = oneshot::channel();
            gate.open = Some(open);
            self.last_gate = Some(opened.shared());
        }
        self.inner.sending.fetch_add(1, Ordering::AcqRel);
        tokio::spawn(post(Arc::clone(&self.inner), message, is_init, gate, permit));
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        if self.closing.is_none() {
            let inner = Arc::clone(&self.inner);
            self.closing = Some(Box::pin(close(inner)));
        }
        match self.closing.as_mut().map(|f| f.poll_unpin(cx)) {
            Some(Poll::Pending) => Poll::Pending,
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// Waits (up to 10 s) for POSTs already accepted to reach the server, deletes the session, stops.
async fn close(inner: Arc<Inner>) {
    let drained = async {
        while inner.sending.load(Ordering::Acquire) > 0 {
            let notified = inner.sent.notified();
            if inner.sending.load(Ordering::Acquire) == 0 {
                break;
            }
            notified.await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), drained).await;
    if let Some(id) = inner.session().filter(|_| !inner.closed.is_cancelled()) {
        let request = inner.config.apply(inner.http.delete(inner.url.clone()).header(SESSION_ID, id));
        match tokio::time::timeout(Duration::from_secs(5), request.send()).await {
            Ok(Ok(resp)) => tracing::debug!(status = %resp.status(), "session deleted"),
            Ok(Err(err)) => tracing::debug!(error = %err, "session DELETE failed"),
            Err(_) => tracing::debug!("session DELETE timed out"),
        }
    }
    inner.closed.cancel();
}

// ===== one POST =====

async fn post(
    inner: Arc<Inner>,
    message: Message,
    is_init: bool,
    mut gate: Gate,
    _permit: Option<OwnedSemaphorePermit>,
) {
    if !gate.wait(&inner.closed).await {
        finish_sending(&inner);
        return;
    }
    let ids = request_ids(&message);
    let initialized = matches!(&message, Message::Notification(n) if n.method == "notifications/initialized");
    let had_session = inner.session().is_some();
    let request = inner
        .http
        .post(inner.url.clone())
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json")
        .body(message.to_vec());
    let result = tokio::select! {
        r = inner.headers(request).send() => r,
        () = inner.closed.cancelled() => { finish_sending(&inner); return; }
    };
    finish_sending(&inner);
    let response = match result {
        Ok(response) => response,
        Err(err) => {
            gate.open();
            tracing::warn!(error = %err, "POST to the MCP endpoint failed");
            inner.fail_requests(ids, &format!("HTTP request failed: {err}")).await;
            return;
        }
    };
    if is_init && let Some(id) = response.headers().get(SESSION_ID).and_then(|v| v.to_str().ok()) {
        *inner.session_id.lock().unwrap_or_else(PoisonError::into_inner) = Some(id.to_owned());
    }
    // The server has the message (and we have the session id): later messages may go.
    gate.open();
    let status = response.status();
    if status == StatusCode::NOT_FOUND && had_session {
        inner.expired().await;
        return;
    }
    if !status.is_success() {
        let url = response.url().to_string();
        let body = response.text().await.unwrap_or_default();
        let detail = HttpClientError::Status { status: status.as_u16(), url, body: body.chars().take(500).collect() };
        tracing::warn!(%detail, "the MCP endpoint refused a message");
        inner.fail_requests(ids, &detail.to_string()).await;
        return;
    }
    if status == StatusCode::ACCEPTED || ids.is_empty() {
        if initialized && inner.config.standalone_stream {
            tokio::spawn(standalone(Arc::clone(&inner)));
        }
        return;
    }
    if is_sse(&response) {
        read_post_stream(&inner, response, ids.into_iter().collect()).await;
    } else {
        let body = response.bytes().await;
        match body {
            Ok(bytes) => inner.deliver(Message::from_slice(&bytes).map_err(TransportError::from)).await,
            Err(err) => inner.fail_requests(ids, &format!("reading the response failed: {err}")).await,
        }
    }
}

fn finish_sending(inner: &Inner) {
    inner.sending.fetch_sub(1, Ordering::AcqRel);
    inner.sent.notify_waiters();
}

/// Delivers a POST's SSE events until every request in it is answered, resuming if needed.
async fn read_post_stream(inner: &Inner, response: reqwest::Response, mut pending: HashSet<RequestId>) {
    let mut cursor = Cursor::default();
    let mut attempts = 0;
    let mut response = Some(response);
    loop {
        if let Some(resp) = response.take()
            && read_until_answered(inner, resp, &mut cursor, Some(&mut pending)).await
        {
            attempts = 0;
        }
        if pending.is_empty() || inner.closed.is_cancelled() {
            return;
        }
        let Some(last) = cursor.last_event_id.clone() else {
            inner.fail_requests(pending, "the response stream ended before the response (and is not resumable)").await;
            return;
        };
        if attempts >= inner.config.max_reconnects {
            inner.fail_requests(pending, "the response stream could not be resumed").await;
            return;
        }
        attempts += 1;
        if !inner.sleep(cursor.retry.unwrap_or(inner.config.default_retry)).await {
            return;
        }
        tracing::debug!(last_event_id = %last, attempt = attempts, "resuming a response stream");
        match inner.get(Some(&last)).await {
            Ok(resp) if resp.status() == StatusCode::NOT_FOUND && inner.session().is_some() => {
                return inner.expired().await;
            }
            Ok(resp) if resp.status().is_success() && is_sse(&resp) => response = Some(resp),
            Ok(resp) => tracing::debug!(status = %resp.status(), "resumption refused"),
            Err(err) => tracing::debug!(error = %err, "resumption failed"),
        }
    }
}

/// Reads one connection; returns whether any event arrived.
async fn read_until_answered(
    inner: &Inner,
    response: reqwest::Response,
    cursor: &mut Cursor,
    mut pending: Option<&mut HashSet<RequestId>>,
) -> bool {
    let mut reader = EventReader::new(response, inner.config.max_message_bytes);
    let any = read_events(inner, &mut reader, cursor, pending.as_deref_mut()).await;
    if pending.is_some_and(|p| p.is_empty()) {
        // Answered: read on to the body's end (the server ends it right after the last
        // response), delivering any late message, so the connection can go back to the pool.
        let _ = tokio::time::timeout(DRAIN, read_events(inner, &mut reader, cursor, None)).await;
    }
    any
}

/// How long an answered POST stream is read on, waiting for the server to end it: an HTTP/1.1
/// connection whose response body was not read to its end cannot go back to the pool, and the
/// next POST would open a new one.
const DRAIN: Duration = Duration::from_millis(100);

/// Delivers events until the body ends or fails, the transport closes, or (with `pending`)
/// every pending request is answered. Returns whether any event arrived.
async fn read_events(
    inner: &Inner,
    reader: &mut EventReader,
    cursor: &mut Cursor,
    mut pending: Option<&mut HashSet<RequestId>>,
) -> bool {
    let mut any = false;
    loop {
        let next = tokio::select! {
            n = reader.next(cursor) => n,
            () = inner.closed.cancelled() => return any,
        };
        match next {
            None | Some(Err(_)) => return any,
            Some(Ok(Item::TooLarge(err))) => inner.deliver(Err(err)).await,
            Some(Ok(Item::Event(event))) => {
                any = true;
                let Some(item) = decode_data(&event) else { continue };
                if let (Ok(message), Some(pending)) = (&item, pending.as_deref_mut()) {
                    answered(message, pending);
                }
                inner.deliver(item).await;
                if pending.as_ref().is_some_and(|p| p.is_empty()) {
                    return any;
                }
            }
        }
    }
}

fn answered(message: &Message, pending: &mut HashSet<RequestId>) {
    match message {
        Message::Response(_) | Message::Error(_) => {
            if let Some(id) = message.id() {
                pending.remove(id);
            }
        }
        Message::Batch(items) => items.iter().for_each(|m| answered(m, pending)),
        _ => {}
    }
}

/// Keeps the standalone `GET` stream open, resuming after drops, until closed or refused.
async fn standalone(inner: Arc<Inner>) {
    let mut cursor = Cursor::default();
    let mut failures = 0;
    while !inner.closed.is_cancelled() {
        match inner.get(cursor.last_event_id.as_deref()).await {
            Ok(resp) if resp.status() == StatusCode::METHOD_NOT_ALLOWED => {
                tracing::debug!("the server offers no standalone GET stream");
                return;
            }
            Ok(resp) if resp.status() == StatusCode::NOT_FOUND && inner.session().is_some() => {
                return inner.expired().await;
            }
            Ok(resp) if resp.status() == StatusCode::CONFLICT || resp.status() == StatusCode::NOT_FOUND => {
                tracing::debug!(status = %resp.status(), "no standalone GET stream for this client");
                return;
            }
            Ok(resp) if resp.status().is_success() && is_sse(&resp) => {
                if read_until_answered(&inner, resp, &mut cursor, None).await {
                    failures = 0;
                } else {
                    failures += 1;
                }
            }
            Ok(resp) => {
                tracing::debug!(status = %resp.status(), "standalone GET refused");
                failures += 1;
            }
            Err(err) => {
                tracing::debug!(error = %err, "standalone GET failed");
                failures += 1;
            }
        }
        if failures > inner.config.max_reconnects {
            tracing::warn!(failures, "giving up on the standalone GET stream");
            return;
        }
        if !inner.sleep(cursor.retry.unwrap_or(inner.config.default_retry)).await {
            return;
        }
    }
}
