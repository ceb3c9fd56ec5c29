//! The Streamable HTTP client transport.
//!
//! Each message sent becomes a POST (at most `max_in_flight` at once). A POST answered with
//! JSON delivers that message; one answered with SSE delivers every event until the responses
//! to its requests arrived, reconnecting with `GET` + `Last-Event-ID` (after the server's
//! `retry`) if the connection drops first. After `notifications/initialized` the standalone
//! `GET` stream is opened and kept open the same way. Closing the transport sends `DELETE`.
//!
//! The POSTs run inside the transport, polled by whoever polls it (an MCP session's task): a
//! POST starts in `poll_flush` and its answer is read in `poll_next`. To a plain `http://`
//! endpoint each POST drives an HTTP/1.1 connection of the transport's own ([`super::direct`]),
//! so a response goes from the socket to the session without passing through a task of its own
//! (each such hand-off is a wake-up, and on an idle machine often a cross-thread one). Only the
//! standalone `GET` stream has a task. A POST therefore makes progress while the transport is
//! polled: keep reading its stream (an MCP session always does), or close it.

use std::collections::{HashSet, VecDeque};
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures::future::{BoxFuture, Shared};
use futures::stream::FuturesUnordered;
use futures::task::AtomicWaker;
use futures::{FutureExt, Sink, StreamExt};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use mcp_core::rerun::Rerun;
use mcp_core::{ErrorObject, Message, RequestId, TransportError};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::direct::Direct;
use super::response::{HttpError, Response};
use super::sse_reader::{Cursor, EventReader, Item, decode_data};
use super::transport::Outbound;
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
    let direct = Direct::for_url(&url, &config).map(Arc::new);
    let headers = config.header_map().map_err(|_| HttpClientError::InvalidHeader)?;
    let mut post_headers = headers.clone();
    post_headers.insert(ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));
    post_headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let (inbound, rx) = mpsc::channel(config.channel_capacity);
    let session_id = Arc::new(Mutex::new(None));
    let closed = CancellationToken::new();
    let inner = Arc::new(Inner {
        http,
        direct,
        headers,
        post_headers,
        url,
        config,
        session_id: Arc::clone(&session_id),
        version: Mutex::new(None),
        inbound,
        received: Mutex::new(Received::default()),
        closed: closed.clone(),
        sending: AtomicUsize::new(0),
    });
    let pollers = Arc::new(Pollers::default());
    let sink = ClientSink {
        inner,
        posts: FuturesUnordered::new(),
        poller: Waker::from(Arc::clone(&pollers)),
        pollers,
        last_gate: None,
        closing: None,
    };
    Ok(HttpClientTransport::new(Box::pin(sink), rx, session_id, closed))
}

struct Inner {
    http: reqwest::Client,
    /// The POSTs' own connections, for a plain `http://` endpoint (reqwest's otherwise).
    direct: Option<Arc<Direct>>,
    /// What every request carries: custom headers and the bearer token.
    headers: HeaderMap,
    /// What every POST carries: those, `Accept` and `Content-Type`.
    post_headers: HeaderMap,
    url: reqwest::Url,
    config: HttpClientConfig,
    session_id: Arc<Mutex<Option<String>>>,
    version: Mutex<Option<String>>,
    /// What the standalone `GET` stream (a task of its own) receives.
    inbound: mpsc::Sender<Result<Message, TransportError>>,
    /// What POSTs receive. They run inside the transport's own polls, so this queue needs no
    /// wake-ups for the reader: the transport looks into it right after running them.
    received: Mutex<Received>,
    closed: CancellationToken,
    /// POSTs whose response headers have not arrived: close waits for them.
    sending: AtomicUsize,
}

/// Messages POSTs received, waiting for the transport's reader (at most `channel_capacity`).
#[derive(Default)]
struct Received {
    queue: VecDeque<Result<Message, TransportError>>,
    /// POSTs waiting for room in the queue.
    waiting: Vec<Waker>,
}

/// Where a message received on a response stream goes.
#[derive(Clone, Copy)]
enum Route {
    /// A POST's stream: the transport's own queue.
    Post,
    /// The standalone `GET` stream: the channel its task feeds.
    Standalone,
}

