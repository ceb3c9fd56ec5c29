//! NATS: our acceptor + `connect` with mcp-peer at both ends, beside raw async-nats
//! request/reply (a responder answering each request with the echo), on one nats-server.

use std::time::Duration;

use futures::StreamExt;
use mcp_transport_nats::async_nats;
use mcp_transport_nats::{NatsAcceptor, NatsClientConfig, NatsServerConfig, connect};

use crate::measure::Caller;
use crate::ours::{self, OurCaller};
use crate::raw;

const RAW_SUBJECT: &str = "bench.raw.echo";

/// A NATS connection to `url`.
pub async fn nats_client(url: &str) -> async_nats::Client {
    tokio::time::timeout(Duration::from_secs(30), Box::pin(async_nats::connect(url)))
        .await
        .expect("connected to nats-server within 30 s")
        .expect("connect to nats-server")
}

/// Raw request/reply: `request(seq)` on a subject whose responder answers with the echo.
#[derive(Clone)]
pub struct RawNatsCaller(async_nats::Client);

impl RawNatsCaller {
    /// Starts the responder on its own connection to `url` and returns a caller on another.
    pub async fn start(url: &str) -> Self {
        let responder = nats_client(url).await;
        let mut requests = responder.subscribe(RAW_SUBJECT).await.expect("subscribe");
        responder.flush().await.expect("flush the subscription");
        tokio::spawn(async move {
            while let Some(msg) = requests.next().await {
                let (Some(reply), Some(answer)) = (msg.reply, raw::echo_answer(&msg.payload)) else { continue };
                if responder.publish(reply, answer.into()).await.is_err() {
                    break;
                }
            }
        });
        Self(nats_client(url).await)
    }
}

impl Caller for RawNatsCaller {
    async fn call(&self, seq: u64) {
        let request = self.0.request(RAW_SUBJECT, raw::request(seq).into());
        let answer = tokio::time::timeout(Duration::from_secs(30), request)
            .await
            .expect("a NATS reply within 30 s")
            .expect("NATS request");
        let answer = String::from_utf8(answer.payload.to_vec()).expect("UTF-8 answer");
        assert!(answer.contains(&format!("m{seq}")), "raw NATS echo answered {answer}");
    }
}

/// Our echo server on the `bench` service (its own connection to `url`).
pub async fn our_server(url: &str) {
    let acceptor = NatsAcceptor::bind(nats_client(url).await, NatsServerConfig::new("bench"))
        .await
        .expect("bind the NATS acceptor");
    ours::serve_all(acceptor);
}

/// Our client on the `bench` service (its own connection to `url`).
pub async fn our_client(url: &str) -> OurCaller {
    let nc = nats_client(url).await;
    let connecting = connect(&nc, NatsClientConfig::new("bench"));
    let transport = tokio::time::timeout(Duration::from_secs(30), connecting)
        .await
        .expect("NATS session opened within 30 s")
        .expect("NATS session");
    ours::client(transport).await
}
