//! Which web pages may open a connection: the `Origin` check against DNS rebinding.
//!
//! Browsers always send `Origin` on a WebSocket upgrade and never let a page forge it, so the
//! check stops a malicious page from reaching a local server through the user's browser.
//! Clients that are not browsers send no `Origin` and are not affected.

/// The origins a server accepts upgrades from (a request without `Origin` is always accepted).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OriginPolicy {
    /// Only pages served from a loopback host: `localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`
    /// (any scheme and port). The default, right for a server bound to loopback.
    #[default]
    LoopbackOnly,
    /// Only these origins, compared case-insensitively as `scheme://host[:port]`, e.g.
    /// `https://app.example.com`. What a server reachable from other machines should use.
    AllowList(Vec<String>),
    /// Any origin. Only for servers that authenticate every connection and serve no browser.
    Any,
}

impl OriginPolicy {
    /// Whether a request with this `Origin` header value (if any) is allowed.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        let origin = origin.trim();
        match self {
            Self::Any => true,
            Self::AllowList(list) => list.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin)),
            Self::LoopbackOnly => origin_host(origin).is_some_and(is_loopback_host),
        }
    }
}

/// The host of `scheme://host[:port]`, without brackets for IPv6; `None` for `null` and
/// anything else that is not an origin.
fn origin_host(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split_once(']').map(|(host, _)| host);
    }
    Some(authority.rsplit_once(':').map_or(authority, |(host, _)| host))
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only() {
        let p = OriginPolicy::LoopbackOnly;
        for ok in [
            None,
            Some("http://localhost:3000"),
            Some("http://127.0.0.1"),
            Some("https://[::1]:8443"),
            Some("http://app.localhost"),
        ] {
            assert!(p.allows(ok), "{ok:?}");
        }
        for bad in [
            "http://evil.example",
            "null",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example",
            "garbage",
            "http://[::2]",
        ] {
            assert!(!p.allows(Some(bad)), "{bad}");
        }
    }

    #[test]
    fn allow_list_is_exact() {
        let p = OriginPolicy::AllowList(vec!["https://app.example.com".into()]);
        assert!(p.allows(Some("https://APP.example.com")));
        assert!(!p.allows(Some("http://app.example.com")));
        assert!(!p.allows(Some("http://localhost")));
        assert!(p.allows(None));
    }
}
