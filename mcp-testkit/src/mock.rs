//! A scripted transport: hand [`MockTransport`] to the code under test and play its peer with
//! the [`Handle`].
//!
//! The handle sees every message the code sends ([`Handle::next_sent`],
//! [`assert_sent_request!`](crate::assert_sent_request)), makes the code receive messages and
//! errors ([`Handle::push_incoming`], [`Handle::push_error`]), scripts backpressure
//! ([`Handle::allow`]) and send failures ([`Handle::fail_next`]), and ends the connection
//! ([`Handle::close`]). To test a client, [`Handle::complete_handshake`] plays the server's
//! side of `initialize`. Every wait times out after 10 s ([`Handle::set_timeout`]) with a
//! message naming what it waited for.
//!
//! ```
//! use futures::{SinkExt, StreamExt};
//! use mcp_core::Message;
//! use mcp_testkit::assert_sent_request;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (mut transport, mut handle) = mcp_testkit::mock::pair();
//! // The code under test sends a request...
//! transport.send(Message::request(1, "tools/call", &serde_json::json!({ "name": "echo" })).unwrap()).await.unwrap();
//! // ...the test checks it and answers.
//! let call = assert_sent_request!(handle, "tools/call", serde_json::json!({ "name": "echo" }));
//! call.respond(&serde_json::json!({ "content": [] }));
//! let Some(Ok(Message::Response(response))) = transport.next().await else { panic!("a response") };
//! assert_eq!(response.id, 1.into());
//! # }
//! ```

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::channel::mpsc;
use futures::{Sink, Stream, StreamExt};
use mcp_core::jsonrpc::{Notification, Request};
use mcp_core::{ErrorObject, Message, RequestId, TransportError};
use serde::Serialize;

/// How many messages each direction holds before the writer waits (the code under test) or
/// panics (the handle: a test that pushes this much without the code reading is stuck).
pub const QUEUE_CAPACITY: usize = 1024;

/// The server name [`Handle::complete_handshake`] answers with.
pub const MOCK_SERVER_NAME: &str = "mcp-testkit-mock";

/// The default bound on every wait of a [`Handle`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A mock transport and the handle that scripts it.
pub fn pair() -> (MockTransport, Handle) {
    let (sent_tx, sent_rx) = mpsc::channel(QUEUE_CAPACITY);
    let (incoming_tx, incoming_rx) = mpsc::channel(QUEUE_CAPACITY);
    let script = Arc::new(Mutex::new(Script::default()));
    (
        MockTransport { sent: sent_tx, incoming: incoming_rx, script: script.clone() },
        Handle { sent: sent_rx, incoming: incoming_tx, script, timeout: DEFAULT_TIMEOUT },
    )
}

/// What the handle scripted for the transport's sink.
#[derive(Default)]
struct Script {
    /// How many more sends are ready; `None`: as many as the queue takes.
    allowance: Option<usize>,
    /// The error the next `poll_ready` returns.
    fail_next: Option<TransportError>,
    /// The sink's task, waiting for an allowance.
    waiting: Option<Waker>,
}

fn lock(script: &Mutex<Script>) -> MutexGuard<'_, Script> {
    // A panic while holding this lock leaves the script consistent: recover it.
    script.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

// ===== MockTransport =====

/// The transport the code under test uses; see the [module docs](self).
#[derive(Debug)]
pub struct MockTransport {
    sent: mpsc::Sender<Message>,
    incoming: mpsc::Receiver<Result<Message, TransportError>>,
    script: Arc<Mutex<Script>>,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script").field("allowance", &self.allowance).field("fail_next", &self.fail_next).finish()
    }
}

impl Sink<Message> for MockTransport {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        {
            let mut script = lock(&self.script);
            if let Some(error) = script.fail_next.take() {
                return Poll::Ready(Err(error));
            }
            if script.allowance == Some(0) {
                script.waiting = Some(cx.waker().clone());
                return Poll::Pending;
            }
        }
        self.sent.poll_ready(cx).map_err(|_| TransportError::Closed)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        if let Some(n) = lock(&self.script).allowance.as_mut() {
            *n = n.saturating_sub(1);
        }
        self.sent.start_send(item).map_err(|_| TransportError::Closed)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.sent.close_channel();
        Poll::Ready(Ok(()))
    }
}

impl Stream for MockTransport {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.incoming.poll_next_unpin(cx)
    }
}

// ===== Handle =====

/// Scripts a [`MockTransport`]: plays the peer of the code under test.
///
/// # Panics
/// The waiting methods panic after the timeout (10 s by default) naming what they waited
/// for, and when the transport ended in a way the test did not expect.
#[derive(Debug)]
pub struct Handle {
    sent: mpsc::Receiver<Message>,
    incoming: mpsc::Sender<Result<Message, TransportError>>,
    script: Arc<Mutex<Script>>,
    timeout: Duration,
}

