//! Helpers shared by the integration tests: a listener, raw tungstenite clients, bounded waits.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use mcp_core::IncomingSession;
use mcp_transport_ws::{WsListener, WsServerConfig};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type RawClient = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Awaits `fut` for at most 10 s, panicking with what was awaited.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(10), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after 10 s waiting for {what}"),
    }
}

pub async fn listener(config: WsServerConfig) -> WsListener {
    WsListener::bind("127.0.0.1:0", config).await.expect("bind a loopback listener")
}

pub async fn next_session(listener: &mut WsListener) -> IncomingSession {
    within("the listener to yield a session", listener.next()).await.expect("the listener ended")
}

/// A raw tungstenite client; `edit` adjusts the upgrade request.
pub async fn raw_client_with(
    url: &str,
    edit: impl FnOnce(&mut http::Request<()>),
) -> Result<(RawClient, tungstenite::handshake::client::Response), tungstenite::Error> {
    let mut req = url.into_client_request().unwrap();
    edit(&mut req);
    within("the raw client's handshake", Box::pin(tokio_tungstenite::connect_async(req))).await
}

/// A raw client offering the `mcp` subprotocol.
pub async fn raw_client(url: &str) -> RawClient {
    raw_client_with(url, |req| {
        req.headers_mut().insert("sec-websocket-protocol", "mcp".parse().unwrap());
    })
    .await
    .expect("raw client connects")
    .0
}

/// Reads the raw client until a close frame (or the end), skipping other frames.
pub async fn expect_close(client: &mut RawClient) -> Option<CloseFrame> {
    within("a close frame from the server", async {
        loop {
            match client.next().await {
                Some(Ok(WsMessage::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("expected a close frame, got the error {e}"),
                None => panic!("the connection ended without a close frame"),
            }
        }
    })
    .await
}

/// Reads the next text frame as JSON.
pub async fn next_json(client: &mut RawClient) -> serde_json::Value {
    within("a text frame from the server", async {
        loop {
            match client.next().await {
                Some(Ok(WsMessage::Text(t))) => return serde_json::from_str(&t).expect("the server sends JSON"),
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    })
    .await
}

/// The HTTP status of a refused upgrade.
pub fn refused_status(
    result: Result<(RawClient, tungstenite::handshake::client::Response), tungstenite::Error>,
) -> (u16, String) {
    match result {
        Err(tungstenite::Error::Http(resp)) => (
            resp.status().as_u16(),
            resp.body().as_deref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default(),
        ),
        Err(e) => panic!("expected an HTTP refusal, got the error {e}"),
        Ok(_) => panic!("expected an HTTP refusal, the upgrade succeeded"),
    }
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
