//! Serves the conformance fixture server (`mcp_testkit::fixtures::everything()`: every tool,
//! resource and prompt the official conformance suite expects, plus `echo`) as a Redis service.
//!
//! ```text
//! cargo run -p mcp-transport-redis --example everything-redis -- --url redis://127.0.0.1:6379 --service everything
//! ```
//!
//! `--url` takes the gateway's URL form (`redis[s]://[user:pass@]host:port[/<service>][?mode=durable&prefix=mcp]`);
//! `--service` names the service when the URL does not (default `everything`). Start several
//! processes to see them share sessions. Prints `serving <service> (<mode>) as instance <id>` on
//! stdout once clients can connect; logs go to stderr (`RUST_LOG=debug` for more). SIGINT or
//! SIGTERM stops taking sessions and drains live ones.

#![allow(clippy::print_stdout)] // the ready line is the example's interface

use mcp_transport_redis::{RedisBus, RedisConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let (mut url, mut service) = ("redis://127.0.0.1:6379".to_owned(), None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next().ok_or("--url needs a value")?,
            "--service" => service = Some(args.next().ok_or("--service needs a value")?),
            other => return Err(format!("unknown argument {other:?} (expected --url URL, --service NAME)").into()),
        }
    }
    let config = RedisConfig::from_url(&with_service(&url, service.as_deref().unwrap_or("everything")))?;
    let (service, mode) = (config.service.clone(), config.mode);
    let bus = RedisBus::open(config).await?;
    let acceptor = bus.accept().await?;
    println!("serving {service} ({}) as instance {}", mode.as_str(), bus.instance_id());
    let served = mcp_testkit::fixtures::everything().serve_acceptor(acceptor, shutdown()).await;
    tracing::info!(served, "stopped");
    Ok(())
}

/// `url` with `/<service>` added when its path names none.
fn with_service(url: &str, service: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    let has_service = after_scheme.trim_end_matches('/').contains('/');
    let base = if has_service { base.to_owned() } else { format!("{}/{service}", base.trim_end_matches('/')) };
    match query {
        Some(q) => format!("{base}?{q}"),
        None => base,
    }
}

async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
