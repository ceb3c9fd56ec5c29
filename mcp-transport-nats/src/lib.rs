//! MCP sessions over NATS subjects, with many server instances behind one service name.
//!
//! A server instance binds a [`NatsAcceptor`] to a service name; any number of instances of
//! the same service share the load. A client opens a session with [`connect`]; the session then
//! sticks to the instance that accepted it. Both ends are a [`NatsTransport`], an ordinary
//! [`mcp_core::Transport`].
//!
//! ```
//! use futures::{SinkExt, StreamExt};
//! use mcp_core::Message;
//! use mcp_transport_nats::{NatsAcceptor, NatsClientConfig, NatsServerConfig, connect};
//! use serde_json::json;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
//! # let mut server = std::process::Command::new("nats-server")
//! #     .args(["-a", "127.0.0.1", "-p", &port.to_string()]).spawn()
//! #     .expect("nats-server on PATH (run scripts/install-test-deps)");
//! # let url = format!("nats://127.0.0.1:{port}");
//! # let mut tries = 0;
//! # let nats = loop {
//! #     match async_nats::connect(&url).await {
//! #         Ok(c) => break c,
//! #         Err(_) if tries < 100 => { tries += 1; tokio::time::sleep(std::time::Duration::from_millis(50)).await }
//! #         Err(e) => panic!("nats-server did not start: {e}"),
//! #     }
//! # };
//! // One NATS connection per process serves every acceptor and session.
//! // let nats = async_nats::connect(&url).await?;
//!
//! // A server instance: each session echoes the method of every request.
//! let mut acceptor = NatsAcceptor::bind(nats.clone(), NatsServerConfig::new("echo")).await?;
//! tokio::spawn(async move {
//!     while let Some(session) = acceptor.next().await {
//!         tokio::spawn(async move {
//!             let mut transport = session.transport;
//!             while let Some(Ok(Message::Request(req))) = transport.next().await {
//!                 let answer = Message::response(req.id, &json!({ "echo": req.method })).unwrap();
//!                 if transport.send(answer).await.is_err() { break }
//!             }
//!         });
//!     }
//! });
//!
//! // A client.
//! let mut client = connect(&nats, NatsClientConfig::new("echo")).await?;
//! client.send(Message::request(1, "tools/list", &json!({}))?).await?;
//! let Some(Ok(Message::Response(resp))) = client.next().await else { panic!("a response") };
//! assert_eq!(resp.result.to_value(), json!({ "echo": "tools/list" }));
//! client.close().await?;
//! # server.kill()?; server.wait()?;
//! # Ok(())
//! # }
//! ```
//!
//! # Subject layout
//!
//! `<prefix>` defaults to `mcp` ([`NatsServerConfig::prefix`]); `<service>` is one token.
//! `<session>` is chosen at random (128 bits) by the instance that accepts the session, and
//! `<inbox>` at random by the client, so neither ever collides across clients or instances.
//!
//! | subject | published by | subscribed by | carries |
//! |---|---|---|---|
//! | `<prefix>.<service>.connect` | clients (NATS request) | every instance, in queue group `<prefix>.<service>` | connect request `{"version":1,"inbox":…,"token":…}`; the reply `{"version":1,"session":{"id":…,"subject":…}}` or `{"version":1,"error":{"code":…,"message":…}}` |
//! | `<prefix>.<service>.s.<session>` | the client | the instance that accepted | client → server JSON-RPC messages, one per NATS message; an empty payload closes |
//! | `<prefix>.<service>.c.<inbox>` | that instance | the client | server → client JSON-RPC messages (responses, notifications, server → client requests); an empty payload closes |
//! | `<prefix>.<service>.s.<session>.ctl` | the client | that instance | `ping` (a NATS request), `credit <n>`, `interrupted` |
//! | `<prefix>.<service>.c.<inbox>.ctl` | that instance | the client | `ping` (a NATS request), `credit <n>`, `interrupted` |
//!
//! No message is ever published to a wildcard, and each reply travels only on its session's
//! subject, so an answer reaches exactly the client that asked. The client subscribes to its
//! inbox subjects *before* it sends the connect request, so nothing the instance sends right
//! after accepting can be missed. NATS permissions are the access control: anybody allowed to
//! subscribe to `<prefix>.<service>.>` sees every session of the service.
//!
//! # Delivery guarantees
//!
//! | what | guarantee |
//! |---|---|
//! | a message | at most once (core NATS): delivered once, or lost when a NATS connection breaks or a subscriber's buffer overflows; never duplicated |
//! | order | the order sent, within a session and direction (one publisher connection, one subscriber) |
//! | a reader that stops reading | its peer's sends wait (flow control: at most [`window`](NatsServerConfig::window) unconsumed data messages per direction, acknowledged with cumulative `credit <n>` reports), so NATS never drops a message as a slow consumer |
//! | a message over the server's `max_payload` (1 MiB by default) | not sent (no chunking), never silently: a request is answered on the sender's own stream with an error response naming the limit; a response reaches the peer as an error response for its id naming the limit; a notification reaches the peer's stream as a non-fatal [`TransportError::MessageTooLarge`](mcp_core::TransportError::MessageTooLarge). The sink never fails for it and the session goes on |
//! | a request in flight when a NATS connection is interrupted | answered with a JSON-RPC error (`-32603`, `data.reason = "nats_connection_interrupted"`) within one heartbeat interval of the reconnection, on the side that sent it, whichever side's connection broke; a late real answer is then dropped |
//! | a dead peer (process gone, connection closed) | the stream ends with [`TransportError::ConnectionLost`](mcp_core::TransportError::ConnectionLost) within about one heartbeat [`interval`](Heartbeat::interval) (the NATS server answers "no responders" to the ping) |
//! | a silent peer (hung, partitioned) | the same error after [`misses`](Heartbeat::misses) unanswered pings: within `interval × (misses + 1)`, 20 s by default |
//! | a clean close (dropping or closing a transport) | the peer's stream ends with `None` after every message sent before the close |
//! | a NATS server restart | async-nats reconnects and resubscribes by itself; sessions survive if both sides are back within `interval × misses`, and in-flight requests get the error above |
//!
//! # Authentication
//!
//! The NATS connection authenticates with whatever async-nats offers (token, user and
//! password, nkey, creds file, TLS client certificates), set on
//! [`async_nats::ConnectOptions`]; [`NatsUrl`] turns `nats://user:pass@host:port/<service>`
//! into those options. On top of it, an instance may require a token in each connect request
//! ([`NatsClientConfig::token`]), checked by a [`TokenVerifier`] (such as [`StaticTokens`],
//! which compares in constant time); the [`Principal`](mcp_core::Principal) it returns is
//! attached to the session's [`SessionInfo`](mcp_core::SessionInfo).

