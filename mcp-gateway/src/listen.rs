//! Listener URLs: where clients connect.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use crate::gateway::Gateway;
use crate::tokens::Tokens;

/// One `--listen` URL, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Listener {
    /// `http://HOST:PORT` (or `https://` with TLS): Streamable HTTP + WebSocket at /mcp, legacy
    /// SSE at /sse + /messages, /health, /metrics.
    Http {
        /// Where to bind.
        addr: SocketAddr,
        /// Whether TLS was asked for (`https://`).
        tls: bool,
    },
    /// `stdio:`: one session on this process's stdin/stdout.
    Stdio,
    /// `tcp://HOST:PORT`: newline-delimited JSON over TCP, one session per connection.
    Tcp(SocketAddr),
    /// `nats://HOST:PORT/SERVICE`.
    Nats(String),
    /// `redis://HOST:PORT/SERVICE` (or `rediss://`).
    Redis(String),
}

impl Listener {
    /// Parses a `--listen` URL.
    ///
    /// # Errors
    /// A message naming the URL and the accepted forms.
    pub fn parse(url: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "--listen {url:?}: {why} (expected http://HOST:PORT, https://HOST:PORT, stdio:, tcp://HOST:PORT or nats://HOST:PORT/SERVICE)"
            )
        };
        let (scheme, rest) = url.split_once(':').ok_or_else(|| bad("no scheme"))?;
        let authority = || rest.strip_prefix("//").map(|r| r.trim_end_matches('/')).ok_or_else(|| bad("missing //"));
        let socket = |hostport: &str| -> Result<SocketAddr, String> {
            hostport
                .to_socket_addrs()
                .map_err(|e| bad(&format!("cannot resolve {hostport}: {e}")))?
                .next()
                .ok_or_else(|| bad("no address"))
        };
        match scheme {
            "http" | "https" => Ok(Self::Http { addr: socket(authority()?)?, tls: scheme == "https" }),
            "tcp" => Ok(Self::Tcp(socket(authority()?)?)),
            "stdio" => Ok(Self::Stdio),
            "redis" | "rediss" => {
                mcp_transport_redis::RedisConfig::from_url(url).map_err(|e| bad(&e.to_string()))?;
                Ok(Self::Redis(url.to_owned()))
            }
            "nats" => {
                mcp_transport_nats::NatsUrl::parse(url).map_err(|e| bad(&e.to_string()))?;
                Ok(Self::Nats(url.to_owned()))
            }
            _ => Err(bad(&format!("unknown scheme {scheme:?}"))),
        }
    }

    /// The address others reach it on, when it is a socket the gateway binds.
    pub fn bind_addr(&self) -> Option<SocketAddr> {
        match self {
            Self::Http { addr, .. } | Self::Tcp(addr) => Some(*addr),
            Self::Stdio | Self::Nats(_) | Self::Redis(_) => None,
        }
    }

    /// Whether anyone beyond this machine can reach it: a non-loopback bind, or a broker that
    /// is not on loopback.
    pub fn is_exposed(&self) -> bool {
        match self {
            Self::Http { addr, .. } | Self::Tcp(addr) => !addr.ip().is_loopback(),
            Self::Stdio => false,
            Self::Nats(url) | Self::Redis(url) => !broker_is_loopback(url),
        }
    }

    /// The transport name for metrics and logs.
    pub fn transport(&self) -> &'static str {
        match self {
            Self::Http { .. } => "http",
            Self::Stdio => "stdio",
            Self::Tcp(_) => "tcp",
            Self::Nats(_) => "nats",
            Self::Redis(_) => "redis",
        }
    }
}

