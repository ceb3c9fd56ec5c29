//! The subject layout: where each kind of message travels.
//!
//! Every name is built here, so the table in the crate docs and the code cannot drift apart.

use crate::error::NatsError;

/// The default subject prefix.
pub const DEFAULT_PREFIX: &str = "mcp";

/// The subjects of one service: `<prefix>.<service>.…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceSubjects {
    /// `<prefix>.<service>`: also the queue group name of the server instances.
    base: String,
}

impl ServiceSubjects {
    /// Checks `prefix` (one or more dot-separated tokens) and `service` (one token).
    pub(crate) fn new(prefix: &str, service: &str) -> Result<Self, NatsError> {
        if prefix.is_empty() || prefix.split('.').any(|t| !is_token(t)) {
            return Err(NatsError::InvalidName {
                what: "subject prefix",
                value: prefix.to_owned(),
                rule: "dot-separated tokens of letters, digits, '-' and '_'",
            });
        }
        if !is_token(service) {
            return Err(NatsError::InvalidName {
                what: "service name",
                value: service.to_owned(),
                rule: "one token of letters, digits, '-' and '_' (no dots, spaces or wildcards)",
            });
        }
        Ok(Self { base: format!("{prefix}.{service}") })
    }

    /// The queue group all instances of the service join.
    pub(crate) fn queue_group(&self) -> &str {
        &self.base
    }

    /// Where clients send connect requests.
    pub(crate) fn connect(&self) -> String {
        format!("{}.connect", self.base)
    }

    /// The subjects of a session as the server instance sees them.
    pub(crate) fn server_side(&self, session: &str, client_inbox: &str) -> SessionSubjects {
        SessionSubjects { inbound: self.to_server(session), outbound: self.to_client(client_inbox) }
    }

    /// Client → server messages of session `session`.
    pub(crate) fn to_server(&self, session: &str) -> String {
        format!("{}.s.{session}", self.base)
    }

    /// Server → client messages for the client inbox `inbox`.
    pub(crate) fn to_client(&self, inbox: &str) -> String {
        format!("{}.c.{inbox}", self.base)
    }

    /// Whether `subject` is a session subject of this service (as a connect reply names it).
    pub(crate) fn is_session_subject(&self, subject: &str) -> bool {
        subject.strip_prefix(self.base.as_str()).and_then(|rest| rest.strip_prefix(".s.")).is_some_and(is_token)
    }
}

/// The two data subjects of one session, from one side's point of view. Each has a `.ctl`
/// sibling for heartbeats and notices, so a slow reader of data never delays a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSubjects {
    /// Where this side receives the peer's messages.
    pub inbound: String,
    /// Where this side publishes its messages.
    pub outbound: String,
}

impl SessionSubjects {
    /// The control sibling of a data subject.
    pub(crate) fn control(data_subject: &str) -> String {
        format!("{data_subject}.ctl")
    }
}

/// Whether `s` is one subject token we accept in names: non-empty, ASCII letters, digits,
/// `-` and `_` only (so never a wildcard, a dot or white space).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A fresh random identifier (128 bits from the thread's CSPRNG, 32 hex digits): session ids
/// and client inboxes, unguessable and never colliding in practice.
pub(crate) fn random_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let s = ServiceSubjects::new("mcp", "weather").unwrap();
        assert_eq!(s.connect(), "mcp.weather.connect");
        assert_eq!(s.queue_group(), "mcp.weather");
        let side = s.server_side("S1", "I1");
        assert_eq!(side.inbound, "mcp.weather.s.S1");
        assert_eq!(side.outbound, "mcp.weather.c.I1");
        assert_eq!(SessionSubjects::control(&side.inbound), "mcp.weather.s.S1.ctl");
        assert!(s.is_session_subject("mcp.weather.s.abc"));
        assert!(!s.is_session_subject("mcp.weather.s.a.b"));
        assert!(!s.is_session_subject("mcp.other.s.abc"));
        assert!(!s.is_session_subject("mcp.weather.s.*"));
    }

    #[test]
    fn rejects_bad_names() {
        assert!(ServiceSubjects::new("acme.mcp", "w-1_x").is_ok());
        for (p, s) in
            [("", "x"), ("mcp", ""), ("mcp", "a.b"), ("mcp", "*"), ("mcp", ">"), ("a..b", "x"), ("mcp", "a b")]
        {
            let err = ServiceSubjects::new(p, s).unwrap_err();
            assert!(err.to_string().contains("invalid"), "{err}");
        }
    }

    #[test]
    fn random_ids_are_tokens_and_differ() {
        let (a, b) = (random_id(), random_id());
        assert!(is_token(&a) && a.len() == 32);
        assert_ne!(a, b);
    }
}
