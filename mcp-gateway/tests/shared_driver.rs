//! The `--shared` driver with a real child process: two of our clients share one
//! server-everything (the driver's unit tests, with a fake child, are in `src/shared.rs`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_gateway::shared::{SharedConfig, SharedUpstream};
use serde_json::json;

/// Two mcp-peer clients (which number their requests identically) share one
/// server-everything child: concurrent slow calls with progress and echoes each come back to
/// the client that made them.
async fn exercise(
    client: &mcp_peer::Client,
    who: &str,
) -> (mcp_core::schema::CallToolResult, mcp_core::schema::CallToolResult, Vec<f64>) {
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let (slow_args, echo_args) = (json!({"duration": 1, "steps": 2}), json!({"message": format!("from {who}")}));
    let slow = client.call_tool_with_progress("trigger-long-running-operation", &slow_args, move |p| {
        seen.lock().unwrap().push(p.progress)
    });
    let echo = client.call_tool("echo", &echo_args);
    let (slow, echo) = tokio::join!(slow, echo);
    let progress = progress.lock().unwrap().clone();
    (slow.unwrap(), echo.unwrap(), progress)
}

#[tokio::test]
async fn two_clients_share_one_reference_server_child() {
    let script = mcp_testkit::tools::node_modules().join("@modelcontextprotocol/server-everything/dist/index.js");
    let child = mcp_transport_stdio::ChildProcess::new(mcp_testkit::tools::node()).arg(script).arg("stdio");
    let upstream = SharedUpstream::new(Arc::new(child), SharedConfig::default());
    let connect = || async {
        let session = upstream.open_session().await.expect("the shared child starts");
        tokio::time::timeout(Duration::from_secs(20), mcp_peer::Client::connect(session))
            .await
            .expect("initialize within 20 s")
            .unwrap()
    };
    let (a, b) = (connect().await, connect().await);
    assert_eq!(a.server_info().server_info.name, b.server_info().server_info.name);
    let ((slow_a, echo_a, progress_a), (slow_b, echo_b, progress_b)) =
        tokio::time::timeout(Duration::from_secs(20), async { tokio::join!(exercise(&a, "a"), exercise(&b, "b")) })
            .await
            .expect("both clients done within 20 s");
    assert_eq!(echo_a.content[0].as_text(), Some("Echo: from a"));
    assert_eq!(echo_b.content[0].as_text(), Some("Echo: from b"));
    for slow in [&slow_a, &slow_b] {
        assert!(slow.content[0].as_text().is_some_and(|t| t.contains("Long running operation completed")), "{slow:?}");
    }
    // Each client saw only its own two progress steps.
    assert_eq!(progress_a.len(), 2, "{progress_a:?}");
    assert_eq!(progress_b.len(), 2, "{progress_b:?}");
    a.close().await.unwrap();
    b.close().await.unwrap();
}
