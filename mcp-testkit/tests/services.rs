//! The ephemeral servers against the real `nats-server` and `redis-server` binaries.

use std::time::Duration;

use mcp_testkit::services::{NatsServer, RedisServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

/// Sends `request` to 127.0.0.1:port and returns what came back until `until` appeared.
async fn exchange(port: u16, request: &[u8], until: &str) -> String {
    let work = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        stream.write_all(request).await.expect("write");
        let mut reply = Vec::new();
        let mut chunk = [0u8; 4096];
        while !String::from_utf8_lossy(&reply).contains(until) {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed; got {:?}", String::from_utf8_lossy(&reply));
            reply.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&reply).into_owned()
    };
    tokio::time::timeout(WAIT, work).await.unwrap_or_else(|_| panic!("waiting for {until:?} from port {port}"))
}

fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out += &format!("${}\r\n{a}\r\n", a.len());
    }
    out.into_bytes()
}

async fn refused(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).await.is_err()
}

#[tokio::test]
async fn nats_starts_stops_and_restarts_on_the_same_port() {
    let mut nats = NatsServer::start().await;
    let port = nats.port();
    assert_eq!(nats.url(), format!("nats://127.0.0.1:{port}"));
    // A real NATS client exchange: PING is answered by PONG after CONNECT.
    let reply = exchange(port, b"CONNECT {\"verbose\":false}\r\nPING\r\n", "PONG").await;
    assert!(reply.starts_with("INFO "), "{reply}");

    nats.stop().await;
    assert!(!nats.is_running());
    assert!(refused(port).await, "port {port} still accepts after stop");

    nats.restart().await;
    assert!(nats.is_running());
    assert_eq!(nats.port(), port);
    exchange(port, b"CONNECT {\"verbose\":false}\r\nPING\r\n", "PONG").await;

    drop(nats);
    assert!(refused(port).await, "port {port} still accepts after drop: orphan process");
}

#[tokio::test]
async fn nats_options_reach_the_server() {
    let nats = NatsServer::builder().max_payload(4096).token("s3cret").jetstream(true).start().await;
    assert_eq!(nats.url(), format!("nats://s3cret@127.0.0.1:{}", nats.port()));
    let info = exchange(nats.port(), b"", "\r\n").await;
    assert!(info.contains("\"max_payload\":4096"), "{info}");
    assert!(info.contains("\"auth_required\":true"), "{info}");
    assert!(info.contains("\"jetstream\":true"), "{info}");
    // Without the token the server refuses the connection.
    let reply = exchange(nats.port(), b"CONNECT {\"verbose\":false}\r\nPING\r\n", "-ERR").await;
    assert!(reply.contains("Authorization Violation"), "{reply}");
    exchange(nats.port(), b"CONNECT {\"verbose\":false,\"auth_token\":\"s3cret\"}\r\nPING\r\n", "PONG").await;
}

#[tokio::test]
async fn redis_persistent_keeps_data_across_restart_and_crash() {
    let mut redis = RedisServer::builder().persistent(true).start().await;
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}/"));
    exchange(port, &resp(&["SET", "k", "v1"]), "+OK").await;

    redis.restart().await;
    assert_eq!(redis.port(), port);
    assert!(exchange(port, &resp(&["GET", "k"]), "v1").await.contains("$2\r\nv1"));

    exchange(port, &resp(&["SET", "k", "v2"]), "+OK").await;
    redis.kill();
    assert!(refused(port).await);
    redis.restart().await;
    assert!(exchange(port, &resp(&["GET", "k"]), "v2").await.contains("$2\r\nv2"));
}

#[tokio::test]
async fn redis_by_default_forgets_on_restart_and_password_is_enforced() {
    let mut redis = RedisServer::builder().password("pw").start().await;
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://:pw@127.0.0.1:{port}/"));
    assert!(exchange(port, &resp(&["GET", "k"]), "\r\n").await.starts_with("-NOAUTH"));
    let mut request = resp(&["AUTH", "pw"]);
    request.extend(resp(&["SET", "k", "v"]));
    exchange(port, &request, "+OK\r\n+OK").await;

    redis.restart().await;
    let mut request = resp(&["AUTH", "pw"]);
    request.extend(resp(&["GET", "k"]));
    assert!(exchange(port, &request, "$-1").await.contains("$-1"), "data survived a non-persistent restart");
    drop(redis);
    assert!(refused(port).await, "port {port} still accepts after drop: orphan process");
}
