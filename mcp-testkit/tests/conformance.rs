//! The official conformance suite (`@modelcontextprotocol/conformance` 0.1.16, every
//! scenario including the pending ones) passes against `fixtures::everything()` served over
//! Streamable HTTP by `mcp-transport-sse`.

use std::process::Stdio;
use std::time::Duration;

use mcp_transport_sse::{HttpServer, HttpServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_conformance_suite_passes_against_the_fixture() {
    let (http, acceptor) = HttpServer::new(HttpServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(mcp_transport_sse::serve(listener, http, std::future::pending()));
    tokio::spawn(
        async move { mcp_testkit::fixtures::everything().serve_acceptor(acceptor, std::future::pending()).await },
    );

    let cli = mcp_testkit::tools::node_modules().join("@modelcontextprotocol/conformance/dist/index.js");
    let run = tokio::process::Command::new(mcp_testkit::tools::node())
        .arg(cli)
        .args(["server", "--suite", "all", "--url", &url])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the conformance suite to finish within 120 s")
        .expect("running the conformance suite");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = stdout.split("=== SUMMARY ===").nth(1).unwrap_or(&stdout);
    let total = report.lines().find(|l| l.starts_with("Total:")).unwrap_or("no Total line");
    assert!(
        out.status.success() && total.ends_with(" 0 failed"),
        "conformance suite: {total}\n{report}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed: usize = total.trim_start_matches("Total: ").split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 46, "only {passed} checks ran: {report}");
}
