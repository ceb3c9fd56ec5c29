//! Through the gateway over every listener to a stdio upstream, with the official clients:
//! each lists the tools and calls `echo`.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Gateway, step, text, ts_client};

fn list_and_echo(message: &str) -> Value {
    json!([{"list": true}, {"call": "echo", "args": {"message": message}}])
}

/// Checks a TypeScript client's list + echo against our fixture.
fn assert_fixture_echo(lines: &[Value], message: &str) {
    let tools = step(lines, 0)["result"]["tools"].as_array().unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(tools.contains(&json!("echo")) && tools.contains(&json!("test_simple_text")), "{tools:?}");
    assert_eq!(text(step(lines, 1)), format!("Echo: {message}"));
}

#[tokio::test]
async fn http_sse_and_websocket_clients_reach_the_fixture() {
    let gw = Gateway::start(&["--stdio", &support::fixture_command(), "--listen", "http://127.0.0.1:{http}"]).await;
    let url = gw.mcp_url();
    let sse = format!("http://{}/sse", gw.http.unwrap());
    let ws = format!("ws://{}/mcp", gw.http.unwrap());
    let steps =
        [list_and_echo("over streamable http"), list_and_echo("over legacy sse"), list_and_echo("over websocket")];
    let (http_lines, sse_lines, ws_lines) = tokio::join!(
        ts_client("http", &url, &steps[0], None),
        ts_client("sse", &sse, &steps[1], None),
        ts_client("ws", &ws, &steps[2], None),
    );
    assert_fixture_echo(&http_lines, "over streamable http");
    assert_fixture_echo(&sse_lines, "over legacy sse");
    assert_fixture_echo(&ws_lines, "over websocket");
}

#[tokio::test]
async fn python_streamable_http_client_reaches_the_fixture() {
    let gw = Gateway::start(&["--stdio", &support::fixture_command(), "--listen", "http://127.0.0.1:{http}"]).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/python_client.py");
    let output = tokio::time::timeout(
        Duration::from_secs(45),
        tokio::process::Command::new(mcp_testkit::tools::python())
            .arg(script)
            .arg(gw.mcp_url())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the Python client finished within 45 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python client failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by_step = |s: &str| lines.iter().find(|l| l["step"] == s).unwrap_or_else(|| panic!("no {s} in {lines:#?}"));
    assert_eq!(by_step("initialize")["result"]["serverInfo"]["name"], mcp_testkit::fixtures::SERVER_NAME, "{lines:#?}");
    let tools: Vec<&str> = by_step("tools/list")["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(tools.contains(&"echo"), "{tools:?}");
    assert_eq!(by_step("tools/call")["result"]["content"][0]["text"], "Echo: hello from python");
}

#[tokio::test]
async fn streamable_http_client_reaches_the_reference_server_everything() {
    let gw = Gateway::start(&["--stdio", &support::server_everything_command(), "--listen", "http://127.0.0.1:{http}"])
        .await;
    let lines = ts_client("http", &gw.mcp_url(), &list_and_echo("to the reference server"), None).await;
    let tools = step(&lines, 0)["result"]["tools"].as_array().unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(tools.contains(&json!("echo")) && tools.contains(&json!("get-sum")), "{tools:?}");
    assert_eq!(text(step(&lines, 1)), "Echo: to the reference server");
}

#[tokio::test]
async fn stdio_listener_serves_a_typescript_stdio_client() {
    // The TypeScript StdioClientTransport spawns the gateway itself.
    let command = json!([support::GATEWAY, "--stdio", support::fixture_command(), "--listen", "stdio:"]);
    let lines = ts_client("stdio", &command.to_string(), &list_and_echo("over stdio"), None).await;
    assert_fixture_echo(&lines, "over stdio");
}

#[tokio::test]
async fn tcp_listener_serves_our_client_to_the_reference_server() {
    let gw =
        Gateway::start(&["--stdio", &support::server_everything_command(), "--listen", "tcp://127.0.0.1:{tcp}"]).await;
    let transport = mcp_transport_stdio::connect_tcp(gw.tcp.unwrap()).await.unwrap();
    let client = tokio::time::timeout(Duration::from_secs(20), mcp_peer::Client::connect(transport))
        .await
        .expect("initialize over tcp within 20 s")
        .unwrap();
    let tools = client.list_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"), "{:?}", tools.iter().map(|t| &t.name).collect::<Vec<_>>());
    let result = client.call_tool("echo", &json!({"message": "over tcp"})).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("Echo: over tcp"));
    client.close().await.unwrap();
}
