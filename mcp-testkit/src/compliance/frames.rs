//! Bad frames are error items, not the end of the connection.

use mcp_core::{Message, TransportError};

use super::check::{Check, describe, numbered, seq_of, unreachable_json};
use super::{Property, TransportPair};

/// The malformed frames the suite injects, and what each is.
const MALFORMED: [(&str, &[u8]); 6] = [
    ("a truncated JSON object", b"{\"jsonrpc\":\"2.0\",\"method\":"),
    ("plain text", b"hello, not json"),
    ("invalid UTF-8", b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\xfe\"}"),
    ("JSON that is not JSON-RPC", b"{\"foo\":1}"),
    ("a request whose method is a number", b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":5}"),
    ("an empty batch", b"[]"),
];

/// Each of several malformed frames (truncated JSON, plain text, invalid UTF-8, JSON that is
/// not JSON-RPC, an empty batch) arrives at `b` as a non-fatal error item that has an error
/// response to send back, and a valid message sent after it still arrives.
///
/// # Panics
/// When the pair has no [`RawInjector`](super::RawInjector).
pub async fn malformed_frame(pair: TransportPair) {
    let check = Check { property: Property::MalformedFrame, timeout: pair.timeout };
    let TransportPair { mut a, mut b, raw_to_b, .. } = pair;
    let Some(mut inject) = raw_to_b else {
        check.fail("the pair has no raw injector: add one with TransportPair::with_raw_injector")
    };
    for (seq, (what, frame)) in MALFORMED.iter().enumerate() {
        if let Err(e) = check.within(format_args!("injecting {what}"), inject.inject(frame.to_vec())).await {
            check.fail(format_args!("the raw injector failed on {what}: {e}"));
        }
        expect_frame_error(&check, &mut b, what, |_| true).await;
        check.send(&mut a, numbered(seq, 10), format_args!("a valid message after {what}")).await;
        let got = check.recv(&mut b, format_args!("the valid message sent after {what}")).await;
        if seq_of(&got) != Some(seq) {
            check.fail(format_args!("after {what}, expected the next valid message, got {}", describe(&got)));
        }
    }
}

/// A message larger than `b`'s limit is rejected with a non-fatal
/// [`MessageTooLarge`](TransportError::MessageTooLarge) naming the limit, and the next message
/// arrives.
///
/// With a raw injector the oversized frame is injected behind `a`'s back and `b` must report
/// it. Without one, `a` sends it and either `a`'s sink refuses it with `MessageTooLarge` (a
/// transport that knows the limit up front, as a NATS server's `max_payload`) or `b` reports it.
///
/// # Panics
/// When the pair does not declare its limit ([`TransportPair::with_max_message_bytes`]).
pub async fn oversized_frame(pair: TransportPair) {
    let check = Check { property: Property::OversizedFrame, timeout: pair.timeout };
    let TransportPair { mut a, mut b, raw_to_b, max_message_bytes, .. } = pair;
    let Some(limit) = max_message_bytes else {
        check.fail("the pair does not declare b's limit: set TransportPair::with_max_message_bytes")
    };
    let big = numbered(0, limit + 1024);
    let is_too_large =
        |e: &TransportError| matches!(e, TransportError::MessageTooLarge { limit: l, .. } if *l == limit);

    match raw_to_b {
        Some(mut inject) => {
            if let Err(e) = check.within("injecting an oversized frame", inject.inject(big.to_vec())).await {
                check.fail(format_args!("the raw injector failed: {e}"));
            }
            expect_frame_error(&check, &mut b, "an oversized frame", is_too_large).await;
        }
        None => {
            use futures::SinkExt;
            match check.within("a's send of an oversized message", a.send(big)).await {
                Err(e) if is_too_large(&e) && !e.is_fatal() => {}
                Err(e) => check.fail(format_args!(
                    "a's sink may refuse an oversized message only with a non-fatal MessageTooLarge naming the {limit}-byte limit, got `{e}`"
                )),
                Ok(()) => expect_frame_error(&check, &mut b, "an oversized message", is_too_large).await,
            }
        }
    }
    let after =
        Message::notification("compliance/after", &serde_json::json!({})).unwrap_or_else(|e| unreachable_json(&e));
    check.send(&mut a, after.clone(), "a small message after the oversized one").await;
    check.same(&check.recv(&mut b, "the small message after the oversized one").await, &after, "after oversized");
}

/// Reads `b` until an error item, which must be non-fatal, answerable, and satisfy `expected`.
async fn expect_frame_error(
    check: &Check,
    b: &mut mcp_core::BoxTransport,
    what: &str,
    expected: impl Fn(&TransportError) -> bool,
) {
    use futures::StreamExt;
    match check.within(format_args!("the error item for {what}"), b.next()).await {
        Some(Err(e)) if e.is_fatal() => {
            check.fail(format_args!("{what} must be a non-fatal error item, got the fatal `{e}`"))
        }
        Some(Err(e)) if e.error_response().is_none() => {
            check.fail(format_args!("the error item for {what} (`{e}`) has no JSON-RPC error response to send back"))
        }
        Some(Err(e)) if !expected(&e) => check.fail(format_args!("{what} produced the wrong error: `{e:?}`")),
        Some(Err(_)) => {}
        Some(Ok(m)) => check.fail(format_args!("{what} must be an error item, got {}", describe(&m))),
        None => check.fail(format_args!("the stream ended after {what}; a frame error must not end it")),
    }
}
