//! mcp-core must stay runtime-agnostic: no tokio (or other executor) among its normal dependencies.

use std::process::Command;

#[test]
fn mcp_core_depends_on_no_async_runtime() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", "mcp-core", "-e", "normal", "--prefix", "none", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.lines().any(|l| l.starts_with("mcp-core ")), "unexpected cargo tree output:\n{tree}");
    for runtime in ["tokio ", "async-std ", "smol "] {
        assert!(!tree.lines().any(|l| l.starts_with(runtime)), "mcp-core depends on {runtime}:\n{tree}");
    }
}
