//! The testkit's transport compliance suite against a real redis-server, in both modes.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mcp_testkit::compliance::{self, Property, RawInjector, TransportPair};
use mcp_testkit::services::RedisServer;
use mcp_transport_redis::{Mode, RedisBus, RedisConfig};

/// b's receive limit, small to keep the oversized-frame check fast.
const LIMIT: usize = 8 * 1024;
/// The flow-control window (messages a may have unread at b).
const WINDOW: usize = 32;

async fn pair(redis: Arc<RedisServer>, mode: Mode) -> TransportPair {
    let mut config = RedisConfig::from_url(&format!("{}compliance", redis.url())).unwrap();
    config.mode = mode;
    config.max_message_bytes = LIMIT;
    config.session_queue = WINDOW;
    let server = RedisBus::open(config.clone()).await.unwrap();
    let mut acceptor = server.accept().await.unwrap();
    let client = RedisBus::open(config).await.unwrap();
    let a = client.connect().await.unwrap();
    let b = tokio::time::timeout(Duration::from_secs(10), acceptor.next())
        .await
        .expect("the server takes the session within 10 s")
        .expect("the acceptor goes on")
        .transport;
    let b_inbound = format!("mcp:compliance:session:{}:to-server", a.session_id());
    // a may hold its window of ~4 KiB messages while b reads nothing; framing adds a little.
    let pair = TransportPair::new(a, b).with_max_message_bytes(LIMIT).with_buffer_bound(WINDOW * 4400);
    let pair = match mode {
        Mode::PubSub => {
            let raw = redis::Client::open(redis.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
            pair.with_raw_injector(RawInjector::new(move |frame: Vec<u8>| {
                let mut raw = raw.clone();
                let channel = b_inbound.clone();
                async move {
                    let receivers: i64 = redis::cmd("PUBLISH")
                        .arg(channel)
                        .arg(frame)
                        .query_async(&mut raw)
                        .await
                        .map_err(std::io::Error::other)?;
                    assert_eq!(receivers, 1, "b is subscribed");
                    Ok(())
                }
            }))
        }
        _ => pair.unsupported(
            Property::MalformedFrame,
            "a durable session stream has exactly one writer (its entry ids are the sender's sequence); the \
             pub/sub run checks the same decoder with injected frames",
        ),
    };
    pair.keep_alive((redis, server, client, acceptor))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_pubsub() {
    let redis = Arc::new(RedisServer::start().await);
    let report = compliance::run_all(|| pair(redis.clone(), Mode::PubSub)).await;
    assert_eq!(report.ran.len(), Property::ALL.len(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_durable() {
    let redis = Arc::new(RedisServer::start().await);
    let report = compliance::run_all(|| pair(redis.clone(), Mode::Durable)).await;
    assert_eq!(report.ran.len(), Property::ALL.len() - 1, "{report}");
    assert_eq!(report.unsupported.len(), 1, "{report}");
}
