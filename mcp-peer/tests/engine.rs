//! The session engine: cancellation, timeouts and progress, bounded concurrency, disconnects,
//! graceful close, bad frames, batches.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Raw, Scripted, builder, error_code, result, within};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use mcp_core::schema::{CallToolResult, Tool};
use mcp_core::{Message, RequestId, TransportError, memory};
use mcp_peer::{Client, PeerError, RequestContext, Server, SessionConfig, SessionEnd};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

/// A server whose `wait` tool blocks until cancelled, reporting on `seen` when it was.
fn waiting_server(seen: mpsc::Sender<&'static str>, started: Arc<Notify>) -> Server {
    waiting_server_with(seen, started, SessionConfig::default())
}

fn waiting_server_with(seen: mpsc::Sender<&'static str>, started: Arc<Notify>, config: SessionConfig) -> Server {
    builder()
        .config(config)
        .tool(Tool::new("wait", json!({"type": "object"})), move |ctx: RequestContext, _a: Value| {
            let seen = seen.clone();
            let started = started.clone();
            async move {
                // A guard observes that the session dropped the future (cancellation).
                struct Dropped(mpsc::Sender<&'static str>);
                impl Drop for Dropped {
                    fn drop(&mut self) {
                        let _ = self.0.try_send("dropped");
                    }
                }
                let _guard = Dropped(seen.clone());
                started.notify_one();
                ctx.cancelled().await;
                Ok(CallToolResult::text("never sent"))
            }
        })
        .build()
}

#[tokio::test]
async fn client_dropping_a_call_cancels_the_handler() {
    let (seen_tx, mut seen) = mpsc::channel(4);
    let started = Arc::new(Notify::new());
    let (client_end, server_end) = memory::pair(16);
    let server = waiting_server(seen_tx, started.clone());
    tokio::spawn(async move { server.serve(server_end).await });
    let client = within("connect", Client::connect(client_end)).await.unwrap();

    let args = json!({});
    let call = client.call_tool("wait", &args);
    tokio::select! {
        _ = call => panic!("the wait tool never answers"),
        () = started.notified() => {}
    }
    // The call future is dropped here: the server must see notifications/cancelled.
    assert_eq!(within("the handler to be dropped", seen.recv()).await, Some("dropped"));
    // And the session is still fine.
    assert_eq!(
        client.call_tool("echo", &json!({"message": "after"})).await.unwrap().content[0].as_text(),
        Some("after")
    );
}

#[tokio::test]
async fn peer_cancellation_drops_the_handler_and_sends_no_response() {
    let (seen_tx, mut seen) = mpsc::channel(4);
    let started = Arc::new(Notify::new());
    let (mut raw, _task) = Raw::start(waiting_server(seen_tx, started.clone()));
    raw.initialize("2025-11-25").await;
    raw.send(Message::request(7, "tools/call", &json!({"name": "wait", "arguments": {}})).unwrap()).await;
    within("the handler to start", started.notified()).await;
    raw.send(Message::notification("notifications/cancelled", &json!({"requestId": 7, "reason": "user"})).unwrap())
        .await;
    assert_eq!(within("the handler to be dropped", seen.recv()).await, Some("dropped"));
    // The next message is the ping's response: nothing was sent for request 7.
    let pong = raw.call("ping", json!({})).await;
    assert_eq!(result(&pong), json!({}));
    // Cancelling something unknown or finished is harmless.
    raw.send(Message::notification("notifications/cancelled", &json!({"requestId": 7})).unwrap()).await;
    raw.send(Message::notification("notifications/cancelled", &json!({"requestId": "never"})).unwrap()).await;
    raw.send(Message::notification("notifications/cancelled", &json!({"bogus": true})).unwrap()).await;
    let resp = raw.call("tools/call", json!({"name": "echo", "arguments": {"message": "x"}})).await;
    assert_eq!(result(&resp)["content"][0]["text"], "x");
}

#[tokio::test]
async fn cancel_before_the_request_arrives_is_ignored_and_the_request_runs() {
    let (mut raw, _task) = Raw::start(builder().build());
    raw.initialize("2025-11-25").await;
    raw.send(Message::notification("notifications/cancelled", &json!({"requestId": 9})).unwrap()).await;
    raw.send(Message::request(9, "tools/call", &json!({"name": "echo", "arguments": {"message": "late"}})).unwrap())
        .await;
    let resp = raw.recv().await;
    assert_eq!(resp.id(), Some(&RequestId::Number(9)));
    assert_eq!(result(&resp)["content"][0]["text"], "late");
}

#[tokio::test]
async fn cancel_after_completion_changes_nothing() {
    let (client_end, server_end) = memory::pair(16);
    let server = builder().build();
    tokio::spawn(async move { server.serve(server_end).await });
    let client = within("connect", Client::connect(client_end)).await.unwrap();
    for i in 0..50 {
        // Race a call against a very short deadline; either outcome is fine, the session must survive.
        let msg = format!("m{i}");
        let _ =
            tokio::time::timeout(Duration::from_micros(50), client.call_tool("echo", &json!({"message": msg}))).await;
    }
    let ok = client.call_tool("echo", &json!({"message": "alive"})).await.unwrap();
    assert_eq!(ok.content[0].as_text(), Some("alive"));
}

fn slow_server(progress_every: Duration, steps: u32) -> Server {
    builder()
        .tool(Tool::new("slow", json!({"type": "object"})), move |ctx: RequestContext, _a: Value| async move {
            for i in 0..steps {
                tokio::time::sleep(progress_every).await;
                ctx.progress(f64::from(i + 1), Some(f64::from(steps)), Some("working")).await?;
            }
            Ok(CallToolResult::text("done"))
        })
        .build()
}

async fn client_with(server: Server, config: SessionConfig) -> Client {
    let (client_end, server_end) = memory::pair(16);
    tokio::spawn(async move { server.serve(server_end).await });
    within("connect", Client::builder().config(config).connect(client_end)).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn progress_resets_the_timeout() {
    let config = SessionConfig::default().request_timeout(Duration::from_millis(100));
    let client = client_with(slow_server(Duration::from_millis(60), 10), config).await;
    let mut reports = Vec::new();
    let result = client.call_tool_with_progress("slow", &json!({}), |p| reports.push(p.progress)).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("done"));
    assert_eq!(reports, (1..=10).map(f64::from).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn silence_times_out_and_cancels_on_the_server() {
    let (seen_tx, mut seen) = mpsc::channel(4);
    let started = Arc::new(Notify::new());
    let config = SessionConfig::default().request_timeout(Duration::from_millis(100));
    let client = client_with(waiting_server(seen_tx, started), config).await;
    let err = client.call_tool("wait", &json!({})).await.unwrap_err();
    assert!(matches!(err, PeerError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("request_timeout"), "{err}");
    assert_eq!(within("the server-side cancellation", seen.recv()).await, Some("dropped"));
}

#[tokio::test(start_paused = true)]
async fn total_cap_applies_even_with_progress() {
    let config = SessionConfig::default()
        .request_timeout(Duration::from_millis(100))
        .max_request_duration(Duration::from_millis(250));
    let client = client_with(slow_server(Duration::from_millis(60), 10), config).await;
    let started = tokio::time::Instant::now();
    let err = client.call_tool_with_progress("slow", &json!({}), |_| {}).await.unwrap_err();
    assert!(matches!(err, PeerError::Timeout { .. }), "{err:?}");
    // Paused time: the cap fires at exactly 250 ms of virtual time.
    assert_eq!(started.elapsed(), Duration::from_millis(250));
}

#[tokio::test]
async fn ten_thousand_concurrent_calls_respect_the_concurrency_limit() {
    const LIMIT: usize = 8;
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let server = builder()
        .config(SessionConfig::default().max_concurrency(LIMIT))
        .tool(Tool::new("count", json!({"type": "object"})), move |_ctx: RequestContext, _a: Value| {
            let (running, peak) = (r.clone(), p.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(CallToolResult::text("ok"))
            }
        })
        .build();
    let client = client_with(server, SessionConfig::default()).await;
    let args = json!({});
    let mut calls: FuturesUnordered<_> = (0..10_000).map(|_| client.call_tool("count", &args)).collect();
    let mut ok = 0;
    within("10,000 calls", async {
        while let Some(r) = calls.next().await {
            assert!(!r.unwrap().is_error());
            ok += 1;
        }
    })
    .await;
    assert_eq!(ok, 10_000);
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= LIMIT, "{peak} handlers ran at once; the limit is {LIMIT}");
    assert!(peak > 1, "handlers never overlapped (peak {peak})");
}

#[tokio::test]
async fn eof_finishes_in_flight_work_and_flushes_responses() {
    let (mut script, transport) = Scripted::new();
    let server = builder()
        .tool(Tool::new("slowecho", json!({"type": "object"})), |_ctx: RequestContext, a: Value| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(CallToolResult::text(a.to_string()))
        })
        .build();
    let task = tokio::spawn(async move { server.serve(transport).await });
    script.push_text(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"s","version":"1"}}}"#).await;
    script.recv().await;
    for i in 1..=5 {
        script
            .push(Ok(Message::request(i, "tools/call", &json!({"name": "slowecho", "arguments": {"i": i}})).unwrap()))
            .await;
    }
    script.incoming.close_channel(); // EOF with five calls in flight
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(script.recv().await.id().cloned().unwrap());
    }
    ids.sort();
    assert_eq!(ids, (1..=5).map(RequestId::Number).collect::<Vec<_>>());
    let summary = within("the session to end", task).await.unwrap().unwrap();
    assert_eq!(summary.end, SessionEnd::PeerClosed);
    assert_eq!(summary.requests_received, 6);
}

