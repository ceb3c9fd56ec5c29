//! Shared test fixtures: a server with a few tools, a raw client end, and bounded waits.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mcp_core::memory::{self, MemoryTransport};
use mcp_core::schema::{CallToolResult, Tool};
use mcp_core::{Message, RequestId};
use mcp_peer::{RequestContext, Server, ServerBuilder, ToolError};
use serde_json::{Value, json};

/// Waits at most 10 s for `future`, failing with a message naming what was awaited.
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .unwrap_or_else(|_| panic!("timed out after 10 s waiting for {what}"))
}

#[derive(serde::Deserialize)]
pub struct EchoArgs {
    pub message: String,
}

pub fn echo_schema() -> Value {
    json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]})
}

/// A server with `echo` (typed), `fail` (execution error), `boom` (panics) and `raw` (untyped).
pub fn builder() -> ServerBuilder {
    Server::builder("test-server", "0.0.1")
        .tool(
            Tool::new("echo", echo_schema()).with_description("Echoes"),
            |_ctx: RequestContext, a: EchoArgs| async move { Ok(CallToolResult::text(a.message)) },
        )
        .tool(Tool::new("fail", json!({"type": "object"})), |_ctx: RequestContext, _a: Value| async move {
            Err::<CallToolResult, _>(ToolError::new("the disk is full"))
        })
        .tool(Tool::new("boom", json!({"type": "object"})), |_ctx: RequestContext, _a: Value| async move {
            if true {
                panic!("kaboom");
            }
            Ok(CallToolResult::text("unreachable"))
        })
        .tool(Tool::new("raw", json!({"type": "object"})), |_ctx: RequestContext, a: Value| async move {
            Ok(CallToolResult::text(a.to_string()))
        })
}

/// A raw client end talking to `server` over an in-memory pair.
pub struct Raw {
    pub end: MemoryTransport,
    next: i64,
}

impl Raw {
    pub fn start(
        server: Server,
    ) -> (Self, tokio::task::JoinHandle<Result<mcp_peer::SessionSummary, mcp_peer::PeerError>>) {
        let (end, server_end) = memory::pair(64);
        let task = tokio::spawn(async move { server.serve(server_end).await });
        (Self { end, next: 100 }, task)
    }

    pub async fn send(&mut self, msg: Message) {
        within("sending to the server", self.end.send(msg)).await.expect("send");
    }

    pub async fn send_text(&mut self, text: &str) {
        self.send(text.parse().expect("valid message")).await;
    }

    pub async fn recv(&mut self) -> Message {
        within("a message from the server", self.end.next()).await.expect("stream ended").expect("transport error")
    }

    /// Sends a request and returns the response (skipping notifications).
    pub async fn call(&mut self, method: &str, params: Value) -> Message {
        self.next += 1;
        self.call_with_id(self.next, method, params).await
    }

    /// Sends a request with a chosen id and returns the response to that id.
    pub async fn call_with_id(&mut self, id: i64, method: &str, params: Value) -> Message {
        self.send(Message::request(id, method, &params).unwrap()).await;
        loop {
            let msg = self.recv().await;
            if msg.id() == Some(&RequestId::Number(id)) {
                return msg;
            }
        }
    }

    pub async fn initialize(&mut self, version: &str) -> Value {
        let resp = self
            .call(
                "initialize",
                json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}),
            )
            .await;
        self.send(Message::notification("notifications/initialized", &json!({})).unwrap()).await;
        result(&resp)
    }
}

/// The result of a response, panicking on an error response.
pub fn result(msg: &Message) -> Value {
    match msg {
        Message::Response(r) => r.result.to_value(),
        other => panic!("expected a result, got {other}"),
    }
}

/// The error code of an error response.
pub fn error_code(msg: &Message) -> i64 {
    match msg {
        Message::Error(e) => e.error.code,
        other => panic!("expected an error, got {other}"),
    }
}

/// A server-side transport whose incoming side the test scripts item by item (including
/// transport errors) and whose outgoing messages the test reads.
pub struct Scripted {
    pub incoming: futures::channel::mpsc::Sender<Result<Message, mcp_core::TransportError>>,
    pub outgoing: futures::channel::mpsc::Receiver<Message>,
}

impl Scripted {
    pub fn new() -> (Self, mcp_core::BoxTransport) {
        use mcp_core::{TransportError, TransportExt};
        let (in_tx, in_rx) = futures::channel::mpsc::channel(64);
        let (out_tx, out_rx) = futures::channel::mpsc::channel::<Message>(64);
        let sink = out_tx.sink_map_err(|_| TransportError::Closed);
        (Self { incoming: in_tx, outgoing: out_rx }, TransportExt::boxed(mcp_core::Duplex::new(sink, in_rx)))
    }

    pub async fn push(&mut self, item: Result<Message, mcp_core::TransportError>) {
        within("pushing to the session", self.incoming.send(item)).await.expect("session gone");
    }

    pub async fn push_text(&mut self, text: &str) {
        self.push(Ok(text.parse().expect("valid JSON-RPC"))).await;
    }

    pub async fn recv(&mut self) -> Message {
        within("a message from the session", self.outgoing.next()).await.expect("session closed its sink")
    }
}