impl Handle {
    /// Bounds every later wait by `timeout`.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The next message the code under test sent.
    ///
    /// # Panics
    /// After the timeout, or when the transport's sink was closed with nothing more sent.
    ///
    /// # Cancel safety
    /// Cancel-safe: a message is taken only when the future completes.
    pub async fn next_sent(&mut self) -> Message {
        self.next_sent_for("a message").await
    }

    async fn next_sent_for(&mut self, what: &str) -> Message {
        match tokio::time::timeout(self.timeout, self.sent.next()).await {
            Ok(Some(message)) => message,
            Ok(None) => panic!("mock: waiting for {what}, but the transport under test was closed or dropped"),
            Err(_) => panic!("mock: timed out after {:?} waiting for the code under test to send {what}", self.timeout),
        }
    }

    /// The next sent message if there is one already, without waiting.
    pub fn try_next_sent(&mut self) -> Option<Message> {
        self.sent.try_recv().ok()
    }

    /// Waits for the next sent message, which must be a request for `method`.
    ///
    /// # Panics
    /// When it is another message, and as [`next_sent`](Self::next_sent).
    pub async fn expect_request(&mut self, method: &str) -> SentRequest {
        let what = format!("a `{method}` request");
        match self.next_sent_for(&what).await {
            Message::Request(request) if request.method == method => {
                SentRequest { request, reply: self.incoming.clone() }
            }
            other => panic!("mock: expected {what}, the code under test sent {other}"),
        }
    }

    /// Waits for the next sent message, which must be a notification for `method`.
    ///
    /// # Panics
    /// When it is another message, and as [`next_sent`](Self::next_sent).
    pub async fn expect_notification(&mut self, method: &str) -> Notification {
        let what = format!("a `{method}` notification");
        match self.next_sent_for(&what).await {
            Message::Notification(notification) if notification.method == method => notification,
            other => panic!("mock: expected {what}, the code under test sent {other}"),
        }
    }

    /// Plays a server's side of the `initialize` handshake for a client under test: waits for
    /// `initialize`, answers with the client's protocol version, `tools`, `resources`,
    /// `prompts` and `logging` capabilities and the server name [`MOCK_SERVER_NAME`], then waits
    /// for `notifications/initialized`. Returns the client's `initialize` params.
    ///
    /// # Panics
    /// When the client sends something else, and as [`next_sent`](Self::next_sent).
    pub async fn complete_handshake(&mut self) -> serde_json::Value {
        let initialize = self.expect_request("initialize").await;
        let params = initialize.params();
        let version = params.get("protocolVersion").cloned().unwrap_or_else(|| "2025-11-25".into());
        initialize.respond(&serde_json::json!({
            "protocolVersion": version,
            "capabilities": { "tools": {}, "resources": {}, "prompts": {}, "logging": {} },
            "serverInfo": { "name": MOCK_SERVER_NAME, "version": env!("CARGO_PKG_VERSION") },
        }));
        self.expect_notification("notifications/initialized").await;
        params
    }

    /// Waits for the next sent message, which must be a success response to `id`; returns
    /// its result.
    ///
    /// # Panics
    /// When it is another message, and as [`next_sent`](Self::next_sent).
    pub async fn expect_response(&mut self, id: impl Into<RequestId>) -> serde_json::Value {
        let id = id.into();
        let what = format!("the response to request {id}");
        match self.next_sent_for(&what).await {
            Message::Response(response) if response.id == id => response.result.to_value(),
            other => panic!("mock: expected {what}, the code under test sent {other}"),
        }
    }

    /// Waits for the next sent message, which must be an error response to `id` (`None`: with
    /// a null id, as for a parse error); returns the error.
    ///
    /// # Panics
    /// When it is another message, and as [`next_sent`](Self::next_sent).
    pub async fn expect_error(&mut self, id: Option<RequestId>) -> ErrorObject {
        let what = match &id {
            Some(id) => format!("an error response to request {id}"),
            None => "an error response with a null id".to_owned(),
        };
        match self.next_sent_for(&what).await {
            Message::Error(error) if error.id == id => error.error,
            other => panic!("mock: expected {what}, the code under test sent {other}"),
        }
    }

    /// Waits until the code under test closes (or drops) the transport's sink.
    ///
    /// # Panics
    /// When a message comes instead, or after the timeout.
    pub async fn expect_closed(&mut self) {
        match tokio::time::timeout(self.timeout, self.sent.next()).await {
            Ok(None) => {}
            Ok(Some(message)) => {
                panic!("mock: expected the transport to be closed, the code under test sent {message}")
            }
            Err(_) => panic!(
                "mock: timed out after {:?} waiting for the code under test to close the transport",
                self.timeout
            ),
        }
    }

    /// Makes the code under test receive `message`.
    ///
    /// # Panics
    /// When the transport was dropped, or [`QUEUE_CAPACITY`] messages wait unread.
    pub fn push_incoming(&self, message: Message) {
        self.push(Ok(message));
    }

