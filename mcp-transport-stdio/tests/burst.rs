//! Bursts of 100,000 messages each way lose nothing: the writer waits for a full pipe
//! (backpressure) instead of dropping or buffering without bound.

mod support;

use futures::{SinkExt, StreamExt, stream};
use mcp_core::{Message, RequestId, Transport};
use mcp_transport_stdio::{ChildProcess, LinesTransport};
use serde_json::json;
use support::{example, within, within_secs};

const BURST: i64 = 100_000;

fn numbered(i: i64, method: &str) -> Message {
    Message::request(i, method, &json!({"i": i})).unwrap()
}

/// Sends `BURST` requests through `transport` while reading what comes back, checking that
/// the answers (`Response` or `Request`, by id) arrive exactly once each, in order.
async fn burst_through(transport: impl Transport, method: &'static str) {
    let (mut sink, mut stream) = transport.split();
    let send = async move {
        let mut messages = stream::iter((0..BURST).map(|i| Ok(numbered(i, method))));
        sink.send_all(&mut messages).await.unwrap();
        sink
    };
    let receive = async move {
        for want in 0..BURST {
            let got = stream.next().await.unwrap_or_else(|| panic!("the stream ended before message {want}")).unwrap();
            assert_eq!(got.id(), Some(&RequestId::from(want)), "message {want} of {BURST}: {got}");
        }
    };
    // Generous: a debug build on a loaded CI machine; the point is that nothing is lost.
    let (mut sink, ()) = within_secs(180, "100,000 messages each way", async { tokio::join!(send, receive) }).await;
    sink.close().await.unwrap();
}

#[tokio::test]
async fn a_burst_each_way_through_a_child_process() {
    let server = ChildProcess::new(example("stdio-echo")).spawn().unwrap();
    burst_through(server, "echo").await;
}

#[tokio::test]
async fn a_burst_each_way_through_a_small_in_process_pipe() {
    // A 4 KiB pipe both ways: both writers are stopped by the full pipe over and over.
    let (ours, theirs) = tokio::io::duplex(4096);
    let (read, write) = tokio::io::split(ours);
    let transport = LinesTransport::new(read, write);
    let (read, write) = tokio::io::split(theirs);
    let mut peer = LinesTransport::new(read, write);
    // The peer sends its own burst of 100,000 while echoing ours, without reading ahead.
    let peer_task = tokio::spawn(async move {
        let mut sent = 0;
        while let Some(item) = peer.next().await {
            let Ok(Message::Request(req)) = item else { panic!("a request: {item:?}") };
            peer.feed(Message::request(req.id.clone(), "from-peer", &json!({})).unwrap()).await.unwrap();
            sent += 1;
            if sent % 1000 == 0 {
                peer.flush().await.unwrap();
            }
        }
        peer.close().await.unwrap();
        sent
    });
    burst_through(transport, "to-peer").await;
    assert_eq!(within("the peer to finish", peer_task).await.unwrap(), BURST);
}
