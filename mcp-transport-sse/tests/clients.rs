//! Our client transports against our server, over 127.0.0.1.

mod common;

use std::time::Duration;

use common::*;
use futures::{SinkExt, StreamExt};
use mcp_core::{Message, TransportError};
use mcp_transport_sse::{
    HttpClientConfig, HttpClientError, HttpClientTransport, HttpServerConfig, connect_legacy_sse,
    connect_streamable_http,
};
use serde_json::{Value, json};

fn init() -> Message {
    Message::request(
        0,
        "initialize",
        &json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    )
    .unwrap()
}

async fn next(t: &mut HttpClientTransport) -> Message {
    within("a message from the server", t.next()).await.expect("stream ended").expect("an error item")
}

fn result(m: &Message) -> Value {
    match m {
        Message::Response(r) => r.result.to_value(),
        other => panic!("expected a response, got {other}"),
    }
}

async fn handshake(t: &mut HttpClientTransport) {
    within("send", t.send(init())).await.unwrap();
    assert_eq!(result(&next(t).await)["protocolVersion"], "2025-11-25");
    within("send", t.send(Message::notification("notifications/initialized", &json!({})).unwrap())).await.unwrap();
}

async fn streamable_round_trips(config: HttpServerConfig) {
    let ts = start(config).await;
    let mut t = connect_streamable_http(&ts.url("/mcp"), HttpClientConfig::default()).unwrap();
    handshake(&mut t).await;
    assert!(t.session_id().is_some());
    for i in 1..=3 {
        within("send", t.send(Message::request(i, "echo", &json!({"i": i})).unwrap())).await.unwrap();
        assert_eq!(result(&next(&mut t).await), json!({"i": i}));
    }
    // Related notification, then the response.
    within("send", t.send(Message::request(10, "progress", &json!({})).unwrap())).await.unwrap();
    let first = next(&mut t).await;
    let second = next(&mut t).await;
    let methods: Vec<_> = [&first, &second].iter().map(|m| m.method().map(str::to_owned)).collect();
    assert!(methods.contains(&Some("notifications/progress".into())), "{first} {second}");
    // A server-to-client request during a call: answer it through the sink.
    within("send", t.send(Message::request(11, "ask", &json!({})).unwrap())).await.unwrap();
    let Message::Request(ask) = next(&mut t).await else { panic!("the server's request") };
    assert_eq!(ask.method, "roots/list");
    within("send", t.send(Message::response(ask.id, &json!({"roots": []})).unwrap())).await.unwrap();
    assert_eq!(result(&next(&mut t).await), json!({"client_said": {"roots": []}}));
    // The standalone GET stream carries unrelated notifications.
    within("send", t.send(Message::request(12, "notify_standalone", &json!({})).unwrap())).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(next(&mut t).await);
    }
    assert!(seen.iter().any(|m| m.method() == Some("notifications/tools/list_changed")), "{seen:?}");
    // Close deletes the session.
    assert_eq!(ts.server.session_count(), 1);
    within("close", t.close()).await.unwrap();
    assert_eq!(ts.server.session_count(), 0);
    assert!(within("end of stream", t.next()).await.is_none());
}

#[tokio::test]
async fn streamable_client_with_sse_responses() {
    streamable_round_trips(HttpServerConfig::default()).await;
}

/// With a reader and a writer on the transport's two halves, a small cap on POSTs in flight and
/// a small queue of received messages hold both back without losing or stalling anything.
#[tokio::test]
async fn streamable_client_bounds_posts_in_flight_and_received_messages() {
    let ts = start(HttpServerConfig::default()).await;
    let config = HttpClientConfig::default().max_in_flight(3).channel_capacity(2).standalone_stream(false);
    let mut t = connect_streamable_http(&ts.url("/mcp"), config).unwrap();
    handshake(&mut t).await;
    let (mut tx, mut rx) = t.split();
    let send = async {
        for i in 1..=24 {
            tx.send(Message::request(i, "echo", &json!({"i": i})).unwrap()).await.unwrap();
        }
    };
    let receive = async {
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < 24 {
            let message = rx.next().await.expect("stream ended").expect("an error item");
            seen.insert(result(&message)["i"].as_i64().expect("an echoed number"));
        }
        seen
    };
    let ((), seen) = within("24 echoes", async { futures::join!(send, receive) }).await;
    assert_eq!(seen, (1..=24).collect());
}

/// The POSTs run inside the transport, in whichever half is polled: with the halves in two
/// tasks, what the POSTs wait for must wake both (the sender may go idle while answers arrive).
#[tokio::test]
async fn streamable_client_halves_in_two_tasks() {
    let ts = start(HttpServerConfig::default()).await;
    let config = HttpClientConfig::default().max_in_flight(4).channel_capacity(2).standalone_stream(false);
    let mut t = connect_streamable_http(&ts.url("/mcp"), config).unwrap();
    handshake(&mut t).await;
    let (mut tx, mut rx) = t.split();
    let send = tokio::spawn(async move {
        for i in 1..=40 {
            tx.send(Message::request(i, "echo", &json!({"i": i})).unwrap()).await.unwrap();
        }
        // Idle from here on: the answers still arrive, polled by the reading task.
        tx
    });
    let receive = tokio::spawn(async move {
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < 40 {
            let message = rx.next().await.expect("stream ended").expect("an error item");
            seen.insert(result(&message)["i"].as_i64().expect("an echoed number"));
        }
        seen
    });
    let (tx, seen) = within("40 echoes", async { futures::join!(send, receive) }).await;
    drop(tx.unwrap());
    assert_eq!(seen.unwrap(), (1..=40).collect());
}

