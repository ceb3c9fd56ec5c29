//! Both ends ours, end to end: mcp-peer's `Client` over our client transport, the testkit's
//! fixture `Server` serving our listener's sessions, and a graceful shutdown through it.

mod support;

use std::time::Duration;

use mcp_peer::Client;
use mcp_testkit::fixtures;
use mcp_transport_ws::{WsClientConfig, WsServerConfig, connect};
use serde_json::json;
use support::*;

#[tokio::test]
async fn peer_client_calls_the_fixture_server_over_websocket_and_shutdown_drains() {
    let listener = listener(WsServerConfig::default()).await;
    let url = listener.url();
    let ws = listener.server().clone();
    let serving =
        tokio::spawn(async move { fixtures::everything().serve_acceptor(listener, std::future::pending()).await });

    let client = Client::connect(connect(&url, &WsClientConfig::default()).await.unwrap()).await.unwrap();
    let tools = within("tools/list", client.list_tools()).await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"));
    let result = within("tools/call", client.call_tool("echo", &json!({"message": "over ws"}))).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("Echo: over ws"));

    // Sessions in parallel, each with its own server instance.
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(Client::connect(connect(&url, &WsClientConfig::default()).await.unwrap()).await.unwrap());
    }
    for (i, c) in clients.iter().enumerate() {
        let r = within("a parallel call", c.call_tool("echo", &json!({"message": i.to_string()}))).await.unwrap();
        assert_eq!(r.content[0].as_text(), Some(format!("Echo: {i}").as_str()));
    }

    // Shutdown: the server's sessions end and their connections close; the acceptor ends.
    assert_eq!(within("shutdown", ws.shutdown(Duration::from_secs(5))).await, 0);
    assert_eq!(within("serve_acceptor to return", serving).await.unwrap(), 9);
    let err = within("a call after shutdown", client.call_tool("echo", &json!({"message": "late"}))).await;
    assert!(err.is_err(), "the session is over: {err:?}");
}

#[tokio::test]
async fn a_non_json_text_frame_gets_minus_32700_from_the_server_and_the_session_goes_on() {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    let listener = listener(WsServerConfig::default()).await;
    let url = listener.url();
    tokio::spawn(async move { fixtures::everything().serve_acceptor(listener, std::future::pending()).await });
    let mut client = raw_client(&url).await;
    client.send(WsMessage::text("this is not JSON")).await.unwrap();
    let answer = next_json(&mut client).await;
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    assert_eq!(answer["id"], serde_json::Value::Null);
    // The connection and the session stay: a ping is answered.
    client.send(WsMessage::text(r#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#)).await.unwrap();
    let pong = next_json(&mut client).await;
    assert_eq!(pong, json!({"jsonrpc": "2.0", "id": 5, "result": {}}));
}
