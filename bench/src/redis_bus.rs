//! Redis: our `RedisBus` in both modes with mcp-peer at both ends, beside two raw round trips
//! on the same redis-server: PUBLISH/SUBSCRIBE (a responder subscribed to a request channel
//! publishes the echo on a reply channel; the client demultiplexes by id) and Redis Streams
//! (XADD to a request stream, a responder in a blocking XREADGROUP answers with XADD to a reply
//! stream that the client reads with a blocking XREADGROUP; both XACK what they read).

use std::time::Duration;

use futures::StreamExt;
use mcp_transport_redis::{Mode, RedisBus, RedisConfig};

use crate::measure::Caller;
use crate::ours::{self, OurCaller};
use crate::raw::{self, Demux};

const REQUESTS: &str = "bench:raw:req";
const REPLIES: &str = "bench:raw:rep";
const REQUEST_STREAM: &str = "bench:raw:stream:req";
const REPLY_STREAM: &str = "bench:raw:stream:rep";
const GROUP: &str = "bench";
/// Entries taken per blocking read: a burst is read in one reply.
const READ_COUNT: usize = 1024;
/// Entries kept per stream (`XADD MAXLEN ~`).
const MAX_LEN: usize = 100_000;

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
        let _: i64 =
            redis::cmd("PUBLISH").arg(REQUESTS).arg(raw::request(seq)).query_async(&mut p).await.expect("PUBLISH");
        raw::check_answer(seq, answer).await;
    }
}

/// Raw Redis Streams round trips: XADD + blocking XREADGROUP + XACK in each direction, no
/// framework. Each reader blocks on a connection of its own and re-issues its read at once;
/// replies and acknowledgements go out on other connections without being waited for.
#[derive(Clone)]
pub struct RawStreamsCaller {
    writer: redis::aio::MultiplexedConnection,
    demux: Demux,
}

impl RawStreamsCaller {
    /// Creates the streams and their groups and starts the responder and the client's reader.
    pub async fn start(url: &str) -> Self {
        let client = redis::Client::open(url).expect("redis URL");
        let mut setup = within("setup connection", client.get_multiplexed_async_connection()).await;
        for stream in [REQUEST_STREAM, REPLY_STREAM] {
            let created: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(stream)
                .arg(GROUP)
                .arg("$")
                .arg("MKSTREAM")
                .query_async(&mut setup)
                .await;
            if let Err(e) = created {
                assert_eq!(e.code(), Some("BUSYGROUP"), "XGROUP CREATE {stream}: {e}");
            }
        }
        // The blocking reads never time out on the client side.
        let blocking = redis::AsyncConnectionConfig::new().set_response_timeout(None);
        let responder_reader =
            within("responder reader", client.get_multiplexed_async_connection_with_config(&blocking)).await;
        let responder_writer = within("responder writer", client.get_multiplexed_async_connection()).await;
        tokio::spawn(read_loop(responder_reader, REQUEST_STREAM, responder_writer, |writer, entries| {
            let mut pipe = redis::pipe();
            for (id, payload) in &entries {
                pipe.cmd("XACK").arg(REQUEST_STREAM).arg(GROUP).arg(id).ignore();
                let Some(answer) = raw::echo_answer(payload) else { continue };
                pipe.cmd("XADD")
                    .arg(REPLY_STREAM)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(MAX_LEN)
                    .arg("*")
                    .arg("m")
                    .arg(answer)
                    .ignore();
            }
            let mut writer = writer.clone();
            tokio::spawn(async move {
                let _: redis::RedisResult<()> = pipe.query_async(&mut writer).await;
            });
        }));
        let demux = Demux::default();
        let d = demux.clone();
        let client_reader =
            within("client reader", client.get_multiplexed_async_connection_with_config(&blocking)).await;
        let acker = within("client acker", client.get_multiplexed_async_connection()).await;
        tokio::spawn(read_loop(client_reader, REPLY_STREAM, acker, move |acker, entries| {
            let mut pipe = redis::pipe();
            for (id, payload) in entries {
                pipe.cmd("XACK").arg(REPLY_STREAM).arg(GROUP).arg(id).ignore();
                d.deliver(String::from_utf8(payload).expect("UTF-8 reply"));
            }
            let mut acker = acker.clone();
            tokio::spawn(async move {
                let _: redis::RedisResult<()> = pipe.query_async(&mut acker).await;
            });
        }));
        let writer = within("client writer", client.get_multiplexed_async_connection()).await;
        Self { writer, demux }
    }
}

impl Caller for RawStreamsCaller {
    async fn call(&self, seq: u64) {
        let answer = self.demux.expect(seq);
        let mut w = self.writer.clone();
        let _: String = redis::cmd("XADD")
            .arg(REQUEST_STREAM)
            .arg("MAXLEN")
            .arg("~")
            .arg(MAX_LEN)
            .arg("*")
            .arg("m")
            .arg(raw::request(seq))
            .query_async(&mut w)
            .await
            .expect("XADD");
        raw::check_answer(seq, answer).await;
    }
}

/// Reads `stream` through the group with blocking `XREADGROUP`s, handing each batch of
/// `(entry id, field m)` to `handle`, until the connection fails.
async fn read_loop(
    mut reader: redis::aio::MultiplexedConnection,
    stream: &'static str,
    writer: redis::aio::MultiplexedConnection,
    mut handle: impl FnMut(&redis::aio::MultiplexedConnection, Vec<(String, Vec<u8>)>) + Send + 'static,
) {
    loop {
        let reply: redis::RedisResult<redis::Value> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg("reader")
            .arg("COUNT")
            .arg(READ_COUNT)
            .arg("BLOCK")
            .arg(0)
            .arg("STREAMS")
            .arg(stream)
            .arg(">")
            .query_async(&mut reader)
            .await;
        let Ok(reply) = reply else { return };
        handle(&writer, stream_entries(reply));
    }
}

/// The `(id, field m)` pairs of a one-stream `XREADGROUP` reply (RESP2).
fn stream_entries(reply: redis::Value) -> Vec<(String, Vec<u8>)> {
    use redis::Value;
    let Value::Array(streams) = reply else { return Vec::new() };
    let mut out = Vec::new();
    for stream in streams {
        let Value::Array(mut pair) = stream else { continue };
        let Some(Value::Array(entries)) = pair.pop() else { continue };
        for entry in entries {
            let Value::Array(mut parts) = entry else { continue };
            let (Some(Value::Array(fields)), Some(Value::BulkString(id))) = (parts.pop(), parts.pop()) else {
                continue;
            };
            let Some(Value::BulkString(m)) = fields.into_iter().nth(1) else { continue };
            out.push((String::from_utf8(id).expect("entry id"), m));
        }
    }
    out
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
