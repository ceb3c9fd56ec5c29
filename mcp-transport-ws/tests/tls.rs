//! The client over TLS (`wss://`): rustls with the ring provider, a custom root certificate
//! trusted on request, an untrusted server refused.

mod support;

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use mcp_core::Message;
use mcp_transport_ws::{ConnectError, WsClientConfig, connect};
use rustls::pki_types::CertificateDer;
use support::*;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

const CERT: &[u8] = include_bytes!("fixtures/localhost.crt");
const KEY: &[u8] = include_bytes!("fixtures/localhost.key");

fn cert() -> CertificateDer<'static> {
    rustls_pemfile::certs(&mut &CERT[..]).next().expect("a certificate").expect("valid PEM")
}

/// A `wss://localhost` echo server (self-signed certificate) for one connection.
async fn tls_echo_server() -> String {
    let key = rustls_pemfile::private_key(&mut &KEY[..]).expect("valid PEM").expect("a key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = tcp.accept().await {
            let Ok(tls) = acceptor.accept(stream).await else { continue };
            #[allow(clippy::result_large_err)]
            let select_mcp = |_: &Request, mut resp: Response| {
                resp.headers_mut().insert("sec-websocket-protocol", "mcp".parse().unwrap());
                Ok(resp)
            };
            let mut ws = tokio_tungstenite::accept_hdr_async(tls, select_mcp).await.unwrap();
            while let Some(Ok(frame)) = ws.next().await {
                if frame.is_text() && ws.send(frame).await.is_err() {
                    break;
                }
            }
        }
    });
    format!("wss://localhost:{port}/mcp")
}

#[tokio::test]
async fn wss_with_a_custom_root_certificate() {
    let url = tls_echo_server().await;
    let mut config = WsClientConfig::default().with_root_cert(cert());
    config.webpki_roots = false;
    let mut client = connect(&url, &config).await.expect("a TLS connection trusting the test root");
    let ping = Message::request(7, "ping", &serde_json::json!({})).unwrap();
    client.send(ping.clone()).await.unwrap();
    let echoed = within("the echo over TLS", client.next()).await.unwrap().unwrap();
    assert_eq!(echoed, ping);
}

#[tokio::test]
async fn wss_refuses_an_untrusted_certificate() {
    let url = tls_echo_server().await;
    let err = connect(&url, &WsClientConfig::default()).await.unwrap_err();
    assert!(matches!(err, ConnectError::Tls(_)), "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
}
