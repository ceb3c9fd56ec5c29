//! Resources, templates, subscriptions, prompts, completion, logging, pagination, list_changed.

mod common;

use std::collections::BTreeMap;

use common::{builder, within};
use mcp_core::jsonrpc::Notification;
use mcp_core::schema::{
    CallToolResult, CompleteRequestParams, CompleteResult, GetPromptResult, LoggingLevel, Prompt, PromptArgument,
    PromptMessage, ReadResourceResult, Reference, Resource, ResourceTemplate, Tool,
};
use mcp_core::{ErrorObject, memory};
use mcp_peer::{Client, RequestContext, Server, SessionConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;

async fn connect(server: Server) -> (Client, mpsc::Receiver<Notification>) {
    let (tx, rx) = mpsc::channel(64);
    let (client_end, server_end) = memory::pair(16);
    tokio::spawn(async move { server.serve(server_end).await });
    let client = Client::builder().on_notification(move |n| {
        let _ = tx.try_send(n);
    });
    (within("connect", client.connect(client_end)).await.unwrap(), rx)
}

async fn next_notification(rx: &mut mpsc::Receiver<Notification>, method: &str) -> Notification {
    loop {
        let n = within(method, rx.recv()).await.expect("session ended");
        if n.method == method {
            return n;
        }
    }
}

fn full_server() -> Server {
    builder()
        .resource(Resource::new("mem://readme", "readme").with_mime_type("text/plain"), |_ctx: RequestContext, uri: String| async move {
            Ok(ReadResourceResult::text(uri, "hello from the readme"))
        })
        .resource_template(ResourceTemplate::new("users://{id}/profile", "profile"), |_ctx: RequestContext, uri: String, vars| async move {
            Ok(ReadResourceResult::text(uri, format!("profile of {}", vars["id"])))
        })
        .prompt(
            Prompt::new("greet").with_argument(PromptArgument::required("name")).with_argument(PromptArgument::new("tone")),
            |_ctx: RequestContext, args: BTreeMap<String, String>| async move {
                let tone = args.get("tone").map_or("kindly", String::as_str);
                Ok(GetPromptResult::new([PromptMessage::user_text(format!("Greet {} {tone}", args["name"]))]))
            },
        )
        .completion(|_ctx: RequestContext, params: CompleteRequestParams| async move {
            let prefix = params.argument.value.clone();
            let values = ["alice", "albert", "bob"].into_iter().filter(|v| v.starts_with(&prefix)).map(String::from);
            Ok::<_, ErrorObject>(CompleteResult::new(values))
        })
        .tool(Tool::new("chatty", json!({"type": "object"})), |ctx: RequestContext, _a: Value| async move {
            ctx.log(LoggingLevel::Debug, json!("debug detail")).await?;
            ctx.log(LoggingLevel::Info, json!("info line")).await?;
            ctx.log(LoggingLevel::Error, json!({"error": "bad thing"})).await?;
            Ok(CallToolResult::text("logged"))
        })
        .build()
}

#[tokio::test]
async fn capabilities_follow_the_registry() {
    let (client, _n) = connect(full_server()).await;
    let caps = serde_json::to_value(&client.server_info().capabilities).unwrap();
    assert_eq!(caps["resources"], json!({"subscribe": true, "listChanged": true}));
    assert_eq!(caps["prompts"], json!({"listChanged": true}));
    assert!(caps.get("completions").is_some());
    let (bare, _n) = connect(Server::builder("bare", "1").build()).await;
    let caps = serde_json::to_value(&bare.server_info().capabilities).unwrap();
    assert_eq!(caps, json!({"logging": {}}));
    let err = bare.list_prompts(None).await.unwrap();
    assert!(err.prompts.is_empty());
}

#[tokio::test]
async fn resources_and_templates() {
    let (client, _n) = connect(full_server()).await;
    let list = client.list_resources(None).await.unwrap();
    assert_eq!(list.resources.len(), 1);
    assert_eq!(list.resources[0].uri, "mem://readme");
    let templates = client.list_resource_templates(None).await.unwrap();
    assert_eq!(templates.resource_templates[0].uri_template, "users://{id}/profile");

    let read = serde_json::to_value(client.read_resource("mem://readme").await.unwrap()).unwrap();
    assert_eq!(read["contents"][0]["text"], "hello from the readme");
    let read = serde_json::to_value(client.read_resource("users://42/profile").await.unwrap()).unwrap();
    assert_eq!(read["contents"][0]["text"], "profile of 42");
    assert_eq!(read["contents"][0]["uri"], "users://42/profile");

    let err = client.read_resource("users://42/other").await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code, -32002);
    assert!(err.to_string().contains("users://42/other"), "{err}");
}

#[tokio::test]
async fn subscriptions_deliver_updates_until_unsubscribed() {
    let server = full_server();
    let (client, mut notes) = connect(server.clone()).await;
    client.subscribe("mem://readme").await.unwrap();
    server.notify_resource_updated("mem://other"); // not subscribed: nothing
    server.notify_resource_updated("mem://readme");
    let n = next_notification(&mut notes, "notifications/resources/updated").await;
    assert_eq!(n.params.unwrap().to_value(), json!({"uri": "mem://readme"}));
    client.unsubscribe("mem://readme").await.unwrap();
    server.notify_resource_updated("mem://readme");
    // A ping round trip orders after the event; nothing may have arrived in between.
    client.ping().await.unwrap();
    while let Ok(n) = notes.try_recv() {
        assert_ne!(n.method, "notifications/resources/updated", "update after unsubscribe");
    }
}

