//! Auth, per-tool permissions, rate limits, token rotation, metrics and structured logs,
//! end to end through the gateway binary.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Gateway, INITIALIZE, POST_HEADERS, step, text, ts_client};

fn tokens_file(dir: &tempfile::TempDir, entries: &[(&str, &str, Option<&[&str]>)]) -> std::path::PathBuf {
    let path = dir.path().join("tokens.toml");
    write_tokens(&path, entries);
    path
}

fn write_tokens(path: &std::path::Path, entries: &[(&str, &str, Option<&[&str]>)]) {
    let mut text = String::new();
    for (principal, token, tools) in entries {
        text.push_str(&format!("[[tokens]]\nprincipal = \"{principal}\"\ntoken = \"{token}\"\n"));
        if let Some(tools) = tools {
            text.push_str(&format!("tools = {}\n", serde_json::to_string(tools).unwrap()));
        }
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

async fn initialize_with(gw: &Gateway, token: &str) -> u16 {
    let auth = format!("Bearer {token}");
    let headers = [POST_HEADERS[0], ("Authorization", auth.as_str())];
    gw.http("POST", "/mcp", &headers, Some(INITIALIZE)).await.status
}

#[tokio::test]
async fn a_principal_sees_and_calls_only_its_tools_with_metrics_and_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = tokens_file(&dir, &[("alice", "alice-secret-token", Some(&["echo"]))]);
    let gw = Gateway::start(&[
        "--stdio",
        &support::fixture_command(),
        "--listen",
        "http://127.0.0.1:{http}",
        "--tokens",
        tokens.to_str().unwrap(),
        "--log-format",
        "json",
    ])
    .await;
    let steps = json!([
        {"list": true},
        {"call": "echo", "args": {"message": "argument-value-never-logged"}},
        {"call": "test_simple_text"},
    ]);
    let lines = ts_client("http", &gw.mcp_url(), &steps, Some("alice-secret-token")).await;
    assert_eq!(step(&lines, 0)["result"]["tools"], json!(["echo"]));
    assert_eq!(text(step(&lines, 1)), "Echo: argument-value-never-logged");
    let denied = step(&lines, 2);
    assert_eq!(denied["result"]["isError"], true, "{denied}");
    assert_eq!(text(denied), "Permission denied: tool test_simple_text not authorized");

    // A wrong or missing token is refused before any session exists.
    assert_eq!(initialize_with(&gw, "wrong-token").await, 401);
    assert_eq!(gw.http("POST", "/mcp", &POST_HEADERS, Some(INITIALIZE)).await.status, 401);

    let metrics = gw.http("GET", "/metrics", &[], None).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.lines().any(|l| l.starts_with("mcp_tool_calls_total{") && l.contains("tool=\"echo\"")),
        "{}",
        metrics.body
    );
    assert!(metrics.body.contains("mcp_tool_calls_denied_total"), "{}", metrics.body);

    gw.wait_log("tool_call_success", Duration::from_secs(5)).await;
    let log = gw.log();
    let events: Vec<Value> = log.iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let event = |name: &str| {
        events
            .iter()
            .find(|e| e["message"] == name || e["fields"]["message"] == name)
            .unwrap_or_else(|| panic!("no {name} event in\n{}", log.join("\n")))
            .clone()
    };
    let start = event("tool_call_start");
    assert_eq!((start["tool"].as_str(), start["principal"].as_str()), (Some("echo"), Some("alice")), "{start}");
    assert!(start["argument_keys"].as_str().is_some_and(|k| k.contains("message")), "{start}");
    let success = event("tool_call_success");
    assert_eq!((success["tool"].as_str(), success["principal"].as_str()), (Some("echo"), Some("alice")), "{success}");
    assert!(success["session"].is_string(), "{success}");
    assert!(success["duration_ms"].is_number() && success["result_bytes"].as_u64().is_some_and(|b| b > 0), "{success}");
    for line in &log {
        assert!(!line.contains("argument-value-never-logged"), "an argument value was logged: {line}");
        assert!(!line.contains("alice-secret-token"), "a token was logged: {line}");
    }
}