    /// Makes the code under test receive an error item (a malformed frame, a lost connection).
    /// After a fatal error, also [`close`](Self::close) to end the stream as a real transport does.
    ///
    /// # Panics
    /// As [`push_incoming`](Self::push_incoming).
    pub fn push_error(&self, error: TransportError) {
        self.push(Err(error));
    }

    fn push(&self, item: Result<Message, TransportError>) {
        if let Err(e) = self.incoming.clone().try_send(item) {
            if e.is_full() {
                panic!("mock: {QUEUE_CAPACITY} messages wait unread: the code under test does not read its transport");
            }
            panic!("mock: cannot deliver: the transport under test was dropped or the handle closed it");
        }
    }

    /// Lets `n` more sends through, then makes `poll_ready` pending (backpressure) until the
    /// next `allow`.
    pub fn allow(&self, n: usize) {
        let mut script = lock(&self.script);
        script.allowance = Some(n);
        if let Some(waker) = script.waiting.take() {
            waker.wake();
        }
    }

    /// Removes the limit set by [`allow`](Self::allow).
    pub fn allow_all(&self) {
        let mut script = lock(&self.script);
        script.allowance = None;
        if let Some(waker) = script.waiting.take() {
            waker.wake();
        }
    }

    /// Makes the next send (its `poll_ready`) fail with `error`.
    pub fn fail_next(&self, error: TransportError) {
        let mut script = lock(&self.script);
        script.fail_next = Some(error);
        if let Some(waker) = script.waiting.take() {
            waker.wake();
        }
    }

    /// Ends the transport's stream (`None`: the peer closed). Sending keeps working.
    pub fn close(&mut self) {
        self.incoming.close_channel();
    }
}

// ===== SentRequest =====

/// A request the code under test sent, to answer with [`respond`](Self::respond) or
/// [`respond_error`](Self::respond_error).
#[derive(Debug)]
pub struct SentRequest {
    /// The request as sent.
    pub request: Request,
    reply: mpsc::Sender<Result<Message, TransportError>>,
}

impl SentRequest {
    /// The params as JSON (`{}` when absent).
    pub fn params(&self) -> serde_json::Value {
        self.request.parse_params().unwrap_or_else(|_| serde_json::json!({}))
    }

    /// Answers with a success response carrying `result`.
    ///
    /// # Panics
    /// When `result` does not serialize, or the transport is gone.
    pub fn respond<R: Serialize + ?Sized>(self, result: &R) {
        let response = Message::response(self.request.id.clone(), result)
            .unwrap_or_else(|e| panic!("mock: the result for `{}` does not serialize: {e}", self.request.method));
        self.deliver(response);
    }

    /// Answers with an error response.
    ///
    /// # Panics
    /// When the transport is gone.
    pub fn respond_error(self, error: ErrorObject) {
        let response = Message::error(Some(self.request.id.clone()), error);
        self.deliver(response);
    }

    fn deliver(mut self, message: Message) {
        if self.reply.try_send(Ok(message)).is_err() {
            panic!(
                "mock: cannot answer `{}`: the transport under test was dropped or its queue is full",
                self.request.method
            );
        }
    }
}

// ===== assertion macros =====

/// Waits for the code under test to send a request for `method` (and, given, with exactly
/// these params) and returns a [`SentRequest`](crate::mock::SentRequest) to answer it.
///
/// `assert_sent_request!(handle, "tools/call")` or
/// `assert_sent_request!(handle, "tools/call", json!({ "name": "echo", "arguments": {} }))`;
/// use inside an async function. Times out like [`Handle::next_sent`].
#[macro_export]
macro_rules! assert_sent_request {
    ($handle:expr, $method:expr $(,)?) => {
        $handle.expect_request($method).await
    };
    ($handle:expr, $method:expr, $params:expr $(,)?) => {{
        let sent = $handle.expect_request($method).await;
        let want: $crate::__serde_json::Value = $params;
        assert_eq!(sent.params(), want, "mock: the params of the `{}` request", $method);
        sent
    }};
}

/// Waits for the code under test to send a notification for `method` (and, given, with
/// exactly these params) and returns it.
///
/// `assert_sent_notification!(handle, "notifications/initialized")`; use inside an async
/// function. Times out like [`Handle::next_sent`].
#[macro_export]
macro_rules! assert_sent_notification {
    ($handle:expr, $method:expr $(,)?) => {
        $handle.expect_notification($method).await
    };
    ($handle:expr, $method:expr, $params:expr $(,)?) => {{
        let sent = $handle.expect_notification($method).await;
        let want: $crate::__serde_json::Value = $params;
        let got: $crate::__serde_json::Value = sent.parse_params().unwrap_or_default();
        assert_eq!(got, want, "mock: the params of the `{}` notification", $method);
        sent
    }};
}
