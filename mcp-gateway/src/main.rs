//! `mcp-gateway`: put any MCP server behind any transport (under construction).

fn main() {}
