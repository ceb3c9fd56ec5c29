//! Test support for MCP servers, clients and transports: in-memory pairs, mocks, fault
//! injection, the transport compliance suite, fixtures and real NATS/Redis servers.
//!
//! ```
//! use futures::{SinkExt, StreamExt};
//! use mcp_core::Message;
//!
//! # futures::executor::block_on(async {
//! let (mut client, mut server) = mcp_testkit::duplex(16);
//! client.send(Message::request(1, "ping", &serde_json::json!({})).unwrap()).await.unwrap();
//! assert_eq!(server.next().await.unwrap().unwrap().method(), Some("ping"));
//! # });
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod compliance;
mod duplex;
pub mod fault;
pub mod fixtures;
pub mod mock;
pub mod services;
pub mod tools;

pub use duplex::{TRANSPORT_NAME, duplex, duplex_with_principal};
pub use mcp_core::memory::MemoryTransport;

#[doc(hidden)]
pub use serde_json as __serde_json;
