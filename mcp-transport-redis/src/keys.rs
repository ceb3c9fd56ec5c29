//! The names of every channel, stream and key; the layout is documented in the crate docs.

use bytes::Bytes;

/// The naming scheme of one service: `{prefix}:{service}:...`.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    base: String,
}

/// The names belonging to one session.
#[derive(Debug, Clone)]
pub(crate) struct SessionKeys {
    /// Where the client sends (a channel or a stream).
    pub(crate) to_server: Bytes,
    /// Where the server sends.
    pub(crate) to_client: Bytes,
    /// The owner key: the instance that took the session and the session's principal; doubles as
    /// the server's liveness key.
    pub(crate) owner: Bytes,
    /// The client's liveness key.
    pub(crate) client: Bytes,
}

impl Keys {
    pub(crate) fn new(prefix: &str, service: &str) -> Self {
        Self { base: format!("{prefix}:{service}") }
    }

    /// The channel on which clients announce new sessions.
    pub(crate) fn connect_channel(&self) -> Bytes {
        Bytes::from(format!("{}:connect", self.base))
    }

    /// The sorted set of live instances accepting sessions in `mode` (score: registration
    /// expiry, ms since the epoch).
    pub(crate) fn instances(&self, mode: &str) -> Bytes {
        Bytes::from(format!("{}:instances:{mode}", self.base))
    }

    pub(crate) fn session(&self, id: &str) -> SessionKeys {
        let s = format!("{}:session:{id}", self.base);
        SessionKeys {
            to_server: Bytes::from(format!("{s}:to-server")),
            to_client: Bytes::from(format!("{s}:to-client")),
            owner: Bytes::from(format!("{s}:owner")),
            client: Bytes::from(format!("{s}:client")),
        }
    }
}

/// A random identifier (128 bits, hex) for sessions and instances.
pub(crate) fn random_id() -> String {
    let n: u128 = rand::random();
    format!("{n:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_prefix_service_then_role() {
        let keys = Keys::new("mcp", "everything");
        assert_eq!(keys.connect_channel(), "mcp:everything:connect");
        let s = keys.session("abc");
        assert_eq!(s.to_server, "mcp:everything:session:abc:to-server");
        assert_eq!(s.to_client, "mcp:everything:session:abc:to-client");
        assert_eq!(s.owner, "mcp:everything:session:abc:owner");
        assert_eq!(s.client, "mcp:everything:session:abc:client");
        assert_eq!(keys.instances("durable"), "mcp:everything:instances:durable");
        assert_eq!(random_id().len(), 32);
        assert_ne!(random_id(), random_id());
    }
}
