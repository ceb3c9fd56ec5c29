//! The client side of the stdio transport: messages to a child's stdin, from its stdout.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::ExitStatus;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{Sink, SinkExt, Stream};
use mcp_core::{Message, TransportError};
use tokio::io::AsyncWrite;
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::watch;

use super::stderr::StderrTail;
use super::supervisor::{Exit, Phase};
use crate::framing::LinesTransport;

// ===== ChildExited =====

/// The error that ends a [`ChildProcessTransport`] when the child exits: its status and the
/// last lines it wrote to stderr.
///
/// It travels inside [`TransportError::Other`]; get it back with [`ChildExited::find`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ChildExited {
    /// The program that was started.
    pub program: String,
    /// Its process id.
    pub pid: Option<u32>,
    /// How it exited; `None` when waiting for it failed.
    pub status: Option<ExitStatus>,
    /// The last lines it wrote to stderr (empty unless stderr was captured).
    pub stderr_tail: Vec<String>,
}

impl ChildExited {
    /// The `ChildExited` inside `error`, if that is what it is.
    pub fn find(error: &TransportError) -> Option<&Self> {
        match error {
            TransportError::Other { source, .. } => source.downcast_ref::<Self>(),
            _ => None,
        }
    }
}

impl fmt::Display for ChildExited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MCP server process `{}`", self.program)?;
        if let Some(pid) = self.pid {
            write!(f, " (pid {pid})")?;
        }
        match &self.status {
            Some(status) => write!(f, " exited ({status})")?,
            None => write!(f, " ended (its exit status could not be read)")?,
        }
        if self.stderr_tail.is_empty() {
            write!(f, "; it wrote nothing to stderr")
        } else {
            write!(f, "; last stderr lines:")?;
            for line in &self.stderr_tail {
                write!(f, "\n  {line}")?;
            }
            Ok(())
        }
    }
}

impl std::error::Error for ChildExited {}

// ===== ClosableStdin =====

/// The child's stdin, which a shutdown really closes (dropping the pipe is the child's end of
/// input; `ChildStdin`'s own shutdown does not close it).
#[derive(Debug)]
pub(crate) struct ClosableStdin(Option<ChildStdin>);

impl ClosableStdin {
    pub(crate) fn new(stdin: ChildStdin) -> Self {
        Self(Some(stdin))
    }

    fn close(&mut self) {
        self.0 = None;
    }
}

fn stdin_closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin is closed")
}

impl AsyncWrite for ClosableStdin {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.0.as_mut() {
            Some(stdin) => Pin::new(stdin).poll_write(cx, buf),
            None => Poll::Ready(Err(stdin_closed())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.0.as_mut() {
            Some(stdin) => Pin::new(stdin).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(stdin) = self.0.as_mut() {
            std::task::ready!(Pin::new(stdin).poll_flush(cx))?;
        }
        self.close();
        Poll::Ready(Ok(()))
    }
}

// ===== ChildProcessTransport =====

type ExitFuture = Pin<Box<dyn Future<Output = Option<Exit>> + Send>>;

enum ReadState {
    Reading,
    /// Stdout ended; waiting for the supervisor to report the exit.
    AwaitingExit(ExitFuture),
    Done,
}

/// A running MCP server process, as a [`Transport`](mcp_core::Transport): messages go to its
/// stdin and come from its stdout, one JSON line each. Made by
/// [`ChildProcess::spawn`](super::ChildProcess::spawn).
///
/// # Ending
/// - The child exiting with a failure status or by a signal ends the stream with a fatal error
///   carrying the exit status and the last stderr lines ([`ChildExited`], reachable with
///   [`ChildExited::find`]). Exiting successfully is a clean close: the stream just ends (`None`).
/// - `close()` flushes and closes the child's stdin (its signal to exit), then, if it has not
///   exited after the configured grace period, sends SIGTERM, and after another, SIGKILL.
///   [`shutdown`](Self::shutdown) does the same and waits for the exit.
/// - Dropping the transport without closing it kills the child (SIGKILL to its process group)
///   at once; dropping it after `close()` lets the escalation above run to its end in the
///   background. Either way the child is reaped: no zombies. (If the runtime itself shuts
///   down first, the child is killed.)
///
/// # Cancel safety
/// Receiving is cancel-safe, as for [`LinesTransport`].
pub struct ChildProcessTransport {
    lines: LinesTransport<ChildStdout, ClosableStdin>,
    read: ReadState,
    phase: watch::Sender<Phase>,
    exit: watch::Receiver<Option<Exit>>,
    program: Arc<str>,
    pid: Option<u32>,
    stderr_tail: Option<Arc<StderrTail>>,
}

impl ChildProcessTransport {
    pub(crate) fn new(
        lines: LinesTransport<ChildStdout, ClosableStdin>,
        phase: watch::Sender<Phase>,
        exit: watch::Receiver<Option<Exit>>,
        program: Arc<str>,
        pid: Option<u32>,
        stderr_tail: Option<Arc<StderrTail>>,
    ) -> Self {
        Self { lines, read: ReadState::Reading, phase, exit, program, pid, stderr_tail }
    }

