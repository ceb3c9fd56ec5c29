//! Relays one client session to one upstream MCP server, applying the gateway's policy.
//!
//! Messages pass through as they are (raw params and results are never re-encoded); the relay
//! looks only at what it must:
//! - `tools/call`: authorization (the principal's tool patterns), rate limits, metrics and the
//!   `tool_call_*` log events;
//! - the response to `tools/list`: filtered to the tools the principal may use;
//! - the upstream ending: every request still pending gets a clear error, then the client's
//!   transport is closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use mcp_core::jsonrpc::{ErrorObject, Message, RawJson, Request, RequestId, Response};
use mcp_core::schema::CallToolResult;
use mcp_core::{BoxTransport, Principal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::ratelimit::RateLimits;
use crate::telemetry;

/// The JSON-RPC error code the gateway answers with when a rate limit is hit on a transport
/// that has no status code of its own (application-defined, outside the reserved range).
pub const RATE_LIMITED: i64 = 429;

/// How often a draining relay checks whether its last request was answered.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// What the relay needs besides the two transports.
#[derive(Debug, Clone)]
pub struct RelayPolicy {
    /// Rate limits (per principal and per IP).
    pub limits: RateLimits,
}

/// Who is on the client side.
#[derive(Debug, Clone)]
pub struct ClientSide {
    /// The authenticated caller (`anonymous` when the listener has no auth).
    pub principal: Principal,
    /// The caller's IP, when the transport has one.
    pub ip: Option<IpAddr>,
    /// The listener's transport name, for metrics.
    pub transport: &'static str,
    /// A session label for logs.
    pub session: String,
}

enum Pending {
    ToolsList,
    ToolCall { tool: String, started: Instant },
    Other,
}

type PendingMap = Arc<Mutex<HashMap<RequestId, Pending>>>;

/// Relays until either side ends. Returns when both directions are done.
///
/// When `shutdown` is cancelled the relay drains: requests already forwarded get their answers,
/// new requests are refused with an error, and once nothing is pending both sides are closed.
pub async fn relay(
    client: BoxTransport,
    upstream: BoxTransport,
    who: ClientSide,
    policy: RelayPolicy,
    shutdown: CancellationToken,
) {
    let _active = telemetry::ActiveSession::new(who.transport);
    let (mut client_tx, mut client_rx) = client.split();
    let (mut up_tx, mut up_rx) = upstream.split();
    let pending: PendingMap = Arc::default();
    // Everything for the client (upstream traffic and the gateway's own answers) goes through
    // one bounded queue, so one writer owns the client sink.
    let (to_client, mut to_client_rx) = mpsc::channel::<Message>(64);

    let writer = async move {
        while let Some(msg) = to_client_rx.recv().await {
            if client_tx.send(msg).await.is_err() {
                break;
            }
        }
        let _ = client_tx.close().await;
    };

    let inbound = {
        let pending = pending.clone();
        let to_client = to_client.clone();
        let who = who.clone();
        async move {
            let mut draining = false;
            let mut drain_tick = tokio::time::interval(DRAIN_POLL);
            loop {
                let item = tokio::select! {
                    item = client_rx.next() => item,
                    () = shutdown.cancelled(), if !draining => {
                        draining = true;
                        continue;
                    }
                    _ = drain_tick.tick(), if draining => {
                        if pending.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
                            break;
                        }
                        continue;
                    }
                };
                let Some(item) = item else { break };
                let msg = match item {
                    Ok(msg) => msg,
                    Err(e) if !e.is_fatal() => {
                        if let Some(answer) = e.error_response() {
                            let _ = to_client.send(answer).await;
                        }
                        continue;
                    }
                    Err(e) => {
                        tracing::debug!(session = %who.session, error = %e, "client transport ended");
                        break;
                    }
                };
                if draining && let Message::Request(req) = &msg {
                    let err =
                        ErrorObject::internal_error("the gateway is shutting down; reconnect to another instance");
                    let _ = to_client.send(Message::error(Some(req.id.clone()), err)).await;
                    continue;
                }
                match admit(msg, &who, &policy, &pending) {
                    Admit::Forward(msg) => {
                        if up_tx.send(msg).await.is_err() {
                            break;
                        }
                    }
                    Admit::Answer(answer) => {
                        let _ = to_client.send(answer).await;
                    }
                }
            }
            // The client is gone (or closed): close the upstream's input so it can finish.
            let _ = up_tx.close().await;
        }
    };

    let outbound = {
        let pending = pending.clone();
        let who = who.clone();
        async move {
            let mut ended_by = None;
            while let Some(item) = up_rx.next().await {
                match item {
                    Ok(msg) => {
                        if to_client.send(observe(msg, &who, &pending)).await.is_err() {
                            return;
                        }
                    }
                    Err(e) if !e.is_fatal() => {
                        tracing::warn!(session = %who.session, error = %e, "bad frame from upstream")
                    }
                    Err(e) => {
                        ended_by = Some(e.to_string());
                        break;
                    }
                }
            }
            if let Some(error) = &ended_by {
                // A fatal error from the upstream (a child that exited, a dropped connection):
                // this session ends; the next session gets a fresh upstream.
                telemetry::upstream_crashed();
                tracing::error!(session = %who.session, error = %error, "upstream_crashed");
            }
            let reason = ended_by.unwrap_or_else(|| "upstream closed the session".to_owned());
            let orphans: Vec<RequestId> =
                pending.lock().unwrap_or_else(|e| e.into_inner()).drain().map(|(id, _)| id).collect();
            if !orphans.is_empty() {
                tracing::error!(session = %who.session, pending = orphans.len(), reason = %reason, "upstream_ended_with_requests_pending");
            }
            for id in orphans {
                let err =
                    ErrorObject::internal_error(format!("the upstream MCP server ended before answering: {reason}"));
                let _ = to_client.send(Message::error(Some(id), err)).await;
            }
        }
    };

    // The client leaving lets the upstream finish and deliver what it still sends (a stdio
    // client closes stdin after its last request); the upstream leaving ends the session.
    let directions = async {
        tokio::pin!(outbound);
        tokio::select! {
            () = inbound => outbound.await,
            () = &mut outbound => {}
        }
    };
    // The writer ends once both directions have dropped their senders.
    tokio::join!(directions, writer);
}

