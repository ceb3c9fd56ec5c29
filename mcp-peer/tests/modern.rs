//! The stateless 2026-07-28 revision: `server/discover`, per-request `_meta`, -32022, and
//! legacy clients on the same server.

mod common;

use common::{Raw, builder, error_code, result};
use mcp_core::schema::{CallToolResult, LoggingLevel, Tool};
use mcp_core::{Message, RequestId};
use mcp_peer::RequestContext;
use serde_json::{Value, json};

fn modern_meta(version: &str) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "modern", "version": "1"}
    })
}

fn modern_server() -> mcp_peer::Server {
    builder()
        .stateless_revision(true)
        .tool(Tool::new("chatty", json!({"type": "object"})), |ctx: RequestContext, _a: Value| async move {
            ctx.log(LoggingLevel::Info, json!("info line")).await?;
            ctx.log(LoggingLevel::Error, json!("error line")).await?;
            Ok(CallToolResult::text("logged"))
        })
        .build()
}

#[tokio::test]
async fn legacy_only_server_rejects_modern_requests_with_the_supported_list() {
    let (mut raw, _task) = Raw::start(builder().build());
    let resp = raw.call("server/discover", json!({"_meta": modern_meta("2026-07-28")})).await;
    let Message::Error(e) = &resp else { panic!("an error, got {resp}") };
    assert_eq!(e.error.code, -32022);
    let data = e.error.data.as_ref().unwrap().to_value();
    assert_eq!(data["requested"], "2026-07-28");
    assert_eq!(data["supported"], json!(["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]));
    // A bare probe (no _meta) is an unknown method; either way the session stays usable.
    assert_eq!(error_code(&raw.call("server/discover", json!({})).await), -32601);
    assert_eq!(raw.initialize("2025-11-25").await["protocolVersion"], "2025-11-25");
}

#[tokio::test]
async fn discover_lists_every_revision_newest_first() {
    let server = builder().stateless_revision(true).instructions("use chatty").build();
    let (mut raw, _task) = Raw::start(server);
    let discovered = result(&raw.call("server/discover", json!({"_meta": modern_meta("2026-07-28")})).await);
    assert_eq!(
        discovered["supportedVersions"],
        json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"])
    );
    assert_eq!(discovered["resultType"], "complete");
    assert_eq!(discovered["cacheScope"], "public");
    assert!(discovered["ttlMs"].is_i64());
    assert_eq!(discovered["capabilities"]["tools"]["listChanged"], true);
    assert_eq!(discovered["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "test-server");
    assert_eq!(discovered["instructions"], "use chatty");
}

#[tokio::test]
async fn modern_requests_are_served_without_initialize() {
    let (mut raw, _task) = Raw::start(modern_server());
    let tools = result(&raw.call("tools/list", json!({"_meta": modern_meta("2026-07-28")})).await);
    assert_eq!(tools["tools"].as_array().unwrap().len(), 5);
    assert_eq!(tools["resultType"], "complete");
    assert_eq!(tools["cacheScope"], "private");
    assert_eq!(tools["ttlMs"], 0);
    let call = result(
        &raw.call(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "stateless"}, "_meta": modern_meta("2026-07-28")}),
        )
        .await,
    );
    assert_eq!(call["content"][0]["text"], "stateless");
    assert_eq!(call["resultType"], "complete");
    assert_eq!(call["_meta"]["io.modelcontextprotocol/serverInfo"]["version"], "0.0.1");
    // Errors stay errors.
    let bad =
        raw.call("tools/call", json!({"name": "echo", "arguments": {}, "_meta": modern_meta("2026-07-28")})).await;
    assert_eq!(error_code(&bad), -32602);
    let gone = raw.call("logging/setLevel", json!({"level": "debug", "_meta": modern_meta("2026-07-28")})).await;
    assert_eq!(error_code(&gone), -32601);
}

#[tokio::test]
async fn a_modern_request_naming_an_unknown_revision_gets_32022() {
    let (mut raw, _task) = Raw::start(modern_server());
    let resp = raw.call("tools/list", json!({"_meta": modern_meta("2030-01-01")})).await;
    let Message::Error(e) = &resp else { panic!("an error, got {resp}") };
    assert_eq!(e.error.code, -32022);
    let data = e.error.data.as_ref().unwrap().to_value();
    assert_eq!(data["requested"], "2030-01-01");
    assert_eq!(data["supported"][4], "2026-07-28");
}

#[tokio::test]
async fn modern_log_level_comes_from_each_request() {
    let (mut raw, _task) = Raw::start(modern_server());
    // No level in _meta: no log messages at all.
    let mut meta = modern_meta("2026-07-28");
    raw.send(Message::request(1, "tools/call", &json!({"name": "chatty", "_meta": meta})).unwrap()).await;
    let first = raw.recv().await;
    assert_eq!(first.id(), Some(&RequestId::Number(1)), "no log message expected, got {first}");
    // Level error: only the error line, tied to its request.
    meta["io.modelcontextprotocol/logLevel"] = json!("error");
    raw.send(Message::request(2, "tools/call", &json!({"name": "chatty", "_meta": meta})).unwrap()).await;
    let log = raw.recv().await;
    assert_eq!(log.method(), Some("notifications/message"));
    let Message::Notification(n) = &log else { unreachable!() };
    assert_eq!(n.params.as_ref().unwrap().to_value()["level"], "error");
    assert_eq!(n.related_request, Some(RequestId::Number(2)));
    assert_eq!(raw.recv().await.id(), Some(&RequestId::Number(2)));
}

#[tokio::test]
async fn the_same_server_still_serves_legacy_clients() {
    let (mut raw, _task) = Raw::start(modern_server());
    assert_eq!(raw.initialize("2025-06-18").await["protocolVersion"], "2025-06-18");
    let call = result(&raw.call("tools/call", json!({"name": "echo", "arguments": {"message": "legacy"}})).await);
    assert_eq!(call["content"][0]["text"], "legacy");
    assert!(call.get("resultType").is_none(), "legacy results are not stamped: {call}");
}

async fn modern_client(server: mcp_peer::Server) -> mcp_peer::Client {
    let (client_end, server_end) = mcp_core::memory::pair(16);
    tokio::spawn(async move { server.serve(server_end).await });
    let builder = mcp_peer::Client::builder().protocol_version(mcp_core::ProtocolVersion::V2026_07_28);
    common::within("connect", builder.connect(client_end)).await.unwrap()
}

#[tokio::test]
async fn a_modern_client_speaks_the_stateless_revision_when_offered() {
    let client = modern_client(modern_server()).await;
    assert_eq!(client.protocol_version(), mcp_core::ProtocolVersion::V2026_07_28);
    assert_eq!(client.server_info().server_info.name, "test-server");
    assert_eq!(client.list_tools().await.unwrap().len(), 5);
    let result = client.call_tool("echo", &json!({"message": "modern"})).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("modern"));
    // A progress token and the revision's metadata share the request's _meta.
    let with_progress = client.call_tool_with_progress("echo", &json!({"message": "p"}), |_| {}).await.unwrap();
    assert_eq!(with_progress.content[0].as_text(), Some("p"));
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_modern_client_falls_back_to_the_handshake_with_a_legacy_server() {
    let client = modern_client(builder().build()).await;
    assert_eq!(client.protocol_version(), mcp_core::ProtocolVersion::V2025_11_25);
    let result = client.call_tool("echo", &json!({"message": "legacy"})).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("legacy"));
}

#[tokio::test]
async fn subscriptions_listen_acknowledges_then_streams_what_was_asked() {
    let server = modern_server();
    let (mut raw, task) = Raw::start(server.clone());
    let params = json!({
        "_meta": modern_meta("2026-07-28"),
        "notifications": {"toolsListChanged": true, "resourceSubscriptions": ["mem://watched"], "bogusKind": true}
    });
    raw.send(Message::request("listen-1", "subscriptions/listen", &params).unwrap()).await;
    let ack = raw.recv().await;
    assert_eq!(ack.method(), Some("notifications/subscriptions/acknowledged"));
    let Message::Notification(ack) = ack else { unreachable!() };
    let ack = ack.params.unwrap().to_value();
    assert_eq!(ack["_meta"]["io.modelcontextprotocol/subscriptionId"], "listen-1");
    assert_eq!(ack["notifications"], json!({"toolsListChanged": true, "resourceSubscriptions": ["mem://watched"]}));

    server.notify_resource_updated("mem://other"); // not asked for
    server.add_prompt(mcp_core::schema::Prompt::new("p"), |_c: RequestContext, _a| async move {
        Ok(mcp_core::schema::GetPromptResult::new([]))
    }); // prompts not asked for
    server.notify_resource_updated("mem://watched");
    let updated = raw.recv().await;
    assert_eq!(updated.method(), Some("notifications/resources/updated"));
    assert_eq!(updated.related_request(), Some(&RequestId::from("listen-1")));
    let Message::Notification(n) = &updated else { unreachable!() };
    let p = n.params.as_ref().unwrap().to_value();
    assert_eq!(p["uri"], "mem://watched");
    assert_eq!(p["_meta"]["io.modelcontextprotocol/subscriptionId"], "listen-1");
    server.add_tool(Tool::new("new", json!({"type": "object"})), |_c: RequestContext, _a: Value| async move {
        Ok(CallToolResult::text("x"))
    });
    assert_eq!(raw.recv().await.method(), Some("notifications/tools/list_changed"));

    // Cancelling the listen request ends the subscription without a response.
    raw.send(Message::notification("notifications/cancelled", &json!({"requestId": "listen-1"})).unwrap()).await;
    let pong = raw.call("ping", json!({})).await; // ordered after the cancellation
    assert_eq!(result(&pong), json!({}));
    server.notify_resource_updated("mem://watched");
    let after = raw.call("ping", json!({})).await;
    assert!(matches!(after, Message::Response(_)), "nothing but the ping's answer: {after}");
    drop(raw);
    let summary = common::within("the session to end", task).await.unwrap().unwrap();
    assert_eq!(summary.end, mcp_peer::SessionEnd::PeerClosed);
}

#[tokio::test]
async fn an_open_subscription_ends_gracefully_when_the_session_closes() {
    let (mut script, transport) = common::Scripted::new();
    let task = tokio::spawn(async move { modern_server().serve(transport).await });
    let params = json!({"_meta": modern_meta("2026-07-28"), "notifications": {"toolsListChanged": true}});
    script.push(Ok(Message::request(7, "subscriptions/listen", &params).unwrap())).await;
    assert_eq!(script.recv().await.method(), Some("notifications/subscriptions/acknowledged"));
    script.incoming.close_channel(); // EOF: the subscription is answered, the session ends at once
    let end = script.recv().await;
    assert_eq!(end.id(), Some(&RequestId::Number(7)));
    let done = result(&end);
    assert_eq!(done["resultType"], "complete");
    assert_eq!(done["_meta"]["io.modelcontextprotocol/subscriptionId"], 7);
    let summary = common::within("the session to end", task).await.unwrap().unwrap();
    assert_eq!(summary.end, mcp_peer::SessionEnd::PeerClosed);
}

/// A stateless server whose `ask` tool needs a sampling answer from the client first.
fn mrtr_server() -> mcp_peer::Server {
    use mcp_core::schema::{
        CreateMessageRequest, CreateMessageRequestParams, InputRequiredResult, InputResponse, SamplingMessage,
    };
    builder()
        .stateless_revision(true)
        .tool(Tool::new("ask", json!({"type": "object"})), |ctx: RequestContext, _a: Value| async move {
            match ctx.input_response("q") {
                Some(InputResponse::CreateMessage(reply)) => {
                    let text = serde_json::to_value(&reply.content)?["text"].as_str().unwrap_or_default().to_owned();
                    let state = ctx.request_state().unwrap_or("none").to_owned();
                    Ok(CallToolResult::text(format!("{} said {text} ({state})", reply.model)))
                }
                _ => {
                    let params = CreateMessageRequestParams::new([SamplingMessage::user_text("2+2?")], 5);
                    Err(mcp_peer::ToolError::InputRequired(
                        InputRequiredResult::new()
                            .with_input_request("q", CreateMessageRequest::new(params))
                            .with_request_state("round-1"),
                    ))
                }
            }
        })
        .build()
}

#[tokio::test]
async fn multi_round_trip_requests_replace_server_to_client_requests() {
    use mcp_core::schema::{CreateMessageRequestParams, CreateMessageResult};
    let server = mrtr_server();
    let (client_end, server_end) = mcp_core::memory::pair(16);
    tokio::spawn(async move { server.serve(server_end).await });
    let client = mcp_peer::Client::builder()
        .protocol_version(mcp_core::ProtocolVersion::V2026_07_28)
        .on_sampling(|params: CreateMessageRequestParams| async move {
            assert_eq!(params.max_tokens, 5);
            Ok(CreateMessageResult::text("m1", "4"))
        })
        .connect(client_end);
    let client = common::within("connect", client).await.unwrap();
    let result = client.call_tool("ask", &json!({})).await.unwrap();
    assert_eq!(result.content[0].as_text(), Some("m1 said 4 (round-1)"));

    client.close().await.unwrap();
}

#[tokio::test]
async fn a_client_without_the_handler_gets_a_clear_error_instead_of_a_loop() {
    let (client_end, server_end) = mcp_core::memory::pair(16);
    let server = mrtr_server();
    tokio::spawn(async move { server.serve(server_end).await });
    let builder = mcp_peer::Client::builder().protocol_version(mcp_core::ProtocolVersion::V2026_07_28);
    let client = common::within("connect", builder.connect(client_end)).await.unwrap();
    let err = client.call_tool("ask", &json!({})).await.unwrap_err();
    assert!(matches!(err, mcp_peer::PeerError::MissingCapability { .. }), "{err:?}");
    assert!(err.to_string().contains("sampling"), "{err}");
}

#[tokio::test]
async fn input_required_in_a_legacy_session_is_an_internal_error() {
    let (mut raw, _task) = Raw::start(mrtr_server());
    raw.initialize("2025-11-25").await;
    let reply = raw.call("tools/call", json!({"name": "ask", "arguments": {}})).await;
    assert_eq!(error_code(&reply), -32603);
    let Message::Error(e) = &reply else { unreachable!() };
    assert!(e.error.message.contains("2025-11-25"), "{}", e.error.message);
}
