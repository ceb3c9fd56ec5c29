//! The wire encoder of [`Message`]: compact JSON written straight into the output buffer.
//!
//! The envelope has a fixed shape, so its keys are written as literals and only the parts
//! that vary go through an encoder: ids, the method and error messages (escaped only when
//! they need it), and the raw params, results and error data, copied as they are. A raw value
//! may hold line breaks between tokens (a pretty-printed HTTP body keeps them); those are
//! turned into spaces, so that the encoding is always one line, as the stdio framing needs.
//! Inside a JSON string a line break is always escaped, so this never changes a value.

use bytes::BytesMut;

use crate::jsonrpc::{ErrorObject, Message, RawJson, RequestId};

/// Where the encoder writes.
pub(crate) trait Out {
    fn put(&mut self, bytes: &[u8]);
}

impl Out for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Out for BytesMut {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Appends the compact JSON of `msg` to `out`.
pub(crate) fn message<O: Out>(msg: &Message, out: &mut O) {
    match msg {
        Message::Request(r) => {
            out.put(b"{\"jsonrpc\":\"2.0\",\"id\":");
            id(&r.id, out);
            out.put(b",");
            method_and_params(&r.method, r.params.as_ref(), out);
        }
        Message::Notification(n) => {
            out.put(b"{\"jsonrpc\":\"2.0\",");
            method_and_params(&n.method, n.params.as_ref(), out);
        }
        Message::Response(r) => {
            out.put(b"{\"jsonrpc\":\"2.0\",\"id\":");
            id(&r.id, out);
            out.put(b",\"result\":");
            raw(&r.result, out);
            out.put(b"}");
        }
        Message::Error(e) => {
            out.put(b"{\"jsonrpc\":\"2.0\",\"id\":");
            match &e.id {
                Some(request) => id(request, out),
                None => out.put(b"null"),
            }
            out.put(b",\"error\":");
            error(&e.error, out);
            out.put(b"}");
        }
        Message::Batch(items) => {
            out.put(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put(b",");
                }
                message(item, out);
            }
            out.put(b"]");
        }
    }
}

/// `"method":...[,"params":...]}`: the end of a request or a notification.
fn method_and_params<O: Out>(method: &str, params: Option<&RawJson>, out: &mut O) {
    out.put(b"\"method\":");
    string(method, out);
    if let Some(params) = params {
        out.put(b",\"params\":");
        raw(params, out);
    }
    out.put(b"}");
}

fn error<O: Out>(error: &ErrorObject, out: &mut O) {
    out.put(b"{\"code\":");
    out.put(itoa::Buffer::new().format(error.code).as_bytes());
    out.put(b",\"message\":");
    string(&error.message, out);
    if let Some(data) = &error.data {
        out.put(b",\"data\":");
        raw(data, out);
    }
    out.put(b"}");
}

fn id<O: Out>(id: &RequestId, out: &mut O) {
    match id {
        RequestId::Number(n) => out.put(itoa::Buffer::new().format(*n).as_bytes()),
        RequestId::String(s) => string(s, out),
    }
}

/// A JSON string; escaped by serde_json only when some character needs it.
fn string<O: Out>(s: &str, out: &mut O) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.put(b"\"");
        out.put(s.as_bytes());
        out.put(b"\"");
    } else {
        let mut escaped = Vec::with_capacity(s.len() + 8);
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut escaped, s);
        out.put(&escaped);
    }
}

/// A raw value, with any line break between its tokens turned into a space.
fn raw<O: Out>(value: &RawJson, out: &mut O) {
    let mut rest = value.get().as_bytes();
    while let Some(at) = memchr::memchr2(b'\n', b'\r', rest) {
        out.put(&rest[..at]);
        out.put(b" ");
        rest = &rest[at + 1..];
    }
    out.put(rest);
}

/// Roughly how many bytes the encoding takes, to size the buffer once.
pub(crate) fn size_hint(msg: &Message) -> usize {
    let raw_len = |raw: Option<&RawJson>| raw.map_or(0, |r| r.get().len());
    match msg {
        Message::Request(r) => 64 + r.method.len() + raw_len(r.params.as_ref()),
        Message::Notification(n) => 48 + n.method.len() + raw_len(n.params.as_ref()),
        Message::Response(r) => 48 + r.result.get().len(),
        Message::Error(e) => 80 + e.error.message.len() + raw_len(e.error.data.as_ref()),
        Message::Batch(items) => 2 + items.iter().map(|m| size_hint(m) + 1).sum::<usize>(),
    }
}

#[cfg(test)]
mod tests {
    use crate::Message;

    #[test]
    fn a_pretty_printed_raw_value_is_written_on_one_line() {
        let body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\r\n  \"name\": \"a\\nb\",\n  \"arguments\": [\n1,\n2\n]\n}\n}";
        let msg: Message = body.parse().unwrap();
        let wire = msg.to_vec();
        assert_eq!(
            String::from_utf8(wire.clone()).unwrap(),
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{    \"name\": \"a\\nb\",   \"arguments\": [ 1, 2 ] }}"
        );
        let again = Message::from_slice(&wire).unwrap();
        let (Message::Request(a), Message::Request(b)) = (&msg, &again) else { panic!("requests") };
        assert_eq!(a.params.as_ref().map(|p| p.to_value()), b.params.as_ref().map(|p| p.to_value()));
    }

    #[test]
    fn the_line_codec_frames_a_pretty_printed_message_as_one_line() {
        let msg: Message = "{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{\n\"a\": 1\n}}".parse().unwrap();
        let mut buf = bytes::BytesMut::new();
        crate::codec::LineCodec::new().encode(&msg, &mut buf);
        assert_eq!(&buf[..], b"{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{ \"a\": 1 }}\n");
    }
}
