//! A Redis restart mid-session: durable mode loses no message; pub/sub mode ends the session
//! with a clear error, never a hang, and new sessions work once Redis is back.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::{Message, TransportError};
use mcp_testkit::services::RedisServer;
use mcp_transport_redis::{Mode, RedisBus};
use support::{config, echo, fatal_error, request, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_loses_no_message_in_durable_mode() {
    durable_survives(false).await;
}

/// `appendfsync always` (the testkit's persistent server): even a crash loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_crash_loses_no_message_in_durable_mode() {
    durable_survives(true).await;
}

async fn durable_survives(crash: bool) {
    const TOTAL: i64 = 300;
    let mut redis = RedisServer::builder().persistent(true).start().await;
    let mut cfg = config(&redis.url(), "durable", Mode::Durable);
    // Room for the reconnect backoff of both ends after the restart.
    cfg.heartbeat_interval = Duration::from_millis(200);
    cfg.liveness_ttl = Duration::from_secs(3);
    let server = RedisBus::open(cfg.clone()).await.unwrap();
    let mut acceptor = server.accept().await.unwrap();
    let instance = server.instance_id().to_owned();
    tokio::spawn(async move {
        while let Some(session) = acceptor.next().await {
            tokio::spawn(echo(session, instance.clone()));
        }
    });
    let client_bus = RedisBus::open(cfg).await.unwrap();
    let client = within("connect", client_bus.connect()).await.unwrap();
    let (mut tx, mut rx) = client.split();

    // Requests keep flowing before, during and after the restart.
    let sender = tokio::spawn(async move {
        for i in 0..TOTAL {
            tx.send(request(i, serde_json::json!({ "i": i }))).await.expect("the durable sink accepts");
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        tx
    });
    let mut answered = BTreeSet::new();
    let mut restarted = false;
    while answered.len() < TOTAL as usize {
        let message = within("the next answer", rx.next()).await.expect("the stream goes on");
        let message =
            message.unwrap_or_else(|e| panic!("durable session failed after {} answers: {e}", answered.len()));
        let Message::Response(response) = message else { panic!("expected a response") };
        assert!(answered.insert(response.id.to_string()), "answer {} arrived twice", response.id);
        if answered.len() == 60 && !restarted {
            restarted = true;
            if crash {
                redis.kill();
            }
            redis.restart().await;
        }
    }
    assert!(restarted);
    assert_eq!(answered.len(), TOTAL as usize, "every request answered exactly once");
    let mut tx = within("the sender", sender).await.unwrap();
    within("close", tx.close()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_ends_pubsub_sessions_with_a_clear_error() {
    let mut redis = RedisServer::start().await;
    let cfg = config(&redis.url(), "pubsub", Mode::PubSub);
    let server = RedisBus::open(cfg.clone()).await.unwrap();
    let mut acceptor = server.accept().await.unwrap();
    let client_bus = RedisBus::open(cfg).await.unwrap();
    let mut client = within("connect", client_bus.connect()).await.unwrap();
    let mut server_side = within("the session", acceptor.next()).await.unwrap().transport;
    client.send(request(1, serde_json::json!({}))).await.unwrap();
    assert!(within("the request", server_side.next()).await.unwrap().is_ok());

    redis.restart().await;

    for (who, err) in [
        ("client", fatal_error(&mut client, "the client's error after the restart").await),
        ("server", {
            let item = within("the server's error after the restart", server_side.next()).await;
            item.expect("an error, not a clean end").expect_err("an error")
        }),
    ] {
        assert!(matches!(err, TransportError::ConnectionLost(_)), "{who}: {err}");
        let text = err.to_string();
        assert!(text.contains("at-most-once") && text.contains("open a new session"), "{who}: {text}");
    }
    assert!(client.send(request(2, serde_json::json!({}))).await.is_err());

    // The acceptor resubscribed by itself: a new session works.
    let mut again = within("a new session after the restart", async {
        loop {
            match client_bus.connect().await {
                Ok(t) => return t,
                Err(e) => {
                    tracing::debug!(error = %e, "not yet");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    })
    .await;
    let mut server_again = within("the new session", acceptor.next()).await.unwrap().transport;
    again.send(request(3, serde_json::json!({}))).await.unwrap();
    let got = within("the request on the new session", server_again.next()).await.unwrap().unwrap();
    assert_eq!(got.id().unwrap().to_string(), "3");
}

/// Durable mode on a Redis without persistence: a restart loses the streams, and the sessions
/// end with an error saying so instead of hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_sessions_on_a_redis_without_persistence_fail_clearly_after_a_restart() {
    let mut redis = RedisServer::start().await;
    let cfg = config(&redis.url(), "volatile", Mode::Durable);
    let server = RedisBus::open(cfg.clone()).await.unwrap();
    let mut acceptor = server.accept().await.unwrap();
    let client_bus = RedisBus::open(cfg).await.unwrap();
    let mut client = within("connect", client_bus.connect()).await.unwrap();
    let mut server_side = within("the session", acceptor.next()).await.unwrap().transport;
    client.send(request(1, serde_json::json!({}))).await.unwrap();
    assert!(within("the request", server_side.next()).await.unwrap().is_ok());

    redis.restart().await;

    let err = fatal_error(&mut client, "the client's error after the state was lost").await;
    let text = err.to_string();
    assert!(text.contains("gone") || text.contains("stopped heartbeating"), "{text}");
    let item = within("the server's error after the state was lost", server_side.next()).await;
    let err = item.expect("an error, not a clean end").expect_err("an error");
    assert!(err.is_fatal(), "{err}");
}
