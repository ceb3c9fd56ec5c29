//! Benchmarks: this project's MCP stack side by side with rmcp 3.9 (the official Rust SDK) and
//! the raw medium, in one run, on one machine. Prints a markdown table of calls/s and latency,
//! with ratios; docs/BENCHMARKS.md records the figures and the exact command.
//!
//! ```sh
//! cd bench && cargo run --release -- --seconds 5
//! ```

mod gateway;
mod http;
mod measure;
mod nats;
mod ours;
mod raw;
mod redis_bus;
mod rmcp_side;
mod ws;

use std::time::Duration;

use clap::Parser;
use measure::{Caller, Measurement};

#[derive(Parser)]
struct Args {
    /// Seconds measured per row (after one second of warm-up).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Only scenarios whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Only rows whose name contains this (e.g. `mcp-transport-sse`); the others are skipped.
    #[arg(long)]
    rows: Option<String>,
    /// Worker threads of the bench's runtime (default: one per CPU, tokio's default).
    #[arg(long)]
    worker_threads: Option<usize>,
    /// Calls in flight per row, comma-separated (default: 1,32).
    #[arg(long, value_delimiter = ',', default_values_t = IN_FLIGHT)]
    in_flight: Vec<usize>,
    /// Run every row this many times, interleaved with the other rows of its table (A, B, C, A,
    /// B, C, ...), and report each row's median run with the range of its calls/s: a change in
    /// the machine's state during the run then hits every row alike.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Idle sessions/connections opened for the memory rows.
    #[arg(long, default_value_t = 1000)]
    idle: usize,
    /// The mcp-gateway binary (default: next to this executable, as `cargo build --release -p
    /// mcp-gateway` with the same target directory leaves it).
    #[arg(long)]
    gateway: Option<std::path::PathBuf>,
    /// Internal: measure the memory of idle sessions of one kind (`http-rmcp`, `http-ours`,
    /// `ws-raw`, `ws-ours`) in this fresh process and print KiB per session on stdout.
    #[arg(long, hide = true)]
    idle_probe: Option<String>,
    /// Internal: serve on stdio (`raw`, `rmcp` or `ours`) for the child-process rows.
    #[arg(long, hide = true)]
    serve: Option<String>,
    /// Internal: serve Streamable HTTP (`raw`, `rmcp` or `ours`) on 127.0.0.1:0, print the URL
    /// on stdout and run until stdin closes, for the rows with the server in its own process.
    #[arg(long, hide = true)]
    serve_http: Option<String>,
}

const IN_FLIGHT: [usize; 2] = [1, 32];

/// `--rows`: only rows whose name contains this are measured.
static ROWS: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Measures one row (`None` when `--rows` leaves it out).
async fn row<C: Caller>(name: &str, caller: C, in_flight: usize, secs: f64) -> Option<Measurement> {
    if ROWS.get().and_then(Option::as_deref).is_some_and(|wanted| !name.contains(wanted)) {
        return None;
    }
    let m = measure::run(name, caller, in_flight, Duration::from_secs(1), Duration::from_secs_f64(secs)).await;
    eprintln!(
        "  {:<44} {:>3} in flight: {:>9.0} calls/s  p50 {:>7.0} us  p99 {:>7.0} us",
        m.name, in_flight, m.calls_per_sec, m.p50_us, m.p99_us
    );
    Some(m)
}

/// Prints `rows` as a markdown table; rows whose name starts with `ours` get a ratio column per
/// `(header, baseline row name)` in `against`, at the same number in flight.
/// A row measured several times is reported as its median run, with the range of its calls/s.
fn print_table(title: &str, rows: &[Measurement], ours: &str, against: &[(&str, &str)]) {
    let (rows, ranges) = medians(rows);
    let repeated = ranges.iter().any(|r| r.is_some());
    println!("\n### {title}\n");
    let headers: String = against.iter().map(|(h, _)| format!(" {h} |")).collect();
    let aligns: String = against.iter().map(|_| "---:|").collect();
    let (range_header, range_align) = if repeated { (" calls/s range |", "---:|") } else { ("", "") };
    println!("| stack | in flight | calls/s |{range_header} p50 µs | p99 µs |{headers}");
    println!("|---|---:|---:|{range_align}---:|---:|{aligns}");
    for (m, range) in rows.iter().zip(&ranges) {
        let ratios: String = against
            .iter()
            .map(|(_, base)| {
                let base = rows.iter().find(|r| r.name == *base && r.in_flight == m.in_flight);
                match base {
                    Some(b) if m.name.starts_with(ours) => format!(" {:.2}x |", m.calls_per_sec / b.calls_per_sec),
                    _ => " |".to_owned(),
                }
            })
            .collect();
        let range = match range {
            Some((lo, hi, n)) => format!(" {lo:.0}-{hi:.0} ({n} runs) |"),
            None if repeated => " |".to_owned(),
            None => String::new(),
        };
        println!(
            "| {} | {} | {:.0} |{range} {:.0} | {:.0} |{ratios}",
            m.name, m.in_flight, m.calls_per_sec, m.p50_us, m.p99_us
        );
    }
}

