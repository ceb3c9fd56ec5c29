//! The test programs are found on this machine (after `scripts/install-test-deps`).

use std::process::Command;

fn run(program: &std::path::Path, args: &[&str]) -> String {
    let out =
        Command::new(program).args(args).output().unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    assert!(out.status.success(), "{} {args:?} failed: {}", program.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn node_is_22_or_newer_and_sees_the_sdk() {
    let version = run(&mcp_testkit::tools::node(), &["--version"]);
    let major: u32 = version.trim().trim_start_matches('v').split('.').next().unwrap().parse().unwrap();
    assert!(major >= 22, "node {version}");
    let modules = mcp_testkit::tools::node_modules();
    assert!(modules.join("@modelcontextprotocol/conformance/package.json").is_file());
}

#[test]
fn pythons_import_the_sdk() {
    run(&mcp_testkit::tools::python(), &["-c", "import mcp"]);
    run(&mcp_testkit::tools::python_ws(), &["-c", "import mcp.client.websocket"]);
}

#[test]
fn servers_are_installed() {
    assert!(run(&mcp_testkit::tools::redis_server(), &["--version"]).contains("Redis server"));
    assert!(run(&mcp_testkit::tools::nats_server(), &["--version"]).contains("nats-server"));
}