#[tokio::test]
async fn fatal_transport_error_ends_the_session_with_the_error() {
    let (mut script, transport) = Scripted::new();
    let server = builder().build();
    let task = tokio::spawn(async move { server.serve(transport).await });
    script.push(Err(TransportError::ConnectionLost("cable cut".into()))).await;
    let err = within("the session to end", task).await.unwrap().unwrap_err();
    assert!(err.to_string().contains("cable cut"), "{err}");
}

#[tokio::test]
async fn malformed_frames_are_answered_and_the_session_goes_on() {
    let (mut script, transport) = Scripted::new();
    let server = builder().build();
    tokio::spawn(async move { server.serve(transport).await });
    script.push(Err(TransportError::Parse { detail: "expected value at line 1 column 1".into() })).await;
    let reply = script.recv().await;
    assert_eq!(error_code(&reply), -32700);
    assert_eq!(reply.id(), None);
    script
        .push(Err(TransportError::InvalidMessage { id: Some(RequestId::Number(3)), detail: "no method".into() }))
        .await;
    let reply = script.recv().await;
    assert_eq!(error_code(&reply), -32600);
    assert_eq!(reply.id(), Some(&RequestId::Number(3)));
    script.push(Err(TransportError::MessageTooLarge { size: Some(1 << 30), limit: 1 << 24, setting: None })).await;
    assert_eq!(error_code(&script.recv().await), -32600);
    script.push_text(r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#).await;
    assert_eq!(result(&script.recv().await), json!({}));
}

#[tokio::test]
async fn duplicate_in_flight_id_is_rejected() {
    let (seen_tx, _seen) = mpsc::channel(4);
    let started = Arc::new(Notify::new());
    let (mut raw, _task) = Raw::start(waiting_server(seen_tx, started.clone()));
    raw.initialize("2025-11-25").await;
    raw.send(Message::request(5, "tools/call", &json!({"name": "wait", "arguments": {}})).unwrap()).await;
    within("the handler to start", started.notified()).await;
    let resp = raw.call_with_id(5, "ping", json!({})).await;
    assert_eq!(error_code(&resp), -32600);
}

#[tokio::test]
async fn batches_are_served_only_on_2025_03_26() {
    let (mut raw, _task) = Raw::start(builder().build());
    raw.initialize("2025-03-26").await;
    raw.send_text(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/whatever"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"b"}}},{"jsonrpc":"2.0","id":3,"method":"nope"}]"#).await;
    let Message::Batch(items) = raw.recv().await else { panic!("a batch response") };
    let mut ids: Vec<_> = items.iter().map(|m| m.id().cloned().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, [1, 2, 3].map(RequestId::Number));
    let echo = items.iter().find(|m| m.id() == Some(&RequestId::Number(2))).unwrap();
    assert_eq!(result(echo)["content"][0]["text"], "b");
    assert_eq!(error_code(items.iter().find(|m| m.id() == Some(&RequestId::Number(3))).unwrap()), -32601);
    // A batch of notifications only gets no response at all.
    raw.send_text(r#"[{"jsonrpc":"2.0","method":"notifications/a"}]"#).await;
    assert_eq!(result(&raw.call("ping", json!({})).await), json!({}));

    for version in ["2024-11-05", "2025-06-18", "2025-11-25"] {
        let (mut raw, _task) = Raw::start(builder().build());
        raw.initialize(version).await;
        raw.send_text(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#).await;
        let reply = raw.recv().await;
        assert_eq!(error_code(&reply), -32600, "{version}");
        assert_eq!(reply.id(), None);
        assert_eq!(result(&raw.call("ping", json!({})).await), json!({}), "{version}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_handler_that_never_finishes_cannot_keep_a_closed_session_alive() {
    let (seen_tx, mut seen) = mpsc::channel(4);
    let started = Arc::new(Notify::new());
    let (mut script, transport) = Scripted::new();
    let grace = SessionConfig::default().shutdown_grace(Duration::from_millis(500));
    let stuck = waiting_server_with(seen_tx, started.clone(), grace);
    let task = tokio::spawn(async move { stuck.serve(transport).await });
    script.push_text(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"s","version":"1"}}}"#).await;
    script.recv().await;
    script.push_text(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait","arguments":{}}}"#).await;
    within("the handler to start", started.notified()).await;
    script.incoming.close_channel();
    let summary = within("the drain deadline", task).await.unwrap().unwrap();
    assert_eq!(summary.end, SessionEnd::DrainTimedOut);
    assert_eq!(within("the handler to be dropped", seen.recv()).await, Some("dropped"));
}

#[tokio::test]
async fn a_peer_vanishing_mid_request_fails_the_pending_call_clearly() {
    let (mut script, transport) = Scripted::new();
    let connect = tokio::spawn(Client::builder().connect(transport));
    let Message::Request(init) = script.recv().await else { panic!("initialize") };
    let result = json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "x", "version": "1"}});
    script.push(Ok(Message::response(init.id, &result).unwrap())).await;
    script.recv().await; // notifications/initialized
    let client = within("connect", connect).await.unwrap().unwrap();

    let call = tokio::spawn(async move { client.call_tool("slow", &json!({})).await });
    let Message::Request(request) = script.recv().await else { panic!("the tools/call") };
    assert_eq!(request.method, "tools/call");
    drop(script); // the server goes away without answering
    let err = within("the pending call to fail", call).await.unwrap().unwrap_err();
    assert!(matches!(err, PeerError::Closed(_)), "{err:?}");
    assert!(err.to_string().contains("closed the connection"), "{err}");
}

#[tokio::test]
async fn closing_the_client_ends_the_server_session_cleanly() {
    let (client_end, server_end) = memory::pair(16);
    let server = builder().build();
    let task = tokio::spawn(async move { server.serve(server_end).await });
    let client = within("connect", Client::connect(client_end)).await.unwrap();
    client.call_tool("echo", &json!({"message": "x"})).await.unwrap();
    let ours = within("the client to close", client.close()).await.unwrap();
    assert_eq!(ours.end, SessionEnd::Closed);
    assert_eq!(ours.requests_sent, 2);
    let theirs = within("the server session to end", task).await.unwrap().unwrap();
    assert_eq!(theirs.end, SessionEnd::PeerClosed);
    assert_eq!(theirs.requests_received, 2);
}

#[tokio::test]
async fn dropping_the_client_ends_the_server_session() {
    let (client_end, server_end) = memory::pair(16);
    let server = builder().build();
    let task = tokio::spawn(async move { server.serve(server_end).await });
    let client = within("connect", Client::connect(client_end)).await.unwrap();
    drop(client);
    let theirs = within("the server session to end", task).await.unwrap().unwrap();
    assert_eq!(theirs.end, SessionEnd::PeerClosed);
}

#[tokio::test]
async fn a_batch_larger_than_the_concurrency_limit_is_refused() {
    let (mut raw, _task) = Raw::start(builder().config(SessionConfig::default().max_concurrency(4)).build());
    raw.initialize("2025-03-26").await;
    let batch: Vec<String> = (0..5).map(|i| format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"ping"}}"#)).collect();
    raw.send_text(&format!("[{}]", batch.join(","))).await;
    let reply = raw.recv().await;
    assert_eq!(error_code(&reply), -32600);
    let Message::Error(e) = &reply else { unreachable!() };
    assert!(e.error.message.contains("max_concurrency"), "{}", e.error.message);
    raw.send_text(&format!("[{}]", batch[..4].join(","))).await;
    let Message::Batch(items) = raw.recv().await else { panic!("a batch response") };
    assert_eq!(items.len(), 4);
}

#[tokio::test]
async fn abandoning_connect_closes_the_half_open_session() {
    let (mut script, transport) = Scripted::new();
    let connect = Client::builder().connect(transport);
    let first = tokio::select! {
        _ = connect => panic!("nobody answers initialize"),
        msg = script.recv() => msg,
    };
    assert_eq!(first.method(), Some("initialize"));
    // The connect future is gone: the session task closes its transport.
    let rest: Vec<Message> = within("the transport to close", script.outgoing.collect()).await;
    assert!(rest.iter().all(|m| m.method() == Some("notifications/cancelled")), "{rest:?}");
}

/// A handler that finishes in its first poll is answered where it arrives (no trip through the
/// in-flight set); what it sent before finishing must still go out first, in order.
#[tokio::test]
async fn what_a_handler_sends_before_finishing_goes_out_before_its_response() {
    let server = builder()
        .tool(Tool::new("chatty", json!({"type": "object"})), |ctx: RequestContext, _a: Value| async move {
            for step in 1..=3 {
                ctx.progress(f64::from(step), Some(3.0), None).await?;
            }
            Ok(CallToolResult::text("done"))
        })
        .build();
    let (mut raw, _task) = Raw::start(server);
    raw.initialize("2025-11-25").await;
    for round in 0..3 {
        let id = 7 + round;
        let params = json!({"name": "chatty", "arguments": {}, "_meta": {"progressToken": "t"}});
        raw.send(Message::request(id, "tools/call", &params).unwrap()).await;
        let mut progress = Vec::new();
        let response = loop {
            match raw.recv().await {
                Message::Notification(n) if n.method == "notifications/progress" => {
                    progress.push(n.params.unwrap().to_value()["progress"].clone());
                }
                other => break other,
            }
        };
        assert_eq!(response.id(), Some(&RequestId::Number(id)));
        assert_eq!(result(&response)["content"][0]["text"], "done");
        // Integral progress is written as an integer, as the typed params do.
        assert_eq!(progress, [json!(1), json!(2), json!(3)], "round {round}");
    }
}

/// A transport whose sends complete inside its own polls, a little later (as the Streamable HTTP
/// client's POSTs do): `poll_flush` is `Ready` at once, and what was sent reaches the peer only
/// when the transport is polled again after its timer fired.
struct LateSends {
    to_peer: futures::channel::mpsc::Sender<Message>,
    from_peer: futures::channel::mpsc::Receiver<Result<Message, TransportError>>,
    unsent: std::collections::VecDeque<Message>,
    timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl LateSends {
    fn run_sends(&mut self, cx: &mut std::task::Context<'_>) {
        if self.unsent.is_empty() {
            return;
        }
        let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(5))));
        if timer.as_mut().poll(cx).is_ready() {
            self.timer = None;
            while let Some(message) = self.unsent.pop_front() {
                let _ = self.to_peer.try_send(message);
            }
        }
    }
}

