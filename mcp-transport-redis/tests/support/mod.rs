//! Shared by the integration tests: fast configurations, an echo server, server instances that
//! run on their own runtime so that a test can kill one as a crash would.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::{IncomingSession, Message, TransportError};
use mcp_transport_redis::{Mode, RedisAcceptor, RedisBus, RedisConfig, RedisTransport};

/// Every wait in the tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(20);

/// Awaits `fut` at most [`WAIT`], panicking with `what` was awaited.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut).await.unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"))
}

/// A configuration for `service` on the test's Redis with short heartbeats.
pub fn config(redis_url: &str, service: &str, mode: Mode) -> RedisConfig {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut config = RedisConfig::from_url(&format!("{}{service}", redis_url)).expect("a valid URL");
    config.mode = mode;
    config.heartbeat_interval = Duration::from_millis(100);
    config.liveness_ttl = Duration::from_millis(400);
    config.accept_timeout = Duration::from_secs(5);
    config.outage_timeout = Duration::from_secs(20);
    config
}

pub fn request(id: i64, params: serde_json::Value) -> Message {
    Message::request(id, "echo", &params).expect("serializable")
}

/// The response's result as JSON.
pub fn result_of(message: &Message) -> serde_json::Value {
    match message {
        Message::Response(r) => r.result.to_value(),
        other => panic!("expected a response, got {other}"),
    }
}

/// Answers every request of one session with `{"instance": .., "params": ..}` until it ends.
pub async fn echo(session: IncomingSession, instance: String) {
    let mut transport = session.transport;
    while let Some(item) = transport.next().await {
        let reply = match item {
            Ok(Message::Request(req)) => {
                let params = req.params.as_ref().map(|p| p.to_value()).unwrap_or_default();
                Message::response(req.id, &serde_json::json!({ "instance": instance, "params": params }))
                    .expect("serializable")
            }
            Ok(_) => continue,
            Err(e) => match e.error_response() {
                Some(reply) => reply,
                None => break,
            },
        };
        if transport.send(reply).await.is_err() {
            break;
        }
    }
}

/// Serves `acceptor` with [`echo`], recording each session id taken.
pub async fn serve(mut acceptor: RedisAcceptor, instance: String, taken: Arc<Mutex<Vec<String>>>) {
    while let Some(session) = acceptor.next().await {
        taken.lock().unwrap().push(session.info.session_id.clone().expect("a session id"));
        tokio::spawn(echo(session, instance.clone()));
    }
}

/// A server instance on its own runtime: [`Instance::kill`] stops it as abruptly as a crash
/// (its tasks vanish, nothing is closed cleanly).
pub struct Instance {
    runtime: Option<tokio::runtime::Runtime>,
    pub id: String,
    pub taken: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    pub fn start(config: RedisConfig) -> Self {
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            let taken = Arc::new(Mutex::new(Vec::new()));
            let id = runtime.block_on(async {
                let bus = RedisBus::open(config).await.expect("the server bus opens");
                let acceptor = bus.accept().await.expect("the acceptor starts");
                let id = bus.instance_id().to_owned();
                tokio::spawn(serve(acceptor, id.clone(), taken.clone()));
                id
            });
            Self { runtime: Some(runtime), id, taken }
        })
        .join()
        .expect("the instance starts")
    }

    pub fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends `count` requests at once on `client`, then checks every answer: its id, that it
/// carries this client's `tag`, and that it came from the instance that took the session.
/// Returns the instance that answered.
pub async fn exchange(client: &mut RedisTransport, tag: &str, count: i64) -> String {
    for i in 0..count {
        within("sending a request", client.send(request(i, serde_json::json!({ "tag": tag, "i": i }))))
            .await
            .expect("send");
    }
    let mut answered = HashMap::new();
    while answered.len() < count as usize {
        let message = within("a response", client.next()).await.expect("the stream goes on").expect("a message");
        let result = result_of(&message);
        assert_eq!(result["params"]["tag"], tag, "an answer reached the wrong client: {result}");
        let id = message.id().cloned().expect("an id");
        assert_eq!(result["params"]["i"], serde_json::json!(id), "answer and request ids differ");
        assert_eq!(result["instance"], client.instance(), "answered by an instance that does not own the session");
        assert!(answered.insert(id.to_string(), ()).is_none(), "duplicate answer {id}");
    }
    client.instance().to_owned()
}

/// Waits for the fatal error that ends `transport`'s stream, skipping messages; panics on a
/// clean end.
pub async fn fatal_error(transport: &mut RedisTransport, what: &str) -> TransportError {
    within(what, async {
        loop {
            match transport.next().await {
                Some(Ok(_)) => continue,
                Some(Err(e)) if e.is_fatal() => return e,
                Some(Err(e)) => panic!("unexpected non-fatal error while waiting for {what}: {e}"),
                None => panic!("the stream ended cleanly while waiting for {what}"),
            }
        }
    })
    .await
}