//!
//! # Performance
//!
//! Each session is one task that owns its state (no lock per message), handles what is
//! already queued in bursts instead of one `select!` round per message, and serializes nothing
//! twice: the sender's task encodes, the session task publishes the bytes, the receiving
//! session task decodes once. The workspace's `bench/` harness (`mcp-bench --only nats`) puts
//! sessions beside raw async-nats request/reply on the same nats-server, in one run; the
//! figures are in `docs/BENCHMARKS.md` (0.92x raw at 1 and at 32 in flight on a quiet 2-core
//! machine).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod acceptor;
mod auth;
mod client;
mod config;
mod credit;
mod error;
mod inflight;
mod session;
mod subjects;
mod transport;
mod url;
mod wire;

pub use acceptor::NatsAcceptor;
pub use auth::{AuthError, StaticTokens, TokenVerifier};
pub use client::connect;
pub use config::{
    DEFAULT_CHANNEL_CAPACITY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_TRACKED_REQUESTS,
    DEFAULT_WINDOW, Heartbeat, NatsClientConfig, NatsServerConfig,
};
pub use error::NatsError;
pub use subjects::{DEFAULT_PREFIX, SessionSubjects};
pub use transport::NatsTransport;
pub use url::NatsUrl;

/// Re-exported so that users need not depend on `async-nats` to connect.
pub use async_nats;