/// Answers a client whose upstream could not be opened: each request gets an error naming
/// why, then the session is closed (after a few messages or a few seconds, whichever is first).
pub async fn refuse(client: BoxTransport, reason: &str) {
    let (mut tx, mut rx) = client.split();
    for _ in 0..8 {
        let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(5), rx.next()).await else { break };
        if let Message::Request(req) = msg {
            let err = ErrorObject::internal_error(format!("the upstream MCP server is unavailable: {reason}"));
            if tx.send(Message::error(Some(req.id), err)).await.is_err() {
                break;
            }
        }
    }
    let _ = tx.close().await;
}

enum Admit {
    Forward(Message),
    Answer(Message),
}

fn admit(msg: Message, who: &ClientSide, policy: &RelayPolicy, pending: &PendingMap) -> Admit {
    let Message::Request(req) = msg else { return Admit::Forward(msg) };
    telemetry::request(&who.principal.id, &req.method);
    // Every request counts against the limits except the handshake and liveness checks.
    if req.method != "ping"
        && req.method != "initialize"
        && let Err(limited) = policy.limits.check(Some(&who.principal.id), who.ip)
    {
        telemetry::rate_limited(limited.scope());
        let secs = limited.retry_after().as_secs_f64().ceil().max(1.0) as u64;
        let err = ErrorObject::new(RATE_LIMITED, format!("Rate limit exceeded; retry after {secs} s"))
            .with_data(&serde_json::json!({ "retryAfterSeconds": secs, "limit": limited.scope() }));
        return Admit::Answer(Message::error(Some(req.id), err));
    }

    let kind = match req.method.as_str() {
        "tools/list" => Pending::ToolsList,
        "tools/call" => {
            let tool = tool_name(&req).unwrap_or_default();
            if !who.principal.may_use_tool(&tool) {
                telemetry::tool_denied(&tool, &who.principal.id);
                tracing::warn!(tool = %tool, principal = %who.principal.id, session = %who.session, "tool_call_denied");
                let result = CallToolResult::error_text(format!("Permission denied: tool {tool} not authorized"));
                return match Response::new(req.id.clone(), &result) {
                    Ok(resp) => Admit::Answer(Message::Response(resp)),
                    Err(e) => Admit::Answer(Message::error(Some(req.id), ErrorObject::internal_error(e))),
                };
            }
            tracing::info!(
                tool = %tool,
                principal = %who.principal.id,
                session = %who.session,
                argument_keys = ?argument_keys(&req),
                "tool_call_start"
            );
            Pending::ToolCall { tool, started: Instant::now() }
        }
        _ => Pending::Other,
    };
    pending.lock().unwrap_or_else(|e| e.into_inner()).insert(req.id.clone(), kind);
    Admit::Forward(Message::Request(req))
}

