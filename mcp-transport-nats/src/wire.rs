//! The connect handshake and the control messages, as they travel on NATS.
//!
//! Data messages are the JSON-RPC bytes alone (no NATS headers). A message with an
//! [`NOTICE_HEADER`] header is a notice instead (today only [`TOO_LARGE`]). An *empty* payload
//! without headers on a data subject is the clean close (a JSON-RPC message is never empty, so the two cannot be
//! confused), which keeps the close ordered after the last data message. Control subjects
//! (`<data subject>.ctl`) carry the [`Control`] messages: `ping` (a NATS request, answered with
//! an empty reply), `interrupted` and `credit <n>` (see [`crate::credit`]).

use serde::{Deserialize, Serialize};

/// The version of this wire protocol, sent in the connect request and reply.
pub(crate) const PROTOCOL_VERSION: u32 = 1;

/// Control payload: "are you there?" (a NATS request; any reply means yes).
pub(crate) const PING: &[u8] = b"ping";

/// Control payload: "my NATS connection was interrupted; messages in flight may be lost".
pub(crate) const INTERRUPTED: &[u8] = b"interrupted";

/// The NATS header that marks a notice on a data subject (rather than a JSON-RPC message).
pub(crate) const NOTICE_HEADER: &str = "Mcp-Notice";

/// [`NOTICE_HEADER`] value: "a message to you was not sent, it was over `max_payload`"; the
/// payload is a [`TooLargeNotice`].
pub(crate) const TOO_LARGE: &str = "too-large";

/// The payload of a [`TOO_LARGE`] notice.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TooLargeNotice {
    pub(crate) size: usize,
    pub(crate) limit: usize,
}

/// Control payload prefix: `credit <n>`, "I have consumed `n` of your data messages in all".
const CREDIT: &[u8] = b"credit ";

/// A message on a control subject.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Control {
    Ping,
    Interrupted,
    Credit(u64),
    /// Something a later version sends; ignored.
    Unknown,
}

impl Control {
    pub(crate) fn parse(payload: &[u8]) -> Self {
        match payload {
            PING => Self::Ping,
            INTERRUPTED => Self::Interrupted,
            _ => payload
                .strip_prefix(CREDIT)
                .and_then(|n| std::str::from_utf8(n).ok()?.parse().ok())
                .map_or(Self::Unknown, Self::Credit),
        }
    }

    pub(crate) fn credit(consumed: u64) -> bytes::Bytes {
        format!("credit {consumed}").into()
    }
}

/// The client's connect request, sent to `<prefix>.<service>.connect`.
#[derive(Serialize, Deserialize)]
pub(crate) struct ConnectRequest {
    /// [`PROTOCOL_VERSION`].
    pub(crate) version: u32,
    /// The client's inbox token: the server publishes to `<prefix>.<service>.c.<inbox>`, which the
    /// client subscribed to before sending this request.
    pub(crate) inbox: String,
    /// How many unacknowledged data messages the client accepts (absent: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) window: Option<u64>,
    /// A credential for the server's verifier, if the client has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
}

/// The server instance's answer to a [`ConnectRequest`].
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ConnectReply {
    /// [`PROTOCOL_VERSION`].
    pub(crate) version: u32,
    /// On success, the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session: Option<AcceptedSession>,
    /// On refusal, why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<Refusal>,
}

/// A session the server instance opened.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AcceptedSession {
    /// The session id (random, chosen by the instance).
    pub(crate) id: String,
    /// Where the client publishes: `<prefix>.<service>.s.<id>`.
    pub(crate) subject: String,
    /// How many unacknowledged data messages the server accepts (absent: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) window: Option<u64>,
}

/// Why a server instance refused a session.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Refusal {
    /// `unauthorized`, `unavailable` (the token verifier cannot decide now), `busy` or `bad_request`.
    pub(crate) code: String,
    /// A human-readable explanation (never a secret).
    pub(crate) message: String,
}

impl ConnectReply {
    pub(crate) fn accepted(id: String, subject: String, window: u64) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            session: Some(AcceptedSession { id, subject, window: Some(window) }),
            error: None,
        }
    }

    pub(crate) fn refused(code: &str, message: impl Into<String>) -> Self {
        Self {
            version: PROTOCOL_VERSION,
            session: None,
            error: Some(Refusal { code: code.to_owned(), message: message.into() }),
        }
    }
}

impl std::fmt::Debug for ConnectRequest {
    /// Never shows the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connect(version {}, inbox {}, token {})", self.version, self.inbox, self.token.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages() {
        assert_eq!(Control::parse(b"ping"), Control::Ping);
        assert_eq!(Control::parse(b"interrupted"), Control::Interrupted);
        assert_eq!(Control::parse(&Control::credit(42)), Control::Credit(42));
        for other in [&b"credit "[..], b"credit -1", b"credit x", b"pong", b""] {
            assert_eq!(Control::parse(other), Control::Unknown);
        }
    }
}
