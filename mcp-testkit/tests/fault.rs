//! Fault injection: every fault happens, and the same seed makes the same faults.

mod support;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::{Message, TransportError};
use mcp_testkit::fault::{Direction, Fault, FaultTransport, Faults};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);
const COUNT: usize = 300;

fn numbered(i: usize) -> Message {
    Message::notification("n", &json!({ "i": i })).unwrap()
}

fn number(m: &Message) -> usize {
    let Message::Notification(n) = m else { panic!("{m}") };
    n.parse_params::<serde_json::Value>().unwrap()["i"].as_u64().unwrap() as usize
}

/// What the faulty end receives of COUNT messages, as text: "7", "dup", "parse", "too-large".
async fn received_with(faults: Faults) -> Vec<String> {
    let (mut peer, inner) = mcp_testkit::duplex(COUNT * 2 + 8);
    let mut faulty = FaultTransport::new(inner, faults);
    for i in 0..COUNT {
        peer.send(numbered(i)).await.unwrap();
    }
    drop(peer);
    let mut seen = Vec::new();
    let collect = async {
        while let Some(item) = faulty.next().await {
            seen.push(match item {
                Ok(m) => number(&m).to_string(),
                Err(TransportError::Parse { .. }) => "parse".into(),
                Err(TransportError::MessageTooLarge { limit: 1000, .. }) => "too-large".into(),
                Err(e) => panic!("unexpected error item {e}"),
            });
        }
    };
    tokio::time::timeout(WAIT, collect).await.expect("the faulty stream to end");
    seen
}

fn all_faults(seed: u64) -> Faults {
    Faults::seeded(seed)
        .drop(Direction::Incoming, 0.1)
        .duplicate(Direction::Incoming, 0.1)
        .corrupt(0.1)
        .oversize(0.1, 1000)
        .delay(Direction::Incoming, 0.05, Duration::from_millis(2))
}

#[tokio::test]
async fn the_same_seed_makes_the_same_faults() {
    let first = received_with(all_faults(42)).await;
    let second = received_with(all_faults(42)).await;
    let other = received_with(all_faults(43)).await;
    assert_eq!(first, second, "same seed, same traffic: same faults");
    assert_ne!(first, other, "another seed should make other faults");

    // Every kind of fault happened, and the order of what was delivered is kept.
    assert!(first.iter().any(|s| s == "parse") && first.iter().any(|s| s == "too-large"), "{first:?}");
    let numbers: Vec<usize> = first.iter().filter_map(|s| s.parse().ok()).collect();
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "delays must not reorder: {numbers:?}");
    assert!(numbers.windows(2).any(|w| w[0] == w[1]), "some message was duplicated");
    let distinct: std::collections::BTreeSet<_> = numbers.iter().collect();
    assert!(distinct.len() < COUNT - 30, "about 30% of messages dropped, corrupted or oversized: {}", distinct.len());
    assert!(distinct.len() > COUNT / 2, "{}", distinct.len());
}

#[tokio::test]
async fn outgoing_faults_match_the_log() {
    let (inner, mut peer) = mcp_testkit::duplex(COUNT * 2 + 8);
    let faults = Faults::seeded(9).drop(Direction::Outgoing, 0.2).duplicate(Direction::Both, 0.2);
    let mut faulty = FaultTransport::new(inner, faults);
    let log = faulty.log();
    for i in 0..COUNT {
        faulty.send(numbered(i)).await.unwrap();
    }
    faulty.close().await.unwrap();
    let mut received = 0;
    while let Some(item) = tokio::time::timeout(WAIT, peer.next()).await.expect("the peer's stream to end") {
        item.unwrap();
        received += 1;
    }
    let dropped = log.count(|e| e.fault == Fault::Dropped);
    let duplicated = log.count(|e| e.fault == Fault::Duplicated);
    assert!(dropped > 0 && duplicated > 0, "{:?}", log.events());
    assert!(log.events().iter().all(|e| e.direction == Direction::Outgoing));
    assert_eq!(received, COUNT - dropped + duplicated);
}

#[tokio::test]
async fn cut_after_n_ends_both_ends() {
    let (inner, mut peer) = mcp_testkit::duplex(16);
    let mut faulty = FaultTransport::new(inner, Faults::seeded(1).cut_after(5));
    for i in 0..3 {
        faulty.send(numbered(i)).await.unwrap();
    }
    for i in 0..2 {
        peer.send(numbered(100 + i)).await.unwrap();
    }
    assert_eq!(number(&faulty.next().await.unwrap().unwrap()), 100);
    assert_eq!(number(&faulty.next().await.unwrap().unwrap()), 101);
    // Five messages passed: the sixth, either way, cuts the connection.
    let err = faulty.send(numbered(3)).await.unwrap_err();
    assert!(matches!(err, TransportError::ConnectionLost(ref why) if why.contains("after 5 messages")), "{err}");
    assert!(err.is_fatal());
    let Some(Err(err)) = faulty.next().await else { panic!("the cut as an error item") };
    assert!(matches!(err, TransportError::ConnectionLost(_)), "{err}");
    assert!(faulty.next().await.is_none());
    // The peer sees the three messages, then the end of the connection.
    for want in 0..3 {
        assert_eq!(number(&peer.next().await.unwrap().unwrap()), want);
    }
    assert!(tokio::time::timeout(WAIT, peer.next()).await.expect("the peer's stream to end").is_none());
}

#[tokio::test]
async fn inflate_pads_outgoing_messages() {
    let (inner, mut peer) = mcp_testkit::duplex(16);
    let mut faulty = FaultTransport::new(inner, Faults::seeded(5).inflate(1.0, 10_000));
    faulty.send(numbered(1)).await.unwrap();
    faulty.send(Message::response(7.into(), &json!({ "ok": true })).unwrap()).await.unwrap();
    let padded = peer.next().await.unwrap().unwrap();
    assert!(padded.to_vec().len() > 10_000);
    assert_eq!(number(&padded), 1, "the message is otherwise unchanged");
    let Message::Response(response) = peer.next().await.unwrap().unwrap() else { panic!("a response") };
    let result = response.result.to_value();
    assert_eq!(result["ok"], true);
    assert_eq!(result["_testkitPadding"].as_str().unwrap().len(), 10_000);
}

/// Inflated messages really cross a byte transport oversized: the receiver reports each as a
/// non-fatal error item and goes on.
#[tokio::test]
async fn inflated_frames_hit_a_real_receivers_limit() {
    let (a, mut b, _injector) = support::pipe_pair();
    let mut a = FaultTransport::new(a, Faults::seeded(11).inflate(0.3, support::LIMIT + 1));
    let log = a.log();
    let send = async {
        for i in 0..50 {
            a.send(numbered(i)).await.unwrap();
        }
    };
    let receive = async {
        let (mut delivered, mut too_large) = (Vec::new(), 0);
        while delivered.len() + too_large < 50 {
            match tokio::time::timeout(WAIT, b.next()).await.expect("the next frame") {
                Some(Ok(m)) => delivered.push(number(&m)),
                Some(Err(TransportError::MessageTooLarge { limit, .. })) if limit == support::LIMIT => too_large += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        (delivered, too_large)
    };
    let ((), (delivered, too_large)) = tokio::join!(send, receive);
    let inflated: Vec<usize> = log.events().iter().filter(|e| e.fault == Fault::Oversized).map(|e| e.index).collect();
    assert_eq!(too_large, inflated.len());
    assert!(too_large > 5, "{inflated:?}");
    let expected: Vec<usize> = (0..50).filter(|i| !inflated.contains(i)).collect();
    assert_eq!(delivered, expected);
}
