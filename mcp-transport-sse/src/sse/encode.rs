//! Writing SSE events.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

/// A keep-alive comment: ignored by every SSE client, but keeps proxies from cutting an idle stream.
pub(crate) const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// Encodes one event. `data` is written as one `data:` line per line of input, so an event can
/// never be split or forged by a newline inside the payload; empty `data` gives `data: ` (the
/// priming event the spec asks for).
pub(crate) fn encode_event(id: Option<&str>, event: Option<&str>, retry: Option<Duration>, data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + 48);
    if let Some(event) = event {
        out.put_slice(b"event: ");
        out.put_slice(event.as_bytes());
        out.put_u8(b'\n');
    }
    if let Some(id) = id {
        out.put_slice(b"id: ");
        out.put_slice(id.as_bytes());
        out.put_u8(b'\n');
    }
    if let Some(retry) = retry {
        out.put_slice(format!("retry: {}\n", retry.as_millis()).as_bytes());
    }
    let mut lines = data.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        out.put_slice(b"data: ");
        out.put_slice(line);
        out.put_u8(b'\n');
        if lines.peek().is_none() {
            break;
        }
    }
    out.put_u8(b'\n');
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_and_priming_events() {
        assert_eq!(&encode_event(Some("0_1"), None, None, b"{\"a\":1}")[..], b"id: 0_1\ndata: {\"a\":1}\n\n");
        assert_eq!(
            &encode_event(Some("3_0"), None, Some(Duration::from_millis(1500)), b"")[..],
            b"id: 3_0\nretry: 1500\ndata: \n\n"
        );
        assert_eq!(&encode_event(None, Some("endpoint"), None, b"/m?s=1")[..], b"event: endpoint\ndata: /m?s=1\n\n");
    }

    #[test]
    fn newlines_in_data_cannot_forge_events() {
        assert_eq!(
            &encode_event(None, None, None, b"a\n\nid: x\r\nb")[..],
            b"data: a\ndata: \ndata: id: x\ndata: b\n\n"
        );
    }
}
