//! End to end: mcp-peer's Client calls the fixture server's tools through Redis, in both modes.

mod support;

use mcp_peer::Client;
use mcp_testkit::fixtures;
use mcp_testkit::services::RedisServer;
use mcp_transport_redis::{Mode, RedisBus};
use support::{config, within};

async fn echo_through_redis(mode: Mode) {
    let redis = RedisServer::start().await;
    let server_bus = RedisBus::open(config(&redis.url(), "everything", mode)).await.unwrap();
    let acceptor = server_bus.accept().await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        fixtures::everything()
            .serve_acceptor(acceptor, async move {
                let _ = stopped.await;
            })
            .await
    });

    let client_bus = RedisBus::open(config(&redis.url(), "everything", mode)).await.unwrap();
    for round in 0..3 {
        let transport = within("connect", client_bus.connect()).await.unwrap();
        let client = within("initialize", Client::connect(transport)).await.unwrap();
        for i in 0..10 {
            let message = format!("hello {round}-{i}");
            let result =
                within("tools/call echo", client.call_tool("echo", &serde_json::json!({ "message": message })))
                    .await
                    .unwrap();
            assert_eq!(result.content[0].as_text(), Some(format!("Echo: {message}").as_str()));
        }
        // 32 calls in flight at once on one session.
        let args: Vec<_> = (0..32).map(|i| serde_json::json!({ "message": format!("c{i}") })).collect();
        let calls = args.iter().map(|a| client.call_tool("echo", a));
        let results = within("32 concurrent calls", futures::future::join_all(calls)).await;
        for (i, result) in results.into_iter().enumerate() {
            assert_eq!(result.unwrap().content[0].as_text(), Some(format!("Echo: c{i}").as_str()));
        }
        let tools = within("tools/list", client.list_tools()).await.unwrap();
        assert!(tools.iter().any(|t| t.name == "echo"));
        within("close", client.close()).await.unwrap();
    }
    let _ = stop.send(());
    let served = within("the server to drain", server).await.unwrap();
    assert_eq!(served, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_client_calls_echo_through_redis_pubsub() {
    echo_through_redis(Mode::PubSub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_client_calls_echo_through_redis_durable() {
    echo_through_redis(Mode::Durable).await;
}
