//! Who opens a session: a token in the connect request, checked by a [`TokenVerifier`].
//!
//! This is session-level authentication, on top of whatever the NATS connection itself uses
//! (token, user and password, nkey, creds file, TLS client certificates: all set on
//! [`async_nats::ConnectOptions`]). The NATS server decides who may publish and subscribe on
//! which subject; the verifier decides which [`Principal`](mcp_core::Principal) a session runs
//! as. The verifier is `mcp_core`'s, shared by every transport; a connect request without a
//! token is refused before it is asked.

pub use mcp_core::{AuthError, StaticTokens, TokenVerifier};
