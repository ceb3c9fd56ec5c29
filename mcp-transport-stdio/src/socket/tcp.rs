//! MCP over TCP: newline-delimited JSON on a socket.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use mcp_core::{IncomingSession, SessionInfo};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

use super::limit::{LimitedAccept, Listen, ListenerConfig};
use crate::config::StdioConfig;
use crate::framing::LinesTransport;

/// One MCP session over a TCP connection.
pub type TcpTransport = LinesTransport<OwnedReadHalf, OwnedWriteHalf>;

/// TCP keepalive: how long a connection may be silent before the kernel probes the peer.
pub(crate) const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(60);
/// Keepalive probes: how far apart, and how many unanswered ones end the connection.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_PROBES: u32 = 3;

fn transport(stream: TcpStream, framing: &StdioConfig, keepalive: Option<Duration>) -> TcpTransport {
    // Requests and answers are small and latency-bound: do not wait to coalesce them.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "could not disable Nagle's algorithm");
    }
    if let Some(idle) = keepalive
        && let Err(e) = set_keepalive(&stream, idle)
    {
        tracing::debug!(error = %e, "could not enable TCP keepalive");
    }
    let (read, write) = stream.into_split();
    LinesTransport::with_config(read, write, framing)
}

/// Raw TCP has no heartbeat of its own: without keepalive, a peer that vanished (power loss,
/// a dropped NAT mapping) would hold its session, and its slot under the connection limit,
/// forever. With it, such a connection fails within about `idle` + 30 s.
#[cfg(unix)]
fn set_keepalive(stream: &TcpStream, idle: Duration) -> io::Result<()> {
    use rustix::net::sockopt;
    sockopt::set_socket_keepalive(stream, true)?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        sockopt::set_tcp_keepidle(stream, idle)?;
        sockopt::set_tcp_keepintvl(stream, KEEPALIVE_INTERVAL)?;
        sockopt::set_tcp_keepcnt(stream, KEEPALIVE_PROBES)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_keepalive(_stream: &TcpStream, _idle: Duration) -> io::Result<()> {
    Ok(())
}

/// Connects to an MCP server listening on TCP at `addr`, with the default settings.
///
/// # Errors
/// When the connection cannot be made.
pub async fn connect_tcp(addr: impl ToSocketAddrs) -> io::Result<TcpTransport> {
    connect_tcp_with(addr, &StdioConfig::default()).await
}

/// Connects to an MCP server listening on TCP at `addr`, with `config`.
///
/// # Errors
/// When the connection cannot be made.
pub async fn connect_tcp_with(addr: impl ToSocketAddrs, config: &StdioConfig) -> io::Result<TcpTransport> {
    Ok(transport(TcpStream::connect(addr).await?, config, Some(DEFAULT_KEEPALIVE)))
}

struct TcpListen {
    listener: TcpListener,
    framing: StdioConfig,
    keepalive: Option<Duration>,
}

impl Listen for TcpListen {
    type Transport = TcpTransport;

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpTransport, SessionInfo)>> {
        self.listener.poll_accept(cx).map_ok(|(stream, remote)| {
            (transport(stream, &self.framing, self.keepalive), SessionInfo::new("tcp").with_remote_addr(remote))
        })
    }
}

fn check_loopback(addr: SocketAddr, config: &ListenerConfig) -> io::Result<()> {
    if addr.ip().is_loopback() || config.allow_non_loopback {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "refusing to serve MCP on non-loopback address {addr}: raw TCP has no authentication, so anyone \
             who can connect could call every tool; listen on 127.0.0.1 or ::1, or set \
             ListenerConfig::allow_non_loopback if a firewall, tunnel or authenticating proxy protects it"
        ),
    ))
}

/// Accepts MCP sessions on a TCP socket: an [`Acceptor`](mcp_core::Acceptor), a stream of
/// [`IncomingSession`]s (transport `"tcp"`, with the peer's `remote_addr`).
///
/// At most [`ListenerConfig::max_connections`] sessions are open at once; a session's slot is
/// freed when its transport is dropped. Loopback only unless
/// [`ListenerConfig::allow_non_loopback`] says otherwise.
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use mcp_core::Message;
/// use mcp_transport_stdio::{TcpAcceptor, connect_tcp};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// let mut acceptor = TcpAcceptor::bind("127.0.0.1:0").await?;
/// let mut client = connect_tcp(acceptor.local_addr()?).await?;
/// let mut session = acceptor.next().await.unwrap();
/// client.send(Message::notification("hello", &serde_json::json!({})).unwrap()).await.unwrap();
/// let hello = session.transport.next().await.unwrap().unwrap();
/// assert_eq!(hello.method(), Some("hello"));
/// # Ok(()) }
/// ```
pub struct TcpAcceptor {
    accept: LimitedAccept<TcpListen>,
}

impl TcpAcceptor {
    /// Listens on `addr` with the default settings.
    ///
    /// # Errors
    /// When binding fails, or `addr` is not a loopback address (see
    /// [`ListenerConfig::allow_non_loopback`]).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<Self> {
        Self::bind_with(addr, ListenerConfig::default()).await
    }

    /// Listens on `addr` with `config`.
    ///
    /// # Errors
    /// As [`bind`](Self::bind).
    pub async fn bind_with(addr: impl ToSocketAddrs, config: ListenerConfig) -> io::Result<Self> {
        // Checked before binding too, so that a refused address is never opened, even briefly.
        for candidate in tokio::net::lookup_host(&addr).await? {
            check_loopback(candidate, &config)?;
        }
        Self::from_listener(TcpListener::bind(addr).await?, config)
    }

    /// Accepts on an already bound `listener`.
    ///
    /// # Errors
    /// When the listener is not on a loopback address (see
    /// [`ListenerConfig::allow_non_loopback`]).
    pub fn from_listener(listener: TcpListener, config: ListenerConfig) -> io::Result<Self> {
        let local = listener.local_addr()?;
        check_loopback(local, &config)?;
        tracing::info!(%local, max_connections = config.max_connections, "accepting MCP sessions on TCP");
        let max = config.max_connections;
        let listen = TcpListen { listener, framing: config.framing, keepalive: config.tcp_keepalive };
        Ok(Self { accept: LimitedAccept::new(listen, max) })
    }

    /// The address it listens on (with the port chosen when binding port 0).
    ///
    /// # Errors
    /// The operating system's, rarely.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.accept.listener().listener.local_addr()
    }

    /// How many accepted sessions are still open.
    pub fn open_sessions(&self) -> usize {
        self.accept.open_sessions()
    }
}

impl std::fmt::Debug for TcpAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpAcceptor").field("local_addr", &self.local_addr().ok()).finish_non_exhaustive()
    }
}

impl Stream for TcpAcceptor {
    type Item = IncomingSession;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<IncomingSession>> {
        self.accept.poll_next_session(cx)
    }
}
