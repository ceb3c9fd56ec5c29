//! Server-to-client requests (sampling, elicitation, roots) and the capability checks on them;
//! serving many sessions from an acceptor with a graceful drain.

mod common;

use std::time::Duration;

use common::{Scripted, builder, within};
use mcp_core::schema::{
    CallToolResult, CreateMessageRequestParams, CreateMessageResult, ElicitRequestFormParams, ElicitRequestParams,
    ElicitRequestUrlParams, ElicitResult, ListRootsResult, RequestedSchema, Root, SamplingMessage, Tool,
};
use mcp_core::{IncomingSession, Message, RequestId, SessionInfo, memory};
use mcp_peer::{Client, ClientBuilder, PeerError, RequestContext, Server, SessionConfig};
use serde_json::{Value, json};

fn asking_server() -> Server {
    builder()
        .tool(Tool::new("ask_model", json!({"type": "object"})), |ctx: RequestContext, _a: Value| async move {
            let params = CreateMessageRequestParams::new([SamplingMessage::user_text("2+2?")], 10);
            let reply = ctx.peer().create_message(&params).await?;
            let text = serde_json::to_value(&reply.content)?["text"].as_str().unwrap_or_default().to_owned();
            Ok(CallToolResult::text(format!("{} said {text}", reply.model)))
        })
        .tool(Tool::new("ask_user", json!({"type": "object"})), |ctx: RequestContext, _a: Value| async move {
            let form = ElicitRequestFormParams::new("Your name?", RequestedSchema::new());
            let reply = ctx.peer().elicit(&ElicitRequestParams::Form(form)).await?;
            Ok(CallToolResult::text(serde_json::to_string(&reply)?))
        })
        .tool(Tool::new("ask_url", json!({"type": "object"})), |ctx: RequestContext, _a: Value| async move {
            let url = ElicitRequestUrlParams::new("Log in", "https://example.com/login");
            let reply = ctx.peer().elicit(&ElicitRequestParams::Url(url)).await?;
            Ok(CallToolResult::text(serde_json::to_string(&reply)?))
        })
        .tool(Tool::new("roots", json!({"type": "object"})), |ctx: RequestContext, _a: Value| async move {
            let roots = ctx.peer().list_roots().await?;
            Ok(CallToolResult::text(roots.roots.iter().map(|r| r.uri.as_str()).collect::<Vec<_>>().join(",")))
        })
        .build()
}

async fn connect(server: Server, client: ClientBuilder) -> Client {
    let (client_end, server_end) = memory::pair(16);
    tokio::spawn(async move { server.serve(server_end).await });
    within("connect", client.connect(client_end)).await.unwrap()
}

#[tokio::test]
async fn sampling_elicitation_and_roots_reach_the_client_handlers() {
    let client = Client::builder()
        .on_sampling(|params: CreateMessageRequestParams| async move {
            assert_eq!(params.max_tokens, 10);
            Ok(CreateMessageResult::text("test-model", "4"))
        })
        .on_elicitation(|params: ElicitRequestParams| async move {
            assert_eq!(params.message(), "Your name?");
            Ok(ElicitResult::accept(json!({"name": "Ada"})))
        })
        .on_roots(|| async { Ok(ListRootsResult::new([Root::new("file:///a"), Root::new("file:///b")])) });
    let client = connect(asking_server(), client).await;
    let text = |r: CallToolResult| r.content[0].as_text().unwrap().to_owned();
    assert_eq!(text(client.call_tool("ask_model", &json!({})).await.unwrap()), "test-model said 4");
    let elicited: Value = serde_json::from_str(&text(client.call_tool("ask_user", &json!({})).await.unwrap())).unwrap();
    assert_eq!(elicited, json!({"action": "accept", "content": {"name": "Ada"}}));
    assert_eq!(text(client.call_tool("roots", &json!({})).await.unwrap()), "file:///a,file:///b");
    // Form-only elicitation capability: URL mode is refused before anything is sent.
    let url = client.call_tool("ask_url", &json!({})).await.unwrap();
    assert!(url.is_error());
    assert!(text(url).contains("elicitation.url"));
}

#[tokio::test]
async fn requests_the_client_did_not_declare_are_refused_locally() {
    let client = connect(asking_server(), Client::builder()).await;
    for tool in ["ask_model", "ask_user", "roots"] {
        let result = client.call_tool(tool, &json!({})).await.unwrap();
        assert!(result.is_error(), "{tool}");
        let text = result.content[0].as_text().unwrap();
        assert!(text.contains("did not declare"), "{tool}: {text}");
    }
}

