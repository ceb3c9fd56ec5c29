//! MCP over WebSocket: a server (standalone, or as an axum upgrade on the same `/mcp` path as
//! Streamable HTTP) and a client.
//!
//! ```
//! use futures::{SinkExt, StreamExt};
//! use mcp_core::Message;
//! use mcp_transport_ws::{WsClientConfig, WsListener, WsServerConfig, connect};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut listener = WsListener::bind("127.0.0.1:0", WsServerConfig::default()).await?;
//! let mut client = connect(&listener.url(), &WsClientConfig::default()).await?;
//! let mut session = listener.next().await.expect("a session");
//!
//! client.send(Message::request(1, "ping", &serde_json::json!({}))?).await?;
//! let request = session.transport.next().await.expect("a message")?;
//! assert_eq!(request.method(), Some("ping"));
//! # Ok(()) }
//! ```
//!
//! # The wire convention
//!
//! WebSocket is not one of the transports the MCP specification defines. This crate follows the
//! de-facto convention of the official TypeScript SDK (`WebSocketClientTransport`) and Python
//! SDK 1.x (`mcp.client.websocket.websocket_client`), so those clients work unchanged:
//!
//! - the subprotocol is `mcp`: the server selects it whenever the client offers it (the
//!   TypeScript client fails the connection otherwise) and the client offers it;
//! - one JSON-RPC message (or batch) per **text** frame; binary frames close the connection
//!   with 1003;
//! - the lifecycle is the legacy one (`initialize` first); one connection is one session, and
//!   one server instance serves it.
//!
//! # Limits and failures
//!
//! | what | default | then |
//! |---|---|---|
//! | message size ([`WsConfig::max_message_bytes`]) | 16 MiB | close 1009 |
//! | text frame that is not JSON / not JSON-RPC | | a non-fatal item (the session answers -32700 / -32600); the connection stays |
//! | binary frame | | close 1003 |
//! | text frame that is not UTF-8 | | close 1007 (RFC 6455 requires it) |
//! | heartbeat ([`WsConfig::ping_interval`], [`WsConfig::pong_timeout`]) | ping after 30 s of silence; 10 s for an answer | the stream ends with `ConnectionLost` |
//! | open connections ([`WsServerConfig::max_connections`]) | 10,000 | 503 on the upgrade |
//! | credentials ([`WsServerConfig::verifier`]) | none required | 401 on the upgrade |
//! | browser `Origin` ([`WsServerConfig::origins`]) | loopback pages only | 403 on the upgrade |
//! | policy violation after the upgrade ([`CloseHandle`]) | | close 1008 |
//! | server shutdown ([`WsServer::shutdown`]) | | reads stop, in-flight work finishes, close 1001 |
//!
//! A [`WsListener`] on a non-loopback address refuses to start without a verifier (see
//! [`WsServerConfig::allow_unauthenticated_remote`]).
//!
//! # Sessions
//!
//! Each accepted connection is an [`mcp_core::IncomingSession`] whose `info` has
//! `transport == "ws"`, the peer's `remote_addr`, the `principal` (from the verifier, or
//! `anonymous` without one), and in `extensions` the upgrade request's `http::HeaderMap`
//! (without `Authorization`, `Cookie` and `Sec-WebSocket-Protocol`) and a [`CloseHandle`].
//! Serve them with one server instance each, e.g. `server.serve_acceptor(listener, shutdown)`
//! from `mcp-peer`; [`WsServer::shutdown`] ends the acceptor and drains the sessions.
//!
//! # Authentication
//!
//! See the [`auth`] module: `Authorization: Bearer`, or the `bearer.<token>` subprotocol entry
//! for browsers (never echoed back), or, only when enabled, an `access_token` query parameter.
//! Tokens are checked by an [`mcp_core::TokenVerifier`] ([`mcp_core::StaticTokens`] compares
//! in constant time). The principal travels in each session's `SessionInfo::principal`.
//!
//! # Serving WebSocket next to Streamable HTTP in one axum app
//!
//! Browsers and SDK clients reach both on the same URL: route the upgrade requests of `/mcp` to
//! [`WsServer::handle`] and the rest to the HTTP transport.
//!
//! ```no_run
//! use axum::{Router, extract::Request, response::IntoResponse, routing::any};
//! use mcp_transport_ws::{WsServer, WsServerConfig, is_websocket_upgrade};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let (ws, mut sessions) = WsServer::new(WsServerConfig::default());
//! let app = Router::new().route(
//!     "/mcp",
//!     any(move |req: Request| {
//!         let ws = ws.clone();
//!         async move {
//!             if is_websocket_upgrade(req.headers()) {
//!                 ws.handle(req).await.into_response()
//!             } else {
//!                 // streamable_http.handle(req).await.into_response()
//!                 axum::http::StatusCode::NOT_FOUND.into_response()
//!             }
//!         }
//!     }),
//! );
//! // Each item of `sessions` is an `IncomingSession`: serve it with one server instance.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let make = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
//! axum::serve(listener, make).await
//! # }
//! ```
//!
//! # Reconnecting clients
//!
//! [`connect`] makes one connection. [`connect_reconnecting`] reconnects with backoff after a
//! loss: a dropped WebSocket is a lost MCP session, so the reconnect starts a new session
//! (initialized as the first one was), and requests pending on the old connection fail with
//! [`CONNECTION_LOST`] because whether the server ran them is unknown. See the [`reconnect`]
//! module for the details.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
mod client;
mod close_handle;
mod config;
mod error;
mod listener;
mod origin;
pub mod reconnect;
mod server;
mod transport;

pub use auth::TOKEN_SUBPROTOCOL_PREFIX;
pub use client::{ConnectError, WsClientConfig, connect};
pub use close_handle::CloseHandle;
pub use config::{DEFAULT_MAX_MESSAGE_BYTES, WsConfig};
pub use error::WsCloseReason;
pub use listener::WsListener;
pub use origin::OriginPolicy;
pub use reconnect::{CONNECTION_LOST, Reconnect, connect_reconnecting};
pub use server::{SUBPROTOCOL, WsAcceptor, WsServer, WsServerConfig, is_websocket_upgrade};
pub use transport::WsTransport;
