//! This project: an `echo` server on mcp-peer and its Client, over the same media as rmcp's.

use std::sync::Arc;

use mcp_core::schema::{CallToolResult, Tool};
use mcp_peer::{Client, RequestContext, Server};
use mcp_transport_stdio::LinesTransport;

use crate::measure::Caller;

#[derive(serde::Deserialize)]
struct EchoArgs {
    message: String,
}

/// The echo server: the same tool and answer as the rmcp one.
pub fn echo_server() -> Server {
    Server::builder("bench-echo", "1.0.0")
        .tool(
            Tool::new(
                "echo",
                serde_json::json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}),
            ),
            |_ctx: RequestContext, args: EchoArgs| async move { Ok(CallToolResult::text(format!("Echo: {}", args.message))) },
        )
        .build()
}

/// Our client calling `echo`.
#[derive(Clone)]
pub struct OurCaller(pub Arc<Client>);

impl Caller for OurCaller {
    async fn call(&self, seq: u64) {
        let message = format!("m{seq}");
        let result = self.0.call_tool("echo", &serde_json::json!({ "message": message })).await.expect("our call");
        let text = result.content.first().and_then(|c| c.as_text()).unwrap_or_default();
        assert!(text.contains(&message), "our echo answered {text}");
    }
}

/// Our client, initialized over `transport`.
pub async fn client(transport: impl mcp_core::Transport) -> OurCaller {
    let client = tokio::time::timeout(std::time::Duration::from_secs(30), Client::connect(transport))
        .await
        .expect("our client initialized within 30 s")
        .expect("our client connect");
    OurCaller(Arc::new(client))
}

/// Serves the echo server on every session `acceptor` yields, until it ends.
pub fn serve_all(acceptor: impl mcp_core::Acceptor) {
    tokio::spawn(async move { echo_server().serve_acceptor(acceptor, std::future::pending()).await });
}

/// Server and client over an in-memory pair (bounded channels, no bytes at all).
pub async fn memory() -> OurCaller {
    let (client_end, server_end) = mcp_core::memory::pair(256);
    tokio::spawn(async move { echo_server().serve(server_end).await });
    client(client_end).await
}

/// Server and client over `tokio::io::duplex` with newline-JSON framing: the same medium as
/// the rmcp and raw rows.
pub async fn duplex() -> OurCaller {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    tokio::spawn(async move { echo_server().serve(LinesTransport::new(br, bw)).await });
    client(LinesTransport::new(ar, aw)).await
}

/// Our client spawning `program args` (our stdio server).
pub async fn child(program: &std::path::Path, args: &[&str]) -> OurCaller {
    let transport = mcp_transport_stdio::ChildProcess::new(program).args(args).spawn().expect("spawn our child");
    client(transport).await
}

/// Serves the echo server on this process's stdin/stdout until EOF.
pub async fn serve_stdio() {
    let transport = mcp_transport_stdio::stdio().expect("guard stdout");
    let _ = echo_server().serve(transport).await;
}
