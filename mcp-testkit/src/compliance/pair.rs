//! What a transport under test hands the suite: two connected ends and what it supports.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use futures::future::BoxFuture;
use mcp_core::{BoxTransport, Transport, TransportExt};

use super::Property;

/// The default bound on every wait of the suite.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time a send must stay pending to count as "the sender waits".
pub const DEFAULT_STALL: Duration = Duration::from_millis(250);

/// Writes one raw frame into the medium so that the pair's `b` end receives it, bypassing
/// `a`'s encoder: how the suite delivers malformed and oversized frames.
///
/// The injector gets the frame's *payload* (bytes that may be invalid JSON or invalid UTF-8,
/// never containing a newline) and adds the medium's framing itself: a newline for
/// newline-delimited JSON, a text frame for WebSocket, one message for a bus. The suite never
/// has a message of `a` in flight while it injects, so an injector may share `a`'s writer
/// (behind a lock) or use a second connection.
///
/// ```
/// use std::sync::Arc;
/// use mcp_testkit::compliance::RawInjector;
/// use tokio::io::AsyncWriteExt;
///
/// // The write half that carries a's bytes to b (here one end of an in-memory pipe).
/// let (to_b, _b_reads_here) = tokio::io::duplex(64 * 1024);
/// let to_b = Arc::new(tokio::sync::Mutex::new(to_b));
/// let injector = RawInjector::new(move |mut frame: Vec<u8>| {
///     let to_b = to_b.clone();
///     async move {
///         frame.push(b'\n'); // newline-delimited JSON framing
///         to_b.lock().await.write_all(&frame).await
///     }
/// });
/// # drop(injector);
/// ```
pub struct RawInjector {
    inject: Box<dyn FnMut(Vec<u8>) -> BoxFuture<'static, std::io::Result<()>> + Send>,
}

impl RawInjector {
    /// An injector from an async function taking the payload of one frame.
    pub fn new<F, Fut>(mut inject: F) -> Self
    where
        F: FnMut(Vec<u8>) -> Fut + Send + 'static,
        Fut: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        Self { inject: Box::new(move |frame| Box::pin(inject(frame))) }
    }

    /// Sends `frame` towards `b`.
    ///
    /// # Errors
    /// Whatever the medium reported.
    pub async fn inject(&mut self, frame: Vec<u8>) -> std::io::Result<()> {
        (self.inject)(frame).await
    }
}

impl fmt::Debug for RawInjector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawInjector").finish_non_exhaustive()
    }
}

/// Two connected ends of a transport under test, and what the transport supports.
///
/// `a` and `b` are peers: what one sends, the other receives. Build one per property (the
/// suite calls the factory once per property) with [`TransportPair::new`] and the `with_*`
/// methods, and declare with [`unsupported`](Self::unsupported) each property the transport
/// cannot have, with the reason the report prints.
pub struct TransportPair {
    /// One end (for client/server transports, usually the client).
    pub a: BoxTransport,
    /// The other end.
    pub b: BoxTransport,
    pub(crate) raw_to_b: Option<RawInjector>,
    pub(crate) max_message_bytes: Option<usize>,
    pub(crate) max_buffered_bytes: Option<usize>,
    pub(crate) unsupported: Vec<(Property, String)>,
    pub(crate) timeout: Duration,
    pub(crate) stall: Duration,
    /// Whatever must outlive the transports (a server, a runtime guard, a temp dir).
    _keep_alive: Vec<Box<dyn Any + Send>>,
}

impl TransportPair {
    /// A pair of connected ends.
    pub fn new(a: impl Transport, b: impl Transport) -> Self {
        Self {
            a: a.boxed(),
            b: b.boxed(),
            raw_to_b: None,
            max_message_bytes: None,
            max_buffered_bytes: None,
            unsupported: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            stall: DEFAULT_STALL,
            _keep_alive: Vec::new(),
        }
    }

    /// Gives the suite a way to write raw frames to `b` (needed by
    /// [`Property::MalformedFrame`], used by [`Property::OversizedFrame`] when given).
    #[must_use]
    pub fn with_raw_injector(mut self, injector: RawInjector) -> Self {
        self.raw_to_b = Some(injector);
        self
    }

    /// `b`'s receive limit in bytes of one message (needed by [`Property::OversizedFrame`]).
    ///
    /// Configure the transport with a small limit (a few KiB) so the test stays fast.
    #[must_use]
    pub fn with_max_message_bytes(mut self, limit: usize) -> Self {
        self.max_message_bytes = Some(limit);
        self
    }

    /// How many bytes of messages may be accepted by `a`'s sink while `b` does not read,
    /// counting every buffer on the way (channels, socket buffers of both ends, the broker):
    /// needed by [`Property::Backpressure`]. The suite fails when `a` accepts more.
    #[must_use]
    pub fn with_buffer_bound(mut self, max_buffered_bytes: usize) -> Self {
        self.max_buffered_bytes = Some(max_buffered_bytes);
        self
    }

    /// Declares that the transport does not have `property`, and why; the report prints it.
    #[must_use]
    pub fn unsupported(mut self, property: Property, reason: impl Into<String>) -> Self {
        self.unsupported.push((property, reason.into()));
        self
    }

    /// Bounds every wait of the suite (10 s by default).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a send must stay pending to count as waiting (250 ms by default); raise it for
    /// a medium whose buffers drain slowly into the peer.
    #[must_use]
    pub fn with_stall(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }

    /// Keeps `value` alive as long as the pair (a server the transports connect through).
    #[must_use]
    pub fn keep_alive(mut self, value: impl Any + Send) -> Self {
        self._keep_alive.push(Box::new(value));
        self
    }

    /// Why the pair declared `property` unsupported, if it did.
    pub fn unsupported_reason(&self, property: Property) -> Option<&str> {
        self.unsupported.iter().find(|(p, _)| *p == property).map(|(_, reason)| reason.as_str())
    }
}

impl fmt::Debug for TransportPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportPair")
            .field("raw_to_b", &self.raw_to_b.is_some())
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("unsupported", &self.unsupported)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
