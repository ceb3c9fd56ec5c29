//! Frames on a real loopback connection: one message per text frame, the `mcp` subprotocol,
//! non-JSON text is a non-fatal item, binary closes with 1003, oversized closes with 1009.

mod support;

use futures::{SinkExt, StreamExt};
use mcp_core::{Message, TransportError};
use mcp_transport_ws::{WsCloseReason, WsConfig, WsServerConfig};
use support::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn close_reason(err: &TransportError) -> &WsCloseReason {
    match err {
        TransportError::Other { fatal: true, source } => {
            source.downcast_ref::<WsCloseReason>().unwrap_or_else(|| panic!("not a close reason: {err}"))
        }
        other => panic!("expected a fatal close reason, got {other:?}"),
    }
}

#[tokio::test]
async fn round_trip_with_the_mcp_subprotocol_selected() {
    let mut listener = listener(WsServerConfig::default()).await;
    let (mut client, response) = raw_client_with(&listener.url(), |req| {
        req.headers_mut().insert("sec-websocket-protocol", "foo, mcp".parse().unwrap());
    })
    .await
    .unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "mcp");
    let mut session = next_session(&mut listener).await;
    assert_eq!(session.info.transport, "ws");
    assert_eq!(session.info.remote_addr, Some(client.get_ref().get_ref().local_addr().unwrap()));
    assert_eq!(session.info.principal.as_ref().unwrap().id, "anonymous");

    client.send(WsMessage::text(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)).await.unwrap();
    let got = within("the request", session.transport.next()).await.unwrap().unwrap();
    assert_eq!(got.method(), Some("tools/list"));

    let reply = Message::response(1.into(), &serde_json::json!({"tools": []})).unwrap();
    session.transport.send(reply).await.unwrap();
    let json = next_json(&mut client).await;
    assert_eq!(json, serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}));
}

#[tokio::test]
async fn no_subprotocol_offered_none_selected() {
    let mut listener = listener(WsServerConfig::default()).await;
    let (_client, response) = raw_client_with(&listener.url(), |_| {}).await.unwrap();
    assert!(response.headers().get("sec-websocket-protocol").is_none());
    next_session(&mut listener).await;
}

