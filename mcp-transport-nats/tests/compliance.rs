//! The testkit's transport compliance suite, against a real nats-server: `a` is a client
//! session, `b` the server instance's end of it.

mod support;

use std::sync::Arc;

use futures::StreamExt;
use mcp_testkit::compliance::{self, Property, RawInjector, TransportPair};
use mcp_testkit::services::NatsServer;
use mcp_transport_nats::{NatsAcceptor, NatsClientConfig, NatsServerConfig, SessionSubjects, connect};
use support::{fast_heartbeat, nats, within};

/// The NATS server's `max_payload`: small, so the oversized and backpressure checks are cheap.
const MAX_PAYLOAD: usize = 4096;
/// Messages buffered per direction of a session, and the receive window.
const CAPACITY: usize = 8;
const WINDOW: u64 = 8;

/// A fresh session on `server`; with `inject`, a raw injector publishing on `b`'s subject.
async fn session_pair(server: Arc<NatsServer>, inject: bool) -> TransportPair {
    let nc = nats(&server.url()).await;
    let config =
        NatsServerConfig::new("compliance").heartbeat(fast_heartbeat()).channel_capacity(CAPACITY).window(WINDOW);
    let mut acceptor = NatsAcceptor::bind(nc.clone(), config).await.unwrap();
    let client_config =
        NatsClientConfig::new("compliance").heartbeat(fast_heartbeat()).channel_capacity(CAPACITY).window(WINDOW);
    let a = within("a client session", connect(&nc, client_config)).await.unwrap();
    let b = within("the server's end of the session", acceptor.next()).await.unwrap();
    let inbound = b.info.extensions.get::<SessionSubjects>().unwrap().inbound.clone();
    // Everything one side may hold while the other does not read: both channels, the window
    // in flight, and a message in each task's hands.
    let buffered = (2 * CAPACITY + WINDOW as usize + 4) * MAX_PAYLOAD;
    let pair = TransportPair::new(a, b.transport)
        .with_max_message_bytes(MAX_PAYLOAD)
        .with_buffer_bound(buffered)
        .keep_alive((server, acceptor));
    if !inject {
        return pair;
    }
    let raw = nc.clone();
    pair.with_raw_injector(RawInjector::new(move |frame: Vec<u8>| {
        let (raw, subject) = (raw.clone(), inbound.clone());
        async move { raw.publish(subject, frame.into()).await.map_err(std::io::Error::other) }
    }))
    .unsupported(
        Property::OversizedFrame,
        "checked apart, without the raw injector: the NATS server refuses an oversized publish before it reaches b",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_sessions_pass_the_compliance_suite() {
    let server = Arc::new(NatsServer::builder().max_payload(MAX_PAYLOAD).start().await);
    let report = compliance::run_all(|| session_pair(server.clone(), true)).await;
    assert_eq!(report.ran.len(), 8, "{report}");
    // a's sink refuses the oversized message with MessageTooLarge naming max_payload.
    compliance::oversized_frame(session_pair(server.clone(), false).await).await;
}
