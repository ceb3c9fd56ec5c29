//! Async reading and writing on an owned file descriptor of unknown kind (what fd 0 and fd 1
//! turn out to be): event-driven for pipes and sockets, a blocking thread for anything else.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use rustix::fs::FileType;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;
use tokio::net::unix::pipe;

/// What an inherited descriptor is, which decides how it can be driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FdKind {
    /// An anonymous pipe or FIFO (Python's `subprocess`, shells).
    Pipe,
    /// A socket (Node's `child_process` hands its children socketpairs).
    Socket,
    /// A terminal, a regular file, `/dev/null`: no readiness events, so a blocking thread.
    Other,
}

impl FdKind {
    pub(crate) fn of(fd: BorrowedFd<'_>) -> io::Result<Self> {
        let stat = rustix::fs::fstat(fd)?;
        Ok(match FileType::from_raw_mode(stat.st_mode) {
            FileType::Fifo => Self::Pipe,
            FileType::Socket => Self::Socket,
            _ => Self::Other,
        })
    }

    /// Whether driving a descriptor of this kind switches its open file description to
    /// non-blocking mode (which whoever restores the descriptor must undo).
    pub(crate) fn sets_nonblocking(self) -> bool {
        matches!(self, Self::Pipe | Self::Socket)
    }
}

fn unix_stream(fd: OwnedFd) -> io::Result<UnixStream> {
    let std = std::os::unix::net::UnixStream::from(fd);
    std.set_nonblocking(true)?;
    UnixStream::from_std(std)
}

// ===== FdReader =====

/// The read side of an inherited descriptor.
#[derive(Debug)]
pub(crate) enum FdReader {
    Pipe(pipe::Receiver),
    Socket(UnixStream),
    Blocking(tokio::fs::File),
}

impl FdReader {
    /// Takes `fd` for reading. Must be called within a tokio runtime.
    pub(crate) fn new(fd: OwnedFd, kind: FdKind) -> io::Result<Self> {
        Ok(match kind {
            FdKind::Pipe => Self::Pipe(pipe::Receiver::from_owned_fd(fd)?),
            FdKind::Socket => Self::Socket(unix_stream(fd)?),
            FdKind::Other => Self::Blocking(tokio::fs::File::from_std(fd.into())),
        })
    }
}

impl AsyncRead for FdReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Pipe(p) => Pin::new(p).poll_read(cx, buf),
            Self::Socket(s) => Pin::new(s).poll_read(cx, buf),
            Self::Blocking(f) => Pin::new(f).poll_read(cx, buf),
        }
    }
}

// ===== FdWriter =====

/// The write side of an inherited descriptor.
#[derive(Debug)]
pub(crate) enum FdWriter {
    Pipe(pipe::Sender),
    Socket(UnixStream),
    Blocking(tokio::fs::File),
}

impl FdWriter {
    /// Takes `fd` for writing. Must be called within a tokio runtime.
    pub(crate) fn new(fd: OwnedFd, kind: FdKind) -> io::Result<Self> {
        Ok(match kind {
            FdKind::Pipe => Self::Pipe(pipe::Sender::from_owned_fd(fd)?),
            FdKind::Socket => Self::Socket(unix_stream(fd)?),
            FdKind::Other => Self::Blocking(tokio::fs::File::from_std(fd.into())),
        })
    }
}

impl AsyncWrite for FdWriter {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Pipe(p) => Pin::new(p).poll_write(cx, buf),
            Self::Socket(s) => Pin::new(s).poll_write(cx, buf),
            Self::Blocking(f) => Pin::new(f).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Pipe(p) => Pin::new(p).poll_flush(cx),
            Self::Socket(s) => Pin::new(s).poll_flush(cx),
            Self::Blocking(f) => Pin::new(f).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Pipe(p) => Pin::new(p).poll_shutdown(cx),
            // Only flush: shutting the socket down would also end it for the parent's other
            // users of the same description, and closing our descriptor is what signals the end.
            Self::Socket(s) => Pin::new(s).poll_flush(cx),
            Self::Blocking(f) => Pin::new(f).poll_shutdown(cx),
        }
    }
}
