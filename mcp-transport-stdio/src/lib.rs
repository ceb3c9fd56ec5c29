//! MCP over stdio, child processes, and newline-delimited JSON over any byte stream (TCP, Unix
//! sockets).
//!
//! Every transport here speaks the MCP stdio framing: one compact JSON-RPC message per line,
//! `\n` terminated (`\r\n` accepted), with a size limit per message
//! ([`StdioConfig::max_message_bytes`], 16 MiB by default).
//!
//! ```
//! use futures::{SinkExt, StreamExt};
//! use mcp_core::Message;
//! use mcp_transport_stdio::LinesTransport;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Two ends of an in-process pipe, each a transport.
//! let (a, b) = tokio::io::duplex(64 * 1024);
//! let (a_read, a_write) = tokio::io::split(a);
//! let (b_read, b_write) = tokio::io::split(b);
//! let mut client = LinesTransport::new(a_read, a_write);
//! let mut server = LinesTransport::new(b_read, b_write);
//!
//! client.send(Message::request(1, "ping", &serde_json::json!({})).unwrap()).await.unwrap();
//! let request = server.next().await.unwrap().unwrap();
//! assert_eq!(request.method(), Some("ping"));
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(unix)]
mod child;
mod config;
mod framing;
mod socket;
#[cfg(unix)]
mod stdio;

#[cfg(unix)]
pub use child::{
    ChildExited, ChildProcess, ChildProcessTransport, DEFAULT_INHERITED_ENV_VARS, EnvInheritance, StderrMode,
};
pub use config::StdioConfig;
pub use framing::{JsonLinesCodec, LinesTransport};
pub use socket::{ListenerConfig, TcpAcceptor, TcpTransport, connect_tcp, connect_tcp_with};
#[cfg(unix)]
pub use socket::{UnixAcceptor, UnixTransport, connect_unix, connect_unix_with};
#[cfg(unix)]
pub use stdio::{StdioTransport, stdio};
