//! The reconnecting client: pending requests fail with a clear error, a new session is
//! initialized as the first one was, and it gives up after the configured attempts.

mod support;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::{Message, TransportError};
use mcp_transport_ws::{CONNECTION_LOST, Reconnect, WsClientConfig, WsServerConfig, connect_reconnecting};
use serde_json::json;
use support::*;

fn policy() -> Reconnect {
    let mut policy = Reconnect::default();
    policy.initial_backoff = Duration::from_millis(10);
    policy.max_attempts = Some(3);
    policy
}

#[tokio::test]
async fn a_lost_connection_fails_pending_requests_and_starts_a_new_initialized_session() {
    let mut listener = listener(WsServerConfig::default()).await;
    let mut client = connect_reconnecting(&listener.url(), WsClientConfig::default(), policy()).await.unwrap();

    // The first session: initialize, initialized, then a request that never gets its answer.
    let init_params =
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    client.send(Message::request(1, "initialize", &init_params).unwrap()).await.unwrap();
    let mut first = next_session(&mut listener).await;
    let init = within("initialize", first.transport.next()).await.unwrap().unwrap();
    first
        .transport
        .send(Message::response(init.id().unwrap().clone(), &json!({"protocolVersion": "2025-06-18"})).unwrap())
        .await
        .unwrap();
    assert_eq!(within("the initialize response", client.next()).await.unwrap().unwrap().id(), init.id());
    client.send(Message::notification("notifications/initialized", &json!({})).unwrap()).await.unwrap();
    client.send(Message::request(2, "tools/call", &json!({"name": "slow"})).unwrap()).await.unwrap();
    let initialized = within("initialized", first.transport.next()).await.unwrap().unwrap();
    assert_eq!(initialized.method(), Some("notifications/initialized"));
    let call = within("the call", first.transport.next()).await.unwrap().unwrap();
    assert_eq!(call.method(), Some("tools/call"));

    // The server goes away with the call in flight.
    drop(first);
    match within("the pending call's error", client.next()).await.unwrap().unwrap() {
        Message::Error(e) => {
            assert_eq!(e.id, Some(2.into()));
            assert_eq!(e.error.code, CONNECTION_LOST);
            assert!(e.error.message.contains("whether the server ran the request is unknown"), "{}", e.error.message);
        }
        other => panic!("expected an error response for request 2, got {other}"),
    }

    // The new session is initialized with the same parameters before anything else.
    let mut second = next_session(&mut listener).await;
    let replayed = within("the replayed initialize", second.transport.next()).await.unwrap().unwrap();
    let Message::Request(replayed) = replayed else { panic!("expected initialize, got {replayed}") };
    assert_eq!(replayed.method, "initialize");
    assert_eq!(replayed.params.unwrap().to_value(), init_params);
    client.send(Message::request(3, "tools/list", &json!({})).unwrap()).await.unwrap();
    second
        .transport
        .send(Message::response(replayed.id, &json!({"protocolVersion": "2025-06-18"})).unwrap())
        .await
        .unwrap();
    let initialized = within("the replayed initialized", second.transport.next()).await.unwrap().unwrap();
    assert_eq!(initialized.method(), Some("notifications/initialized"));
    let list = within("the new request", second.transport.next()).await.unwrap().unwrap();
    assert_eq!(list.id(), Some(&3.into()));
    second.transport.send(Message::response(3.into(), &json!({"tools": []})).unwrap()).await.unwrap();
    // The replayed initialize's response is not delivered: the next item answers request 3.
    let answer = within("the answer to request 3", client.next()).await.unwrap().unwrap();
    assert_eq!(answer.id(), Some(&3.into()), "{answer}");

    // With the server gone for good, it gives up after the configured attempts.
    drop(second);
    drop(listener);
    match within("giving up", client.next()).await {
        Some(Err(TransportError::ConnectionLost(why))) => assert!(why.contains("after 3 attempts"), "{why}"),
        other => panic!("expected the reconnect to give up, got {other:?}"),
    }
}
