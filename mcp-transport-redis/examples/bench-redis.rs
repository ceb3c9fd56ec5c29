//! Round trips through this transport beside a raw Redis PUBLISH/SUBSCRIBE round trip, in one
//! run, on a throwaway `redis-server` on 127.0.0.1.
//!
//! ```text
//! cargo run --release -p mcp-transport-redis --example bench-redis [-- --count 20000]
//! ```
//!
//! Each row is the best of 5 interleaved runs of `count / 10` (1 in flight) or `count / 2`
//! (32 in flight) round trips.
//!
//! Rows, for 1 and 32 requests in flight on one session:
//! - `raw`: a client PUBLISHes a JSON-RPC request on one channel, a responder subscribed to it
//!   PUBLISHes it back on another, the client's subscription receives it (the medium alone);
//! - `transport pubsub|durable`: the same request and response as `Message`s over a
//!   `RedisTransport` pair (what the transport adds);
//! - `mcp-peer pubsub|durable`: `Client::call_tool("echo")` against the fixture server (what a
//!   user sees).

#![allow(clippy::print_stdout)] // the table is the example's output

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use mcp_core::Message;
use mcp_peer::Client;
use mcp_testkit::services::RedisServer;
use mcp_transport_redis::{Mode, RedisBus, RedisConfig};

const REQUEST: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut count = 20_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => count = args.next().ok_or("--count needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other:?} (expected --count N)").into()),
        }
    }
    let redis = RedisServer::start().await;
    let url = redis.url();
    println!("| path | in flight | round trips/s | mean latency | vs raw |");
    println!("|---|---|---|---|---|");
    // Each row is the best of `REPEATS` runs, the rows interleaved, so that a noisy machine
    // penalizes every row alike.
    const REPEATS: usize = 5;
    const PATHS: usize = 5;
    for window in [1usize, 32] {
        let n = if window == 1 { count / 10 } else { count / 2 };
        let mut best = [Duration::MAX; PATHS];
        for _ in 0..REPEATS {
            let runs = [
                raw_round_trips(&url, n, window).await?,
                transport_round_trips(&url, Mode::PubSub, n, window).await?,
                peer_round_trips(&url, Mode::PubSub, n, window).await?,
                transport_round_trips(&url, Mode::Durable, n, window).await?,
                peer_round_trips(&url, Mode::Durable, n, window).await?,
            ];
            for (best, run) in best.iter_mut().zip(runs) {
                *best = (*best).min(run);
            }
        }
        let names = [
            "raw Redis PUBLISH/SUBSCRIBE",
            "transport pubsub",
            "mcp-peer call_tool pubsub",
            "transport durable",
            "mcp-peer call_tool durable",
        ];
        for (name, took) in names.iter().zip(best) {
            row(name, window, n, took, best[0]);
        }
    }
    Ok(())
}

fn row(path: &str, window: usize, n: usize, took: Duration, raw: Duration) {
    let rate = n as f64 / took.as_secs_f64();
    let latency = took.as_secs_f64() * window as f64 / n as f64;
    let ratio = raw.as_secs_f64() / took.as_secs_f64();
    println!("| {path} | {window} | {rate:.0} | {:.1} µs | {ratio:.2}x |", latency * 1e6);
}

/// Keeps `window` round trips in flight until `n` completed: `send(i)` starts one,
/// `recv()` waits for any one to complete.
async fn windowed<S, R>(n: usize, window: usize, mut send: S, mut recv: R) -> Duration
where
    S: AsyncFnMut(usize),
    R: AsyncFnMut(),
{
    let started = Instant::now();
    let mut sent = 0;
    let mut in_flight = VecDeque::new();
    while sent < window.min(n) {
        send(sent).await;
        in_flight.push_back(sent);
        sent += 1;
    }
    for _ in 0..n {
        recv().await;
        in_flight.pop_front();
        if sent < n {
            send(sent).await;
            sent += 1;
        }
    }
    started.elapsed()
}

