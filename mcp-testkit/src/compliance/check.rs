//! Bounded waits and failure messages that name the property.

use std::future::Future;
use std::time::Duration;

use futures::{Stream, StreamExt};
use mcp_core::{Message, TransportError};

use super::Property;

/// The property being checked and how long any one wait may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Check {
    pub(crate) property: Property,
    pub(crate) timeout: Duration,
}

impl Check {
    /// Fails the property.
    #[track_caller]
    pub(crate) fn fail(&self, what: impl std::fmt::Display) -> ! {
        panic!("transport compliance property `{}` failed: {what}", self.property)
    }

    /// Awaits `fut`, failing after the timeout with a message naming `what` was awaited.
    pub(crate) async fn within<T>(&self, what: impl std::fmt::Display, fut: impl Future<Output = T>) -> T {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(value) => value,
            Err(_) => self.fail(format_args!("timed out after {:?} waiting for {what}", self.timeout)),
        }
    }

    /// The next item of `stream`, which must be a message.
    pub(crate) async fn recv<S>(&self, stream: &mut S, what: impl std::fmt::Display) -> Message
    where
        S: Stream<Item = Result<Message, TransportError>> + Unpin,
    {
        match self.within(&what, stream.next()).await {
            Some(Ok(message)) => message,
            Some(Err(e)) => self.fail(format_args!("expected {what}, got the error item `{e}`")),
            None => self.fail(format_args!("expected {what}, but the stream ended")),
        }
    }

    /// Sends `message` (and flushes), which must succeed.
    pub(crate) async fn send<S>(&self, sink: &mut S, message: Message, what: impl std::fmt::Display)
    where
        S: futures::Sink<Message, Error = TransportError> + Unpin,
    {
        use futures::SinkExt;
        if let Err(e) = self.within(format_args!("sending {what}"), sink.send(message)).await {
            self.fail(format_args!("sending {what} failed: {e}"));
        }
    }

    /// Fails unless `got` is the same JSON-RPC message as `want`.
    pub(crate) fn same(&self, got: &Message, want: &Message, what: impl std::fmt::Display) {
        if !same_message(got, want) {
            self.fail(format_args!("{what}: expected {want}, got {got}"));
        }
    }
}

/// Whether two messages are the same JSON (whitespace and key order aside).
pub(crate) fn same_message(a: &Message, b: &Message) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

/// A numbered notification of about `pad` extra bytes: the traffic of most properties.
pub(crate) fn numbered(seq: usize, pad: usize) -> Message {
    Message::notification("compliance/seq", &serde_json::json!({ "seq": seq, "pad": "x".repeat(pad) }))
        .unwrap_or_else(|e| unreachable_json(&e))
}

/// The number of a [`numbered`] message.
pub(crate) fn seq_of(message: &Message) -> Option<usize> {
    let Message::Notification(n) = message else { return None };
    let params: serde_json::Value = n.parse_params().ok()?;
    params.get("seq")?.as_u64().map(|s| s as usize)
}

/// Serializing a `serde_json::Value` cannot fail.
pub(crate) fn unreachable_json(e: &serde_json::Error) -> ! {
    panic!("serializing a JSON value failed: {e}")
}

/// A short description of a message for failure messages (payloads can be kilobytes).
pub(crate) fn describe(message: &Message) -> String {
    match seq_of(message) {
        Some(seq) => format!("message {seq}"),
        None => {
            let text = message.to_string();
            if text.len() > 200 {
                format!("{}... ({} bytes)", text.chars().take(200).collect::<String>(), text.len())
            } else {
                text
            }
        }
    }
}
