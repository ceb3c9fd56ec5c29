//! What travels on the wire besides MCP messages: session announcements, control frames and the
//! owner record.
//!
//! A session payload (a pub/sub message, or the `m` field of a stream entry) is either a compact
//! JSON-RPC message, exactly as [`Message::to_vec`](mcp_core::Message::to_vec) writes it, or a
//! control frame: `#` followed by a JSON object with a `type`. No JSON text starts with `#`, so
//! the two never mix up.

use bytes::Bytes;
use mcp_core::{Principal, ToolAccess};
use serde::{Deserialize, Serialize};

/// The first byte of a control frame.
pub(crate) const CONTROL_TAG: u8 = b'#';

/// Version of the announcement format; a server ignores announcements of a version it does not know.
pub(crate) const PROTOCOL_VERSION: u32 = 1;

/// A control frame on a session's channel or stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum Control {
    /// The server instance `instance` took the session; the client may send.
    Accept { instance: String },
    /// The server instance refused the session.
    Reject { instance: String, reason: String },
    /// The sender closed its side cleanly; nothing follows.
    Close,
    /// Flow control: the sender's application has read `read` messages of this session so far,
    /// so its peer may have up to the window (`RedisConfig::session_queue`) more in flight.
    Credit { read: u64 },
    /// Put in a session's queue in place of a received message larger than the limit, so that
    /// an oversized message costs no memory while it waits to be reported.
    #[serde(rename = "too-large")]
    TooLarge { size: usize },
}

impl Control {
    pub(crate) fn encode(&self) -> Bytes {
        let mut out = vec![CONTROL_TAG];
        // Serializing a enum of strings into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, self);
        Bytes::from(out)
    }

    /// The credit a frame grants, if it is a credit frame; cheap for message frames.
    pub(crate) fn credit(payload: &[u8]) -> Option<u64> {
        if payload.first() != Some(&CONTROL_TAG) {
            return None;
        }
        match Self::decode(payload)? {
            Self::Credit { read } => Some(read),
            _ => None,
        }
    }

    /// `payload`, or a [`Control::TooLarge`] marker when it exceeds `limit`.
    pub(crate) fn bounded(payload: Bytes, limit: usize) -> Bytes {
        if payload.len() > limit { Self::TooLarge { size: payload.len() }.encode() } else { payload }
    }

    /// `None` for a control frame this version does not know (ignored, for forward compatibility).
    pub(crate) fn decode(payload: &[u8]) -> Option<Self> {
        serde_json::from_slice(payload.strip_prefix(&[CONTROL_TAG])?).ok()
    }
}

/// Durable mode: a message larger than this goes out as a bare doorbell (`{seq}`), and the
/// reader fetches it from the stream; smaller ones ride in the doorbell (`{seq} {payload}`), so
/// the reader never needs a second round trip. Keeps the subscriber connection's output buffer
/// in Redis (`client-output-buffer-limit pubsub`) far from its limit.
pub(crate) const DOORBELL_INLINE_MAX: usize = 64 * 1024;

/// Appends the doorbell header for stream entry `0-{seq}`: the decimal `seq` and a space.
pub(crate) fn write_doorbell_header(seq: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = seq;
    loop {
        at -= 1;
        // `n % 10` is a single decimal digit.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
    out.push(b' ');
}

/// A durable-mode doorbell: the sequence number of the stream entry it announces and, unless
/// the entry was too large to ride along, its payload. `None` for anything malformed.
pub(crate) fn parse_doorbell(message: Bytes) -> Option<(u64, Option<Bytes>)> {
    let end = message.iter().take(21).position(|b| *b == b' ');
    let digits = &message[..end.unwrap_or(message.len())];
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // ASCII digits are UTF-8; more than u64::MAX fails to parse.
    let seq: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    if seq == 0 {
        return None;
    }
    Some((seq, end.map(|end| message.slice(end + 1..))))
}

/// What a client publishes on the connect channel.
#[derive(Serialize, Deserialize)]
pub(crate) struct Announcement {
    pub(crate) v: u32,
    pub(crate) session: String,
    pub(crate) mode: String,
    /// A credential for the server's [`TokenVerifier`](crate::TokenVerifier). Never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
}

impl std::fmt::Debug for Announcement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcement")
            .field("v", &self.v)
            .field("session", &self.session)
            .field("mode", &self.mode)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The value of a session's owner key.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct OwnerRecord {
    pub(crate) instance: String,
    pub(crate) mode: String,
    pub(crate) principal: PrincipalRecord,
}

/// A [`Principal`] as stored in the owner key.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PrincipalRecord {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// `None`: every tool.
    #[serde(default)]
    pub(crate) tools: Option<Vec<String>>,
}

impl From<&Principal> for PrincipalRecord {
    fn from(p: &Principal) -> Self {
        let tools = match &p.tools {
            ToolAccess::Only(patterns) => Some(patterns.clone()),
            _ => None,
        };
        Self { id: p.id.clone(), scopes: p.scopes.clone(), tools }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_frames_round_trip_and_never_look_like_json() {
        for c in [
            Control::Accept { instance: "i".into() },
            Control::Reject { instance: "i".into(), reason: "no".into() },
            Control::Close,
            Control::Credit { read: 7 },
        ] {
            let bytes = c.encode();
            assert_eq!(bytes[0], CONTROL_TAG);
            assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_err());
            assert_eq!(Control::decode(&bytes), Some(c));
        }
        assert_eq!(Control::decode(b"#{\"type\":\"future-thing\"}"), None);
        assert_eq!(Control::decode(b"{}"), None);
        assert_eq!(Control::credit(&Control::Credit { read: 9 }.encode()), Some(9));
        assert_eq!(Control::credit(b"{\"jsonrpc\":\"2.0\"}"), None);
    }

    #[test]
    fn doorbells_carry_the_entry_number_and_the_payload() {
        for seq in [1, 9, 10, 4711, u64::MAX] {
            let mut wire = Vec::new();
            write_doorbell_header(seq, &mut wire);
            assert_eq!(wire, format!("{seq} ").into_bytes());
            wire.extend_from_slice(b"{\"jsonrpc\":\"2.0\"}");
            let (got, payload) = parse_doorbell(Bytes::from(wire)).unwrap();
            assert_eq!(got, seq);
            assert_eq!(payload.as_deref(), Some(&b"{\"jsonrpc\":\"2.0\"}"[..]));
        }
        assert_eq!(parse_doorbell(Bytes::from_static(b"12")), Some((12, None)));
        assert_eq!(parse_doorbell(Bytes::from_static(b"3 ")), Some((3, Some(Bytes::new()))));
        for junk in
            [&b""[..], b"0 {}", b" {}", b"x1 {}", b"{}", b"99999999999999999999 {}", b"123456789012345678901 {}"]
        {
            assert_eq!(parse_doorbell(Bytes::copy_from_slice(junk)), None, "{}", String::from_utf8_lossy(junk));
        }
    }

    #[test]
    fn owner_record_keeps_the_principal() {
        let p = Principal::new("alice").with_scopes(["read"]).with_tools(["echo*"]);
        let json = serde_json::to_string(&PrincipalRecord::from(&p)).unwrap();
        assert_eq!(json, r#"{"id":"alice","scopes":["read"],"tools":["echo*"]}"#);
    }
}
