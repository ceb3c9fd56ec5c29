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

/// Durable mode: the most payload bytes one doorbell carries. A message larger than this is
/// announced without its payload (the reader fetches it from the stream); smaller ones ride
/// along, so the reader needs no second round trip. Keeps the subscriber connection's output
/// buffer in Redis (`client-output-buffer-limit pubsub`) far from its limit.
pub(crate) const DOORBELL_INLINE_MAX: usize = 64 * 1024;

/// Writes the decimal `n` into `buf` and returns the digits.
fn decimal(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    let mut n = n;
    loop {
        at -= 1;
        // `n % 10` is a single decimal digit.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

/// The stream entry id `0-{seq}`, written into `buf` without allocating.
pub(crate) fn entry_id(seq: u64, buf: &mut [u8; 22]) -> &[u8] {
    let mut digits = [0u8; 20];
    let digits = decimal(seq, &mut digits);
    buf[..2].copy_from_slice(b"0-");
    buf[2..2 + digits.len()].copy_from_slice(digits);
    &buf[..2 + digits.len()]
}

/// Appends one record to a durable-mode doorbell: `{seq} {len} {payload}` announces stream
/// entry `0-{seq}` with its payload; `{seq} - ` announces it without (`payload` is `None`).
/// A doorbell is one or more records, for consecutive entries of one stream.
pub(crate) fn write_doorbell_record(seq: u64, payload: Option<&[u8]>, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    out.extend_from_slice(decimal(seq, &mut buf));
    out.push(b' ');
    match payload {
        Some(payload) => {
            out.extend_from_slice(decimal(payload.len() as u64, &mut buf));
            out.push(b' ');
            out.extend_from_slice(payload);
        }
        None => out.extend_from_slice(b"- "),
    }
}

/// The records of a durable-mode doorbell, in order: `(seq, payload)`, the payload `None` when
/// the entry must be read from the stream. Parsing stops at the first malformed record.
pub(crate) struct DoorbellRecords {
    doorbell: Bytes,
    at: usize,
}

impl DoorbellRecords {
    pub(crate) fn new(doorbell: Bytes) -> Self {
        Self { doorbell, at: 0 }
    }

    /// Whether parsing is over: everything parsed, or a malformed record met.
    fn is_done(&self) -> bool {
        self.at >= self.doorbell.len()
    }

    /// Whether a malformed record stopped the parsing.
    pub(crate) fn malformed(&self) -> bool {
        self.at > self.doorbell.len()
    }

    /// A decimal number of at most 20 digits followed by a space, from `self.at`.
    fn number(&mut self) -> Option<u64> {
        let rest = self.doorbell.get(self.at..)?;
        let end = rest.iter().take(21).position(|b| *b == b' ')?;
        let digits = &rest[..end];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // ASCII digits are UTF-8; more than u64::MAX fails to parse.
        let n = std::str::from_utf8(digits).ok()?.parse().ok()?;
        self.at += end + 1;
        Some(n)
    }

    fn record(&mut self) -> Option<(u64, Option<Bytes>)> {
        let seq = self.number().filter(|seq| *seq > 0)?;
        if self.doorbell.get(self.at..)?.starts_with(b"- ") {
            self.at += 2;
            return Some((seq, None));
        }
        let len = usize::try_from(self.number()?).ok()?;
        let end = self.at.checked_add(len).filter(|end| *end <= self.doorbell.len())?;
        let payload = self.doorbell.slice(self.at..end);
        self.at = end;
        Some((seq, Some(payload)))
    }
}

impl Iterator for DoorbellRecords {
    type Item = (u64, Option<Bytes>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.is_done() {
            return None;
        }
        let record = self.record();
        if record.is_none() {
            // Stop for good: nothing after a malformed record can be trusted.
            self.at = usize::MAX;
        }
        record
    }
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
    fn doorbells_carry_entry_numbers_and_payloads() {
        let mut wire = Vec::new();
        write_doorbell_record(7, Some(b"{\"a\":1}"), &mut wire);
        write_doorbell_record(8, None, &mut wire);
        write_doorbell_record(u64::MAX, Some(b""), &mut wire);
        write_doorbell_record(10, Some(b"1 2 3"), &mut wire);
        assert_eq!(wire, format!("7 7 {{\"a\":1}}8 - {} 0 10 5 1 2 3", u64::MAX).into_bytes());
        let mut records = DoorbellRecords::new(Bytes::from(wire));
        let got: Vec<_> = records.by_ref().collect();
        assert_eq!(
            got,
            vec![
                (7, Some(Bytes::from_static(b"{\"a\":1}"))),
                (8, None),
                (u64::MAX, Some(Bytes::new())),
                (10, Some(Bytes::from_static(b"1 2 3")))
            ]
        );
        assert!(!records.malformed());
        let mut id = [0u8; 22];
        assert_eq!(entry_id(4711, &mut id), b"0-4711");
        assert_eq!(entry_id(u64::MAX, &mut id), format!("0-{}", u64::MAX).as_bytes());
    }

    #[test]
    fn malformed_doorbells_stop_at_the_first_bad_record() {
        for junk in [
            &b"0 2 {}"[..],
            b" 2 {}",
            b"x1 2 {}",
            b"{}",
            b"1 9 {}",
            b"1 2",
            b"99999999999999999999 2 {}",
            b"123456789012345678901 2 {}",
            b"1 -",
            b"1 18446744073709551615 {}",
        ] {
            let mut records = DoorbellRecords::new(Bytes::copy_from_slice(junk));
            assert_eq!(records.next(), None, "{}", String::from_utf8_lossy(junk));
            assert!(records.malformed());
            assert_eq!(records.next(), None);
        }
        let mut records = DoorbellRecords::new(Bytes::from_static(b"1 2 {}2 x"));
        assert_eq!(records.next(), Some((1, Some(Bytes::from_static(b"{}")))));
        assert_eq!(records.next(), None);
        assert!(records.malformed());
        assert!(!DoorbellRecords::new(Bytes::new()).malformed());
    }

    #[test]
    fn owner_record_keeps_the_principal() {
        let p = Principal::new("alice").with_scopes(["read"]).with_tools(["echo*"]);
        let json = serde_json::to_string(&PrincipalRecord::from(&p)).unwrap();
        assert_eq!(json, r#"{"id":"alice","scopes":["read"],"tools":["echo*"]}"#);
    }
}
