//! An MCP client over this crate's Streamable HTTP transport, in the shape the official
//! conformance suite's client mode expects: the server URL is the last argument and the scenario
//! is in `MCP_CONFORMANCE_SCENARIO`.
//!
//! ```text
//! node .../@modelcontextprotocol/conformance/dist/index.js client \
//!     --command "target/debug/examples/conformance-client" --scenario initialize
//! ```
//!
//! It initializes, lists the tools, calls the ones the scenarios know (`add_numbers` with 5 and
//! 3, `test_reconnection`), and closes the session. Exit status 1 on any error.

use mcp_transport_sse::{HttpClientConfig, connect_streamable_http};
use serde_json::json;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")))
        .init();
    let url = std::env::args().next_back().ok_or("usage: conformance-client <server-url>")?;
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    eprintln!("scenario {scenario:?} against {url}");

    let transport = connect_streamable_http(&url, HttpClientConfig::default())?;
    let client = mcp_peer::Client::connect(transport).await?;
    let tools = client.list_tools().await?;
    for tool in &tools {
        let args = match tool.name.as_str() {
            "add_numbers" => json!({"a": 5, "b": 3}),
            "test_reconnection" => json!({}),
            _ => continue,
        };
        let result = client.call_tool(&tool.name, &args).await?;
        eprintln!("{} -> {:?}", tool.name, result.content.first().and_then(|c| c.as_text()));
    }
    client.close().await?;
    Ok(())
}
