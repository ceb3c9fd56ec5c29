//! Test support for MCP servers, clients and transports: in-memory pairs, mocks, fault injection, the transport compliance suite, fixtures and real NATS/Redis servers.
//!
//! (under construction: see the issue tracker)
