//! Interoperability with the official SDKs over WebSocket: the TypeScript SDK 1.32.2
//! `WebSocketClientTransport` and the Python SDK 1.30.0 `websocket_client` against our
//! `everything-ws` example.
//!
//! Needs the test tools: `eval "$(scripts/install-test-deps)"` from the workspace root.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use mcp_testkit::{fixtures, tools};
use serde_json::{Value, json};
use support::within;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop").join(name)
}

/// The built `everything-ws` example.
fn example() -> PathBuf {
    mcp_testkit::tools::example("mcp-transport-ws", "everything-ws")
}

/// Starts the example on a free loopback port; returns the process and its URL.
async fn start_server() -> (Child, String) {
    let mut child = Command::new(example())
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the everything-ws example");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = within("the example to print its URL", lines.next_line()).await.unwrap().expect("a URL line");
    assert!(url.starts_with("ws://127.0.0.1:") && url.ends_with("/mcp"), "{url}");
    (child, url)
}

async fn run_client(mut command: Command, what: &str) -> Vec<Value> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let output = within(what, command.output()).await.unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} failed ({}); stderr:\n{stderr}", output.status);
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: line {line:?}: {e}")))
        .collect()
}

fn result<'a>(lines: &'a [Value], step: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["step"] == step)
        .map(|l| &l["result"])
        .unwrap_or_else(|| panic!("no `{step}` result in {lines:#?}"))
}

fn assert_fixture_results(lines: &[Value], greeting: &str) {
    let init = result(lines, "initialize");
    assert_eq!(init["serverInfo"]["name"], fixtures::SERVER_NAME, "{init}");
    let tools = result(lines, "tools/list")["tools"].as_array().unwrap();
    let echo = tools.iter().find(|t| t["name"] == "echo").expect("the echo tool is listed");
    assert_eq!(echo["inputSchema"]["required"], json!(["message"]));
    assert!(tools.iter().any(|t| t["name"] == "test_simple_text"), "{tools:?}");
    let call = result(lines, "tools/call");
    assert_eq!(call["content"], json!([{"type": "text", "text": format!("Echo: {greeting}")}]), "{call}");
    let simple = result(lines, "tools/call-simple");
    assert_eq!(simple["content"][0]["text"], fixtures::SIMPLE_TEXT, "{simple}");
}

#[tokio::test]
async fn typescript_sdk_websocket_client_uses_our_server() {
    let (_server, url) = start_server().await;
    let modules = tools::node_modules();
    let mut command = Command::new(tools::node());
    command.arg(script("ts_client.cjs")).arg(&url).env("NODE_PATH", &modules).current_dir(modules.parent().unwrap());
    let lines = run_client(command, "the TypeScript SDK WebSocket client").await;
    assert!(result(&lines, "initialize")["capabilities"]["tools"].is_object());
    assert_fixture_results(&lines, "hello from typescript");
}

#[tokio::test]
async fn python_sdk_websocket_client_uses_our_server() {
    let (_server, url) = start_server().await;
    let mut command = Command::new(tools::python_ws());
    command.arg(script("python_client.py")).arg(&url);
    let lines = run_client(command, "the Python SDK websocket_client").await;
    assert_fixture_results(&lines, "hello from python");
}
