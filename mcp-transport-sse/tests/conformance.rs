//! The official conformance suite (@modelcontextprotocol/conformance 0.1.16): server mode against
//! the everything-http example, client mode with the conformance-client example.

mod common;

use std::process::Output;
use std::time::Duration;

use common::*;

fn conformance_cli() -> std::path::PathBuf {
    let cli = mcp_testkit::tools::node_modules().join("@modelcontextprotocol/conformance/dist/index.js");
    assert!(cli.is_file(), "{} is missing: run scripts/install-test-deps", cli.display());
    cli
}

async fn run_cli(args: &[&str]) -> Output {
    let results = tempfile::tempdir().unwrap();
    let child = tokio::process::Command::new(mcp_testkit::tools::node())
        .arg(conformance_cli())
        .args(args)
        .current_dir(results.path())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(240), child)
        .await
        .unwrap_or_else(|_| panic!("the conformance suite did not finish within 240 s: {args:?}"))
        .expect("run node")
}

fn assert_passed(output: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = format!("{what}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(output.status.success(), "conformance failed: {report}");
    assert!(!stdout.contains("\"status\": \"FAILURE\"") && !stdout.contains("\"status\": \"WARNING\""), "{report}");
    assert!(stdout.contains(" 0 failed"), "no summary with 0 failures: {report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_passes_every_active_scenario() {
    let server = everything_http().await;
    let url = format!("{}/mcp", server.base);
    let output = run_cli(&["server", "--url", &url]).await;
    assert_passed(&output, "server mode, active suite");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let scenarios = stdout.lines().filter(|l| l.starts_with("✓ ")).count();
    assert!(scenarios >= 30, "expected at least 30 scenarios, saw {scenarios}:\n{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_passes_the_pending_scenarios_json_schema_and_sse_polling() {
    let server = everything_http().await;
    let url = format!("{}/mcp", server.base);
    for scenario in ["json-schema-2020-12", "server-sse-polling"] {
        let output = run_cli(&["server", "--url", &url, "--scenario", scenario, "--verbose"]).await;
        assert_passed(&output, scenario);
        assert!(String::from_utf8_lossy(&output.stdout).contains("\"status\": \"SUCCESS\""));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_passes_initialize_tools_call_and_sse_retry() {
    let client = example("conformance-client");
    let client = client.to_str().unwrap();
    for scenario in ["initialize", "tools_call", "sse-retry"] {
        let output = run_cli(&["client", "--command", client, "--scenario", scenario]).await;
        let stdout = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains("OVERALL: PASSED") && stdout.contains(" 0 failed, 0 warnings"), "{scenario}: {stdout}");
        assert!(output.status.success(), "{scenario}: {stdout}");
    }
}
