//! Connection-level settings shared by the server and the client: size limit, heartbeat, close.

use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The default largest message: 16 MiB (as the stdio and socket transports).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = mcp_core::codec::DEFAULT_MAX_MESSAGE_BYTES;

/// Settings of one WebSocket connection, on either side.
///
/// Every field has a safe default; change what you need:
///
/// ```
/// use std::time::Duration;
/// use mcp_transport_ws::WsConfig;
///
/// let config = WsConfig::default()
///     .with_max_message_bytes(1 << 20)
///     .with_heartbeat(Some(Duration::from_secs(15)), Duration::from_secs(5));
/// assert_eq!(config.max_message_bytes, 1 << 20);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WsConfig {
    /// The largest message (and frame) accepted from the peer, in bytes. A larger one closes
    /// the connection with 1009 (Message Too Big). Default 16 MiB.
    pub max_message_bytes: usize,
    /// How often to send a ping when nothing was received in that time; `None` disables the
    /// heartbeat. Default 30 s.
    pub ping_interval: Option<Duration>,
    /// How long to wait for any frame (typically the pong) after a ping before declaring the
    /// connection dead (a half-open TCP connection). Default 10 s.
    pub pong_timeout: Duration,
    /// How long a close waits for the peer's close frame (or, after an oversized message, for
    /// the rest of it to be discarded) before dropping the TCP connection. Default 2 s.
    pub close_timeout: Duration,
    /// Initial read buffer per connection. Larger buffers read big messages in fewer system
    /// calls; smaller ones keep idle connections cheap. Default 8 KiB.
    pub read_buffer_bytes: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            ping_interval: Some(Duration::from_secs(30)),
            pong_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
            read_buffer_bytes: 8 * 1024,
        }
    }
}

impl WsConfig {
    /// Sets [`max_message_bytes`](Self::max_message_bytes) (at least 1).
    #[must_use]
    pub fn with_max_message_bytes(mut self, max: usize) -> Self {
        self.max_message_bytes = max.max(1);
        self
    }

    /// Sets the heartbeat: ping every `ping_interval` of silence (`None`: never), and give up
    /// when nothing arrives within `pong_timeout` of a ping.
    #[must_use]
    pub fn with_heartbeat(mut self, ping_interval: Option<Duration>, pong_timeout: Duration) -> Self {
        self.ping_interval = ping_interval;
        self.pong_timeout = pong_timeout;
        self
    }

    /// Sets [`close_timeout`](Self::close_timeout).
    #[must_use]
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`read_buffer_bytes`](Self::read_buffer_bytes) (at least 1 KiB).
    #[must_use]
    pub fn with_read_buffer_bytes(mut self, bytes: usize) -> Self {
        self.read_buffer_bytes = bytes.max(1024);
        self
    }

    /// The tungstenite settings these translate to.
    pub(crate) fn tungstenite(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_bytes)
            // Every frame goes to the socket as soon as it is sent: an RPC transport wants
            // latency, and nothing sits in a buffer that a heartbeat ping would wait behind.
            .write_buffer_size(0)
            // Backpressure reaches the caller (poll_ready) long before this; it only bounds a
            // peer that stops reading while pings and pongs queue up.
            .max_write_buffer_size(self.max_message_bytes.saturating_mul(2).max(1 << 20))
            .max_message_size(Some(self.max_message_bytes))
            .max_frame_size(Some(self.max_message_bytes))
    }
}
