//! Who may open a connection: bearer tokens from the upgrade request, checked by a
//! [`mcp_core::TokenVerifier`].
//!
//! A client presents its token in one of these places, checked in this order:
//! 1. the `Authorization: Bearer <token>` header (what every non-browser client should use);
//! 2. an extra entry `bearer.<token>` in `Sec-WebSocket-Protocol`, for browsers, whose
//!    WebSocket API cannot set headers. The token must then consist of HTTP token characters
//!    (base64url and JWTs do). The server selects `mcp`, never this entry, so the token is not
//!    echoed back;
//! 3. the `access_token` query parameter, only when
//!    [`WsServerConfig::allow_query_token`](crate::WsServerConfig::allow_query_token) is set:
//!    URLs end up in access logs and browser history.
//!
//! The token is checked by the [`mcp_core::TokenVerifier`] in
//! [`WsServerConfig::verifier`](crate::WsServerConfig::verifier) (the same trait every
//! authenticating transport takes; [`mcp_core::StaticTokens`] compares in constant time).
//! Missing or rejected credentials get `401 Unauthorized` with `WWW-Authenticate: Bearer`.

/// The subprotocol prefix under which a browser client offers its token: `bearer.<token>`.
pub const TOKEN_SUBPROTOCOL_PREFIX: &str = "bearer.";

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenSource {
    Header,
    Subprotocol,
    Query,
}

/// The token a request presents, if any.
///
/// # Errors
/// A client-facing message when the request presents a token in a way this server refuses (a
/// query-string token while those are disabled, a malformed `Authorization` header).
pub(crate) fn presented_token<'r>(
    headers: &'r http::HeaderMap,
    subprotocols: &[&'r str],
    query: Option<&'r str>,
    allow_query: bool,
) -> Result<Option<(String, TokenSource)>, &'static str> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| "the Authorization header is not ASCII")?;
        let Some((scheme, token)) = value.split_once(' ') else {
            return Err("the Authorization header must be `Bearer <token>`");
        };
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err("the Authorization header must be `Bearer <token>`");
        }
        return Ok(Some((token.trim().to_owned(), TokenSource::Header)));
    }
    if let Some(token) = subprotocols.iter().find_map(|p| p.strip_prefix(TOKEN_SUBPROTOCOL_PREFIX)) {
        return Ok(Some((token.to_owned(), TokenSource::Subprotocol)));
    }
    let from_query =
        query.and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("access_token=")).filter(|t| !t.is_empty()));
    match from_query {
        Some(_) if !allow_query => {
            Err("tokens in the query string are refused (URLs end up in logs): send `Authorization: Bearer <token>` \
             or offer the subprotocol `bearer.<token>`")
        }
        Some(token) => Ok(Some((percent_decode(token), TokenSource::Query))),
        None => Ok(None),
    }
}

/// Decodes `%XX` escapes (and `+` as space) of a query value; malformed escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(b) = hex {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: Option<&str>) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        if let Some(a) = auth {
            h.insert(http::header::AUTHORIZATION, a.parse().unwrap());
        }
        h
    }

    #[test]
    fn header_then_subprotocol_then_query() {
        let h = headers(Some("Bearer abc"));
        assert_eq!(
            presented_token(&h, &["bearer.xyz"], None, false).unwrap(),
            Some(("abc".into(), TokenSource::Header))
        );
        let h = headers(None);
        assert_eq!(
            presented_token(&h, &["mcp", "bearer.xyz"], None, false).unwrap(),
            Some(("xyz".into(), TokenSource::Subprotocol))
        );
        assert_eq!(
            presented_token(&h, &[], Some("a=1&access_token=q%2Fw"), true).unwrap(),
            Some(("q/w".into(), TokenSource::Query))
        );
        assert_eq!(presented_token(&h, &["mcp"], Some("a=1"), false).unwrap(), None);
    }

    #[test]
    fn query_tokens_refused_unless_enabled() {
        let err = presented_token(&headers(None), &[], Some("access_token=t"), false).unwrap_err();
        assert!(err.contains("query string"), "{err}");
    }

    #[test]
    fn malformed_authorization_is_refused() {
        assert!(presented_token(&headers(Some("Basic dXNlcg==")), &[], None, false).is_err());
        assert!(presented_token(&headers(Some("Bearer ")), &[], None, false).is_err());
    }

    #[test]
    fn percent_decoding_leaves_malformed_escapes() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
    }
}
