//! Interoperability with the official SDKs over stdio: their clients (TypeScript SDK 1.32.2,
//! Python SDK 2.3.0) spawn our `everything-stdio` example; our client spawns the reference
//! server (`@modelcontextprotocol/server-everything`) and a Python SDK server.
//!
//! Needs the test tools: `eval "$(scripts/install-test-deps)"` from the workspace root.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use mcp_testkit::{fixtures, tools};
use mcp_transport_stdio::ChildProcess;
use serde_json::{Value, json};
use support::{example, within};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop").join(name)
}

/// Runs an SDK client script to its end and returns its stdout lines as JSON.
async fn run_client(mut command: tokio::process::Command, what: &str) -> Vec<Value> {
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

/// The result of `step` among `lines` (of `client`, when the script runs several).
fn result<'a>(lines: &'a [Value], client: Option<&str>, step: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["step"] == step && client.is_none_or(|c| l["client"] == c))
        .map(|l| &l["result"])
        .unwrap_or_else(|| panic!("no `{step}` result for {client:?} in {lines:#?}"))
}

/// What every client must have seen from the fixture server.
fn assert_fixture_results(lines: &[Value], client: Option<&str>, greeting: &str) {
    let tools = result(lines, client, "tools/list")["tools"].as_array().unwrap();
    let echo = tools.iter().find(|t| t["name"] == "echo").expect("the echo tool is listed");
    assert_eq!(echo["inputSchema"]["required"], json!(["message"]));
    assert!(tools.iter().any(|t| t["name"] == "test_simple_text"), "{tools:?}");

    let call = result(lines, client, "tools/call");
    assert_eq!(call["content"], json!([{"type": "text", "text": format!("Echo: {greeting}")}]), "{call}");

    let resources = result(lines, client, "resources/list")["resources"].as_array().unwrap();
    assert!(resources.iter().any(|r| r["uri"] == "test://static-text"), "{resources:?}");
    let read = result(lines, client, "resources/read");
    assert_eq!(read["contents"][0]["text"], fixtures::STATIC_TEXT, "{read}");
    assert_eq!(read["contents"][0]["uri"], "test://static-text");

    let prompts = result(lines, client, "prompts/list")["prompts"].as_array().unwrap();
    assert!(prompts.iter().any(|p| p["name"] == "test_simple_prompt"), "{prompts:?}");
    let prompt = result(lines, client, "prompts/get");
    assert_eq!(prompt["messages"][0]["content"]["text"], "Prompt with arguments: arg1='a', arg2='b'", "{prompt}");
}

#[tokio::test]
async fn typescript_sdk_client_uses_our_stdio_server() {
    let server = example("everything-stdio");
    let modules = tools::node_modules();
    let mut command = tokio::process::Command::new(tools::node());
    command.arg(script("ts_client.cjs")).arg(&server).env("NODE_PATH", &modules).current_dir(modules.parent().unwrap());
    let lines = run_client(command, "the TypeScript SDK client").await;

    let init = result(&lines, None, "initialize");
    assert_eq!(init["serverInfo"]["name"], fixtures::SERVER_NAME, "{init}");
    assert!(init["capabilities"]["tools"].is_object(), "{init}");
    assert_fixture_results(&lines, None, "hello from typescript");
}

#[tokio::test]
async fn python_sdk_clients_use_our_stdio_server() {
    let server = example("everything-stdio");
    let mut command = tokio::process::Command::new(tools::python());
    command.arg(script("python_client.py")).arg(&server);
    let lines = run_client(command, "the Python SDK clients").await;

    let init = result(&lines, Some("session"), "initialize");
    assert_eq!(init["serverInfo"]["name"], fixtures::SERVER_NAME, "{init}");
    // ClientSession: the initialize handshake.
    assert_fixture_results(&lines, Some("session"), "hello from python");
    // Client: probes `server/discover` (answered -32601), then falls back to initialize.
    assert_fixture_results(&lines, Some("client"), "hello from python");
}

#[tokio::test]
async fn our_client_calls_the_reference_server_echo() {
    let reference = tools::node_modules().join("@modelcontextprotocol/server-everything/dist/index.js");
    assert!(reference.is_file(), "{} is missing: run scripts/install-test-deps", reference.display());
    let transport = ChildProcess::new(tools::node()).arg(&reference).arg("stdio").spawn().unwrap();
    let client = mcp_testkit::client::connect(transport).await;
    assert!(!client.server_info().server_info.name.is_empty());

    let tools = within("tools/list from the reference server", client.list_tools()).await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"), "{:?}", tools.iter().map(|t| &t.name).collect::<Vec<_>>());
    let result = within("the echo call", client.call_tool("echo", &json!({"message": "hi from rust"}))).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("Echo: hi from rust"));
    within("closing the session", client.close()).await.unwrap();
}

#[tokio::test]
async fn our_client_calls_a_python_sdk_server() {
    let transport = ChildProcess::new(tools::python()).arg(script("python_server.py")).spawn().unwrap();
    let client = mcp_testkit::client::connect(transport).await;
    assert_eq!(client.server_info().server_info.name, "python-echo");
    let result = within("the echo call", client.call_tool("echo", &json!({"message": "hi from rust"}))).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("Python echo: hi from rust"));
    within("closing the session", client.close()).await.unwrap();
}
