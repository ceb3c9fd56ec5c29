//! Messages arrive intact and in order, in both directions, also with many in flight.

use std::collections::HashSet;

use futures::{Sink, SinkExt, Stream, StreamExt};
use mcp_core::jsonrpc::Notification;
use mcp_core::{ErrorObject, Message, RequestId, TransportError};
use serde_json::json;

use super::check::{Check, describe, numbered, seq_of, unreachable_json};
use super::{Property, TransportPair};

/// Every kind of message crosses in both directions unchanged: requests with numeric and
/// string ids, responses, error responses (also with a null id), notifications with and
/// without params, a batch, and text that needs escaping (quotes, backslashes, newlines,
/// non-ASCII).
pub async fn round_trip(pair: TransportPair) {
    let check = Check { property: Property::RoundTrip, timeout: pair.timeout };
    let TransportPair { mut a, mut b, .. } = pair;
    let tricky = json!({
        "text": "quote \" backslash \\ newline \n tab \t nul \u{0} é ✓ 😀",
        "nested": { "list": [1, 2.5, -3, true, null, { "k": [] }], "big": 9_007_199_254_740_991_i64 },
    });
    let json = |r: Result<Message, serde_json::Error>| r.unwrap_or_else(|e| unreachable_json(&e));

    let request = json(Message::request(1, "tools/call", &tricky));
    check.send(&mut a, request.clone(), "a request from a").await;
    check.same(&check.recv(&mut b, "a request at b").await, &request, "request a -> b");

    let response = json(Message::response(RequestId::from(1), &tricky));
    check.send(&mut b, response.clone(), "a response from b").await;
    check.same(&check.recv(&mut a, "a response at a").await, &response, "response b -> a");

    let request = json(Message::request("req-é-1", "sampling/createMessage", &json!({ "maxTokens": 5 })));
    check.send(&mut b, request.clone(), "a request with a string id from b").await;
    check.same(&check.recv(&mut a, "a request at a").await, &request, "request b -> a");

    let error = Message::error(
        Some(RequestId::from("req-é-1")),
        ErrorObject::new(-32603, "it broke: \"why\"").with_data(&json!({ "detail": [1, 2] })),
    );
    check.send(&mut a, error.clone(), "an error response from a").await;
    check.same(&check.recv(&mut b, "an error response at b").await, &error, "error response a -> b");

    let bare = Message::Notification(Notification {
        method: "notifications/initialized".into(),
        params: None,
        related_request: None,
    });
    check.send(&mut a, bare.clone(), "a notification without params from a").await;
    check.same(&check.recv(&mut b, "a notification at b").await, &bare, "notification a -> b");
    let note = json(Message::notification("notifications/progress", &json!({ "progress": 0.5, "total": 1 })));
    check.send(&mut b, note.clone(), "a notification from b").await;
    check.same(&check.recv(&mut a, "a notification at a").await, &note, "notification b -> a");

    let null_error = Message::error(None, ErrorObject::parse_error("bad"));
    check.send(&mut b, null_error.clone(), "an error response with a null id from b").await;
    check.same(&check.recv(&mut a, "an error with a null id at a").await, &null_error, "null-id error b -> a");

    // A JSON-RPC batch (2025-03-26) is one item, carried whole.
    let batch = Message::Batch(vec![json(Message::request(2, "ping", &json!({}))), note.clone()]);
    check.send(&mut a, batch.clone(), "a batch from a").await;
    check.same(&check.recv(&mut b, "a batch at b").await, &batch, "batch a -> b");
}

/// 200 messages each way, sent at the same time, arrive in the order they were sent.
pub async fn ordering(pair: TransportPair) {
    let check = Check { property: Property::Ordering, timeout: pair.timeout };
    let TransportPair { a, b, .. } = pair;
    let (mut a_tx, mut a_rx) = a.split();
    let (mut b_tx, mut b_rx) = b.split();
    tokio::join!(
        send_in_order(check, &mut a_tx, "a"),
        send_in_order(check, &mut b_tx, "b"),
        receive_in_order(check, &mut a_rx, "a"),
        receive_in_order(check, &mut b_rx, "b"),
    );
}

/// How many messages [`ordering`] sends each way.
const ORDERED: usize = 200;

async fn send_in_order<S>(check: Check, sink: &mut S, from: &str)
where
    S: Sink<Message, Error = TransportError> + Unpin,
{
    for seq in 0..ORDERED {
        check.send(sink, numbered(seq, seq % 64), format_args!("message {seq} from {from}")).await;
    }
}

async fn receive_in_order<S>(check: Check, stream: &mut S, at: &str)
where
    S: Stream<Item = Result<Message, TransportError>> + Unpin,
{
    for want in 0..ORDERED {
        let got = check.recv(stream, format_args!("message {want} at {at}")).await;
        if seq_of(&got) != Some(want) {
            check.fail(format_args!("at {at}, expected message {want} next, got {}", describe(&got)));
        }
    }
}

/// 1,000 requests in flight at once from `a`, answered by `b` as they come: every request gets
/// exactly its response.
pub async fn many_in_flight(pair: TransportPair) {
    const COUNT: i64 = 1000;
    let check = Check { property: Property::ManyInFlight, timeout: pair.timeout };
    let TransportPair { a, mut b, .. } = pair;
    let (mut a_tx, mut a_rx) = a.split();

    let send_all = async {
        for id in 0..COUNT {
            let request = Message::request(id, "tools/call", &json!({ "name": "echo", "arguments": { "n": id } }))
                .unwrap_or_else(|e| unreachable_json(&e));
            // `feed` does not flush: requests pile up in the sink as fast as it takes them.
            if let Err(e) = check.within(format_args!("a accepting request {id}"), a_tx.feed(request)).await {
                check.fail(format_args!("sending request {id} failed: {e}"));
            }
        }
        if let Err(e) = check.within("a flushing 1,000 requests", a_tx.flush()).await {
            check.fail(format_args!("flushing failed: {e}"));
        }
    };
    let answer_all = async {
        for n in 0..COUNT {
            let request = check.recv(&mut b, format_args!("request number {n} at b")).await;
            let Message::Request(request) = request else {
                check.fail(format_args!("b expected a request, got {request}"));
            };
            let params: serde_json::Value = request.parse_params().unwrap_or_default();
            let response = Message::response(request.id, &json!({ "echo": params["arguments"]["n"] }))
                .unwrap_or_else(|e| unreachable_json(&e));
            check.send(&mut b, response, format_args!("response number {n} from b")).await;
        }
    };
    let collect_all = async {
        let mut seen = HashSet::new();
        for n in 0..COUNT {
            let response = check.recv(&mut a_rx, format_args!("response number {n} at a")).await;
            let Message::Response(response) = response else {
                check.fail(format_args!("a expected a response, got {response}"));
            };
            let RequestId::Number(id) = response.id else {
                check.fail(format_args!("response id {} is not one a sent", response.id));
            };
            let echo: serde_json::Value = response.result.parse().unwrap_or_default();
            if echo["echo"] != json!(id) {
                check.fail(format_args!("the response to request {id} carries {echo}: answers were mixed up"));
            }
            if !seen.insert(id) || !(0..COUNT).contains(&id) {
                check.fail(format_args!("response id {id} duplicated or never sent"));
            }
        }
    };
    tokio::join!(send_all, answer_all, collect_all);
}
