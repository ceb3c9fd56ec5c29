//! Serving MCP on the process's own stdin and stdout.

mod fd_io;
mod guard;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Sink, Stream};
use mcp_core::{IncomingSession, Message, SessionInfo, TransportError};

use crate::config::StdioConfig;
use crate::framing::LinesTransport;
use fd_io::{FdReader, FdWriter};
use guard::StdioGuard;

/// The process's stdin and stdout as an MCP transport, with the default settings.
///
/// See [`StdioTransport`]. Call it early, before other code writes to stdout.
///
/// # Errors
/// `AlreadyExists` if a [`StdioTransport`] is already alive in this process; an error saying so
/// outside a tokio runtime; the operating system's error when the descriptors cannot be
/// duplicated or redirected.
pub fn stdio() -> io::Result<StdioTransport> {
    StdioTransport::with_config(&StdioConfig::default())
}

/// The process's stdin and stdout, carrying MCP messages: the server side of the MCP stdio
/// transport.
///
/// While it lives, nothing else can reach the client: file descriptor 1 points at stderr, so
/// `println!` from the program or a library goes to the log, and descriptor 0 reads
/// `/dev/null`, so a child process that inherits stdin cannot consume the client's messages.
/// Frames travel on private (close-on-exec) duplicates of the original descriptors. Dropping
/// the transport puts descriptors 0 and 1 back.
///
/// Pipes and sockets (what the Python and TypeScript SDKs hand their servers) are driven by
/// readiness events, which switches them to non-blocking mode while serving (restored on
/// drop); a terminal or regular file falls back to a blocking thread.
///
/// When the client closes stdin the stream ends (`None`) while the sink keeps working, so a
/// session can finish the responses it owes and then return.
///
/// ```no_run
/// use futures::{SinkExt, StreamExt};
/// use mcp_core::Message;
///
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let mut transport = mcp_transport_stdio::stdio()?;
/// println!("this goes to stderr, never to the client");
/// while let Some(item) = transport.next().await {
///     match item {
///         Ok(Message::Request(req)) => {
///             let reply = Message::response(req.id, &serde_json::json!({})).unwrap();
///             transport.send(reply).await.unwrap();
///         }
///         Ok(_) => {}
///         Err(e) => match e.error_response() {
///             Some(answer) => transport.send(answer).await.unwrap(),
///             None => break, // fatal
///         },
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct StdioTransport {
    // Declared before the guard: the frame descriptors close before fd 0 and 1 are restored.
    inner: LinesTransport<FdReader, FdWriter>,
    _guard: StdioGuard,
}

impl StdioTransport {
    /// Takes over stdin and stdout with `config`; see [`stdio`].
    ///
    /// # Errors
    /// As [`stdio`].
    pub fn with_config(config: &StdioConfig) -> io::Result<Self> {
        crate::runtime::require("mcp_transport_stdio::stdio()")?;
        let (guard, fds) = StdioGuard::install()?;
        let reader = FdReader::new(fds.input, fds.input_kind)?;
        let writer = FdWriter::new(fds.output, fds.output_kind)?;
        tracing::debug!(stdin = ?fds.input_kind, stdout = ?fds.output_kind, "serving MCP on stdio");
        Ok(Self { inner: LinesTransport::with_config(reader, writer, config), _guard: guard })
    }

    /// This transport as a session (transport name `"stdio"`), for a server's `serve_session`.
    pub fn into_session(self) -> IncomingSession {
        IncomingSession::new(self, SessionInfo::new("stdio"))
    }
}

impl Stream for StdioTransport {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl Sink<Message> for StdioTransport {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.inner).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        Pin::new(&mut self.inner).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
