//! The mcp-testkit transport compliance suite, over a real loopback WebSocket: our client is
//! `a`, the server's session is `b`.

mod support;

use mcp_testkit::compliance::{self, Property, TransportPair};
use mcp_transport_ws::{WsClientConfig, WsServerConfig, connect};
use support::*;

async fn pair() -> TransportPair {
    let mut listener = listener(WsServerConfig::default()).await;
    let a = connect(&listener.url(), &WsClientConfig::default()).await.expect("connect");
    let b = next_session(&mut listener).await.transport;
    TransportPair::new(a, b)
        // The kernel buffers (here tcp_wmem max 4 MiB + tcp_rmem max 32 MiB) plus one queued frame.
        .with_buffer_bound(40 << 20)
        .keep_alive(listener)
        .unsupported(
            Property::MalformedFrame,
            "RFC 6455 requires closing on a text frame that is not UTF-8 (1007); the other malformed frames \
             (not JSON, not JSON-RPC, empty batch) are non-fatal items: tests/frames.rs",
        )
        .unsupported(
            Property::OversizedFrame,
            "the WebSocket convention closes the connection with 1009 on an oversized message: tests/frames.rs",
        )
}

#[tokio::test]
async fn websocket_passes_the_compliance_suite() {
    let report = compliance::run_all(pair).await;
    assert_eq!(report.ran.len(), 7, "{report}");
}
