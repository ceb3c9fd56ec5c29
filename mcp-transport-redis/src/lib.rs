//! MCP sessions over Redis pub/sub or Redis Streams, with many server instances behind one service name.
//!
//! (under construction: see the issue tracker)
