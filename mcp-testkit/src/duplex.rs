//! In-memory transport pairs: the fastest way to connect a client and a server in a test.

use mcp_core::memory::{self, MemoryTransport};
use mcp_core::{IncomingSession, Principal, SessionInfo};

/// The transport name in the [`SessionInfo`] of sessions made by [`duplex_with_principal`].
pub const TRANSPORT_NAME: &str = "memory";

/// Two linked in-memory transports on bounded channels: what one sends, the other receives.
///
/// Each direction holds at most about `capacity` messages; a sender beyond that waits (the
/// backpressure of a socket whose peer does not read). Dropping or closing one end ends the
/// other's stream with `None`. This is [`mcp_core::memory::pair`].
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use mcp_core::Message;
///
/// # futures::executor::block_on(async {
/// let (mut client, mut server) = mcp_testkit::duplex(16);
/// client.send(Message::notification("hello", &serde_json::json!({})).unwrap()).await.unwrap();
/// assert_eq!(server.next().await.unwrap().unwrap().method(), Some("hello"));
/// # });
/// ```
pub fn duplex(capacity: usize) -> (MemoryTransport, MemoryTransport) {
    memory::pair(capacity)
}

/// Like [`duplex`], with the server end wrapped as an [`IncomingSession`] authenticated as
/// `principal`: for testing tool-level authorization without a real authenticating transport.
///
/// Returns `(client_transport, server_session)`; the session's [`SessionInfo::transport`] is
/// [`TRANSPORT_NAME`].
///
/// ```
/// use mcp_core::Principal;
///
/// let (_client, session) = mcp_testkit::duplex_with_principal(16, Principal::new("alice").with_tools(["echo"]));
/// let principal = session.info.principal.as_ref().unwrap();
/// assert!(principal.may_use_tool("echo") && !principal.may_use_tool("delete"));
/// ```
pub fn duplex_with_principal(capacity: usize, principal: Principal) -> (MemoryTransport, IncomingSession) {
    let (client, server) = memory::pair(capacity);
    let info = SessionInfo::new(TRANSPORT_NAME).with_principal(principal);
    (client, IncomingSession::new(server, info))
}
