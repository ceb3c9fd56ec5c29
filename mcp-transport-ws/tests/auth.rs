//! Who may connect: bearer tokens (header, subprotocol, query), 401 on the upgrade, the
//! origin check (403), the connection cap (503), and a policy close (1008) after the upgrade.

mod support;

use futures::StreamExt;
use mcp_core::{Principal, StaticTokens, TransportError};
use mcp_transport_ws::{
    CloseHandle, ConnectError, OriginPolicy, WsClientConfig, WsCloseReason, WsServerConfig, connect,
};
use support::*;

const TOKEN: &str = "tok-3f9a_b";

fn authed() -> WsServerConfig {
    WsServerConfig::default()
        .with_verifier(StaticTokens::new().with(TOKEN, Principal::new("alice").with_tools(["echo"])))
}

#[tokio::test]
async fn missing_or_wrong_token_gets_401() {
    let listener = listener(authed()).await;
    let (status, body) = refused_status(raw_client_with(&listener.url(), |_| {}).await);
    assert_eq!(status, 401);
    assert!(body.contains("bearer token is required"), "{body}");
    let (status, _) = refused_status(
        raw_client_with(&listener.url(), |req| {
            req.headers_mut().insert("authorization", "Bearer wrong".parse().unwrap());
        })
        .await,
    );
    assert_eq!(status, 401);
    // Our client reports it as such.
    let err = connect(&listener.url(), &WsClientConfig::default().with_bearer_token("wrong")).await.unwrap_err();
    assert!(matches!(err, ConnectError::Unauthorized { .. }), "{err}");
    assert_eq!(listener.server().open_connections(), 0);
}

#[tokio::test]
async fn header_token_authenticates_the_session() {
    let mut listener = listener(authed()).await;
    let _client = connect(&listener.url(), &WsClientConfig::default().with_bearer_token(TOKEN)).await.unwrap();
    let session = next_session(&mut listener).await;
    let principal = session.info.principal.as_ref().unwrap();
    assert_eq!(principal.id, "alice");
    assert!(principal.may_use_tool("echo") && !principal.may_use_tool("rm"));
    // The token is not kept in the headers the session carries.
    let headers = session.info.extensions.get::<http::HeaderMap>().unwrap();
    assert!(headers.get("authorization").is_none());
}

#[tokio::test]
async fn subprotocol_token_authenticates_and_is_never_echoed() {
    let mut listener = listener(authed()).await;
    let (_client, response) = raw_client_with(&listener.url(), |req| {
        req.headers_mut().insert("sec-websocket-protocol", format!("mcp, bearer.{TOKEN}").parse().unwrap());
    })
    .await
    .unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "mcp");
    let session = next_session(&mut listener).await;
    assert_eq!(session.info.principal.as_ref().unwrap().id, "alice");

    // Our client's browser-style option does the same.
    let mut config = WsClientConfig::default().with_bearer_token(TOKEN);
    config.token_in_subprotocol = true;
    let _client = connect(&listener.url(), &config).await.unwrap();
    assert_eq!(next_session(&mut listener).await.info.principal.unwrap().id, "alice");
}

#[tokio::test]
async fn query_tokens_are_refused_unless_enabled() {
    let listener_default = listener(authed()).await;
    let url = format!("{}?access_token={TOKEN}", listener_default.url());
    let (status, body) = refused_status(raw_client_with(&url, |_| {}).await);
    assert_eq!(status, 401);
    assert!(body.contains("query string"), "{body}");

    let mut config = authed();
    config.allow_query_token = true;
    let mut listener = listener(config).await;
    let url = format!("{}?access_token={TOKEN}", listener.url());
    let _client = raw_client_with(&url, |_| {}).await.unwrap();
    assert_eq!(next_session(&mut listener).await.info.principal.unwrap().id, "alice");
}

#[tokio::test]
async fn foreign_origins_get_403_and_loopback_origins_pass() {
    let mut listener = listener(WsServerConfig::default()).await;
    let (status, _) = refused_status(
        raw_client_with(&listener.url(), |req| {
            req.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
        })
        .await,
    );
    assert_eq!(status, 403);
    raw_client_with(&listener.url(), |req| {
        req.headers_mut().insert("origin", "http://localhost:5173".parse().unwrap());
    })
    .await
    .unwrap();
    next_session(&mut listener).await;

    let config = WsServerConfig::default().with_origins(OriginPolicy::AllowList(vec!["https://app.example".into()]));
    let mut listener = support::listener(config).await;
    raw_client_with(&listener.url(), |req| {
        req.headers_mut().insert("origin", "https://app.example".parse().unwrap());
    })
    .await
    .unwrap();
    next_session(&mut listener).await;
    let (status, _) = refused_status(
        raw_client_with(&listener.url(), |req| {
            req.headers_mut().insert("origin", "http://localhost".parse().unwrap());
        })
        .await,
    );
    assert_eq!(status, 403);
}

#[tokio::test]
async fn connections_over_the_cap_get_503_until_one_closes() {
    let mut listener = listener(WsServerConfig::default().with_max_connections(2)).await;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        raw_client(&listener.url()).await;
        sessions.push(next_session(&mut listener).await);
    }
    assert_eq!(listener.server().open_connections(), 2);
    let (status, body) = refused_status(raw_client_with(&listener.url(), |_| {}).await);
    assert_eq!(status, 503, "{body}");
    // A slot frees when a session's transport is dropped.
    sessions.pop();
    assert_eq!(listener.server().open_connections(), 1);
    raw_client(&listener.url()).await;
    next_session(&mut listener).await;
}

#[tokio::test]
async fn a_policy_violation_closes_with_1008() {
    let mut listener = listener(WsServerConfig::default()).await;
    let mut client = raw_client(&listener.url()).await;
    let mut session = next_session(&mut listener).await;
    let handle = session.info.extensions.get::<CloseHandle>().unwrap().clone();
    let next = tokio::spawn(async move { session.transport.next().await });
    handle.close_policy_violation("token revoked");
    let close = expect_close(&mut client).await.unwrap();
    assert_eq!(u16::from(close.code), 1008);
    assert_eq!(close.reason.as_str(), "token revoked");
    let item = within("the session's last item", next).await.unwrap().unwrap();
    match item {
        Err(TransportError::Other { fatal: true, source }) => {
            assert_eq!(
                source.downcast_ref::<WsCloseReason>(),
                Some(&WsCloseReason::PolicyViolation("token revoked".into()))
            );
        }
        other => panic!("expected the policy close, got {other:?}"),
    }
}

#[tokio::test]
async fn a_remote_listener_without_auth_refuses_to_start() {
    let err = mcp_transport_ws::WsListener::bind("0.0.0.0:0", WsServerConfig::default()).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("without authentication"), "{err}");
}

#[tokio::test]
async fn plain_http_requests_get_a_clear_status() {
    let listener = listener(WsServerConfig::default()).await;
    let addr = listener.local_addr();
    let raw = |request: &'static str| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 1024];
        let n = within("the HTTP answer", tcp.read(&mut buf)).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let answer = raw("GET /mcp HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 426"), "{answer}");
    let answer = raw("POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    let answer = raw("GET /other HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
}
