//! Durable mode delivers from pub/sub doorbells and falls back to the streams: messages sent
//! while the receiving process's subscription is down are read from the stream once it is
//! back, each exactly once and in order, and the doorbells that do arrive are not delivered a
//! second time.

mod support;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::Message;
use mcp_testkit::services::RedisServer;
use mcp_transport_redis::{Mode, RedisBus};
use support::{config, request, within};

/// Receives `count` messages on `transport` and returns their ids.
async fn receive(transport: &mut (impl mcp_core::Transport + Unpin), count: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let message = within("the next message", transport.next()).await.expect("the stream goes on");
        let message = message.unwrap_or_else(|e| panic!("the session failed after {} messages: {e}", ids.len()));
        let Message::Request(request) = message else { panic!("expected a request, got {message}") };
        ids.push(request.id.to_string().parse().expect("a numeric id"));
    }
    ids
}

async fn admin(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(redis.url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

async fn run(admin: &mut redis::aio::MultiplexedConnection, args: &[&str]) {
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.exec_async(admin).await.unwrap_or_else(|e| panic!("{args:?}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_sent_while_the_subscription_is_down_arrive_once_in_order() {
    let redis = RedisServer::start().await;
    let mut admin = admin(&redis).await;
    let mut cfg = config(&redis.url(), "recovery", Mode::Durable);
    // Heartbeats too slow to notice anything within the test: the resubscription alone must
    // send the reader to the stream.
    cfg.heartbeat_interval = Duration::from_secs(10);
    cfg.liveness_ttl = Duration::from_secs(30);
    let server_bus = RedisBus::open(cfg.clone()).await.unwrap();
    let mut acceptor = server_bus.accept().await.unwrap();
    let client_bus = RedisBus::open(cfg).await.unwrap();
    let mut client = within("connect", client_bus.connect()).await.unwrap();
    let mut server = within("the session", acceptor.next()).await.unwrap().transport;

    for i in 0..20 {
        client.feed(request(i, serde_json::json!({}))).await.unwrap();
    }
    client.flush().await.unwrap();
    assert_eq!(receive(&mut server, 20).await, (0..20).collect::<Vec<_>>());

    // Every subscription connection drops and cannot come back while Redis asks for a password
    // (connections already open stay authenticated): doorbells published now reach nobody.
    run(&mut admin, &["CONFIG", "SET", "requirepass", "let-me-in"]).await;
    run(&mut admin, &["CLIENT", "KILL", "TYPE", "pubsub"]).await;
    for i in 20..50 {
        client.feed(request(i, serde_json::json!({}))).await.unwrap();
    }
    client.flush().await.unwrap();
    // The messages are in the stream, their doorbells lost.
    let stream = format!("mcp:recovery:session:{}:to-server", client.session_id());
    within("the messages in the stream", async {
        loop {
            let len: i64 = redis::cmd("XLEN").arg(&stream).query_async(&mut admin).await.unwrap();
            if len >= 30 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    run(&mut admin, &["CONFIG", "SET", "requirepass", ""]).await;

    // Once resubscribed, the server reads the missed messages from the stream; later ones come
    // by doorbell again.
    for i in 50..70 {
        client.feed(request(i, serde_json::json!({}))).await.unwrap();
    }
    client.flush().await.unwrap();
    assert_eq!(receive(&mut server, 50).await, (20..70).collect::<Vec<_>>());

    // The other direction works after the disruption too.
    server.send(Message::response(99.into(), &serde_json::json!({})).unwrap()).await.unwrap();
    let answer = within("the answer", client.next()).await.unwrap().unwrap();
    assert_eq!(answer.id().unwrap().to_string(), "99");

    // Nothing is delivered twice: the close frame is the next thing the server sees.
    within("close", client.close()).await.unwrap();
    assert!(within("the end of the server's stream", server.next()).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_larger_than_a_doorbell_are_read_from_the_stream_and_full_doorbells_split() {
    let redis = RedisServer::start().await;
    let cfg = config(&redis.url(), "large", Mode::Durable);
    let server_bus = RedisBus::open(cfg.clone()).await.unwrap();
    let mut acceptor = server_bus.accept().await.unwrap();
    let client_bus = RedisBus::open(cfg).await.unwrap();
    let mut client = within("connect", client_bus.connect()).await.unwrap();
    let mut server = within("the session", acceptor.next()).await.unwrap().transport;

    // Over the doorbell limit (read from the stream), and medium ones that fill several
    // doorbells of one batch, among small ones.
    let big = "x".repeat(200 * 1024);
    let medium = "y".repeat(10 * 1024);
    for i in 0..60 {
        let params = match i % 3 {
            0 if i % 9 == 0 => serde_json::json!({ "big": big }),
            1 => serde_json::json!({ "medium": medium }),
            _ => serde_json::json!({}),
        };
        client.feed(request(i, params)).await.unwrap();
    }
    client.flush().await.unwrap();
    assert_eq!(receive(&mut server, 60).await, (0..60).collect::<Vec<_>>());
    within("close", client.close()).await.unwrap();
    assert!(within("the end of the server's stream", server.next()).await.is_none());
}
