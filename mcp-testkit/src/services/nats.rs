//! An ephemeral `nats-server`.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use super::daemon::Daemon;
use super::{ServiceError, probe};
use crate::tools;

/// A `nats-server` process on a free 127.0.0.1 port; killed when dropped.
///
/// # Panics
/// The panicking constructors and [`restart`](Self::restart) panic with the server's log when
/// it does not start (use the `try_` variants to handle it).
#[derive(Debug)]
pub struct NatsServer {
    daemon: Daemon,
    token: Option<String>,
}

/// Options for a [`NatsServer`].
#[derive(Debug, Default, Clone)]
pub struct NatsServerBuilder {
    jetstream: bool,
    max_payload: Option<usize>,
    token: Option<String>,
}

impl NatsServerBuilder {
    /// Enables JetStream, stored in the server's temporary directory.
    #[must_use]
    pub fn jetstream(mut self, enabled: bool) -> Self {
        self.jetstream = enabled;
        self
    }

    /// Sets the server's `max_payload` (1 MiB by default), to test payload limits cheaply.
    #[must_use]
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = Some(bytes);
        self
    }

    /// Requires clients to authenticate with `token`.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Starts the server and waits until it answers.
    ///
    /// # Panics
    /// When it cannot be started; the message quotes its log.
    pub async fn start(self) -> NatsServer {
        self.try_start().await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts the server and waits until it answers (at most 10 s).
    ///
    /// # Errors
    /// [`ServiceError`] when the binary is missing, exits, or does not answer in time.
    ///
    /// # Panics
    /// When `nats-server` is not installed (see [`tools::nats_server`]).
    pub async fn try_start(self) -> Result<NatsServer, ServiceError> {
        let dir = Daemon::temp_dir("nats-server")?;
        let config = self.config(dir.path());
        let config_path = dir.path().join("nats.conf");
        let token = self.token.clone();
        let daemon = Daemon::start(
            "nats-server",
            tools::nats_server(),
            dir,
            |port, _dir| {
                // Written per attempt: the port is part of the configuration.
                let _ = std::fs::write(&config_path, format!("listen: \"127.0.0.1:{port}\"\n{config}"));
                vec!["-c".into(), config_path.clone().into()]
            },
            is_ready,
        )
        .await?;
        Ok(NatsServer { daemon, token })
    }

    fn config(&self, dir: &Path) -> String {
        let mut config = String::new();
        if let Some(max) = self.max_payload {
            let _ = writeln!(config, "max_payload: {max}");
            if max > 8 << 20 {
                let _ = writeln!(config, "max_pending: {}", max * 2);
            }
        }
        if let Some(token) = &self.token {
            let _ = writeln!(config, "authorization {{ token: {} }}", quote(token));
        }
        if self.jetstream {
            let _ = writeln!(config, "jetstream {{ store_dir: {} }}", quote(&dir.join("jetstream").to_string_lossy()));
        }
        config
    }
}

/// A double-quoted NATS configuration string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

async fn is_ready(port: u16) -> bool {
    // The server greets every connection with INFO once it accepts clients.
    probe::answers(port, b"", b"INFO ").await
}

impl NatsServer {
    /// Starts a plain server (no JetStream, no auth) and waits until it answers.
    ///
    /// # Panics
    /// When it cannot be started; the message quotes its log.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Options: JetStream, `max_payload`, a token.
    pub fn builder() -> NatsServerBuilder {
        NatsServerBuilder::default()
    }

    /// `nats://127.0.0.1:PORT` (with `token@` when a token is required).
    pub fn url(&self) -> String {
        match &self.token {
            Some(token) => format!("nats://{token}@127.0.0.1:{}", self.port()),
            None => format!("nats://127.0.0.1:{}", self.port()),
        }
    }

    /// The port the server listens on; the same across restarts.
    pub fn port(&self) -> u16 {
        self.daemon.port()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port()))
    }

    /// The token clients must present, if one is required.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The server's temporary directory (configuration, log, JetStream store).
    pub fn dir(&self) -> &Path {
        self.daemon.dir()
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.daemon.is_running()
    }

    /// Stops the server gracefully (SIGTERM; SIGKILL after 10 s). Clients see the connection drop.
    pub async fn stop(&mut self) {
        self.daemon.stop().await;
    }

    /// Kills the server (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        self.daemon.kill();
    }

    /// Stops the server if it runs and starts it again on the same port, waiting until it answers.
    ///
    /// # Panics
    /// When it does not come back; the message quotes its log.
    pub async fn restart(&mut self) {
        self.try_restart().await.unwrap_or_else(|e| panic!("{e}"));
    }

    /// Like [`restart`](Self::restart), returning the failure.
    ///
    /// # Errors
    /// [`ServiceError`] when the server does not come back within 10 s.
    ///
    /// # Cancel safety
    /// Not cancel-safe: a restart dropped midway leaves the server stopped or starting; the
    /// process is still killed when the value is dropped.
    pub async fn try_restart(&mut self) -> Result<(), ServiceError> {
        self.daemon.stop().await;
        self.daemon.spawn_and_wait(&is_ready).await
    }

    /// The last lines of the server's output.
    pub fn log_tail(&self) -> String {
        self.daemon.log_tail()
    }
}
