//! One MCP session over any transport: request correlation, cancellation, progress, timeouts, and the Server and Client built on it.
//!
//! (under construction: see the issue tracker)
