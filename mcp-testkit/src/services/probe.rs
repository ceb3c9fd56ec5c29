//! Readiness checks: does the server on a port answer its protocol yet?

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one readiness check may take.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Connects to `127.0.0.1:port`, writes `request`, and reads until the reply contains
/// `expected`; `false` on any failure or after 500 ms.
pub(crate) async fn answers(port: u16, request: &[u8], expected: &[u8]) -> bool {
    tokio::time::timeout(PROBE_TIMEOUT, exchange(port, request, expected)).await.unwrap_or(false)
}

async fn exchange(port: u16, request: &[u8], expected: &[u8]) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else { return false };
    if !request.is_empty() && stream.write_all(request).await.is_err() {
        return false;
    }
    let mut reply = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    // Bounded: a server's greeting is small; stop reading after 64 KiB.
    while reply.len() < 64 * 1024 {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
        }
        if reply.windows(expected.len()).any(|w| w == expected) {
            return true;
        }
    }
    false
}
