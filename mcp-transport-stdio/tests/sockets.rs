//! TCP and Unix socket acceptors and connectors: many sessions at once, the connection
//! limit, loopback-only by default, the socket file's life.

mod support;

use std::os::unix::fs::PermissionsExt;

use futures::{SinkExt, StreamExt};
use mcp_core::{BoxTransport, IncomingSession, Message, Transport};
use mcp_transport_stdio::{ListenerConfig, TcpAcceptor, UnixAcceptor, connect_tcp, connect_unix};
use serde_json::json;
use support::within;
use tokio::net::unix::UCred;

const CLIENTS: usize = 40;
const REQUESTS: i64 = 25;

/// Answers every request on `transport` with its params until the peer closes.
async fn echo(mut transport: BoxTransport) {
    while let Some(item) = transport.next().await {
        let answer = match item {
            Ok(Message::Request(req)) => Message::response(req.id, &req.params).unwrap(),
            Ok(_) => continue,
            Err(e) => match e.error_response() {
                Some(answer) => answer,
                None => break,
            },
        };
        if transport.send(answer).await.is_err() {
            break;
        }
    }
}

/// Serves every session of `acceptor` with [`echo`], each on its own task.
fn serve(acceptor: impl futures::Stream<Item = IncomingSession> + Send + 'static, check: fn(&IncomingSession)) {
    tokio::spawn(async move {
        let mut acceptor = std::pin::pin!(acceptor);
        while let Some(session) = acceptor.next().await {
            check(&session);
            tokio::spawn(echo(session.transport));
        }
    });
}

/// One client's conversation: `REQUESTS` requests, each answered with its own params.
async fn converse(mut client: impl Transport + Unpin, n: usize) {
    for i in 0..REQUESTS {
        let params = json!({"client": n, "i": i});
        client.send(Message::request(i, "echo", &params).unwrap()).await.unwrap();
        let Some(Ok(Message::Response(resp))) = client.next().await else { panic!("client {n}: an answer to {i}") };
        assert_eq!(resp.result.to_value(), params);
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn tcp_serves_many_sessions_at_once() {
    let acceptor = TcpAcceptor::bind("127.0.0.1:0").await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    serve(acceptor, |session| {
        assert_eq!(session.info.transport, "tcp");
        assert!(session.info.remote_addr.unwrap().ip().is_loopback());
    });
    let clients = (0..CLIENTS).map(|n| async move { converse(connect_tcp(addr).await.unwrap(), n).await });
    within("40 TCP clients' conversations", futures::future::join_all(clients)).await;
}

#[tokio::test]
async fn unix_serves_many_sessions_at_once_with_peer_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mcp.sock");
    let acceptor = UnixAcceptor::bind(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    serve(acceptor, |session| {
        assert_eq!(session.info.transport, "unix");
        let cred = session.info.extensions.get::<UCred>().expect("peer credentials");
        assert_eq!(cred.uid(), rustix::process::getuid().as_raw());
    });
    let clients = (0..CLIENTS).map(|n| {
        let path = path.clone();
        async move { converse(connect_unix(&path).await.unwrap(), n).await }
    });
    within("40 Unix socket clients' conversations", futures::future::join_all(clients)).await;
}

#[tokio::test]
async fn the_connection_limit_holds_new_connections_until_a_session_ends() {
    let config = ListenerConfig::default().with_max_connections(2);
    let mut acceptor = TcpAcceptor::bind_with("127.0.0.1:0", config).await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    let _clients =
        [connect_tcp(addr).await.unwrap(), connect_tcp(addr).await.unwrap(), connect_tcp(addr).await.unwrap()];

    let first = within("the first session", acceptor.next()).await.unwrap();
    let _second = within("the second session", acceptor.next()).await.unwrap();
    assert_eq!(acceptor.open_sessions(), 2);
    // No slot is free, so the acceptor does not even look at the listener.
    assert!(futures::poll!(acceptor.next()).is_pending(), "a third session while two are open");

    drop(first);
    let _third = within("the third session once the first ended", acceptor.next()).await.unwrap();
    assert_eq!(acceptor.open_sessions(), 2);
}

#[tokio::test]
async fn non_loopback_tcp_is_refused_by_default() {
    let error = TcpAcceptor::bind("0.0.0.0:0").await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(error.to_string().contains("ListenerConfig::allow_non_loopback"), "{error}");
    // IPv6 loopback is fine.
    if let Ok(acceptor) = TcpAcceptor::bind("[::1]:0").await {
        assert!(acceptor.local_addr().unwrap().ip().is_loopback());
    }
}

#[tokio::test]
async fn unix_socket_files_stale_live_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mcp.sock");
    // A stale socket file: bound once, no longer listened on.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let acceptor = UnixAcceptor::bind(&path).expect("a stale socket file is replaced");
    assert_eq!(acceptor.local_path().as_deref(), Some(path.as_path()));

    let live = UnixAcceptor::bind(&path).unwrap_err();
    assert_eq!(live.kind(), std::io::ErrorKind::AddrInUse);
    assert!(live.to_string().contains("already listening"), "{live}");

    drop(acceptor);
    assert!(!path.exists(), "the socket file is removed with the acceptor");
}

#[tokio::test]
async fn a_malformed_line_on_a_socket_gets_an_answer_and_the_session_goes_on() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let acceptor = TcpAcceptor::bind("127.0.0.1:0").await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    serve(acceptor, |_| {});
    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    raw.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\"\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"x\"}\r\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(raw).lines();
    let first: serde_json::Value =
        serde_json::from_str(&within("an answer", lines.next_line()).await.unwrap().unwrap()).unwrap();
    assert_eq!(first["error"]["code"], -32700);
    assert_eq!(first["id"], serde_json::Value::Null);
    let second: serde_json::Value =
        serde_json::from_str(&within("an answer", lines.next_line()).await.unwrap().unwrap()).unwrap();
    assert_eq!(second["id"], 2);
}

