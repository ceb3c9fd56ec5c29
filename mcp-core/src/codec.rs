//! Newline-delimited JSON framing, shared by stdio, sockets and message buses.
//!
//! One message per line, `\n` terminated (`\r\n` accepted), compact JSON with no embedded
//! newline, as the MCP stdio transport specifies. The codec is runtime-agnostic: it works on a
//! [`BytesMut`] buffer that the caller fills, so a tokio `Decoder`, a futures `AsyncRead` loop or a
//! test can drive it.
//!
//! Limits are enforced without buffering a whole oversized line: once a line passes
//! [`LineCodec::max_message_bytes`] its bytes are dropped as they arrive, and when its newline
//! comes a single non-fatal [`TransportError::MessageTooLarge`] item reports it.
//!
//! ```
//! use bytes::BytesMut;
//! use mcp_core::codec::LineCodec;
//!
//! let mut codec = LineCodec::new();
//! let mut buf = BytesMut::from(&b"{\"jsonrpc\":\"2.0\",\"method\":\"a\"}\r\nnot json\n{\"jsonrpc\":"[..]);
//! assert_eq!(codec.decode(&mut buf).unwrap().unwrap().method(), Some("a"));
//! assert!(codec.decode(&mut buf).unwrap().is_err()); // a parse error item; the stream goes on
//! assert!(codec.decode(&mut buf).is_none()); // the rest of the line has not arrived yet
//! ```

use bytes::{Buf, BytesMut};

use crate::jsonrpc::Message;
use crate::transport::TransportError;

/// The default largest message: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Newline-delimited JSON-RPC framing with a size limit.
#[derive(Debug, Clone)]
pub struct LineCodec {
    max_message_bytes: usize,
    setting: Option<&'static str>,
    /// How far the current buffer has been searched for a newline, so a slowly arriving long
    /// line is scanned once, not once per read.
    scanned: usize,
    /// `Some(n)`: dropping the rest of an oversized line, `n` bytes dropped so far.
    discarding: Option<usize>,
}

impl Default for LineCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl LineCodec {
    /// A codec with the default 16 MiB limit.
    pub fn new() -> Self {
        Self { max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES, setting: None, scanned: 0, discarding: None }
    }

    /// Sets the largest message in bytes (not counting the newline).
    #[must_use]
    pub fn with_max_message_bytes(mut self, max: usize) -> Self {
        self.max_message_bytes = max.max(1);
        self
    }

    /// Names the configuration setting that controls the limit, for error messages
    /// (e.g. `"StdioConfig::max_message_bytes"`).
    #[must_use]
    pub fn with_setting_name(mut self, setting: &'static str) -> Self {
        self.setting = Some(setting);
        self
    }

    /// The largest message in bytes.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    fn too_large(&self, size: usize) -> TransportError {
        TransportError::MessageTooLarge { size: Some(size), limit: self.max_message_bytes, setting: self.setting }
    }

    /// Takes the next complete message from the front of `buf`.
    ///
    /// Returns `None` when `buf` holds no complete line yet (read more and call again),
    /// `Some(Err(_))` for a line that is not a valid message (non-fatal: call again), and
    /// `Some(Ok(_))` for a message. Blank lines are skipped.
    ///
    /// # Cancel safety
    /// All state lives in `self` and `buf`; calling again after more bytes arrive resumes where
    /// the last call stopped.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Result<Message, TransportError>> {
        loop {
            if let Some(dropped) = self.discarding {
                return match memchr::memchr(b'\n', buf) {
                    Some(pos) => {
                        buf.advance(pos + 1);
                        self.discarding = None;
                        self.scanned = 0;
                        Some(Err(self.too_large(dropped + pos)))
                    }
                    None => {
                        self.discarding = Some(dropped + buf.len());
                        buf.clear();
                        None
                    }
                };
            }
            let Some(offset) = memchr::memchr(b'\n', &buf[self.scanned..]) else {
                if buf.len() > self.max_message_bytes {
                    // Start dropping now rather than buffer the whole oversized line.
                    self.discarding = Some(buf.len());
                    buf.clear();
                    self.scanned = 0;
                    continue;
                }
                self.scanned = buf.len();
                return None;
            };
            let end = self.scanned + offset;
            self.scanned = 0;
            let line = buf.split_to(end + 1);
            let mut line = &line[..end];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            if line.len() > self.max_message_bytes {
                return Some(Err(self.too_large(line.len())));
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Message::from_slice(line).map_err(TransportError::from));
        }
    }

    /// Like [`decode`](Self::decode), for when the input has ended: a last line without a
    /// trailing newline is decoded too, and an oversized line cut off by the end is reported.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Option<Result<Message, TransportError>> {
        if let Some(item) = self.decode(buf) {
            return Some(item);
        }
        if let Some(dropped) = self.discarding.take() {
            let size = dropped + buf.len();
            buf.clear();
            return Some(Err(self.too_large(size)));
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            buf.clear();
            return None;
        }
        buf.extend_from_slice(b"\n");
        self.decode(buf)
    }

    /// Appends `msg` as one line to `dst`.
    pub fn encode(&self, msg: &Message, dst: &mut BytesMut) {
        dst.reserve(crate::encode::size_hint(msg) + 1);
        crate::encode::message(msg, dst);
        dst.extend_from_slice(b"\n");
    }
}