#[tokio::test]
async fn server_requests_carry_the_routing_hint_and_client_errors_come_back() {
    let (mut script, transport) = Scripted::new();
    tokio::spawn(async move { asking_server().serve(transport).await });
    script.push_text(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"sampling":{}},"clientInfo":{"name":"s","version":"1"}}}"#).await;
    script.recv().await;
    script
        .push_text(
            r#"{"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"ask_model","arguments":{}}}"#,
        )
        .await;
    let Message::Request(sampling) = script.recv().await else { panic!("a sampling request") };
    assert_eq!(sampling.method, "sampling/createMessage");
    assert_eq!(sampling.related_request, Some(RequestId::from("call-1")));
    // The client refuses: the tool reports the JSON-RPC error as an execution error.
    script.push(Ok(Message::error(Some(sampling.id), mcp_core::ErrorObject::new(-1, "user rejected sampling")))).await;
    let reply = script.recv().await;
    let Message::Response(resp) = reply else { panic!("a response, got {reply}") };
    let result = resp.result.to_value();
    assert_eq!(result["isError"], true);
    assert!(result["content"][0]["text"].as_str().unwrap().contains("user rejected sampling"), "{result}");
}

#[tokio::test]
async fn a_client_without_handlers_answers_method_not_found_and_ping() {
    let (mut script, transport) = Scripted::new();
    let connect = tokio::spawn(Client::builder().connect(transport));
    let Message::Request(init) = script.recv().await else { panic!("initialize") };
    assert_eq!(init.method, "initialize");
    let init_params = init.params.unwrap().to_value();
    assert_eq!(init_params["protocolVersion"], "2025-11-25");
    assert_eq!(init_params["capabilities"], json!({}));
    let result =
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "x", "version": "1"}});
    script.push(Ok(Message::response(init.id, &result).unwrap())).await;
    assert_eq!(script.recv().await.method(), Some("notifications/initialized"));
    let client = within("connect", connect).await.unwrap().unwrap();
    assert_eq!(client.protocol_version(), mcp_core::ProtocolVersion::V2025_06_18);

    script.push_text(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).await;
    assert!(matches!(script.recv().await, Message::Response(_)));
    script
        .push_text(
            r#"{"jsonrpc":"2.0","id":2,"method":"sampling/createMessage","params":{"messages":[],"maxTokens":1}}"#,
        )
        .await;
    let Message::Error(e) = script.recv().await else { panic!("an error") };
    assert_eq!(e.error.code, -32601);
}

#[tokio::test]
async fn connect_refuses_a_server_speaking_an_unknown_revision() {
    let (mut script, transport) = Scripted::new();
    let connect = tokio::spawn(Client::builder().connect(transport));
    let Message::Request(init) = script.recv().await else { panic!("initialize") };
    let result =
        json!({"protocolVersion": "1999-01-01", "capabilities": {}, "serverInfo": {"name": "x", "version": "1"}});
    script.push(Ok(Message::response(init.id, &result).unwrap())).await;
    let err = within("connect", connect).await.unwrap().unwrap_err();
    assert!(matches!(err, PeerError::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("1999-01-01"), "{err}");
}

#[tokio::test]
async fn acceptor_serves_many_sessions_and_drains_on_shutdown() {
    let (started_tx, mut started) = tokio::sync::mpsc::channel::<()>(8);
    let server = builder()
        .config(SessionConfig::default().shutdown_grace(Duration::from_secs(5)))
        .tool(Tool::new("slow", json!({"type": "object"})), move |_c: RequestContext, _a: Value| {
            let started = started_tx.clone();
            async move {
                let _ = started.send(()).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(CallToolResult::text("finished"))
            }
        })
        .build();
    let (accept_tx, accept_rx) = futures::channel::mpsc::channel::<IncomingSession>(4);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn({
        let server = server.clone();
        async move {
            server
                .serve_acceptor(accept_rx, async {
                    let _ = stop_rx.await;
                })
                .await
        }
    });
    let mut clients = Vec::new();
    let mut accept_tx = accept_tx;
    for _ in 0..3 {
        let (client_end, server_end) = memory::pair(16);
        futures::SinkExt::send(&mut accept_tx, IncomingSession::new(server_end, SessionInfo::new("memory")))
            .await
            .unwrap();
        clients.push(within("connect", Client::connect(client_end)).await.unwrap());
    }
    // Start a slow call on each, then shut down while they run: all three still finish.
    let args = json!({});
    let calls = futures::future::join_all(clients.iter().map(|c| c.call_tool("slow", &args)));
    let stop = async {
        for _ in 0..3 {
            started.recv().await.expect("a slow call started");
        }
        stop_tx.send(()).unwrap();
    };
    let (results, ()) = within("the slow calls", futures::future::join(calls, stop)).await;
    for r in results {
        assert_eq!(r.unwrap().content[0].as_text(), Some("finished"));
    }
    let served = within("the acceptor to drain", serving).await.unwrap();
    assert_eq!(served, 3);
    // After the drain the sessions are closed: new calls fail cleanly.
    let err =
        within("a call after shutdown", clients[0].call_tool("echo", &json!({"message": "x"}))).await.unwrap_err();
    assert!(matches!(err, PeerError::Closed(_)), "{err:?}");
}
