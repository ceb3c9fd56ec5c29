//! MCP over WebSocket (subprotocol `mcp`), standalone or as an axum upgrade, server and client.
//!
//! (under construction: see the issue tracker)