fn broker_is_loopback(url: &str) -> bool {
    let authority = url.split("//").nth(1).and_then(|r| r.split('/').next()).unwrap_or_default();
    // Drop `user:password@` and the port.
    let hostport = authority.rsplit('@').next().unwrap_or_default();
    let host = if hostport.starts_with('[') {
        hostport.split(']').next().unwrap_or_default()
    } else {
        hostport.split(':').next().unwrap_or_default()
    };
    host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Starts a non-HTTP listener; it serves until shutdown. Returns where it listens, for the
/// start-up banner.
///
/// # Errors
/// When it cannot bind or connect.
pub async fn start(listener: &Listener, gateway: &Gateway, tokens: Option<&Tokens>) -> Result<String, String> {
    match listener {
        Listener::Http { .. } => Err("HTTP listeners are started by the http module".into()),
        Listener::Stdio => {
            let transport = mcp_transport_stdio::stdio().map_err(|e| format!("stdio listener: {e}"))?;
            gateway.spawn_session("stdio", transport.into_session());
            Ok("stdio (this process's stdin/stdout)".into())
        }
        Listener::Tcp(addr) => {
            let acceptor = mcp_transport_stdio::TcpAcceptor::bind_with(
                addr,
                mcp_transport_stdio::ListenerConfig::default().with_allow_non_loopback(true),
            )
            .await
            .map_err(|e| format!("cannot listen on tcp://{addr}: {e}"))?;
            let local = acceptor.local_addr().map_err(|e| e.to_string())?;
            let gateway = gateway.clone();
            // A TCP connection carries no credentials: it is only started on loopback or with
            // --insecure (checked by the caller).
            tokio::spawn(async move { gateway.serve_acceptor("tcp", acceptor).await });
            Ok(format!("tcp://{local} (newline-delimited JSON)"))
        }
        Listener::Nats(url) => {
            let parsed = mcp_transport_nats::NatsUrl::parse(url).map_err(|e| e.to_string())?;
            let client = parsed.connect().await.map_err(|e| format!("cannot connect to {}: {e}", parsed.server()))?;
            let mut config = parsed.server_config();
            if let Some(tokens) = tokens {
                config = config.verifier(tokens.clone());
            }
            let acceptor = mcp_transport_nats::NatsAcceptor::bind(client, config)
                .await
                .map_err(|e| format!("cannot serve on {url}: {e}"))?;
            let gateway = gateway.clone();
            tokio::spawn(async move { gateway.serve_acceptor("nats", acceptor).await });
            Ok(format!("{url} (NATS service {})", parsed.service()))
        }
        Listener::Redis(url) => {
            let config = mcp_transport_redis::RedisConfig::from_url(url).map_err(|e| e.to_string())?;
            let shown = config.redacted_redis_url();
            let bus = mcp_transport_redis::RedisBus::open(config)
                .await
                .map_err(|e| format!("cannot connect to {shown}: {e}"))?;
            let verifier = tokens.map(|tokens| Arc::new(tokens.clone()) as Arc<dyn mcp_core::TokenVerifier>);
            let acceptor = bus.accept_with(verifier).await.map_err(|e| format!("cannot serve on {shown}: {e}"))?;
            let gateway = gateway.clone();
            tokio::spawn(async move {
                // The bus lives as long as its acceptor serves.
                let _bus = bus;
                gateway.serve_acceptor("redis", acceptor).await
            });
            Ok(format!("{shown} (Redis service)"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listener_urls() {
        assert_eq!(
            Listener::parse("http://127.0.0.1:8080").unwrap(),
            Listener::Http { addr: "127.0.0.1:8080".parse().unwrap(), tls: false }
        );
        assert_eq!(Listener::parse("stdio:").unwrap(), Listener::Stdio);
        assert!(matches!(Listener::parse("tcp://127.0.0.1:0").unwrap(), Listener::Tcp(_)));
        assert!(matches!(Listener::parse("nats://127.0.0.1:4222/tools").unwrap(), Listener::Nats(_)));
        assert!(Listener::parse("ftp://x").unwrap_err().contains("unknown scheme"));
        assert!(Listener::parse("http:8080").unwrap_err().contains("missing //"));
    }

    #[test]
    fn exposure() {
        assert!(!Listener::parse("http://127.0.0.1:1").unwrap().is_exposed());
        assert!(!Listener::parse("http://[::1]:1").unwrap().is_exposed());
        assert!(Listener::parse("http://0.0.0.0:1").unwrap().is_exposed());
        assert!(!Listener::parse("nats://127.0.0.1:4222/x").unwrap().is_exposed());
        assert!(!Listener::parse("nats://localhost:4222/x").unwrap().is_exposed());
        assert!(Listener::parse("nats://10.0.0.5:4222/x").unwrap().is_exposed());
        assert!(!Listener::parse("redis://user:pw@127.0.0.1:6379/x").unwrap().is_exposed());
        assert!(Listener::parse("redis://redis.internal:6379/x").unwrap().is_exposed());
    }
}
