//! Serves the conformance fixture server (`mcp_testkit::fixtures::everything()`: every tool,
//! resource and prompt the official conformance suite expects, plus `echo`) on stdin/stdout.
//!
//! ```text
//! cargo run -p mcp-transport-stdio --example everything-stdio
//! ```
//!
//! Point any MCP client's stdio transport at the built binary. Logs go to stderr
//! (`RUST_LOG=debug` for more). The process exits with status 0 when the client closes stdin,
//! after answering what is in flight.

use mcp_transport_stdio::StdioTransport;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to stderr; then take stdout before anything else can write to it.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")))
        .init();
    let transport = mcp_transport_stdio::stdio()?;
    let summary = mcp_testkit::fixtures::everything().serve_session(StdioTransport::into_session(transport)).await?;
    tracing::info!(?summary, "session over");
    Ok(())
}
