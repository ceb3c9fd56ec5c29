//! The one thing every constructor here needs: a tokio runtime with I/O, to register pipes,
//! sockets and child processes with.

use std::io;

/// An error instead of tokio's panic when `what` is called outside a runtime.
pub(crate) fn require(what: &str) -> io::Result<()> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Ok(()),
        Err(_) => Err(io::Error::other(format!(
            "{what} must be called inside a tokio runtime (with I/O enabled), e.g. from #[tokio::main]"
        ))),
    }
}
