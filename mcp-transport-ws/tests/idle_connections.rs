//! 10,000 idle connections, always exactly that many, cost bounded memory on the server: the
//! server process's resident memory grows by less than 32 KiB per connection (our server
//! transport plus a server task waiting on each session), and every session ends cleanly when
//! its client closes.
//!
//! The client ends live in two child processes of 5,000 connections each, so the server
//! process holds only its 10,000 sockets (plus the listener). Each child is this test binary
//! run again for the test [`idle_client_process`], which does nothing unless
//! [`CHILD_ENV`] is set. The children hold their connections (polling each, as an idle
//! client does) until their stdin closes (at most 10 minutes), then close them all with code
//! 1000.
//!
//! Both processes raise their soft `RLIMIT_NOFILE` to the hard limit; when even that is too
//! low, the test fails and says how to raise it.

mod support;

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::{SinkExt, StreamExt};
use mcp_transport_ws::{WsClientConfig, WsServerConfig, connect};
use rustix::process::{Resource, getrlimit, setrlimit};
use support::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// Idle connections held open at once.
const COUNT: usize = 10_000;
/// Child processes holding the client ends; each holds `COUNT / CHILDREN`.
const CHILDREN: usize = 2;
const PER_CHILD: usize = COUNT / CHILDREN;
/// The bound on the server process's RSS growth per idle connection.
const MAX_BYTES_PER_CONNECTION: usize = 32 * 1024;
/// File descriptors a process needs besides its sockets: runtime, harness, pipes, libraries.
const FD_HEADROOM: usize = 256;

/// Set (to `<url> <count>`) for a child process: [`idle_client_process`] then opens `count`
/// connections to `url`.
const CHILD_ENV: &str = "MCP_WS_IDLE_CLIENT_CHILD";
/// The line a child prints once all its connections are open: `<MARKER> <count> <rss before>
/// <rss after>`.
const READY_MARKER: &str = "MCP_WS_IDLE_CLIENT_READY";
/// The child test's name, for `--exact`.
const CHILD_TEST: &str = "idle_client_process";

/// Bounds on the slow steps (two shared cores may be busy with other work).
const CHILD_READY_TIMEOUT: Duration = Duration::from_secs(180);
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(60);
const SESSIONS_END_TIMEOUT: Duration = Duration::from_secs(60);
const CHILD_EXIT_TIMEOUT: Duration = Duration::from_secs(30);
/// A child gives up holding its connections after this long, even if its stdin stays open.
const CHILD_HOLD_TIMEOUT: Duration = Duration::from_secs(600);

/// Raises the soft fd limit to the hard one and fails, saying how to raise the limit, unless
/// it holds `sockets` descriptors plus [`FD_HEADROOM`].
fn raise_fd_limit(sockets: usize, who: &str) {
    let needed = sockets + FD_HEADROOM;
    let mut limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum {
        limit.current = Some(hard);
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            panic!("{who}: could not raise the soft RLIMIT_NOFILE to the hard limit {hard}: {e}");
        }
    }
    let soft = getrlimit(Resource::Nofile).current.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    assert!(
        soft >= needed,
        "{who} needs {needed} file descriptors ({sockets} sockets plus {FD_HEADROOM} spare) but RLIMIT_NOFILE allows only {soft} even after raising the soft limit \
         to the hard one. Raise the hard limit to at least {needed}: `ulimit -Hn {needed}` as root before \
         running the tests, `nofile` in /etc/security/limits.conf, `LimitNOFILE=` for a systemd unit, or \
         `--ulimit nofile={needed}:{needed}` for a container"
    );
}

fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("a VmRSS line");
    let kib: usize = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmRSS in kB");
    kib * 1024
}

