//! Why a WebSocket connection ended or could not start.

use std::time::Duration;

use mcp_core::transport::human_bytes;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Why this side closed a connection (the fatal item a [`WsTransport`](crate::WsTransport)
/// yields, inside [`TransportError::Other`](mcp_core::TransportError::Other)), and the close
/// code the peer saw.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsCloseReason {
    /// The peer sent a binary frame; MCP over WebSocket carries text frames only. Close 1003.
    #[error("the peer sent a binary frame; MCP messages travel as text frames (closed with 1003)")]
    BinaryFrame,
    /// A message exceeded the size limit. Close 1009.
    #[error(
        "message of {} exceeds the {} limit (set WsConfig::max_message_bytes); closed with 1009",
        human_bytes(*size as u64),
        human_bytes(*limit as u64)
    )]
    MessageTooLarge {
        /// The size of the message (or of the part seen before the limit was passed).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A text frame was not UTF-8. Close 1007.
    #[error("the peer sent a text frame that is not UTF-8 (closed with 1007)")]
    InvalidUtf8,
    /// The peer broke the WebSocket protocol. Close 1002.
    #[error("WebSocket protocol error from the peer: {0} (closed with 1002)")]
    Protocol(String),
    /// The application closed the session for a policy violation (see
    /// [`CloseHandle`](crate::CloseHandle)). Close 1008.
    #[error("closed for a policy violation: {0} (closed with 1008)")]
    PolicyViolation(String),
    /// Nothing arrived within the pong timeout after a ping: the peer is gone (a half-open TCP
    /// connection). Close 1001 attempted.
    #[error(
        "no pong within {timeout:?} of a ping: the peer is unreachable (set WsConfig::ping_interval / pong_timeout)"
    )]
    HeartbeatTimeout {
        /// The pong timeout that passed.
        timeout: Duration,
    },
}

impl WsCloseReason {
    /// The close code sent to the peer.
    pub fn close_code(&self) -> u16 {
        u16::from(self.code())
    }

    pub(crate) fn code(&self) -> CloseCode {
        match self {
            Self::BinaryFrame => CloseCode::Unsupported,
            Self::MessageTooLarge { .. } => CloseCode::Size,
            Self::InvalidUtf8 => CloseCode::Invalid,
            Self::Protocol(_) => CloseCode::Protocol,
            Self::PolicyViolation(_) => CloseCode::Policy,
            Self::HeartbeatTimeout { .. } => CloseCode::Away,
        }
    }

    /// The short reason sent in the close frame (at most 123 bytes, as the protocol requires).
    pub(crate) fn wire_reason(&self) -> String {
        let text = match self {
            Self::BinaryFrame => "binary frames are not supported; send JSON-RPC as text".to_owned(),
            Self::MessageTooLarge { limit, .. } => format!("message exceeds the {} limit", human_bytes(*limit as u64)),
            Self::InvalidUtf8 => "text frame is not UTF-8".to_owned(),
            Self::Protocol(_) => "protocol error".to_owned(),
            Self::PolicyViolation(why) => why.clone(),
            Self::HeartbeatTimeout { .. } => "no pong".to_owned(),
        };
        truncate_reason(text)
    }
}

/// Cuts a close reason to the 123 bytes a close frame has room for, on a char boundary.
pub(crate) fn truncate_reason(mut text: String) -> String {
    const MAX: usize = 123;
    if text.len() > MAX {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_the_code_and_the_setting() {
        let e = WsCloseReason::MessageTooLarge { size: 17 << 20, limit: 16 << 20 };
        assert_eq!(e.close_code(), 1009);
        assert_eq!(
            e.to_string(),
            "message of 17 MiB exceeds the 16 MiB limit (set WsConfig::max_message_bytes); closed with 1009"
        );
        assert_eq!(WsCloseReason::BinaryFrame.close_code(), 1003);
        assert_eq!(WsCloseReason::PolicyViolation("x".into()).close_code(), 1008);
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary() {
        let cut = WsCloseReason::PolicyViolation("é".repeat(100)).wire_reason();
        assert!(cut.len() <= 123);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
