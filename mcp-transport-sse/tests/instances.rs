//! Several server instances behind one load balancer, sharing a `SessionStore`; and the refusal
//! to serve unauthenticated off loopback.

mod common;

use std::sync::Arc;

use common::*;
use mcp_transport_sse::{HttpServer, HttpServerConfig, MemorySessionStore};
use serde_json::json;

/// Two instances sharing one store: a session created on `a` gets 421 (not 404) from `b`, for
/// POST, GET and DELETE alike; once `a` ends it, `b` answers 404 like any unknown session.
#[tokio::test]
async fn another_instance_answers_421_for_a_session_it_does_not_hold() {
    let store = Arc::new(MemorySessionStore::new());
    let a = start(HttpServerConfig::default().session_store(store.clone()).instance_id("a")).await;
    let b = start(HttpServerConfig::default().session_store(store.clone()).instance_id("b")).await;
    let sid = initialize(&a).await;
    assert_eq!(store.len(), 1);

    // `b`'s client, with `a`'s session id.
    let on_b = |session: &str| post(&b, Some(session), request_body(7, "echo", json!({"x": 1})));
    let misdirected = on_b(&sid).send().await.unwrap();
    assert_eq!(misdirected.status(), 421);
    let body = misdirected.text().await.unwrap();
    assert!(body.contains("another server instance"), "{body}");
    let get = b
        .http
        .get(b.url("/mcp"))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 421);
    let delete = b.http.delete(b.url("/mcp")).header("mcp-session-id", &sid).send().await.unwrap();
    assert_eq!(delete.status(), 421);
    // The session is untouched on `a`.
    assert_eq!(post(&a, Some(&sid), request_body(8, "echo", json!({}))).send().await.unwrap().status(), 200);
    // An id nobody holds is still 404 on `b`.
    assert_eq!(on_b("no-such-session").send().await.unwrap().status(), 404);

    // `a` ends the session; the store forgets it and `b` answers 404 too.
    let deleted = a.http.delete(a.url("/mcp")).header("mcp-session-id", &sid).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    within("the store to forget the deleted session", async {
        while !store.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(on_b(&sid).send().await.unwrap().status(), 404);
}

/// A session of the other instance's *other principal* is not disclosed: 404, not 421.
#[tokio::test]
async fn a_session_of_another_principal_is_404_on_every_instance() {
    use mcp_transport_sse::{AuthConfig, StaticTokens};
    let store = Arc::new(MemorySessionStore::new());
    let tokens = StaticTokens::new()
        .with("alice-token", mcp_core::Principal::new("alice"))
        .with("bob-token", mcp_core::Principal::new("bob"));
    let config = |name: &'static str| {
        HttpServerConfig::default()
            .session_store(store.clone())
            .instance_id(name)
            .auth(Some(AuthConfig::new(tokens.clone())))
    };
    let a = start(config("a")).await;
    let b = start(config("b")).await;
    let init = a
        .http
        .post(a.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .bearer_auth("alice-token")
        .body(init_body("2025-11-25"))
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 200);
    let sid = init.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let as_user =
        |token: &str| post(&b, Some(&sid), request_body(2, "echo", json!({}))).bearer_auth(token.to_owned()).send();
    assert_eq!(as_user("bob-token").await.unwrap().status(), 404);
    assert_eq!(as_user("alice-token").await.unwrap().status(), 421);
}

/// `serve` refuses a non-loopback listener without auth, naming the setting that allows it.
#[tokio::test]
async fn serve_refuses_a_non_loopback_listener_without_auth() {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let (server, _sessions) = HttpServer::new(HttpServerConfig::default());
    let err = within("serve to refuse", mcp_transport_sse::serve(listener, server, std::future::pending()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("allow_unauthenticated_remote"), "{err}");

    // Opting in serves (stopped at once by its shutdown future).
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let (server, _sessions) = HttpServer::new(HttpServerConfig::default().allow_unauthenticated_remote(true));
    within("serve to start and stop", mcp_transport_sse::serve(listener, server, std::future::ready(())))
        .await
        .unwrap();
}
