//! One MCP session over any transport: request correlation, cancellation, progress,
//! timeouts, bounded concurrency, and the [`Server`] and [`Client`] built on it.
//!
//! ```
//! use mcp_core::memory;
//! use mcp_core::schema::{CallToolResult, Tool};
//! use mcp_peer::{Client, RequestContext, Server};
//! use serde_json::json;
//!
//! #[derive(serde::Deserialize)]
//! struct Echo {
//!     message: String,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mcp_peer::PeerError> {
//! let server = Server::builder("echo-server", "1.0.0")
//!     .tool(
//!         Tool::new("echo", json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]})),
//!         |_ctx: RequestContext, args: Echo| async move { Ok(CallToolResult::text(args.message)) },
//!     )
//!     .build();
//!
//! let (client_end, server_end) = memory::pair(16);
//! tokio::spawn(async move { server.serve(server_end).await });
//!
//! let client = Client::connect(client_end).await?;
//! let result = client.call_tool("echo", &json!({"message": "hi"})).await?;
//! assert_eq!(result.content[0].as_text(), Some("hi"));
//! client.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # The API in brief
//!
//! | for | use |
//! |---|---|
//! | declaring a server | [`Server::builder`] → [`ServerBuilder`]: `.tool(Tool, \|ctx, args: T\| ..)` (typed, schema-checked), `.resource`, `.resource_template`, `.prompt`, `.completion`, `.authorize_tools`, `.on_notification`, `.config`, `.stateless_revision` |
//! | serving | [`Server::serve`] (any transport), [`Server::serve_session`] (an accepted session with its principal), [`Server::serve_acceptor`] (a task per session, graceful drain) |
//! | changing it live | [`Server::add_tool`], [`Server::remove_tool`], `add_resource`, `add_prompt`, ..., [`Server::notify_resource_updated`] |
//! | inside a handler | [`RequestContext`]: `principal`, `session_info`, `progress`, `log`, `cancelled`, `peer` (→ `create_message`, `elicit`, `list_roots`) |
//! | failing a tool | [`ToolError`]: `?` on any error gives an `isError` result; [`ToolError::rpc`] a JSON-RPC error |
//! | connecting | [`Client::builder`] → [`ClientBuilder`]: `.name`, `.protocol_version`, `.on_sampling`, `.on_elicitation`, `.on_roots`, `.on_notification`, `.connect(transport)` |
//! | calling | [`Client`]: `list_tools`, `call_tool`, `call_tool_with_progress`, `read_resource`, `get_prompt`, `complete`, `subscribe`, `set_level`, `ping`, `request`, `close`; [`Peer`] for raw requests from other tasks |
//! | limits | [`SessionConfig`]: request timeout (60 s, reset by progress), total cap (10 min), concurrency (256), queue sizes, page size (100), drain grace (10 s) |
//! | errors | [`PeerError`]: transport, JSON-RPC error from the peer, timeout, cancelled, closed, missing capability, protocol violation |
//!
//! # How a session runs
//!
//! Each session is one task that owns the transport: it reads messages (stopping when
//! [`SessionConfig::max_concurrency`] handlers are running, so backpressure reaches the
//! peer), runs handlers as futures in the same task (no spawn per request), correlates
//! responses with the requests it sent, and writes what handlers produce. A handler that
//! panics is answered with -32603 and the session goes on; a malformed frame is answered
//! with the transport's error response and the session goes on. When the peer closes the
//! transport, in-flight handlers finish and their responses are flushed before the session
//! ends.
//!
//! Handlers run *on the session task*, interleaved like the branches of a `select!`: that is
//! what keeps a call cheap (no spawn, no cross-thread hand-off). A handler that computes for
//! long without awaiting holds up its session, so hand CPU-heavy or blocking work to
//! `tokio::task::spawn_blocking` (or `tokio::spawn`) and await the handle. Sessions are
//! independent tasks, so many sessions use many cores.
//!
//! # Protocol revisions
//!
//! Servers speak 2024-11-05 through 2025-11-25 (the `initialize` handshake): they echo the
//! client's revision when they know it, else offer 2025-11-25. JSON-RPC batches are accepted
//! only when 2025-03-26 was negotiated. Before `initialize`, only `ping` is served; unknown
//! methods (such as a modern client's `server/discover` probe) get -32601 and the session stays
//! usable.
//!
//! With [`ServerBuilder::stateless_revision`], a server also speaks the stateless 2026-07-28
//! revision on the same sessions: it answers `server/discover` and serves requests whose
//! `_meta` names 2026-07-28 without a handshake (log level per request, `resultType`, cache
//! hints and `serverInfo` on results); a [`Client`] asked for 2026-07-28
//! ([`ClientBuilder::protocol_version`]) probes `server/discover` and speaks it when offered,
//! else falls back to the handshake. `subscriptions/listen` streams the list-changed and
//! resource-updated notifications a modern client asked for. Multi round-trip requests
//! replace server-to-client requests there: a tool returns [`ToolError::InputRequired`],
//! finds the answers in [`RequestContext::input_response`] on the retry, and a [`Client`]
//! fulfils such results with its handlers on its own (for `tools/call`; `prompts/get` and
//! `resources/read` do not take part yet).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod config;
mod error;
mod server;
mod session;

pub use client::{Client, ClientBuilder};
pub use config::SessionConfig;
pub use error::PeerError;
pub use server::{AuthorizeFn, RequestContext, Server, ServerBuilder, ToolError};
pub use session::driver::{SessionEnd, SessionSummary};
pub use session::{Peer, Progress};
