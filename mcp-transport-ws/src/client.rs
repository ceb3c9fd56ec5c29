//! The client side: [`connect`] to a `ws://` or `wss://` MCP server.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, header};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::auth::TOKEN_SUBPROTOCOL_PREFIX;
use crate::config::WsConfig;
use crate::server::SUBPROTOCOL;
use crate::transport::{BoxIo, WsTransport};

/// Client settings: headers, credentials, subprotocols, TLS roots, connection settings.
#[derive(Clone)]
#[non_exhaustive]
pub struct WsClientConfig {
    /// Per-connection settings: size limit, heartbeat (the client pings too), close timeout.
    pub ws: WsConfig,
    /// Extra headers on the upgrade request.
    pub headers: HeaderMap,
    /// A bearer token: sent as `Authorization: Bearer`, or as the `bearer.<token>` subprotocol
    /// entry when [`token_in_subprotocol`](Self::token_in_subprotocol) is set.
    pub bearer_token: Option<String>,
    /// Offer the token as a subprotocol entry instead of a header (what a browser must do).
    pub token_in_subprotocol: bool,
    /// The subprotocols offered, in order. Default `["mcp"]`.
    pub subprotocols: Vec<String>,
    /// Trust the webpki (Mozilla) root certificates for `wss://`. Default `true`.
    pub webpki_roots: bool,
    /// Extra trusted root certificates (a private CA, a self-signed test server), DER.
    pub root_certs: Vec<CertificateDer<'static>>,
    /// A complete TLS configuration, replacing `webpki_roots` and `root_certs` (client
    /// certificates, pinned versions).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// How long the TCP connect, TLS and WebSocket handshakes may take together. Default 10 s.
    pub connect_timeout: Duration,
}

impl Default for WsClientConfig {
    fn default() -> Self {
        Self {
            ws: WsConfig::default(),
            headers: HeaderMap::new(),
            bearer_token: None,
            token_in_subprotocol: false,
            subprotocols: vec![SUBPROTOCOL.to_owned()],
            webpki_roots: true,
            root_certs: Vec::new(),
            tls: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for WsClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsClientConfig")
            .field("ws", &self.ws)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "<redacted>"))
            .field("subprotocols", &self.subprotocols)
            .field("root_certs", &self.root_certs.len())
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl WsClientConfig {
    /// Sets the bearer token.
    #[must_use]
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Adds a header to the upgrade request.
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Trusts one more root certificate (DER).
    #[must_use]
    pub fn with_root_cert(mut self, cert: CertificateDer<'static>) -> Self {
        self.root_certs.push(cert);
        self
    }

    /// Sets the per-connection settings.
    #[must_use]
    pub fn with_ws(mut self, ws: WsConfig) -> Self {
        self.ws = ws;
        self
    }

    fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, ConnectError> {
        if let Some(tls) = &self.tls {
            return Ok(tls.clone());
        }
        let mut roots = rustls::RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for cert in &self.root_certs {
            roots.add(cert.clone()).map_err(|e| ConnectError::Tls(format!("bad root certificate: {e}")))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ConnectError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

/// Why [`connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a `ws://` or `wss://` URL with a host.
    #[error("invalid WebSocket URL {url:?}: {why}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The TCP connection failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TLS configuration or handshake failed.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The whole connection attempt took longer than [`WsClientConfig::connect_timeout`].
    #[error("connecting took longer than {0:?} (WsClientConfig::connect_timeout)")]
    Timeout(Duration),
    /// The server answered the upgrade 401: credentials missing or refused.
    #[error("the server refused the credentials (401): {body}")]
    Unauthorized {
        /// The server's explanation.
        body: String,
    },
    /// The server answered the upgrade with another HTTP status.
    #[error("the server refused the upgrade with HTTP {status}: {body}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The server's explanation.
        body: String,
    },
    /// The WebSocket handshake failed otherwise (a subprotocol mismatch, a malformed reply).
    #[error("WebSocket handshake failed: {0}")]
    Handshake(String),
}

/// Connects to an MCP server at `url` (`ws://host:port/path` or `wss://...`).
///
/// # Errors
/// See [`ConnectError`]: each variant says what failed and, for HTTP refusals, the server's
/// explanation.
pub async fn connect(url: &str, config: &WsClientConfig) -> Result<WsTransport, ConnectError> {
    // Boxed: the TLS and WebSocket handshakes make a large future.
    match tokio::time::timeout(config.connect_timeout, Box::pin(connect_inner(url, config))).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout(config.connect_timeout)),
    }
}

async fn connect_inner(url: &str, config: &WsClientConfig) -> Result<WsTransport, ConnectError> {
    let invalid = |why: &str| ConnectError::InvalidUrl { url: url.to_owned(), why: why.to_owned() };
    let uri: http::Uri = url.parse().map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
    let tls = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        _ => return Err(invalid("the scheme must be ws or wss")),
    };
    let host = uri.host().ok_or_else(|| invalid("no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });

    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|source| ConnectError::Connect { addr: format!("{host}:{port}"), source })?;
    let _ = tcp.set_nodelay(true);
    let io: BoxIo = if tls {
        let name = ServerName::try_from(host.clone()).map_err(|e| invalid(&format!("bad TLS server name: {e}")))?;
        let stream = TlsConnector::from(config.tls_config()?)
            .connect(name, tcp)
            .await
            .map_err(|e| ConnectError::Tls(format!("handshake with {host}:{port}: {e}")))?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };

    let mut request = uri.into_client_request().map_err(|e| invalid(&e.to_string()))?;
    let headers = request.headers_mut();
    for (name, value) in &config.headers {
        headers.append(name, value.clone());
    }
    let mut offered = config.subprotocols.clone();
    if let Some(token) = &config.bearer_token {
        if config.token_in_subprotocol {
            offered.push(format!("{TOKEN_SUBPROTOCOL_PREFIX}{token}"));
        } else {
            let value = HeaderValue::try_from(format!("Bearer {token}"))
                .map_err(|_| ConnectError::Handshake("the bearer token is not a valid header value".into()))?;
            headers.insert(header::AUTHORIZATION, value);
        }
    }
    if !offered.is_empty() {
        let value = HeaderValue::try_from(offered.join(", "))
            .map_err(|_| ConnectError::Handshake("a subprotocol is not a valid header value".into()))?;
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }

    let (ws, _response) = tokio_tungstenite::client_async_with_config(request, io, Some(config.ws.tungstenite()))
        .await
        .map_err(handshake_error)?;
    Ok(WsTransport::new(ws, &config.ws))
}

fn handshake_error(err: WsError) -> ConnectError {
    match err {
        WsError::Http(resp) => {
            let status = resp.status().as_u16();
            let body = resp.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default().trim().to_owned();
            if status == 401 { ConnectError::Unauthorized { body } } else { ConnectError::Rejected { status, body } }
        }
        WsError::Tls(e) => ConnectError::Tls(e.to_string()),
        other => ConnectError::Handshake(other.to_string()),
    }
}
