//! tools/list and tools/call through the Client: typed args, validation, errors, panics, auth.

mod common;

use common::{builder, within};
use mcp_core::memory;
use mcp_core::{IncomingSession, Principal, SessionInfo};
use mcp_peer::{Client, PeerError, Server};
use serde_json::json;

async fn connect(server: Server, info: SessionInfo) -> Client {
    let (client_end, server_end) = memory::pair(16);
    tokio::spawn(async move { server.serve_session(IncomingSession::new(server_end, info)).await });
    within("connect", Client::connect(client_end)).await.expect("connect")
}

#[tokio::test]
async fn typed_call_round_trip() {
    let client = connect(builder().build(), SessionInfo::new("memory")).await;
    let tools = client.list_tools().await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["echo", "fail", "boom", "raw"]);
    let result = client.call_tool("echo", &json!({"message": "hello"})).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("hello"));
    assert!(!result.is_error());
    let raw = client.call_tool("raw", &json!({"a": [1, 2]})).await.unwrap();
    assert_eq!(raw.content[0].as_text(), Some(r#"{"a":[1,2]}"#));
    client.close().await.unwrap();
}

#[tokio::test]
async fn schema_violation_is_invalid_params_naming_the_problem() {
    let client = connect(builder().build(), SessionInfo::new("memory")).await;
    let err = client.call_tool("echo", &json!({"message": 5})).await.unwrap_err();
    let rpc = err.rpc_error().expect("a JSON-RPC error");
    assert_eq!(rpc.code, -32602);
    assert!(rpc.message.contains("/message") && rpc.message.contains("\"echo\""), "{}", rpc.message);
    let err = client.call_tool("echo", &json!({})).await.unwrap_err();
    assert!(err.rpc_error().unwrap().message.contains("message"), "{err}");
    // The session goes on.
    assert_eq!(client.call_tool("echo", &json!({"message": "ok"})).await.unwrap().content[0].as_text(), Some("ok"));
}

#[tokio::test]
async fn unknown_tool_is_invalid_params() {
    let client = connect(builder().build(), SessionInfo::new("memory")).await;
    let err = client.call_tool("nope", &json!({})).await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code, -32602);
    assert!(err.to_string().contains("nope"), "{err}");
}

#[tokio::test]
async fn execution_error_is_an_is_error_result() {
    let client = connect(builder().build(), SessionInfo::new("memory")).await;
    let result = client.call_tool("fail", &json!({})).await.unwrap();
    assert!(result.is_error());
    assert_eq!(result.content[0].as_text(), Some("the disk is full"));
}

#[tokio::test]
async fn handler_panic_is_internal_error_and_session_continues() {
    let client = connect(builder().build(), SessionInfo::new("memory")).await;
    let err = client.call_tool("boom", &json!({})).await.unwrap_err();
    let rpc = err.rpc_error().expect("a JSON-RPC error");
    assert_eq!(rpc.code, -32603);
    assert!(rpc.message.contains("kaboom"), "{}", rpc.message);
    assert_eq!(
        client.call_tool("echo", &json!({"message": "still"})).await.unwrap().content[0].as_text(),
        Some("still")
    );
}

#[tokio::test]
async fn principal_sees_and_calls_only_permitted_tools() {
    let info = SessionInfo::new("memory").with_principal(Principal::new("alice").with_tools(["echo", "r*"]));
    let client = connect(builder().build(), info).await;
    let names: Vec<_> = client.list_tools().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["echo", "raw"]);
    let denied = client.call_tool("fail", &json!({})).await.unwrap();
    assert!(denied.is_error());
    assert_eq!(denied.content[0].as_text(), Some("Permission denied: tool fail not authorized"));
    assert!(!client.call_tool("echo", &json!({"message": "x"})).await.unwrap().is_error());
}

