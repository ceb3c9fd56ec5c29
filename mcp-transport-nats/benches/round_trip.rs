//! Round trips per second over a real nats-server on 127.0.0.1: raw async-nats request/reply
//! beside MCP sessions of this crate, 1 and 32 in flight, in one run.
//!
//! ```text
//! cargo bench -p mcp-transport-nats --bench round_trip            # 20,000 round trips per row
//! cargo bench -p mcp-transport-nats --bench round_trip -- 2000     # fewer
//! ```
//!
//! Needs `nats-server` (scripts/install-test-deps). Prints a Markdown table on stderr.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use mcp_core::Message;
use mcp_testkit::services::NatsServer;
use mcp_transport_nats::{NatsAcceptor, NatsClientConfig, NatsServerConfig, NatsTransport, connect};
use serde_json::json;

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(rounds));
}

async fn run(rounds: usize) {
    let server = NatsServer::start().await;
    let server_nc = Box::pin(async_nats::connect(server.url())).await.unwrap();
    let client_nc = Box::pin(async_nats::connect(server.url())).await.unwrap();

    // Raw: a responder echoing the payload.
    let mut raw_sub = server_nc.subscribe("bench.raw").await.unwrap();
    let responder = server_nc.clone();
    tokio::spawn(async move {
        while let Some(msg) = raw_sub.next().await {
            if let Some(reply) = msg.reply {
                let _ = responder.publish(reply, msg.payload).await;
            }
        }
    });
    server_nc.flush().await.unwrap();

    // MCP over NATS: a server instance answering every request with its params.
    let mut acceptor = NatsAcceptor::bind(server_nc.clone(), NatsServerConfig::new("bench")).await.unwrap();
    tokio::spawn(async move {
        while let Some(session) = acceptor.next().await {
            tokio::spawn(async move {
                let (mut tx, mut rx) = session.transport.split();
                while let Some(Ok(Message::Request(req))) = rx.next().await {
                    let params = req.params.map(|p| p.to_value()).unwrap_or_default();
                    if tx.send(Message::response(req.id, &params).unwrap()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let payload = json!({ "name": "echo", "arguments": { "message": "hello" } });
    let payload_bytes = Message::request(1, "tools/call", &payload).unwrap().to_vec();

    let mut rows = Vec::new();
    for in_flight in [1usize, 32] {
        let raw = raw_round_trips(&client_nc, &payload_bytes, rounds, in_flight).await;
        let mut session = connect(&client_nc, NatsClientConfig::new("bench")).await.unwrap();
        let ours = session_round_trips(&mut session, &payload, rounds, in_flight).await;
        session.close().await.unwrap();
        rows.push((in_flight, raw, ours));
    }
    eprintln!("| round trips over nats-server (127.0.0.1), {rounds} per row | in flight | per second | vs raw |");
    eprintln!("|---|---|---|---|");
    for (in_flight, raw, ours) in rows {
        eprintln!("| raw async-nats request/reply | {in_flight} | {:.0} | 1.00x |", per_second(rounds, raw));
        eprintln!(
            "| mcp-transport-nats session (request → response) | {in_flight} | {:.0} | {:.2}x |",
            per_second(rounds, ours),
            raw.as_secs_f64() / ours.as_secs_f64()
        );
    }
}

fn per_second(rounds: usize, took: Duration) -> f64 {
    rounds as f64 / took.as_secs_f64()
}

async fn raw_round_trips(nc: &async_nats::Client, payload: &[u8], rounds: usize, in_flight: usize) -> Duration {
    let payload = bytes::Bytes::copy_from_slice(payload);
    let start = Instant::now();
    futures::stream::iter(0..rounds)
        .for_each_concurrent(in_flight, |_| {
            let (nc, payload) = (nc.clone(), payload.clone());
            async move {
                nc.request("bench.raw", payload).await.unwrap();
            }
        })
        .await;
    start.elapsed()
}

async fn session_round_trips(
    session: &mut NatsTransport,
    params: &serde_json::Value,
    rounds: usize,
    in_flight: usize,
) -> Duration {
    let start = Instant::now();
    let (mut sent, mut received) = (0usize, 0usize);
    while received < rounds {
        while sent < rounds && sent - received < in_flight {
            session.feed(Message::request(sent as i64, "tools/call", params).unwrap()).await.unwrap();
            sent += 1;
        }
        session.flush().await.unwrap();
        match session.next().await {
            Some(Ok(Message::Response(_))) => received += 1,
            other => panic!("expected a response, got {other:?}"),
        }
    }
    start.elapsed()
}
