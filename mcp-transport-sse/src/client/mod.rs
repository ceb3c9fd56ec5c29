//! The client side: a Streamable HTTP client transport and a legacy HTTP+SSE client transport.
//!
//! Both are plain [`Transport`](mcp_core::Transport)s: send the client's messages into the sink,
//! read the server's messages from the stream. Hand one to an MCP client (mcp-peer).

mod config;
mod direct;
mod error;
mod legacy;
mod response;
mod sse_reader;
mod streamable;
mod transport;

pub use config::HttpClientConfig;
pub use error::HttpClientError;
pub use legacy::connect_legacy_sse;
pub use streamable::connect_streamable_http;
pub use transport::HttpClientTransport;
