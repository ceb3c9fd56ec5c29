//! Shared by the end-to-end tests: start the gateway binary, talk raw HTTP to it, run the
//! official clients, find the upstream servers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// How long the gateway may take to print its banner.
const READY: Duration = Duration::from_secs(20);

pub(crate) const GATEWAY: &str = env!("CARGO_BIN_EXE_mcp-gateway");

/// A free TCP port on 127.0.0.1 (the listener is dropped; callers retry on a bind race).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running gateway process, killed on drop.
pub(crate) struct Gateway {
    pub(crate) child: Child,
    /// The HTTP listener, when `{http}` was in the arguments.
    pub(crate) http: Option<SocketAddr>,
    /// The TCP listener, when `{tcp}` was in the arguments.
    pub(crate) tcp: Option<SocketAddr>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Gateway {
    /// Starts the gateway with `args`, where `{http}` and `{tcp}` stand for fresh loopback
    /// ports, and waits for its ready banner.
    pub(crate) async fn start(args: &[&str]) -> Self {
        let mut last_log = Vec::new();
        for _attempt in 0..3 {
            let (http, tcp) = (free_port(), free_port());
            let args: Vec<String> = args
                .iter()
                .map(|a| a.replace("{http}", &http.to_string()).replace("{tcp}", &tcp.to_string()))
                .collect();
            let mut child = Command::new(GATEWAY)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("spawn the mcp-gateway binary");
            let log = collect_lines(child.stderr.take().unwrap());
            let ready = wait_until(READY, || log_has(&log, "mcp-gateway is ready.")).await;
            let lines = log.lock().unwrap().clone();
            if ready {
                return Self {
                    child,
                    http: args.iter().any(|a| a.contains(&format!(":{http}"))).then(|| ([127, 0, 0, 1], http).into()),
                    tcp: args.iter().any(|a| a.contains(&format!(":{tcp}"))).then(|| ([127, 0, 0, 1], tcp).into()),
                    log,
                };
            }
            let _ = child.kill().await;
            if !lines.iter().any(|l| l.contains("Address already in use")) {
                panic!("mcp-gateway {args:?} did not become ready within {READY:?}; its stderr:\n{}", lines.join("\n"));
            }
            last_log = lines;
        }
        panic!("mcp-gateway could not bind a free port in 3 attempts:\n{}", last_log.join("\n"))
    }

    /// The HTTP listener's `/mcp` URL.
    pub(crate) fn mcp_url(&self) -> String {
        format!("http://{}/mcp", self.http.expect("an http listener"))
    }

    /// Everything the gateway wrote to stderr so far.
    pub(crate) fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits (bounded) until a stderr line contains `needle`.
    pub(crate) async fn wait_log(&self, needle: &str, within: Duration) {
        if !wait_until(within, || log_has(&self.log, needle)).await {
            panic!("the gateway did not log {needle:?} within {within:?}; its stderr:\n{}", self.log().join("\n"));
        }
    }

    /// A raw HTTP request to the gateway's HTTP listener.
    pub(crate) async fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> HttpReply {
        http(self.http.expect("an http listener"), method, path, headers, body).await
    }

    /// Sends SIGTERM.
    pub(crate) fn terminate(&self) {
        let pid = self.child.id().expect("the gateway is running");
        let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        assert!(status.success(), "kill -TERM {pid}");
    }

    /// Waits (bounded) for the process to exit; returns its exit code.
    pub(crate) async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the gateway did not exit within {within:?}"))
            .unwrap()
            .code()
    }
}

fn log_has(log: &Mutex<Vec<String>>, needle: &str) -> bool {
    log.lock().unwrap().iter().any(|l| l.contains(needle))
}

/// Reads `reader` line by line into a shared buffer, on a background task.
pub(crate) fn collect_lines(reader: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(reader).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// Polls `done` every 20 ms for at most `within`.
pub(crate) async fn wait_until(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

/// A raw HTTP/1.1 reply.
#[derive(Debug)]
pub(crate) struct HttpReply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl HttpReply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), read to the end.
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> HttpReply {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(body) = body {
            req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body.unwrap_or_default());
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        String::from_utf8_lossy(&raw).into_owned()
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap_or_else(|_| panic!("no complete HTTP reply to {method} {path} within 10 s"));
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect();
    HttpReply { status, headers, body: body.to_owned() }
}

/// An `initialize` POST body.
pub(crate) const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

/// The headers a Streamable HTTP POST needs.
pub(crate) const POST_HEADERS: [(&str, &str); 1] = [("Accept", "application/json, text/event-stream")];

// ===== upstream servers =====

/// The `--stdio` command line of our fixture server (mcp-transport-stdio's `everything-stdio`
/// example), built for this test's target directory and profile.
pub(crate) fn fixture_command() -> String {
    let path = mcp_testkit::tools::example("mcp-transport-stdio", "everything-stdio");
    quote(&path.to_string_lossy())
}

/// The `--stdio` command line of the reference server-everything (Node).
pub(crate) fn server_everything_command() -> String {
    let script = mcp_testkit::tools::node_modules().join("@modelcontextprotocol/server-everything/dist/index.js");
    assert!(script.is_file(), "{} missing: run scripts/install-test-deps", script.display());
    format!("{} {} stdio", quote(&mcp_testkit::tools::node().to_string_lossy()), quote(&script.to_string_lossy()))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

// ===== the official clients =====

/// Runs `tests/interop/ts_client.mjs` to the end; returns its JSON lines.
pub(crate) async fn ts_client(kind: &str, target: &str, steps: &Value, token: Option<&str>) -> Vec<Value> {
    let mut child = ts_client_process(kind, target, steps, token);
    let output = tokio::time::timeout(Duration::from_secs(45), async {
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
        (child.wait().await.unwrap(), out)
    })
    .await
    .expect("the TypeScript client finished within 45 s");
    let (status, out) = output;
    assert!(status.success(), "the TypeScript client ({kind} {target}) failed: {status}; stdout:\n{out}");
    out.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// Starts `tests/interop/ts_client.mjs` with stdout piped (stderr inherited).
pub(crate) fn ts_client_process(kind: &str, target: &str, steps: &Value, token: Option<&str>) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/ts_client.mjs");
    let mut cmd = Command::new(mcp_testkit::tools::node());
    cmd.arg(script)
        .args([kind, target, &steps.to_string()])
        .env("MCP_TEST_NODE_MODULES", mcp_testkit::tools::node_modules())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    if let Some(token) = token {
        cmd.env("MCP_TOKEN", token);
    }
    cmd.spawn().expect("spawn node")
}

/// The result of step `i` in a TypeScript client's output.
pub(crate) fn step(lines: &[Value], i: usize) -> &Value {
    lines
        .iter()
        .find(|l| l["step"] == i && l["event"] != "start")
        .unwrap_or_else(|| panic!("no outcome for step {i} in {lines:#?}"))
}

/// The first text content of a tool result.
pub(crate) fn text(result: &Value) -> &str {
    result["result"]["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text content in {result}"))
}
