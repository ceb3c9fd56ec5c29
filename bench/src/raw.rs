//! The raw medium: a bare newline-JSON echo with no framework. The server parses each line and
//! answers with the same id; the client demultiplexes answers by id. This is the floor every MCP
//! stack pays on top of.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::oneshot;

use crate::measure::Caller;

/// Answers waiting for their request id: the client-side demultiplexer every raw caller uses.
#[derive(Clone, Default)]
pub struct Demux(Arc<Mutex<HashMap<u64, oneshot::Sender<String>>>>);

impl Demux {
    /// Registers `id`; the receiver gets the answer carrying it.
    pub fn expect(&self, id: u64) -> oneshot::Receiver<String> {
        let (tx, rx) = oneshot::channel();
        self.0.lock().unwrap().insert(id, tx);
        rx
    }

    /// Hands `answer` (a JSON-RPC response) to whoever waits for its id.
    pub fn deliver(&self, answer: String) {
        let v: serde_json::Value = serde_json::from_str(&answer).expect("raw answer is JSON");
        let id = v["id"].as_u64().expect("raw answer has an id");
        if let Some(tx) = self.0.lock().unwrap().remove(&id) {
            let _ = tx.send(answer);
        }
    }
}

/// The `tools/call echo` request with id `seq` and message `m{seq}`, without a newline.
pub fn request(seq: u64) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{seq},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"message\":\"m{seq}\"}}}}}}"
    )
}

/// Waits for the answer to `request(seq)` and checks it echoes `m{seq}`.
pub async fn check_answer(seq: u64, answer: oneshot::Receiver<String>) {
    let answer = tokio::time::timeout(std::time::Duration::from_secs(30), answer)
        .await
        .expect("a raw answer within 30 s")
        .expect("raw answer");
    assert!(answer.contains(&format!("m{seq}")), "raw echo answered {answer}");
}

/// The echo server's answer to one JSON-RPC request (the same id, `Echo: <message>` as text);
/// `None` for input that is not JSON.
pub fn echo_answer(request: &[u8]) -> Option<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_slice(request).ok()?;
    let message = v["params"]["arguments"]["message"].as_str().unwrap_or_default();
    let answer = serde_json::json!({
        "jsonrpc": "2.0",
        "id": v["id"],
        "result": { "content": [{ "type": "text", "text": format!("Echo: {message}") }] }
    });
    Some(serde_json::to_vec(&answer).expect("encode"))
}

/// A raw JSON-RPC client over any byte stream.
#[derive(Clone)]
pub struct RawCaller {
    writer: Arc<tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>>,
    demux: Demux,
}

impl RawCaller {
    /// Starts the reader task on `read` and writes requests to `write`.
    pub fn new(read: impl AsyncRead + Send + Unpin + 'static, write: impl AsyncWrite + Send + Unpin + 'static) -> Self {
        let demux = Demux::default();
        let d = demux.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                d.deliver(line);
            }
        });
        Self { writer: Arc::new(tokio::sync::Mutex::new(Box::new(write))), demux }
    }
}

impl Caller for RawCaller {
    async fn call(&self, seq: u64) {
        let answer = self.demux.expect(seq);
        let mut line = request(seq);
        line.push('\n');
        {
            let mut w = self.writer.lock().await;
            w.write_all(line.as_bytes()).await.expect("raw write");
            w.flush().await.expect("raw flush");
        }
        check_answer(seq, answer).await;
    }
}

/// Serves the raw echo on a byte stream until EOF.
pub async fn serve(read: impl AsyncRead + Unpin, mut write: impl AsyncWrite + Unpin) {
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let Some(mut out) = echo_answer(line.as_bytes()) else { continue };
        out.push(b'\n');
        if write.write_all(&out).await.is_err() || write.flush().await.is_err() {
            break;
        }
    }
}

/// Serves the raw echo on this process's stdin/stdout with plain blocking I/O: the cheapest
/// possible child (no runtime, no task hops).
pub fn serve_stdio_blocking() {
    use std::io::{BufRead, Write};
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        let Some(mut out) = echo_answer(line.as_bytes()) else { continue };
        out.push(b'\n');
        if stdout.write_all(&out).and_then(|()| stdout.flush()).is_err() {
            break;
        }
    }
}

/// Raw echo server and client over `tokio::io::duplex`.
pub fn in_process() -> RawCaller {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    let (sr, sw) = tokio::io::split(server_io);
    tokio::spawn(serve(sr, sw));
    let (cr, cw) = tokio::io::split(client_io);
    RawCaller::new(cr, cw)
}

/// Raw client spawning `program args` (a raw echo on stdio).
pub fn child(program: &std::path::Path, args: &[&str]) -> (RawCaller, tokio::process::Child) {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn raw child");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    (RawCaller::new(stdout, stdin), child)
}
