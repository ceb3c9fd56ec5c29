//! Serves the conformance fixture server (`mcp_testkit::fixtures::everything()`) over HTTP:
//! Streamable HTTP at `/mcp`, legacy HTTP+SSE at `/sse` + `/messages`, and `/health`.
//!
//! ```text
//! cargo run -p mcp-transport-sse --example everything-http -- --listen 127.0.0.1:3000
//! ```
//!
//! Prints `listening on http://ADDR` on stdout once the socket is bound (`--listen
//! 127.0.0.1:0` picks a free port). Logs go to stderr (`RUST_LOG=debug` for more). Ctrl-C
//! drains: `/health` turns 503, sessions close, in-flight requests get 10 s.

use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use mcp_core::{Duplex, IncomingSession, Message};
use mcp_transport_sse::{HttpServer, HttpServerConfig, StreamControl};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")))
        .init();
    let mut args = std::env::args().skip(1);
    let mut listen: SocketAddr = "127.0.0.1:3000".parse()?;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?.parse()?,
            other => return Err(format!("unknown argument {other:?} (usage: --listen 127.0.0.1:PORT)").into()),
        }
    }

    let (server, mut sessions) = HttpServer::new(HttpServerConfig::default());
    let listener = tokio::net::TcpListener::bind(listen).await?;
    // The one line on stdout: tests and scripts read the bound address from it.
    #[allow(clippy::print_stdout)]
    {
        println!("listening on http://{}", listener.local_addr()?);
    }

    let fixture = mcp_testkit::fixtures::everything();
    tokio::spawn(async move {
        while let Some(session) = sessions.next().await {
            let fixture = fixture.clone();
            tokio::spawn(async move {
                if let Err(err) = fixture.serve_session(close_stream_during_reconnection_test(session)).await {
                    tracing::debug!(error = %err, "session ended with an error");
                }
            });
        }
    });
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    mcp_transport_sse::serve(listener, server, shutdown).await?;
    Ok(())
}

/// The conformance suite's `test_reconnection` tool expects the server to close the SSE
/// connection of that call mid-way (SEP-1699 polling) and finish it on the resumed stream. The
/// fixture tool only takes time; this watches for the call and closes its connection through
/// the session's [`StreamControl`].
fn close_stream_during_reconnection_test(session: IncomingSession) -> IncomingSession {
    let IncomingSession { transport, info } = session;
    let Some(control) = info.extensions.get::<StreamControl>().cloned() else {
        return IncomingSession { transport, info };
    };
    let (sink, stream) = transport.split();
    let stream = stream.inspect(move |item| {
        if let Ok(Message::Request(request)) = item
            && request.method == "tools/call"
            && request.params.as_ref().is_some_and(|p| p.to_value()["name"] == "test_reconnection")
        {
            let (control, id) = (control.clone(), request.id.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                control.close_request_stream(&id);
            });
        }
    });
    IncomingSession::new(Duplex::new(sink, stream), info)
}
