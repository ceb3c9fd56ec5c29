//! The MCP HTTP transports on axum: Streamable HTTP and legacy HTTP+SSE, server and client.
//!
//! (under construction: see the issue tracker)
