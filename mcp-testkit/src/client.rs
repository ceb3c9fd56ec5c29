//! A connected [`mcp_peer::Client`] in one line, with timeouts.
//!
//! Every helper bounds the `initialize` handshake by 10 s and panics naming what it waited
//! for; the client's requests time out after 10 s too ([`TIMEOUT`]), so a test against a
//! broken server fails fast instead of hanging for the 60 s production default.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A server under test, served on an in-memory pair:
//! let client = mcp_testkit::client::in_memory(&mcp_testkit::fixtures::everything()).await;
//! assert_eq!(client.server_info().server_info.name, mcp_testkit::fixtures::SERVER_NAME);
//!
//! // Or over any transport you built: `mcp_testkit::client::connect(transport).await`.
//! # }
//! ```

use std::time::Duration;

use mcp_core::Transport;
use mcp_core::schema::{CreateMessageResult, ElicitResult, Role};
use mcp_peer::{Client, ClientBuilder, SessionConfig};

/// How long the handshake and each request may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The sampling answer of [`conformance_builder`], as the official suite's client gives it.
pub const SAMPLING_ANSWER: &str = "This is a test response from the client";

/// A client builder named `mcp-testkit-client` whose requests time out after [`TIMEOUT`].
pub fn builder() -> ClientBuilder {
    Client::builder()
        .name("mcp-testkit-client", env!("CARGO_PKG_VERSION"))
        .config(SessionConfig::default().request_timeout(TIMEOUT).max_request_duration(TIMEOUT))
}

/// Like [`builder`], declaring `sampling` and `elicitation` and answering them the way the
/// official conformance suite's client does: sampling with [`SAMPLING_ANSWER`] from
/// `test-model`, elicitation by accepting `{"username": "testuser", "email": "test@example.com"}`.
pub fn conformance_builder() -> ClientBuilder {
    builder()
        .on_sampling(|_params| async {
            let mut result = CreateMessageResult::text("test-model", SAMPLING_ANSWER).with_stop_reason("endTurn");
            result.role = Role::Assistant;
            Ok(result)
        })
        .on_elicitation(|_params| async {
            Ok(ElicitResult::accept(serde_json::json!({ "username": "testuser", "email": "test@example.com" })))
        })
}

/// Connects a [`builder`] client over `transport`.
///
/// # Panics
/// When the handshake fails or takes longer than [`TIMEOUT`].
pub async fn connect(transport: impl Transport) -> Client {
    connect_with(builder(), transport).await
}

/// Connects a client from `builder` over `transport`.
///
/// # Panics
/// When the handshake fails or takes longer than [`TIMEOUT`].
pub async fn connect_with(builder: ClientBuilder, transport: impl Transport) -> Client {
    // A little longer than the client's own request timeout, whose error says more.
    let limit = TIMEOUT + Duration::from_secs(1);
    match tokio::time::timeout(limit, builder.connect(transport)).await {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!("client: the initialize handshake failed: {e}"),
        Err(_) => panic!("client: timed out after {limit:?} waiting for the server to answer initialize"),
    }
}

/// Serves (a clone of) `server` on an in-memory pair in a new task and connects a
/// [`builder`] client to it. The server's session ends when the client is closed or dropped.
///
/// # Panics
/// As [`connect`]; outside a tokio runtime.
pub async fn in_memory(server: &mcp_peer::Server) -> Client {
    in_memory_with(builder(), server).await
}

/// Like [`in_memory`], with a client from `builder`.
///
/// # Panics
/// As [`connect`]; outside a tokio runtime.
pub async fn in_memory_with(builder: ClientBuilder, server: &mcp_peer::Server) -> Client {
    let (client_end, server_end) = crate::duplex(64);
    let server = server.clone();
    tokio::spawn(async move {
        if let Err(e) = server.serve(server_end).await {
            tracing::debug!(error = %e, "in-memory test server session ended with an error");
        }
    });
    connect_with(builder, client_end).await
}
