//! Round trips over loopback WebSocket beside a raw tokio-tungstenite echo, in one run, and the
//! memory of idle connections.
//!
//! ```text
//! cargo run --release -p mcp-transport-ws --example bench-ws [-- --count 20000 --idle 2000]
//! ```
//!
//! Rows, for 1 and 32 requests in flight (client and server in this process):
//! - `raw tokio-tungstenite echo`: text frames echoed by a bare tokio-tungstenite server (the
//!   medium alone);
//! - `WsTransport echo`: the same request as a `Message` through this crate's client and server
//!   transports, decoded and re-encoded on both sides (what the transport adds);
//! - `mcp-peer call_tool`: `Client::call_tool("echo")` over this crate's client, served by the
//!   testkit fixture through `WsListener` (what a user sees, both ends ours).
//!
//! Then `--idle` idle connections (both ends in this process) and the resident memory they add.

#![allow(clippy::print_stdout)] // the table is the example's output

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use mcp_core::Message;
use mcp_transport_ws::{WsClientConfig, WsListener, WsServerConfig, connect};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const REQUEST: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut count = 20_000usize;
    let mut idle = 2_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => count = args.next().ok_or("--count needs a value")?.parse()?,
            "--idle" => idle = args.next().ok_or("--idle needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other:?} (expected --count N --idle N)").into()),
        }
    }
    println!("| path | in flight | round trips/s | mean latency | vs raw |");
    println!("|---|---|---|---|---|");
    for window in [1usize, 32] {
        let n = if window == 1 { count / 4 } else { count };
        let raw = raw_round_trips(n, window).await?;
        row("raw tokio-tungstenite echo", window, n, raw, raw);
        let transport = transport_round_trips(n, window).await?;
        row("WsTransport echo", window, n, transport, raw);
        let peer = peer_round_trips(n, window).await?;
        row("mcp-peer call_tool over WsTransport", window, n, peer, raw);
    }
    let per_connection = idle_memory(idle).await?;
    println!("\n{idle} idle connections (both ends in this process): {per_connection} bytes of RSS per connection");
    Ok(())
}

fn row(path: &str, window: usize, n: usize, took: Duration, raw: Duration) {
    let rate = n as f64 / took.as_secs_f64();
    let latency = took.as_secs_f64() * window as f64 / n as f64;
    let ratio = raw.as_secs_f64() / took.as_secs_f64();
    println!("| {path} | {window} | {rate:.0} | {:.1} µs | {ratio:.2}x |", latency * 1e6);
}

/// Sends `n` requests through `sink`, keeping `window` in flight, reading each answer from `stream`.
async fn pipeline<Si, St, T>(sink: &mut Si, stream: &mut St, item: T, n: usize, window: usize) -> Duration
where
    Si: futures::Sink<T> + Unpin,
    St: futures::Stream + Unpin,
    T: Clone,
{
    let start = Instant::now();
    let mut sent = 0;
    for _ in 0..window.min(n) {
        let _ = sink.feed(item.clone()).await;
        sent += 1;
    }
    let _ = sink.flush().await;
    for _ in 0..n {
        if stream.next().await.is_none() {
            break;
        }
        if sent < n {
            let _ = sink.send(item.clone()).await;
            sent += 1;
        }
    }
    start.elapsed()
}

async fn raw_round_trips(n: usize, window: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = tcp.local_addr()?;
    tokio::spawn(async move {
        let Ok((stream, _)) = tcp.accept().await else { return };
        let _ = stream.set_nodelay(true);
        let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
        while let Some(Ok(frame)) = ws.next().await {
            if frame.is_text() && ws.send(frame).await.is_err() {
                break;
            }
        }
    });
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), stream).await?;
    let (mut tx, mut rx) = ws.split();
    Ok(pipeline(&mut tx, &mut rx, WsMessage::text(REQUEST), n, window).await)
}

async fn transport_round_trips(n: usize, window: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let mut listener = WsListener::bind("127.0.0.1:0", WsServerConfig::default()).await?;
    let client = connect(&listener.url(), &WsClientConfig::default()).await?;
    let mut session = listener.next().await.ok_or("no session")?;
    tokio::spawn(async move {
        while let Some(Ok(message)) = session.transport.next().await {
            if session.transport.send(message).await.is_err() {
                break;
            }
        }
    });
    let request: Message = REQUEST.parse()?;
    let (mut tx, mut rx) = client.split();
    Ok(pipeline(&mut tx, &mut rx, request, n, window).await)
}

async fn peer_round_trips(n: usize, window: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let listener = WsListener::bind("127.0.0.1:0", WsServerConfig::default()).await?;
    let url = listener.url();
    tokio::spawn(
        async move { mcp_testkit::fixtures::everything().serve_acceptor(listener, std::future::pending()).await },
    );
    let client = Arc::new(mcp_peer::Client::connect(connect(&url, &WsClientConfig::default()).await?).await?);
    let args = serde_json::json!({"message": "hello"});
    let per_task = n / window;
    let start = Instant::now();
    let tasks: Vec<_> = (0..window)
        .map(|_| {
            let client = client.clone();
            let args = args.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    client.call_tool("echo", &args).await.map_err(|e| e.to_string())?;
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(start.elapsed())
}

async fn idle_memory(count: usize) -> Result<usize, Box<dyn std::error::Error>> {
    let rss = || -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kib = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1));
        kib.and_then(|k| k.parse::<usize>().ok()).unwrap_or(0) * 1024
    };
    let mut listener = WsListener::bind("127.0.0.1:0", WsServerConfig::default()).await?;
    let url = listener.url();
    let accepting = tokio::spawn(async move {
        let mut sessions = Vec::new();
        while sessions.len() < count {
            let Some(session) = listener.next().await else { break };
            sessions.push(session);
        }
        sessions
    });
    let before = rss();
    let mut clients = Vec::with_capacity(count);
    for _ in 0..count {
        clients.push(connect(&url, &WsClientConfig::default()).await?);
    }
    let sessions = accepting.await?;
    let after = rss();
    drop((clients, sessions));
    Ok(after.saturating_sub(before) / count.max(1))
}
