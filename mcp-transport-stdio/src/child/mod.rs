//! The client side: starting an MCP server as a child process and talking to it over its
//! stdin and stdout.

mod env;
mod stderr;
mod supervisor;
mod transport;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::watch;

pub use env::DEFAULT_INHERITED_ENV_VARS;
pub use transport::{ChildExited, ChildProcessTransport};

use crate::config::StdioConfig;
use crate::framing::LinesTransport;
use stderr::StderrTail;
use supervisor::{Escalation, Phase, Supervised};
use transport::ClosableStdin;

/// Which of this process's environment variables the child inherits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EnvInheritance {
    /// Only [`DEFAULT_INHERITED_ENV_VARS`] (what the official SDKs do) and the names added with
    /// [`ChildProcess::inherit_var`]: secrets in this process's environment stay out of the
    /// child's.
    #[default]
    SafeDefaults,
    /// Everything.
    All,
    /// Nothing but the names added with [`ChildProcess::inherit_var`] and what is set with
    /// [`ChildProcess::env`].
    Nothing,
}

/// What becomes of the child's stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StderrMode {
    /// Read line by line: each line is logged as a `tracing` event (target
    /// `mcp_transport_stdio::child_stderr`, level INFO) and the last `keep_lines` are kept for
    /// the [`ChildExited`] error.
    Capture {
        /// How many of the last lines to keep.
        keep_lines: usize,
    },
    /// Shared with this process's stderr.
    Inherit,
    /// Discarded.
    Discard,
}

impl Default for StderrMode {
    fn default() -> Self {
        Self::Capture { keep_lines: 20 }
    }
}

/// How to start an MCP server as a child process: a builder for [`ChildProcessTransport`].
///
/// ```no_run
/// use futures::{SinkExt, StreamExt};
/// use mcp_core::Message;
/// use mcp_transport_stdio::ChildProcess;
///
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let mut server = ChildProcess::new("npx")
///     .args(["-y", "@modelcontextprotocol/server-everything", "stdio"])
///     .env("LOG_LEVEL", "debug")
///     .spawn()?;
/// server.send(Message::request(1, "ping", &serde_json::json!({})).unwrap()).await.unwrap();
/// let pong = server.next().await;
/// let status = server.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ChildProcess {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    inheritance: EnvInheritance,
    /// Names inherited on top of the default allow-list.
    extra_inherited: Vec<String>,
    cwd: Option<PathBuf>,
    stderr: StderrMode,
    escalation: Escalation,
    config: StdioConfig,
}

impl ChildProcess {
    /// The default time a child has to exit after its stdin is closed, and after SIGTERM.
    pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