/// Encodes `msg` as one newline-terminated line.
pub fn encode_line(msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    msg.write_to(&mut out);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(codec: &mut LineCodec, buf: &mut BytesMut) -> Vec<Result<Message, TransportError>> {
        let mut out = Vec::new();
        while let Some(item) = codec.decode(buf) {
            out.push(item);
        }
        out
    }

    #[test]
    fn crlf_blank_lines_and_errors() {
        let mut codec = LineCodec::new();
        let mut buf = BytesMut::from(
            &b"{\"jsonrpc\":\"2.0\",\"method\":\"a\"}\r\n\n  \r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n{oops\n\xff\xfe\n"[..],
        );
        let items = drain(&mut codec, &mut buf);
        assert_eq!(items.len(), 4);
        assert!(items[0].as_ref().is_ok());
        assert!(items[1].as_ref().is_ok());
        assert!(matches!(items[2], Err(TransportError::Parse { .. })));
        assert!(matches!(items[3], Err(TransportError::Parse { .. })));
        assert!(buf.is_empty());
    }

    #[test]
    fn oversized_line_is_skipped_without_buffering_it() {
        let mut codec = LineCodec::new().with_max_message_bytes(64).with_setting_name("Test::max");
        let mut buf = BytesMut::new();
        // Feed 10 KiB in 100-byte chunks: the buffer never grows past the limit plus one chunk.
        for _ in 0..100 {
            buf.extend_from_slice(&[b'x'; 100]);
            assert!(codec.decode(&mut buf).is_none());
            assert!(buf.len() <= 64 + 100, "buffered {}", buf.len());
        }
        buf.extend_from_slice(b"\n{\"jsonrpc\":\"2.0\",\"method\":\"after\"}\n");
        let items = drain(&mut codec, &mut buf);
        match &items[0] {
            Err(e @ TransportError::MessageTooLarge { size: Some(10_000), limit: 64, .. }) => {
                assert!(e.to_string().contains("(set Test::max)"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(items[1].as_ref().unwrap().method(), Some("after"));
    }

    #[test]
    fn eof_decodes_a_last_unterminated_line() {
        let mut codec = LineCodec::new();
        let mut buf = BytesMut::from(&b"{\"jsonrpc\":\"2.0\",\"method\":\"last\"}"[..]);
        assert!(codec.decode(&mut buf).is_none());
        assert_eq!(codec.decode_eof(&mut buf).unwrap().unwrap().method(), Some("last"));
        assert!(codec.decode_eof(&mut buf).is_none());
    }

    #[test]
    fn encode_is_one_line() {
        let msg = Message::notification("x", &serde_json::json!({"text": "a\nb"})).unwrap();
        let line = encode_line(&msg);
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        let mut buf = BytesMut::new();
        LineCodec::new().encode(&msg, &mut buf);
        assert_eq!(&buf[..], &line[..]);
    }
}
