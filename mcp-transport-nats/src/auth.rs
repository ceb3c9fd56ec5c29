//! Who opens a session: a token in the connect request, checked by a [`TokenVerifier`].
//!
//! This is session-level authentication, on top of whatever the NATS connection itself uses
//! (token, user and password, nkey, creds file, TLS client certificates: all set on
//! [`async_nats::ConnectOptions`]). The NATS server decides who may publish and subscribe on
//! which subject; the verifier decides which [`Principal`] a session runs as.

use std::fmt;

use futures::future::BoxFuture;
use mcp_core::Principal;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a token was refused. The message goes back to the client: never put a secret in it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct AuthRejected(pub String);

/// Checks the token of a connect request and names the caller.
///
/// Plugged in with [`NatsServerConfig::verifier`](crate::NatsServerConfig::verifier). Works as
/// `dyn`; any `Fn(Option<&str>) -> Result<Principal, AuthRejected>` is one.
pub trait TokenVerifier: Send + Sync + 'static {
    /// The principal for `token` (`None` when the client sent none).
    ///
    /// # Errors
    /// [`AuthRejected`] refuses the session; its message is sent to the client.
    fn verify<'a>(&'a self, token: Option<&'a str>) -> BoxFuture<'a, Result<Principal, AuthRejected>>;
}

impl<F> TokenVerifier for F
where
    F: Fn(Option<&str>) -> Result<Principal, AuthRejected> + Send + Sync + 'static,
{
    fn verify<'a>(&'a self, token: Option<&'a str>) -> BoxFuture<'a, Result<Principal, AuthRejected>> {
        let result = self(token);
        Box::pin(async move { result })
    }
}

/// A fixed set of tokens, each naming a principal, compared in constant time.
///
/// Tokens are kept as SHA-256 digests and every entry is compared on every check, so neither
/// the time taken nor a memory dump reveals a token or which entry matched.
///
/// ```
/// use mcp_core::Principal;
/// use mcp_transport_nats::StaticTokens;
///
/// let tokens = StaticTokens::new().with("s3cret", Principal::new("alice").with_tools(["echo"]));
/// assert_eq!(tokens.check(Some("s3cret")).unwrap().id, "alice");
/// assert!(tokens.check(Some("guess")).is_err());
/// assert!(tokens.check(None).is_err());
/// ```
#[derive(Clone, Default)]
pub struct StaticTokens {
    entries: Vec<([u8; 32], Principal)>,
}

impl StaticTokens {
    /// No tokens: every session is refused until [`with`](Self::with) adds one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `token` as `principal`.
    #[must_use]
    pub fn with(mut self, token: impl AsRef<[u8]>, principal: Principal) -> Self {
        self.entries.push((Sha256::digest(token.as_ref()).into(), principal));
        self
    }

    /// The principal of `token`.
    ///
    /// # Errors
    /// [`AuthRejected`] when the token is missing or unknown.
    pub fn check(&self, token: Option<&str>) -> Result<Principal, AuthRejected> {
        let Some(token) = token else {
            return Err(AuthRejected("this service requires a token (set NatsClientConfig::token)".to_owned()));
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for (expected, principal) in &self.entries {
            if bool::from(expected.ct_eq(&digest)) {
                found = Some(principal);
            }
        }
        found.cloned().ok_or_else(|| AuthRejected("the token was not accepted".to_owned()))
    }
}

impl TokenVerifier for StaticTokens {
    fn verify<'a>(&'a self, token: Option<&'a str>) -> BoxFuture<'a, Result<Principal, AuthRejected>> {
        let result = self.check(token);
        Box::pin(async move { result })
    }
}

impl fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.entries.iter().map(|(_, p)| p.id.as_str()).collect();
        f.debug_struct("StaticTokens").field("principals", &ids).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_tokens() {
        let t = StaticTokens::new().with("hunter2", Principal::new("bob"));
        let shown = format!("{t:?}");
        assert!(shown.contains("bob") && !shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn closures_are_verifiers() {
        let v = |t: Option<&str>| match t {
            Some("ok") => Ok(Principal::new("x")),
            _ => Err(AuthRejected("no".into())),
        };
        let p = futures::executor::block_on(v.verify(Some("ok"))).unwrap();
        assert_eq!(p.id, "x");
        assert!(futures::executor::block_on(v.verify(None)).is_err());
    }
}
