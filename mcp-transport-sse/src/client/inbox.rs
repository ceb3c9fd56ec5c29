//! The bounded queue between what receives the server's messages (POST responses, SSE streams)
//! and the transport's stream.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use mcp_core::{Message, TransportError};

type Item = Result<Message, TransportError>;

/// A bounded multi-producer queue read by the transport's `poll_next`.
///
/// Unlike a channel, it does not wake the reader for a message queued while the reader itself
/// is polling the producers ([`Inbox::poll_next`] drives the POSTs first, then reads): a task
/// that wakes itself is rescheduled as if it had yielded, and the runtime then wakes another
/// worker thread, which costs a cross-CPU wake-up per response.
pub(crate) struct Inbox {
    state: Mutex<State>,
    capacity: usize,
}

struct State {
    queue: VecDeque<Item>,
    /// The reader's waker while it waits; `None` while it is polling (it reads next anyway).
    reader: Option<Waker>,
    /// Producers waiting for room.
    writers: Vec<Waker>,
}

impl Inbox {
    /// A queue holding at most `capacity` messages (at least 1).
    pub(crate) fn new(capacity: usize) -> Self {
        let state = State { queue: VecDeque::new(), reader: None, writers: Vec::new() };
        Self { state: Mutex::new(state), capacity: capacity.max(1) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item`, waiting while the queue is full.
    ///
    /// # Cancel safety
    /// Dropping the future before it completes drops `item`.
    pub(crate) async fn push(&self, item: Item) {
        let mut item = Some(item);
        std::future::poll_fn(|cx| {
            let mut state = self.state();
            if state.queue.len() >= self.capacity {
                if !state.writers.iter().any(|w| w.will_wake(cx.waker())) {
                    state.writers.push(cx.waker().clone());
                }
                return Poll::Pending;
            }
            if let Some(item) = item.take() {
                state.queue.push_back(item);
            }
            let reader = state.reader.take();
            drop(state);
            if let Some(reader) = reader {
                reader.wake();
            }
            Poll::Ready(())
        })
        .await;
    }

    /// Marks the reader as polling: messages queued from now on do not wake it.
    pub(crate) fn begin_read(&self) {
        self.state().reader = None;
    }

    /// The next message, or `Pending` (the reader is woken when one is queued).
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Item> {
        let mut state = self.state();
        match state.queue.pop_front() {
            Some(item) => {
                let writers = std::mem::take(&mut state.writers);
                drop(state);
                writers.into_iter().for_each(Waker::wake);
                Poll::Ready(item)
            }
            None => {
                state.reader = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    fn note(n: i64) -> Item {
        Ok(Message::error(Some(mcp_core::RequestId::Number(n)), mcp_core::ErrorObject::internal_error("x")))
    }

    #[tokio::test]
    async fn a_full_inbox_holds_producers_until_the_reader_takes_one() {
        let inbox = Arc::new(Inbox::new(2));
        inbox.push(note(1)).await;
        inbox.push(note(2)).await;
        let third = tokio::spawn({
            let inbox = Arc::clone(&inbox);
            async move { inbox.push(note(3)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!third.is_finished(), "a third message waits for room");
        let first = std::future::poll_fn(|cx| inbox.poll_pop(cx)).await;
        assert_eq!(first.ok().and_then(|m| m.id().cloned()), Some(mcp_core::RequestId::Number(1)));
        tokio::time::timeout(Duration::from_secs(5), third).await.expect("room frees the producer").expect("task");
        for n in [2, 3] {
            let next = std::future::poll_fn(|cx| inbox.poll_pop(cx)).await;
            assert_eq!(next.ok().and_then(|m| m.id().cloned()), Some(mcp_core::RequestId::Number(n)), "in order");
        }
    }

    #[tokio::test]
    async fn a_waiting_reader_is_woken_by_a_producer_in_another_task() {
        let inbox = Arc::new(Inbox::new(4));
        let producer = {
            let inbox = Arc::clone(&inbox);
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                inbox.push(note(7)).await;
            }
        };
        tokio::spawn(producer);
        let got = tokio::time::timeout(Duration::from_secs(5), std::future::poll_fn(|cx| inbox.poll_pop(cx)))
            .await
            .expect("the reader is woken");
        assert_eq!(got.ok().and_then(|m| m.id().cloned()), Some(mcp_core::RequestId::Number(7)));
    }
}
