//! Interop: the official TypeScript (1.32.2) and Python (2.3.0) SDK clients against the
//! everything-http example, and our clients against the reference server-everything.

mod common;

use std::process::Output;
use std::time::Duration;

use common::*;
use futures::{SinkExt, StreamExt};
use mcp_core::Message;
use mcp_transport_sse::{HttpClientConfig, connect_legacy_sse, connect_streamable_http};
use serde_json::{Value, json};

fn script(name: &str) -> String {
    format!("{}/tests/interop/{name}", env!("CARGO_MANIFEST_DIR"))
}

async fn run(mut command: tokio::process::Command, what: &str) -> Vec<Value> {
    let output: Output = tokio::time::timeout(Duration::from_secs(120), command.kill_on_drop(true).output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 120 s"))
        .expect("start the interop client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{what} failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: {e}: {l}"))).collect()
}

fn step<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    &lines.iter().find(|l| l["step"] == name).unwrap_or_else(|| panic!("no step {name} in {lines:?}"))["result"]
}

fn ts(mode: &str, url: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(mcp_testkit::tools::node());
    c.arg(script("ts_client.cjs")).args([mode, url]).env("NODE_PATH", mcp_testkit::tools::node_modules());
    c
}

fn python(mode: &str, url: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(mcp_testkit::tools::python());
    c.arg(script("python_client.py")).args([mode, url]);
    c
}

async fn wait_for_no_sessions(base: &str) {
    let http = http_client();
    within("the server to end the sessions", async {
        loop {
            let health: Value = http.get(format!("{base}/health")).send().await.unwrap().json().await.unwrap();
            if health["sessions"] == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_clients_against_our_server() {
    let server = everything_http().await;
    let lines = run(ts("streamable", &format!("{}/mcp", server.base)), "TS StreamableHTTPClientTransport").await;
    assert!(step(&lines, "initialize")["sessionId"].is_string());
    assert_eq!(step(&lines, "tools/call")["content"][0]["text"], "Echo: hello from typescript");
    assert!(step(&lines, "progress")["notifications"].as_u64().unwrap() >= 1, "{lines:?}");
    assert!(step(&lines, "tools/list")["tools"].as_array().unwrap().len() >= 10);
    wait_for_no_sessions(&server.base).await;

    let lines = run(ts("sse", &format!("{}/sse", server.base)), "TS SSEClientTransport").await;
    assert_eq!(step(&lines, "tools/call")["content"][0]["text"], "Echo: hello from typescript");
    assert!(step(&lines, "resources/read")["contents"][0]["text"].is_string());
    wait_for_no_sessions(&server.base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_clients_against_our_server() {
    let server = everything_http().await;
    let lines = run(python("streamable", &format!("{}/mcp", server.base)), "Python streamable_http_client").await;
    assert_eq!(step(&lines, "tools/call")["content"][0]["text"], "Echo: hello from python");
    assert!(step(&lines, "closed").is_object());
    wait_for_no_sessions(&server.base).await;

    let lines = run(python("sse", &format!("{}/sse", server.base)), "Python sse_client").await;
    assert_eq!(step(&lines, "tools/call")["content"][0]["text"], "Echo: hello from python");
    wait_for_no_sessions(&server.base).await;
}

/// The reference server-everything on a free port, in `streamableHttp` or `sse` mode.
async fn server_everything(mode: &str) -> (tokio::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let entry = mcp_testkit::tools::node_modules().join("@modelcontextprotocol/server-everything/dist/index.js");
    let child = tokio::process::Command::new(mcp_testkit::tools::node())
        .arg(entry)
        .arg(mode)
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start server-everything");
    let http = http_client();
    within("server-everything to listen", async {
        while http.get(format!("http://127.0.0.1:{port}/")).send().await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    (child, port)
}

async fn drive_reference(mut t: mcp_transport_sse::HttpClientTransport) {
    let init =
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "ours", "version": "0"}});
    t.send(Message::request(1, "initialize", &init).unwrap()).await.unwrap();
    let reply = within("initialize", next_response(&mut t, 1)).await;
    assert!(reply["serverInfo"]["name"].is_string(), "{reply}");
    t.send(Message::notification("notifications/initialized", &json!({})).unwrap()).await.unwrap();
    t.send(Message::request(2, "tools/call", &json!({"name": "echo", "arguments": {"message": "hi"}})).unwrap())
        .await
        .unwrap();
    let reply = within("tools/call echo", next_response(&mut t, 2)).await;
    assert_eq!(reply["content"][0]["text"], "Echo: hi");
    t.close().await.unwrap();
}

/// The result of response `id`, skipping notifications and answering server requests with {}.
async fn next_response(t: &mut mcp_transport_sse::HttpClientTransport, id: i64) -> Value {
    loop {
        match t.next().await.expect("stream ended").expect("error item") {
            Message::Response(r) if r.id == mcp_core::RequestId::Number(id) => return r.result.to_value(),
            Message::Error(e) => panic!("error response: {:?}", e.error),
            Message::Request(r) => t.send(Message::response(r.id, &json!({})).unwrap()).await.unwrap(),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_clients_against_the_reference_server_everything() {
    let (_child, port) = server_everything("streamableHttp").await;
    let t = connect_streamable_http(&format!("http://127.0.0.1:{port}/mcp"), HttpClientConfig::default()).unwrap();
    drive_reference(t).await;

    let (_child, port) = server_everything("sse").await;
    let t = connect_legacy_sse(&format!("http://127.0.0.1:{port}/sse"), HttpClientConfig::default()).await.unwrap();
    drive_reference(t).await;
}