/// The lowest and highest calls/s of a repeated row, and how many runs it had.
type Range = (f64, f64, usize);

/// Collapses repeated runs of a row (same name, same in flight) into its median run, in the order
/// rows first appeared; returns, per row, the lowest and highest calls/s and the number of runs
/// when there was more than one.
fn medians(rows: &[Measurement]) -> (Vec<Measurement>, Vec<Option<Range>>) {
    let mut keys: Vec<(&str, usize)> = Vec::new();
    for m in rows {
        if !keys.contains(&(m.name.as_str(), m.in_flight)) {
            keys.push((m.name.as_str(), m.in_flight));
        }
    }
    keys.iter()
        .map(|&(name, in_flight)| {
            let mut runs: Vec<&Measurement> =
                rows.iter().filter(|m| m.name == name && m.in_flight == in_flight).collect();
            runs.sort_by(|a, b| a.calls_per_sec.total_cmp(&b.calls_per_sec));
            let median = runs[(runs.len() - 1) / 2].clone();
            let range =
                (runs.len() > 1).then(|| (runs[0].calls_per_sec, runs[runs.len() - 1].calls_per_sec, runs.len()));
            (median, range)
        })
        .unzip()
}

/// Prints the memory rows: `(what, KiB per item)`.
fn print_memory(title: &str, rows: &[(&str, f64)]) {
    println!("\n### {title}\n");
    println!("| stack | KiB of RSS per idle item |");
    println!("|---|---:|");
    for (name, kib) in rows {
        println!("| {name} | {kib:.1} |");
    }
}

fn main() {
    let args = Args::parse();
    if args.serve.as_deref() == Some("raw") {
        raw::serve_stdio_blocking();
        return;
    }
    if let Some(kind) = &args.serve {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            match kind.as_str() {
                "rmcp" => rmcp_side::serve_stdio().await,
                "ours" => ours::serve_stdio().await,
                other => panic!("unknown --serve {other}"),
            }
        });
        return;
    }
    // reqwest (rmcp's HTTP client and ours) is built without a TLS provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.worker_threads {
        builder.worker_threads(threads.max(1));
    }
    let rt = builder.enable_all().build().expect("runtime");
    let _ = ROWS.set(args.rows.clone());
    if let Some(kind) = &args.serve_http {
        rt.block_on(http::serve_http_until_stdin_closes(kind));
        return;
    }
    if let Some(kind) = &args.idle_probe {
        let kib = rt.block_on(idle_probe(kind, args.idle));
        println!("{kib}");
        return;
    }
    rt.block_on(run(args));
}

/// KiB of RSS per idle session of `kind`, measured in this process.
async fn idle_probe(kind: &str, n: usize) -> f64 {
    match kind {
        "http-rmcp" => {
            let url = http::rmcp_server().await;
            measure::kib_per_item(n, |k| http::open_idle_sessions(&url, k)).await
        }
        "http-ours" => {
            let url = http::our_server().await;
            measure::kib_per_item(n, |k| http::open_idle_sessions(&url, k)).await
        }
        "ws-raw" => {
            let url = ws::raw_server().await;
            measure::kib_per_item(n, |k| ws::raw_idle(&url, k)).await
        }
        "ws-ours" => {
            let url = ws::our_server().await;
            measure::kib_per_item(n, |k| ws::our_idle(&url, k)).await
        }
        other => panic!("unknown --idle-probe {other}"),
    }
}

/// Runs `--idle-probe kind` in a child process and returns its figure.
async fn idle_in_child(exe: &std::path::Path, kind: &str, n: usize) -> f64 {
    let output = tokio::process::Command::new(exe)
        .args(["--idle-probe", kind, "--idle", &n.to_string()])
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), output)
        .await
        .unwrap_or_else(|_| panic!("--idle-probe {kind} finished within 300 s"))
        .expect("run --idle-probe");
    assert!(output.status.success(), "--idle-probe {kind} failed: {}", output.status);
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().unwrap_or_else(|e| panic!("--idle-probe {kind} printed {text:?}: {e}"))
}

