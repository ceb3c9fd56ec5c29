//! What the server puts on the wire validates against the official JSON Schema of the revision
//! the session negotiated (`/work/shared/spec/<revision>/schema.json`, copied from the MCP
//! specification repository).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{Raw, builder};
use mcp_core::schema::{
    CallToolResult, CompleteRequestParams, CompleteResult, CreateMessageRequest, CreateMessageRequestParams,
    GetPromptResult, InputRequiredResult, ListRootsRequest, Prompt, PromptArgument, PromptMessage, ReadResourceResult,
    Resource, ResourceTemplate, SamplingMessage, Tool,
};
use mcp_core::{ErrorObject, Message};
use mcp_peer::{RequestContext, Server, ToolError};
use serde_json::{Value, json};

fn spec_dir() -> PathBuf {
    let dir = std::env::var_os("MCP_SPEC_DIR").map_or_else(|| PathBuf::from("/work/shared/spec"), PathBuf::from);
    assert!(dir.join("2025-11-25/schema.json").exists(), "{} has no MCP schemas (set MCP_SPEC_DIR)", dir.display());
    dir
}

/// Validates values against one definition of a revision's schema.
struct Spec {
    root: Value,
    defs_key: &'static str,
}

impl Spec {
    fn load(revision: &str) -> Self {
        let text = std::fs::read_to_string(spec_dir().join(revision).join("schema.json")).unwrap();
        let root: Value = serde_json::from_str(&text).unwrap();
        let defs_key = if root.get("$defs").is_some() { "$defs" } else { "definitions" };
        Self { root, defs_key }
    }

    fn check(&self, definition: &str, value: &Value, revision: &str) {
        assert!(self.root[self.defs_key].get(definition).is_some(), "{revision} defines no {definition}");
        let mut schema = json!({ "allOf": [{ "$ref": format!("#/{}/{definition}", self.defs_key) }] });
        schema[self.defs_key] = self.root[self.defs_key].clone();
        schema["$schema"] = self.root["$schema"].clone();
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{revision} {definition}: {e}"));
        let errors: Vec<String> =
            validator.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{revision}: {definition} does not validate: {errors:?}\n{value:#}");
    }
}

fn full_server(stateless: bool) -> Server {
    builder()
        .stateless_revision(stateless)
        .instructions("test")
        .resource(
            Resource::new("mem://a", "a").with_mime_type("text/plain"),
            |_c: RequestContext, uri: String| async move { Ok(ReadResourceResult::text(uri, "A")) },
        )
        .resource_template(ResourceTemplate::new("t://{x}", "t"), |_c: RequestContext, uri: String, _v| async move {
            Ok(ReadResourceResult::text(uri, "T"))
        })
        .prompt(
            Prompt::new("p").with_argument(PromptArgument::required("who")),
            |_c: RequestContext, a: BTreeMap<String, String>| async move {
                Ok(GetPromptResult::new([PromptMessage::user_text(format!("hi {}", a["who"]))]))
            },
        )
        .completion(|_c: RequestContext, _p: CompleteRequestParams| async move {
            Ok::<_, ErrorObject>(CompleteResult::new(["x".to_owned()]))
        })
        .tool(Tool::new("needs_input", json!({"type": "object"})), |_c: RequestContext, _a: Value| async move {
            let params = CreateMessageRequestParams::new([SamplingMessage::user_text("?")], 5);
            let needed = InputRequiredResult::new()
                .with_input_request("s", CreateMessageRequest::new(params))
                .with_input_request("r", ListRootsRequest::default())
                .with_request_state("opaque");
            Err::<CallToolResult, _>(ToolError::InputRequired(needed))
        })
        .build()
}

fn message(msg: &Message) -> Value {
    serde_json::to_value(msg).unwrap()
}

fn result_of(msg: &Message) -> Value {
    match msg {
        Message::Response(r) => r.result.to_value(),
        other => panic!("expected a result, got {other}"),
    }
}

#[tokio::test]
async fn legacy_sessions_put_only_schema_valid_messages_on_the_wire() {
    for revision in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let spec = Spec::load(revision);
        let (mut raw, _task) = Raw::start(full_server(false));
        let init = raw
            .call(
                "initialize",
                json!({"protocolVersion": revision, "capabilities": {}, "clientInfo": {"name": "v", "version": "1"}}),
            )
            .await;
        spec.check("InitializeResult", &result_of(&init), revision);
        spec.check("JSONRPCMessage", &message(&init), revision);
        raw.send(Message::notification("notifications/initialized", &json!({})).unwrap()).await;

        let calls: [(&str, Value, &str); 11] = [
            ("ping", json!({}), "EmptyResult"),
            ("tools/list", json!({}), "ListToolsResult"),
            ("tools/call", json!({"name": "echo", "arguments": {"message": "m"}}), "CallToolResult"),
            ("tools/call", json!({"name": "fail", "arguments": {}}), "CallToolResult"),
            ("resources/list", json!({}), "ListResourcesResult"),
            ("resources/templates/list", json!({}), "ListResourceTemplatesResult"),
            ("resources/read", json!({"uri": "t://1"}), "ReadResourceResult"),
            ("prompts/list", json!({}), "ListPromptsResult"),
            ("prompts/get", json!({"name": "p", "arguments": {"who": "w"}}), "GetPromptResult"),
            (
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "who", "value": ""}}),
                "CompleteResult",
            ),
            ("resources/subscribe", json!({"uri": "mem://a"}), "EmptyResult"),
        ];
        for (method, params, definition) in calls {
            let reply = raw.call(method, params).await;
            spec.check(definition, &result_of(&reply), revision);
            spec.check("JSONRPCMessage", &message(&reply), revision);
        }
        for (method, params) in [("nope", json!({})), ("tools/call", json!({"name": "echo", "arguments": {}}))] {
            let reply = raw.call(method, params).await;
            assert!(matches!(reply, Message::Error(_)), "{reply}");
            spec.check("JSONRPCMessage", &message(&reply), revision);
        }
    }
}

