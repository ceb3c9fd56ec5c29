//! Shared by the integration tests: building this crate's example binaries, bounded waits.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Builds (once per test binary) and returns the path of one of this crate's examples, in the
/// same target directory and profile as the running test.
pub fn example(name: &str) -> PathBuf {
    // This test binary is <target>/<profile dir>/deps/<name>; examples go to <target>/<profile dir>/examples.
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("<target>/<profile>").to_path_buf();
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target_dir = profile_dir.parent().expect("<target>");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "mcp-transport-stdio", "--examples", "--profile", profile])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo to build the examples");
        assert!(status.success(), "building the examples of mcp-transport-stdio failed");
    });
    let path = profile_dir.join("examples").join(name);
    assert!(path.exists(), "example {name} was not built at {}", path.display());
    path
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
