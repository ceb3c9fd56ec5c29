//! The legacy HTTP+SSE server (2024-11-05) over real sockets, with raw HTTP.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use mcp_transport_sse::HttpServerConfig;
use mcp_transport_sse::sse::{Decoded, SseDecoder, SseEvent};
use serde_json::json;

struct Events {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    decoder: SseDecoder,
}

impl Events {
    fn new(resp: reqwest::Response) -> Self {
        Self { body: Box::pin(resp.bytes_stream()), decoder: SseDecoder::new(1 << 20) }
    }

    async fn next(&mut self) -> Option<SseEvent> {
        within("an SSE event", async {
            loop {
                if let Some(Decoded::Event(e)) = self.decoder.next_event() {
                    return Some(e);
                }
                self.decoder.push(&self.body.next().await?.ok()?);
            }
        })
        .await
    }
}

#[tokio::test]
async fn endpoint_event_then_replies_on_the_stream() {
    let ts = start(HttpServerConfig::default().keep_alive(Some(Duration::from_millis(50)))).await;
    let resp = ts.http.get(ts.url("/sse")).header("accept", "text/event-stream").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut events = Events::new(resp);
    let endpoint = events.next().await.unwrap();
    assert_eq!(endpoint.event.as_deref(), Some("endpoint"));
    assert!(endpoint.data.starts_with("/messages?sessionId="), "{}", endpoint.data);
    let post_to = |body: String| {
        ts.http.post(ts.url(&endpoint.data)).header("content-type", "application/json").body(body).send()
    };
    let resp = post_to(init_body("2024-11-05")).await.unwrap();
    assert_eq!(resp.status(), 202);
    let reply = events.next().await.unwrap();
    assert_eq!(reply.event, None);
    let v: serde_json::Value = serde_json::from_str(&reply.data).unwrap();
    assert_eq!(v["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(post_to(request_body(1, "echo", json!({"k": 1}))).await.unwrap().status(), 202);
    let v: serde_json::Value = serde_json::from_str(&events.next().await.unwrap().data).unwrap();
    assert_eq!(v, json!({"jsonrpc":"2.0","id":1,"result":{"k":1}}));
    // Garbage is refused with 400 and the session goes on.
    let bad = post_to("{nope".into()).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<serde_json::Value>().await.unwrap()["error"]["code"], -32700);
    assert_eq!(post_to(request_body(2, "echo", json!({}))).await.unwrap().status(), 202);
    assert!(events.next().await.is_some());

    // Closing the stream ends the session; its id then gets 404.
    drop(events);
    within("the session to end with its stream", async {
        while ts.server.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(post_to(request_body(3, "echo", json!({}))).await.unwrap().status(), 404);
}

#[tokio::test]
async fn unknown_or_missing_session_and_bad_content_type() {
    let ts = start(HttpServerConfig::default()).await;
    let post = |url: String, ct: &'static str| {
        ts.http.post(url).header("content-type", ct).body(request_body(1, "echo", json!({}))).send()
    };
    assert_eq!(post(ts.url("/messages?sessionId=nope"), "application/json").await.unwrap().status(), 404);
    assert_eq!(post(ts.url("/messages"), "application/json").await.unwrap().status(), 400);
    let resp = ts.http.get(ts.url("/sse")).send().await.unwrap();
    let mut events = Events::new(resp);
    let endpoint = events.next().await.unwrap().data;
    assert_eq!(post(ts.url(&endpoint), "text/plain").await.unwrap().status(), 415);
    let huge = format!(r#"{{"jsonrpc":"2.0","method":"x","params":{{"p":"{}"}}}}"#, "z".repeat(5 << 20));
    let resp = ts.http.post(ts.url(&endpoint)).header("content-type", "application/json").body(huge).send().await;
    assert_eq!(resp.unwrap().status(), 413);
    assert_eq!(ts.server.session_count(), 1);
}