#[tokio::test]
async fn malformed_text_frames_are_items_and_the_connection_stays() {
    let mut listener = listener(WsServerConfig::default()).await;
    let mut client = raw_client(&listener.url()).await;
    let mut session = next_session(&mut listener).await;
    type Expected = fn(&TransportError) -> bool;
    let cases: [(&str, Expected); 5] = [
        ("not json at all", |e| matches!(e, TransportError::Parse { .. })),
        (r#"{"jsonrpc":"2.0","method":"#, |e| matches!(e, TransportError::Parse { .. })),
        (r#"{"foo":1}"#, |e| matches!(e, TransportError::InvalidMessage { .. })),
        (r#"{"jsonrpc":"2.0","id":7,"method":5}"#, |e| matches!(e, TransportError::InvalidMessage { .. })),
        ("[]", |e| matches!(e, TransportError::InvalidMessage { .. })),
    ];
    for (i, (frame, expected)) in cases.into_iter().enumerate() {
        client.send(WsMessage::text(frame)).await.unwrap();
        let err = within("the error item", session.transport.next()).await.unwrap().unwrap_err();
        assert!(expected(&err), "{frame}: unexpected {err:?}");
        assert!(!err.is_fatal(), "{frame}: {err}");
        // What a session does with the item: answer it. The client sees the JSON-RPC error.
        session.transport.send(err.error_response().unwrap()).await.unwrap();
        let answer = next_json(&mut client).await;
        let code = answer["error"]["code"].as_i64().unwrap();
        assert!(code == -32700 || code == -32600, "{answer}");
        if matches!(err, TransportError::Parse { .. }) {
            assert_eq!(code, -32700);
        }
        // The connection stays: the next valid message arrives.
        client
            .send(WsMessage::text(format!(r#"{{"jsonrpc":"2.0","method":"after","params":{{"i":{i}}}}}"#)))
            .await
            .unwrap();
        let next = within("the message after", session.transport.next()).await.unwrap().unwrap();
        assert_eq!(next.method(), Some("after"));
    }
}

#[tokio::test]
async fn a_binary_frame_closes_with_1003() {
    let mut listener = listener(WsServerConfig::default()).await;
    let mut client = raw_client(&listener.url()).await;
    let mut session = next_session(&mut listener).await;
    client.send(WsMessage::binary(vec![1, 2, 3])).await.unwrap();
    let (close, item) = tokio::join!(expect_close(&mut client), within("the item", session.transport.next()));
    assert_eq!(u16::from(close.unwrap().code), 1003);
    let err = item.unwrap().unwrap_err();
    assert_eq!(close_reason(&err), &WsCloseReason::BinaryFrame);
    assert!(within("the end of the stream", session.transport.next()).await.is_none());
}

#[tokio::test]
async fn a_message_over_the_configured_limit_closes_with_1009() {
    let config = WsServerConfig::default().with_ws(WsConfig::default().with_max_message_bytes(4096));
    let mut listener = listener(config).await;
    let mut client = raw_client(&listener.url()).await;
    let mut session = next_session(&mut listener).await;
    let big = format!(r#"{{"jsonrpc":"2.0","method":"big","params":{{"pad":"{}"}}}}"#, "x".repeat(100_000));
    // The server discards the rest of the message, so the send completes.
    let (sent, item) = tokio::join!(client.send(WsMessage::text(big)), within("the item", session.transport.next()));
    sent.unwrap();
    let err = item.unwrap().unwrap_err();
    assert!(matches!(close_reason(&err), WsCloseReason::MessageTooLarge { limit: 4096, .. }), "{err}");
    let close = expect_close(&mut client).await.unwrap();
    assert_eq!(u16::from(close.code), 1009);
}

#[tokio::test]
async fn a_message_over_the_default_16_mib_limit_closes_with_1009() {
    let mut listener = listener(WsServerConfig::default()).await;
    let mut client = raw_client(&listener.url()).await;
    let mut session = next_session(&mut listener).await;
    // A message just under the limit passes...
    let pad = 16 * 1024 * 1024 - 100;
    let ok = format!(r#"{{"jsonrpc":"2.0","method":"ok","params":{{"p":"{}"}}}}"#, "y".repeat(pad - 60));
    assert!(ok.len() <= 16 * 1024 * 1024);
    let (sent, got) =
        tokio::join!(client.send(WsMessage::text(ok)), within("the big message", session.transport.next()));
    sent.unwrap();
    assert_eq!(got.unwrap().unwrap().method(), Some("ok"));
    // ...one over it closes the connection.
    let big = format!(r#"{{"jsonrpc":"2.0","method":"big","params":{{"p":"{}"}}}}"#, "y".repeat(16 * 1024 * 1024));
    let (_, item) = tokio::join!(client.send(WsMessage::text(big)), within("the item", session.transport.next()));
    let err = item.unwrap().unwrap_err();
    assert!(matches!(close_reason(&err), WsCloseReason::MessageTooLarge { limit, .. } if *limit == 16 << 20), "{err}");
    assert_eq!(u16::from(expect_close(&mut client).await.unwrap().code), 1009);
}

#[tokio::test]
async fn the_peer_closing_ends_the_stream_cleanly() {
    let mut listener = listener(WsServerConfig::default()).await;
    let mut client = raw_client(&listener.url()).await;
    let mut session = next_session(&mut listener).await;
    client.send(WsMessage::text(r#"{"jsonrpc":"2.0","method":"last"}"#)).await.unwrap();
    client.close(None).await.unwrap();
    let last = within("the last message", session.transport.next()).await.unwrap().unwrap();
    assert_eq!(last.method(), Some("last"));
    assert!(within("the end of the stream", session.transport.next()).await.is_none());
    // Sending after the peer closed fails with a fatal error, never a panic.
    let err = session.transport.send(Message::notification("x", &serde_json::json!({})).unwrap()).await.unwrap_err();
    assert!(err.is_fatal(), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_clients_close_cleanly_even_when_their_socket_is_not_ready() {
    // Freshly connected sockets often cannot be written at once from `Drop`; the close frame
    // must still reach the server (a clean end of stream, not a reset).
    let mut listener = listener(WsServerConfig::default()).await;
    let mut clients = Vec::new();
    let mut waiting = Vec::new();
    for _ in 0..200 {
        clients.push(mcp_transport_ws::connect(&listener.url(), &Default::default()).await.unwrap());
        let mut session = next_session(&mut listener).await;
        waiting.push(tokio::spawn(async move { session.transport.next().await.map(|r| r.map(|_| ())) }));
    }
    drop(clients);
    for session in waiting {
        let end = within("a session's end", session).await.unwrap();
        assert!(end.is_none(), "expected a clean close, got {end:?}");
    }
}
