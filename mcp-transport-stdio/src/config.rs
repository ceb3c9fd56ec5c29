//! The settings shared by every transport of this crate.

use mcp_core::codec::DEFAULT_MAX_MESSAGE_BYTES;

/// Limits and buffering for newline-delimited JSON over a byte stream.
///
/// One configuration serves stdio, child processes and sockets alike. Build it with
/// [`StdioConfig::default`] and the `with_*` methods:
///
/// ```
/// use mcp_transport_stdio::StdioConfig;
///
/// let config = StdioConfig::default().with_max_message_bytes(1 << 20);
/// assert_eq!(config.max_message_bytes, 1 << 20);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StdioConfig {
    /// The largest message accepted from the peer, in bytes, not counting the newline
    /// (default 16 MiB). A longer line is skipped without being buffered whole and reported as
    /// a non-fatal [`TransportError::MessageTooLarge`](mcp_core::TransportError::MessageTooLarge)
    /// naming this setting; the stream goes on.
    pub max_message_bytes: usize,
    /// How many encoded bytes the sink may hold before `poll_ready` waits for the medium to
    /// take them (default 64 KiB). This is the backpressure point: a peer that stops reading
    /// makes the sender wait once this much is queued, never grows memory without bound.
    pub write_buffer_bytes: usize,
}

impl Default for StdioConfig {
    fn default() -> Self {
        Self { max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES, write_buffer_bytes: 64 * 1024 }
    }
}

impl StdioConfig {
    /// The name under which error messages refer to [`max_message_bytes`](Self::max_message_bytes).
    pub const MAX_MESSAGE_BYTES_SETTING: &'static str = "StdioConfig::max_message_bytes";

    /// Sets [`max_message_bytes`](Self::max_message_bytes) (at least 1).
    #[must_use]
    pub fn with_max_message_bytes(mut self, max: usize) -> Self {
        self.max_message_bytes = max.max(1);
        self
    }

    /// Sets [`write_buffer_bytes`](Self::write_buffer_bytes).
    #[must_use]
    pub fn with_write_buffer_bytes(mut self, bytes: usize) -> Self {
        self.write_buffer_bytes = bytes;
        self
    }
}
