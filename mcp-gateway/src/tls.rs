//! TLS and mutual TLS for the HTTP listener (rustls with the ring provider).

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Certificate, key and optional client CA files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain (PEM).
    pub cert: std::path::PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
    /// When set, clients must present a certificate signed by this CA (PEM): mutual TLS.
    pub client_ca: Option<std::path::PathBuf>,
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read certificate {}: {e}", path.display()))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid PEM in {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate found in {}", path.display()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read key {}: {e}", path.display()))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| format!("invalid PEM in {}: {e}", path.display()))?
        .ok_or_else(|| format!("no private key found in {}", path.display()))
}

/// Builds the rustls server configuration (HTTP/1.1 and HTTP/2 by ALPN).
///
/// # Errors
/// A message naming the file that could not be read or used.
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in read_certs(ca)? {
                roots.add(cert).map_err(|e| format!("invalid client CA {}: {e}", ca.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("client CA {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(read_certs(&files.cert)?, read_key(&files.key)?)
        .map_err(|e| format!("certificate {} and key {} do not fit: {e}", files.cert.display(), files.key.display()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `app` over TLS on `listener` until `shutdown`; a failed handshake drops only that
/// connection. Connections in progress finish on their own after shutdown.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(config);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => return,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        // As in `mcp_transport_sse::serve_router`: what hyper and the handler it polls hand each
        // other wakes this task while it runs; Rerun makes that another round of its poll.
        tokio::spawn(mcp_core::rerun::Rerun::new(Box::pin(async move {
            let tls = match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(remote = %remote, error = %e, "tls_handshake_failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(remote = %remote, "tls_handshake_timeout");
                    return;
                }
            };
            let service = app.map_request(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(remote));
                req
            });
            let result = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(tls), TowerToHyperService::new(service))
                .await;
            if let Err(e) = result {
                tracing::debug!(remote = %remote, error = %e, "connection ended with an error");
            }
        })));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_named() {
        let files =
            TlsFiles { cert: "/nonexistent/cert.pem".into(), key: "/nonexistent/key.pem".into(), client_ca: None };
        let err = server_config(&files).unwrap_err();
        assert!(err.contains("/nonexistent/cert.pem"), "{err}");
    }

    use std::net::SocketAddr;

    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    struct Pki {
        dir: tempfile::TempDir,
        ca: CertificateDer<'static>,
        client_chain: Vec<CertificateDer<'static>>,
        client_key: PrivateKeyDer<'static>,
    }

    /// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
    fn pki() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let issue = |names: Vec<String>, file: &str| {
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(names).unwrap().signed_by(&key, &ca).unwrap();
            std::fs::write(dir.path().join(format!("{file}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.path().join(format!("{file}.key")), key.serialize_pem()).unwrap();
            (cert, key)
        };
        issue(vec!["127.0.0.1".into(), "localhost".into()], "server");
        let (client, client_key) = issue(vec!["client.test".into()], "client");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Pki {
            ca: ca.der().clone(),
            client_chain: vec![client.der().clone()],
            client_key: PrivateKeyDer::try_from(client_key.serialize_der()).unwrap(),
            dir,
        }
    }

    async fn get_health(addr: SocketAddr, pki: &Pki, with_client_cert: bool) -> std::io::Result<String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca.clone()).unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = if with_client_cert {
            builder.with_client_auth_cert(pki.client_chain.clone(), pki.client_key.clone_key()).unwrap()
        } else {
            builder.with_no_client_auth()
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = connector.connect(name, tcp).await?;
        tls.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await?;
        let mut answer = String::new();
        tls.read_to_string(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test]
    async fn mutual_tls_requires_a_client_certificate_from_the_ca() {
        let pki = pki();
        let path = |f: &str| pki.dir.path().join(f);
        let files = TlsFiles { cert: path("server.pem"), key: path("server.key"), client_ca: Some(path("ca.pem")) };
        let config = server_config(&files).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/health", axum::routing::get(|| async { "tls-ok" }));
        let stop = CancellationToken::new();
        tokio::spawn(serve(listener, config, app, stop.clone()));

        let answer = tokio::time::timeout(std::time::Duration::from_secs(10), get_health(addr, &pki, true))
            .await
            .expect("an answer within 10 s")
            .expect("TLS with a client certificate works");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("tls-ok"), "{answer}");

        let refused = tokio::time::timeout(std::time::Duration::from_secs(10), get_health(addr, &pki, false))
            .await
            .expect("an answer within 10 s");
        assert!(
            refused.is_err() || !refused.as_ref().unwrap().contains("tls-ok"),
            "no client certificate was accepted: {refused:?}"
        );
        stop.cancel();
    }

    #[test]
    fn garbage_pem_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        let files = TlsFiles { cert: cert.clone(), key: cert, client_ca: None };
        let err = server_config(&files).unwrap_err();
        assert!(err.contains("no certificate"), "{err}");
    }
}
