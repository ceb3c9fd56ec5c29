//! The in-memory pair passes the transport compliance suite, and the suite catches transports
//! that break the contract.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Sink, Stream};
use mcp_core::{Message, TransportError};
use mcp_testkit::compliance::{self, Property, TransportPair};

fn memory_pair() -> TransportPair {
    let (a, b) = mcp_testkit::duplex(16);
    TransportPair::new(a, b)
        .with_buffer_bound(128 * 1024)
        .unsupported(Property::MalformedFrame, "typed channel: there are no bytes to corrupt")
        .unsupported(Property::OversizedFrame, "typed channel: no size limit")
}

#[tokio::test]
async fn the_memory_pair_passes() {
    let report = compliance::run_all(|| async { memory_pair() }).await;
    assert_eq!(report.ran.len(), 7, "{report}");
    assert_eq!(report.unsupported.len(), 2, "{report}");
    let printed = report.to_string();
    assert!(printed.contains("not supported: malformed_frame: typed channel"), "{printed}");
}

#[tokio::test]
#[should_panic(expected = "property `malformed_frame` cannot run: the pair needs a raw injector")]
async fn an_undeclared_missing_capability_fails() {
    compliance::run_all(|| async {
        let (a, b) = mcp_testkit::duplex(16);
        TransportPair::new(a, b).with_buffer_bound(128 * 1024)
    })
    .await;
}

/// A transport whose sink takes everything into an unbounded buffer: no backpressure.
struct Hoarder {
    inner: mcp_testkit::MemoryTransport,
    queue: std::collections::VecDeque<Message>,
}

impl Sink<Message> for Hoarder {
    type Error = TransportError;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        self.queue.push_back(item);
        Ok(())
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        // Hands over what the channel takes and reports success anyway.
        while let Some(front) = self.queue.pop_front() {
            match Pin::new(&mut self.inner).poll_ready(cx) {
                Poll::Ready(Ok(())) => Pin::new(&mut self.inner).start_send(front)?,
                _ => {
                    self.queue.push_front(front);
                    break;
                }
            }
        }
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

impl Stream for Hoarder {
    type Item = Result<Message, TransportError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

#[tokio::test]
#[should_panic(expected = "property `backpressure` failed: a accepted")]
async fn a_sink_without_backpressure_fails() {
    let (a, b) = mcp_testkit::duplex(16);
    let hoarder = Hoarder { inner: a, queue: Default::default() };
    compliance::backpressure(TransportPair::new(hoarder, b).with_buffer_bound(256 * 1024)).await;
}

/// A stream that loses the message when a `next()` is dropped after the message was taken.
struct Forgetful {
    inner: mcp_testkit::MemoryTransport,
    polls: u64,
}

impl Stream for Forgetful {
    type Item = Result<Message, TransportError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.polls += 1;
        match Pin::new(&mut self.inner).poll_next(cx) {
            // Every fifth message read is "held in the future" and lost on cancel.
            Poll::Ready(Some(Ok(_))) if self.polls.is_multiple_of(5) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => other,
        }
    }
}

impl Sink<Message> for Forgetful {
    type Error = TransportError;
    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.inner).poll_ready(cx)
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        Pin::new(&mut self.inner).start_send(item)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[tokio::test]
#[should_panic(expected = "a message was lost or duplicated")]
async fn a_receive_that_loses_messages_fails() {
    let (a, b) = mcp_testkit::duplex(16);
    compliance::cancel_safe_receive(TransportPair::new(a, Forgetful { inner: b, polls: 0 })).await;
}

#[tokio::test]
#[should_panic(expected = "property `peer_gone` failed: timed out after")]
async fn a_stream_that_never_ends_fails() {
    let (a, b) = mcp_testkit::duplex(16);
    // b's sink with a stream that never ends, whatever happens to a.
    let never_ending = mcp_core::Duplex::new(b, futures::stream::pending());
    let pair = TransportPair::new(a, never_ending).with_timeout(std::time::Duration::from_millis(300));
    compliance::peer_gone(pair).await;
}

#[tokio::test]
#[should_panic(expected = "property `ordering` failed: at b, expected message")]
async fn a_transport_that_duplicates_fails_ordering() {
    use mcp_testkit::fault::{Direction, FaultTransport, Faults};
    let (a, b) = mcp_testkit::duplex(16);
    let b = FaultTransport::new(b, Faults::seeded(3).duplicate(Direction::Incoming, 0.2));
    compliance::ordering(TransportPair::new(a, b)).await;
}

#[tokio::test]
#[should_panic(expected = "property `close_flushes` failed: expected message")]
async fn a_transport_that_loses_messages_fails_close_flushes() {
    use mcp_testkit::fault::{Direction, FaultTransport, Faults};
    let (a, b) = mcp_testkit::duplex(16);
    let a = FaultTransport::new(a, Faults::seeded(3).drop(Direction::Outgoing, 0.1));
    compliance::close_flushes(TransportPair::new(a, b)).await;
}

#[tokio::test]
#[should_panic(
    expected = "transport compliance: 2 of 7 properties failed:\n  ordering: transport compliance property `ordering` failed"
)]
async fn run_all_reports_every_failed_property() {
    use mcp_testkit::fault::{Direction, FaultTransport, Faults};
    let mut n = 0;
    compliance::run_all(|| {
        n += 1;
        // The second and third pairs (ordering, many_in_flight) duplicate what b receives.
        let faulty = n == 2 || n == 3;
        async move {
            if !faulty {
                return memory_pair();
            }
            let (a, b) = mcp_testkit::duplex(16);
            let b = FaultTransport::new(b, Faults::seeded(8).duplicate(Direction::Incoming, 0.5));
            TransportPair::new(a, b)
                .with_buffer_bound(128 * 1024)
                .unsupported(Property::MalformedFrame, "typed channel")
                .unsupported(Property::OversizedFrame, "typed channel")
        }
    })
    .await;
}
