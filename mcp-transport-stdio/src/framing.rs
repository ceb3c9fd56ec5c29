//! Newline-delimited JSON over any tokio byte stream: the framing every transport here shares.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures::{Sink, Stream};
use mcp_core::codec::LineCodec;
use mcp_core::{Message, TransportError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

use crate::config::StdioConfig;

// ===== JsonLinesCodec =====

/// [`mcp_core::codec::LineCodec`] as a tokio-util [`Decoder`] and [`Encoder`].
///
/// Decoding yields `Ok(Ok(message))` for a message and `Ok(Err(frame_error))` for one bad line
/// (malformed JSON, invalid UTF-8, over the size limit), so that `FramedRead` goes on after it;
/// only an I/O error comes out as the decoder's own `Err`, which ends the stream.
#[derive(Debug, Clone)]
pub struct JsonLinesCodec {
    lines: LineCodec,
}

impl JsonLinesCodec {
    /// A codec with the limits of `config`.
    pub fn new(config: &StdioConfig) -> Self {
        let lines = LineCodec::new()
            .with_max_message_bytes(config.max_message_bytes)
            .with_setting_name(StdioConfig::MAX_MESSAGE_BYTES_SETTING);
        Self { lines }
    }
}

impl Default for JsonLinesCodec {
    fn default() -> Self {
        Self::new(&StdioConfig::default())
    }
}

impl Decoder for JsonLinesCodec {
    type Item = Result<Message, TransportError>;
    type Error = TransportError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, TransportError> {
        Ok(self.lines.decode(src))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, TransportError> {
        Ok(self.lines.decode_eof(src))
    }
}

impl Encoder<Message> for JsonLinesCodec {
    type Error = TransportError;

    fn encode(&mut self, msg: Message, dst: &mut BytesMut) -> Result<(), TransportError> {
        self.lines.encode(&msg, dst);
        Ok(())
    }
}

// ===== LinesTransport =====

pin_project_lite::pin_project! {
    /// An MCP [`Transport`](mcp_core::Transport) over a tokio reader and writer: one JSON-RPC
    /// message per line.
    ///
    /// Receiving: a malformed line, invalid UTF-8 or a line over
    /// [`StdioConfig::max_message_bytes`] is a non-fatal error item and the stream goes on;
    /// end of input ends the stream (`None`); a read error is a fatal
    /// [`TransportError::Io`] item, then `None`.
    ///
    /// Sending: `send` writes and flushes the message; `feed` lets several messages share one
    /// write, up to [`StdioConfig::write_buffer_bytes`], after which `poll_ready` waits for the
    /// writer (backpressure: a peer that does not read stops the sender). `close` flushes and
    /// shuts the writer down (for a socket, the peer reads end of input).
    ///
    /// # Cancel safety
    /// Receiving is cancel-safe: a partly read line stays in the transport's buffer, so a
    /// dropped `next()` future loses nothing.
    pub struct LinesTransport<R, W> {
        #[pin]
        reader: FramedRead<R, JsonLinesCodec>,
        #[pin]
        writer: FramedWrite<W, JsonLinesCodec>,
        // FramedRead would try to read again after its end; a transport's stream stays ended.
        read_done: bool,
        // After a close, sends fail with `Closed` rather than reach a shut-down writer.
        closed: bool,
    }
}

impl<R: AsyncRead, W: AsyncWrite> LinesTransport<R, W> {
    /// A transport reading from `reader` and writing to `writer`, with the default settings.
    pub fn new(reader: R, writer: W) -> Self {
        Self::with_config(reader, writer, &StdioConfig::default())
    }

    /// A transport reading from `reader` and writing to `writer`, with `config`.
    pub fn with_config(reader: R, writer: W, config: &StdioConfig) -> Self {
        let codec = JsonLinesCodec::new(config);
        let reader = FramedRead::new(reader, codec.clone());
        let mut writer = FramedWrite::new(writer, codec);
        writer.set_backpressure_boundary(config.write_buffer_bytes);
        Self { reader, writer, read_done: false, closed: false }
    }

    /// The reader.
    pub fn reader(&self) -> &R {
        self.reader.get_ref()
    }

    /// The writer.
    pub fn writer(&self) -> &W {
        self.writer.get_ref()
    }

    /// The writer, mutably. Writing to it directly would interleave with queued frames.
    pub fn writer_mut(&mut self) -> &mut W {
        self.writer.get_mut()
    }

    /// The reader and the writer, giving up whatever is buffered.
    pub fn into_inner(self) -> (R, W) {
        (self.reader.into_inner(), self.writer.into_inner())
    }
}

impl<R, W> fmt::Debug for LinesTransport<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinesTransport").field("read_done", &self.read_done).finish_non_exhaustive()
    }
}