async fn raw_round_trips(url: &str, n: usize, window: usize) -> Result<Duration, Box<dyn std::error::Error>> {
    let client = redis::Client::open(url)?;
    let (mut responder_sink, mut requests) = client.get_async_pubsub().await?.split();
    responder_sink.subscribe("bench:raw:req").await?;
    let responder_pub = client.get_multiplexed_async_connection().await?;
    // The best the medium offers: replies go out concurrently on one multiplexed connection.
    let responder = tokio::spawn(async move {
        while let Some(msg) = requests.next().await {
            let payload: Vec<u8> = msg.get_payload_bytes().to_vec();
            let mut p = responder_pub.clone();
            tokio::spawn(async move {
                let _: Result<i64, _> =
                    redis::cmd("PUBLISH").arg("bench:raw:rep").arg(payload).query_async(&mut p).await;
            });
        }
    });
    let (mut sink, mut replies) = client.get_async_pubsub().await?.split();
    sink.subscribe("bench:raw:rep").await?;
    let publisher = client.get_multiplexed_async_connection().await?;
    let took = windowed(
        n,
        window,
        async |_| {
            let mut p = publisher.clone();
            if window == 1 {
                let _: i64 = redis::cmd("PUBLISH").arg("bench:raw:req").arg(REQUEST).query_async(&mut p).await.unwrap();
            } else {
                tokio::spawn(async move {
                    let _: Result<i64, _> =
                        redis::cmd("PUBLISH").arg("bench:raw:req").arg(REQUEST).query_async(&mut p).await;
                });
            }
        },
        async || {
            replies.next().await.expect("a reply");
        },
    )
    .await;
    responder.abort();
    Ok(took)
}

fn config(url: &str, service: &str, mode: Mode) -> Result<RedisConfig, Box<dyn std::error::Error>> {
    let mut config = RedisConfig::from_url(&format!("{url}{service}"))?;
    config.mode = mode;
    Ok(config)
}

async fn transport_round_trips(
    url: &str,
    mode: Mode,
    n: usize,
    window: usize,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let service = format!("bench-transport-{}", mode.as_str());
    let server = RedisBus::open(config(url, &service, mode)?).await?;
    let mut acceptor = server.accept().await?;
    let responder = tokio::spawn(async move {
        let mut session = acceptor.next().await.expect("a session").transport;
        while let Some(Ok(Message::Request(req))) = session.next().await {
            let params = req.params.clone().unwrap_or_else(mcp_core::RawJson::empty_object);
            if session.send(Message::response(req.id, &params).unwrap()).await.is_err() {
                break;
            }
        }
    });
    let client = RedisBus::open(config(url, &service, mode)?).await?;
    let (mut tx, mut rx) = client.connect().await?.split();
    let request: Message = REQUEST.parse().map_err(|e| format!("{e:?}"))?;
    let took = windowed(
        n,
        window,
        async |_| tx.send(request.clone()).await.unwrap(),
        async || {
            rx.next().await.expect("a response").unwrap();
        },
    )
    .await;
    tx.close().await?;
    responder.abort();
    Ok(took)
}

async fn peer_round_trips(
    url: &str,
    mode: Mode,
    n: usize,
    window: usize,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let service = format!("bench-peer-{}", mode.as_str());
    let server = RedisBus::open(config(url, &service, mode)?).await?;
    let acceptor = server.accept().await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        mcp_testkit::fixtures::everything()
            .serve_acceptor(acceptor, async move {
                let _ = stopped.await;
            })
            .await
    });
    let client_bus = RedisBus::open(config(url, &service, mode)?).await?;
    let client = Client::connect(client_bus.connect().await?).await?;
    let args = serde_json::json!({ "message": "hello" });
    let started = Instant::now();
    let per_worker = n / window;
    let workers = (0..window).map(|_| async {
        for _ in 0..per_worker {
            client.call_tool("echo", &args).await.expect("echo answers");
        }
    });
    futures::future::join_all(workers).await;
    let took = started.elapsed().mul_f64(n as f64 / (per_worker * window) as f64);
    client.close().await?;
    let _ = stop.send(());
    let _ = serving.await;
    Ok(took)
}
