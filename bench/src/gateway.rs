//! The gateway: our client → `mcp-gateway` (Streamable HTTP) → our stdio echo child, beside our
//! client → the same child directly.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts `gateway --stdio "<child>" --listen http://127.0.0.1:0` and returns its `/mcp` URL with
/// the process (killed on drop).
pub async fn start(gateway: &Path, child: &str) -> (String, Child) {
    let mut process = Command::new(gateway)
        .args(["--stdio", child, "--listen", "http://127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e} (build it: cargo build --release -p mcp-gateway)", gateway.display()));
    let mut lines = BufReader::new(process.stderr.take().expect("stderr")).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read the gateway's stderr") {
            if let Some(url) = line.trim().strip_prefix("Streamable HTTP") {
                return url.trim().to_owned();
            }
        }
        panic!("the gateway exited before printing its Streamable HTTP URL")
    })
    .await
    .expect("the gateway printed its Streamable HTTP URL within 30 s");
    // Keep draining stderr so the gateway never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (url, process)
}
