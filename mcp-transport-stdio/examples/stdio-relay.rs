//! Relays bytes between its stdin/stdout and a Unix socket: `stdio-relay /path/to/socket`.
//!
//! A test fixture: it lets a test hold the far end of a [`ChildProcessTransport`]
//! (`mcp_transport_stdio::ChildProcessTransport`) as a socket, so that the compliance suite
//! can drive a real child process from both sides. End of input on the socket ends the
//! process with status 0; end of input on stdin shuts the socket's sending side.

use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let path = std::env::args().nth(1).expect("usage: stdio-relay <unix socket path>");
    let (mut from_socket, mut to_socket) = UnixStream::connect(path).await?.into_split();
    let mut stdout = tokio::io::stdout();
    let upstream = async move {
        tokio::io::copy(&mut tokio::io::stdin(), &mut to_socket).await?;
        to_socket.shutdown().await?;
        // Stay until the socket side ends the process.
        std::future::pending::<std::io::Result<()>>().await
    };
    let downstream = async move {
        tokio::io::copy(&mut from_socket, &mut stdout).await?;
        stdout.flush().await
    };
    tokio::select! {
        result = upstream => result?,
        result = downstream => result?,
    }
    // Not waiting for the blocking stdin read, which only the parent can end.
    std::process::exit(0)
}
