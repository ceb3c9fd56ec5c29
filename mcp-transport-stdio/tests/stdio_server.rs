//! The stdio server side, end to end: the `stdio-echo` example run as a child process and
//! driven through raw pipes, checking every byte it writes to stdout.

mod support;

use std::process::Stdio;

use serde_json::{Value, json};
use support::{example, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

fn spawn_echo() -> Child {
    spawn("stdio-echo")
}

fn spawn(name: &str) -> Child {
    Command::new(example(name))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {name}: {e}"))
}

fn request(id: i64, method: &str, params: Value) -> String {
    format!("{}\n", json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
}

/// Writes `input` to the child's stdin, closes it, and returns (stdout lines as JSON, stderr
/// text, exit code) once the child has exited.
async fn run(mut child: Child, input: &[u8]) -> (Vec<Value>, String, Option<i32>) {
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let input = input.to_vec();
    let writer = tokio::spawn(async move {
        stdin.write_all(&input).await.unwrap();
        // Dropping stdin is the client's end of input.
    });
    let mut out = Vec::new();
    let mut err = String::new();
    let (read_out, read_err) = within("stdio-echo's stdout and stderr to end", async {
        tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_string(&mut err))
    })
    .await;
    read_out.unwrap();
    read_err.unwrap();
    writer.await.unwrap();
    let status = within("stdio-echo to exit", child.wait()).await.unwrap();
    let text = String::from_utf8(out).expect("stdout is UTF-8");
    let lines = text
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stdout line {line:?} is not JSON ({e}); stderr: {err}"))
        })
        .collect();
    (lines, err, status.code())
}

#[tokio::test]
async fn stray_prints_and_child_processes_never_reach_the_client() {
    let mut input = request(1, "print", json!({"text": "NOT-A-FRAME"}));
    input += &request(2, "child", json!({}));
    input += &request(3, "echo", json!({"n": 3}));
    let (lines, stderr, code) = run(spawn_echo(), input.as_bytes()).await;

    assert_eq!(code, Some(0), "clean exit on end of input; stderr: {stderr}");
    assert_eq!(lines.len(), 3, "only the three answers on stdout: {lines:?}");
    assert_eq!(lines[0]["id"], 1);
    // The child read /dev/null (not the client's messages) and exited at once; its echo went to stderr.
    assert_eq!(lines[1], json!({"jsonrpc": "2.0", "id": 2, "result": {"code": 0}}));
    assert_eq!(lines[2]["result"]["params"], json!({"n": 3}));
    assert!(stderr.contains("NOT-A-FRAME"), "println! goes to stderr: {stderr}");
    assert!(stderr.contains("from-child"), "the child's stdout goes to stderr: {stderr}");
}

#[tokio::test]
async fn malformed_lines_get_parse_errors_and_the_session_goes_on() {
    let mut input = b"{not json\n".to_vec();
    input.extend_from_slice(b"\xff\xfe\xfd\n");
    input.extend_from_slice(request(7, "echo", json!({})).trim_end().as_bytes());
    input.extend_from_slice(b"\r\n"); // CRLF is accepted
    let (lines, stderr, code) = run(spawn_echo(), &input).await;

    assert_eq!(code, Some(0), "stderr: {stderr}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    for parse_error in &lines[..2] {
        assert_eq!(parse_error["id"], Value::Null, "{parse_error}");
        assert_eq!(parse_error["error"]["code"], -32700, "{parse_error}");
    }
    assert!(lines[1]["error"]["message"].as_str().unwrap().contains("UTF-8"), "{}", lines[1]);
    assert_eq!(lines[2]["id"], 7);
    assert_eq!(lines[2]["result"]["method"], "echo");
}

#[tokio::test]
async fn end_of_input_finishes_the_answers_in_flight() {
    let mut input = request(1, "slow", json!({"ms": 300}));
    input += &request(2, "echo", json!({}));
    let (lines, stderr, code) = run(spawn_echo(), input.as_bytes()).await;

    assert_eq!(code, Some(0), "stderr: {stderr}");
    let mut ids: Vec<i64> = lines.iter().map(|l| l["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2], "both answers arrive although stdin closed first: {lines:?}");
}

/// Through the session engine (mcp-peer's `Server` serving the testkit fixture): bad lines
/// get their JSON-RPC errors and the session goes on.
#[tokio::test]
async fn the_fixture_server_answers_bad_input_and_goes_on() {
    let mut input = request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}),
    );
    input += "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";
    input += "this is not json\n";
    // A batch, which 2025-06-18 forbids.
    input += &format!("[{}]\n", request(2, "ping", json!({})).trim_end());
    input += &request(3, "tools/call", json!({"name": "echo", "arguments": {"message": "still here"}}));
    let mut bytes = input.into_bytes();
    bytes.extend_from_slice(b"\xc3\x28\n"); // invalid UTF-8
    bytes.extend_from_slice(request(4, "ping", json!({})).as_bytes());
    let (lines, stderr, code) = run(spawn("everything-stdio"), &bytes).await;

    assert_eq!(code, Some(0), "clean exit on end of input; stderr: {stderr}");
    let by_id =
        |id: Value| lines.iter().find(|l| l["id"] == id).unwrap_or_else(|| panic!("no answer {id}: {lines:#?}"));
    assert_eq!(by_id(json!(1))["result"]["protocolVersion"], "2025-06-18");
    let errors: Vec<i64> =
        lines.iter().filter(|l| l["id"].is_null()).map(|l| l["error"]["code"].as_i64().unwrap()).collect();
    assert!(errors.iter().filter(|&&c| c == -32700).count() == 2, "two parse errors: {lines:#?}");
    let batch = lines
        .iter()
        .find(|l| l["error"]["code"] == -32600)
        .unwrap_or_else(|| panic!("the batch is refused: {lines:#?}"));
    assert!(batch["error"]["message"].as_str().unwrap().to_lowercase().contains("batch"), "{batch}");
    assert_eq!(by_id(json!(3))["result"]["content"][0]["text"], "Echo: still here");
    assert_eq!(by_id(json!(4))["result"], json!({}));
}