#[tokio::test]
async fn stateless_results_validate_against_2026_07_28() {
    let revision = "2026-07-28";
    let spec = Spec::load(revision);
    let (mut raw, _task) = Raw::start(full_server(true));
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": revision,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let with_meta = |mut params: Value| {
        params["_meta"] = meta.clone();
        params
    };
    let calls: [(&str, Value, &str); 8] = [
        ("server/discover", json!({}), "DiscoverResult"),
        ("tools/call", json!({"name": "needs_input", "arguments": {}}), "InputRequiredResult"),
        ("tools/list", json!({}), "ListToolsResult"),
        ("tools/call", json!({"name": "echo", "arguments": {"message": "m"}}), "CallToolResult"),
        ("resources/list", json!({}), "ListResourcesResult"),
        ("resources/read", json!({"uri": "mem://a"}), "ReadResourceResult"),
        ("prompts/list", json!({}), "ListPromptsResult"),
        ("prompts/get", json!({"name": "p", "arguments": {"who": "w"}}), "GetPromptResult"),
    ];
    for (method, params, definition) in calls {
        let reply = raw.call(method, with_meta(params)).await;
        spec.check(definition, &result_of(&reply), revision);
        spec.check("JSONRPCMessage", &message(&reply), revision);
    }
    let unsupported = raw.call("tools/list", json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "1999-01-01", "io.modelcontextprotocol/clientCapabilities": {}}})).await;
    spec.check("UnsupportedProtocolVersionError", &message(&unsupported), revision);
}

#[tokio::test]
async fn subscription_messages_validate_against_2026_07_28() {
    let revision = "2026-07-28";
    let spec = Spec::load(revision);
    let (mut script, transport) = common::Scripted::new();
    let server = full_server(true);
    let task = tokio::spawn({
        let server = server.clone();
        async move { server.serve(transport).await }
    });
    let params = json!({
        "_meta": {"io.modelcontextprotocol/protocolVersion": revision, "io.modelcontextprotocol/clientCapabilities": {}},
        "notifications": {"toolsListChanged": true, "resourceSubscriptions": ["mem://a"]}
    });
    script.push(Ok(Message::request(1, "subscriptions/listen", &params).unwrap())).await;
    spec.check("SubscriptionsAcknowledgedNotification", &message(&script.recv().await), revision);
    server.notify_resource_updated("mem://a");
    spec.check("ResourceUpdatedNotification", &message(&script.recv().await), revision);
    server.remove_tool("echo");
    spec.check("ToolListChangedNotification", &message(&script.recv().await), revision);
    script.incoming.close_channel();
    spec.check("SubscriptionsListenResultResponse", &message(&script.recv().await), revision);
    common::within("the session to end", task).await.unwrap().unwrap();
}
