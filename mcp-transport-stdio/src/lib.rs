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
//!
//! # What is here
//!
//! | you want to | use |
//! |---|---|
//! | serve MCP on this process's stdin/stdout | [`stdio()`] → [`StdioTransport`] |
//! | start a server as a child process and talk to it | [`ChildProcess`] → [`ChildProcessTransport`] |
//! | serve many sessions on TCP or a Unix socket | [`TcpAcceptor`], [`UnixAcceptor`] (each an [`Acceptor`](mcp_core::Acceptor)) |
//! | connect to such a server | [`connect_tcp`], [`connect_unix`] |
//! | the framing over any `AsyncRead` + `AsyncWrite` | [`LinesTransport`], [`JsonLinesCodec`] |
//!
//! All of them follow the [`Transport`](mcp_core::Transport) contract of `mcp-core`: a
//! malformed line, invalid UTF-8 or a line over the limit is a non-fatal error item (a session
//! answers it with [`TransportError::error_response`](mcp_core::TransportError::error_response):
//! -32700 with a null id for a parse error) and the stream goes on; the end of input ends the
//! stream; receiving is cancel-safe; `poll_ready` waits while the peer does not read.
//!
//! A server, with `mcp-peer`:
//!
//! ```no_run
//! # async fn run(server: mcp_peer::Server) -> Result<(), Box<dyn std::error::Error>> {
//! let transport = mcp_transport_stdio::stdio()?; // before anything prints to stdout
//! server.serve_session(transport.into_session()).await?; // returns when the client closes stdin
//! # Ok(()) }
//! ```
//!
//! A client of a server started as a child process:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_transport_stdio::ChildProcess;
//!
//! let transport = ChildProcess::new("npx").args(["-y", "@modelcontextprotocol/server-everything"]).spawn()?;
//! let client = mcp_peer::Client::connect(transport).await?;
//! let tools = client.list_tools().await?;
//! client.close().await?; // closes stdin; SIGTERM after 2 s, SIGKILL 2 s later
//! # Ok(()) }
//! ```
//!
//! The stdio server, child process and Unix socket parts are Unix-only for now.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(unix)]
mod child;
mod config;
mod framing;
mod runtime;
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
