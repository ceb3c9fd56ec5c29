//! Shutdown and NATS/Redis hops, end to end through the gateway binary (`--shared`: shared_mode.rs).

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Gateway, step, text, ts_client};
use tokio::io::AsyncBufReadExt;

/// A call that takes about a second at the reference server.
fn slow_call() -> Value {
    json!({"call": "trigger-long-running-operation", "args": {"duration": 1, "steps": 2}})
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_call_finish_then_exits_0() {
    let mut gw = Gateway::start(&[
        "--stdio",
        &support::server_everything_command(),
        "--listen",
        "http://127.0.0.1:{http}",
        "--drain-timeout",
        "10",
    ])
    .await;
    let mut client = support::ts_client_process("http", &gw.mcp_url(), &json!([slow_call()]), None);
    let mut out = tokio::io::BufReader::new(client.stdout.take().unwrap()).lines();
    gw.wait_log("tool_call_start", Duration::from_secs(20)).await;
    gw.terminate();
    gw.wait_log("draining", Duration::from_secs(5)).await;
    // While draining, /health says so (when the listener still answers at all).
    if let Ok(mut conn) = tokio::net::TcpStream::connect(gw.http.unwrap()).await {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let _ = conn.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
        let mut reply = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), conn.read_to_string(&mut reply)).await;
        if !reply.is_empty() {
            assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
        }
    }
    let mut lines = Vec::new();
    let read = async {
        while let Some(line) = out.next_line().await.unwrap() {
            lines.push(serde_json::from_str::<Value>(&line).unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read).await.expect("the client's output ends within 20 s");
    let result = step(&lines, 0);
    assert_eq!(result["event"], "result", "the in-flight call failed: {lines:#?}\n{}", gw.log().join("\n"));
    assert!(text(result).contains("Long running operation completed"), "{result}");
    assert_eq!(gw.exit_code(Duration::from_secs(15)).await, Some(0), "{}", gw.log().join("\n"));
}

#[tokio::test]
async fn a_client_of_gateway_b_reaches_gateway_a_upstream_through_nats() {
    let nats = mcp_testkit::services::NatsServer::start().await;
    let service = format!("nats://127.0.0.1:{}/gateway-e2e", nats.port());
    let _a = Gateway::start(&["--stdio", &support::fixture_command(), "--listen", &service]).await;
    let b = Gateway::start(&["--connect", &service, "--listen", "http://127.0.0.1:{http}"]).await;
    let lines = ts_client(
        "http",
        &b.mcp_url(),
        &json!([{"list": true}, {"call": "echo", "args": {"message": "via nats"}}]),
        None,
    )
    .await;
    assert!(step(&lines, 0)["result"]["tools"].as_array().unwrap().contains(&json!("echo")), "{lines:#?}");
    assert_eq!(text(step(&lines, 1)), "Echo: via nats");
}

#[tokio::test]
async fn a_client_of_gateway_b_reaches_gateway_a_upstream_through_redis() {
    let redis = mcp_testkit::services::RedisServer::start().await;
    let service = format!("redis://127.0.0.1:{}/gateway-e2e", redis.port());
    let _a = Gateway::start(&["--stdio", &support::fixture_command(), "--listen", &service]).await;
    let b = Gateway::start(&["--connect", &service, "--listen", "http://127.0.0.1:{http}"]).await;
    let steps = json!([{"list": true}, {"call": "echo", "args": {"message": "via redis"}}]);
    let lines = ts_client("http", &b.mcp_url(), &steps, None).await;
    assert!(step(&lines, 0)["result"]["tools"].as_array().unwrap().contains(&json!("echo")), "{lines:#?}");
    assert_eq!(text(step(&lines, 1)), "Echo: via redis");
}
