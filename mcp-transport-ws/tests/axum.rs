//! The upgrade handler mounted in an axum app next to plain HTTP on the same `/mcp` path.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::any;
use futures::{SinkExt, StreamExt};
use mcp_transport_ws::{WsAcceptor, WsServer, WsServerConfig, is_websocket_upgrade};
use support::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

async fn serve_app() -> (SocketAddr, WsServer, WsAcceptor) {
    let (ws, sessions) = WsServer::new(WsServerConfig::default());
    let handler = ws.clone();
    let app = Router::new().route(
        "/mcp",
        any(move |req: Request| {
            let ws = handler.clone();
            async move {
                if is_websocket_upgrade(req.headers()) {
                    ws.handle(req).await.into_response()
                } else {
                    "plain HTTP here".into_response()
                }
            }
        }),
    );
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(tcp, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    (addr, ws, sessions)
}

#[tokio::test]
async fn upgrades_and_plain_http_share_the_path() {
    let (addr, ws, mut sessions) = serve_app().await;
    let url = format!("ws://{addr}/mcp");
    let mut client = raw_client(&url).await;
    let mut session = within("a session", sessions.next()).await.unwrap();
    assert_eq!(session.info.remote_addr, Some(client.get_ref().get_ref().local_addr().unwrap()));
    client.send(WsMessage::text(r#"{"jsonrpc":"2.0","method":"hi"}"#)).await.unwrap();
    let got = within("the message", session.transport.next()).await.unwrap().unwrap();
    assert_eq!(got.method(), Some("hi"));

    // A plain GET on the same path reaches the other handler.
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(b"GET /mcp HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    within("the HTTP answer", tcp.read_to_string(&mut answer)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("plain HTTP here"), "{answer}");

    // After shutdown, upgrades get 503 while the app keeps serving.
    drop(session);
    assert_eq!(within("shutdown", ws.shutdown(Duration::from_secs(5))).await, 0);
    let (status, body) = refused_status(raw_client_with(&url, |_| {}).await);
    assert_eq!(status, 503, "{body}");
    assert!(within("the acceptor to end", sessions.next()).await.is_none());
}
