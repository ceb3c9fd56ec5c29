//! Round trips to a child process over stdio beside the raw medium, in one run.
//!
//! ```text
//! cargo run --release -p mcp-transport-stdio --example bench-stdio [-- --count 20000]
//! ```
//!
//! Rows, for 1 and 32 requests in flight:
//! - `raw lines to cat`: JSON-RPC request lines written to `cat` and read back (the pipes and a
//!   process hop alone);
//! - `ChildProcessTransport to cat`: the same request as a `Message` through this crate's
//!   child-process transport, decoded when it comes back (what the framing adds);
//! - `mcp-peer call_tool`: `Client::call_tool("echo")` over a `ChildProcessTransport` to this
//!   example serving the testkit fixture on `stdio()` (what a user sees, both ends ours).
//!
//! The rmcp comparison lives in the workspace's `bench/` harness.

#![allow(clippy::print_stdout)] // the table is the example's output

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use mcp_core::Message;
use mcp_transport_stdio::ChildProcess;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const REQUEST: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut count = 20_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--serve" => return serve().await,
            "--count" => count = args.next().ok_or("--count needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other:?} (expected --count N)").into()),
        }
    }
    println!("| path | in flight | round trips/s | mean latency | vs raw |");
    println!("|---|---|---|---|---|");
    for window in [1usize, 32] {
        let n = if window == 1 { count / 4 } else { count };
        let raw = raw_round_trips(n, window).await?;
        row("raw lines to cat", window, n, raw, raw);
        let transport = transport_round_trips(n, window).await?;
        row("ChildProcessTransport to cat", window, n, transport, raw);
        let peer = peer_round_trips(n, window).await?;
        row("mcp-peer call_tool (child on stdio())", window, n, peer, raw);
    }
    Ok(())
}

/// The child side of the `mcp-peer` rows.
async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let transport = mcp_transport_stdio::stdio()?;
    mcp_testkit::fixtures::everything().serve_session(transport.into_session()).await?;
    Ok(())
}

fn row(path: &str, window: usize, n: usize, took: Duration, raw: Duration) {
    let rate = n as f64 / took.as_secs_f64();
    let latency = took.as_secs_f64() * window as f64 / n as f64;
    let ratio = raw.as_secs_f64() / took.as_secs_f64();
    println!("| {path} | {window} | {rate:.0} | {:.1} µs | {ratio:.2}x |", latency * 1e6);
}

/// Keeps `window` lines in flight through `cat`, `n` in all.
async fn raw_round_trips(n: usize, window: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let mut cat =
        Command::new("cat").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn()?;
    let mut stdin = cat.stdin.take().ok_or("cat's stdin")?;
    let mut stdout = BufReader::new(cat.stdout.take().ok_or("cat's stdout")?);
    let line = format!("{REQUEST}\n");
    let mut back = String::new();
    let start = Instant::now();
    let mut sent = 0;
    for _ in 0..window.min(n) {
        stdin.write_all(line.as_bytes()).await?;
        sent += 1;
    }
    for _ in 0..n {
        back.clear();
        stdout.read_line(&mut back).await?;
        if sent < n {
            stdin.write_all(line.as_bytes()).await?;
            sent += 1;
        }
    }
    let took = start.elapsed();
    drop(stdin);
    cat.wait().await?;
    Ok(took)
}

/// The same through a `ChildProcessTransport`: encoded, relayed by `cat`, decoded.
async fn transport_round_trips(n: usize, window: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let mut transport = ChildProcess::new("cat").spawn()?;
    let request: Message = REQUEST.parse()?;
    let start = Instant::now();
    let mut sent = 0;
    for _ in 0..window.min(n) {
        transport.feed(request.clone()).await?;
        sent += 1;
    }
    transport.flush().await?;
    for _ in 0..n {
        let back = transport.next().await.ok_or("cat ended")??;
        debug_assert_eq!(back.method(), Some("tools/call"));
        if sent < n {
            transport.send(request.clone()).await?;
            sent += 1;
        }
    }
    let took = start.elapsed();
    transport.shutdown().await?;
    Ok(took)
}

/// `window` tasks calling `echo` on one client, `n` calls in all.
async fn peer_round_trips(n: usize, window: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let transport = ChildProcess::new(exe).arg("--serve").spawn()?;
    let client = Arc::new(mcp_peer::Client::connect(transport).await?);
    let args = serde_json::json!({"message": "hello"});
    let start = Instant::now();
    let per_task = n / window;
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
    let took = start.elapsed();
    Arc::try_unwrap(client).map_err(|_| "client still shared")?.close().await?;
    Ok(took)
}
