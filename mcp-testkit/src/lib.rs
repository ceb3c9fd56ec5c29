//! Test support for MCP servers, clients and transports: in-memory pairs, a scripted mock
//! transport, fault injection, the transport compliance suite, a conformance fixture server,
//! and real NATS/Redis servers on loopback.
//!
//! Add it to `[dev-dependencies]` and test your server in a few lines:
//!
//! ```
//! use mcp_core::Principal;
//! use mcp_core::schema::{CallToolResult, Tool};
//! use mcp_peer::{RequestContext, Server};
//! use serde_json::{Value, json};
//!
//! // The server under test.
//! fn my_server() -> Server {
//!     let schema = json!({ "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] });
//!     Server::builder("weather", "1.0.0")
//!         .tool(Tool::new("forecast", schema), |_ctx: RequestContext, args: Value| async move {
//!             Ok(CallToolResult::text(format!("Sunny in {}", args["city"].as_str().unwrap_or("?"))))
//!         })
//!         .build()
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // #[tokio::test] async fn forecast() {
//! let client = mcp_testkit::client::in_memory(&my_server()).await;
//! let result = client.call_tool("forecast", &json!({ "city": "Oslo" })).await.unwrap();
//! assert_eq!(result.content[0].as_text(), Some("Sunny in Oslo"));
//! assert!(client.call_tool("no_such_tool", &json!({})).await.is_err());
//!
//! // The same server, called by a principal who may use other tools only.
//! let (client_end, session) = mcp_testkit::duplex_with_principal(16, Principal::new("bob").with_tools(["other"]));
//! tokio::spawn(async move { my_server().serve_session(session).await });
//! let client = mcp_testkit::client::connect(client_end).await;
//! assert!(client.list_tools().await.unwrap().is_empty());
//! # }
//! ```
//!
//! # What is in the kit
//!
//! | module | for |
//! |---|---|
//! | [`duplex`], [`duplex_with_principal`] | two linked in-memory transports on bounded channels |
//! | [`client`] | a connected `mcp_peer::Client` in one line, with 10 s timeouts |
//! | [`mock`] | a [`MockTransport`](mock::MockTransport) scripted by a [`Handle`](mock::Handle), and [`assert_sent_request!`] |
//! | [`fault`] | fault injection around any transport (drop, duplicate, delay, corrupt, oversize, cut), seeded |
//! | [`compliance`] | the transport compliance suite every transport runs from `tests/compliance.rs` |
//! | [`fixtures`] | [`everything()`](fixtures::everything): the server the official conformance suite expects, plus `echo` |
//! | [`services`] | [`NatsServer`](services::NatsServer) and [`RedisServer`](services::RedisServer) on free loopback ports |
//! | [`tools`] | where Node.js, the npm packages and the Python SDKs live, for interop tests |
//!
//! Every helper that waits bounds the wait (10 s by default) and panics with a message naming
//! what it waited for; a missing external program fails the test with the command that
//! installs it, it never skips.

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
