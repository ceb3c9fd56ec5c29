//! The URL form used by the gateway: `nats://[user:password@|token@]host[:port]/<service>[?prefix=<prefix>]`.

use std::fmt;
use std::str::FromStr;

use async_nats::ConnectOptions;

use crate::config::{NatsClientConfig, NatsServerConfig};
use crate::error::NatsError;
use crate::subjects::{DEFAULT_PREFIX, ServiceSubjects};

/// A parsed `nats://host:port/<service>` URL: where the NATS server is, how to log in to it,
/// and which MCP service to serve or reach.
///
/// `tls://` requires TLS; credentials in the URL (`user:password@` or `token@`, percent-encoded)
/// become connect options. Other options (nkey, creds file, client certificates) are set on the
/// [`ConnectOptions`] from [`connect_options`](Self::connect_options).
///
/// ```
/// use mcp_transport_nats::NatsUrl;
///
/// let url: NatsUrl = "nats://alice:pa%40ss@127.0.0.1:4333/weather?prefix=acme.mcp".parse().unwrap();
/// assert_eq!(url.server(), "nats://127.0.0.1:4333");
/// assert_eq!(url.service(), "weather");
/// assert_eq!(url.prefix(), "acme.mcp");
/// assert!(!format!("{url:?}").contains("pa@ss")); // secrets never shown
/// assert_eq!(url.to_string(), "nats://alice:***@127.0.0.1:4333/weather?prefix=acme.mcp");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct NatsUrl {
    tls: bool,
    host_port: String,
    service: String,
    prefix: String,
    auth: UrlAuth,
}

#[derive(Clone, PartialEq, Eq)]
enum UrlAuth {
    None,
    Token(String),
    UserPassword(String, String),
}

impl NatsUrl {
    /// Parses `url`.
    ///
    /// # Errors
    /// [`NatsError::Url`] (with any secret removed) when the scheme is not `nats` or `tls`, the
    /// host or service is missing, or the service or prefix is not a valid subject token.
    pub fn parse(url: &str) -> Result<Self, NatsError> {
        let fail = |reason: &str| NatsError::Url { url: redact(url), reason: reason.to_owned() };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| fail("expected nats://host:port/<service>"))?;
        let tls = match scheme {
            "nats" => false,
            "tls" => true,
            _ => return Err(fail("the scheme must be nats:// or tls://")),
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = rest.split_once('/').ok_or_else(|| fail("missing /<service> after the host"))?;
        let service = path.trim_end_matches('/');
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if host_port.is_empty() {
            return Err(fail("missing host"));
        }
        let host_port = if has_port(host_port) { host_port.to_owned() } else { format!("{host_port}:4222") };
        let auth = match userinfo {
            None => UrlAuth::None,
            Some(info) => match info.split_once(':') {
                Some((user, pass)) => UrlAuth::UserPassword(
                    percent_decode(user).ok_or_else(|| fail("bad percent-encoding in the user"))?,
                    percent_decode(pass).ok_or_else(|| fail("bad percent-encoding in the password"))?,
                ),
                None => UrlAuth::Token(percent_decode(info).ok_or_else(|| fail("bad percent-encoding in the token"))?),
            },
        };
        let mut prefix = DEFAULT_PREFIX.to_owned();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("prefix", value)) => prefix = value.to_owned(),
                _ => return Err(fail(&format!("unknown query parameter {pair:?} (only prefix=… is known)"))),
            }
        }
        ServiceSubjects::new(&prefix, service).map_err(|err| fail(&err.to_string()))?;
        Ok(Self { tls, host_port, service: service.to_owned(), prefix, auth })
    }

    /// The NATS server address without credentials, e.g. `nats://127.0.0.1:4222`.
    pub fn server(&self) -> String {
        format!("{}://{}", if self.tls { "tls" } else { "nats" }, self.host_port)
    }

    /// The MCP service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The subject prefix (`mcp` unless `?prefix=` says otherwise).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Connect options carrying the URL's credentials and TLS requirement; add more (nkey,
    /// creds file, certificates, a connection name) before connecting.
    pub fn connect_options(&self) -> ConnectOptions {
        let options = match &self.auth {
            UrlAuth::None => ConnectOptions::new(),
            UrlAuth::Token(token) => ConnectOptions::with_token(token.clone()),
            UrlAuth::UserPassword(user, pass) => ConnectOptions::with_user_and_password(user.clone(), pass.clone()),
        };
        if self.tls { options.require_tls(true) } else { options }
    }

    /// Connects to the NATS server with `options` (see [`connect_options`](Self::connect_options)).
    ///
    /// # Errors
    /// [`NatsError::Connect`] when the server cannot be reached or refuses the credentials.
    pub async fn connect_with(&self, options: ConnectOptions) -> Result<async_nats::Client, NatsError> {
        // Boxed: async-nats' connect future is some 20 KiB, too big to inline into callers'.
        Box::pin(options.connect(self.server()))
            .await
            .map_err(|source| NatsError::Connect { server: self.server(), source })
    }

    /// Connects with [`connect_options`](Self::connect_options).
    ///
    /// # Errors
    /// As [`connect_with`](Self::connect_with).
    pub async fn connect(&self) -> Result<async_nats::Client, NatsError> {
        self.connect_with(self.connect_options()).await
    }

    /// A server configuration for this service and prefix.
    pub fn server_config(&self) -> NatsServerConfig {
        NatsServerConfig::new(&self.service).prefix(&self.prefix)
    }

    /// A client configuration for this service and prefix.
    pub fn client_config(&self) -> NatsClientConfig {
        NatsClientConfig::new(&self.service).prefix(&self.prefix)
    }
}

