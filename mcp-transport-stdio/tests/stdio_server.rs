//! The stdio server side, end to end: the `stdio-echo` example run as a child process and
//! driven through raw pipes, checking every byte it writes to stdout.

mod support;

use std::process::Stdio;

use serde_json::{Value, json};
use support::{example, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

fn spawn_echo() -> Child {
    Command::new(example("stdio-echo"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn stdio-echo")
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
