//! 10,000 idle connections (fewer when the file-descriptor limit cannot hold both ends of
//! that many: the count used is printed) cost bounded memory: the process's resident memory
//! grows by less than 64 KiB per connection, counting *both* ends (our server transport, our
//! client transport, and a server task waiting on each session).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use futures::future::join_all;
use mcp_transport_ws::{WsClientConfig, WsServerConfig, connect};
use rustix::process::{Resource, getrlimit, setrlimit};
use support::*;

const WANTED: usize = 10_000;
const MAX_BYTES_PER_CONNECTION: usize = 64 * 1024;

/// Raises the soft fd limit to the hard one; returns how many connections fit (two fds each,
/// plus headroom for the runtime and the test harness).
fn connection_budget() -> usize {
    let mut limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum {
        limit.current = Some(hard);
        let _ = setrlimit(Resource::Nofile, limit);
    }
    let soft = getrlimit(Resource::Nofile).current.map_or(usize::MAX, |n| n as usize);
    WANTED.min(soft.saturating_sub(256) / 2)
}

fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("a VmRSS line");
    let kib: usize = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmRSS in kB");
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_idle_connections_cost_bounded_memory() {
    let count = connection_budget();
    assert!(count >= 1000, "the fd limit allows only {count} connections; raise `ulimit -n`");
    let mut listener = listener(WsServerConfig::default()).await;
    let url = listener.url();
    let config = WsClientConfig::default();

    // Warm up: the runtime, the allocator and the first connection's one-time costs.
    let warm_client = connect(&url, &config).await.unwrap();
    let warm_session = next_session(&mut listener).await;

    // Each server session waits for messages in its own task, as a server does.
    let accepted = Arc::new(AtomicUsize::new(0));
    let ended = Arc::new(AtomicUsize::new(0));
    let (accepted_in, ended_in) = (accepted.clone(), ended.clone());
    let server = tokio::spawn(async move {
        while let Some(mut session) = listener.next().await {
            accepted_in.fetch_add(1, Ordering::SeqCst);
            let ended = ended_in.clone();
            tokio::spawn(async move {
                while let Some(item) = session.transport.next().await {
                    assert!(item.is_ok(), "an idle session got {item:?}");
                }
                ended.fetch_add(1, Ordering::SeqCst);
            });
        }
    });

    let before = rss_bytes();
    let mut clients = Vec::with_capacity(count);
    for batch in (0..count).collect::<Vec<_>>().chunks(200) {
        let connected =
            within("a batch of 200 connections", join_all(batch.iter().map(|_| connect(&url, &config)))).await;
        clients.extend(connected.into_iter().map(|c| c.expect("connect")));
    }
    // Let the server take every session.
    wait_for("the server to take every session", || accepted.load(Ordering::SeqCst) == count).await;
    let after = rss_bytes();
    let per_connection = after.saturating_sub(before) / count;
    eprintln!(
        "{count} idle WebSocket connections (both ends in this process): RSS {} -> {} MiB, {} bytes per connection",
        before >> 20,
        after >> 20,
        per_connection
    );
    assert!(
        per_connection < MAX_BYTES_PER_CONNECTION,
        "{per_connection} bytes per idle connection (both ends), over the {MAX_BYTES_PER_CONNECTION} bound"
    );

    // Every session is alive and ends cleanly when its client goes away.
    drop(clients);
    wait_for("every session to end after its client left", || ended.load(Ordering::SeqCst) == count).await;
    drop((warm_client, warm_session));
    server.abort();
}

/// Polls `done` every 20 ms, for at most 10 s.
async fn wait_for(what: &str, done: impl Fn() -> bool) {
    within(what, async {
        while !done() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
}