impl futures::Sink<Message> for LateSends {
    type Error = TransportError;

    fn poll_ready(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn start_send(mut self: std::pin::Pin<&mut Self>, message: Message) -> Result<(), TransportError> {
        self.unsent.push_back(message);
        Ok(())
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        self.run_sends(cx);
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), TransportError>> {
        self.poll_flush(cx)
    }
}

impl futures::Stream for LateSends {
    type Item = Result<Message, TransportError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.run_sends(cx);
        self.from_peer.poll_next_unpin(cx)
    }
}

#[tokio::test]
async fn a_transport_whose_sends_run_in_its_polls_is_flushed_while_reading_is_held_back() {
    let (to_peer, mut outgoing) = futures::channel::mpsc::channel(64);
    let (mut incoming, from_peer) = futures::channel::mpsc::channel(64);
    let transport = LateSends { to_peer, from_peer, unsent: Default::default(), timer: None };
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    // One handler at a time: while it runs, the session reads nothing more.
    let server = builder()
        .config(SessionConfig::default().max_concurrency(1))
        .tool(Tool::new("report", json!({"type": "object"})), move |ctx: RequestContext, _a: Value| {
            let gate = gate.clone();
            async move {
                ctx.progress(1.0, None, Some("half way")).await?;
                gate.notified().await;
                Ok(CallToolResult::text("done"))
            }
        })
        .build();
    let _task = tokio::spawn(async move { server.serve(mcp_core::TransportExt::boxed(transport)).await });
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"s","version":"1"}}}"#;
    incoming.try_send(Ok(init.parse().unwrap())).unwrap();
    within("the initialize answer", outgoing.next()).await.expect("an answer");
    let call = json!({"name": "report", "arguments": {}, "_meta": {"progressToken": "p"}});
    incoming.try_send(Ok(Message::request(1, "tools/call", &call).unwrap())).unwrap();
    // The handler holds the only slot: the progress notification must still go out.
    let progress = within("the progress notification", outgoing.next()).await.expect("a message");
    assert_eq!(progress.method(), Some("notifications/progress"), "{progress:?}");
    release.notify_one();
    let answer = within("the call's answer", outgoing.next()).await.expect("a message");
    assert_eq!(result(&answer)["content"][0]["text"], "done");
}
