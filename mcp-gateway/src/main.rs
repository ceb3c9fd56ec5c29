//! `mcp-gateway`: put any MCP server behind any transport (under construction).

mod cli;
mod ratelimit;
mod relay;
mod telemetry;
mod tokens;

fn main() {}