#[tokio::test]
async fn prompts_with_arguments() {
    let (client, _n) = connect(full_server()).await;
    let list = client.list_prompts(None).await.unwrap();
    assert_eq!(list.prompts[0].name, "greet");
    assert_eq!(list.prompts[0].arguments.len(), 2);
    let got = client.get_prompt("greet", [("name", "Ada"), ("tone", "warmly")]).await.unwrap();
    assert_eq!(serde_json::to_value(&got.messages[0]).unwrap()["content"]["text"], "Greet Ada warmly");
    let err = client.get_prompt("greet", [("tone", "x")]).await.unwrap_err();
    let rpc = err.rpc_error().unwrap();
    assert_eq!(rpc.code, -32602);
    assert!(rpc.message.contains("name"), "{}", rpc.message);
    let err = client.get_prompt("nope", Vec::<(String, String)>::new()).await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code, -32602);
}

#[tokio::test]
async fn completion_answers_or_is_unknown() {
    let (client, _n) = connect(full_server()).await;
    let params = CompleteRequestParams::new(Reference::prompt("greet"), "name", "al");
    let got = client.complete(&params).await.unwrap();
    assert_eq!(got.completion.values, ["alice", "albert"]);
    let (bare, _n) = connect(builder().build()).await;
    let err = bare.complete(&params).await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code, -32601);
}

#[tokio::test]
async fn log_messages_are_filtered_by_the_level_the_client_set() {
    let (client, mut notes) = connect(full_server()).await;
    // Default level (info): info and error pass, debug does not.
    client.call_tool("chatty", &json!({})).await.unwrap();
    let first = next_notification(&mut notes, "notifications/message").await.params.unwrap().to_value();
    assert_eq!(first["level"], "info");
    let second = next_notification(&mut notes, "notifications/message").await.params.unwrap().to_value();
    assert_eq!(second["level"], "error");
    assert_eq!(second["data"], json!({"error": "bad thing"}));

    client.set_level(LoggingLevel::Error).await.unwrap();
    client.call_tool("chatty", &json!({})).await.unwrap();
    let only = next_notification(&mut notes, "notifications/message").await.params.unwrap().to_value();
    assert_eq!(only["level"], "error");
    client.ping().await.unwrap();
    assert!(notes.try_recv().is_err(), "nothing below error after setLevel");

    let err = client.request::<_, Value>("logging/setLevel", &json!({"level": "loud"})).await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code, -32602);
}

#[tokio::test]
async fn every_list_is_paginated() {
    let mut b = builder().config(SessionConfig::default().page_size(3));
    for i in 0..7 {
        b = b
            .tool(Tool::new(format!("t{i}"), json!({"type": "object"})), |_c: RequestContext, _a: Value| async move {
                Ok(CallToolResult::text("x"))
            })
            .resource(
                Resource::new(format!("mem://{i}"), format!("r{i}")),
                |_c: RequestContext, uri: String| async move { Ok(ReadResourceResult::text(uri, "x")) },
            )
            .prompt(Prompt::new(format!("p{i}")), |_c: RequestContext, _a| async move { Ok(GetPromptResult::new([])) });
    }
    let (client, _n) = connect(b.build()).await;
    let first = client.list_tools_page(None).await.unwrap();
    assert_eq!(first.tools.len(), 3);
    let cursor = first.next_cursor.expect("a next cursor");
    let second = client.list_tools_page(Some(&cursor)).await.unwrap();
    let names: Vec<_> = second.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["raw", "t0", "t1"]);
    assert_eq!(client.list_tools().await.unwrap().len(), 11, "4 fixture tools + 7");

    let r1 = client.list_resources(None).await.unwrap();
    assert_eq!(r1.resources.len(), 3);
    let r2 = client.list_resources(r1.next_cursor.as_deref()).await.unwrap();
    let r3 = client.list_resources(r2.next_cursor.as_deref()).await.unwrap();
    assert_eq!(r3.resources.len(), 1);
    assert!(r3.next_cursor.is_none());
    let p1 = client.list_prompts(None).await.unwrap();
    assert_eq!(p1.prompts.len(), 3);
    assert!(p1.next_cursor.is_some());

    let err = client.list_tools_page(Some("not-a-cursor")).await.unwrap_err();
    assert_eq!(err.rpc_error().unwrap().code, -32602);
}

#[tokio::test]
async fn runtime_registry_changes_reach_live_sessions() {
    let server = full_server();
    let (client, mut notes) = connect(server.clone()).await;
    server.add_tool(Tool::new("late", json!({"type": "object"})), |_c: RequestContext, _a: Value| async move {
        Ok(CallToolResult::text("I am new"))
    });
    next_notification(&mut notes, "notifications/tools/list_changed").await;
    assert_eq!(client.call_tool("late", &json!({})).await.unwrap().content[0].as_text(), Some("I am new"));
    assert!(server.remove_tool("late"));
    next_notification(&mut notes, "notifications/tools/list_changed").await;
    assert_eq!(client.call_tool("late", &json!({})).await.unwrap_err().rpc_error().unwrap().code, -32602);
    assert!(!server.remove_tool("late"), "already gone");

    server.add_prompt(Prompt::new("p2"), |_c: RequestContext, _a| async move { Ok(GetPromptResult::new([])) });
    next_notification(&mut notes, "notifications/prompts/list_changed").await;
    server.add_resource(Resource::new("mem://new", "new"), |_c: RequestContext, uri: String| async move {
        Ok(ReadResourceResult::text(uri, "fresh"))
    });
    next_notification(&mut notes, "notifications/resources/list_changed").await;
    let read = serde_json::to_value(client.read_resource("mem://new").await.unwrap()).unwrap();
    assert_eq!(read["contents"][0]["text"], "fresh");
}
