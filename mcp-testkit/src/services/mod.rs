//! Real `nats-server` and `redis-server` processes on a free loopback port, for the lifetime of
//! a test.
//!
//! Each server runs from `PATH` (see [`tools`](crate::tools)) in its own temporary directory,
//! on `127.0.0.1` and a free port, with its output in a log file whose tail is quoted when it
//! fails. `start()` returns once the server answers its protocol (NATS `INFO`, Redis `PING`),
//! waiting at most 10 s. [`stop`](NatsServer::stop) and [`restart`](NatsServer::restart) (on the
//! same port, so clients can reconnect) serve fault tests; dropping the value kills the process
//! and waits for it, so no test leaves an orphan behind.
//!
//! ```no_run
//! # async fn demo() {
//! use mcp_testkit::services::{NatsServer, RedisServer};
//!
//! let mut nats = NatsServer::start().await;
//! let url = nats.url(); // "nats://127.0.0.1:PORT"
//! nats.restart().await; // same port: clients reconnect
//!
//! let redis = RedisServer::builder().persistent(true).start().await;
//! let url = redis.url(); // "redis://127.0.0.1:PORT/"
//! # }
//! ```

mod daemon;
mod nats;
mod probe;
mod redis;

pub use nats::{NatsServer, NatsServerBuilder};
pub use redis::{RedisServer, RedisServerBuilder};

use std::path::PathBuf;

/// Why a test server could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The program could not be spawned.
    #[error("could not start {program}: {source} (is it installed? see mcp_testkit::tools)")]
    Spawn {
        /// The program that failed to start.
        program: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The process exited before it was ready.
    #[error("{name} exited during startup ({status}); its log ends with:\n{log_tail}")]
    Exited {
        /// The server's name.
        name: &'static str,
        /// How it exited.
        status: String,
        /// The last lines of its output.
        log_tail: String,
    },
    /// The server did not answer within the startup timeout.
    #[error("{name} on 127.0.0.1:{port} did not become ready within {timeout_ms} ms; its log ends with:\n{log_tail}")]
    NotReady {
        /// The server's name.
        name: &'static str,
        /// The port it was started on.
        port: u16,
        /// How long we waited.
        timeout_ms: u128,
        /// The last lines of its output.
        log_tail: String,
    },
    /// Preparing the temporary directory or configuration failed.
    #[error("preparing {name}'s temporary directory: {source}")]
    Setup {
        /// The server's name.
        name: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
}
