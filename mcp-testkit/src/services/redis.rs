//! An ephemeral `redis-server`.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use super::daemon::Daemon;
use super::{ServiceError, probe};
use crate::tools;

/// A `redis-server` process on a free 127.0.0.1 port; killed when dropped.
///
/// By default nothing is persisted (`--save "" --appendonly no`): a restart starts empty. With
/// [`persistent(true)`](RedisServerBuilder::persistent) it keeps an append-only file synced on
/// every write (`appendfsync always`), so data survives [`restart`](Self::restart) and even
/// [`kill`](Self::kill).
///
/// # Panics
/// The panicking constructors and [`restart`](Self::restart) panic with the server's log when
/// it does not start (use the `try_` variants to handle it).
#[derive(Debug)]
pub struct RedisServer {
    daemon: Daemon,
    password: Option<String>,
}

/// Options for a [`RedisServer`].
#[derive(Debug, Default, Clone)]
pub struct RedisServerBuilder {
    persistent: bool,
    password: Option<String>,
}

impl RedisServerBuilder {
    /// Keeps data across restarts (append-only file, fsync on every write).
    #[must_use]
    pub fn persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    /// Requires clients to `AUTH` with `password`.
    #[must_use]
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Starts the server and waits until it answers `PING`.
    ///
    /// # Panics
    /// When it cannot be started; the message quotes its log.
    pub async fn start(self) -> RedisServer {
        self.try_start().await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts the server and waits until it answers `PING` (at most 10 s).
    ///
    /// # Errors
    /// [`ServiceError`] when the binary exits or does not answer in time.
    ///
    /// # Panics
    /// When `redis-server` is not installed (see [`tools::redis_server`]).
    pub async fn try_start(self) -> Result<RedisServer, ServiceError> {
        let dir = Daemon::temp_dir("redis-server")?;
        let password = self.password.clone();
        let daemon = Daemon::start(
            "redis-server",
            tools::redis_server(),
            dir,
            |port, dir| self.args(port, dir),
            |port| is_ready(port, password.clone()),
        )
        .await?;
        Ok(RedisServer { daemon, password: self.password })
    }

    fn args(&self, port: u16, dir: &Path) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec![
            "--port".into(),
            port.to_string().into(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            dir.into(),
            "--save".into(),
            "".into(),
            "--daemonize".into(),
            "no".into(),
            "--logfile".into(),
            "".into(),
            "--appendonly".into(),
            if self.persistent { "yes" } else { "no" }.into(),
        ];
        if self.persistent {
            args.extend(["--appendfsync".into(), "always".into()]);
        }
        if let Some(password) = &self.password {
            args.extend(["--requirepass".into(), password.into()]);
        }
        args
    }
}

async fn is_ready(port: u16, password: Option<String>) -> bool {
    let mut request = Vec::new();
    if let Some(password) = password {
        request.extend_from_slice(format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{password}\r\n", password.len()).as_bytes());
    }
    // While loading the append-only file Redis answers `-LOADING`, not `+PONG`.
    request.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    probe::answers(port, &request, b"+PONG").await
}

impl RedisServer {
    /// Starts a server without persistence or auth and waits until it answers `PING`.
    ///
    /// # Panics
    /// When it cannot be started; the message quotes its log.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Options: persistence, a password.
    pub fn builder() -> RedisServerBuilder {
        RedisServerBuilder::default()
    }

    /// `redis://127.0.0.1:PORT/` (with `:password@` when one is required).
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}/", self.port()),
            None => format!("redis://127.0.0.1:{}/", self.port()),
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

    /// The server's temporary directory (log, append-only file).
    pub fn dir(&self) -> &Path {
        self.daemon.dir()
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.daemon.is_running()
    }

    /// Stops the server gracefully (SIGTERM: Redis finishes its append-only file; SIGKILL after 10 s).
    pub async fn stop(&mut self) {
        self.daemon.stop().await;
    }

    /// Kills the server (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        self.daemon.kill();
    }

    /// Stops the server if it runs and starts it again on the same port and directory, waiting
    /// until it answers `PING` (after loading its data, when persistent).
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
        let password = self.password.clone();
        self.daemon.spawn_and_wait(&|port| is_ready(port, password.clone())).await
    }

    /// The last lines of the server's output.
    pub fn log_tail(&self) -> String {
        self.daemon.log_tail()
    }
}
