//! The messages of every Model Context Protocol revision, and the [`Transport`] contract.
//!
//! `mcp-core` is the small, stable crate that every other crate of the workspace builds on.
//! It has no async runtime dependency: it defines *what* travels (the JSON-RPC envelope in
//! [`jsonrpc`], the MCP types of every revision in [`schema`]) and the contract of *how*
//! (a [`Transport`] is a `Sink` + `Stream` of [`Message`]s), plus the newline-JSON
//! [`codec`] that stdio, sockets and message buses share.
//!
//! ```
//! use futures::{SinkExt, StreamExt};
//! use mcp_core::{Message, memory, schema::ListToolsResult};
//!
//! # futures::executor::block_on(async {
//! // Two ends of an in-memory transport: a "client" and a "server".
//! let (mut client, mut server) = memory::pair(8);
//! client.send(Message::request(1, "tools/list", &serde_json::json!({})).unwrap()).await.unwrap();
//!
//! let Some(Ok(Message::Request(req))) = server.next().await else { panic!("a request") };
//! let result = ListToolsResult::default();
//! server.send(Message::response(req.id, &result).unwrap()).await.unwrap();
//!
//! let Some(Ok(Message::Response(resp))) = client.next().await else { panic!("a response") };
//! let tools: ListToolsResult = resp.result.parse().unwrap();
//! assert!(tools.tools.is_empty());
//! # });
//! ```
//!
//! # Writing a transport
//!
//! Implement nothing: join a `Sink<Message>` and a `Stream<Item = Result<Message,
//! TransportError>>` with [`Duplex::new`], and follow the contract in [`transport`]. The
//! `mcp-testkit` crate's compliance suite checks it.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod codec;
mod encode;
pub mod jsonrpc;
pub mod memory;
pub mod principal;
pub mod rerun;
pub mod schema;
pub mod transport;
pub mod version;

pub use jsonrpc::{ErrorObject, Message, RawJson, RequestId};
pub use principal::{AuthError, Principal, StaticTokens, TokenVerifier, ToolAccess};
pub use transport::{
    Acceptor, BoxAcceptor, BoxTransport, Duplex, Extensions, IncomingSession, SessionInfo, Transport, TransportError,
    TransportExt,
};
pub use version::ProtocolVersion;
