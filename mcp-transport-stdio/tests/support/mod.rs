//! Shared by the integration tests: building this crate's example binaries, bounded waits.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// The path of one of this crate's examples, built for this test's target directory and profile.
pub fn example(name: &str) -> PathBuf {
    mcp_testkit::tools::example("mcp-transport-stdio", name)
}

/// Awaits `fut`, failing the test with `what` if it takes more than 30 s.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    within_secs(30, what, fut).await
}

/// Awaits `fut`, failing the test with `what` if it takes more than `secs` seconds.
pub async fn within_secs<T>(secs: u64, what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), fut)
        .await
        .unwrap_or_else(|_| panic!("timed out after {secs} s waiting for {what}"))
}
