//! Flow control: a sender waits for a reader that does not read, and receiving can be
//! cancelled at any point without losing a message.

use std::time::Duration;

use futures::{FutureExt, Sink, SinkExt, StreamExt};
use mcp_core::Message;

use super::check::{Check, describe, numbered, seq_of};
use super::{Property, TransportPair};

/// The payload of each backpressure message, unless the message limit is smaller.
const BACKPRESSURE_PAD: usize = 4096;
/// Messages sent after the reader starts, to show the sender resumes.
const RESUMED: usize = 20;

/// While `b` does not read, `a`'s sink stops accepting (`poll_ready` or the flush stays
/// pending) before it has taken more than the declared buffer bound; once `b` reads, every
/// accepted message arrives in order and sending resumes.
///
/// # Panics
/// When the pair declares no bound ([`TransportPair::with_buffer_bound`]).
pub async fn backpressure(pair: TransportPair) {
    let check = Check { property: Property::Backpressure, timeout: pair.timeout };
    let stall = pair.stall;
    let Some(bound) = pair.max_buffered_bytes else {
        check.fail("the pair declares no buffer bound: set TransportPair::with_buffer_bound")
    };
    let pad = pair.max_message_bytes.map_or(BACKPRESSURE_PAD, |limit| BACKPRESSURE_PAD.min(limit / 2));
    let TransportPair { mut a, mut b, .. } = pair;

    // Send until the sink stays pending for `stall`; count what it accepted.
    let mut accepted = 0usize;
    let mut accepted_bytes = 0usize;
    loop {
        if accepted_bytes > bound {
            check.fail(format_args!(
                "a accepted {accepted} messages ({accepted_bytes} bytes) while b read nothing, more than the \
                 declared bound of {bound} bytes: memory is not bounded (or the bound is too small)"
            ));
        }
        if !ready_within(&mut a, stall, &check).await {
            break;
        }
        let message = numbered(accepted, pad);
        let size = message.to_vec().len();
        if let Err(e) = a.start_send_unpin(message) {
            check.fail(format_args!("start_send of message {accepted} failed: {e}"));
        }
        accepted += 1;
        accepted_bytes += size;
        match tokio::time::timeout(stall, a.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => check.fail(format_args!("flushing message {} failed: {e}", accepted - 1)),
            Err(_) => break, // the flush waits for the reader: that is backpressure too
        }
    }
    if accepted == 0 {
        check.fail("a accepted no message at all while b was idle");
    }
    tracing::debug!(accepted, accepted_bytes, bound, "compliance: sender is waiting for the reader");

    // Now read: everything accepted arrives in order, and the sender goes on.
    let total = accepted + RESUMED;
    let read_all = async {
        for want in 0..total {
            let got = check.recv(&mut b, format_args!("message {want} of {total} once b reads")).await;
            if seq_of(&got) != Some(want) {
                check.fail(format_args!("expected message {want}, got {}", describe(&got)));
            }
        }
    };
    let resume = async {
        for seq in accepted..total {
            check.send(&mut a, numbered(seq, pad), format_args!("message {seq} after b started reading")).await;
        }
    };
    tokio::join!(read_all, resume);
}

/// Whether `poll_ready` completes within `stall`.
async fn ready_within<S>(sink: &mut S, stall: Duration, check: &Check) -> bool
where
    S: Sink<Message, Error = mcp_core::TransportError> + Unpin,
{
    match tokio::time::timeout(stall, futures::future::poll_fn(|cx| sink.poll_ready_unpin(cx))).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => check.fail(format_args!("poll_ready failed while the peer was idle: {e}")),
        Err(_) => false,
    }
}

/// 300 messages arrive while `b`'s `next()` futures are dropped over and over before they
/// complete (polled once, or cut off by a short timeout): each message arrives exactly once, in
/// order.
pub async fn cancel_safe_receive(pair: TransportPair) {
    const COUNT: usize = 300;
    let check = Check { property: Property::CancelSafeReceive, timeout: pair.timeout };
    let TransportPair { mut a, mut b, .. } = pair;
    let send = async {
        for seq in 0..COUNT {
            check.send(&mut a, numbered(seq, (seq * 37) % 2048), format_args!("message {seq}")).await;
            if seq.is_multiple_of(7) {
                tokio::task::yield_now().await;
            }
        }
    };
    let receive = check.within("all messages through cancelled receives", async {
        let mut want = 0;
        let mut round = 0u64;
        while want < COUNT {
            round += 1;
            let item = if round.is_multiple_of(3) {
                // Poll once; a pending future is dropped at once.
                b.next().now_or_never()
            } else {
                // Cut off after a few tens of microseconds, often mid-wait.
                tokio::time::timeout(Duration::from_micros(10 + (round * 13) % 300), b.next()).await.ok()
            };
            match item {
                None => tokio::task::yield_now().await,
                Some(Some(Ok(got))) => {
                    if seq_of(&got) != Some(want) {
                        check.fail(format_args!(
                            "after cancelled receives, expected message {want}, got {}: a message was lost or duplicated",
                            describe(&got)
                        ));
                    }
                    want += 1;
                }
                Some(Some(Err(e))) => check.fail(format_args!("error item while receiving message {want}: {e}")),
                Some(None) => check.fail(format_args!("the stream ended after {want} of {COUNT} messages")),
            }
        }
    });
    tokio::join!(send, receive);
}
