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