fn observe(msg: Message, who: &ClientSide, pending: &PendingMap) -> Message {
    let Some(id) = (match &msg {
        Message::Response(r) => Some(&r.id),
        Message::Error(e) => e.id.as_ref(),
        _ => None,
    }) else {
        return msg;
    };
    let Some(kind) = pending.lock().unwrap_or_else(|e| e.into_inner()).remove(id) else { return msg };
    match (kind, msg) {
        (Pending::ToolsList, Message::Response(resp)) => Message::Response(filter_tools(resp, &who.principal)),
        (Pending::ToolCall { tool, started }, msg) => {
            let elapsed = started.elapsed();
            let duration_ms = elapsed.as_secs_f64() * 1000.0;
            match &msg {
                Message::Response(resp) => {
                    let is_error = resp.result.get().contains("\"isError\":true");
                    let result_bytes = resp.result.get().len();
                    telemetry::tool_call(&tool, elapsed, is_error);
                    if is_error {
                        tracing::warn!(tool = %tool, principal = %who.principal.id, session = %who.session, duration_ms, result_bytes, "tool_call_error");
                    } else {
                        tracing::info!(tool = %tool, principal = %who.principal.id, session = %who.session, duration_ms, result_bytes, "tool_call_success");
                    }
                }
                Message::Error(e) => {
                    telemetry::tool_call(&tool, elapsed, true);
                    tracing::warn!(tool = %tool, principal = %who.principal.id, session = %who.session, duration_ms, code = e.error.code, "tool_call_error");
                }
                _ => {}
            }
            msg
        }
        (_, msg) => msg,
    }
}

fn tool_name(req: &Request) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Name {
        name: String,
    }
    req.params.as_ref()?.parse::<Name>().ok().map(|n| n.name)
}

/// The argument names of a tool call, for logs: never the values, which may hold secrets.
fn argument_keys(req: &Request) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Args {
        #[serde(default)]
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
    }
    req.params
        .as_ref()
        .and_then(|p| p.parse::<Args>().ok())
        .and_then(|a| a.arguments)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Removes the tools the principal may not use from a `tools/list` result; every other field
