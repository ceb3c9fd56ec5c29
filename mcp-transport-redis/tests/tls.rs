//! `rediss://`: sessions over a TLS redis-server with a private CA.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use futures::{SinkExt, StreamExt};
use mcp_transport_redis::{RedisBus, RedisConfig, RedisTransportError};
use support::{request, within};

fn run(cmd: &mut Command) {
    let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap_or_else(|e| {
        panic!("could not run {cmd:?}: {e} (install openssl and redis-server: scripts/install-test-deps)")
    });
    assert!(status.success(), "{cmd:?} failed");
}

/// A CA and a certificate for 127.0.0.1 signed by it, in `dir`.
fn make_certs(dir: &Path) {
    let p = |name: &str| dir.join(name);
    run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca"])
        .arg("-keyout")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.pem")));
    run(Command::new("openssl")
        .args(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr")));
    std::fs::write(p("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-extfile")
        .arg(p("ext.cnf"))
        .arg("-out")
        .arg(p("server.pem")));
}

struct TlsRedis {
    child: std::process::Child,
    port: u16,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_tls_redis(dir: &Path) -> TlsRedis {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("redis-server")
        .args(["--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--tls-auth-clients", "no"])
        .arg("--tls-port")
        .arg(port.to_string())
        .arg("--tls-cert-file")
        .arg(dir.join("server.pem"))
        .arg("--tls-key-file")
        .arg(dir.join("server.key"))
        .arg("--tls-ca-cert-file")
        .arg(dir.join("ca.pem"))
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on PATH (scripts/install-test-deps)");
    within("the TLS redis-server to listen", async {
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    TlsRedis { child, port }
}

#[tokio::test]
async fn sessions_over_rediss_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let redis = start_tls_redis(dir.path()).await;
    let url = format!("rediss://127.0.0.1:{}/tls", redis.port);

    // Without the CA the server's certificate is refused.
    let err = RedisBus::open(RedisConfig::from_url(&url).unwrap()).await.unwrap_err();
    assert!(matches!(err, RedisTransportError::Redis { .. }), "{err}");

    let mut config = RedisConfig::from_url(&url).unwrap();
    config.tls_root_cert_pem = Some(std::fs::read(dir.path().join("ca.pem")).unwrap());
    let bus = within("the TLS bus", RedisBus::open(config)).await.unwrap();
    let mut acceptor = bus.accept().await.unwrap();
    let mut client = within("connect", bus.connect()).await.unwrap();
    let mut server = within("the session", acceptor.next()).await.unwrap().transport;
    client.send(request(1, serde_json::json!({"over": "tls"}))).await.unwrap();
    let got = within("the request over TLS", server.next()).await.unwrap().unwrap();
    assert_eq!(got.method(), Some("echo"));
}
