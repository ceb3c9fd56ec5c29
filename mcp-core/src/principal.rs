//! Who is calling: the authenticated identity a transport attaches to a session.
//!
//! Transports authenticate (a bearer token, a NATS credential, a token in a Redis connect
//! message) and attach a [`Principal`] to the session; `mcp-peer` then applies the same
//! tool-level authorization whatever the transport was.

use std::fmt;

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// An authenticated caller.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    /// A stable name for the caller (`"alice"`, `"ci-bot"`), used in logs and metrics.
    /// Never a secret.
    pub id: String,
    /// Scopes granted to the caller (OAuth-style), if the verifier knows any.
    pub scopes: Vec<String>,
    /// Which tools the caller may see and call.
    pub tools: ToolAccess,
}

/// Which tools a principal may use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolAccess {
    /// Every tool.
    #[default]
    All,
    /// Only tools whose name matches one of these glob patterns (`*` any run, `?` one character).
    Only(Vec<String>),
}

impl Principal {
    /// A principal with access to every tool.
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), scopes: Vec::new(), tools: ToolAccess::All }
    }

    /// The principal of a session nobody authenticated (a local stdio session, a loopback
    /// listener without auth).
    pub fn anonymous() -> Self {
        Self::new("anonymous")
    }

    /// Restricts the principal to tools matching `patterns`.
    #[must_use]
    pub fn with_tools<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tools = ToolAccess::Only(patterns.into_iter().map(Into::into).collect());
        self
    }

    /// Adds scopes.
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Whether the principal may see and call the tool `name`.
    pub fn may_use_tool(&self, name: &str) -> bool {
        match &self.tools {
            ToolAccess::All => true,
            ToolAccess::Only(patterns) => patterns.iter().any(|p| glob_match(p, name)),
        }
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("id", &self.id)
            .field("scopes", &self.scopes)
            .field("tools", &self.tools)
            .finish()
    }
}

/// Matches `name` against a glob `pattern` where `*` matches any run of characters (including
/// none) and `?` exactly one. Linear time, no backtracking blow-up.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (p, n, want) in [
            ("*", "anything", true),
            ("read_*", "read_file", true),
            ("read_*", "write_file", false),
            ("*_file", "read_file", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("", "", true),
            ("", "x", false),
        ] {
            assert_eq!(glob_match(p, n), want, "{p} vs {n}");
        }
    }

    #[test]
    fn tool_access() {
        let p = Principal::new("alice").with_tools(["echo", "get_*"]);
        assert!(p.may_use_tool("echo"));
        assert!(p.may_use_tool("get_weather"));
        assert!(!p.may_use_tool("delete_all"));
        assert!(Principal::anonymous().may_use_tool("delete_all"));
    }
}

// ===== token verification =====

/// Why a token was refused.
///
/// Transports map it to their own wire form: [`InvalidToken`](Self::InvalidToken) is a 401 (or
/// a refused session: the caller must present another token), [`Unavailable`](Self::Unavailable)
/// is a 503 (or a refused session the caller may retry later with the same token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token is unknown, expired or malformed: reject it (HTTP 401).
    #[error("invalid token")]
    InvalidToken,
    /// The verifier could not decide (its backend is down): retry later (HTTP 503). The detail
    /// is for logs; it must not contain the token.
    #[error("token verification unavailable: {0}")]
    Unavailable(String),
}

/// Checks a bearer token and says who presented it.
///
/// Every transport that authenticates with a token (HTTP `Authorization: Bearer`, a WebSocket
/// token, a token in a NATS or Redis connect message) takes a `dyn TokenVerifier`, so one
/// verifier (the gateway's tokens file, a JWT check, token introspection) serves them all. A
/// missing token never reaches the verifier: the transport refuses it. Object safe; async so
/// verifiers that ask a remote service fit. Any `Fn(&str) -> Option<Principal>` is one.
///
/// ```
/// use mcp_core::{AuthError, Principal, TokenVerifier};
///
/// let verifier = |token: &str| (token == "s3cret").then(|| Principal::new("alice"));
/// futures::executor::block_on(async {
///     assert_eq!(verifier.verify("s3cret").await.unwrap().id, "alice");
///     assert_eq!(verifier.verify("guess").await.unwrap_err(), AuthError::InvalidToken);
/// });
/// ```
pub trait TokenVerifier: Send + Sync + 'static {
    /// The principal `token` authenticates.
    ///
    /// Implementations must compare secrets in constant time and never log the token.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for a token that authenticates nobody,
    /// [`AuthError::Unavailable`] when the verifier cannot decide now.
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Principal, AuthError>>;
}

