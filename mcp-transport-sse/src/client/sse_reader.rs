//! Reading MCP messages out of an SSE response body.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use mcp_core::{Message, TransportError};

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

type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// Pulls SSE events from a response body, updating a [`Cursor`].
pub(crate) struct EventReader {
    decoder: SseDecoder,
    body: BodyStream,
    ready: VecDeque<Decoded>,
}

impl EventReader {
    pub(crate) fn new(response: reqwest::Response, max_bytes: usize) -> Self {
        Self { decoder: SseDecoder::new(max_bytes), body: Box::pin(response.bytes_stream()), ready: VecDeque::new() }
    }

    /// The next event; `None` when the body ended; `Err` when the connection failed.
    pub(crate) async fn next(&mut self, cursor: &mut Cursor) -> Option<Result<Item, reqwest::Error>> {
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
