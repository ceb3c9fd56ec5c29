//! Redis: our `RedisBus` in both modes with mcp-peer at both ends, beside a raw
//! PUBLISH/SUBSCRIBE round trip (a responder subscribed to a request channel publishes the echo
//! on a reply channel; the client demultiplexes by id), on one redis-server.

use std::time::Duration;

use futures::StreamExt;
use mcp_transport_redis::{Mode, RedisBus, RedisConfig};

use crate::measure::Caller;
use crate::ours::{self, OurCaller};
use crate::raw::{self, Demux};

const REQUESTS: &str = "bench:raw:req";
const REPLIES: &str = "bench:raw:rep";

async fn within<T, E: std::fmt::Debug>(what: &str, f: impl Future<Output = Result<T, E>>) -> T {
    match tokio::time::timeout(Duration::from_secs(30), f).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("{what}: {e:?}"),
        Err(_) => panic!("{what}: no answer within 30 s"),
    }
}

/// Raw PUBLISH/SUBSCRIBE round trips.
#[derive(Clone)]
pub struct RawRedisCaller {
    publisher: redis::aio::MultiplexedConnection,
    demux: Demux,
}

impl RawRedisCaller {
    /// Starts the responder and the client's reply subscription on redis-server `url`.
    pub async fn start(url: &str) -> Self {
        let client = redis::Client::open(url).expect("redis URL");
        let (mut responder_sink, mut requests) = within("responder pubsub", client.get_async_pubsub()).await.split();
        within("subscribe to requests", responder_sink.subscribe(REQUESTS)).await;
        let responder = within("responder connection", client.get_multiplexed_async_connection()).await;
        // Replies go out concurrently on one multiplexed connection: the best the medium offers.
        tokio::spawn(async move {
            let _keep = responder_sink;
            while let Some(msg) = requests.next().await {
                let Some(answer) = raw::echo_answer(msg.get_payload_bytes()) else { continue };
                let mut p = responder.clone();
                tokio::spawn(async move {
                    let _: Result<i64, _> = redis::cmd("PUBLISH").arg(REPLIES).arg(answer).query_async(&mut p).await;
                });
            }
        });
        let (mut reply_sink, mut replies) = within("client pubsub", client.get_async_pubsub()).await.split();
        within("subscribe to replies", reply_sink.subscribe(REPLIES)).await;
        let demux = Demux::default();
        let d = demux.clone();
        tokio::spawn(async move {
            let _keep = reply_sink;
            while let Some(msg) = replies.next().await {
                d.deliver(String::from_utf8(msg.get_payload_bytes().to_vec()).expect("UTF-8 reply"));
            }
        });
        let publisher = within("publisher connection", client.get_multiplexed_async_connection()).await;
        Self { publisher, demux }
    }
}

impl Caller for RawRedisCaller {
    async fn call(&self, seq: u64) {
        let answer = self.demux.expect(seq);
        let mut p = self.publisher.clone();
        let _: i64 = redis::cmd("PUBLISH").arg(REQUESTS).arg(raw::request(seq)).query_async(&mut p).await.expect("PUBLISH");
        raw::check_answer(seq, answer).await;
    }
}

/// Our server and client on service `service` of redis-server `url` in `mode`; the buses are
/// returned to keep them open.
pub async fn ours(url: &str, service: &str, mode: Mode) -> (OurCaller, [RedisBus; 2]) {
    let config = || {
        let mut config = RedisConfig::from_url(&format!("{url}{service}")).expect("redis transport URL");
        config.mode = mode;
        config
    };
    let server = within("open the server's bus", RedisBus::open(config())).await;
    ours::serve_all(within("accept on the bus", server.accept()).await);
    let client_bus = within("open the client's bus", RedisBus::open(config())).await;
    let caller = ours::client(within("connect on the bus", client_bus.connect()).await).await;
    (caller, [server, client_bus])
}
