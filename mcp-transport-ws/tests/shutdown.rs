//! Graceful shutdown: reads stop, in-flight work finishes, every connection closes with 1001.

mod support;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::Message;
use mcp_transport_ws::WsServerConfig;
use support::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test]
async fn shutdown_lets_in_flight_work_finish_then_closes_with_1001() {
    let mut listener = listener(WsServerConfig::default()).await;
    let url = listener.url();
    let mut client = raw_client(&url).await;
    let mut session = next_session(&mut listener).await;
    let mut idle_client = raw_client(&url).await;
    let mut idle_session = next_session(&mut listener).await;

    client.send(WsMessage::text(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#)).await.unwrap();
    let request = within("the request", session.transport.next()).await.unwrap().unwrap();

    let server = listener.server().clone();
    let shutdown = tokio::spawn(async move { server.shutdown(Duration::from_secs(10)).await });

    // Both sessions see their stream end: no new requests are read.
    assert!(within("the busy session's stream to end", session.transport.next()).await.is_none());
    assert!(within("the idle session's stream to end", idle_session.transport.next()).await.is_none());
    // The listener stopped accepting, and the acceptor ends.
    match raw_client_with(&url, |_| {}).await {
        Err(tokio_tungstenite::tungstenite::Error::Io(e)) => {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused)
        }
        other => panic!("expected the connection to be refused, got {:?}", other.map(|_| ())),
    }
    assert!(within("the acceptor to end", listener.next()).await.is_none());

    // The in-flight request completes, then the session closes its transport.
    let reply = Message::response(request.id().unwrap().clone(), &serde_json::json!({"content": []})).unwrap();
    session.transport.send(reply).await.unwrap();
    within("the close", session.transport.close()).await.unwrap();
    assert_eq!(next_json(&mut client).await["id"], 1);
    assert_eq!(u16::from(expect_close(&mut client).await.unwrap().code), 1001);

    // A session that is simply dropped still says 1001.
    drop(idle_session);
    assert_eq!(u16::from(expect_close(&mut idle_client).await.unwrap().code), 1001);
    drop(session);

    let left = within("shutdown to finish", shutdown).await.unwrap();
    assert_eq!(left, 0, "every connection was closed");
}

#[tokio::test]
async fn shutdown_reports_connections_still_open_after_the_grace_period() {
    let mut listener = listener(WsServerConfig::default()).await;
    let _client = raw_client(&listener.url()).await;
    let _session = next_session(&mut listener).await; // held, never closed
    let left = within("shutdown", listener.server().shutdown(Duration::from_millis(100))).await;
    assert_eq!(left, 1);
}
