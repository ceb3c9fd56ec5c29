//! A quick throughput check: `tools/call` of an `echo` tool over an in-memory pair, with 1 and
//! 32 calls in flight. The project's benchmark harness (`bench/`) is the reference; this is
//! for a fast look while working on the engine.
//!
//! ```sh
//! cargo run --release -p mcp-peer --example echo_throughput
//! ```

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use mcp_core::memory;
use mcp_core::schema::{CallToolResult, Tool};
use mcp_peer::{Client, RequestContext, Server};
use serde_json::json;

#[derive(serde::Deserialize)]
struct Echo {
    message: String,
}

async fn run(in_flight: usize, duration: Duration) -> f64 {
    let schema = json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]});
    let server = Server::builder("bench", "1")
        .tool(Tool::new("echo", schema), |_ctx: RequestContext, args: Echo| async move {
            Ok(CallToolResult::text(args.message))
        })
        .build();
    let (client_end, server_end) = memory::pair(64);
    tokio::spawn(async move { server.serve(server_end).await });
    let client = Client::connect(client_end).await.expect("connect");
    let args = json!({"message": "hello"});
    let start = Instant::now();
    let mut done = 0u64;
    let mut calls = FuturesUnordered::new();
    for _ in 0..in_flight {
        calls.push(client.call_tool("echo", &args));
    }
    while let Some(result) = calls.next().await {
        result.expect("call");
        done += 1;
        if start.elapsed() < duration {
            calls.push(client.call_tool("echo", &args));
        }
    }
    done as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
#[allow(clippy::print_stdout)] // a command-line report
async fn main() {
    for in_flight in [1, 32] {
        let rate = run(in_flight, Duration::from_secs(3)).await;
        println!("{in_flight:>3} in flight: {rate:>10.0} calls/s");
    }
}
