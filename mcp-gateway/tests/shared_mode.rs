//! `--shared`: one upstream child serves every client session.

mod support;

use serde_json::json;
use support::{Gateway, step, text, ts_client};

#[tokio::test]
async fn one_shared_child_serves_two_concurrent_clients() {
    let dir = tempfile::tempdir().unwrap();
    let starts = dir.path().join("starts");
    // The child notes each start in a file, then becomes the reference server.
    let command =
        format!("sh -c \"echo started >> '{}'; exec {}\"", starts.display(), support::server_everything_command());
    let gw = Gateway::start(&["--stdio", &command, "--shared", "--listen", "http://127.0.0.1:{http}"]).await;
    let steps = |who: &str| {
        json!([
            {"parallel": true, "call": "trigger-long-running-operation", "args": {"duration": 1, "steps": 2}},
            {"parallel": true, "call": "echo", "args": {"message": format!("from {who}")}},
        ])
    };
    let (steps_a, steps_b, url) = (steps("a"), steps("b"), gw.mcp_url());
    let (a, b) = tokio::join!(ts_client("http", &url, &steps_a, None), ts_client("http", &url, &steps_b, None));
    for (lines, who) in [(&a, "a"), (&b, "b")] {
        assert!(text(step(lines, 0)).contains("Long running operation completed"), "{lines:#?}");
        assert_eq!(text(step(lines, 1)), format!("Echo: from {who}"));
    }
    let started = std::fs::read_to_string(&starts).unwrap_or_default().lines().count();
    assert_eq!(started, 1, "children started for two sessions with --shared\n{}", gw.log().join("\n"));
}

/// A client that sends its requests and closes its input (as `printf ... | nc` or a stdio client
/// at EOF does) still gets every answer from the shared child, then the connection ends.
#[tokio::test]
async fn a_shared_session_that_closes_its_input_gets_its_answers() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let gw = Gateway::start(&[
        "--stdio",
        &support::server_everything_command(),
        "--shared",
        "--listen",
        "tcp://127.0.0.1:{tcp}",
    ])
    .await;
    let stream = tokio::net::TcpStream::connect(gw.tcp.unwrap()).await.unwrap();
    let (read, mut write) = stream.into_split();
    let lines = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
            "capabilities": {}, "clientInfo": {"name": "half-close", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "trigger-long-running-operation",
            "arguments": {"duration": 1, "steps": 2}}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "echo",
            "arguments": {"message": "before EOF"}}}),
    ];
    for line in &lines {
        write.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    }
    write.shutdown().await.unwrap();
    let mut answers = std::collections::HashMap::new();
    let mut reader = BufReader::new(read).lines();
    let read_all = async {
        while let Some(line) = reader.next_line().await.unwrap() {
            let msg: serde_json::Value = serde_json::from_str(&line).unwrap();
            if let Some(id) = msg.get("id").and_then(|id| id.as_i64()) {
                answers.insert(id, msg);
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), read_all)
        .await
        .unwrap_or_else(|_| panic!("the connection did not end within 20 s\n{}", gw.log().join("\n")));
    let text_of = |id: i64| answers.get(&id).map(|m| m["result"]["content"][0]["text"].clone());
    assert!(
        text_of(2)
            .and_then(|t| t.as_str().map(str::to_owned))
            .is_some_and(|t| t.contains("Long running operation completed")),
        "{answers:#?}"
    );
    assert_eq!(text_of(3), Some(json!("Echo: before EOF")), "{answers:#?}");
}