impl<F> TokenVerifier for F
where
    F: Fn(&str) -> Option<Principal> + Send + Sync + 'static,
{
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(std::future::ready(self(token).ok_or(AuthError::InvalidToken)))
    }
}

/// A fixed set of tokens, each mapped to a principal.
///
/// Tokens are kept as SHA-256 digests and a presented token's digest is compared with every
/// entry in constant time, so neither the time taken nor a memory dump reveals a token, its
/// length, or which entry matched.
///
/// ```
/// use mcp_core::{Principal, StaticTokens};
///
/// let tokens = StaticTokens::new().with("s3cret", Principal::new("alice").with_tools(["echo"]));
/// assert_eq!(tokens.lookup("s3cret").unwrap().id, "alice");
/// assert!(tokens.lookup("guess").is_none());
/// ```
#[derive(Clone, Default)]
pub struct StaticTokens {
    entries: Vec<([u8; 32], Principal)>,
}

impl StaticTokens {
    /// An empty set (verifies nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `token` as `principal`.
    #[must_use]
    pub fn with(self, token: impl AsRef<[u8]>, principal: Principal) -> Self {
        self.with_digest(Sha256::digest(token.as_ref()).into(), principal)
    }

    /// Accepts the token whose SHA-256 digest is `digest` as `principal` (for token files that
    /// store digests, not tokens).
    #[must_use]
    pub fn with_digest(mut self, digest: [u8; 32], principal: Principal) -> Self {
        self.entries.push((digest, principal));
        self
    }

    /// The principal `token` authenticates, without the future of [`TokenVerifier::verify`].
    pub fn lookup(&self, token: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare against every entry, whatever matches, so timing says nothing about which
        // token was right.
        let mut found = None;
        for (known, principal) in &self.entries {
            if bool::from(known.ct_eq(&digest)) && found.is_none() {
                found = Some(principal);
            }
        }
        found.cloned()
    }

    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the tokens (or their digests).
        f.debug_struct("StaticTokens")
            .field("principals", &self.entries.iter().map(|e| &e.1.id).collect::<Vec<_>>())
            .finish()
    }
}

impl TokenVerifier for StaticTokens {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(std::future::ready(self.lookup(token).ok_or(AuthError::InvalidToken)))
    }
}

#[cfg(test)]
mod token_tests {
    use super::*;

    #[test]
    fn static_tokens_find_the_principal_and_hide_secrets() {
        let tokens = StaticTokens::new()
            .with("alpha-token", Principal::new("alice"))
            .with_digest(Sha256::digest(b"beta").into(), Principal::new("bob"));
        futures::executor::block_on(async {
            assert_eq!(tokens.verify("alpha-token").await.unwrap().id, "alice");
            assert_eq!(tokens.verify("beta").await.unwrap().id, "bob");
            assert_eq!(tokens.verify("alpha").await.unwrap_err(), AuthError::InvalidToken);
            assert_eq!(tokens.verify("").await.unwrap_err(), AuthError::InvalidToken);
        });
        let shown = format!("{tokens:?}");
        assert!(shown.contains("alice") && !shown.contains("alpha-token"), "{shown}");
        assert_eq!(tokens.len(), 2);
    }

    #[test]
    fn shared_verifiers_are_verifiers() {
        let shared: std::sync::Arc<dyn TokenVerifier> =
            std::sync::Arc::new(StaticTokens::new().with("t", Principal::new("x")));
        let p = futures::executor::block_on(shared.verify("t")).unwrap();
        assert_eq!(p.id, "x");
    }
}
