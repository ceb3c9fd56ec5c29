//! Serves the conformance fixture server (`mcp_testkit::fixtures::everything()`: every tool,
//! resource and prompt the official conformance suite expects, plus `echo`) as a NATS service.
//!
//! ```text
//! cargo run -p mcp-transport-nats --example everything-nats -- --url nats://127.0.0.1:4222 --service everything
//! ```
//!
//! `--url` takes the gateway's URL form (`nats://[user:pass@|token@]host:port[/<service>][?prefix=…]`);
//! `--service` names the service when the URL does not (default `everything`). Start several
//! processes to see the queue group share sessions. Prints `serving <connect subject>` on stdout
//! once clients can connect; logs go to stderr (`RUST_LOG=debug` for more). SIGINT or SIGTERM
//! stops accepting and drains live sessions.

use mcp_transport_nats::{NatsAcceptor, NatsUrl};
use tracing_subscriber::EnvFilter;

#[tokio::main]
#[allow(clippy::print_stdout, reason = "the `serving` line on stdout is how scripts know the service is up")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let (mut url, mut service) = ("nats://127.0.0.1:4222".to_owned(), None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next().ok_or("--url needs a value")?,
            "--service" => service = Some(args.next().ok_or("--service needs a value")?),
            other => return Err(format!("unknown argument {other:?} (expected --url URL, --service NAME)").into()),
        }
    }
    let url = with_service(&url, service.as_deref().unwrap_or("everything"));
    let url = NatsUrl::parse(&url)?;
    let nats = url.connect().await?;
    let acceptor = NatsAcceptor::bind(nats, url.server_config()).await?;
    println!("serving {}", acceptor.connect_subject());
    let served = mcp_testkit::fixtures::everything().serve_acceptor(acceptor, shutdown()).await;
    tracing::info!(served, "stopped");
    Ok(())
}

/// `url` with `/<service>` added when it names none (a `--service` flag overrides nothing else).
fn with_service(url: &str, service: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (path_part, query) = after_scheme.split_once('?').map_or((after_scheme, None), |(p, q)| (p, Some(q)));
    if path_part.trim_end_matches('/').contains('/') {
        return url.to_owned();
    }
    let base = url.split('?').next().unwrap_or(url).trim_end_matches('/');
    match query {
        Some(q) => format!("{base}/{service}?{q}"),
        None => format!("{base}/{service}"),
    }
}

async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
