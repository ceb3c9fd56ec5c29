//! Serves the conformance fixture server (`mcp_testkit::fixtures::everything()`: every tool,
//! resource and prompt the official conformance suite expects, plus `echo`) over WebSocket.
//!
//! ```text
//! cargo run -p mcp-transport-ws --example everything-ws -- --listen 127.0.0.1:8765 [--token SECRET]
//! ```
//!
//! Prints the URL (`ws://127.0.0.1:8765/mcp`) on stdout once listening; connect any MCP
//! WebSocket client (subprotocol `mcp`) to it. With `--token`, clients must present
//! `Authorization: Bearer SECRET` (or the `bearer.SECRET` subprotocol). Ctrl-C shuts down
//! gracefully: in-flight requests finish and every connection closes with 1001.

use std::time::Duration;

use mcp_core::{Principal, StaticTokens};
use mcp_transport_ws::{WsListener, WsServerConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")))
        .init();
    let mut listen = "127.0.0.1:8765".to_owned();
    let mut config = WsServerConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address, e.g. 127.0.0.1:8765")?,
            "--token" => {
                let token = args.next().ok_or("--token needs a value")?;
                config = config.with_verifier(StaticTokens::new().with(token, Principal::new("token-holder")));
            }
            other => {
                return Err(
                    format!("unknown argument {other:?}; usage: everything-ws --listen ADDR [--token T]").into()
                );
            }
        }
    }
    let listener = WsListener::bind(listen.as_str(), config).await?;
    // The URL on stdout is this binary's interface: scripts and tests read it to connect.
    #[allow(clippy::print_stdout)]
    {
        println!("{}", listener.url());
    }
    let server = listener.server().clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let left = server.shutdown(Duration::from_secs(10)).await;
            tracing::info!(left, "shut down");
        }
    });
    let served = mcp_testkit::fixtures::everything().serve_acceptor(listener, std::future::pending()).await;
    tracing::info!(served, "listener closed");
    Ok(())
}