impl FromStr for NatsUrl {
    type Err = NatsError;
    fn from_str(s: &str) -> Result<Self, NatsError> {
        Self::parse(s)
    }
}

/// Shows the URL with any password or token replaced by `***`.
impl fmt::Display for NatsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "tls" } else { "nats" };
        let auth = match &self.auth {
            UrlAuth::None => String::new(),
            UrlAuth::Token(_) => "***@".to_owned(),
            UrlAuth::UserPassword(user, _) => format!("{user}:***@"),
        };
        write!(f, "{scheme}://{auth}{}/{}", self.host_port, self.service)?;
        if self.prefix != DEFAULT_PREFIX {
            write!(f, "?prefix={}", self.prefix)?;
        }
        Ok(())
    }
}

impl fmt::Debug for NatsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NatsUrl({self})")
    }
}

fn has_port(host_port: &str) -> bool {
    match host_port.rsplit_once(':') {
        // `[::1]` alone has colons but no port.
        Some((host, port)) => {
            !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && !host.ends_with(':')
                && (!host.starts_with('[') || host.ends_with(']'))
        }
        None => false,
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `url` with the user-info part replaced, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => format!("{}***{}", &url[..start + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_gateway_form() {
        let u = NatsUrl::parse("nats://127.0.0.1:4222/everything").unwrap();
        assert_eq!((u.server().as_str(), u.service(), u.prefix()), ("nats://127.0.0.1:4222", "everything", "mcp"));
        let u = NatsUrl::parse("nats://localhost/svc").unwrap();
        assert_eq!(u.server(), "nats://localhost:4222");
        let u = NatsUrl::parse("tls://[::1]:5000/svc/").unwrap();
        assert_eq!(u.server(), "tls://[::1]:5000");
        let u = NatsUrl::parse("nats://[::1]/svc").unwrap();
        assert_eq!(u.server(), "nats://[::1]:4222");
        let u = NatsUrl::parse("nats://s3cr%2Ft@h:1/svc").unwrap();
        assert_eq!(u.to_string(), "nats://***@h:1/svc");
        assert!(matches!(u.auth, UrlAuth::Token(ref t) if t == "s3cr/t"));
    }

    #[test]
    fn rejects_bad_urls_without_showing_secrets() {
        for bad in [
            "http://h:1/svc",
            "nats://h:1",
            "nats://h:1/",
            "nats://h:1/a.b",
            "nats://h:1/a*",
            "nats:///svc",
            "nats://h:1/svc?x=1",
            "nats://u:hunter2@h:1/svc?prefix=bad..prefix",
            "nats://u:%zz@h:1/svc",
        ] {
            let err = NatsUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains("invalid NATS URL"), "{bad}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
