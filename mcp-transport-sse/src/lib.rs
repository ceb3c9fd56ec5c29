//! The MCP HTTP transports on axum: Streamable HTTP and legacy HTTP+SSE, server and client.
//!
//! ```
//! use futures::{SinkExt, StreamExt};
//! use mcp_core::Message;
//! use mcp_transport_sse::{HttpClientConfig, HttpServer, HttpServerConfig, connect_streamable_http};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A server on a free loopback port; each MCP session arrives on `sessions`.
//! let (server, mut sessions) = HttpServer::new(HttpServerConfig::default().json_response(true));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}/mcp", listener.local_addr()?);
//! tokio::spawn(mcp_transport_sse::serve(listener, server, std::future::pending()));
//! tokio::spawn(async move {
//!     // A real server hands `session` to mcp-peer; this one answers one request by hand.
//!     let mut session = sessions.next().await.unwrap().transport;
//!     if let Some(Ok(Message::Request(req))) = session.next().await {
//!         let result = serde_json::json!({"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "doc", "version": "1"}});
//!         session.send(Message::response(req.id, &result).unwrap()).await.unwrap();
//!     }
//! });
//!
//! // The client transport: messages in, messages out, over HTTP.
//! let mut client = connect_streamable_http(&url, HttpClientConfig::default())?;
//! client.send(Message::request(1, "initialize", &serde_json::json!({"protocolVersion": "2025-11-25"}))?).await?;
//! let Some(Ok(Message::Response(reply))) = client.next().await else { panic!("a response") };
//! assert_eq!(reply.result.to_value()["serverInfo"]["name"], "doc");
//! assert!(client.session_id().is_some());
//! client.close().await?; // DELETEs the session
//! # Ok(())
//! # }
//! ```
//!
//! # Map
//!
//! | piece | what it is |
//! |---|---|
//! | [`HttpServer`] + [`SessionAcceptor`] | an axum [`Router`](axum::Router) ([`HttpServer::router`], mount it anywhere, or [`serve`] it; [`serve_router`] serves a router of your own the same way) and the [`Acceptor`](mcp_core::Acceptor) of the sessions it creates |
//! | Streamable HTTP (`/mcp`) | `POST` answers with SSE or JSON ([`HttpServerConfig::json_response`]); `GET` opens the standalone stream (409 for a second); `DELETE` ends the session (404 afterwards) |
//! | sessions | `Mcp-Session-Id` minted on `initialize` (256 random bits), 400 when missing, 404 when unknown; bound to the [`Principal`](mcp_core::Principal) that created them; reaped after 30 idle minutes; at most 10,000 (503); a [`SessionStore`] shared by several instances turns a request for another instance's session into 421 Misdirected Request instead of 404 |
//! | routing | a response goes on the stream of the POST that carried its request; a request or notification with `related_request` on that request's stream while it is open, else on the `GET` stream |
//! | resumability | event ids `<stream>_<seq>`, a priming event with `retry`, replay of one stream on `GET` + `Last-Event-ID`, through an [`EventStore`] ([`MemoryEventStore`] by default, bounded per session); [`StreamControl`] closes a connection on purpose (SEP-1699 polling) |
//! | legacy HTTP+SSE (`/sse`, `/messages`) | the 2024-11-05 transport: an `endpoint` event, POSTs answered 202, replies on the stream, cleanup when the stream closes |
//! | stateless era | a POST with `MCP-Protocol-Version: 2026-07-28` and no session is served as a one-request session |
//! | checks | Host/Origin ([`OriginPolicy`], 403), `Accept` (406), `Content-Type` (415), `MCP-Protocol-Version` (400), body over 4 MiB (413, the session goes on), malformed JSON (400 with -32700) |
//! | [`auth`] | [`BearerAuthLayer`] with a [`TokenVerifier`] ([`StaticTokens`] compares in constant time), 401 with `WWW-Authenticate` and `resource_metadata`, RFC 9728 metadata route; [`cors_layer`] from an allow-list exposing `Mcp-Session-Id` |
//! | off loopback | [`serve`] refuses a non-loopback listener without [`HttpServerConfig::auth`] unless [`HttpServerConfig::allow_unauthenticated_remote`] is set |
//! | `/health` | 200 `{"status":"ok","sessions":N}`; 503 after [`HttpServer::begin_shutdown`] |
//! | [`client`] | [`connect_streamable_http`] (SSE and JSON replies, `GET` stream, resumption with `Last-Event-ID` after `retry`, `DELETE` on close, 404 as [`HttpClientError::SessionExpired`], bearer and custom headers; POSTs to `http://` on HTTP/1.1 connections of its own, driven inside the transport) and [`connect_legacy_sse`] |
//!
//! Every default is in [`HttpServerConfig`] and [`HttpClientConfig`]; every limit is configurable.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
mod cors;
pub mod event_store;
mod http_error;
pub mod origin;
pub mod server;
pub mod session_store;
pub mod sse;

pub use auth::{AuthConfig, AuthError, BearerAuthLayer, ProtectedResourceMetadata, StaticTokens, TokenVerifier};
pub use cors::cors_layer;
pub use event_store::{EventStore, MemoryEventStore};
pub use origin::OriginPolicy;
pub use server::{HttpServer, HttpServerConfig, SessionAcceptor, StreamControl, serve, serve_router};
pub use session_store::{MemorySessionStore, SessionStore};
pub mod client;
pub use client::{HttpClientConfig, HttpClientError, HttpClientTransport, connect_legacy_sse, connect_streamable_http};
