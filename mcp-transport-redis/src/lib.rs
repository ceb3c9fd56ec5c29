//! MCP sessions over Redis: many server instances behind one service name, clients anywhere
//! that can reach the Redis, in an at-most-once pub/sub mode or a durable Redis Streams mode.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
//! # let mut redis_server = std::process::Command::new("redis-server")
//! #     .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
//! #     .stdout(std::process::Stdio::null())
//! #     .spawn()
//! #     .expect("redis-server on PATH (run scripts/install-test-deps)");
//! # for _ in 0..200 {
//! #     if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() { break }
//! #     std::thread::sleep(std::time::Duration::from_millis(10));
//! # }
//! use futures::{SinkExt, StreamExt};
//! use mcp_core::Message;
//! use mcp_transport_redis::{RedisBus, RedisConfig};
//!
//! // One bus per process and service; here one process plays both server and client.
//! let config = RedisConfig::from_url(&format!("redis://127.0.0.1:{port}/echo"))?;
//! let bus = RedisBus::open(config).await?;
//! let mut acceptor = bus.accept().await?;
//!
//! let mut client = bus.connect().await?;
//! let mut server = acceptor.next().await.expect("a session").transport;
//!
//! client.send(Message::request(1, "ping", &serde_json::json!({}))?).await?;
//! let request = server.next().await.expect("a message")?;
//! assert_eq!(request.method(), Some("ping"));
//! server.send(Message::response(request.id().cloned().unwrap(), &serde_json::json!({}))?).await?;
//! assert!(matches!(client.next().await, Some(Ok(Message::Response(_)))));
//!
//! client.close().await?; // the server's stream ends cleanly
//! assert!(server.next().await.is_none());
//! # drop((client, server, acceptor, bus));
//! # redis_server.kill()?;
//! # Ok(())
//! # }
//! ```
//!
//! # How a session is set up
//!
//! 1. The client picks a random session id, starts listening on the session's `to-client`
//!    channel (durable mode: first creates the `to-client` stream and its consumer group), creates
//!    its liveness key, and only then announces the session on the service's connect channel,
//!    so no answer can race its subscription. If the announcement reaches no subscriber, it
//!    fails at once with [`RedisTransportError::NoServer`].
//! 2. Every server instance of the service hears the announcement. Each asks its
//!    [`TokenVerifier`] (if any) who the caller is, then tries `SET owner NX PX ttl`: exactly
//!    one wins. Placement is by rendezvous hashing over the live instances: the instance with
//!    the highest `hash(session, instance)` tries at once, the others only after
//!    [`RedisConfig::claim_fallback`] (plus a little per session they already serve), so
//!    sessions spread evenly and a dead or overloaded instance's share goes to the others. The
//!    owner key records the instance and the session's [`Principal`](mcp_core::Principal)
//!    (see [`mcp_core::SessionInfo::principal`]).
//! 3. The winner starts listening on `to-server` and then sends an accept frame naming itself on
//!    `to-client`. The client fails with [`RedisTransportError::AcceptTimeout`] if no accept
//!    arrives within [`RedisConfig::accept_timeout`], or with
//!    [`RedisTransportError::Rejected`] if the verifier refused it (or no token was sent).
//! 4. Both ends refresh their liveness key (`SET ... PX liveness_ttl`) every
//!    [`RedisConfig::heartbeat_interval`] and check the peer's. A peer whose key has been missing
//!    for a further `liveness_ttl` (so that a peer reconnecting after a Redis restart is not
//!    declared dead) is dead: its session ends with
//!    [`TransportError::ConnectionLost`](mcp_core::TransportError::ConnectionLost) naming it,
//!    within about `2 * liveness_ttl + heartbeat_interval` of its last sign of life. A client
//!    can then open a new session.
//! 5. Closing the sink sends a close frame (the peer's stream ends with `None`) after everything
//!    sent before it; dropping the transport deletes the session's keys.
//!
//! # Channel and key layout
//!
//! `{prefix}` is [`RedisConfig::prefix`] (default `mcp`), `{service}` the service name, `{id}` a
//! 128-bit random hex session id, `{instance}` a process's [`RedisBus::instance_id`].
//!
//! | name | kind | written by | content, lifetime |
//! |---|---|---|---|
//! | `{prefix}:{service}:instances:{mode}` | sorted set, TTL | each accepting instance | live instances of that mode (score: registration expiry in ms since the epoch), for placement |
//! | `{prefix}:{service}:connect` | pub/sub channel | clients | session announcements: `{"v":1,"session":id,"mode":"pubsub"\|"durable","token":...}` |
//! | `{prefix}:{service}:session:{id}:owner` | string, TTL `liveness_ttl` | the server instance that took the session | `{"instance":..,"mode":..,"principal":{"id":..,"scopes":[..],"tools":[..]\|null}}`; the server's liveness key |
//! | `{prefix}:{service}:session:{id}:client` | string, TTL `liveness_ttl` | the client | the client's liveness key |
//! | `{prefix}:{service}:session:{id}:to-server` | channel; durable mode: also a stream of the same name, TTL | the client | its messages |
//! | `{prefix}:{service}:session:{id}:to-client` | channel; durable mode: also a stream of the same name, TTL | the server | the accept frame, then its messages |
//!
//! A payload (a pub/sub message, or field `m` of a stream entry) is one compact JSON-RPC message,
//! or a control frame: `#` and a JSON object, `#{"type":"accept","instance":..}`,
//! `#{"type":"reject",..}`, `#{"type":"close"}`, and the flow-control credit
//! `#{"type":"credit","read":N}` (the sender's application has read N messages).
//!
//! In durable mode each payload is first appended to the stream as the entry `0-{n}` (`n` = 1, 2,
//! ... in the order sent, field `m`), then announced on the channel of the same name by a
//! *doorbell*: one or more records for consecutive entries (one doorbell per session and
//! pipelined batch, up to 64 KiB of payload), each `{n} {length} {payload}`, or `{n} - ` for a
//! payload over 64 KiB, which the reader fetches from the stream. The stream's consumer group
//! `mcp` records the reading process's position (its last-delivered id, set each heartbeat),
//! and entries up to it are trimmed then.
//! Durable streams expire `liveness_ttl + outage_timeout` after their last refresh.
//!
//! # Delivery modes
//!
//! | | [`Mode::PubSub`] (default) | [`Mode::Durable`] |
//! |---|---|---|
//! | per message | one `PUBLISH` (pipelined) | one `XADD`, and a share of one doorbell `PUBLISH` per session and batch (pipelined together); trimming and position recording once per heartbeat |
//! | stored in Redis | nothing | up to [`RedisConfig::stream_max_len`] entries per direction and session |
//! | guarantee | at most once, in order; **never a silent loss**: a `PUBLISH` that reaches no subscriber, a lost subscription connection, or a failed write ends the affected sessions with `ConnectionLost` | exactly once, in order, while Redis keeps the data: writes are retried idempotently (explicit entry ids); the reader delivers entry `n` only after `n - 1`, drops repeats, and reads the stream whenever a doorbell may have been missed (see below) |
//! | Redis unreachable or restarted | the sessions of the process end at once with a clear error (clients open new sessions) | sessions wait up to [`RedisConfig::outage_timeout`] and go on; with `appendonly yes` a restart loses nothing (a crash can lose the last second under `appendfsync everysec`); without persistence the sessions end with an error naming the lost stream |
//! | a slow reader | flow control: the sender waits once [`RedisConfig::session_queue`] messages are unread (credit frames flow back as the reader reads); a peer that ignores it ends its session | the same; entries beyond `stream_max_len` would be trimmed, and such a gap ends the session |
//! | cost | lowest latency, no memory in Redis | up to twice the Redis commands and bytes written, memory per session (undelivered entries, and delivered ones until the next heartbeat), persistence I/O |
//!
//! Pub/sub is the default because an MCP session is a conversation between two live processes:
//! when a message is lost it says so at once, so nothing waits on an answer that cannot come,
//! and it keeps nothing in Redis. Choose durable mode when sessions must survive Redis restarts,
//! failovers or network blips.
//!
//! ## How durable mode delivers
//!
//! The stream is the record; the doorbell is the fast path. The receiving process hands a
//! doorbell record's payload to the session only when its number is the one after the last delivered
//! (a smaller number is a repeat, from a retried write or an entry already read, and is
//! dropped). Otherwise, or when it carries no payload, the process's stream reader reads the
//! session's stream after the last delivered entry (`XRANGE`, non-blocking, pipelined over all
//! sessions that need it) and delivers from there, by the same rule. The reader also reads every
//! durable session's stream when the subscription connection drops (once Redis confirms the
//! resubscription), when a heartbeat fails, and when a heartbeat finds entries that were
//! already undelivered at the previous one. Since a doorbell is published only after its entry
//! is in the stream, a read issued after the subscription is confirmed misses nothing: an entry
//! appended before is in the stream, and the doorbell of one appended after reaches the
//! subscription. An entry missing from the stream where the next one was expected (trimmed or
//! lost) ends the session with an error naming it, as does a stream that is gone.
//!
//! # Connections
//!
//! A [`RedisBus`] holds, per process: one multiplexed [`ConnectionManager`](redis::aio::ConnectionManager)
//! for commands and publishing (one task writes all sessions' messages, pipelined in batches);
//! and one RESP3 connection manager for every subscription (pushed messages are dispatched to
//! sessions by channel, resubscribed automatically after a reconnect). In durable mode a single
//! stream reader task reads streams on the command connection when a session needs it; nothing
//! blocks a connection. Nothing is per session.
//!
//! # URL form
//!
//! `redis://[user:password@]host:port/<service>[?mode=pubsub|durable&prefix=mcp&db=0]`, or
//! `rediss://` for TLS (rustls with the ring provider; the server's certificate must chain to
//! a webpki-roots (Mozilla) root, or to [`RedisConfig::tls_root_cert_pem`]); see
//! [`RedisConfig::from_url`]. Passwords are never logged.
//!
//! # API at a glance
//!
//! | for | use |
//! |---|---|
//! | configuration | [`RedisConfig::from_url`] or [`RedisConfig::new`], then its public fields |
//! | a process's connections | [`RedisBus::open`] (clone it; one per process and service) |
//! | a server | [`RedisBus::accept`] / [`RedisBus::accept_with`] (a [`TokenVerifier`], e.g. [`StaticTokens`]) → [`RedisAcceptor`], an [`mcp_core::Acceptor`] of [`IncomingSession`](mcp_core::IncomingSession)s with a [`RedisSessionInfo`] extension |
//! | a client | [`RedisBus::connect`] / [`RedisBus::connect_with_token`] → [`RedisTransport`], an [`mcp_core::Transport`] |
//! | one-off | [`connect`] and [`accept`] with a bus of their own |
//!
//! # Limitations
//!
//! - Requires Redis 6.2 or later (RESP3 subscriptions, `XADD NOMKSTREAM`); tested with 7.0.
//! - Redis Cluster is not supported (a process pipelines the commands of all its sessions on
//!   one connection, and a cluster spreads their keys over slots); use a single Redis or a
//!   Sentinel-managed primary.
//! - A session stream has exactly one writer: anything else appending to it ends the session.
//! - TLS client certificates (mutual TLS) are not configurable yet.
//! - Placement uses each host's clock for instance registrations; clocks more than a
//!   `liveness_ttl` apart make placement uneven (never wrong: the owner key decides).
//!
//! # Limits (each configurable in [`RedisConfig`])
//!
//! | what | default |
//! |---|---|
//! | message size | 16 MiB, then `MessageTooLarge` and the session goes on |
//! | unread messages per session (flow-control window) | 1024 |
//! | heartbeat / liveness TTL | 5 s / 15 s |
//! | accept timeout | 10 s |
//! | durable: stream length / outage tolerated | 10,000 entries / 30 s |

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod acceptor;
mod auth;
mod bus;
mod client;
mod config;
mod error;
mod frame;
mod keys;
mod liveness;
mod placement;
mod publisher;
mod router;
mod session;
mod streams;

pub use acceptor::{RedisAcceptor, RedisSessionInfo};
pub use auth::{AuthError, StaticTokens, TokenVerifier};
pub use bus::RedisBus;
pub use config::{Mode, RedisConfig};
pub use error::RedisTransportError;
pub use session::RedisTransport;

/// Opens a client session on the service named by `url` (see [`RedisConfig::from_url`]), over
/// a bus of its own. A process with many sessions should share one [`RedisBus`] instead.
///
/// # Errors
/// As for [`RedisConfig::from_url`], [`RedisBus::open`] and [`RedisBus::connect`].
pub async fn connect(url: &str) -> Result<RedisTransport, RedisTransportError> {
    RedisBus::open(RedisConfig::from_url(url)?).await?.connect().await
}

/// Starts taking sessions of the service named by `url` (see [`RedisConfig::from_url`]), over a
/// bus of its own.
///
/// # Errors
/// As for [`RedisConfig::from_url`], [`RedisBus::open`] and [`RedisBus::accept`].
pub async fn accept(url: &str) -> Result<RedisAcceptor, RedisTransportError> {
    RedisBus::open(RedisConfig::from_url(url)?).await?.accept().await
}
