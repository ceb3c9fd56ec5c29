//! A newline-JSON transport over an in-memory byte pipe (the framing of stdio and sockets),
//! for tests that need real frames: `LineCodec` on tokio-util's framed reader and writer.
#![allow(dead_code, unreachable_pub)]

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures::StreamExt;
use mcp_core::codec::LineCodec;
use mcp_core::{Duplex, Message, Transport, TransportError};
use mcp_testkit::compliance::RawInjector;
use tokio::io::{AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

/// The receive limit of both ends.
pub const LIMIT: usize = 4096;
/// The pipe's buffer each way.
pub const PIPE_BYTES: usize = 64 * 1024;

/// `LineCodec` as a tokio-util codec; the item is the transport's item, so frame errors are items.
struct Lines(LineCodec);

impl Decoder for Lines {
    type Item = Result<Message, TransportError>;
    type Error = TransportError;
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Item>, TransportError> {
        Ok(self.0.decode(buf))
    }
    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Item>, TransportError> {
        Ok(self.0.decode_eof(buf))
    }
}

impl Encoder<Message> for Lines {
    type Error = TransportError;
    fn encode(&mut self, message: Message, dst: &mut BytesMut) -> Result<(), TransportError> {
        self.0.encode(&message, dst);
        Ok(())
    }
}

/// One write half shared by a transport's sink and the raw injector.
#[derive(Clone)]
struct SharedWriter(Arc<Mutex<DuplexStream>>);

impl AsyncWrite for SharedWriter {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_shutdown(cx)
    }
}

pub fn lines_transport(read: DuplexStream, write: impl AsyncWrite + Send + 'static) -> impl Transport {
    let codec = || Lines(LineCodec::new().with_max_message_bytes(LIMIT));
    let stream = FramedRead::new(read, codec()).map(|item| item.and_then(|inner| inner));
    Duplex::new(FramedWrite::new(write, codec()), stream)
}

/// Two connected line transports `(a, b)` and an injector writing raw lines from `a` to `b`.
pub fn pipe_pair() -> (impl Transport, impl Transport, RawInjector) {
    let (a_to_b_write, a_to_b_read) = tokio::io::duplex(PIPE_BYTES);
    let (b_to_a_write, b_to_a_read) = tokio::io::duplex(PIPE_BYTES);
    let a_writer = SharedWriter(Arc::new(Mutex::new(a_to_b_write)));
    let injector_writer = a_writer.clone();
    let a = lines_transport(b_to_a_read, a_writer);
    let b = lines_transport(a_to_b_read, b_to_a_write);
    let injector = RawInjector::new(move |mut frame: Vec<u8>| {
        let mut writer = injector_writer.clone();
        async move {
            frame.push(b'\n');
            writer.write_all(&frame).await
        }
    });
    (a, b, injector)
}
