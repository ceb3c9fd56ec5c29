//! Benchmarks: this project's MCP stack side by side with rmcp 3.9 (the official Rust SDK) and
//! the raw medium, in one run, on one machine. Prints a markdown table of calls/s and latency,
//! with ratios; docs/BENCHMARKS.md records the figures and the exact command.
//!
//! ```sh
//! cd bench && cargo run --release -- --seconds 5
//! ```

mod measure;
mod ours;
mod raw;
mod rmcp_side;

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
    /// Internal: serve on stdio (`raw`, `rmcp` or `ours`) for the child-process rows.
    #[arg(long, hide = true)]
    serve: Option<String>,
}

const IN_FLIGHT: [usize; 2] = [1, 32];

async fn row<C: Caller>(name: &str, caller: C, in_flight: usize, secs: f64) -> Measurement {
    let m = measure::run(name, caller, in_flight, Duration::from_secs(1), Duration::from_secs_f64(secs)).await;
    eprintln!("  {:<44} {:>3} in flight: {:>9.0} calls/s  p50 {:>7.0} us  p99 {:>7.0} us", m.name, in_flight, m.calls_per_sec, m.p50_us, m.p99_us);
    m
}

fn print_table(title: &str, rows: &[Measurement], ours: &str, rmcp: Option<&str>, raw: &str) {
    println!("\n### {title}\n");
    println!("| stack | in flight | calls/s | p50 µs | p99 µs | vs rmcp | vs raw |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for m in rows {
        let find = |name: &str| rows.iter().find(|r| r.name == name && r.in_flight == m.in_flight).map(|r| r.calls_per_sec);
        let ratio = |base: Option<f64>| base.map_or("".to_owned(), |b| format!("{:.2}x", m.calls_per_sec / b));
        let (vs_rmcp, vs_raw) = if m.name.starts_with(ours) {
            (ratio(rmcp.and_then(find)), ratio(find(raw)))
        } else {
            (String::new(), String::new())
        };
        println!("| {} | {} | {:.0} | {:.0} | {:.0} | {} | {} |", m.name, m.in_flight, m.calls_per_sec, m.p50_us, m.p99_us, vs_rmcp, vs_raw);
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
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run(args));
}

async fn run(args: Args) {
    let secs = args.seconds;
    let wanted = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
    let exe = std::env::current_exe().expect("own path");

    if wanted("in-process") {
        eprintln!("in-process echo round trips");
        let mut rows = Vec::new();
        for n in IN_FLIGHT {
            rows.push(row("raw JSON lines (tokio duplex)", raw::in_process(), n, secs).await);
            rows.push(row("rmcp 3.9 (tokio duplex)", rmcp_side::in_process().await, n, secs).await);
            rows.push(row("mcp-peer (tokio duplex)", ours::duplex().await, n, secs).await);
            rows.push(row("mcp-peer (memory pair)", ours::memory().await, n, secs).await);
        }
        print_table("In-process: tools/call echo", &rows, "mcp-peer", Some("rmcp 3.9 (tokio duplex)"), "raw JSON lines (tokio duplex)");
    }

    if wanted("child") {
        eprintln!("child-process echo round trips");
        let mut rows = Vec::new();
        for n in IN_FLIGHT {
            let (raw_caller, _raw_child) = raw::child(&exe, &["--serve", "raw"]);
            rows.push(row("raw JSON lines (child process)", raw_caller, n, secs).await);
            rows.push(row("rmcp 3.9 (child process)", rmcp_side::child(&exe, &["--serve", "rmcp"]).await, n, secs).await);
            rows.push(row("mcp-transport-stdio (child process)", ours::child(&exe, &["--serve", "ours"]).await, n, secs).await);
        }
        print_table(
            "Child process over stdio: tools/call echo",
            &rows,
            "mcp-transport-stdio",
            Some("rmcp 3.9 (child process)"),
            "raw JSON lines (child process)",
        );
    }
}