/// Awaits `fut` for at most `limit`, panicking with what was awaited.
async fn bounded<T>(what: &str, limit: Duration, fut: impl Future<Output = T>) -> T {
    match timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

/// Polls `done` every 20 ms, for at most `limit`.
async fn wait_for(what: &str, limit: Duration, done: impl Fn() -> bool) {
    bounded(what, limit, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A child process holding client ends; killed if dropped (a failing test never leaves one).
struct ClientProcess {
    child: Child,
    /// The child's stdout after the ready line, read to the end (so the child never blocks
    /// writing), for diagnostics.
    rest: Option<JoinHandle<Vec<String>>>,
    /// What the child printed up to its ready line.
    seen: Vec<String>,
}

impl ClientProcess {
    fn spawn(url: &str, count: usize) -> Self {
        let exe = std::env::current_exe().expect("the test binary's path");
        let child = Command::new(exe)
            .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads", "1"])
            .env(CHILD_ENV, format!("{url} {count}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn a client process");
        Self { child, rest: None, seen: Vec::new() }
    }

    /// Reads the child's stdout up to its ready line; returns the child's RSS before and after
    /// it opened its connections.
    async fn ready(&mut self, count: usize) -> (usize, usize) {
        let stdout: ChildStdout = self.child.stdout.take().expect("the child's stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let found = timeout(CHILD_READY_TIMEOUT, async {
            while let Some(line) = lines.next_line().await.expect("read the child's stdout") {
                if let Some(at) = line.find(READY_MARKER) {
                    return Some(line[at..].to_owned());
                }
                self.seen.push(line);
            }
            None
        })
        .await;
        let ready = match found {
            Ok(Some(ready)) => ready,
            Ok(None) => panic!(
                "a client process ended before its {count} connections were open (exit: {:?}); its output:\n{}",
                self.child.try_wait(),
                self.seen.join("\n")
            ),
            Err(_) => panic!(
                "a client process did not open its {count} connections within {CHILD_READY_TIMEOUT:?}; its output:\n{}",
                self.seen.join("\n")
            ),
        };
        self.rest = Some(tokio::spawn(async move {
            let mut rest = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                rest.push(line);
            }
            rest
        }));
        let fields: Vec<usize> = ready.split_whitespace().skip(1).map(|f| f.parse().expect("a number")).collect();
        assert_eq!(fields.len(), 3, "a malformed ready line: {ready}");
        assert_eq!(fields[0], count, "the client process opened {} connections, not {count}", fields[0]);
        (fields[1], fields[2])
    }

    /// Closes the child's stdin (it then closes its connections and exits).
    fn release(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Waits (bounded) for the child to exit and asserts it succeeded; kills it on a timeout.
    async fn finish(mut self) {
        let status = match timeout(CHILD_EXIT_TIMEOUT, self.child.wait()).await {
            Ok(status) => status.expect("wait for the client process"),
            Err(_) => {
                let _ = self.child.kill().await; // kills and reaps
                panic!("a client process did not exit within {CHILD_EXIT_TIMEOUT:?} of its stdin closing");
            }
        };
        let rest = match self.rest.take() {
            Some(rest) => bounded("the client process's output", CHILD_EXIT_TIMEOUT, rest).await.unwrap_or_default(),
            None => Vec::new(),
        };
        assert!(
            status.success(),
            "a client process failed ({status}); its output:\n{}\n{}",
            self.seen.join("\n"),
            rest.join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_idle_connections_cost_bounded_memory() {
    let started = Instant::now();
    raise_fd_limit(COUNT, "the server process");
    let mut listener = listener(WsServerConfig::default().with_max_connections(COUNT)).await;
    let url = listener.url();
    let server = listener.server().clone();

    // Warm up: the runtime, the allocator and a connection's one-time costs. The warm-up
    // connections close before measuring, so the server then holds only the 10,000.
    let config = WsClientConfig::default();
    for _ in 0..4 {
        let client = connect(&url, &config).await.expect("a warm-up connection");
        let mut session = next_session(&mut listener).await;
        drop(client);
        assert!(within("a warm-up session to end", session.transport.next()).await.is_none());
    }
    wait_for("the warm-up connections to close", ACCEPT_TIMEOUT, || server.open_connections() == 0).await;

    // Each server session waits for messages in its own task, as a server does.
    let accepted = Arc::new(AtomicUsize::new(0));
    let ended = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let (accepted_in, ended_in, errors_in) = (accepted.clone(), ended.clone(), errors.clone());
    let acceptor = tokio::spawn(async move {
        while let Some(mut session) = listener.next().await {
            accepted_in.fetch_add(1, Ordering::SeqCst);
            let (ended, errors) = (ended_in.clone(), errors_in.clone());
            tokio::spawn(async move {
                while let Some(item) = session.transport.next().await {
                    if let Err(e) = item {
                        errors.lock().unwrap().push(format!("{e}"));
                    } else {
                        errors.lock().unwrap().push(format!("an idle session got a message: {item:?}"));
                    }
                }
                drop(session);
                ended.fetch_add(1, Ordering::SeqCst);
            });
        }
    });

    let before = rss_bytes();
    let mut children: Vec<ClientProcess> = (0..CHILDREN).map(|_| ClientProcess::spawn(&url, PER_CHILD)).collect();
    let mut client_growth = 0;
    for child in &mut children {
        let (child_before, child_after) = child.ready(PER_CHILD).await;
        client_growth += child_after.saturating_sub(child_before);
    }
    wait_for("the server to take every session", ACCEPT_TIMEOUT, || accepted.load(Ordering::SeqCst) == COUNT).await;
    assert_eq!(server.open_connections(), COUNT);
    let connected_after = started.elapsed();
    let after = rss_bytes();
    let per_connection = after.saturating_sub(before) / COUNT;
    eprintln!(
        "{COUNT} idle WebSocket connections, server process: RSS {} -> {} MiB, {per_connection} bytes per connection \
         (bound {MAX_BYTES_PER_CONNECTION}); client processes: {} bytes per connection; all open after {:.1} s",
        before >> 20,
        after >> 20,
        client_growth / COUNT,
        connected_after.as_secs_f64()
    );
    assert!(
        per_connection < MAX_BYTES_PER_CONNECTION,
        "{per_connection} bytes per idle connection on the server, over the {MAX_BYTES_PER_CONNECTION} bound"
    );
    assert!(errors.lock().unwrap().is_empty(), "idle sessions reported: {:?}", errors.lock().unwrap());

    // The clients close; every session ends cleanly (its stream ends with no error).
    for child in &mut children {
        child.release();
    }
    wait_for("every session to end after its client closed", SESSIONS_END_TIMEOUT, || {
        ended.load(Ordering::SeqCst) == COUNT
    })
    .await;
    let errors = errors.lock().unwrap().clone();
    assert!(
        errors.is_empty(),
        "{} sessions did not end cleanly, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    wait_for("the server to count no open connection", ACCEPT_TIMEOUT, || server.open_connections() == 0).await;
    for child in children {
        child.finish().await;
    }
    acceptor.abort();
    eprintln!("{COUNT} idle connections: test done in {:.1} s", started.elapsed().as_secs_f64());
}

/// The client ends, in a child process started by the test above; does nothing (and passes)
/// in a normal test run, where [`CHILD_ENV`] is not set.
#[tokio::test]
async fn idle_client_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let (url, count) = spec.split_once(' ').expect("`<url> <count>`");
    let count: usize = count.parse().expect("a connection count");
    raise_fd_limit(count, "a client process");

    // Stdin closing is the signal to close; a plain thread reads it, so a pending read never
    // holds the runtime up.
    let (stdin_closed, released) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = stdin_closed.send(());
    });

    let config = WsClientConfig::default();
    let before = rss_bytes();
    let mut clients = Vec::with_capacity(count);
    for batch in (0..count).collect::<Vec<_>>().chunks(200) {
        let connected = bounded(
            "a batch of 200 connections",
            Duration::from_secs(60),
            join_all(batch.iter().map(|_| connect(url, &config))),
        )
        .await;
        clients.extend(connected.into_iter().map(|c| c.expect("connect")));
    }

    // Each client is polled, as an idle client is (that answers the server's pings), until
    // told to close; then it closes with 1000 and waits for the server's close frame.
    let (close_tx, close_rx) = tokio::sync::watch::channel(false);
    let tasks: Vec<JoinHandle<Result<(), String>>> = clients
        .into_iter()
        .map(|mut client| {
            let mut close_rx = close_rx.clone();
            tokio::spawn(async move {
                tokio::select! {
                    item = client.next() => return Err(format!("an idle client got {item:?}")),
                    _ = close_rx.changed() => {}
                }
                match timeout(Duration::from_secs(30), client.close()).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(format!("closing failed: {e}")),
                    Err(_) => Err("closing took over 30 s".to_owned()),
                }
            })
        })
        .collect();
    let after = rss_bytes();
    println!("\n{READY_MARKER} {count} {before} {after}");
    use std::io::Write as _;
    std::io::stdout().flush().expect("flush stdout");

    let _ = timeout(CHILD_HOLD_TIMEOUT, released).await;
    close_tx.send_replace(true);
    let results = bounded("every client to close", Duration::from_secs(60), join_all(tasks)).await;
    let failures: Vec<String> = results.into_iter().filter_map(|r| r.expect("a client task").err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {count} clients failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}