#[tokio::test]
async fn custom_authorization_hook() {
    let server = builder()
        .authorize_tools(|p, tool| p.is_some_and(|p| p.scopes.iter().any(|s| s == "admin")) || tool.name == "echo")
        .build();
    let client = connect(server.clone(), SessionInfo::new("memory")).await;
    let names: Vec<_> = client.list_tools().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["echo"]);
    let admin =
        connect(server, SessionInfo::new("memory").with_principal(Principal::new("root").with_scopes(["admin"]))).await;
    assert_eq!(admin.list_tools().await.unwrap().len(), 4);
}

#[tokio::test]
async fn calls_fail_cleanly_when_the_server_goes_away() {
    let (client_end, server_end) = memory::pair(16);
    let server = builder().build();
    let task = tokio::spawn(async move { server.serve(server_end).await });
    let client = within("connect", Client::connect(client_end)).await.unwrap();
    task.abort();
    let err = within("a call to a dead server", client.call_tool("echo", &json!({"message": "x"}))).await.unwrap_err();
    assert!(matches!(err, PeerError::Closed(_) | PeerError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn handlers_see_the_session_info_and_client_notifications_reach_the_hook() {
    use mcp_core::schema::{CallToolResult, Tool};
    use mcp_peer::RequestContext;
    let (seen_tx, mut seen) = tokio::sync::mpsc::channel(4);
    let server = builder()
        .tool(Tool::new("whoami", json!({"type": "object"})), |ctx: RequestContext, _a: serde_json::Value| async move {
            let info = ctx.session_info();
            let who = ctx.principal().map_or("nobody", |p| p.id.as_str());
            Ok(CallToolResult::text(format!("{who} via {} from {:?}", info.transport, info.remote_addr)))
        })
        .on_notification(move |peer, n| {
            let _ = seen_tx.try_send((peer.session_id().to_owned(), n.method));
        })
        .build();
    let addr = "127.0.0.1:4000".parse().unwrap();
    let info = SessionInfo::new("tcp").with_principal(Principal::new("carol")).with_remote_addr(addr);
    let client = connect(server, info).await;
    let text = client.call_tool("whoami", &json!({})).await.unwrap();
    assert_eq!(text.content[0].as_text(), Some("carol via tcp from Some(127.0.0.1:4000)"));
    client.peer().notify("notifications/roots/list_changed", &json!({})).await.unwrap();
    let (session, method) = within("the notification hook", seen.recv()).await.unwrap();
    assert_eq!(method, "notifications/roots/list_changed");
    assert!(session.starts_with("tcp-"), "{session}");
}

#[tokio::test]
async fn structured_output_is_checked_against_the_output_schema() {
    use mcp_core::schema::{CallToolResult, Tool};
    use mcp_peer::RequestContext;
    let out = json!({"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]});
    let server = builder()
        .tool(
            Tool::new("good", json!({"type": "object"})).with_output_schema(out.clone()),
            |_c: RequestContext, _a: serde_json::Value| async move {
                Ok(CallToolResult::text("3").with_structured_content(json!({"sum": 3})))
            },
        )
        .tool(
            Tool::new("wrong", json!({"type": "object"})).with_output_schema(out.clone()),
            |_c: RequestContext, _a: serde_json::Value| async move {
                Ok(CallToolResult::text("3").with_structured_content(json!({"sum": "three"})))
            },
        )
        .tool(
            Tool::new("missing", json!({"type": "object"})).with_output_schema(out),
            |_c: RequestContext, _a: serde_json::Value| async move { Ok(CallToolResult::text("3")) },
        )
        .build();
    let client = connect(server, SessionInfo::new("memory")).await;
    assert_eq!(client.call_tool("good", &json!({})).await.unwrap().structured_content, Some(json!({"sum": 3})));
    for tool in ["wrong", "missing"] {
        let err = client.call_tool(tool, &json!({})).await.unwrap_err();
        let rpc = err.rpc_error().unwrap();
        assert_eq!(rpc.code, -32603, "{tool}");
        assert!(rpc.message.contains("output schema"), "{tool}: {}", rpc.message);
    }
}
