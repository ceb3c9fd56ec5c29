//! Shared test harness: a server on 127.0.0.1:0 with a small scripted MCP application behind it.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::{IncomingSession, Message};
use mcp_transport_sse::{HttpServer, HttpServerConfig, StreamControl};
use serde_json::{Value, json};

pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `fut` for at most 10 s, failing with `what` otherwise.
pub async fn within<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(WAIT, fut).await.unwrap_or_else(|_| panic!("timed out after 10 s waiting for {what}"))
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub server: HttpServer,
    pub http: reqwest::Client,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Starts a server with `config` and the scripted application.
pub async fn start(config: HttpServerConfig) -> TestServer {
    let (server, mut sessions) = HttpServer::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(mcp_transport_sse::serve(listener, server.clone(), std::future::pending()));
    tokio::spawn(async move {
        while let Some(session) = sessions.next().await {
            tokio::spawn(serve_session(session));
        }
    });
    TestServer { addr, server, http: http_client() }
}

/// The scripted application: `initialize` negotiates the requested version; `echo` returns its
/// params; `progress` sends a related notification first; `ask` makes a related server-to-client
/// request and answers with the client's reply; `drop_stream` closes its SSE connection before
/// answering; `whoami` returns the session's principal id; frame errors get their error reply.
pub async fn serve_session(session: IncomingSession) {
    let IncomingSession { transport, info } = session;
    let control = info.extensions.get::<StreamControl>().cloned();
    let whoami = info.principal.as_ref().map(|p| p.id.clone());
    let (mut sink, mut stream) = transport.split();
    let mut waiting_for_ask: Option<mcp_core::RequestId> = None;
    let mut queue = std::collections::VecDeque::new();
    loop {
        let message = match queue.pop_front() {
            Some(m) => m,
            None => match stream.next().await {
                None => break,
                Some(Ok(Message::Batch(items))) => {
                    queue.extend(items);
                    continue;
                }
                Some(Ok(m)) => m,
                Some(Err(err)) => {
                    if let Some(reply) = err.error_response() {
                        let _ = sink.send(reply).await;
                    }
                    continue;
                }
            },
        };
        match message {
            Message::Request(req) => {
                let params = req.params.as_ref().map(|p| p.to_value()).unwrap_or(Value::Null);
                let reply = match req.method.as_str() {
                    "initialize" => {
                        let version = params["protocolVersion"].as_str().unwrap_or("2025-11-25").to_owned();
                        json!({"protocolVersion": version, "capabilities": {}, "serverInfo": {"name": "test", "version": "0"}})
                    }
                    "echo" => params,
                    "whoami" => json!({ "principal": whoami }),
                    "progress" => {
                        let note = Message::notification(
                            "notifications/progress",
                            &json!({"progressToken": 1, "progress": 1}),
                        )
                        .unwrap()
                        .with_related_request(Some(req.id.clone()));
                        sink.send(note).await.unwrap();
                        json!({"done": true})
                    }
                    "drop_stream" => {
                        let note =
                            Message::notification("notifications/message", &json!({"level": "info", "data": "before"}))
                                .unwrap()
                                .with_related_request(Some(req.id.clone()));
                        sink.send(note).await.unwrap();
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        assert!(control.as_ref().unwrap().close_request_stream(&req.id));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        json!({"after": "reconnect"})
                    }
                    "ask" => {
                        waiting_for_ask = Some(req.id.clone());
                        let ask = Message::request("srv-1", "roots/list", &json!({}))
                            .unwrap()
                            .with_related_request(Some(req.id.clone()));
                        sink.send(ask).await.unwrap();
                        continue;
                    }
                    "notify_standalone" => {
                        let note = Message::notification("notifications/tools/list_changed", &json!({})).unwrap();
                        sink.send(note).await.unwrap();
                        json!({})
                    }
                    other => {
                        let err = mcp_core::ErrorObject::method_not_found(other);
                        sink.send(Message::error(Some(req.id), err)).await.unwrap();
                        continue;
                    }
                };
                if sink.send(Message::response(req.id, &reply).unwrap()).await.is_err() {
                    break;
                }
            }
            Message::Response(resp) => {
                if let Some(id) = waiting_for_ask.take() {
                    let reply = json!({ "client_said": resp.result.to_value() });
                    let _ = sink.send(Message::response(id, &reply).unwrap()).await;
                }
            }
            _ => {}
        }
    }
}

pub fn init_body(version: &str) -> String {
    json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion": version,"capabilities":{},"clientInfo":{"name":"t","version":"0"}}}).to_string()
}

pub fn request_body(id: i64, method: &str, params: Value) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string()
}

/// A POST with the headers a conforming client sends.
pub fn post(ts: &TestServer, session: Option<&str>, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    let mut req = ts
        .http
        .post(ts.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body);
    if let Some(s) = session {
        req = req.header("mcp-session-id", s).header("mcp-protocol-version", "2025-11-25");
    }
    req
}

/// Initializes a session and returns its id.
pub async fn initialize(ts: &TestServer) -> String {
    let resp = within("initialize", post(ts, None, init_body("2025-11-25")).send()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let id = resp.headers().get("mcp-session-id").expect("a session id").to_str().unwrap().to_owned();
    let _ = within("initialize body", resp.bytes()).await.unwrap();
    let ack = post(ts, Some(&id), r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).send().await.unwrap();
    assert_eq!(ack.status(), 202);
    id
}

/// Reads SSE events from a response until `until` says stop (or the stream ends).
pub async fn read_events(
    resp: reqwest::Response,
    mut until: impl FnMut(&mcp_transport_sse::sse::SseEvent) -> bool,
) -> Vec<mcp_transport_sse::sse::SseEvent> {
    use mcp_transport_sse::sse::{Decoded, SseDecoder};
    let mut decoder = SseDecoder::new(1 << 24);
    let mut events = Vec::new();
    let mut body = resp.bytes_stream();
    within("SSE events", async {
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else { break };
            decoder.push(&chunk);
            while let Some(Decoded::Event(e)) = decoder.next_event() {
                let stop = until(&e);
                events.push(e);
                if stop {
                    return;
                }
            }
        }
    })
    .await;
    events
}

/// The JSON-RPC messages among `events` (priming events have empty data).
pub fn messages(events: &[mcp_transport_sse::sse::SseEvent]) -> Vec<Value> {
    events.iter().filter(|e| !e.data.is_empty()).map(|e| serde_json::from_str(&e.data).unwrap()).collect()
}

/// The path of one of this crate's examples, built for this test's target directory and profile.
pub fn example(name: &str) -> std::path::PathBuf {
    mcp_testkit::tools::example("mcp-transport-sse", name)
}

/// The everything-http example, running on a free loopback port; killed on drop.
pub struct Everything {
    pub child: tokio::process::Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

pub async fn everything_http() -> Everything {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(example("everything-http"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the everything-http example");
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = within("the example's listening line", lines.next_line()).await.unwrap().expect("a line");
    let base = line.strip_prefix("listening on ").expect("listening on http://...").to_owned();
    Everything { child, base }
}
