//! Host and Origin validation against DNS rebinding (the spec's MUST: 403 on a bad Origin).
//!
//! A web page on `evil.example` that resolves its name to 127.0.0.1 can make a browser talk to
//! a local MCP server; the browser then sends `Host: evil.example` and `Origin:
//! http://evil.example`. Checking both against what the server expects stops it.

use http::HeaderMap;
use http::header::{HOST, ORIGIN};

/// Which `Host` and `Origin` headers a server accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OriginPolicy {
    /// Only loopback names (`localhost`, `127.0.0.0/8`, `[::1]`, any port) in `Host`, and only
    /// `http(s)://` origins on those names in `Origin` (when present). The default, right for a
    /// server bound to a loopback address.
    #[default]
    Loopback,
    /// Only the listed hosts (`example.com` matches any port, `example.com:8443` only that port)
    /// and the listed origins (`https://app.example.com`, compared without case). A request
    /// without `Origin` (not from a browser) passes the origin check.
    AllowList {
        /// Accepted `Host` values.
        hosts: Vec<String>,
        /// Accepted `Origin` values.
        origins: Vec<String>,
    },
    /// No check at all: only behind a proxy that does it.
    Disabled,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginRejection {
    /// The `Host` header names a host the policy does not accept.
    #[error("Host {0:?} is not allowed (configure OriginPolicy::AllowList to accept it)")]
    Host(String),
    /// The `Origin` header names an origin the policy does not accept.
    #[error("Origin {0:?} is not allowed (configure OriginPolicy::AllowList to accept it)")]
    Origin(String),
}

impl OriginPolicy {
    /// A policy accepting exactly these hosts and origins.
    pub fn allow_list<H, O>(hosts: H, origins: O) -> Self
    where
        H: IntoIterator,
        H::Item: Into<String>,
        O: IntoIterator,
        O::Item: Into<String>,
    {
        Self::AllowList {
            hosts: hosts.into_iter().map(Into::into).collect(),
            origins: origins.into_iter().map(Into::into).collect(),
        }
    }

    /// Checks a request's headers. `authority` is the request URI's authority, used when there is
    /// no `Host` header (HTTP/2).
    ///
    /// # Errors
    /// The header the policy refuses.
    pub fn check(&self, headers: &HeaderMap, authority: Option<&str>) -> Result<(), OriginRejection> {
        if matches!(self, Self::Disabled) {
            return Ok(());
        }
        let host = headers.get(HOST).and_then(|h| h.to_str().ok()).or(authority);
        if let Some(host) = host
            && !self.host_allowed(host)
        {
            return Err(OriginRejection::Host(host.to_owned()));
        }
        if let Some(origin) = headers.get(ORIGIN) {
            let text = origin.to_str().unwrap_or("<not ASCII>");
            if !self.origin_allowed(text) {
                return Err(OriginRejection::Origin(text.to_owned()));
            }
        }
        Ok(())
    }

    fn host_allowed(&self, host: &str) -> bool {
        match self {
            Self::Disabled => true,
            Self::Loopback => is_loopback_name(strip_port(host)),
            Self::AllowList { hosts, .. } => hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host) || (!has_port(h) && h.eq_ignore_ascii_case(strip_port(host)))),
        }
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        match self {
            Self::Disabled => true,
            Self::Loopback => {
                let rest = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
                rest.is_some_and(|authority| !authority.contains('/') && is_loopback_name(strip_port(authority)))
            }
            Self::AllowList { origins, .. } => {
                let origin = origin.trim_end_matches('/');
                origins.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
            }
        }
    }
}

/// `host:port` → `host`; `[::1]:80` → `[::1]`.
fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.find(']').map_or(authority, |end| &authority[..=end]);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

fn has_port(authority: &str) -> bool {
    strip_port(authority).len() != authority.len()
}

fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost") || host == "[::1]" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = host {
            h.insert(HOST, HeaderValue::from_str(v).unwrap());
        }
        if let Some(v) = origin {
            h.insert(ORIGIN, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_policy() {
        let p = OriginPolicy::Loopback;
        for (host, origin) in [
            (Some("127.0.0.1:8080"), None),
            (Some("localhost"), Some("http://localhost:3000")),
            (Some("[::1]:9"), Some("https://127.0.0.1")),
            (None, None),
        ] {
            assert!(p.check(&headers(host, origin), None).is_ok(), "{host:?} {origin:?}");
        }
        for (host, origin) in [
            (Some("evil.example"), None),
            (Some("127.0.0.1.evil.example:80"), None),
            (Some("localhost"), Some("http://evil.example")),
            (Some("localhost"), Some("null")),
            (Some("localhost"), Some("http://localhost.evil.example")),
        ] {
            assert!(p.check(&headers(host, origin), None).is_err(), "{host:?} {origin:?}");
        }
        assert!(p.check(&headers(None, None), Some("evil.example:1")).is_err());
    }

    #[test]
    fn allow_list_policy() {
        let p = OriginPolicy::allow_list(["mcp.example.com", "api.example.com:8443"], ["https://app.example.com"]);
        assert!(p.check(&headers(Some("mcp.example.com:443"), Some("https://APP.example.com")), None).is_ok());
        assert!(p.check(&headers(Some("api.example.com:8443"), None), None).is_ok());
        assert!(p.check(&headers(Some("api.example.com:9000"), None), None).is_err());
        assert!(p.check(&headers(Some("mcp.example.com"), Some("https://evil.example")), None).is_err());
        assert!(OriginPolicy::Disabled.check(&headers(Some("x"), Some("y")), None).is_ok());
    }
}
