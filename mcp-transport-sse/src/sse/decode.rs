//! Reading SSE events incrementally, with a bound on event size.

use std::time::Duration;

use bytes::{Buf, BytesMut};

/// One complete SSE event as a client sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `None` means the default type, `message`.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `id:` field, when the event carried one.
    pub id: Option<String>,
    /// The `retry:` field: how long to wait before reconnecting.
    pub retry: Option<Duration>,
}

/// An incremental `text/event-stream` parser.
///
/// Feed it bytes as they arrive with [`SseDecoder::push`] and take events with
/// [`SseDecoder::next_event`]. Partial lines stay in the decoder, so reading is cancel-safe for
/// whoever drives it. An event bigger than the limit is skipped and reported once.
#[derive(Debug)]
pub struct SseDecoder {
    buf: BytesMut,
    current: SseEvent,
    has_field: bool,
    data_lines: usize,
    max_event_bytes: usize,
    /// Bytes of the current event so far (data included), to enforce the limit.
    event_bytes: usize,
    oversized: bool,
    /// Skip a `\n` that follows a `\r` split across two pushes.
    skip_lf: bool,
}

/// What the decoder produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A complete event.
    Event(SseEvent),
    /// An event exceeded the size limit and was skipped; the value is the limit.
    TooLarge(usize),
}

impl SseDecoder {
    /// A decoder that skips events larger than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            current: SseEvent::default(),
            has_field: false,
            data_lines: 0,
            max_event_bytes,
            event_bytes: 0,
            oversized: false,
            skip_lf: false,
        }
    }

    /// Appends bytes received from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Takes the next complete event, if the buffered bytes hold one.
    pub fn next_event(&mut self) -> Option<Decoded> {
        loop {
            if self.skip_lf && !self.buf.is_empty() {
                if self.buf[0] == b'\n' {
                    self.buf.advance(1);
                }
                self.skip_lf = false;
            }
            let Some(end) = self.buf.iter().position(|&b| b == b'\n' || b == b'\r') else {
                // No full line yet: bound what an unterminated line may hold.
                if self.event_bytes + self.buf.len() > self.max_event_bytes {
                    self.event_bytes += self.buf.len();
                    self.buf.clear();
                    self.oversized = true;
                }
                return None;
            };
            let line = self.buf.split_to(end);
            let terminator = self.buf[0];
            self.buf.advance(1);
            if terminator == b'\r' {
                if self.buf.is_empty() {
                    self.skip_lf = true;
                } else if self.buf[0] == b'\n' {
                    self.buf.advance(1);
                }
            }
            if line.is_empty() {
                if let Some(done) = self.finish_event() {
                    return Some(done);
                }
                continue;
            }
            self.event_bytes += line.len();
            if self.event_bytes > self.max_event_bytes {
                self.oversized = true;
            }
            if !self.oversized {
                self.field(&line);
            }
        }
    }

    fn finish_event(&mut self) -> Option<Decoded> {
        let oversized = std::mem::take(&mut self.oversized);
        self.event_bytes = 0;
        let had = std::mem::take(&mut self.has_field);
        self.data_lines = 0;
        let event = std::mem::take(&mut self.current);
        if oversized {
            return Some(Decoded::TooLarge(self.max_event_bytes));
        }
        had.then_some(Decoded::Event(event))
    }

    fn field(&mut self, line: &[u8]) {
        if line[0] == b':' {
            return; // a comment
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"data" => {
                if self.has_data() {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(&value);
                self.data_lines += 1;
            }
            b"event" => self.current.event = Some(value.into_owned()),
            b"id" if !value.contains('\0') => self.current.id = Some(value.into_owned()),
            b"retry" => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.current.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => return,
        }
        self.has_field = true;
    }

    fn has_data(&self) -> bool {
        self.data_lines > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<Decoded> {
        let mut d = SseDecoder::new(64);
        let mut out = Vec::new();
        for c in chunks {
            d.push(c);
            while let Some(e) = d.next_event() {
                out.push(e);
            }
        }
        out
    }

    fn ev(event: Option<&str>, data: &str, id: Option<&str>, retry: Option<u64>) -> Decoded {
        Decoded::Event(SseEvent {
            event: event.map(Into::into),
            data: data.into(),
            id: id.map(Into::into),
            retry: retry.map(Duration::from_millis),
        })
    }

    #[test]
    fn parses_fields_comments_and_line_endings() {
        let got = events(&[
            b": ka\n\nevent: endpoint\ndata: /m?x=1\n\n",
            b"id: 7\r\nretry: 50\r\ndata:\r\n\r\n",
            b"data: a\rdata: b\r\r",
        ]);
        assert_eq!(
            got,
            vec![
                ev(Some("endpoint"), "/m?x=1", None, None),
                ev(None, "", Some("7"), Some(50)),
                ev(None, "a\nb", None, None)
            ]
        );
    }

    #[test]
    fn split_anywhere_gives_the_same_events() {
        let text = b"id: 1\r\ndata: {\"a\":1}\r\n\r\ndata: x\n\n";
        let whole = events(&[text]);
        for cut in 0..text.len() {
            assert_eq!(events(&[&text[..cut], &text[cut..]]), whole, "cut at {cut}");
        }
        assert_eq!(whole.len(), 2);
    }

    #[test]
    fn oversized_event_is_skipped_and_reported() {
        let big = vec![b'x'; 200];
        let got = events(&[b"data: ", &big, b"\n\ndata: ok\n\n"]);
        assert_eq!(got, vec![Decoded::TooLarge(64), ev(None, "ok", None, None)]);
    }
}
