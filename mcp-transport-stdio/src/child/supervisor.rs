//! The task that owns a child process: it always reaps it, and escalates a shutdown per the
//! MCP lifecycle (stdin closed, wait, SIGTERM, wait, SIGKILL).

use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use rustix::process::{Pid, Signal};
use tokio::process::Child;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::stderr::StderrTail;

/// How long, after the child exits, its stderr may take to reach end of input before the exit
/// is reported with the lines read so far (a grandchild can keep the pipe open forever).
const STDERR_DRAIN: Duration = Duration::from_millis(500);

/// What the transport asks of the supervisor. Dropping the sender while `Running` means "kill
/// it now"; after `Closing`, the escalation continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The session is running.
    Running,
    /// The session is over (stdin closed or stdout ended): the child should exit by itself;
    /// escalate if it does not.
    Closing,
}

/// How a child ended, published once by the supervisor.
#[derive(Debug, Clone)]
pub(crate) struct Exit {
    /// The status, or why it could not be had.
    pub(crate) status: Result<ExitStatus, String>,
    /// The last lines of its stderr, when captured.
    pub(crate) stderr_tail: Vec<String>,
}

/// The grace periods of a shutdown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Escalation {
    /// After stdin is closed, how long the child has to exit before SIGTERM.
    pub(crate) before_term: Duration,
    /// After SIGTERM, how long before SIGKILL.
    pub(crate) before_kill: Duration,
    /// Whether the child leads its own process group, so signals reach its descendants too.
    pub(crate) process_group: bool,
}

pub(crate) struct Supervised {
    pub(crate) child: Child,
    pub(crate) program: Arc<str>,
    pub(crate) stderr: Option<(JoinHandle<()>, Arc<StderrTail>)>,
    pub(crate) escalation: Escalation,
}

impl Supervised {
    fn signal(&self, signal: Signal) {
        let Some(pid) = self.child.id().and_then(|id| Pid::from_raw(id as i32)) else { return };
        let sent = if self.escalation.process_group {
            rustix::process::kill_process_group(pid, signal)
        } else {
            rustix::process::kill_process(pid, signal)
        };
        match sent {
            Ok(()) => tracing::debug!(program = %self.program, pid = pid.as_raw_pid(), ?signal, "signalled the child"),
            Err(e) => {
                tracing::debug!(program = %self.program, pid = pid.as_raw_pid(), ?signal, error = %e, "could not signal the child")
            }
        }
    }

    /// Runs until the child has exited and been reaped, then publishes how it ended.
    pub(crate) async fn run(mut self, mut phase: watch::Receiver<Phase>, exit: watch::Sender<Option<Exit>>) {
        let pid = self.child.id();
        // The next escalation step and when it is due.
        let mut next: Option<(Instant, Signal)> = None;
        let mut dropped = false;
        let status = loop {
            let deadline = next.map(|(at, _)| at);
            tokio::select! {
                status = self.child.wait() => break status,
                changed = phase.changed(), if !dropped => match changed {
                    Err(_) => {
                        dropped = true;
                        if *phase.borrow() == Phase::Closing {
                            // Dropped after a close: the graceful escalation goes on unattended.
                            next = next.or(Some((Instant::now() + self.escalation.before_term, Signal::TERM)));
                        } else {
                            // Dropped while running: kill at once.
                            next = None;
                            self.signal(Signal::KILL);
                        }
                    }
                    Ok(()) => {
                        if *phase.borrow_and_update() == Phase::Closing && next.is_none() {
                            next = Some((Instant::now() + self.escalation.before_term, Signal::TERM));
                        }
                    }
                },
                () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    let Some((_, signal)) = next.take() else { continue };
                    tracing::info!(program = %self.program, pid, ?signal, "the child did not exit in time; signalling it");
                    self.signal(signal);
                    if signal == Signal::TERM {
                        next = Some((Instant::now() + self.escalation.before_kill, Signal::KILL));
                    }
                }
            }
        };
        let stderr_tail = match self.stderr.take() {
            Some((relay, tail)) => {
                let _ = tokio::time::timeout(STDERR_DRAIN, relay).await;
                tail.snapshot()
            }
            None => Vec::new(),
        };
        match &status {
            Ok(status) => tracing::debug!(program = %self.program, pid, %status, "the child exited"),
            Err(e) => tracing::warn!(program = %self.program, pid, error = %e, "waiting for the child failed"),
        }
        let _ = exit.send(Some(Exit { status: status.map_err(|e| e.to_string()), stderr_tail }));
    }
}
