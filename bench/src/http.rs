//! Streamable HTTP: our `HttpServer` + `connect_streamable_http` beside rmcp's
//! `StreamableHttpService` + `StreamableHttpClientTransport`, each with its defaults (both answer
//! a POST with an SSE stream), and the server-side memory of idle sessions.

use std::sync::Arc;
use std::time::Duration;

use mcp_transport_sse::{HttpClientConfig, HttpServer, HttpServerConfig, connect_streamable_http};
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::ours::{self, OurCaller};
use crate::rmcp_side::{RmcpCaller, RmcpEcho};

/// Our echo server behind an `HttpServer` on 127.0.0.1:0; returns its `/mcp` URL.
pub async fn our_server() -> String {
    let (server, sessions) = HttpServer::new(HttpServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let url = format!("http://{}/mcp", listener.local_addr().expect("local address"));
    tokio::spawn(mcp_transport_sse::serve(listener, server, std::future::pending()));
    ours::serve_all(sessions);
    url
}

/// rmcp's echo server as a `StreamableHttpService` on 127.0.0.1:0; returns its `/mcp` URL.
pub async fn rmcp_server() -> String {
    let service = StreamableHttpService::new(
        || Ok(RmcpEcho),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let url = format!("http://{}/mcp", listener.local_addr().expect("local address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// Our client on `url`.
pub async fn our_client(url: &str) -> OurCaller {
    ours::client(connect_streamable_http(url, HttpClientConfig::default()).expect("our HTTP client")).await
}

/// rmcp's client on `url`.
pub async fn rmcp_client(url: &str) -> RmcpCaller {
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.to_owned());
    let client = tokio::time::timeout(Duration::from_secs(30), ().serve(transport))
        .await
        .expect("rmcp client initialized within 30 s")
        .expect("rmcp HTTP client");
    RmcpCaller(Arc::new(client))
}

/// Opens `n` sessions on the server at `url` (initialize + notifications/initialized, through one
/// shared HTTP client, so that only the server's side of a session costs memory) and returns
/// their ids and negotiated revisions; the sessions stay open.
pub async fn open_idle_sessions(url: &str, n: usize) -> Vec<(String, String)> {
    let http = reqwest::Client::new();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let init = serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench-idle", "version": "1"}}
        });
        let post = http.post(url).header("accept", "application/json, text/event-stream").json(&init).send();
        let response = tokio::time::timeout(Duration::from_secs(30), post)
            .await
            .unwrap_or_else(|_| panic!("initialize {i} answered within 30 s"))
            .expect("initialize POST");
        assert!(response.status().is_success(), "initialize {i}: HTTP {}", response.status());
        let id = response
            .headers()
            .get("mcp-session-id")
            .expect("Mcp-Session-Id on initialize")
            .to_str()
            .unwrap()
            .to_owned();
        let body = tokio::time::timeout(Duration::from_secs(30), response.text())
            .await
            .unwrap_or_else(|_| panic!("initialize {i} body within 30 s"))
            .expect("initialize body");
        let version = negotiated_version(&body);
        let initialized = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let post = http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &id)
            .header("mcp-protocol-version", &version)
            .json(&initialized)
            .send();
        let response = tokio::time::timeout(Duration::from_secs(30), post)
            .await
            .unwrap_or_else(|_| panic!("initialized {i} answered within 30 s"))
            .expect("initialized POST");
        assert!(response.status().is_success(), "notifications/initialized {i}: HTTP {}", response.status());
        ids.push((id, version));
    }
    ids
}

/// The protocol version in an initialize answer, sent as JSON or as one SSE event.
fn negotiated_version(body: &str) -> String {
    let json = body
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .find(|d| d.contains("protocolVersion"))
        .unwrap_or(body);
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("initialize answer {body:?}: {e}"));
    v["result"]["protocolVersion"].as_str().expect("result.protocolVersion").to_owned()
}

