//! Who is calling: turning the token in a session announcement into a [`Principal`].

use std::fmt;

use mcp_core::Principal;
use subtle::ConstantTimeEq;

/// Decides who a new session's caller is, from the token the client sent with its announcement.
///
/// Without an authenticator every session gets [`Principal::anonymous`]: whoever can publish on
/// the Redis is trusted, and Redis ACLs are the boundary.
pub trait Authenticator: Send + Sync + 'static {
    /// The caller behind `token` (`None` when the client sent none).
    ///
    /// # Errors
    /// A reason to refuse the session, sent to the client; it must not contain the token.
    fn authenticate(&self, token: Option<&str>) -> Result<Principal, String>;
}

impl<F> Authenticator for F
where
    F: Fn(Option<&str>) -> Result<Principal, String> + Send + Sync + 'static,
{
    fn authenticate(&self, token: Option<&str>) -> Result<Principal, String> {
        self(token)
    }
}

/// A fixed table of bearer tokens, compared in constant time.
///
/// ```
/// use mcp_core::Principal;
/// use mcp_transport_redis::{Authenticator, StaticTokens};
///
/// let auth = StaticTokens::new().with_token("s3cret", Principal::new("ci-bot"));
/// assert_eq!(auth.authenticate(Some("s3cret")).unwrap().id, "ci-bot");
/// assert!(auth.authenticate(Some("guess")).is_err());
/// assert!(auth.authenticate(None).is_err());
/// ```
#[derive(Default, Clone)]
pub struct StaticTokens {
    tokens: Vec<(Vec<u8>, Principal)>,
}

impl StaticTokens {
    /// An empty table: it refuses every session until tokens are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `token`, which authenticates as `principal`.
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>, principal: Principal) -> Self {
        self.tokens.push((token.into().into_bytes(), principal));
        self
    }
}

impl Authenticator for StaticTokens {
    fn authenticate(&self, token: Option<&str>) -> Result<Principal, String> {
        let Some(token) = token else { return Err("a token is required (connect with a token)".to_owned()) };
        // Compare against every entry, so timing reveals neither which token matched nor how much of it.
        let mut found = None;
        for (known, principal) in &self.tokens {
            if bool::from(known.as_slice().ct_eq(token.as_bytes())) {
                found = Some(principal);
            }
        }
        found.cloned().ok_or_else(|| "invalid token".to_owned())
    }
}

impl fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokens").field("tokens", &self.tokens.len()).finish()
    }
}
