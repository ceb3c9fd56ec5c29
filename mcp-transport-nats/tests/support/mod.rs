//! Shared by the integration tests: bounded waits and server instances in their own "process".

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::{IncomingSession, Message};
use mcp_transport_nats::{Heartbeat, NatsAcceptor, NatsServerConfig};
use serde_json::json;

/// The bound on every wait of these tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// A heartbeat fast enough for tests: every 100 ms. A vanished peer ("no responders") is
/// noticed at the next ping; 20 misses (2 s) keep a loaded CI machine from faking a death.
pub fn fast_heartbeat() -> Heartbeat {
    Heartbeat::new(Duration::from_millis(100), 20)
}

/// Awaits `fut` for at most [`WAIT`], panicking with `what` was awaited.
pub async fn within<T>(what: impl std::fmt::Display, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// Connects to the NATS server at `url`.
pub async fn nats(url: &str) -> async_nats::Client {
    within(format!("a NATS connection to {url}"), Box::pin(async_nats::connect(url)))
        .await
        .expect("connect to nats-server")
}

/// Serves one session: answers `echo` with who served it, `big` with `params.size` bytes of
/// text; ends when the session does.
pub async fn serve_echo(session: IncomingSession, instance: String) {
    let id = session.info.session_id.clone().unwrap_or_default();
    let principal = session.info.principal.as_ref().map(|p| p.id.clone());
    let mut transport = session.transport;
    while let Some(item) = transport.next().await {
        let answer = match item {
            Ok(Message::Request(req)) if req.method == "big" => {
                let params = req.params.map(|p| p.to_value()).unwrap_or_default();
                let size = params["size"].as_u64().unwrap_or(0) as usize;
                Message::response(req.id, &json!({ "text": "x".repeat(size) })).unwrap()
            }
            Ok(Message::Request(req)) => {
                let params = req.params.map(|p| p.to_value()).unwrap_or_default();
                Message::response(
                    req.id,
                    &json!({ "instance": instance, "session": id, "principal": principal, "params": params }),
                )
                .unwrap()
            }
            Ok(_) => continue,
            Err(e) if e.is_fatal() => break,
            Err(e) => match e.error_response() {
                Some(answer) => answer,
                None => continue,
            },
        };
        if let Err(e) = transport.send(answer).await
            && e.is_fatal()
        {
            break;
        }
    }
}

/// Runs `acceptor`, serving every session with [`serve_echo`] and counting them.
pub async fn run_acceptor(mut acceptor: NatsAcceptor, name: String, sessions: Arc<AtomicUsize>) {
    while let Some(session) = acceptor.next().await {
        sessions.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(serve_echo(session, name.clone()));
    }
}

/// A server instance as its own process would be: its own runtime thread and NATS connection.
/// [`Instance::kill`] drops the runtime, so its connection and sessions vanish without a goodbye.
pub struct Instance {
    pub name: String,
    pub sessions: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Instance {
    pub async fn start(url: &str, name: &str, config: NatsServerConfig) -> Self {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let sessions = Arc::new(AtomicUsize::new(0));
        let (url, name_owned, counter) = (url.to_owned(), name.to_owned(), sessions.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let client = nats(&url).await;
                let acceptor = NatsAcceptor::bind(client, config).await.expect("bind");
                let serving = tokio::spawn(run_acceptor(acceptor, name_owned, counter));
                ready_tx.send(()).unwrap();
                let _ = stop_rx.await;
                serving.abort();
            });
            // Dropping the runtime drops every task and the NATS connection: a crash.
            drop(rt);
        });
        within(format!("instance {name} to bind"), ready_rx).await.expect("instance thread started");
        Self { name: name.to_owned(), sessions, stop: Some(stop_tx), thread: Some(thread) }
    }

    pub fn session_count(&self) -> usize {
        self.sessions.load(Ordering::Relaxed)
    }

    /// Kills the instance abruptly (its runtime is dropped: no close messages are sent).
    pub fn kill(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("instance thread");
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Sends request `id` with `params` and returns the answer, skipping nothing.
pub async fn call(t: &mut mcp_transport_nats::NatsTransport, id: i64, params: serde_json::Value) -> Message {
    within(format!("sending request {id}"), t.send(Message::request(id, "echo", &params).unwrap()))
        .await
        .expect("send");
    match within(format!("the answer to request {id}"), t.next()).await {
        Some(Ok(m)) => m,
        other => panic!("expected the answer to request {id}, got {other:?}"),
    }
}

/// The `result` of a response, as JSON.
pub fn result_of(m: &Message) -> serde_json::Value {
    match m {
        Message::Response(r) => r.result.to_value(),
        other => panic!("expected a response, got {other}"),
    }
}