impl Inner {
    fn session(&self) -> Option<String> {
        self.session_id.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// `headers` with the session id and the negotiated version, once known.
    fn with_session(&self, mut headers: HeaderMap) -> HeaderMap {
        if let Some(id) = self.session().and_then(|id| HeaderValue::try_from(id).ok()) {
            headers.insert(SESSION_ID, id);
        }
        let version = self.version.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(version) = version.and_then(|v| HeaderValue::try_from(v).ok()) {
            headers.insert(PROTOCOL_VERSION, version);
        }
        headers
    }

    async fn deliver(&self, route: Route, item: Result<Message, TransportError>) {
        if let Ok(message) = &item {
            self.sniff_version(message);
        }
        match route {
            Route::Standalone => {
                tokio::select! {
                    _ = self.inbound.send(item) => {}
                    () = self.closed.cancelled() => {}
                }
            }
            Route::Post => {
                let mut item = Some(item);
                poll_fn(|cx| {
                    let mut received = self.received();
                    if received.queue.len() < self.config.channel_capacity || self.closed.is_cancelled() {
                        received.queue.extend(item.take());
                        Poll::Ready(())
                    } else {
                        received.waiting.push(cx.waker().clone());
                        Poll::Pending
                    }
                })
                .await;
            }
        }
    }

    fn received(&self) -> std::sync::MutexGuard<'_, Received> {
        self.received.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The oldest message POSTs received; makes room for POSTs waiting to add theirs.
    fn take_received(&self) -> Option<Result<Message, TransportError>> {
        let mut received = self.received();
        let item = received.queue.pop_front()?;
        let waiting = std::mem::take(&mut received.waiting);
        drop(received);
        waiting.into_iter().for_each(Waker::wake);
        Some(item)
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
            self.deliver(Route::Post, Ok(Message::error(Some(id), ErrorObject::internal_error(reason)))).await;
        }
    }

    async fn expired(&self, route: Route) {
        tracing::info!("the server ended the MCP session (HTTP 404)");
        self.deliver(route, Err(HttpClientError::SessionExpired.fatal())).await;
        self.closed.cancel();
    }

    async fn sleep(&self, delay: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = self.closed.cancelled() => false,
        }
    }

    /// A `GET` of the endpoint, resuming after `last_event_id` when given.
    async fn get(&self, last_event_id: Option<&str>) -> Result<Response, reqwest::Error> {
        let headers = self.with_session(self.headers.clone());
        let mut request = self.http.get(self.url.clone()).headers(headers).header(ACCEPT, "text/event-stream");
        if let Some(last) = last_event_id {
            request = request.header("last-event-id", last);
        }
        request.send().await.map(Response::from_reqwest)
    }

    /// POSTs `body`, on a connection of our own or through reqwest.
    async fn post(&self, body: Vec<u8>) -> Result<Response, HttpError> {
        let headers = self.with_session(self.post_headers.clone());
        match &self.direct {
            Some(direct) => direct.post(headers, body.into()).await,
            None => {
                let request = self.http.post(self.url.clone()).headers(headers).body(body);
                Ok(request.send().await.map(Response::from_reqwest)?)
            }
        }
    }
}

fn request_ids(message: &Message) -> Vec<RequestId> {
    match message {
        Message::Request(r) => vec![r.id.clone()],
        Message::Batch(items) => items.iter().flat_map(request_ids).collect(),
        _ => Vec::new(),
    }
}

// ===== the sink =====

struct ClientSink {
    inner: Arc<Inner>,
    /// The POSTs in progress, run by this transport's polls.
    posts: FuturesUnordered<Rerun<BoxFuture<'static, ()>>>,
    /// The tasks polling the transport, and a waker that wakes them (what the POSTs wait for).
    pollers: Arc<Pollers>,
    poller: Waker,
    /// Fires when the latest ordering message (see [`Gate`]) reached the server.
    last_gate: Option<Shared<oneshot::Receiver<()>>>,
    closing: Option<Closing>,
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

/// The tasks that poll the transport: its reading half's and its sending half's (one task for
/// an MCP session; two when the halves are split across tasks). The POSTs run in whichever polls
/// next, so what they wait for wakes both.
#[derive(Default)]
struct Pollers {
    reader: AtomicWaker,
    writer: AtomicWaker,
}

impl Wake for Pollers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.reader.wake();
        self.writer.wake();
    }
}

impl ClientSink {
    /// Runs the POSTs that can go on. What they receive lands in `inner.received`: when this
    /// is not `poll_received` (which looks there next), the reader is woken to look.
    fn run_posts(&mut self, cx: &mut Context<'_>, reading: bool) {
        if reading {
            self.pollers.reader.register(cx.waker());
        } else {
            self.pollers.writer.register(cx.waker());
        }
        let mut posts = Context::from_waker(&self.poller);
        while let Poll::Ready(Some(())) = self.posts.poll_next_unpin(&mut posts) {}
        if !reading && !self.inner.received().queue.is_empty() {
            self.pollers.reader.wake();
        }
    }
}