/// The raw medium: an axum `POST` handler that answers each JSON-RPC request with a one-event
/// SSE body (what a Streamable HTTP reply is on the wire), on 127.0.0.1:0 with `TCP_NODELAY`,
/// no session, no MCP. Returns its URL.
pub async fn raw_server() -> String {
    async fn echo(body: axum::body::Bytes) -> axum::response::Response {
        let answer = crate::raw::echo_answer(&body).expect("raw HTTP request is JSON");
        let mut event = Vec::with_capacity(answer.len() + 24);
        event.extend_from_slice(b"event: message\ndata: ");
        event.extend_from_slice(&answer);
        event.extend_from_slice(b"\n\n");
        axum::response::Response::builder()
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache")
            .body(axum::body::Body::from(event))
            .expect("response")
    }
    let router = axum::Router::new().route("/raw", axum::routing::post(echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let url = format!("http://{}/raw", listener.local_addr().expect("local address"));
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// A raw reqwest client POSTing JSON-RPC requests and reading the SSE body: to [`raw_server`],
/// or (with a session's headers) to an MCP server, which isolates the server's share of a round
/// trip.
#[derive(Clone)]
pub struct RawHttpCaller {
    http: reqwest::Client,
    url: Arc<str>,
    session: Option<(String, String)>,
}

/// A raw reqwest client of [`raw_server`] at `url`.
pub fn raw_client(url: &str) -> RawHttpCaller {
    RawHttpCaller {
        http: reqwest::Client::builder().no_proxy().build().expect("reqwest client"),
        url: url.into(),
        session: None,
    }
}

/// A raw reqwest client of the MCP server at `url`, in a session it opened with initialize.
pub async fn raw_session_client(url: &str) -> RawHttpCaller {
    let mut caller = raw_client(url);
    let session = open_idle_sessions(url, 1).await.pop().expect("one session");
    caller.session = Some(session);
    caller
}

impl crate::measure::Caller for RawHttpCaller {
    async fn call(&self, seq: u64) {
        let mut request = self
            .http
            .post(&*self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some((id, version)) = &self.session {
            request = request.header("mcp-session-id", id).header("mcp-protocol-version", version);
        }
        let response = request.body(crate::raw::request(seq)).send().await.expect("raw POST");
        let body = response.bytes().await.expect("raw SSE body");
        let text = std::str::from_utf8(&body).expect("UTF-8 body");
        let marker = format!("m{seq}");
        let data = text.lines().filter_map(|l| l.strip_prefix("data:")).find(|d| d.contains(&marker));
        assert!(data.is_some(), "HTTP echo answered {text}");
    }
}

/// Serves `kind` (`ours`, `rmcp` or `raw`) on 127.0.0.1:0 in this process, prints its URL on
/// stdout and returns when stdin closes (the parent exited or dropped us).
pub async fn serve_http_until_stdin_closes(kind: &str) {
    use tokio::io::AsyncReadExt;
    let url = match kind {
        "ours" => our_server().await,
        "rmcp" => rmcp_server().await,
        "raw" => raw_server().await,
        other => panic!("unknown --serve-http {other}"),
    };
    println!("{url}");
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
}

/// A Streamable HTTP server of one kind running in a child process of the bench (as servers are
/// deployed: its own process and runtime), killed when dropped.
pub struct ServerProcess {
    /// The server's endpoint.
    pub url: String,
    _child: tokio::process::Child,
}

impl ServerProcess {
    /// Starts `exe --serve-http kind` and waits (up to 30 s) for the URL it prints.
    pub async fn start(exe: &std::path::Path, kind: &str) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(exe)
            .args(["--serve-http", kind])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn the bench as an HTTP server");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let mut reader = tokio::io::BufReader::new(stdout);
        tokio::time::timeout(Duration::from_secs(30), reader.read_line(&mut line))
            .await
            .unwrap_or_else(|_| panic!("--serve-http {kind} printed its URL within 30 s"))
            .expect("read the server's URL");
        let url = line.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "--serve-http {kind} printed {url:?}");
        Self { url, _child: child }
    }
}