/// The fixture server of the testkit, served by mcp-peer on both acceptors; clients of our own
/// connect over TCP and Unix sockets at once and call `echo`.
#[tokio::test]
async fn a_server_serves_both_acceptors_to_many_clients() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixture.sock");
    let tcp = TcpAcceptor::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let unix = UnixAcceptor::bind(&path).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = mcp_testkit::fixtures::everything();
    let serving = tokio::spawn(async move {
        let acceptor = futures::stream::select(tcp, unix);
        server.serve_acceptor(acceptor, async move { stopped.await.unwrap_or(()) }).await
    });

    let calls = (0..10).map(|n| {
        let path = path.clone();
        async move {
            let client = if n % 2 == 0 {
                mcp_testkit::client::connect(connect_tcp(addr).await.unwrap()).await
            } else {
                mcp_testkit::client::connect(connect_unix(&path).await.unwrap()).await
            };
            let result = client.call_tool("echo", &json!({"message": format!("client {n}")})).await.unwrap();
            assert_eq!(result.content[0].as_text(), Some(format!("Echo: client {n}").as_str()));
            client.close().await.unwrap();
        }
    });
    within("10 clients over TCP and Unix sockets", futures::future::join_all(calls)).await;
    stop.send(()).unwrap();
    assert_eq!(within("the server to stop", serving).await.unwrap(), 10);
}

/// A vanished peer is detected by TCP keepalive (raw TCP has no heartbeat): on by default,
/// probing after 60 s of silence.
#[tokio::test]
async fn tcp_keepalive_is_on_by_default() {
    use rustix::net::sockopt;
    let mut acceptor = TcpAcceptor::bind("127.0.0.1:0").await.unwrap();
    let client = connect_tcp(acceptor.local_addr().unwrap()).await.unwrap();
    let stream: &tokio::net::TcpStream = client.reader().as_ref();
    assert!(sockopt::socket_keepalive(stream).unwrap());
    assert_eq!(sockopt::tcp_keepidle(stream).unwrap(), std::time::Duration::from_secs(60));
    assert_eq!(sockopt::tcp_keepcnt(stream).unwrap(), 3);
    // (Accepted connections go through the same function, with ListenerConfig::tcp_keepalive.)
    within("the session", acceptor.next()).await.unwrap();
}
