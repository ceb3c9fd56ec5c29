//! A byte-level transport (newline-delimited JSON over an in-memory byte pipe, the framing of
//! stdio and sockets) runs all nine properties, including malformed and oversized frames.

mod support;

use mcp_testkit::compliance::{self, TransportPair};
use support::{LIMIT, PIPE_BYTES, pipe_pair};

fn lines_pair() -> TransportPair {
    let (a, b, injector) = pipe_pair();
    TransportPair::new(a, b)
        .with_raw_injector(injector)
        .with_max_message_bytes(LIMIT)
        // The pipe, the writer's buffer and one message.
        .with_buffer_bound(PIPE_BYTES + 8 * 1024 + 2 * LIMIT)
}

#[tokio::test]
async fn a_line_transport_passes_all_nine() {
    let report = compliance::run_all(|| async { lines_pair() }).await;
    assert_eq!(report.ran.len(), 9, "{report}");
    assert!(report.unsupported.is_empty());
}

#[tokio::test]
#[should_panic(expected = "property `oversized_frame` failed: an oversized frame produced the wrong error")]
async fn a_wrong_limit_is_caught() {
    // The pair claims a limit other than the one the transport enforces.
    compliance::oversized_frame(lines_pair().with_max_message_bytes(LIMIT * 2)).await;
}
