//! MCP sessions over NATS subjects, with many server instances behind one service name.
//!
//! (under construction: see the issue tracker)
