//! An in-memory transport pair on bounded channels, for tests and in-process use.
//!
//! Runtime-agnostic (it uses `futures` channels). Each direction holds at most `capacity`
//! messages in flight; a sender beyond that waits, exactly as a socket whose peer does not read.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::channel::mpsc;
use futures::{Sink, Stream};

use crate::jsonrpc::Message;
use crate::transport::TransportError;

/// One end of an in-memory pair; see [`pair`].
#[derive(Debug)]
pub struct MemoryTransport {
    tx: mpsc::Sender<Message>,
    rx: mpsc::Receiver<Message>,
}

/// Two linked transports: what one sends, the other receives.
///
/// Dropping or closing one end ends the other's stream (with `None`: a clean close).
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use mcp_core::{Message, memory};
///
/// # futures::executor::block_on(async {
/// let (mut a, mut b) = memory::pair(16);
/// a.send(Message::notification("hello", &serde_json::json!({})).unwrap()).await.unwrap();
/// assert_eq!(b.next().await.unwrap().unwrap().method(), Some("hello"));
/// drop(a);
/// assert!(b.next().await.is_none());
/// # });
/// ```
pub fn pair(capacity: usize) -> (MemoryTransport, MemoryTransport) {
    // futures' bounded channel holds `buffer + senders` messages; one sender per direction.
    let buffer = capacity;
    let (a_tx, b_rx) = mpsc::channel(buffer);
    let (b_tx, a_rx) = mpsc::channel(buffer);
    (MemoryTransport { tx: a_tx, rx: a_rx }, MemoryTransport { tx: b_tx, rx: b_rx })
}

fn closed(_: mpsc::SendError) -> TransportError {
    TransportError::Closed
}

impl Sink<Message> for MemoryTransport {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        self.tx.poll_ready(cx).map_err(closed)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        self.tx.start_send(item).map_err(closed)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.tx).poll_flush(cx).map_err(closed)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.tx).poll_close(cx).map_err(closed)
    }
}

impl Stream for MemoryTransport {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.rx).poll_next(cx).map(|m| m.map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{FutureExt, SinkExt, StreamExt};

    #[test]
    fn capacity_bounds_in_flight_messages() {
        futures::executor::block_on(async {
            let (mut a, mut b) = pair(4);
            let msg = Message::notification("n", &serde_json::json!({})).unwrap();
            let mut sent = 0;
            // Send until the sink stops accepting: it must stop at the capacity.
            while a.send(msg.clone()).now_or_never().is_some() {
                sent += 1;
                assert!(sent <= 4, "sent {sent} without a reader");
            }
            assert_eq!(sent, 4);
            assert!(b.next().await.is_some());
        });
    }
}