impl Sink<Message> for ClientSink {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        if self.inner.closed.is_cancelled() {
            return Poll::Ready(Err(TransportError::Closed));
        }
        if self.posts.len() >= self.inner.config.max_in_flight {
            self.run_posts(cx, false);
            if self.posts.len() >= self.inner.config.max_in_flight {
                return Poll::Pending;
            }
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), TransportError> {
        if self.inner.closed.is_cancelled() {
            return Err(TransportError::Closed);
        }
        let is_init = matches!(&message, Message::Request(r) if r.method == "initialize");
        let ordering = is_init || !matches!(message, Message::Request(_) | Message::Batch(_));
        let mut gate = Gate { wait: self.last_gate.clone(), open: None };
        if ordering {
            let (open, opened) = oneshot::channel();
            gate.open = Some(open);
            self.last_gate = Some(opened.shared());
        }
        self.inner.sending.fetch_add(1, Ordering::AcqRel);
        let post = post(Arc::clone(&self.inner), message, is_init, gate);
        self.posts.push(Rerun::new(Box::pin(post)));
        Ok(())
    }

    /// Starts the POSTs sent since the last flush (and runs the others).
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.run_posts(cx, false);
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let me = &mut *self;
        if me.closing.as_ref().is_none_or(|c| c.delete.is_none()) {
            // POSTs already accepted reach the server first (up to CLOSE_DRAIN).
            me.run_posts(cx, false);
        }
        let closing = me
            .closing
            .get_or_insert_with(|| Closing { drain: Box::pin(tokio::time::sleep(CLOSE_DRAIN)), delete: None });
        if closing.delete.is_none() {
            if me.inner.sending.load(Ordering::Acquire) > 0 && closing.drain.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            closing.delete = Some(Box::pin(delete_session(Arc::clone(&me.inner))));
        }
        match closing.delete.as_mut().map(|f| f.poll_unpin(cx)) {
            Some(Poll::Pending) => Poll::Pending,
            _ => Poll::Ready(Ok(())),
        }
    }
}

