//! Ending a connection: a close loses nothing, a vanished peer ends the stream.

use futures::{SinkExt, StreamExt};

use super::check::{Check, describe, numbered, seq_of};
use super::{Property, TransportPair};

/// `a` queues 100 messages without flushing, then closes: `b` receives all 100 in order and
/// then the end of the stream (`None`, a clean close), and `a` refuses further sends.
///
/// When the pair declares [`Property::PeerGone`] unsupported (the medium cannot tell that the
/// peer went away), only delivery is checked, not the end of `b`'s stream.
pub async fn close_flushes(pair: TransportPair) {
    const COUNT: usize = 100;
    let check = Check { property: Property::CloseFlushes, timeout: pair.timeout };
    let end_observable = pair.unsupported_reason(Property::PeerGone).is_none();
    let TransportPair { mut a, mut b, .. } = pair;

    let send_then_close = async {
        for seq in 0..COUNT {
            if let Err(e) = check.within(format_args!("a accepting message {seq}"), a.feed(numbered(seq, 100))).await {
                check.fail(format_args!("queueing message {seq} failed: {e}"));
            }
        }
        if let Err(e) = check.within("a's close to finish", a.close()).await {
            check.fail(format_args!("closing a failed: {e}"));
        }
    };
    let receive = async {
        for want in 0..COUNT {
            let got = check.recv(&mut b, format_args!("message {want} of {COUNT} sent before the close")).await;
            if seq_of(&got) != Some(want) {
                check.fail(format_args!("expected message {want}, got {}", describe(&got)));
            }
        }
        if end_observable {
            match check.within("the end of b's stream after a closed", b.next()).await {
                None => {}
                Some(Ok(m)) => {
                    check.fail(format_args!("expected the end of the stream, got an extra {}", describe(&m)))
                }
                Some(Err(e)) => check.fail(format_args!(
                    "a clean close must end the peer's stream with `None`, got the error `{e}` (fatal: {})",
                    e.is_fatal()
                )),
            }
        }
    };
    tokio::join!(send_then_close, receive);

    match check.within("a send after close to fail", a.send(numbered(COUNT, 0))).await {
        Err(e) if e.is_fatal() => {}
        Err(e) => check.fail(format_args!("a send after close must fail with a fatal error, got `{e}`")),
        Ok(()) => check.fail("a send after close succeeded; it must fail (TransportError::Closed)"),
    }
}

/// `a` disappears without a close (dropped, as when a process dies): `b`'s stream ends within
/// the timeout.
///
/// The contract allows either ending: `None` (the medium cannot tell a crash from a close, as
/// with a pipe's EOF) or a fatal error such as [`ConnectionLost`](mcp_core::TransportError::ConnectionLost)
/// followed by `None`. A non-fatal error, a message, or waiting forever fail.
pub async fn peer_gone(pair: TransportPair) {
    let check = Check { property: Property::PeerGone, timeout: pair.timeout };
    let TransportPair { a, mut b, raw_to_b, .. } = pair;
    // The injector is part of a (it may hold a's writer): it goes too.
    drop((a, raw_to_b));
    match check.within("b's stream to end after a was dropped", b.next()).await {
        None => {}
        Some(Err(e)) if e.is_fatal() => {
            if let Some(item) = check.within("`None` after the fatal error", b.next()).await {
                check.fail(format_args!("after the fatal error `{e}` the stream must end, got {item:?}"));
            }
        }
        Some(Err(e)) => check.fail(format_args!("expected the end of the stream, got the non-fatal error `{e}`")),
        Some(Ok(m)) => check.fail(format_args!("expected the end of the stream, got {}", describe(&m))),
    }
}