#[tokio::test]
async fn over_the_rate_limit_the_answer_is_429_with_retry_after() {
    let gw = Gateway::start(&[
        "--stdio",
        &support::fixture_command(),
        "--listen",
        "http://127.0.0.1:{http}",
        "--rate-limit",
        "1/min,burst=2",
    ])
    .await;
    // Cheap POSTs (a ping outside any session: 400 from the transport) so that the six
    // arrive well within the refill period; the burst admits two, then the limit answers.
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let reply = gw.http("POST", "/mcp", &POST_HEADERS, Some(ping)).await;
        statuses.push(reply.status);
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
    }
    assert!(statuses.len() > 2 && !statuses[..2].contains(&429), "the burst of 2 is admitted: {statuses:?}");
    let limited = limited.unwrap_or_else(|| panic!("no 429 in {statuses:?}"));
    let retry_after: u64 = limited.header("Retry-After").expect("a Retry-After header").parse().unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    assert!(limited.body.contains("Rate limit exceeded"), "{}", limited.body);
    let metrics = gw.http("GET", "/metrics", &[], None).await;
    assert!(metrics.body.contains("mcp_rate_limited_total"), "{}", metrics.body);
}

#[tokio::test]
async fn rotated_tokens_apply_without_dropping_open_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = tokens_file(&dir, &[("ops", "old-token", None)]);
    let gw = Gateway::start(&[
        "--stdio",
        &support::fixture_command(),
        "--listen",
        "http://127.0.0.1:{http}",
        "--tokens",
        tokens.to_str().unwrap(),
    ])
    .await;
    // A WebSocket session authenticated with the old token, open across the rotation.
    let ws_url = format!("ws://{}/mcp", gw.http.unwrap());
    let config = mcp_transport_ws::WsClientConfig::default().with_bearer_token("old-token");
    let transport = mcp_transport_ws::connect(&ws_url, &config).await.unwrap();
    let client = tokio::time::timeout(Duration::from_secs(10), mcp_peer::Client::connect(transport))
        .await
        .expect("initialize over WebSocket within 10 s")
        .unwrap();
    let before = client.call_tool("echo", &json!({"message": "before"})).await.unwrap();
    assert_eq!(before.content[0].as_text(), Some("Echo: before"));
    assert_eq!(initialize_with(&gw, "new-token").await, 401);

    write_tokens(&tokens, &[("ops", "new-token", None)]);
    let mut status = 0;
    for _ in 0..100 {
        status = initialize_with(&gw, "new-token").await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "the new token was not accepted within 10 s");
    assert_eq!(initialize_with(&gw, "old-token").await, 401);

    let after = client.call_tool("echo", &json!({"message": "after"})).await.unwrap();
    assert_eq!(after.content[0].as_text(), Some("Echo: after"));
    client.close().await.unwrap();
}

#[tokio::test]
async fn an_exposed_listener_without_tokens_refuses_to_start() {
    let port = support::free_port();
    let output = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new(support::GATEWAY)
            .args(["--listen", &format!("http://0.0.0.0:{port}")])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the gateway exits within 20 s")
    .unwrap();
    assert!(!output.status.success(), "it started: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--tokens") && stderr.contains("--insecure"), "{stderr}");
    assert!(!stderr.contains("mcp-gateway is ready."), "{stderr}");
}

#[tokio::test]
async fn over_the_rate_limit_a_tcp_client_gets_a_json_rpc_error_and_the_session_goes_on() {
    let gw = Gateway::start(&[
        "--stdio",
        &support::fixture_command(),
        "--listen",
        "tcp://127.0.0.1:{tcp}",
        "--rate-limit",
        "1/min,burst=2",
    ])
    .await;
    let transport = mcp_transport_stdio::connect_tcp(gw.tcp.unwrap()).await.unwrap();
    let client = tokio::time::timeout(Duration::from_secs(20), mcp_peer::Client::connect(transport))
        .await
        .expect("initialize over tcp within 20 s")
        .unwrap();
    // initialize and ping are not counted; the burst admits two calls.
    for i in 0..2 {
        let ok = client.call_tool("echo", &json!({"message": format!("call {i}")})).await.unwrap();
        assert_eq!(ok.content[0].as_text(), Some(format!("Echo: call {i}").as_str()));
    }
    let limited = client.call_tool("echo", &json!({"message": "one too many"})).await.unwrap_err();
    assert!(limited.to_string().contains("Rate limit exceeded"), "{limited}");
    client.ping().await.expect("the session goes on after a refusal");
    client.close().await.unwrap();
}
