//! The Streamable HTTP server over real sockets on 127.0.0.1, driven with raw HTTP requests.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use mcp_transport_sse::HttpServerConfig;
use serde_json::json;

#[tokio::test]
async fn initialize_mints_a_session_and_answers_on_an_sse_stream() {
    let ts = start(HttpServerConfig::default()).await;
    let resp = post(&ts, None, init_body("2025-11-25")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    let id = h["mcp-session-id"].to_str().unwrap().to_owned();
    assert!(id.len() >= 32 && id.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{id}");
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["x-accel-buffering"], "no");
    let msgs = messages(&read_events(resp, |_| false).await);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0]["id"], 0);
    assert_eq!(msgs[0]["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(ts.server.session_count(), 1);
    // Another initialize is another session.
    assert_ne!(initialize(&ts).await, id);
}

#[tokio::test]
async fn request_stream_has_priming_event_then_the_response_then_ends() {
    let ts = start(HttpServerConfig::default().sse_retry(Duration::from_millis(1234))).await;
    let sid = initialize(&ts).await;
    let resp = post(&ts, Some(&sid), request_body(5, "echo", json!({"x": 1}))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let events = read_events(resp, |_| false).await; // ends by itself after the response
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0].data.is_empty() && events[0].id.is_some());
    assert_eq!(events[0].retry, Some(Duration::from_millis(1234)));
    assert!(events[1].id.is_some() && events[1].id != events[0].id);
    let msg: serde_json::Value = serde_json::from_str(&events[1].data).unwrap();
    assert_eq!(msg, json!({"jsonrpc":"2.0","id":5,"result":{"x":1}}));
}

#[tokio::test]
async fn notifications_and_responses_get_202() {
    let ts = start(HttpServerConfig::default()).await;
    let sid = initialize(&ts).await;
    let resp =
        post(&ts, Some(&sid), r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}"#)
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 202);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = post(&ts, Some(&sid), r#"{"jsonrpc":"2.0","id":"x","result":{}}"#).send().await.unwrap();
    assert_eq!(resp.status(), 202);
}

#[tokio::test]
async fn related_notifications_and_requests_travel_on_the_request_stream() {
    let ts = start(HttpServerConfig::default()).await;
    let sid = initialize(&ts).await;
    let resp = post(&ts, Some(&sid), request_body(1, "progress", json!({}))).send().await.unwrap();
    let msgs = messages(&read_events(resp, |_| false).await);
    assert_eq!(msgs[0]["method"], "notifications/progress");
    assert_eq!(msgs[1]["id"], 1);

    // A server-to-client request during a call, answered by a separate POST.
    let resp = post(&ts, Some(&sid), request_body(2, "ask", json!({}))).send().await.unwrap();
    let mut body = resp.bytes_stream();
    let mut decoder = mcp_transport_sse::sse::SseDecoder::new(1 << 20);
    let mut got = Vec::new();
    within("the server's request and then its response", async {
        while let Some(chunk) = body.next().await {
            decoder.push(&chunk.unwrap());
            while let Some(mcp_transport_sse::sse::Decoded::Event(e)) = decoder.next_event() {
                if e.data.is_empty() {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_str(&e.data).unwrap();
                if v["method"] == "roots/list" {
                    let reply = json!({"jsonrpc":"2.0","id": v["id"], "result": {"roots": []}}).to_string();
                    assert_eq!(post(&ts, Some(&sid), reply).send().await.unwrap().status(), 202);
                }
                got.push(v);
            }
        }
    })
    .await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1], json!({"jsonrpc":"2.0","id":2,"result":{"client_said":{"roots":[]}}}));
}

#[tokio::test]
async fn json_response_mode_answers_with_one_json_body() {
    let ts = start(HttpServerConfig::default().json_response(true)).await;
    let sid = initialize(&ts).await;
    let resp = post(&ts, Some(&sid), request_body(3, "echo", json!({"a": [1, 2]}))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v, json!({"jsonrpc":"2.0","id":3,"result":{"a":[1,2]}}));
}

#[tokio::test]
async fn batch_of_requests_gets_every_response() {
    let ts = start(HttpServerConfig::default().json_response(true)).await;
    let sid = initialize(&ts).await;
    let batch =
        format!("[{},{}]", request_body(10, "echo", json!({"n": 10})), request_body(11, "echo", json!({"n": 11})));
    let v: serde_json::Value = post(&ts, Some(&sid), batch).send().await.unwrap().json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
}