impl<R: AsyncRead, W> Stream for LinesTransport<R, W> {
    type Item = Result<Message, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.read_done {
            return Poll::Ready(None);
        }
        let item = match this.reader.poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => None,
            Poll::Ready(Some(Ok(frame))) => Some(frame),
            Poll::Ready(Some(Err(fatal))) => Some(Err(fatal)),
        };
        if item.as_ref().is_none_or(|r| r.as_ref().is_err_and(TransportError::is_fatal)) {
            *this.read_done = true;
        }
        Poll::Ready(item)
    }
}

impl<R, W: AsyncWrite> Sink<Message> for LinesTransport<R, W> {
    type Error = TransportError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.project();
        if *this.closed {
            return Poll::Ready(Err(TransportError::Closed));
        }
        this.writer.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        let this = self.project();
        if *this.closed {
            return Err(TransportError::Closed);
        }
        this.writer.start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.project().writer.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        let this = self.project();
        let result = std::task::ready!(this.writer.poll_close(cx));
        *this.closed = true;
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{SinkExt, StreamExt};
    use tokio::io::AsyncWriteExt;

    fn request(id: i64) -> Message {
        Message::request(id, "tools/list", &serde_json::json!({})).unwrap()
    }

    #[tokio::test]
    async fn bad_lines_are_items_and_the_stream_goes_on() {
        let (mut peer, ours) = tokio::io::duplex(1024);
        let (r, w) = tokio::io::split(ours);
        let config = StdioConfig::default().with_max_message_bytes(100);
        let mut transport = LinesTransport::with_config(r, w, &config);
        peer.write_all(b"{oops\r\n\xff\xfe\n").await.unwrap();
        peer.write_all(&[b'x'; 300]).await.unwrap();
        peer.write_all(b"\n{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\r\n").await.unwrap();
        drop(peer);

        let parse = transport.next().await.unwrap().unwrap_err();
        assert!(matches!(parse, TransportError::Parse { .. }), "{parse:?}");
        let utf8 = transport.next().await.unwrap().unwrap_err();
        assert!(utf8.to_string().contains("UTF-8"), "{utf8}");
        let big = transport.next().await.unwrap().unwrap_err();
        assert!(big.to_string().contains("StdioConfig::max_message_bytes"), "{big}");
        assert!(!big.is_fatal());
        let ping = transport.next().await.unwrap().unwrap();
        assert_eq!(ping.method(), Some("ping"));
        assert!(transport.next().await.is_none());
        assert!(transport.next().await.is_none(), "the stream stays ended");
    }

    /// A reader that yields one line, then fails.
    struct FailingReader(bool);

    impl AsyncRead for FailingReader {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            if std::mem::replace(&mut self.0, true) {
                return Poll::Ready(Err(std::io::Error::other("disk on fire")));
            }
            buf.put_slice(b"{\"jsonrpc\":\"2.0\",\"method\":\"first\"}\n");
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_read_error_is_fatal_and_ends_the_stream() {
        let mut transport = LinesTransport::new(FailingReader(false), tokio::io::sink());
        assert_eq!(transport.next().await.unwrap().unwrap().method(), Some("first"));
        let error = transport.next().await.unwrap().unwrap_err();
        assert!(error.is_fatal() && error.to_string().contains("disk on fire"), "{error}");
        assert!(transport.next().await.is_none());
        assert!(transport.next().await.is_none());
    }

    #[tokio::test]
    async fn send_writes_one_line_per_message() {
        let (peer, ours) = tokio::io::duplex(1024);
        let (r, w) = tokio::io::split(ours);
        let mut transport = LinesTransport::new(r, w);
        transport.send(request(1)).await.unwrap();
        transport.close().await.unwrap();
        let mut peer = LinesTransport::new(peer, tokio::io::sink());
        assert_eq!(peer.next().await.unwrap().unwrap(), request(1));
        assert!(peer.next().await.is_none());
    }
}