    /// Runs `program` (looked up in `PATH` when it has no slash).
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            inheritance: EnvInheritance::default(),
            extra_inherited: Vec::new(),
            cwd: None,
            stderr: StderrMode::default(),
            escalation: Escalation {
                before_term: Self::DEFAULT_GRACE,
                before_kill: Self::DEFAULT_GRACE,
                process_group: true,
            },
            config: StdioConfig::default(),
        }
    }

    /// Adds an argument.
    #[must_use]
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the child (on top of the inherited ones).
    #[must_use]
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs.push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Sets environment variables for the child (on top of the inherited ones).
    #[must_use]
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.envs.extend(vars.into_iter().map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())));
        self
    }

    /// Chooses which of this process's variables the child inherits
    /// ([`EnvInheritance::SafeDefaults`] unless told otherwise).
    #[must_use]
    pub fn inherit_env(mut self, inheritance: EnvInheritance) -> Self {
        self.inheritance = inheritance;
        self
    }

    /// Adds `name` to the variables inherited from this process (when it is set), on top of
    /// [`DEFAULT_INHERITED_ENV_VARS`]: e.g. `RUST_LOG` or `NODE_OPTIONS`.
    #[must_use]
    pub fn inherit_var(mut self, name: impl Into<String>) -> Self {
        self.extra_inherited.push(name.into());
        self
    }

    /// Sets the child's working directory.
    #[must_use]
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Chooses what becomes of the child's stderr (captured, 20 lines kept, by default).
    #[must_use]
    pub fn stderr(mut self, mode: StderrMode) -> Self {
        self.stderr = mode;
        self
    }

    /// Sets the shutdown grace periods: how long the child has to exit after its stdin is
    /// closed before SIGTERM, and after SIGTERM before SIGKILL (2 s each by default).
    #[must_use]
    pub fn shutdown_grace(mut self, before_term: Duration, before_kill: Duration) -> Self {
        self.escalation.before_term = before_term;
        self.escalation.before_kill = before_kill;
        self
    }

    /// Whether the child leads a process group of its own (default `true`), so that
    /// shutdown signals reach the processes it started too (`npx` starting `node`, a shell
    /// script starting the real server), and a Ctrl-C in the terminal reaches only us, which
    /// then shuts it down in order.
    #[must_use]
    pub fn own_process_group(mut self, own: bool) -> Self {
        self.escalation.process_group = own;
        self
    }

    /// Sets the framing limits.
    #[must_use]
    pub fn config(mut self, config: StdioConfig) -> Self {
        self.config = config;
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
        match self.inheritance {
            EnvInheritance::All => {}
            EnvInheritance::SafeDefaults => {
                cmd.env_clear().envs(env::inherited(DEFAULT_INHERITED_ENV_VARS));
            }
            EnvInheritance::Nothing => {
                cmd.env_clear();
            }
        }
        if self.inheritance != EnvInheritance::All {
            cmd.envs(env::inherited(&self.extra_inherited));
        }
        cmd.envs(self.envs.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd.stderr(match self.stderr {
            StderrMode::Capture { .. } => Stdio::piped(),
            StderrMode::Inherit => Stdio::inherit(),
            StderrMode::Discard => Stdio::null(),
        });
        #[cfg(unix)]
        if self.escalation.process_group {
            cmd.process_group(0);
        }
        cmd
    }

    /// Starts the child.
    ///
    /// # Errors
    /// When the program cannot be started (not found, not executable, bad working directory),
    /// naming the program; when called outside a tokio runtime.
    pub fn spawn(&self) -> io::Result<ChildProcessTransport> {
        crate::runtime::require("ChildProcess::spawn")?;
        let program: Arc<str> = self.program.to_string_lossy().into();
        let mut child = self
            .command()
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("could not start MCP server process `{program}`: {e}")))?;
        let pid = child.id();
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other("the child's stdin/stdout were not piped"));
        };
        let stderr = match (self.stderr, child.stderr.take()) {
            (StderrMode::Capture { keep_lines }, Some(pipe)) => {
                let tail = StderrTail::new(keep_lines);
                let relay = tokio::spawn(stderr::relay(pipe, tail.clone(), program.clone(), pid));
                Some((relay, tail))
            }
            _ => None,
        };
        // Arguments can carry secrets (`--api-key ...`): logged by count only.
        tracing::debug!(program = %program, pid, args = self.args.len(), "started MCP server process");
        let (phase_tx, phase_rx) = watch::channel(Phase::Running);
        let (exit_tx, exit_rx) = watch::channel(None);
        let tail = stderr.as_ref().map(|(_, tail)| tail.clone());
        let supervised = Supervised { child, program: program.clone(), stderr, escalation: self.escalation };
        tokio::spawn(supervised.run(phase_rx, exit_tx));
        let lines = LinesTransport::with_config(stdout, ClosableStdin::new(stdin), &self.config);
        Ok(ChildProcessTransport::new(lines, phase_tx, exit_rx, program, pid, tail))
    }
}

impl fmt::Debug for ChildProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Environment values are often secrets: names only.
        let env_names: Vec<_> = self.envs.iter().map(|(k, _)| k).collect();
        f.debug_struct("ChildProcess")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &env_names)
            .field("inheritance", &self.inheritance)
            .field("cwd", &self.cwd)
            .field("stderr", &self.stderr)
            .finish_non_exhaustive()
    }
}
