//! Bearer auth, principal binding, RFC 9728 metadata and CORS, over real sockets.

mod common;

use common::*;
use mcp_core::Principal;
use mcp_transport_sse::{AuthConfig, HttpServerConfig, ProtectedResourceMetadata, StaticTokens};
use serde_json::json;

fn config() -> HttpServerConfig {
    let tokens =
        StaticTokens::new().with("alice-token", Principal::new("alice")).with("bob-token", Principal::new("bob"));
    let meta = ProtectedResourceMetadata::new("http://127.0.0.1/mcp", ["https://auth.example.com"]);
    HttpServerConfig::default()
        .auth(Some(AuthConfig::new(tokens).with_resource_metadata(meta)))
        .cors_origins(Some(vec![http::HeaderValue::from_static("http://localhost:5173")]))
}

#[tokio::test]
async fn missing_or_wrong_token_gets_401_with_a_challenge() {
    let ts = start(config()).await;
    let resp = post(&ts, None, init_body("2025-11-25")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains("resource_metadata=\"http://127.0.0.1/.well-known/oauth-protected-resource/mcp\""),
        "{challenge}"
    );
    let resp = post(&ts, None, init_body("2025-11-25")).bearer_auth("nope").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
    // Legacy endpoints are protected too; health is not.
    assert_eq!(ts.http.get(ts.url("/sse")).send().await.unwrap().status(), 401);
    assert_eq!(ts.http.get(ts.url("/health")).send().await.unwrap().status(), 200);
    assert_eq!(ts.server.session_count(), 0);
}

#[tokio::test]
async fn a_session_belongs_to_the_principal_that_created_it() {
    let ts = start(config()).await;
    let resp = post(&ts, None, init_body("2025-11-25")).bearer_auth("alice-token").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let sid = resp.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    resp.bytes().await.unwrap();
    let as_alice = post(&ts, Some(&sid), request_body(1, "whoami", json!({}))).bearer_auth("alice-token");
    let msgs = messages(&read_events(as_alice.send().await.unwrap(), |_| false).await);
    assert_eq!(msgs[0]["result"]["principal"], "alice");
    let as_bob = post(&ts, Some(&sid), request_body(2, "whoami", json!({}))).bearer_auth("bob-token");
    assert_eq!(as_bob.send().await.unwrap().status(), 404);
    let bob_deletes = ts.http.delete(ts.url("/mcp")).header("mcp-session-id", &sid).bearer_auth("bob-token");
    assert_eq!(bob_deletes.send().await.unwrap().status(), 404);
    assert_eq!(ts.server.session_count(), 1);
}

#[tokio::test]
async fn protected_resource_metadata_is_served() {
    let ts = start(config()).await;
    let resp = ts.http.get(ts.url("/.well-known/oauth-protected-resource/mcp")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let meta: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(meta["resource"], "http://127.0.0.1/mcp");
    assert_eq!(meta["authorization_servers"], json!(["https://auth.example.com"]));
    assert_eq!(meta["bearer_methods_supported"], json!(["header"]));
}

#[tokio::test]
async fn cors_admits_only_listed_origins_and_exposes_the_session_header() {
    let ts = start(config()).await;
    let preflight = ts
        .http
        .request(reqwest::Method::OPTIONS, ts.url("/mcp"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,mcp-session-id,authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "http://localhost:5173");
    let resp = post(&ts, None, init_body("2025-11-25"))
        .bearer_auth("alice-token")
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let exposed = resp.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("mcp-session-id"), "{exposed}");
    let other = ts
        .http
        .request(reqwest::Method::OPTIONS, ts.url("/mcp"))
        .header("origin", "http://127.0.0.1:9999")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
