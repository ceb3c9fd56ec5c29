//! initialize, version negotiation, pre-initialize behaviour, unknown methods.

mod common;

use common::{Raw, builder, error_code, result};
use mcp_core::Message;
use serde_json::json;

#[tokio::test]
async fn each_legacy_revision_is_echoed() {
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let (mut raw, _task) = Raw::start(builder().instructions("be nice").build());
        let init = raw.initialize(version).await;
        assert_eq!(init["protocolVersion"], version);
        assert_eq!(init["serverInfo"]["name"], "test-server");
        assert_eq!(init["instructions"], "be nice");
        assert_eq!(init["capabilities"]["tools"]["listChanged"], true);
        assert!(init["capabilities"].get("prompts").is_none(), "no prompts registered: {init}");
        assert!(init["capabilities"].get("logging").is_some());
    }
}

#[tokio::test]
async fn unknown_or_modern_versions_get_the_latest_legacy_one() {
    for version in ["2099-01-01", "2026-07-28", "garbage"] {
        let (mut raw, _task) = Raw::start(builder().build());
        let init = raw.initialize(version).await;
        assert_eq!(init["protocolVersion"], "2025-11-25", "client asked {version}");
    }
}

#[tokio::test]
async fn before_initialize_only_ping_is_served() {
    let (mut raw, _task) = Raw::start(builder().build());
    assert_eq!(result(&raw.call("ping", json!({})).await), json!({}));
    let resp = raw.call("tools/list", json!({})).await;
    assert_eq!(error_code(&resp), -32600);
    let resp = raw.call("tools/call", json!({"name": "echo", "arguments": {"message": "x"}})).await;
    assert_eq!(error_code(&resp), -32600);
    // The session is still usable.
    raw.initialize("2025-06-18").await;
    let tools = result(&raw.call("tools/list", json!({})).await);
    assert_eq!(tools["tools"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn discover_probe_gets_method_not_found_then_initialize_works() {
    let (mut raw, _task) = Raw::start(builder().build());
    let resp = raw.call("server/discover", json!({})).await;
    assert_eq!(error_code(&resp), -32601);
    let init = raw.initialize("2025-11-25").await;
    assert_eq!(init["protocolVersion"], "2025-11-25");
    let resp = raw.call("no/such/method", json!({})).await;
    assert_eq!(error_code(&resp), -32601);
    assert_eq!(result(&raw.call("ping", json!({})).await), json!({}));
}

#[tokio::test]
async fn second_initialize_is_rejected() {
    let (mut raw, _task) = Raw::start(builder().build());
    raw.initialize("2025-11-25").await;
    let resp = raw
        .call(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
        )
        .await;
    assert_eq!(error_code(&resp), -32600);
}

#[tokio::test]
async fn malformed_initialize_params_are_invalid_params() {
    let (mut raw, _task) = Raw::start(builder().build());
    let resp = raw.call("initialize", json!({"capabilities": {}})).await;
    assert_eq!(error_code(&resp), -32602);
    raw.initialize("2025-11-25").await;
}

#[tokio::test]
async fn malformed_params_for_every_method_get_an_answer_and_the_session_goes_on() {
    let (mut raw, _task) = Raw::start(builder().stateless_revision(true).build());
    raw.initialize("2025-11-25").await;
    let methods = [
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "server/discover",
        "subscriptions/listen",
    ];
    let bad_params = [
        json!([]),
        json!([1, 2, 3]),
        json!({"name": 5}),
        json!({"name": "echo", "arguments": "not an object"}),
        json!({"name": "echo", "arguments": [1]}),
        json!({"uri": null}),
        json!({"cursor": 7}),
        json!({"cursor": "-1"}),
        json!({"cursor": "99999999999999999999999"}),
        json!({"level": "loudest"}),
        json!({"ref": 1, "argument": {}}),
        json!({"_meta": 5}),
        json!({"_meta": {"progressToken": {"nested": true}}, "name": "echo", "arguments": {"message": "x"}}),
        json!({"_meta": {"io.modelcontextprotocol/protocolVersion": 2026}}),
        json!({"name": "echo", "arguments": {"message": "x".repeat(100_000)}}),
    ];
    let mut answered = 0;
    for method in methods {
        for params in &bad_params {
            let reply = raw.call(method, params.clone()).await;
            assert!(matches!(reply, Message::Response(_) | Message::Error(_)), "{method} {params}: {reply}");
            answered += 1;
        }
    }
    assert_eq!(answered, methods.len() * bad_params.len());
    assert_eq!(result(&raw.call("ping", json!({})).await), json!({}));
    let echo = result(&raw.call("tools/call", json!({"name": "echo", "arguments": {"message": "fine"}})).await);
    assert_eq!(echo["content"][0]["text"], "fine");
}
