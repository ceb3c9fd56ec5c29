//! Newline-delimited JSON over TCP and Unix sockets: connectors, and acceptors that serve many
//! sessions with a bound on how many run at once.

mod limit;
mod tcp;
#[cfg(unix)]
mod unix;

pub use limit::ListenerConfig;
pub use tcp::{TcpAcceptor, TcpTransport, connect_tcp, connect_tcp_with};
#[cfg(unix)]
pub use unix::{UnixAcceptor, UnixTransport, connect_unix, connect_unix_with};
