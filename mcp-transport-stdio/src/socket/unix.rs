//! MCP over Unix domain sockets: newline-delimited JSON on a local stream socket.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use mcp_core::{IncomingSession, SessionInfo};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf, UCred};
use tokio::net::{UnixListener, UnixStream};

use super::limit::{LimitedAccept, Listen, ListenerConfig};
use crate::config::StdioConfig;
use crate::framing::LinesTransport;

/// One MCP session over a Unix socket connection.
pub type UnixTransport = LinesTransport<OwnedReadHalf, OwnedWriteHalf>;

fn transport(stream: UnixStream, framing: &StdioConfig) -> UnixTransport {
    let (read, write) = stream.into_split();
    LinesTransport::with_config(read, write, framing)
}

/// Connects to an MCP server listening on the Unix socket at `path`, with the default settings.
///
/// # Errors
/// When the connection cannot be made.
pub async fn connect_unix(path: impl AsRef<Path>) -> io::Result<UnixTransport> {
    connect_unix_with(path, &StdioConfig::default()).await
}

/// Connects to an MCP server listening on the Unix socket at `path`, with `config`.
///
/// # Errors
/// When the connection cannot be made.
pub async fn connect_unix_with(path: impl AsRef<Path>, config: &StdioConfig) -> io::Result<UnixTransport> {
    Ok(transport(UnixStream::connect(path).await?, config))
}

struct UnixListen {
    listener: UnixListener,
    framing: StdioConfig,
    /// The socket file we created, removed again on drop.
    path: Option<PathBuf>,
}

impl Listen for UnixListen {
    type Transport = UnixTransport;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixTransport, SessionInfo)>> {
        self.listener.poll_accept(cx).map_ok(|(stream, _)| {
            let mut info = SessionInfo::new("unix");
            match stream.peer_cred() {
                Ok(cred) => {
                    info.extensions.insert::<UCred>(cred);
                }
                Err(e) => tracing::debug!(error = %e, "could not read the peer's credentials"),
            }
            (transport(stream, &self.framing), info)
        })
    }
}

impl Drop for UnixListen {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Accepts MCP sessions on a Unix socket: an [`Acceptor`](mcp_core::Acceptor), a stream of
/// [`IncomingSession`]s (transport `"unix"`, the peer's credentials as a
/// [`UCred`] in the session's extensions).
///
/// The socket file is created with [`ListenerConfig::unix_socket_mode`] (`0o600` by default)
/// and removed when the acceptor is dropped. A stale socket file (no one listening) is
/// replaced; a live one is an error. At most [`ListenerConfig::max_connections`] sessions are
/// open at once.
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use mcp_core::Message;
/// use mcp_transport_stdio::{UnixAcceptor, connect_unix};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("mcp.sock");
/// let mut acceptor = UnixAcceptor::bind(&path)?;
/// let mut client = connect_unix(&path).await?;
/// let mut session = acceptor.next().await.unwrap();
/// client.send(Message::notification("hello", &serde_json::json!({})).unwrap()).await.unwrap();
/// assert_eq!(session.transport.next().await.unwrap().unwrap().method(), Some("hello"));
/// # Ok(()) }
/// ```
pub struct UnixAcceptor {
    accept: LimitedAccept<UnixListen>,
}

impl UnixAcceptor {
    /// Listens on `path` with the default settings.
    ///
    /// # Errors
    /// When another server listens on `path`, binding fails, or it is called outside a tokio
    /// runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<Self> {
        Self::bind_with(path, ListenerConfig::default())
    }

    /// Listens on `path` with `config`.
    ///
    /// # Errors
    /// As [`bind`](Self::bind).
    pub fn bind_with(path: impl AsRef<Path>, config: ListenerConfig) -> io::Result<Self> {
        crate::runtime::require("UnixAcceptor::bind")?;
        let path = path.as_ref();
        let listener = match UnixListener::bind(path) {
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => match std::os::unix::net::UnixStream::connect(path) {
                Err(refused) if refused.kind() == io::ErrorKind::ConnectionRefused => {
                    tracing::info!(path = %path.display(), "replacing a stale socket file");
                    std::fs::remove_file(path)?;
                    UnixListener::bind(path)?
                }
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!("another server is already listening on {}", path.display()),
                    ));
                }
            },
            other => other?,
        };
        // Owned first, so that the socket file is removed again if the next step fails.
        let listen = UnixListen { listener, framing: config.framing, path: Some(path.to_owned()) };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(config.unix_socket_mode))?;
        tracing::info!(path = %path.display(), max_connections = config.max_connections, "accepting MCP sessions on a Unix socket");
        Ok(Self { accept: LimitedAccept::new(listen, config.max_connections) })
    }

    /// Accepts on an already bound `listener` (whose socket file is left alone on drop).
    pub fn from_listener(listener: UnixListener, config: ListenerConfig) -> Self {
        let max = config.max_connections;
        Self { accept: LimitedAccept::new(UnixListen { listener, framing: config.framing, path: None }, max) }
    }

    /// The path it listens on, when it has one.
    pub fn local_path(&self) -> Option<PathBuf> {
        let addr = self.accept.listener().listener.local_addr().ok()?;
        addr.as_pathname().map(Path::to_owned)
    }

    /// How many accepted sessions are still open.
    pub fn open_sessions(&self) -> usize {
        self.accept.open_sessions()
    }
}

impl std::fmt::Debug for UnixAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixAcceptor").field("path", &self.local_path()).finish_non_exhaustive()
    }
}

impl Stream for UnixAcceptor {
    type Item = IncomingSession;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<IncomingSession>> {
        self.accept.poll_next_session(cx)
    }
}
