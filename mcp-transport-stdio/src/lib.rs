//! MCP over stdio, child processes, and newline-delimited JSON over any byte stream (TCP, Unix sockets).
//!
//! (under construction: see the issue tracker)