/// stdin a regular file (no readiness events: the blocking fallback) and stdout a pipe.
#[tokio::test]
async fn stdin_from_a_regular_file() {
    use std::io::{Seek, Write};
    let mut file = tempfile::tempfile().unwrap();
    file.write_all((request(1, "echo", json!({"from": "file"})) + &request(2, "echo", json!({}))).as_bytes()).unwrap();
    file.rewind().unwrap();
    let child = Command::new(example("stdio-echo"))
        .stdin(Stdio::from(file))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let output = within("stdio-echo reading a file", child.wait_with_output()).await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<Value> = output
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["result"]["params"], json!({"from": "file"}));
}

/// stdin and stdout Unix sockets, as Node's `child_process` hands them to its children.
#[tokio::test]
async fn stdin_and_stdout_as_sockets() {
    use std::os::fd::OwnedFd;
    let (ours_in, theirs_in) = std::os::unix::net::UnixStream::pair().unwrap();
    let (ours_out, theirs_out) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut child = Command::new(example("stdio-echo"))
        .stdin(Stdio::from(OwnedFd::from(theirs_in)))
        .stdout(Stdio::from(OwnedFd::from(theirs_out)))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    ours_in.set_nonblocking(true).unwrap();
    ours_out.set_nonblocking(true).unwrap();
    let mut to_child = tokio::net::UnixStream::from_std(ours_in).unwrap();
    let mut from_child = tokio::net::UnixStream::from_std(ours_out).unwrap();
    to_child.write_all(request(5, "echo", json!({"via": "socket"})).as_bytes()).await.unwrap();
    drop(to_child);
    let mut out = String::new();
    within("the answer over the socket", from_child.read_to_string(&mut out)).await.unwrap();
    let answer: Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(answer["result"]["params"], json!({"via": "socket"}));
    assert!(within("stdio-echo to exit", child.wait()).await.unwrap().success());
}

/// The peak memory of process `pid` (its high-water mark of resident memory), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// A 64 MiB line against the default 16 MiB limit: a clear error naming the setting, the
/// session goes on, and the line is dropped as it arrives rather than held whole.
#[tokio::test]
async fn a_line_over_the_default_limit_is_refused_without_being_held() {
    const LINE: usize = 64 << 20;
    let mut child = spawn_echo();
    let pid = child.id().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let writer = tokio::spawn(async move {
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..LINE / chunk.len() {
            stdin.write_all(&chunk).await.unwrap();
        }
        stdin.write_all(b"\n").await.unwrap();
        stdin.write_all(request(2, "echo", json!({"after": "the big line"})).as_bytes()).await.unwrap();
        stdin
    });
    let mut first = String::new();
    within("the answer to the oversized line", tokio::io::AsyncBufReadExt::read_line(&mut stdout, &mut first))
        .await
        .unwrap();
    let error: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(error["id"], Value::Null, "{error}");
    assert_eq!(error["error"]["code"], -32600, "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("64 MiB exceeds the 16 MiB limit (set StdioConfig::max_message_bytes)"), "{message}");

    let mut second = String::new();
    within("the answer after the oversized line", tokio::io::AsyncBufReadExt::read_line(&mut stdout, &mut second))
        .await
        .unwrap();
    let answer: Value = serde_json::from_str(&second).unwrap();
    assert_eq!(answer["result"]["params"], json!({"after": "the big line"}));

    // Holding the whole line would take 64 MiB; the limit's buffer (and its growth) stays below.
    let peak = peak_rss(pid);
    assert!(peak < 48 << 20, "stdio-echo's memory peaked at {} MiB", peak >> 20);
    drop(within("the writer", writer).await.unwrap());
    assert!(within("stdio-echo to exit", child.wait()).await.unwrap().success());
}

/// The client closes stdin while a slow tool call runs: the server finishes it (progress and
/// result), then exits with status 0.
#[tokio::test]
async fn end_of_input_lets_the_fixture_server_finish_a_slow_call() {
    let mut input = request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}),
    );
    input += "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";
    input += &request(
        2,
        "tools/call",
        json!({"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": "p"}}),
    );
    let (lines, stderr, code) = run(spawn("everything-stdio"), input.as_bytes()).await;

    assert_eq!(code, Some(0), "stderr: {stderr}");
    let progress: Vec<f64> = lines
        .iter()
        .filter(|l| l["method"] == "notifications/progress")
        .map(|l| l["params"]["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(progress, [0.0, 50.0, 100.0], "{lines:#?}");
    let last = lines.last().unwrap();
    assert_eq!(last["id"], 2, "the result comes last: {lines:#?}");
    assert_eq!(last["result"]["content"][0]["text"], "Tool with progress executed successfully");
}