/// (cursor, `_meta`, fields this gateway does not know) is kept as it was.
fn filter_tools(resp: Response, principal: &Principal) -> Response {
    if matches!(principal.tools, mcp_core::ToolAccess::All) {
        return resp;
    }
    let Ok(mut value) = resp.result.parse::<serde_json::Value>() else { return resp };
    if let Some(tools) = value.get_mut("tools").and_then(|t| t.as_array_mut()) {
        tools.retain(|t| t.get("name").and_then(|n| n.as_str()).is_some_and(|n| principal.may_use_tool(n)));
    }
    match RawJson::from_serialize(&value) {
        Ok(result) => Response { id: resp.id, result },
        Err(_) => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::memory;

    fn who(principal: Principal) -> ClientSide {
        ClientSide { principal, ip: None, transport: "test", session: "s1".into() }
    }

    /// A fake upstream: answers tools/list with three tools and tools/call with the tool's name.
    async fn fake_upstream(mut t: memory::MemoryTransport) {
        while let Some(Ok(msg)) = t.next().await {
            if let Message::Request(req) = msg {
                let result = match req.method.as_str() {
                    "tools/list" => serde_json::json!({"tools": [
                        {"name": "echo", "inputSchema": {"type": "object"}},
                        {"name": "get_weather", "inputSchema": {"type": "object"}},
                        {"name": "delete_all", "inputSchema": {"type": "object"}}], "x-extra": 1}),
                    "tools/call" => {
                        serde_json::json!({"content": [{"type": "text", "text": tool_name(&req).unwrap()}]})
                    }
                    "die" => return,
                    _ => serde_json::json!({}),
                };
                t.send(Message::response(req.id, &result).unwrap()).await.unwrap();
            }
        }
    }

    async fn call(client: &mut memory::MemoryTransport, id: i64, method: &str, params: serde_json::Value) -> Message {
        client.send(Message::request(id, method, &params).unwrap()).await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), client.next())
            .await
            .expect("an answer within 5 s")
            .expect("the relay is alive")
            .unwrap()
    }

    fn start(principal: Principal, limits: RateLimits) -> memory::MemoryTransport {
        let (mut client, relay_client) = memory::pair(16);
        let (relay_up, up) = memory::pair(16);
        tokio::spawn(fake_upstream(up));
        tokio::spawn(relay(
            Box::pin(relay_client),
            Box::pin(relay_up),
            who(principal),
            RelayPolicy { limits },
            CancellationToken::new(),
        ));
        let _ = &mut client;
        client
    }

    #[tokio::test]
    async fn tools_are_filtered_and_denied_by_principal() {
        let mut client = start(Principal::new("alice").with_tools(["echo", "get_*"]), RateLimits::default());
        let list = call(&mut client, 1, "tools/list", serde_json::json!({})).await;
        let Message::Response(resp) = list else { panic!("{list:?}") };
        let value = resp.result.to_value();
        let names: Vec<&str> = value["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["echo", "get_weather"]);
        assert_eq!(value["x-extra"], 1, "unknown fields survive filtering");

        let denied =
            call(&mut client, 2, "tools/call", serde_json::json!({"name": "delete_all", "arguments": {}})).await;
        let Message::Response(resp) = denied else { panic!("{denied:?}") };
        let v = resp.result.to_value();
        assert_eq!(v["isError"], true);
        assert_eq!(v["content"][0]["text"], "Permission denied: tool delete_all not authorized");

        let ok = call(&mut client, 3, "tools/call", serde_json::json!({"name": "echo", "arguments": {"message": "x"}}))
            .await;
        let Message::Response(resp) = ok else { panic!("{ok:?}") };
        assert_eq!(resp.result.to_value()["content"][0]["text"], "echo");
    }

    #[tokio::test]
    async fn rate_limit_answers_with_retry_after() {
        let limits = RateLimits::new(Some("1/min,burst=2".parse().unwrap()), None);
        let mut client = start(Principal::new("bob"), limits);
        for id in 1..=2 {
            assert!(matches!(
                call(&mut client, id, "tools/call", serde_json::json!({"name": "echo"})).await,
                Message::Response(_)
            ));
        }
        let limited = call(&mut client, 3, "tools/call", serde_json::json!({"name": "echo"})).await;
        let Message::Error(e) = limited else { panic!("{limited:?}") };
        assert_eq!(e.error.code, RATE_LIMITED);
        assert!(e.error.message.contains("retry after"), "{}", e.error.message);
    }

    #[tokio::test]
    async fn upstream_death_answers_pending_requests() {
        let mut client = start(Principal::anonymous(), RateLimits::default());
        let answer = call(&mut client, 7, "die", serde_json::json!({})).await;
        let Message::Error(e) = answer else { panic!("{answer:?}") };
        assert_eq!(e.id, Some(RequestId::Number(7)));
        assert!(e.error.message.contains("upstream MCP server ended"), "{}", e.error.message);
        // Then the client's transport is closed.
        let end = tokio::time::timeout(std::time::Duration::from_secs(5), client.next()).await.unwrap();
        assert!(end.is_none());
    }
}
