//! Taking over the process's stdin and stdout for MCP frames, so that nothing else reaches them.
//!
//! While a [`StdioGuard`] lives, descriptor 1 points at stderr and descriptor 0 at `/dev/null`:
//! a stray `println!` (ours or a library's) lands in the log instead of corrupting the protocol
//! stream, and a child process that inherits stdin cannot steal the client's bytes. The frames
//! travel on private close-on-exec duplicates of the original descriptors.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{Mode, OFlags};

use super::fd_io::FdKind;

/// Whether some guard currently owns the process's stdio: there is one stdin and one stdout.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The lowest descriptor number for our duplicates, so that they never take 0, 1 or 2.
const FIRST_PRIVATE_FD: i32 = 3;

/// Owns the redirection of fd 0 and fd 1; dropping it puts the original descriptors back.
#[derive(Debug)]
pub(crate) struct StdioGuard {
    original_stdin: OwnedFd,
    original_stdout: OwnedFd,
    stdin_kind: FdKind,
    stdout_kind: FdKind,
}

/// What the guard hands out: descriptors for the frames, and their kinds.
#[derive(Debug)]
pub(crate) struct StdioFds {
    pub(crate) input: OwnedFd,
    pub(crate) input_kind: FdKind,
    pub(crate) output: OwnedFd,
    pub(crate) output_kind: FdKind,
}

impl StdioGuard {
    /// Redirects fd 0 and fd 1 and returns private duplicates of the originals.
    ///
    /// # Errors
    /// `AlreadyExists` when another guard is alive; any error of `dup`/`dup2`/`open`, after
    /// which nothing has changed.
    pub(crate) fn install() -> io::Result<(Self, StdioFds)> {
        if TAKEN.swap(true, Ordering::AcqRel) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "stdin/stdout are already serving an MCP session in this process; \
                 drop the first StdioTransport before creating another",
            ));
        }
        match Self::redirect() {
            Ok(ok) => Ok(ok),
            Err(e) => {
                TAKEN.store(false, Ordering::Release);
                Err(e)
            }
        }
    }

    fn redirect() -> io::Result<(Self, StdioFds)> {
        let stdin = io::stdin();
        let stdout = io::stdout();
        let dup = |fd| rustix::io::fcntl_dupfd_cloexec(fd, FIRST_PRIVATE_FD);
        let original_stdin = dup(stdin.as_fd())?;
        let original_stdout = dup(stdout.as_fd())?;
        let input = dup(stdin.as_fd())?;
        let output = dup(stdout.as_fd())?;
        let stdin_kind = FdKind::of(input.as_fd())?;
        let stdout_kind = FdKind::of(output.as_fd())?;
        let null = rustix::fs::open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;

        rustix::stdio::dup2_stdout(io::stderr().as_fd())?;
        if let Err(e) = rustix::stdio::dup2_stdin(&null) {
            let _ = rustix::stdio::dup2_stdout(&original_stdout);
            return Err(e.into());
        }
        let guard = Self { original_stdin, original_stdout, stdin_kind, stdout_kind };
        Ok((guard, StdioFds { input, input_kind: stdin_kind, output, output_kind: stdout_kind }))
    }
}

impl Drop for StdioGuard {
    fn drop(&mut self) {
        // Event-driven I/O switched the shared descriptions to non-blocking mode; a blocking
        // `println!` after us must not meet `EAGAIN`.
        if self.stdin_kind.sets_nonblocking() {
            let _ = rustix::io::ioctl_fionbio(&self.original_stdin, false);
        }
        if self.stdout_kind.sets_nonblocking() {
            let _ = rustix::io::ioctl_fionbio(&self.original_stdout, false);
        }
        let restored_out = rustix::stdio::dup2_stdout(&self.original_stdout);
        let restored_in = rustix::stdio::dup2_stdin(&self.original_stdin);
        if let Err(e) = restored_out.and(restored_in) {
            tracing::warn!(error = %e, "could not restore stdin/stdout after serving MCP on them");
        }
        TAKEN.store(false, Ordering::Release);
    }
}
