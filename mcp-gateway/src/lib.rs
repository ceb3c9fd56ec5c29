//! `mcp-gateway`: put any MCP server behind any transport, with authentication, per-tool
//! permissions, rate limits, health, metrics and structured logs.
//!
//! This library is the gateway binary's engine, public so that its parts can be tested and
//! embedded; the binary (`src/main.rs`) only parses the command line and calls [`run`].
//! Run `mcp-gateway --help` for every flag; the README has a walkthrough.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
pub mod gateway;
pub mod http;
pub mod listen;
pub mod ratelimit;
pub mod relay;
pub mod shared;
pub mod telemetry;
pub mod tls;
pub mod tokens;
pub mod upstream;

use std::time::Duration;

use crate::cli::Settings;
use crate::gateway::Gateway;
use crate::listen::Listener;
use crate::ratelimit::RateLimits;
use crate::relay::RelayPolicy;
use crate::tokens::Tokens;
use crate::upstream::Upstream;

/// Runs the gateway with `settings` until SIGTERM or SIGINT, then drains.
///
/// # Errors
/// A message for the operator when the gateway cannot start (a listener cannot bind, the
/// tokens file is invalid, an exposed listener has no auth, ...).
pub async fn run(settings: Settings) -> Result<(), String> {
    let listeners = settings.listen.iter().map(|u| Listener::parse(u)).collect::<Result<Vec<_>, _>>()?;
    let tokens = match &settings.tokens {
        Some(path) => {
            let tokens = Tokens::load(path).map_err(|e| e.to_string())?;
            tokens.spawn_reloader(Duration::from_secs(2));
            Some(tokens)
        }
        None => None,
    };
    // Secure by default: nothing reachable from other machines runs without credentials.
    for listener in &listeners {
        if listener.is_exposed() && tokens.is_none() && !settings.insecure {
            return Err(format!(
                "refusing to start: {listener:?} is reachable from other machines and no --tokens file is set. \
                 Add --tokens FILE (see `mcp-gateway hash-token`), listen on 127.0.0.1, or pass --insecure \
                 if anyone who can reach it may run the upstream's tools."
            ));
        }
        if matches!(listener, Listener::Tcp(_)) && listener.is_exposed() && !settings.insecure {
            return Err("refusing to start: a non-loopback tcp:// listener carries no credentials; use http:// with --tokens, or pass --insecure".into());
        }
    }
    let metrics = telemetry::install_metrics()?;
    let upstream = Upstream::new(&settings.upstream, &settings.env, settings.upstream_token.as_deref())
        .map_err(|e| e.to_string())?;
    if let Err(e) = upstream.probe().await {
        tracing::error!(error = %e, "upstream_unavailable at start-up; /health reports 503 until it can be started");
    }
    let limits = RateLimits::new(settings.rate_limit, settings.rate_limit_ip);
    {
        let limits = limits.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limits.shrink();
            }
        });
    }
    let gateway = Gateway::new(upstream, RelayPolicy { limits: limits.clone() });
    let mut banner = Vec::new();
    for listener in &listeners {
        let at = match listener {
            Listener::Http { addr, tls } => {
                let tls_config = match (&settings.tls, tls) {
                    (Some((cert, key, client_ca)), _) => Some(tls::server_config(&tls::TlsFiles {
                        cert: cert.clone(),
                        key: key.clone(),
                        client_ca: client_ca.clone(),
                    })?),
                    (None, true) => return Err(format!("{listener:?}: https:// needs --tls-cert and --tls-key")),
                    (None, false) => None,
                };
                let options = http::HttpOptions {
                    tokens: tokens.clone(),
                    allowed_hosts: settings.allowed_hosts.clone(),
                    allowed_origins: settings.allowed_origins.clone(),
                    limits: limits.clone(),
                    max_sessions: settings.max_sessions,
                    metrics: metrics.clone(),
                    tls: tls_config.clone(),
                };
                let local = http::start(*addr, &gateway, options).await?;
                banner.push(Banner::Http(local, tls_config.is_some()));
                continue;
            }
            _ => listen::start(listener, &gateway, tokens.as_ref()).await?,
        };
        banner.push(Banner::Other(at));
    }
    print_banner(&banner, tokens.is_some());
    wait_for_shutdown_signal().await;
    gateway.drain(settings.drain_timeout).await;
    Ok(())
}

enum Banner {
    Http(std::net::SocketAddr, bool),
    Other(String),
}

/// Tells the operator, on stderr, where clients connect and how.
fn print_banner(banner: &[Banner], auth: bool) {
    let mut out = String::from("\nmcp-gateway is ready.\n");
    let mut first_http = None;
    for b in banner {
        match b {
            Banner::Http(addr, tls) => {
                let (h, w) = if *tls { ("https", "wss") } else { ("http", "ws") };
                first_http.get_or_insert(format!("{h}://{addr}/mcp"));
                out.push_str(&format!(
                    "  Streamable HTTP   {h}://{addr}/mcp\n  WebSocket         {w}://{addr}/mcp\n  legacy SSE        {h}://{addr}/sse\n  health, metrics   {h}://{addr}/health, {h}://{addr}/metrics\n"
                ));
                tracing::info!(listening = %format!("{h}://{addr}"), "listening");
            }
            Banner::Other(at) => {
                out.push_str(&format!("  {at}\n"));
                tracing::info!(listening = %at, "listening");
            }
        }
    }
    if let Some(url) = first_http {
        let (flag, header) = if auth {
            (
                " --header \"Authorization: Bearer YOUR_TOKEN\"",
                r#", "headers": { "Authorization": "Bearer YOUR_TOKEN" }"#,
            )
        } else {
            ("", "")
        };
        out.push_str(&format!("\nClaude Code:\n  claude mcp add --transport http gateway {url}{flag}\n"));
        // Claude Desktop's config file starts stdio servers: this binary bridges stdio to the URL.
        let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "mcp-gateway".into());
        let token_args = if auth { r#", "--upstream-token", "YOUR_TOKEN""# } else { "" };
        out.push_str(&format!(
            "Claude Desktop (claude_desktop_config.json):\n  {{ \"mcpServers\": {{ \"gateway\": {{ \"command\": {exe:?}, \"args\": [\"--connect\", \"{url}\", \"--listen\", \"stdio:\"{token_args}] }} }} }}\n"
        ));
        out.push_str(&format!(
            "Clients that take a URL:\n  {{ \"mcpServers\": {{ \"gateway\": {{ \"type\": \"http\", \"url\": \"{url}\"{header} }} }} }}\n"
        ));
    }
    eprintln!("{out}");
}

async fn wait_for_shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!(signal = "SIGINT", "shutting_down"),
        () = term => tracing::info!(signal = "SIGTERM", "shutting_down"),
    }
}
