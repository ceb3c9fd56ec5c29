//! MCP end to end over NATS: mcp-peer's Client and Server, the fixture server, the
//! `everything-nats` example.

mod support;

use std::process::Stdio;

use mcp_core::Principal;
use mcp_testkit::services::NatsServer;
use mcp_transport_nats::{NatsAcceptor, NatsClientConfig, NatsServerConfig, StaticTokens, connect};
use serde_json::json;
use support::{nats, within};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_client_calls_the_fixture_server_through_nats() {
    let server = NatsServer::start().await;
    let nc = nats(&server.url()).await;
    let acceptor = NatsAcceptor::bind(nc.clone(), NatsServerConfig::new("everything")).await.unwrap();
    let serving = tokio::spawn(async move {
        mcp_testkit::fixtures::everything().serve_acceptor(acceptor, std::future::pending()).await
    });
    let mut clients = Vec::new();
    for i in 0..3 {
        let transport = connect(&nc, NatsClientConfig::new("everything")).await.unwrap();
        let client = mcp_testkit::client::connect(transport).await;
        let result = within("tools/call echo", client.call_tool("echo", &json!({ "message": format!("hi {i}") })))
            .await
            .unwrap();
        assert_eq!(result.content[0].as_text(), Some(format!("Echo: hi {i}").as_str()));
        clients.push(client);
    }
    let tools = within("tools/list", clients[0].list_tools()).await.unwrap();
    assert!(tools.iter().any(|t| t.name == "test_tool_with_progress"), "{tools:?}");
    for client in clients {
        within("close", client.close()).await.unwrap();
    }
    serving.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_principal_limits_the_tools_a_session_sees() {
    let server = NatsServer::start().await;
    let nc = nats(&server.url()).await;
    let tokens = StaticTokens::new().with("echo-only", Principal::new("limited").with_tools(["echo"]));
    let acceptor = NatsAcceptor::bind(nc.clone(), NatsServerConfig::new("guarded").verifier(tokens)).await.unwrap();
    let serving = tokio::spawn(async move {
        mcp_testkit::fixtures::everything().serve_acceptor(acceptor, std::future::pending()).await
    });
    let transport = connect(&nc, NatsClientConfig::new("guarded").token("echo-only")).await.unwrap();
    let client = mcp_testkit::client::connect(transport).await;
    let tools = within("tools/list", client.list_tools()).await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["echo"]);
    let denied = within("a forbidden tool call", client.call_tool("test_simple_text", &json!({}))).await.unwrap();
    assert_eq!(denied.is_error, Some(true));
    assert!(denied.content[0].as_text().unwrap().contains("Permission denied"), "{denied:?}");
    serving.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_everything_nats_example_serves_the_fixture() {
    let server = NatsServer::start().await;
    let mut child = tokio::process::Command::new(example("everything-nats"))
        .args(["--url", &server.url(), "--service", "everything"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn everything-nats");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = within("the example's `serving` line", lines.next_line()).await.unwrap();
    assert_eq!(ready.as_deref(), Some("serving mcp.everything.connect"));

    let nc = nats(&server.url()).await;
    let transport = connect(&nc, NatsClientConfig::new("everything")).await.unwrap();
    let client = mcp_testkit::client::connect(transport).await;
    let result =
        within("tools/call echo", client.call_tool("echo", &json!({ "message": "across processes" }))).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("Echo: across processes"));
    within("close", client.close()).await.unwrap();
    child.kill().await.unwrap();
}

/// The path of one of this crate's examples, built for this test's target directory and profile.
fn example(name: &str) -> std::path::PathBuf {
    mcp_testkit::tools::example("mcp-transport-nats", name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_call_over_max_payload_fails_alone_and_the_session_goes_on() {
    let server = NatsServer::builder().max_payload(4096).start().await;
    let nc = nats(&server.url()).await;
    let acceptor = NatsAcceptor::bind(nc.clone(), NatsServerConfig::new("small")).await.unwrap();
    let serving = tokio::spawn(async move {
        mcp_testkit::fixtures::everything().serve_acceptor(acceptor, std::future::pending()).await
    });
    let client = mcp_testkit::client::connect(connect(&nc, NatsClientConfig::new("small")).await.unwrap()).await;
    let err = within("an oversized tool call", client.call_tool("echo", &json!({ "message": "m".repeat(8000) })))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("4 KiB limit"), "{err}");
    let result =
        within("a tool call after it", client.call_tool("echo", &json!({ "message": "small" }))).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("Echo: small"));
    serving.abort();
}
