//! Reading MCP messages out of an SSE response body.

use std::collections::VecDeque;
use std::time::Duration;

use futures::StreamExt;
use mcp_core::{Message, TransportError};

use super::response::{Body, HttpError};
use crate::sse::{Decoded, SseDecoder, SseEvent};

/// Where a stream stands: the last event id (for `Last-Event-ID`) and the server's `retry`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Cursor {
    pub(crate) last_event_id: Option<String>,
    pub(crate) retry: Option<Duration>,
}

/// An event, or a frame error to pass on.
pub(crate) enum Item {
    Event(SseEvent),
    TooLarge(TransportError),
}

/// Pulls SSE events from a response body, updating a [`Cursor`].
pub(crate) struct EventReader {
    decoder: SseDecoder,
    body: Body,
    ready: VecDeque<Decoded>,
}

impl EventReader {
    pub(crate) fn new(body: Body, max_bytes: usize) -> Self {
        Self { decoder: SseDecoder::new(max_bytes), body, ready: VecDeque::new() }
    }

    /// The next event; `None` when the body ended; `Err` when the connection failed.
    pub(crate) async fn next(&mut self, cursor: &mut Cursor) -> Option<Result<Item, HttpError>> {
        loop {
            if let Some(decoded) = self.ready.pop_front().or_else(|| self.decoder.next_event()) {
                return Some(Ok(match decoded {
                    Decoded::Event(event) => {
                        if let Some(id) = &event.id {
                            cursor.last_event_id = Some(id.clone());
                        }
                        if let Some(retry) = event.retry {
                            cursor.retry = Some(retry);
                        }
                        Item::Event(event)
                    }
                    Decoded::TooLarge(limit) => Item::TooLarge(TransportError::MessageTooLarge {
                        size: None,
                        limit,
                        setting: Some("HttpClientConfig::max_message_bytes"),
                    }),
                }));
            }
            match self.body.next().await? {
                Ok(chunk) => self.decoder.push(&chunk),
                Err(err) => return Some(Err(err)),
            }
        }
    }
}

/// Decodes an event's data as a message; `None` for events without data (priming, keep-alive).
pub(crate) fn decode_data(event: &SseEvent) -> Option<Result<Message, TransportError>> {
    if event.data.trim().is_empty() {
        return None;
    }
    Some(Message::from_slice(event.data.as_bytes()).map_err(TransportError::from))
}
