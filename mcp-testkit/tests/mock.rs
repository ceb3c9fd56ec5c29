//! The scripted mock transport.

use std::time::Duration;

use futures::{FutureExt, SinkExt, StreamExt};
use mcp_core::{ErrorObject, Message, TransportError};
use mcp_testkit::{assert_sent_notification, assert_sent_request, mock};
use serde_json::json;

fn request(id: i64, method: &str) -> Message {
    Message::request(id, method, &json!({ "name": "echo" })).unwrap()
}

#[tokio::test]
async fn requests_are_asserted_and_answered() {
    let (mut transport, mut handle) = mock::pair();
    transport.send(request(1, "tools/call")).await.unwrap();
    transport.send(request(2, "tools/list")).await.unwrap();
    transport.send(Message::notification("notifications/initialized", &json!({})).unwrap()).await.unwrap();

    let call = assert_sent_request!(handle, "tools/call", json!({ "name": "echo" }));
    let list = assert_sent_request!(handle, "tools/list");
    assert_sent_notification!(handle, "notifications/initialized", json!({}));
    list.respond_error(ErrorObject::method_not_found("tools/list"));
    call.respond(&json!({ "content": [{ "type": "text", "text": "hi" }] }));

    let Some(Ok(Message::Error(error))) = transport.next().await else { panic!("an error response") };
    assert_eq!(error.id, Some(2.into()));
    assert_eq!(error.error.code, -32601);
    let Some(Ok(Message::Response(response))) = transport.next().await else { panic!("a response") };
    assert_eq!(response.id, 1.into());
    assert_eq!(response.result.to_value()["content"][0]["text"], "hi");
}

#[tokio::test]
async fn allow_scripts_backpressure() {
    let (mut transport, mut handle) = mock::pair();
    handle.allow(2);
    transport.send(request(1, "a")).await.unwrap();
    transport.send(request(2, "b")).await.unwrap();
    // The allowance is used up: the third send waits.
    let mut third = transport.send(request(3, "c"));
    assert!((&mut third).now_or_never().is_none(), "the third send must wait for allow()");
    handle.allow(1);
    tokio::time::timeout(Duration::from_secs(10), third).await.expect("the allowed send").unwrap();
    for method in ["a", "b", "c"] {
        assert_eq!(handle.next_sent().await.method(), Some(method));
    }
    handle.allow_all();
    for id in 0..100 {
        transport.send(request(id, "x")).now_or_never().expect("unlimited").unwrap();
    }
}

#[tokio::test]
async fn fail_next_fails_one_send() {
    let (mut transport, mut handle) = mock::pair();
    handle.fail_next(TransportError::ConnectionLost("cable cut".into()));
    let err = transport.send(request(1, "a")).await.unwrap_err();
    assert!(matches!(err, TransportError::ConnectionLost(ref why) if why == "cable cut"), "{err}");
    transport.send(request(2, "b")).await.unwrap();
    assert_eq!(handle.next_sent().await.id(), Some(&2.into()));
    assert!(handle.try_next_sent().is_none());
}

#[tokio::test]
async fn incoming_messages_errors_and_close() {
    let (mut transport, mut handle) = mock::pair();
    handle.push_incoming(request(7, "ping"));
    handle.push_error(TransportError::Parse { detail: "junk".into() });
    handle.close();
    assert_eq!(transport.next().await.unwrap().unwrap().method(), Some("ping"));
    assert!(matches!(transport.next().await, Some(Err(TransportError::Parse { .. }))));
    assert!(transport.next().await.is_none());
    // Closing the incoming side does not close the outgoing one.
    transport.send(request(8, "still")).await.unwrap();
    assert_eq!(handle.next_sent().await.method(), Some("still"));
    transport.close().await.unwrap();
    handle.expect_closed().await;
}

#[tokio::test]
#[should_panic(expected = "mock: timed out after 50ms waiting for the code under test to send a `tools/list` request")]
async fn waits_time_out_naming_what_they_waited_for() {
    let (_transport, mut handle) = mock::pair();
    handle.set_timeout(Duration::from_millis(50));
    assert_sent_request!(handle, "tools/list");
}

#[tokio::test]
#[should_panic(expected = "mock: expected a `tools/call` request, the code under test sent")]
async fn the_wrong_message_fails() {
    let (mut transport, mut handle) = mock::pair();
    transport.send(request(1, "tools/list")).await.unwrap();
    assert_sent_request!(handle, "tools/call");
}

#[tokio::test]
async fn a_real_client_is_scripted_through_the_handle() {
    let (transport, mut handle) = mock::pair();
    let connecting = tokio::spawn(mcp_testkit::client::connect(transport));
    let init = handle.complete_handshake().await;
    assert_eq!(init["clientInfo"]["name"], "mcp-testkit-client");
    let client = connecting.await.unwrap();
    assert_eq!(client.server_info().server_info.name, mock::MOCK_SERVER_NAME);

    let call = tokio::spawn(async move { client.call_tool("echo", &json!({ "message": "hi" })).await });
    let sent = assert_sent_request!(handle, "tools/call", json!({ "name": "echo", "arguments": { "message": "hi" } }));
    sent.respond(&json!({ "content": [{ "type": "text", "text": "scripted" }] }));
    let result = call.await.unwrap().unwrap();
    assert_eq!(result.content[0].as_text(), Some("scripted"));
}

#[tokio::test]
async fn a_real_server_is_scripted_through_the_handle() {
    let (transport, mut handle) = mock::pair();
    let server = mcp_testkit::fixtures::everything();
    tokio::spawn(async move { server.serve(transport).await });

    // Garbage first: the server answers the parse error and goes on.
    handle.push_error(TransportError::Parse { detail: "not json".into() });
    assert_eq!(handle.expect_error(None).await.code, -32700);

    let init =
        json!({ "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } });
    handle.push_incoming(Message::request(1, "initialize", &init).unwrap());
    assert_eq!(handle.expect_response(1).await["protocolVersion"], "2025-06-18");
    handle.push_incoming(Message::notification("notifications/initialized", &json!({})).unwrap());
    handle.push_incoming(
        Message::request(2, "tools/call", &json!({ "name": "echo", "arguments": { "message": "m" } })).unwrap(),
    );
    assert_eq!(handle.expect_response(2).await["content"][0]["text"], "Echo: m");
    handle.push_incoming(Message::request(3, "nope/nope", &json!({})).unwrap());
    assert_eq!(handle.expect_error(Some(3.into())).await.code, -32601);

    // The peer goes away: the server closes its side.
    handle.close();
    handle.expect_closed().await;
}
