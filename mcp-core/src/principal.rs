//! Who is calling: the authenticated identity a transport attaches to a session.
//!
//! Transports authenticate (a bearer token, a NATS credential, a token in a Redis connect
//! message) and attach a [`Principal`] to the session; `mcp-peer` then applies the same
//! tool-level authorization whatever the transport was.

use std::fmt;

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

/// Checks a bearer token and says who presented it.
///
/// Every transport that authenticates with a token (HTTP `Authorization: Bearer`, a WebSocket
/// subprotocol token, a token in a NATS or Redis connect message) takes a `dyn TokenVerifier`,
/// so one verifier (the gateway's tokens file, a JWT check) serves them all.
pub trait TokenVerifier: Send + Sync + 'static {
    /// The principal the token belongs to, or `None` when the token is not valid.
    ///
    /// Implementations must compare secrets in constant time and never log the token.
    fn verify(&self, token: &str) -> Option<Principal>;
}

impl<F> TokenVerifier for F
where
    F: Fn(&str) -> Option<Principal> + Send + Sync + 'static,
{
    fn verify(&self, token: &str) -> Option<Principal> {
        self(token)
    }
}

/// A fixed set of tokens, each mapped to a principal; comparison in constant time.
///
/// ```
/// use mcp_core::principal::{Principal, StaticTokens, TokenVerifier};
///
/// let tokens = StaticTokens::new().with("s3cret", Principal::new("alice").with_tools(["echo"]));
/// assert_eq!(tokens.verify("s3cret").unwrap().id, "alice");
/// assert!(tokens.verify("guess").is_none());
/// ```
#[derive(Clone, Default)]
pub struct StaticTokens {
    entries: Vec<(Vec<u8>, Principal)>,
}

impl StaticTokens {
    /// An empty set (verifies nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a token.
    #[must_use]
    pub fn with(mut self, token: impl Into<String>, principal: Principal) -> Self {
        self.entries.push((token.into().into_bytes(), principal));
        self
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
        // Never print the tokens themselves.
        f.debug_struct("StaticTokens")
            .field("principals", &self.entries.iter().map(|e| &e.1.id).collect::<Vec<_>>())
            .finish()
    }
}

impl TokenVerifier for StaticTokens {
    fn verify(&self, token: &str) -> Option<Principal> {
        // Compare against every entry, whatever matches, so timing says nothing about which
        // token (or how much of one) was right.
        let mut found = None;
        for (secret, principal) in &self.entries {
            if constant_time_eq(secret, token.as_bytes()) && found.is_none() {
                found = Some(principal.clone());
            }
        }
        found
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}