/// The standalone `GET` stream is open before the first request after initialization goes out,
/// so a server never takes it for a reconnection, and what the server sends on it right after
/// initialization has somewhere to go.
#[tokio::test]
async fn streamable_client_opens_its_get_stream_before_the_next_request() {
    let (server, mut sessions) = mcp_transport_sse::HttpServer::new(HttpServerConfig::default());
    tokio::spawn(async move {
        while let Some(session) = sessions.next().await {
            tokio::spawn(common::serve_session(session));
        }
    });
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = order.clone();
    let router = server.router().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            log.lock().unwrap().push(request.method().to_string());
            next.run(request)
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut t = connect_streamable_http(&url, HttpClientConfig::default()).unwrap();
    handshake(&mut t).await;
    within("send", t.send(Message::request(1, "echo", &json!({"i": 1})).unwrap())).await.unwrap();
    assert_eq!(result(&next(&mut t).await), json!({"i": 1}));
    let order = order.lock().unwrap().clone();
    assert_eq!(order, ["POST", "POST", "GET", "POST"], "initialize, initialized, the GET stream, the request");
}

#[tokio::test]
async fn streamable_client_with_json_responses() {
    streamable_round_trips(HttpServerConfig::default().json_response(true)).await;
}

#[tokio::test]
async fn streamable_client_resumes_a_dropped_response_stream_with_last_event_id() {
    let ts = start(HttpServerConfig::default().sse_retry(Duration::from_millis(50))).await;
    let mut t = connect_streamable_http(&ts.url("/mcp"), HttpClientConfig::default().standalone_stream(false)).unwrap();
    handshake(&mut t).await;
    within("send", t.send(Message::request(7, "drop_stream", &json!({})).unwrap())).await.unwrap();
    assert_eq!(next(&mut t).await.method(), Some("notifications/message"));
    assert_eq!(result(&next(&mut t).await), json!({"after": "reconnect"}));
}

#[tokio::test]
async fn streamable_client_reports_an_expired_session() {
    let ts = start(HttpServerConfig::default()).await;
    let mut t = connect_streamable_http(&ts.url("/mcp"), HttpClientConfig::default().standalone_stream(false)).unwrap();
    handshake(&mut t).await;
    ts.server.close_all_sessions();
    within("send", t.send(Message::request(1, "echo", &json!({})).unwrap())).await.unwrap();
    let err = within("the expiry error", t.next()).await.unwrap().unwrap_err();
    assert!(err.is_fatal());
    let TransportError::Other { source, .. } = &err else { panic!("{err}") };
    assert!(matches!(source.downcast_ref::<HttpClientError>(), Some(HttpClientError::SessionExpired)), "{err}");
    assert!(within("end of stream", t.next()).await.is_none());
}

#[tokio::test]
async fn streamable_client_surfaces_http_refusals_as_error_responses() {
    let ts = start(HttpServerConfig::default()).await;
    let mut t = connect_streamable_http(&ts.url("/nowhere"), HttpClientConfig::default()).unwrap();
    within("send", t.send(init())).await.unwrap();
    let Message::Error(err) = next(&mut t).await else { panic!("an error response") };
    assert!(err.error.message.contains("404"), "{}", err.error.message);
}

#[tokio::test]
async fn legacy_sse_client_round_trips_and_close_ends_the_session() {
    let ts = start(HttpServerConfig::default()).await;
    let mut t = connect_legacy_sse(&ts.url("/sse"), HttpClientConfig::default()).await.unwrap();
    assert!(t.session_id().is_some());
    handshake(&mut t).await;
    within("send", t.send(Message::request(1, "echo", &json!({"legacy": true})).unwrap())).await.unwrap();
    assert_eq!(result(&next(&mut t).await), json!({"legacy": true}));
    assert_eq!(ts.server.session_count(), 1);
    within("close", t.close()).await.unwrap();
    within("the server to drop the session", async {
        while ts.server.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn bearer_token_and_custom_headers_are_sent() {
    use mcp_core::Principal;
    use mcp_transport_sse::{AuthConfig, StaticTokens};
    let auth = AuthConfig::new(StaticTokens::new().with("s3cret", Principal::new("alice")));
    let ts = start(HttpServerConfig::default().auth(Some(auth))).await;
    let config = HttpClientConfig::default()
        .bearer_token("s3cret")
        .header(http::HeaderName::from_static("x-trace"), http::HeaderValue::from_static("1"));
    let mut t = connect_streamable_http(&ts.url("/mcp"), config).unwrap();
    handshake(&mut t).await;
    within("send", t.send(Message::request(1, "whoami", &json!({})).unwrap())).await.unwrap();
    assert_eq!(result(&next(&mut t).await), json!({"principal": "alice"}));
}
