//! The MCP HTTP transports on axum: Streamable HTTP and legacy HTTP+SSE, server and client.
//!
//! (docs in progress)

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
mod cors;
pub mod event_store;
mod http_error;
pub mod origin;
pub mod server;
pub mod session_store;
pub mod sse;

pub use auth::{AuthConfig, AuthError, BearerAuthLayer, ProtectedResourceMetadata, StaticTokens, TokenVerifier};
pub use cors::cors_layer;
pub use event_store::{EventStore, MemoryEventStore};
pub use origin::OriginPolicy;
pub use server::{HttpServer, HttpServerConfig, SessionAcceptor, StreamControl, serve};
pub use session_store::{MemorySessionStore, SessionStore};
pub mod client;
pub use client::{HttpClientConfig, HttpClientError, HttpClientTransport, connect_legacy_sse, connect_streamable_http};