impl Outbound for ClientSink {
    fn poll_received(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Option<Result<Message, TransportError>> {
        if let Some(item) = self.inner.take_received() {
            return Some(item);
        }
        self.run_posts(cx, true);
        self.inner.take_received()
    }
}

/// How long closing waits for accepted POSTs to reach the server.
const CLOSE_DRAIN: Duration = Duration::from_secs(10);

struct Closing {
    drain: Pin<Box<tokio::time::Sleep>>,
    delete: Option<BoxFuture<'static, ()>>,
}

/// Deletes the session (unless the server ended it) and stops the transport.
async fn delete_session(inner: Arc<Inner>) {
    if let Some(id) = inner.session().filter(|_| !inner.closed.is_cancelled()) {
        let request = inner.http.delete(inner.url.clone()).headers(inner.headers.clone()).header(SESSION_ID, id);
        match tokio::time::timeout(Duration::from_secs(5), request.send()).await {
            Ok(Ok(resp)) => tracing::debug!(status = %resp.status(), "session deleted"),
            Ok(Err(err)) => tracing::debug!(error = %err, "session DELETE failed"),
            Err(_) => tracing::debug!("session DELETE timed out"),
        }
    }
    inner.closed.cancel();
}

// ===== one POST =====

async fn post(inner: Arc<Inner>, message: Message, is_init: bool, mut gate: Gate) {
    if !gate.wait(&inner.closed).await {
        finish_sending(&inner);
        return;
    }
    let ids = request_ids(&message);
    let initialized = matches!(&message, Message::Notification(n) if n.method == "notifications/initialized");
    let had_session = inner.session().is_some();
    let result = tokio::select! {
        r = inner.post(message.to_vec()) => r,
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
    if is_init && let Some(id) = response.headers.get(SESSION_ID).and_then(|v| v.to_str().ok()) {
        *inner.session_id.lock().unwrap_or_else(PoisonError::into_inner) = Some(id.to_owned());
    }
    let status = response.status;
    let opens_stream = initialized && status.is_success() && inner.config.standalone_stream;
    if !opens_stream {
        // The server has the message (and we have the session id): later messages may go.
        gate.open();
    }
    if status == StatusCode::NOT_FOUND && had_session {
        inner.expired(Route::Post).await;
        return;
    }
    if !status.is_success() {
        let url = inner.url.to_string();
        let body = response.excerpt().await;
        let detail = HttpClientError::Status { status: status.as_u16(), url, body };
        tracing::warn!(%detail, "the MCP endpoint refused a message");
        inner.fail_requests(ids, &detail.to_string()).await;
        return;
    }
    if status == StatusCode::ACCEPTED || ids.is_empty() {
        if opens_stream {
            tokio::spawn(standalone(Arc::clone(&inner), gate));
        }
        return;
    }
    if response.is_sse() {
        read_post_stream(&inner, response, ids.into_iter().collect()).await;
    } else {
        let body = response.bytes(inner.config.max_message_bytes).await;
        match body {
            Ok(bytes) => inner.deliver(Route::Post, Message::from_slice(&bytes).map_err(TransportError::from)).await,
            Err(err) => inner.fail_requests(ids, &format!("reading the response failed: {err}")).await,
        }
    }
}

fn finish_sending(inner: &Inner) {
    inner.sending.fetch_sub(1, Ordering::AcqRel);
}

/// Delivers a POST's SSE events until every request in it is answered, resuming if needed.
async fn read_post_stream(inner: &Inner, response: Response, mut pending: HashSet<RequestId>) {
    let mut cursor = Cursor::default();
    let mut attempts = 0;
    let mut response = Some(response);
    loop {
        if let Some(resp) = response.take()
            && read_until_answered(inner, Route::Post, resp, &mut cursor, Some(&mut pending)).await
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
            Ok(resp) if resp.status == StatusCode::NOT_FOUND && inner.session().is_some() => {
                return inner.expired(Route::Post).await;
            }
            Ok(resp) if resp.status.is_success() && resp.is_sse() => response = Some(resp),
            Ok(resp) => tracing::debug!(status = %resp.status, "resumption refused"),
            Err(err) => tracing::debug!(error = %err, "resumption failed"),
        }
    }
}

/// Reads one connection; returns whether any event arrived.
async fn read_until_answered(
    inner: &Inner,
    route: Route,
    response: Response,
    cursor: &mut Cursor,
    mut pending: Option<&mut HashSet<RequestId>>,
) -> bool {
    let mut reader = EventReader::new(response.body, inner.config.max_message_bytes);
    let any = read_events(inner, route, &mut reader, cursor, pending.as_deref_mut()).await;
    if pending.is_some_and(|p| p.is_empty()) {
        // Answered: read on to the body's end (the server ends it right after the last
        // response), delivering any late message, so the connection can go back to the pool.
        let _ = tokio::time::timeout(DRAIN, read_events(inner, route, &mut reader, cursor, None)).await;
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
    route: Route,
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
            Some(Ok(Item::TooLarge(err))) => inner.deliver(route, Err(err)).await,
            Some(Ok(Item::Event(event))) => {
                any = true;
                let Some(item) = decode_data(&event) else { continue };
                if let (Ok(message), Some(pending)) = (&item, pending.as_deref_mut()) {
                    answered(message, pending);
                }
                inner.deliver(route, item).await;
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

/// How long the first standalone `GET` may hold back later messages (see [`standalone`]).
const STREAM_OPENING: Duration = Duration::from_secs(1);

/// Keeps the standalone `GET` stream open, resuming after drops, until closed or refused.
///
/// The first `GET` holds back the messages sent after `notifications/initialized` (`gate`) until
/// its answer arrives, up to [`STREAM_OPENING`]: what the server sends on that stream right after
/// initialization then has somewhere to go, and a server never takes it for a reconnection.
async fn standalone(inner: Arc<Inner>, mut gate: Gate) {
    let mut cursor = Cursor::default();
    let mut failures = 0;
    while !inner.closed.is_cancelled() {
        let get = inner.get(cursor.last_event_id.as_deref());
        let answer = if gate.open.is_some() {
            tokio::pin!(get);
            let answer = tokio::select! {
                answer = &mut get => Some(answer),
                () = tokio::time::sleep(STREAM_OPENING) => None,
            };
            gate.open();
            match answer {
                Some(answer) => answer,
                None => get.await,
            }
        } else {
            get.await
        };
        match answer {
            Ok(resp) if resp.status == StatusCode::METHOD_NOT_ALLOWED => {
                tracing::debug!("the server offers no standalone GET stream");
                return;
            }
            Ok(resp) if resp.status == StatusCode::NOT_FOUND && inner.session().is_some() => {
                return inner.expired(Route::Standalone).await;
            }
            Ok(resp) if resp.status == StatusCode::CONFLICT || resp.status == StatusCode::NOT_FOUND => {
                tracing::debug!(status = %resp.status, "no standalone GET stream for this client");
                return;
            }
            Ok(resp) if resp.status.is_success() && resp.is_sse() => {
                if read_until_answered(&inner, Route::Standalone, resp, &mut cursor, None).await {
                    failures = 0;
                } else {
                    failures += 1;
                }
            }
            Ok(resp) => {
                tracing::debug!(status = %resp.status, "standalone GET refused");
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
