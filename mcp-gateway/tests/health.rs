//! `/health` tells a load balancer the truth: 200 when the upstream can be started, 503 when it
//! cannot, and a client that connects anyway gets a clear error instead of a hang.

mod support;

use support::{Gateway, INITIALIZE, POST_HEADERS};

#[tokio::test]
async fn an_upstream_that_cannot_start_makes_health_503_and_clients_get_a_clear_error() {
    let gw =
        Gateway::start(&["--stdio", "/nonexistent/mcp-server --stdio", "--listen", "http://127.0.0.1:{http}"]).await;
    let health = gw.http("GET", "/health", &[], None).await;
    assert_eq!(health.status, 503, "{}", health.body);
    assert!(health.body.contains("upstream_unavailable"), "{}", health.body);

    let reply = gw.http("POST", "/mcp", &POST_HEADERS, Some(INITIALIZE)).await;
    assert!(
        reply.body.contains("the upstream MCP server is unavailable") && reply.body.contains("/nonexistent/mcp-server"),
        "status {}: {}",
        reply.status,
        reply.body
    );
    let metrics = gw.http("GET", "/metrics", &[], None).await;
    assert!(metrics.body.contains("mcp_upstream_start_failures_total"), "{}", metrics.body);
}

#[tokio::test]
async fn a_ready_gateway_reports_200_with_its_sessions() {
    let gw = Gateway::start(&["--listen", "http://127.0.0.1:{http}"]).await;
    let health = gw.http("GET", "/health", &[], None).await;
    assert_eq!(health.status, 200, "{}", health.body);
    let body: serde_json::Value = serde_json::from_str(&health.body).expect("a JSON body");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["sessions"], 0);
}