async fn run(args: Args) {
    let secs = args.seconds;
    let wanted = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
    let exe = std::env::current_exe().expect("own path");
    // Each in-flight count `repeat` times in a row: the rows of a table take turns.
    let runs: Vec<usize> = args.in_flight.iter().flat_map(|&n| std::iter::repeat_n(n, args.repeat.max(1))).collect();

    if wanted("in-process") {
        eprintln!("in-process echo round trips");
        let mut rows = Vec::new();
        for &n in &runs {
            rows.extend(row("raw JSON lines (tokio duplex)", raw::in_process(), n, secs).await);
            rows.extend(row("rmcp 3.9 (tokio duplex)", rmcp_side::in_process().await, n, secs).await);
            rows.extend(row("mcp-peer (tokio duplex)", ours::duplex().await, n, secs).await);
            rows.extend(row("mcp-peer (memory pair)", ours::memory().await, n, secs).await);
        }
        print_table(
            "In-process: tools/call echo",
            &rows,
            "mcp-peer",
            &[("vs rmcp", "rmcp 3.9 (tokio duplex)"), ("vs raw", "raw JSON lines (tokio duplex)")],
        );
    }

    if wanted("child") {
        eprintln!("child-process echo round trips");
        let mut rows = Vec::new();
        for &n in &runs {
            let (raw_caller, _raw_child) = raw::child(&exe, &["--serve", "raw"]);
            rows.extend(row("raw JSON lines (child process)", raw_caller, n, secs).await);
            rows.extend(
                row("rmcp 3.9 (child process)", rmcp_side::child(&exe, &["--serve", "rmcp"]).await, n, secs).await,
            );
            rows.extend(
                row("mcp-transport-stdio (child process)", ours::child(&exe, &["--serve", "ours"]).await, n, secs)
                    .await,
            );
        }
        print_table(
            "Child process over stdio: tools/call echo",
            &rows,
            "mcp-transport-stdio",
            &[("vs rmcp", "rmcp 3.9 (child process)"), ("vs raw", "raw JSON lines (child process)")],
        );
    }

    if wanted("http") {
        eprintln!("Streamable HTTP echo round trips");
        let (our_url, rmcp_url, raw_url) =
            (http::our_server().await, http::rmcp_server().await, http::raw_server().await);
        let mut rows = Vec::new();
        for &n in &runs {
            rows.extend(row("raw axum POST + reqwest (SSE body)", http::raw_client(&raw_url), n, secs).await);
            rows.extend(
                row("rmcp 3.9 (Streamable HTTP, SSE replies)", http::rmcp_client(&rmcp_url).await, n, secs).await,
            );
            rows.extend(
                row("mcp-transport-sse (Streamable HTTP, SSE replies)", http::our_client(&our_url).await, n, secs)
                    .await,
            );
            rows.extend(
                row("reqwest POSTs → mcp-transport-sse server", http::raw_session_client(&our_url).await, n, secs)
                    .await,
            );
        }
        print_table(
            "Streamable HTTP on 127.0.0.1: tools/call echo",
            &rows,
            "mcp-transport-sse",
            &[("vs rmcp", "rmcp 3.9 (Streamable HTTP, SSE replies)"), ("vs raw", "raw axum POST + reqwest (SSE body)")],
        );
        eprintln!("Streamable HTTP echo round trips, each server in its own process");
        let (our_server, rmcp_server, raw_server) = (
            http::ServerProcess::start(&exe, "ours").await,
            http::ServerProcess::start(&exe, "rmcp").await,
            http::ServerProcess::start(&exe, "raw").await,
        );
        let mut rows = Vec::new();
        for &n in &runs {
            rows.extend(
                row("raw axum POST + reqwest (SSE body), 2 processes", http::raw_client(&raw_server.url), n, secs)
                    .await,
            );
            rows.extend(
                row("rmcp 3.9 (Streamable HTTP), 2 processes", http::rmcp_client(&rmcp_server.url).await, n, secs)
                    .await,
            );
            rows.extend(
                row(
                    "mcp-transport-sse (Streamable HTTP), 2 processes",
                    http::our_client(&our_server.url).await,
                    n,
                    secs,
                )
                .await,
            );
        }
        print_table(
            "Streamable HTTP on 127.0.0.1, server in its own process: tools/call echo",
            &rows,
            "mcp-transport-sse",
            &[
                ("vs rmcp", "rmcp 3.9 (Streamable HTTP), 2 processes"),
                ("vs raw", "raw axum POST + reqwest (SSE body), 2 processes"),
            ],
        );
        eprintln!("Streamable HTTP idle sessions");
        let rmcp_kib = idle_in_child(&exe, "http-rmcp", args.idle).await;
        let our_kib = idle_in_child(&exe, "http-ours", args.idle).await;
        print_memory(
            &format!(
                "Streamable HTTP: server memory per idle session ({} sessions, initialize only, fresh process each)",
                args.idle
            ),
            &[("rmcp 3.9 StreamableHttpService", rmcp_kib), ("mcp-transport-sse HttpServer", our_kib)],
        );
    }

    if wanted("ws") {
        eprintln!("WebSocket echo round trips");
        let (our_url, raw_url) = (ws::our_server().await, ws::raw_server().await);
        let mut rows = Vec::new();
        for &n in &runs {
            rows.extend(row("raw tokio-tungstenite echo", ws::RawWsCaller::connect(&raw_url).await, n, secs).await);
            rows.extend(row("mcp-transport-ws + mcp-peer", ws::our_client(&our_url).await, n, secs).await);
        }
        print_table(
            "WebSocket on 127.0.0.1: tools/call echo",
            &rows,
            "mcp-transport-ws",
            &[("vs raw", "raw tokio-tungstenite echo")],
        );
        eprintln!("WebSocket idle connections");
        let raw_kib = idle_in_child(&exe, "ws-raw", args.idle).await;
        let our_kib = idle_in_child(&exe, "ws-ours", args.idle).await;
        print_memory(
            &format!(
                "WebSocket: memory per idle connection ({} connections, both ends in one fresh process each)",
                args.idle
            ),
            &[("raw tokio-tungstenite", raw_kib), ("mcp-transport-ws + mcp-peer (initialized session)", our_kib)],
        );
    }

    if wanted("nats") {
        eprintln!("NATS echo round trips");
        let server = mcp_testkit::services::NatsServer::start().await;
        let url = server.url();
        nats::our_server(&url).await;
        let raw_caller = nats::RawNatsCaller::start(&url).await;
        let mut rows = Vec::new();
        for &n in &runs {
            rows.extend(row("raw async-nats request/reply", raw_caller.clone(), n, secs).await);
            rows.extend(row("mcp-transport-nats + mcp-peer", nats::our_client(&url).await, n, secs).await);
        }
        print_table(
            "NATS (nats-server on 127.0.0.1): tools/call echo",
            &rows,
            "mcp-transport-nats",
            &[("vs raw", "raw async-nats request/reply")],
        );
    }

    if wanted("redis") {
        eprintln!("Redis echo round trips");
        let server = mcp_testkit::services::RedisServer::start().await;
        let url = server.url();
        let raw_caller = redis_bus::RawRedisCaller::start(&url).await;
        let raw_streams = redis_bus::RawStreamsCaller::start(&url).await;
        let mut rows = Vec::new();
        let mut buses = Vec::new();
        for &n in &runs {
            rows.extend(row("raw Redis PUBLISH/SUBSCRIBE", raw_caller.clone(), n, secs).await);
            rows.extend(row("raw Redis Streams (XADD/XREADGROUP/XACK)", raw_streams.clone(), n, secs).await);
            for mode in [mcp_transport_redis::Mode::PubSub, mcp_transport_redis::Mode::Durable] {
                let service = format!("bench-{}-{n}", mode.as_str());
                let (caller, bus) = redis_bus::ours(&url, &service, mode).await;
                buses.push(bus);
                rows.extend(row(&format!("mcp-transport-redis {} + mcp-peer", mode.as_str()), caller, n, secs).await);
            }
        }
        print_table(
            "Redis (redis-server on 127.0.0.1): tools/call echo",
            &rows,
            "mcp-transport-redis",
            &[
                ("vs raw pub/sub", "raw Redis PUBLISH/SUBSCRIBE"),
                ("vs raw streams", "raw Redis Streams (XADD/XREADGROUP/XACK)"),
            ],
        );
    }

    if wanted("gateway") {
        eprintln!("gateway echo round trips");
        let gateway_exe = args.gateway.clone().unwrap_or_else(|| exe.with_file_name("mcp-gateway"));
        let child = format!("{} --serve ours", exe.display());
        let (url, _gateway) = gateway::start(&gateway_exe, &child).await;
        let mut rows = Vec::new();
        for &n in &runs {
            rows.extend(
                row("direct: mcp-transport-stdio child", ours::child(&exe, &["--serve", "ours"]).await, n, secs).await,
            );
            rows.extend(
                row("via mcp-gateway (Streamable HTTP → stdio child)", http::our_client(&url).await, n, secs).await,
            );
        }
        print_table(
            "Gateway: our client → mcp-gateway → stdio child, beside our client → the child",
            &rows,
            "via mcp-gateway",
            &[("vs direct", "direct: mcp-transport-stdio child")],
        );
    }
}
