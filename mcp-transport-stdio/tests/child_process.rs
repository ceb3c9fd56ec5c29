//! The child-process client: talking to a server process, its exit, shutdown escalation,
//! reaping and the environment it gets.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::{Message, TransportError};
use mcp_transport_stdio::{ChildExited, ChildProcess, ChildProcessTransport, EnvInheritance, StderrMode};
use serde_json::json;
use support::{example, within};

const QUICK: Duration = Duration::from_millis(200);

fn request(id: i64, method: &str, params: serde_json::Value) -> Message {
    Message::request(id, method, &params).unwrap()
}

/// The error that ended the transport's stream, after which the stream must stay ended.
async fn final_error(transport: &mut ChildProcessTransport) -> TransportError {
    let error = match within("the child's exit to end the stream", transport.next()).await {
        Some(Err(e)) if e.is_fatal() => e,
        Some(Ok(msg)) => panic!("unexpected message {msg}"),
        Some(Err(e)) => panic!("unexpected frame error {e}"),
        None => panic!("the stream ended without the exit error"),
    };
    assert!(transport.next().await.is_none(), "the stream ends after the exit error");
    error
}

/// Waits until no process (not even a zombie) has `pid`, failing after 10 s.
async fn assert_gone(pid: u32) {
    let proc = format!("/proc/{pid}");
    for _ in 0..200 {
        if !Path::new(&proc).exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = std::fs::read_to_string(format!("{proc}/stat")).unwrap_or_default();
    panic!("process {pid} still exists after 10 s (stat: {state})");
}

#[tokio::test]
async fn round_trip_with_a_stdio_server_then_clean_shutdown() {
    let mut server = ChildProcess::new(example("stdio-echo")).spawn().unwrap();
    let pid = server.pid().unwrap();
    server.send(request(1, "echo", json!({"hello": "world"}))).await.unwrap();
    let answer = within("the echo answer", server.next()).await.unwrap().unwrap();
    let Message::Response(response) = answer else { panic!("a response: {answer}") };
    assert_eq!(response.result.to_value()["params"], json!({"hello": "world"}));

    // Closing stdin is enough: the server exits by itself, well before SIGTERM.
    let status = within("the shutdown", server.shutdown()).await.unwrap();
    assert!(status.success(), "{status}");
    assert_gone(pid).await;
}

#[tokio::test]
async fn close_then_the_stream_ends_cleanly() {
    let mut server = ChildProcess::new(example("stdio-echo")).spawn().unwrap();
    server.send(request(1, "slow", json!({"ms": 100}))).await.unwrap();
    server.close().await.unwrap();
    // The answer owed is still delivered, then the stream ends without an error.
    let answer = within("the slow answer", server.next()).await.unwrap().unwrap();
    assert_eq!(answer.id().map(ToString::to_string).as_deref(), Some("1"));
    assert!(within("the end of the stream", server.next()).await.is_none());
    assert!(matches!(server.send(request(2, "echo", json!({}))).await, Err(TransportError::Closed)));
}

#[tokio::test]
async fn exit_ends_the_stream_with_status_and_last_stderr_lines() {
    let mut server = ChildProcess::new("sh")
        .args(["-c", "echo starting >&2; echo 'config file not found' >&2; exit 3"])
        .spawn()
        .unwrap();
    let error = final_error(&mut server).await;
    let exited = ChildExited::find(&error).unwrap_or_else(|| panic!("a ChildExited: {error:?}"));
    assert_eq!(exited.status.and_then(|s| s.code()), Some(3));
    assert_eq!(exited.stderr_tail, ["starting", "config file not found"]);
    let text = error.to_string();
    assert!(
        text.contains("`sh`") && text.contains("exit status: 3") && text.contains("config file not found"),
        "{text}"
    );
}

#[tokio::test]
async fn a_crash_mid_session_is_reported_and_sending_fails() {
    let mut server =
        ChildProcess::new(example("stdio-echo")).stderr(StderrMode::Capture { keep_lines: 2 }).spawn().unwrap();
    server.send(request(1, "stderr", json!({"lines": ["one", "two", "three"]}))).await.unwrap();
    within("the stderr answer", server.next()).await.unwrap().unwrap();
    within("the stderr lines to be read", async {
        while server.recent_stderr() != ["two", "three"] {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    server.send(request(2, "exit", json!({"code": 42}))).await.unwrap();
    let error = final_error(&mut server).await;
    let exited = ChildExited::find(&error).unwrap();
    assert_eq!(exited.status.and_then(|s| s.code()), Some(42));
    // Only the last two lines are kept (the example logs nothing else at this level).
    assert_eq!(exited.stderr_tail.len(), 2, "{:?}", exited.stderr_tail);
    assert_eq!(exited.stderr_tail[1], "three");

    let mut failure = None;
    // The pipe may still take a few bytes; within a few sends the broken pipe must show.
    for id in 3..100 {
        if let Err(e) = server.send(request(id, "echo", json!({}))).await {
            failure = Some(e);
            break;
        }
    }
    let failure = failure.expect("sending to an exited child fails");
    assert!(failure.is_fatal());
    assert!(failure.to_string().contains("no longer reads its stdin"), "{failure}");
}

#[tokio::test]
async fn shutdown_escalates_to_sigterm_then_sigkill() {
    // Ignores the end of its input; dies on SIGTERM.
    let server = ChildProcess::new("sh").args(["-c", "exec sleep 60"]).shutdown_grace(QUICK, QUICK).spawn().unwrap();
    let status = within("the SIGTERM shutdown", server.shutdown()).await.unwrap();
    assert_eq!(status.signal(), Some(libc_sig::TERM), "{status}");

    // Ignores the end of its input and SIGTERM; only SIGKILL ends it.
    let server = ChildProcess::new("sh")
        .args(["-c", "trap '' TERM; exec sleep 60"])
        .shutdown_grace(QUICK, QUICK)
        .spawn()
        .unwrap();
    let pid = server.pid().unwrap();
    let status = within("the SIGKILL shutdown", server.shutdown()).await.unwrap();
    assert_eq!(status.signal(), Some(libc_sig::KILL), "{status}");
    assert_gone(pid).await;
}

#[tokio::test]
async fn dropping_kills_and_reaps_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let grandchild_pid_file = dir.path().join("grandchild.pid");
    let script = format!("sleep 60 & echo $! > {}; wait", grandchild_pid_file.display());
    let server = ChildProcess::new("sh").args(["-c", &script]).spawn().unwrap();
    let pid = server.pid().unwrap();
    let grandchild: u32 = within("the grandchild's pid", async {
        loop {
            if let Some(pid) = std::fs::read_to_string(&grandchild_pid_file).ok().and_then(|s| s.trim().parse().ok()) {
                break pid;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    drop(server);
    assert_gone(pid).await;
    assert_gone(grandchild).await;
}

#[tokio::test]
async fn dropping_after_close_lets_the_child_finish_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("finished");
    // Exits by itself on end of input, after a little cleanup work.
    let script = format!("cat > /dev/null; sleep 0.3; touch {}", marker.display());
    let mut server = ChildProcess::new("sh").args(["-c", &script]).spawn().unwrap();
    let pid = server.pid().unwrap();
    server.close().await.unwrap();
    drop(server);
    assert_gone(pid).await;
    assert!(marker.exists(), "the child was killed instead of finishing its cleanup");
}

#[tokio::test]
async fn the_environment_is_an_allow_list_by_default() {
    // Cargo sets these for the test process; they are not on the allow-list.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some(), "precondition: cargo sets CARGO_MANIFEST_DIR");
    assert!(std::env::var_os("CARGO_PKG_NAME").is_some(), "precondition: cargo sets CARGO_PKG_NAME");
    let env_of = |inheritance| async move {
        let mut child = ChildProcess::new("sh")
            .args(["-c", "env >&2; exit 1"])
            .env("ADDED_BY_TEST", "yes")
            .inherit_var("CARGO_PKG_NAME")
            .inherit_env(inheritance)
            .stderr(StderrMode::Capture { keep_lines: 1000 })
            .spawn()
            .unwrap();
        ChildExited::find(&final_error(&mut child).await).unwrap().stderr_tail.clone()
    };
    let safe = env_of(EnvInheritance::SafeDefaults).await;
    assert!(safe.iter().any(|l| l.starts_with("PATH=")), "{safe:?}");
    assert!(safe.iter().any(|l| l == "ADDED_BY_TEST=yes"), "{safe:?}");
    assert!(!safe.iter().any(|l| l.starts_with("CARGO_MANIFEST_DIR=")), "{safe:?}");
    assert!(safe.iter().any(|l| l == "CARGO_PKG_NAME=mcp-transport-stdio"), "inherit_var adds to the list: {safe:?}");

    let all = env_of(EnvInheritance::All).await;
    assert!(all.iter().any(|l| l.starts_with("CARGO_MANIFEST_DIR=")), "{all:?}");
    assert!(all.iter().any(|l| l == "ADDED_BY_TEST=yes"), "{all:?}");
}

#[tokio::test]
async fn the_working_directory_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = ChildProcess::new("sh").args(["-c", "pwd -P >&2; exit 1"]).current_dir(dir.path()).spawn().unwrap();
    let error = final_error(&mut child).await;
    let tail = &ChildExited::find(&error).unwrap().stderr_tail;
    assert_eq!(tail, &[dir.path().canonicalize().unwrap().display().to_string()]);
}

#[tokio::test]
async fn a_missing_program_is_a_clear_error() {
    let error = ChildProcess::new("/nonexistent/mcp-server").spawn().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    assert!(error.to_string().contains("/nonexistent/mcp-server"), "{error}");
}

/// Signal numbers, without a libc dependency (the same on every Unix this runs on).
mod libc_sig {
    pub(crate) const TERM: i32 = 15;
    pub(crate) const KILL: i32 = 9;
}

#[test]
fn outside_a_runtime_is_an_error_not_a_panic() {
    let error = ChildProcess::new("cat").spawn().unwrap_err();
    assert!(error.to_string().contains("inside a tokio runtime"), "{error}");
    let error = mcp_transport_stdio::UnixAcceptor::bind("/nonexistent/x.sock").unwrap_err();
    assert!(error.to_string().contains("inside a tokio runtime"), "{error}");
}