#[tokio::test]
async fn session_header_is_required_and_checked() {
    let ts = start(HttpServerConfig::default()).await;
    let sid = initialize(&ts).await;
    let no_session = post(&ts, None, request_body(1, "echo", json!({}))).send().await.unwrap();
    assert_eq!(no_session.status(), 400);
    let unknown = post(&ts, Some("not-a-session"), request_body(1, "echo", json!({}))).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600);
    assert_eq!(body["id"], serde_json::Value::Null);

    let bad_version = ts
        .http
        .post(ts.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "1999-01-01")
        .body(request_body(1, "echo", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_version.status(), 400);
    assert!(bad_version.text().await.unwrap().contains("1999-01-01"));
}

#[tokio::test]
async fn accept_and_content_type_are_checked() {
    let ts = start(HttpServerConfig::default()).await;
    let sid = initialize(&ts).await;
    let only_json = ts
        .http
        .post(ts.url("/mcp"))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .header("mcp-session-id", &sid)
        .body(request_body(1, "echo", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(only_json.status(), 406);
    let text = ts
        .http
        .post(ts.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "text/plain")
        .header("mcp-session-id", &sid)
        .body(request_body(1, "echo", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 415);
    let get_json = ts.http.get(ts.url("/mcp")).header("accept", "application/json").header("mcp-session-id", &sid);
    assert_eq!(get_json.send().await.unwrap().status(), 406);
    let put = ts.http.put(ts.url("/mcp")).send().await.unwrap();
    assert_eq!(put.status(), 405);
}

#[tokio::test]
async fn garbage_body_gets_400_with_a_parse_error_and_the_session_goes_on() {
    let ts = start(HttpServerConfig::default()).await;
    let sid = initialize(&ts).await;
    let resp = post(&ts, Some(&sid), "{this is not json").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    let resp = post(&ts, Some(&sid), r#"{"jsonrpc":"1.0","id":4,"method":"x"}"#).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!((body["error"]["code"].as_i64(), body["id"].as_i64()), (Some(-32600), Some(4)));
    let ok = post(&ts, Some(&sid), request_body(5, "echo", json!({}))).send().await.unwrap();
    assert_eq!(messages(&read_events(ok, |_| false).await)[0]["id"], 5);
}

#[tokio::test]
async fn a_20_mib_post_gets_413_and_the_session_survives() {
    let ts = start(HttpServerConfig::default()).await;
    let sid = initialize(&ts).await;
    let huge = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"echo","params":{{"x":"{}"}}}}"#, "a".repeat(20 << 20));
    let resp = within("the 413", post(&ts, Some(&sid), huge).send()).await.unwrap();
    assert_eq!(resp.status(), 413);
    assert!(resp.text().await.unwrap().contains("max_body_bytes"));
    let ok = post(&ts, Some(&sid), request_body(2, "echo", json!({"still": "here"}))).send().await.unwrap();
    assert_eq!(messages(&read_events(ok, |_| false).await)[0]["result"]["still"], "here");
}

#[tokio::test]
async fn delete_ends_the_session_and_its_id_then_gets_404() {
    let ts = start(HttpServerConfig::default()).await;
    let sid = initialize(&ts).await;
    let get = ts
        .http
        .get(ts.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let del = ts.http.delete(ts.url("/mcp")).header("mcp-session-id", &sid).send().await.unwrap();
    assert_eq!(del.status(), 200);
    // The open GET stream ends with the session.
    read_events(get, |_| false).await;
    assert_eq!(post(&ts, Some(&sid), request_body(1, "echo", json!({}))).send().await.unwrap().status(), 404);
    let again = ts.http.delete(ts.url("/mcp")).header("mcp-session-id", &sid).send().await.unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(ts.server.session_count(), 0);
}

#[tokio::test]
async fn standalone_get_stream_carries_unrelated_messages_and_a_second_gets_409() {
    let ts = start(HttpServerConfig::default()).await;
    let sid = initialize(&ts).await;
    let get =
        || ts.http.get(ts.url("/mcp")).header("accept", "text/event-stream").header("mcp-session-id", &sid).send();
    let first = get().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(get().await.unwrap().status(), 409);
    let resp = post(&ts, Some(&sid), request_body(1, "notify_standalone", json!({}))).send().await.unwrap();
    let on_post = messages(&read_events(resp, |_| false).await);
    assert_eq!(on_post.len(), 1, "only the response on the POST stream: {on_post:?}");
    let on_get = messages(&read_events(first, |e| !e.data.is_empty()).await);
    assert_eq!(on_get[0]["method"], "notifications/tools/list_changed");
}

#[tokio::test]
async fn resumption_with_last_event_id_replays_only_what_was_missed_on_that_stream() {
    let ts = start(HttpServerConfig::default()).await;
    let sid = initialize(&ts).await;
    let resp = post(&ts, Some(&sid), request_body(7, "drop_stream", json!({}))).send().await.unwrap();
    // The server closes the connection after the priming event and one notification.
    let events = read_events(resp, |_| false).await;
    let msgs = messages(&events);
    assert_eq!(msgs.len(), 1, "{events:?}");
    assert_eq!(msgs[0]["method"], "notifications/message");
    let last = events.last().unwrap().id.clone().unwrap();
    // Let the response be produced while no connection is attached.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let resumed = ts
        .http
        .get(ts.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("last-event-id", &last)
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let replay = messages(&read_events(resumed, |_| false).await);
    assert_eq!(replay, vec![json!({"jsonrpc":"2.0","id":7,"result":{"after":"reconnect"}})]);

    let bogus = ts
        .http
        .get(ts.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("last-event-id", "999_1")
        .send()
        .await
        .unwrap();
    assert_eq!(bogus.status(), 400);
}

#[tokio::test]
async fn host_and_origin_are_validated() {
    let ts = start(HttpServerConfig::default()).await;
    let evil_origin =
        post(&ts, None, init_body("2025-11-25")).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(evil_origin.status(), 403);
    let evil_host = post(&ts, None, init_body("2025-11-25")).header("host", "evil.example").send().await.unwrap();
    assert_eq!(evil_host.status(), 403);
    let local_origin =
        post(&ts, None, init_body("2025-11-25")).header("origin", "http://localhost:5173").send().await.unwrap();
    assert_eq!(local_origin.status(), 200);
    assert_eq!(ts.server.session_count(), 1);
}

#[tokio::test]
async fn session_limit_gives_503() {
    let ts = start(HttpServerConfig::default().max_sessions(2)).await;
    initialize(&ts).await;
    initialize(&ts).await;
    let third = post(&ts, None, init_body("2025-11-25")).send().await.unwrap();
    assert_eq!(third.status(), 503);
    assert!(third.text().await.unwrap().contains("max_sessions"));
}

#[tokio::test]
async fn health_reports_sessions_and_503_while_shutting_down() {
    let ts = start(HttpServerConfig::default()).await;
    initialize(&ts).await;
    let health: serde_json::Value = ts.http.get(ts.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health, json!({"status": "ok", "sessions": 1}));
    ts.server.begin_shutdown();
    let resp = ts.http.get(ts.url("/health")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["status"], "shutting_down");
    assert_eq!(post(&ts, None, init_body("2025-11-25")).send().await.unwrap().status(), 503);
}

/// `serve` until its shutdown future completes: the open session's `GET` stream ends, `serve`
/// returns (well within its 10 s drain), and the port takes no more connections.
#[tokio::test]
async fn serve_drains_and_returns_when_its_shutdown_completes() {
    let (server, mut sessions) = mcp_transport_sse::HttpServer::new(HttpServerConfig::default());
    tokio::spawn(async move {
        while let Some(session) = sessions.next().await {
            tokio::spawn(serve_session(session));
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(mcp_transport_sse::serve(listener, server.clone(), async move {
        let _ = stopped.await;
    }));
    let ts = TestServer { addr, server, http: http_client() };
    let id = initialize(&ts).await;
    let mut stream = ts
        .http
        .get(ts.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    stop.send(()).unwrap();
    within("the GET stream to end", async { while let Ok(Some(_)) = stream.chunk().await {} }).await;
    within("serve to return", serving).await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the port still takes connections");
}

#[tokio::test]
async fn stateless_post_of_the_2026_era_is_served_without_a_session() {
    let ts = start(HttpServerConfig::default()).await;
    let resp = ts
        .http
        .post(ts.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .body(request_body(1, "echo", json!({"stateless": true})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("mcp-session-id").is_none());
    let msgs = messages(&read_events(resp, |_| false).await);
    assert_eq!(msgs[0]["result"]["stateless"], true);
    let note = ts
        .http
        .post(ts.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .body(r#"{"jsonrpc":"2.0","method":"notifications/message","params":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(note.status(), 202);
    assert_eq!(ts.server.session_count(), 0);
}

#[tokio::test]
async fn a_thousand_abandoned_sessions_are_reaped() {
    let ts = start(HttpServerConfig::default().idle_timeout(Duration::from_millis(300))).await;
    let ids: Vec<String> = futures::stream::iter(0..1000)
        .map(|_| async {
            let resp = post(&ts, None, init_body("2025-11-25")).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            let id = resp.headers()["mcp-session-id"].to_str().unwrap().to_owned();
            resp.bytes().await.unwrap();
            id
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), 1000);
    let peak = ts.server.session_count();
    assert!(peak > 0);
    within("the reaper to remove every session", async {
        while ts.server.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let health: serde_json::Value = ts.http.get(ts.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["sessions"], 0);
    assert_eq!(post(&ts, Some(&ids[0]), request_body(1, "echo", json!({}))).send().await.unwrap().status(), 404);
}
