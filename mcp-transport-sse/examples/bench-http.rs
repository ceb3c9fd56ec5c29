//! Measures Streamable HTTP round trips (`tools/call echo` through mcp-peer, 1 and 32 in
//! flight) and the memory of idle sessions, over 127.0.0.1, server and client in one process.
//!
//! ```text
//! cargo run --release -p mcp-transport-sse --example bench-http -- [calls] [idle-sessions]
//! ```

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use mcp_transport_sse::{HttpClientConfig, HttpServer, HttpServerConfig, connect_streamable_http};
use serde_json::json;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let calls: usize = args.next().map_or(Ok(2000), |a| a.parse())?;
    let idle: usize = args.next().map_or(Ok(1000), |a| a.parse())?;

    let (server, mut sessions) = HttpServer::new(HttpServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/mcp", listener.local_addr()?);
    tokio::spawn(mcp_transport_sse::serve(listener, server.clone(), std::future::pending()));
    let fixture = mcp_testkit::fixtures::everything();
    tokio::spawn(async move {
        while let Some(session) = sessions.next().await {
            let fixture = fixture.clone();
            tokio::spawn(async move { fixture.serve_session(session).await });
        }
    });

    let transport = connect_streamable_http(&url, HttpClientConfig::default().standalone_stream(false))?;
    let client = Arc::new(mcp_peer::Client::connect(transport).await?);
    let args = json!({"message": "hi"});
    for in_flight in [1usize, 32] {
        let start = Instant::now();
        futures::stream::iter(0..calls)
            .map(|_| {
                let client = Arc::clone(&client);
                let args = args.clone();
                async move { client.call_tool("echo", &args).await.map(|_| ()) }
            })
            .buffer_unordered(in_flight)
            .for_each(|r| async move { r.expect("echo") })
            .await;
        let secs = start.elapsed().as_secs_f64();
        eprintln!("round trips, {in_flight:>2} in flight: {:>8.0} calls/s ({calls} calls)", calls as f64 / secs);
    }

    let before = rss_bytes();
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"0"}}}).to_string();
    for _ in 0..idle {
        let resp = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(init.clone())
            .send()
            .await?;
        resp.bytes().await?;
    }
    let after = rss_bytes();
    eprintln!(
        "idle sessions: {} live, RSS +{} KiB, ~{} bytes per session (server side, with its mcp-peer session task)",
        server.session_count(),
        (after.saturating_sub(before)) / 1024,
        after.saturating_sub(before) / idle.max(1) as u64
    );
    Ok(())
}
