//! The measurement loop: N workers call in a closed loop for a fixed time; calls/s and latency
//! percentiles from an HDR histogram.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// One row of results.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// What was measured, e.g. "mcp-peer (memory pair)".
    pub name: String,
    /// Calls in flight.
    pub in_flight: usize,
    /// Completed calls per second.
    pub calls_per_sec: f64,
    /// Median latency in microseconds.
    pub p50_us: f64,
    /// 99th percentile latency in microseconds.
    pub p99_us: f64,
}

/// Something that performs one round trip. Cloned once per worker.
pub trait Caller: Clone + Send + Sync + 'static {
    /// One call; returns when the answer arrived (and was checked).
    fn call(&self, seq: u64) -> impl Future<Output = ()> + Send;
}

/// Runs `in_flight` workers for `warmup` then `duration`, and reports.
pub async fn run<C: Caller>(name: &str, caller: C, in_flight: usize, warmup: Duration, duration: Duration) -> Measurement {
    // Warm up: connections, allocator, JIT-free but caches matter.
    let warm_end = Instant::now() + warmup;
    let mut warm = Vec::new();
    for w in 0..in_flight {
        let c = caller.clone();
        warm.push(tokio::spawn(async move {
            let mut seq = (w as u64) << 32;
            while Instant::now() < warm_end {
                c.call(seq).await;
                seq += 1;
            }
        }));
    }
    for w in warm {
        w.await.expect("warm-up worker");
    }

    let start = Instant::now();
    let end = start + duration;
    let caller = Arc::new(caller);
    let mut workers = Vec::new();
    for w in 0..in_flight {
        let c = caller.clone();
        workers.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let mut seq = ((w as u64) << 32) | (1 << 31);
            let mut calls = 0u64;
            loop {
                let t = Instant::now();
                if t >= end {
                    break;
                }
                c.call(seq).await;
                let _ = hist.record((t.elapsed().as_micros() as u64).max(1));
                seq += 1;
                calls += 1;
            }
            (hist, calls)
        }));
    }
    let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut calls = 0;
    for w in workers {
        let (h, n) = w.await.expect("worker");
        total.add(h).expect("merge histograms");
        calls += n;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Measurement {
        name: name.to_owned(),
        in_flight,
        calls_per_sec: calls as f64 / elapsed,
        p50_us: total.value_at_quantile(0.5) as f64,
        p99_us: total.value_at_quantile(0.99) as f64,
    }
}

/// This process's resident set size in KiB (VmRSS of /proc/self/status).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS in /proc/self/status");
    line.split_whitespace().nth(1).and_then(|k| k.parse().ok()).expect("VmRSS in KiB")
}

/// Resident memory added per item, in KiB: `open(k)` creates `k` items and returns them. A few
/// are opened first so that one-time costs (the first connection, lazily built clients, thread
/// stacks) stay out of the figure; all stay alive until the second reading. Run it in a fresh
/// process (`--idle-probe`), so that freed memory of earlier work does not hide the growth.
pub async fn kib_per_item<T, F: Future<Output = Vec<T>>>(n: usize, mut open: impl FnMut(usize) -> F) -> f64 {
    let warm = open(10).await;
    let before = rss_kib();
    let items = open(n).await;
    assert_eq!(items.len(), n, "opened every item");
    let after = rss_kib();
    drop((warm, items));
    after.saturating_sub(before) as f64 / n as f64
}
