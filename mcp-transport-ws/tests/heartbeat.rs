//! The heartbeat (with shortened intervals): a peer that stops answering is detected on both
//! sides; a live peer is kept.

mod support;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::TransportError;
use mcp_transport_ws::{WsClientConfig, WsConfig, WsServerConfig, connect};
use support::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

fn fast() -> WsConfig {
    WsConfig::default().with_heartbeat(Some(Duration::from_millis(100)), Duration::from_millis(200))
}

fn assert_heartbeat_timeout(item: Option<Result<mcp_core::Message, TransportError>>) {
    match item {
        Some(Err(TransportError::ConnectionLost(why))) => assert!(why.contains("no pong"), "{why}"),
        other => panic!("expected ConnectionLost after the pong timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn the_server_detects_a_client_that_stopped_answering() {
    let mut listener = listener(WsServerConfig::default().with_ws(fast())).await;
    // A client that completed the handshake and then never reads again (its process hangs,
    // or the network dropped it): pings reach its socket but are never answered.
    let client = raw_client(&listener.url()).await;
    let mut session = next_session(&mut listener).await;
    assert_heartbeat_timeout(within("the heartbeat to give up", session.transport.next()).await);
    assert!(session.transport.next().await.is_none());
    drop(client);
}

#[tokio::test]
async fn a_live_client_is_kept_across_many_ping_intervals() {
    let mut listener = listener(WsServerConfig::default().with_ws(fast())).await;
    let client = raw_client(&listener.url()).await;
    let mut session = next_session(&mut listener).await;
    let (mut client_tx, mut client_rx) = client.split();
    // The client reads (so its WebSocket layer answers pings) and counts them.
    let pings = tokio::spawn(async move {
        let mut pings = 0;
        while let Some(Ok(frame)) = client_rx.next().await {
            if matches!(frame, WsMessage::Ping(_)) {
                pings += 1;
                if pings == 5 {
                    return pings;
                }
            }
        }
        pings
    });
    let quiet = tokio::select! {
        item = session.transport.next() => panic!("the session must stay quiet while pings are answered, got {item:?}"),
        pings = within("five pings", pings) => pings.unwrap(),
    };
    assert_eq!(quiet, 5);
    client_tx.send(WsMessage::text(r#"{"jsonrpc":"2.0","method":"still/here"}"#)).await.unwrap();
    let got = within("the message after the pings", session.transport.next()).await.unwrap().unwrap();
    assert_eq!(got.method(), Some("still/here"));
}

#[tokio::test]
async fn the_client_detects_a_server_that_stopped_answering() {
    // A server that accepts the WebSocket and then hangs.
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/mcp", tcp.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (stream, _) = tcp.accept().await.unwrap();
        // tungstenite's callback signature returns a large `Err` type; nothing to do about it here.
        #[allow(clippy::result_large_err)]
        let select_mcp = |_: &Request, mut resp: Response| {
            resp.headers_mut().insert("sec-websocket-protocol", "mcp".parse().unwrap());
            Ok(resp)
        };
        let ws = tokio_tungstenite::accept_hdr_async(stream, select_mcp).await.unwrap();
        // Hold the socket open without ever reading it.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(ws);
    });
    let mut client = connect(&url, &WsClientConfig::default().with_ws(fast())).await.unwrap();
    assert_heartbeat_timeout(within("the client's heartbeat to give up", client.next()).await);
    server.abort();
}
