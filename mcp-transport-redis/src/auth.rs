//! Who is calling: the token in a session announcement, checked by a [`TokenVerifier`].
//!
//! The verifier is `mcp_core`'s, shared by every transport. Without one (see
//! [`RedisBus::accept_with`](crate::RedisBus::accept_with)) every session gets
//! [`Principal::anonymous`](mcp_core::Principal::anonymous): whoever can publish on the Redis is
//! trusted, and Redis ACLs are the boundary. With one, an announcement without a token is refused
//! before the verifier is asked.

pub use mcp_core::{AuthError, StaticTokens, TokenVerifier};