    /// The child's process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The last lines the child wrote to stderr so far (empty unless stderr is captured), for
    /// diagnostics while it runs.
    pub fn recent_stderr(&self) -> Vec<String> {
        self.stderr_tail.as_ref().map(|tail| tail.snapshot()).unwrap_or_default()
    }

    /// Shuts the child down per the MCP lifecycle: flushes and closes its stdin, waits for it to
    /// exit, escalating to SIGTERM and then SIGKILL after the configured grace periods
    /// (2 s each by default). Returns how it exited.
    ///
    /// # Errors
    /// When waiting for the child failed, or the runtime is shutting down.
    pub async fn shutdown(mut self) -> io::Result<ExitStatus> {
        if let Err(e) = self.close().await {
            tracing::debug!(program = %self.program, pid = self.pid, error = %e, "flushing before shutdown failed");
        }
        self.closing();
        match self.exit.wait_for(Option::is_some).await {
            Ok(exit) => match exit.as_ref().map(|e| e.status.clone()) {
                Some(Ok(status)) => Ok(status),
                Some(Err(e)) => Err(io::Error::other(e)),
                None => Err(io::Error::other("child supervisor ended without a status")),
            },
            Err(_) => Err(io::Error::other("the child's supervisor task stopped (is the runtime shutting down?)")),
        }
    }

    /// Starts the escalation towards the child's exit (idempotent).
    fn closing(&self) {
        self.phase.send_if_modified(|phase| std::mem::replace(phase, Phase::Closing) != Phase::Closing);
    }

    fn exit_future(&self) -> ExitFuture {
        let mut exit = self.exit.clone();
        Box::pin(async move { exit.wait_for(Option::is_some).await.ok().and_then(|e| e.clone()) })
    }

    fn exit_error(&self, exit: Option<Exit>) -> Option<TransportError> {
        let Some(exit) = exit else {
            return Some(TransportError::ConnectionLost(format!(
                "lost track of MCP server process `{}`: its supervisor task stopped",
                self.program
            )));
        };
        let status = exit.status.ok();
        if status.is_some_and(|s| s.success()) {
            // The child closed its output and exited successfully: a clean close.
            return None;
        }
        let exited =
            ChildExited { program: self.program.to_string(), pid: self.pid, status, stderr_tail: exit.stderr_tail };
        Some(TransportError::other(true, exited))
    }

    /// A write error means the child stopped reading, usually because it exited.
    fn map_write_error(&self, error: TransportError) -> TransportError {
        match error {
            TransportError::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => TransportError::ConnectionLost(format!(
                "MCP server process `{}` (pid {}) no longer reads its stdin ({e}); it has probably exited",
                self.program,
                self.pid.map_or_else(|| "?".to_owned(), |p| p.to_string()),
            )),
            other => other,
        }
    }
}

impl fmt::Debug for ChildProcessTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildProcessTransport")
            .field("program", &self.program)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Stream for ChildProcessTransport {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match &mut this.read {
                ReadState::Reading => match std::task::ready!(Pin::new(&mut this.lines).poll_next(cx)) {
                    Some(Err(e)) if e.is_fatal() => {
                        tracing::debug!(program = %this.program, pid = this.pid, error = %e, "reading the child's stdout failed");
                        this.closing();
                        this.read = ReadState::AwaitingExit(this.exit_future());
                    }
                    Some(item) => return Poll::Ready(Some(item)),
                    None => {
                        this.closing();
                        this.read = ReadState::AwaitingExit(this.exit_future());
                    }
                },
                ReadState::AwaitingExit(exit) => {
                    let exit = std::task::ready!(exit.as_mut().poll(cx));
                    this.read = ReadState::Done;
                    return Poll::Ready(this.exit_error(exit).map(Err));
                }
                ReadState::Done => return Poll::Ready(None),
            }
        }
    }
}

impl Sink<Message> for ChildProcessTransport {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.lines).poll_ready(cx).map_err(|e| self.map_write_error(e))
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        Pin::new(&mut self.lines).start_send(item).map_err(|e| self.map_write_error(e))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.lines).poll_flush(cx).map_err(|e| self.map_write_error(e))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let result = std::task::ready!(Pin::new(&mut self.lines).poll_close(cx));
        // Whether or not the flush worked, stdin is closed now and the child must go.
        self.lines.writer_mut().close();
        self.closing();
        Poll::Ready(result.map_err(|e| self.map_write_error(e)))
    }
}
