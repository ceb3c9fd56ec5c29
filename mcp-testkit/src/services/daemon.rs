//! One server process: spawn, wait until it answers, stop gracefully, kill on drop.

use std::ffi::OsString;
use std::fs::File;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::ServiceError;

/// How long a server may take to answer after it was spawned.
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a graceful stop may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts at finding a free port when the first one is taken by someone else meanwhile.
const PORT_ATTEMPTS: usize = 3;

/// A server process and its temporary directory.
#[derive(Debug)]
pub(crate) struct Daemon {
    name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    /// Removed after the child is killed: `Drop` kills first, then the fields drop.
    dir: TempDir,
}

impl Daemon {
    /// A temporary directory for a server called `name`.
    pub(crate) fn temp_dir(name: &'static str) -> Result<TempDir, ServiceError> {
        tempfile::Builder::new()
            .prefix(&format!("mcp-testkit-{name}-"))
            .tempdir()
            .map_err(|source| ServiceError::Setup { name, source })
    }

    /// Starts `program` with the arguments `args(port, dir)` on a free port and waits until
    /// `probe(port)` says it is ready.
    pub(crate) async fn start<A, P, F>(
        name: &'static str,
        program: PathBuf,
        dir: TempDir,
        args: A,
        probe: P,
    ) -> Result<Self, ServiceError>
    where
        A: Fn(u16, &Path) -> Vec<OsString>,
        P: Fn(u16) -> F,
        F: Future<Output = bool>,
    {
        let log = dir.path().join(format!("{name}.log"));
        let mut daemon = Self { name, program, args: Vec::new(), port: 0, log, child: None, dir };
        let mut attempt = 1;
        loop {
            daemon.port = free_port().map_err(|source| ServiceError::Setup { name, source })?;
            daemon.args = args(daemon.port, daemon.dir.path());
            match daemon.spawn_and_wait(&probe).await {
                Ok(()) => return Ok(daemon),
                // Most likely someone took the port between our probe and the server's bind.
                Err(e @ ServiceError::Exited { .. }) if attempt < PORT_ATTEMPTS => {
                    tracing::debug!(server = name, port = daemon.port, error = %e, "test server exited at startup; retrying on another port");
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Spawns the process (again, on the same port) and waits until it answers.
    pub(crate) async fn spawn_and_wait<P, F>(&mut self, probe: &P) -> Result<(), ServiceError>
    where
        P: Fn(u16) -> F,
        F: Future<Output = bool>,
    {
        let setup = |source| ServiceError::Setup { name: self.name, source };
        let out = File::options().create(true).append(true).open(&self.log).map_err(setup)?;
        let err = out.try_clone().map_err(setup)?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| ServiceError::Spawn { program: self.program.clone(), source })?;
        tracing::debug!(server = self.name, port = self.port, pid = child.id(), "started test server");
        self.child = Some(child);

        let started = Instant::now();
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(ServiceError::Exited {
                    name: self.name,
                    status: status.to_string(),
                    log_tail: self.log_tail(),
                });
            }
            if probe(self.port).await {
                return Ok(());
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                self.kill();
                return Err(ServiceError::NotReady {
                    name: self.name,
                    port: self.port,
                    timeout_ms: STARTUP_TIMEOUT.as_millis(),
                    log_tail: self.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asks the process to exit (SIGTERM, so Redis writes its append-only file), waits, and
    /// kills it if it has not exited within 10 s.
    pub(crate) async fn stop(&mut self) {
        let Some(child) = self.child.as_mut() else { return };
        #[cfg(unix)]
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let started = Instant::now();
        while matches!(child.try_wait(), Ok(None)) && started.elapsed() < STOP_TIMEOUT {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.kill();
    }

    /// Kills the process (SIGKILL: a crash, nothing flushed) and reaps it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            tracing::debug!(server = self.name, port = self.port, "stopped test server");
        }
    }

    /// The last lines of the server's output, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}
