//! `--shared`: one upstream child process for every client session.
//!
//! A driver owns the child's transport. It initializes the child once, as a client, and keeps
//! the `InitializeResult`; each session gets a virtual transport ([`SharedUpstream::open_session`])
//! whose `initialize` is answered from that cache and whose `notifications/initialized` is
//! swallowed. Everything else is multiplexed:
//!
//! - **Requests** from a session get a fresh id of the same JSON type (integer → integer from a
//!   counter, string → `"g-<n>"`), so two sessions using the same ids never collide at the child;
//!   the child's response is mapped back to the original id and sent only to that session.
//! - **Progress tokens** (`params._meta.progressToken`) are rewritten the same way;
//!   `notifications/progress` from the child goes back to the session that owns the token, with
//!   its original token. A session's `notifications/cancelled` has its `requestId` rewritten.
//! - **Notifications** from the child that belong to no request (list changes, resource updates,
//!   log messages) go to every session.
//! - **Server-to-client requests** (sampling, elicitation, roots) go to one session: the one
//!   with the most recent request still in flight (the child is most likely asking on its
//!   behalf), else the most recently opened session; with no session at all the child gets an
//!   error. The session's response goes back to the child under the child's own id.
//! - A session closing drops its pending entries (the child is sent `notifications/cancelled`
//!   for each) and refuses the server requests it was asked.
//! - The child ending ends every session: each pending request first gets an error response
//!   naming why, then the session's stream ends. The next [`SharedUpstream::open_session`]
//!   starts a fresh child.
//!
//! Backpressure: one slow session slows the driver's delivery to every session (and so the
//! child) rather than buffering without bound.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc as fmpsc;
use futures::future::BoxFuture;
use futures::stream::SelectAll;
use futures::{SinkExt, StreamExt};
use mcp_core::jsonrpc::{ErrorObject, Message, Notification, RawJson, Request, RequestId};
use mcp_core::{BoxTransport, Duplex, ProtocolVersion, TransportError, TransportExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Tuning for a [`SharedUpstream`].
#[derive(Debug, Clone)]
pub struct SharedConfig {
    /// How long the child may take to answer `initialize` (default 30 s).
    pub init_timeout: Duration,
    /// Messages buffered per direction per session, and towards the child (default 64).
    pub buffer: usize,
}

impl Default for SharedConfig {
    fn default() -> Self {
        Self { init_timeout: Duration::from_secs(30), buffer: 64 }
    }
}

/// Why a shared upstream session could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SharedError {
    /// The child could not be started.
    #[error("cannot start the shared upstream: {0}")]
    Start(String),
    /// The child did not complete the `initialize` handshake.
    #[error(
        "the shared upstream failed its initialize handshake: {0}; check that the --stdio command is an MCP server"
    )]
    Handshake(String),
}

type Connect = Arc<dyn Fn() -> BoxFuture<'static, Result<BoxTransport, String>> + Send + Sync>;

/// One upstream child shared by every client session; cheap to clone.
#[derive(Clone)]
pub struct SharedUpstream {
    connect: Connect,
    config: SharedConfig,
    current: Arc<tokio::sync::Mutex<Option<DriverHandle>>>,
}

impl std::fmt::Debug for SharedUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedUpstream").field("config", &self.config).finish_non_exhaustive()
    }
}

impl SharedUpstream {
    /// Shares children spawned from `child`; the first one starts with the first session.
    pub fn new(child: Arc<mcp_transport_stdio::ChildProcess>, config: SharedConfig) -> Self {
        Self::with_connector(
            move || {
                let child = child.clone();
                Box::pin(async move {
                    child.spawn().map(TransportExt::boxed).map_err(|e| format!("spawning {child:?}: {e}"))
                })
            },
            config,
        )
    }

    /// Shares the MCP servers that `connect` opens (one at a time; a new one after one ends).
    pub fn with_connector(
        connect: impl Fn() -> BoxFuture<'static, Result<BoxTransport, String>> + Send + Sync + 'static,
        config: SharedConfig,
    ) -> Self {
        Self { connect: Arc::new(connect), config, current: Arc::default() }
    }

    /// A virtual transport to the shared child, for one client session.
    ///
    /// # Errors
    /// When no child is running and a new one cannot be started or initialized.
    ///
    /// # Cancel safety
    /// Cancelling while a child is being started lets the next call start it again.
    pub async fn open_session(&self) -> Result<BoxTransport, SharedError> {
        let mut current = self.current.lock().await;
        let driver = match current.as_ref() {
            Some(d) if !d.dead.is_cancelled() => d.clone(),
            _ => {
                let transport = (self.connect)().await.map_err(SharedError::Start)?;
                let driver = start_driver(transport, &self.config).await?;
                *current = Some(driver.clone());
                driver
            }
        };
        drop(current);
        let (to_session, session_rx) = fmpsc::channel(self.config.buffer);
        let (session_tx, from_session) = fmpsc::channel(self.config.buffer);
        let sid = {
            let mut routing = driver.routing.lock().unwrap_or_else(|e| e.into_inner());
            routing.next += 1;
            let sid = routing.next;
            routing.sessions.insert(sid, to_session);
            sid
        };
        // Checked after registering: the driver takes the sessions only after marking itself
        // dead, so a session registered before this check is ended with the others.
        if driver.dead.is_cancelled() || driver.attach.send((sid, from_session)).await.is_err() {
            driver.routing.lock().unwrap_or_else(|e| e.into_inner()).sessions.remove(&sid);
            return Err(SharedError::Start("the shared upstream ended while the session was opening".into()));
        }
        tracing::debug!(shared_session = sid, "shared_session_open");
        let sink = session_tx.sink_map_err(|_| TransportError::Closed);
        Ok(TransportExt::boxed(Duplex::new(sink, session_rx.map(Ok::<Message, TransportError>))))
    }
}

// ===== the driver =====

#[derive(Clone)]
struct DriverHandle {
    routing: Arc<Mutex<Routing>>,
    attach: mpsc::Sender<(u64, fmpsc::Receiver<Message>)>,
    /// Cancelled when the child has ended.
    dead: CancellationToken,
}

struct Pending {
    session: u64,
    original: RequestId,
    /// The rewritten progress token's key, to forget it with the request.
    progress: Option<String>,
    seq: u64,
}

#[derive(Default)]
struct Routing {
    /// The counter behind session ids, request ids and progress tokens.
    next: u64,
    sessions: HashMap<u64, fmpsc::Sender<Message>>,
    /// Rewritten request id → who asked.
    pending: HashMap<RequestId, Pending>,
    /// (session, original id) → rewritten id, for `notifications/cancelled`.
    by_origin: HashMap<(u64, RequestId), RequestId>,
    /// Rewritten token (as JSON text) → (session, original token).
    progress: HashMap<String, (u64, serde_json::Value)>,
    /// The child's id of a server-to-client request → the session asked.
    server_requests: HashMap<RequestId, u64>,
    /// Sessions whose client closed its input but still reads: they get the answers to what
    /// they asked, then their stream ends.
    half_closed: HashSet<u64>,
}

impl Routing {
    fn fresh_id(&mut self, like: &RequestId) -> RequestId {
        self.next += 1;
        match like {
            RequestId::Number(_) => RequestId::Number(self.next as i64),
            RequestId::String(_) => RequestId::String(format!("g-{}", self.next)),
        }
    }

    fn fresh_token(&mut self, like: &serde_json::Value) -> serde_json::Value {
        self.next += 1;
        if like.is_number() { serde_json::json!(self.next) } else { serde_json::json!(format!("g-{}", self.next)) }
    }

    fn forget(&mut self, id: &RequestId) -> Option<Pending> {
        let p = self.pending.remove(id)?;
        self.by_origin.remove(&(p.session, p.original.clone()));
        if let Some(token) = &p.progress {
            self.progress.remove(token);
        }
        Some(p)
    }

    /// The session a server-to-client request goes to (see the module docs): never one whose
    /// client closed its input, as it could not answer.
    fn pick_session(&self) -> Option<u64> {
        let open = |sid: &u64| !self.half_closed.contains(sid);
        self.pending
            .values()
            .filter(|p| open(&p.session))
            .max_by_key(|p| p.seq)
            .map(|p| p.session)
            .or_else(|| self.sessions.keys().copied().filter(open).max())
    }

    /// Ends a half-closed session once nothing it asked is pending: dropping its sender ends its
    /// stream after what was already routed to it.
    fn end_if_drained(&mut self, sid: u64) {
        if self.half_closed.contains(&sid) && !self.pending.values().any(|p| p.session == sid) {
            self.half_closed.remove(&sid);
            self.sessions.remove(&sid);
            tracing::debug!(shared_session = sid, "shared_session_drained");
        }
    }
}

async fn start_driver(transport: BoxTransport, config: &SharedConfig) -> Result<DriverHandle, SharedError> {
    let (mut child_tx, mut child_rx) = transport.split();
    let init = handshake(&mut child_tx, &mut child_rx, config.init_timeout).await?;
    let routing = Arc::new(Mutex::new(Routing::default()));
    let dead = CancellationToken::new();
    let (attach, attach_rx) = mpsc::channel(16);
    let (to_child, mut to_child_rx) = mpsc::channel::<Message>(config.buffer);
    tokio::spawn({
        let dead = dead.clone();
        async move {
            loop {
                let msg = tokio::select! {
                    m = to_child_rx.recv() => m,
                    () = dead.cancelled() => None,
                };
                let Some(msg) = msg else { break };
                if child_tx.send(msg).await.is_err() {
                    break;
                }
            }
            let _ = child_tx.close().await;
        }
    });
    let ctx = Ctx { routing: routing.clone(), to_child, init: Arc::new(init) };
    tokio::spawn(inbound(ctx.clone(), attach_rx, dead.clone()));
    tokio::spawn(outbound(ctx, child_rx, dead.clone()));
    Ok(DriverHandle { routing, attach, dead })
}

/// Initializes the child as a client; returns its `InitializeResult`.
async fn handshake(
    tx: &mut (impl futures::Sink<Message, Error = TransportError> + Unpin),
    rx: &mut (impl futures::Stream<Item = Result<Message, TransportError>> + Unpin),
    timeout: Duration,
) -> Result<serde_json::Value, SharedError> {
    let fail = |what: String| SharedError::Handshake(what);
    let params = serde_json::json!({
        "protocolVersion": ProtocolVersion::LATEST_LEGACY.as_str(),
        "capabilities": { "sampling": {}, "elicitation": {}, "roots": { "listChanged": true } },
        "clientInfo": { "name": "mcp-gateway (shared)", "version": env!("CARGO_PKG_VERSION") },
    });
    let init = Message::request(0, "initialize", &params).map_err(|e| fail(e.to_string()))?;
    tx.send(init).await.map_err(|e| fail(e.to_string()))?;
    let answer = async {
        loop {
            match rx.next().await {
                Some(Ok(Message::Response(r))) if r.id == RequestId::Number(0) => return Ok(r.result.to_value()),
                Some(Ok(Message::Error(e))) if e.id == Some(RequestId::Number(0)) => {
                    return Err(fail(format!(
                        "the child answered initialize with error {}: {}",
                        e.error.code, e.error.message
                    )));
                }
                Some(Ok(Message::Request(req))) => {
                    let err = ErrorObject::internal_error("the gateway is still initializing this server");
                    tx.send(Message::error(Some(req.id), err)).await.map_err(|e| fail(e.to_string()))?;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) if !e.is_fatal() => tracing::warn!(error = %e, "bad frame from the shared upstream"),
                Some(Err(e)) => return Err(fail(e.to_string())),
                None => return Err(fail("the child closed its output before answering initialize".into())),
            }
        }
    };
    let result = tokio::time::timeout(timeout, answer)
        .await
        .map_err(|_| fail(format!("no answer to initialize within {timeout:?} (SharedConfig::init_timeout)")))??;
    let initialized =
        Message::notification("notifications/initialized", &serde_json::json!({})).map_err(|e| fail(e.to_string()))?;
    tx.send(initialized).await.map_err(|e| fail(e.to_string()))?;
    Ok(result)
}

#[derive(Clone)]
struct Ctx {
    routing: Arc<Mutex<Routing>>,
    to_child: mpsc::Sender<Message>,
    init: Arc<serde_json::Value>,
}

impl Ctx {
    fn routing(&self) -> std::sync::MutexGuard<'_, Routing> {
        self.routing.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn session(&self, sid: u64) -> Option<fmpsc::Sender<Message>> {
        self.routing().sessions.get(&sid).cloned()
    }
}

enum Event {
    Message(u64, Message),
    Closed(u64),
}

/// Sessions → child.
async fn inbound(ctx: Ctx, mut attach: mpsc::Receiver<(u64, fmpsc::Receiver<Message>)>, dead: CancellationToken) {
    let mut sessions = SelectAll::new();
    loop {
        let event = tokio::select! {
            Some((sid, rx)) = attach.recv() => {
                let tagged = rx.map(move |m| Event::Message(sid, m)).chain(futures::stream::iter([Event::Closed(sid)]));
                sessions.push(Box::pin(tagged));
                continue;
            }
            Some(event) = sessions.next(), if !sessions.is_empty() => event,
            () = dead.cancelled() => break,
            else => break,
        };
        let (to_child, to_session) = match event {
            Event::Message(sid, Message::Batch(items)) => {
                let mut out = (Vec::new(), Vec::new());
                for m in items {
                    let (c, s) = from_session(&ctx, sid, m);
                    out.0.extend(c);
                    out.1.extend(s);
                }
                (out.0, out.1.into_iter().map(|m| (sid, m)).collect())
            }
            Event::Message(sid, m) => {
                let (c, s) = from_session(&ctx, sid, m);
                (c, s.into_iter().map(|m| (sid, m)).collect::<Vec<_>>())
            }
            Event::Closed(sid) => (session_closed(&ctx, sid), Vec::new()),
        };
        for (sid, m) in to_session {
            if let Some(mut tx) = ctx.session(sid) {
                let _ = tx.send(m).await;
            }
        }
        for m in to_child {
            if ctx.to_child.send(m).await.is_err() {
                return;
            }
        }
    }
}

/// What one message from session `sid` becomes: (messages for the child, answers for the session).
fn from_session(ctx: &Ctx, sid: u64, msg: Message) -> (Vec<Message>, Vec<Message>) {
    match msg {
        Message::Request(req) if req.method == "initialize" => (Vec::new(), vec![initialize_answer(&ctx.init, req)]),
        Message::Request(mut req) => {
            let mut routing = ctx.routing();
            let original = req.id.clone();
            let id = routing.fresh_id(&original);
            let seq = routing.next;
            let progress = match rewrite_progress_token(&mut routing, sid, &mut req) {
                Ok(token) => token,
                Err(e) => {
                    let err = ErrorObject::invalid_params(format!("unreadable params: {e}"));
                    return (Vec::new(), vec![Message::error(Some(original), err)]);
                }
            };
            routing.by_origin.insert((sid, original.clone()), id.clone());
            routing.pending.insert(id.clone(), Pending { session: sid, original, progress, seq });
            req.id = id;
            req.related_request = None;
            (vec![Message::Request(req)], Vec::new())
        }
        Message::Notification(n) if n.method == "notifications/initialized" => (Vec::new(), Vec::new()),
        Message::Notification(mut n) if n.method == "notifications/cancelled" => {
            let routing = ctx.routing();
            let rewritten = edit_params(&mut n.params, |p| {
                let original: RequestId = serde_json::from_value(p.get("requestId")?.clone()).ok()?;
                let id = routing.by_origin.get(&(sid, original))?;
                p["requestId"] = serde_json::to_value(id).ok()?;
                Some(())
            });
            // A cancellation of a request already answered (or never sent) has nothing to cancel.
            if rewritten.is_some() { (vec![Message::Notification(n)], Vec::new()) } else { (Vec::new(), Vec::new()) }
        }
        Message::Notification(n) => (vec![Message::Notification(n)], Vec::new()),
        Message::Response(r) => forward_answer(ctx, sid, r.id.clone(), Message::Response(r)),
        Message::Error(e) => match e.id.clone() {
            Some(id) => forward_answer(ctx, sid, id, Message::Error(e)),
            None => {
                tracing::warn!(shared_session = sid, error = %e.error.message, "a session sent an error without id; dropped");
                (Vec::new(), Vec::new())
            }
        },
        Message::Batch(_) => (Vec::new(), Vec::new()),
    }
}

/// A session's answer to a server-to-client request goes to the child if it was asked.
fn forward_answer(ctx: &Ctx, sid: u64, id: RequestId, msg: Message) -> (Vec<Message>, Vec<Message>) {
    let mut routing = ctx.routing();
    if routing.server_requests.get(&id) == Some(&sid) {
        routing.server_requests.remove(&id);
        (vec![msg], Vec::new())
    } else {
        tracing::warn!(shared_session = sid, id = %id, "a session answered a request it was not sent; dropped");
        (Vec::new(), Vec::new())
    }
}

/// Rewrites `params._meta.progressToken`, if any; returns the new token's key.
fn rewrite_progress_token(routing: &mut Routing, sid: u64, req: &mut Request) -> Result<Option<String>, String> {
    if !req.params.as_ref().is_some_and(|p| p.get().contains("progressToken")) {
        return Ok(None);
    }
    let mut key = None;
    edit_params(&mut req.params, |p| {
        let meta = p.get_mut("_meta")?;
        let original = meta.get("progressToken")?.clone();
        let token = routing.fresh_token(&original);
        key = Some(token.to_string());
        routing.progress.insert(token.to_string(), (sid, original));
        meta["progressToken"] = token;
        Some(())
    })
    .map_or(Ok(()), |r| r.map_err(|e| e.to_string()))?;
    Ok(key)
}

/// Applies `edit` to the params as a JSON value and stores them back when it returns `Some`.
/// Returns `None` when there is nothing to edit, else whether re-encoding worked.
fn edit_params(
    params: &mut Option<RawJson>,
    edit: impl FnOnce(&mut serde_json::Value) -> Option<()>,
) -> Option<Result<(), serde_json::Error>> {
    let mut value = params.as_ref()?.parse::<serde_json::Value>().ok()?;
    edit(&mut value)?;
    Some(RawJson::from_serialize(&value).map(|raw| *params = Some(raw)))
}

/// The cached `InitializeResult`, with the session's protocol version when it is a legacy
/// revision no newer than the child's (servers support the revisions before theirs).
fn initialize_answer(init: &serde_json::Value, req: Request) -> Message {
    let mut result = init.clone();
    let asked = req
        .params
        .as_ref()
        .and_then(|p| p.parse::<serde_json::Value>().ok())
        .and_then(|p| p.get("protocolVersion").and_then(|v| v.as_str().map(str::to_owned)));
    let theirs = init.get("protocolVersion").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    if let Some(asked) = asked
        && asked.parse::<ProtocolVersion>().is_ok_and(|v| !v.is_stateless())
        && asked.as_str() <= theirs.as_str()
    {
        result["protocolVersion"] = serde_json::Value::String(asked);
    }
    Message::response(req.id.clone(), &result)
        .unwrap_or_else(|e| Message::error(Some(req.id), ErrorObject::internal_error(e)))
}

/// A session's input ended; returns what the child must be told.
///
/// A session that still reads (its client closed only its input, as a stdio client closes
/// stdin after its last request) keeps its route until every request it sent is answered. A
/// session that is gone altogether is forgotten, and its requests are cancelled at the child.
fn session_closed(ctx: &Ctx, sid: u64) -> Vec<Message> {
    let mut routing = ctx.routing();
    let still_reading = routing.sessions.get(&sid).is_some_and(|tx| !tx.is_closed());
    let mut out = Vec::new();
    if still_reading {
        routing.half_closed.insert(sid);
        routing.end_if_drained(sid);
    } else {
        routing.sessions.remove(&sid);
        let mine: Vec<RequestId> =
            routing.pending.iter().filter(|(_, p)| p.session == sid).map(|(id, _)| id.clone()).collect();
        for id in mine {
            routing.forget(&id);
            let params = serde_json::json!({ "requestId": id, "reason": "the client session closed" });
            out.extend(Message::notification("notifications/cancelled", &params).ok());
        }
    }
    let asked: Vec<RequestId> =
        routing.server_requests.iter().filter(|(_, s)| **s == sid).map(|(id, _)| id.clone()).collect();
    for id in asked {
        routing.server_requests.remove(&id);
        out.push(Message::error(Some(id), ErrorObject::internal_error("the client session asked closed")));
    }
    tracing::debug!(shared_session = sid, cancelled = out.len(), "shared_session_closed");
    out
}

/// Child → sessions.
async fn outbound(
    ctx: Ctx,
    mut child_rx: impl futures::Stream<Item = Result<Message, TransportError>> + Unpin,
    dead: CancellationToken,
) {
    let mut ended_by = None;
    while let Some(item) = child_rx.next().await {
        let msg = match item {
            Ok(msg) => msg,
            Err(e) if !e.is_fatal() => {
                tracing::warn!(error = %e, "bad frame from the shared upstream");
                continue;
            }
            Err(e) => {
                ended_by = Some(e.to_string());
                break;
            }
        };
        for (mut tx, m) in route(&ctx, msg) {
            let _ = tx.send(m).await;
        }
    }
    // The child is gone: answer what it never will, then end every session.
    let reason = ended_by.unwrap_or_else(|| "it closed its output".to_owned());
    tracing::error!(reason = %reason, "shared_upstream_ended");
    dead.cancel();
    let (sessions, pending) = {
        let mut routing = ctx.routing();
        let pending: Vec<Pending> = routing.pending.drain().map(|(_, p)| p).collect();
        (std::mem::take(&mut routing.sessions), pending)
    };
    for p in pending {
        if let Some(tx) = sessions.get(&p.session) {
            let err = ErrorObject::internal_error(format!(
                "the shared upstream MCP server ended before answering ({reason}); reconnect to get a fresh one"
            ));
            let _ = tx.clone().send(Message::error(Some(p.original), err)).await;
        }
    }
    drop(sessions);
}

/// Where one message from the child goes.
fn route(ctx: &Ctx, msg: Message) -> Vec<(fmpsc::Sender<Message>, Message)> {
    let msg = match msg {
        Message::Batch(items) => return items.into_iter().flat_map(|m| route(ctx, m)).collect(),
        msg => msg,
    };
    let mut guard = ctx.routing();
    let routing = &mut *guard;
    let to = |routing: &Routing, sid: u64, m: Message| {
        routing.sessions.get(&sid).map(|tx| (tx.clone(), m)).into_iter().collect::<Vec<_>>()
    };
    match msg {
        Message::Response(mut r) => match routing.forget(&r.id) {
            Some(p) => {
                r.id = p.original;
                let out = to(routing, p.session, Message::Response(r));
                routing.end_if_drained(p.session);
                out
            }
            None => Vec::new(),
        },
        Message::Error(mut e) => match e.id.as_ref().and_then(|id| routing.forget(id)) {
            Some(p) => {
                e.id = Some(p.original);
                let out = to(routing, p.session, Message::Error(e));
                routing.end_if_drained(p.session);
                out
            }
            None => {
                tracing::warn!(error = %e.error.message, "the shared upstream sent an error for no pending request");
                Vec::new()
            }
        },
        Message::Notification(mut n) if n.method == "notifications/progress" => {
            let mut target = None;
            edit_params(&mut n.params, |p| {
                let key = p.get("progressToken")?.to_string();
                let (sid, original) = routing.progress.get(&key)?.clone();
                p["progressToken"] = original;
                target = Some(sid);
                Some(())
            });
            match target {
                Some(sid) => to(routing, sid, Message::Notification(n)),
                None => Vec::new(),
            }
        }
        Message::Notification(n) if n.method == "notifications/cancelled" => {
            // The child withdraws one of its own requests: tell the session it asked.
            let id = n
                .params
                .as_ref()
                .and_then(|p| p.parse::<serde_json::Value>().ok())
                .and_then(|p| serde_json::from_value::<RequestId>(p.get("requestId")?.clone()).ok());
            match id.and_then(|id| routing.server_requests.remove(&id)) {
                Some(sid) => to(routing, sid, Message::Notification(n)),
                None => Vec::new(),
            }
        }
        Message::Notification(n) => {
            broadcast(routing, &Message::Notification(Notification { related_request: None, ..n }))
        }
        Message::Request(req) => match routing.pick_session() {
            Some(sid) => {
                routing.server_requests.insert(req.id.clone(), sid);
                to(routing, sid, Message::Request(Request { related_request: None, ..req }))
            }
            None => {
                let err = ErrorObject::internal_error(format!(
                    "no client session is connected to the gateway to answer {}",
                    req.method
                ));
                if ctx.to_child.try_send(Message::error(Some(req.id), err)).is_err() {
                    tracing::warn!("cannot refuse a server request: the queue to the shared upstream is full");
                }
                Vec::new()
            }
        },
        Message::Batch(_) => Vec::new(),
    }
}

fn broadcast(routing: &Routing, msg: &Message) -> Vec<(fmpsc::Sender<Message>, Message)> {
    routing.sessions.values().map(|tx| (tx.clone(), msg.clone())).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use mcp_core::memory::{self, MemoryTransport};
    use serde_json::json;

    use super::*;

    const WAIT: Duration = Duration::from_secs(5);

    /// A fake MCP server, scripted by the test: it answers `initialize` itself and hands
    /// every later message to the test.
    struct FakeChild {
        t: MemoryTransport,
    }

    impl FakeChild {
        async fn next(&mut self) -> Message {
            loop {
                let msg = tokio::time::timeout(WAIT, self.t.next())
                    .await
                    .expect("a message at the fake child within 5 s")
                    .expect("the driver is connected")
                    .unwrap();
                match &msg {
                    Message::Request(r) if r.method == "initialize" => {
                        let result = json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                            "serverInfo": {"name": "fake", "version": "1"}});
                        self.t.send(Message::response(r.id.clone(), &result).unwrap()).await.unwrap();
                    }
                    _ => return msg,
                }
            }
        }

        async fn next_request(&mut self) -> Request {
            match self.next().await {
                Message::Request(r) => r,
                other => panic!("expected a request at the child, got {other:?}"),
            }
        }

        async fn send(&mut self, msg: Message) {
            self.t.send(msg).await.unwrap();
        }
    }

    /// A shared upstream whose children are fake; the test receives each child as it starts.
    fn shared() -> (SharedUpstream, mpsc::Receiver<FakeChild>, Arc<AtomicUsize>) {
        let (children_tx, children_rx) = mpsc::channel(4);
        let started = Arc::new(AtomicUsize::new(0));
        let count = started.clone();
        let upstream = SharedUpstream::with_connector(
            move || {
                let (driver_end, child_end) = memory::pair(16);
                let children_tx = children_tx.clone();
                count.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    children_tx.send(FakeChild { t: child_end }).await.map_err(|e| e.to_string())?;
                    Ok(TransportExt::boxed(driver_end))
                })
            },
            SharedConfig { init_timeout: WAIT, buffer: 16 },
        );
        (upstream, children_rx, started)
    }

    /// Opens a session while the fake child answers the handshake.
    async fn open(upstream: &SharedUpstream, children: &mut mpsc::Receiver<FakeChild>) -> (BoxTransport, FakeChild) {
        let opening = upstream.open_session();
        let child = async {
            let mut child = children.recv().await.expect("a child is started");
            let Message::Notification(n) = child.next().await else { panic!("initialized expected") };
            assert_eq!(n.method, "notifications/initialized");
            child
        };
        let (session, child) = tokio::time::timeout(WAIT, futures::future::join(opening, child)).await.unwrap();
        (session.unwrap(), child)
    }

    async fn recv(session: &mut BoxTransport) -> Message {
        tokio::time::timeout(WAIT, session.next())
            .await
            .expect("a message at the session within 5 s")
            .expect("the session is open")
            .unwrap()
    }

    fn call(id: impl Into<RequestId>, text: &str) -> Message {
        Message::request(id, "tools/call", &json!({"name": "echo", "arguments": {"message": text}})).unwrap()
    }

    fn text_of(req: &Request) -> String {
        req.params.as_ref().unwrap().to_value()["arguments"]["message"].as_str().unwrap().to_owned()
    }

    fn answer(req: &Request, text: &str) -> Message {
        Message::response(req.id.clone(), &json!({"content": [{"type": "text", "text": text}]})).unwrap()
    }

    fn result_text(msg: &Message) -> (RequestId, String) {
        let Message::Response(r) = msg else { panic!("a response expected, got {msg:?}") };
        (r.id.clone(), r.result.to_value()["content"][0]["text"].as_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn one_handshake_answers_every_session_from_the_cache() {
        let (upstream, mut children, started) = shared();
        let (mut a, mut child) = open(&upstream, &mut children).await;
        let mut b = upstream.open_session().await.unwrap();
        for (session, version) in [(&mut a, "2025-03-26"), (&mut b, "2026-07-28")] {
            let init =
                json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
            session.send(Message::request(1, "initialize", &init).unwrap()).await.unwrap();
            let Message::Response(r) = recv(session).await else { panic!() };
            let result = r.result.to_value();
            assert_eq!(result["serverInfo"]["name"], "fake");
            // An older legacy revision is echoed; a newer (or stateless) one gets the child's.
            let expected = if version == "2025-03-26" { version } else { "2025-06-18" };
            assert_eq!(result["protocolVersion"], expected);
            session.send(Message::notification("notifications/initialized", &json!({})).unwrap()).await.unwrap();
        }
        // The child sees neither initialize nor initialized again: the next thing is a ping.
        a.send(Message::request(5, "ping", &json!({})).unwrap()).await.unwrap();
        let ping = child.next_request().await;
        assert_eq!(ping.method, "ping");
        assert_eq!(started.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn two_sessions_with_the_same_ids_get_their_own_answers() {
        let (upstream, mut children, _) = shared();
        let (mut a, mut child) = open(&upstream, &mut children).await;
        let mut b = upstream.open_session().await.unwrap();
        a.send(call(1, "from a")).await.unwrap();
        b.send(call(1, "from b")).await.unwrap();
        a.send(call("x", "string from a")).await.unwrap();
        b.send(call("x", "string from b")).await.unwrap();
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(child.next_request().await);
        }
        let ids: std::collections::HashSet<_> = seen.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids.len(), 4, "ids collide at the child: {ids:?}");
        for r in &seen {
            let string_original = text_of(r).starts_with("string");
            assert_eq!(matches!(r.id, RequestId::String(_)), string_original, "id type kept: {:?}", r.id);
        }
        // Answer in reverse order.
        for r in seen.iter().rev() {
            child.send(answer(r, &format!("echo: {}", text_of(r)))).await;
        }
        let mut got_a = vec![result_text(&recv(&mut a).await), result_text(&recv(&mut a).await)];
        let mut got_b = vec![result_text(&recv(&mut b).await), result_text(&recv(&mut b).await)];
        got_a.sort();
        got_b.sort();
        assert_eq!(
            got_a,
            [(RequestId::Number(1), "echo: from a".into()), (RequestId::from("x"), "echo: string from a".into())]
        );
        assert_eq!(
            got_b,
            [(RequestId::Number(1), "echo: from b".into()), (RequestId::from("x"), "echo: string from b".into())]
        );
    }

    #[tokio::test]
    async fn progress_goes_back_to_its_session_with_the_original_token() {
        let (upstream, mut children, _) = shared();
        let (mut a, mut child) = open(&upstream, &mut children).await;
        let mut b = upstream.open_session().await.unwrap();
        for (s, who) in [(&mut a, "a"), (&mut b, "b")] {
            let params = json!({"name": "slow", "arguments": {"message": who}, "_meta": {"progressToken": "tok"}});
            s.send(Message::request(7, "tools/call", &params).unwrap()).await.unwrap();
        }
        let mut first = child.next_request().await;
        let mut second = child.next_request().await;
        if text_of(&first) == "b" {
            std::mem::swap(&mut first, &mut second);
        }
        // first is a's request, second b's.
        let tokens: Vec<serde_json::Value> = [&first, &second]
            .iter()
            .map(|r| r.params.as_ref().unwrap().to_value()["_meta"]["progressToken"].clone())
            .collect();
        assert_ne!(tokens[0], tokens[1], "progress tokens collide at the child");
        assert!(tokens.iter().all(serde_json::Value::is_string), "token type kept: {tokens:?}");
        // Progress for the second request reaches only the session that sent it.
        let progress = json!({"progressToken": tokens[1], "progress": 1, "total": 2});
        child.send(Message::notification("notifications/progress", &progress).unwrap()).await;
        child.send(answer(&second, "done")).await;
        child.send(answer(&first, "done")).await;
        let (late, early) = (&mut a, &mut b);
        // b's progress and answer were sent first; a gets no progress.
        let Message::Notification(n) = recv(early).await else { panic!("progress expected at the second session") };
        assert_eq!(n.params.unwrap().to_value()["progressToken"], "tok");
        assert_eq!(result_text(&recv(early).await), (RequestId::Number(7), "done".into()));
        assert_eq!(result_text(&recv(late).await), (RequestId::Number(7), "done".into()));
    }

    #[tokio::test]
    async fn notifications_are_broadcast_and_server_requests_go_to_the_latest_caller() {
        let (upstream, mut children, _) = shared();
        let (mut a, mut child) = open(&upstream, &mut children).await;
        let mut b = upstream.open_session().await.unwrap();
        child.send(Message::notification("notifications/tools/list_changed", &json!({})).unwrap()).await;
        for s in [&mut a, &mut b] {
            assert_eq!(recv(s).await.method(), Some("notifications/tools/list_changed"));
        }
        // b's call is the most recent in flight: the child's sampling request goes to b.
        a.send(call(1, "a")).await.unwrap();
        let _from_a = child.next_request().await;
        b.send(call(1, "b")).await.unwrap();
        let from_b = child.next_request().await;
        child.send(Message::request(99, "sampling/createMessage", &json!({"messages": []})).unwrap()).await;
        let Message::Request(asked) = recv(&mut b).await else { panic!("b is asked") };
        assert_eq!((asked.id.clone(), asked.method.as_str()), (RequestId::Number(99), "sampling/createMessage"));
        // a answering it is not forwarded; b's answer is.
        a.send(Message::response(RequestId::Number(99), &json!({"forged": true})).unwrap()).await.unwrap();
        b.send(Message::response(RequestId::Number(99), &json!({"model": "m"})).unwrap()).await.unwrap();
        let Message::Response(r) = child.next().await else { panic!("the child gets b's answer") };
        assert_eq!((r.id, r.result.to_value()["model"].clone()), (RequestId::Number(99), json!("m")));
        // A cancellation from b names the child's id for b's request.
        b.send(Message::notification("notifications/cancelled", &json!({"requestId": 1})).unwrap()).await.unwrap();
        let Message::Notification(n) = child.next().await else { panic!("cancelled expected") };
        assert_eq!(n.params.unwrap().to_value()["requestId"], serde_json::to_value(&from_b.id).unwrap());
    }

    #[tokio::test]
    async fn a_closed_session_is_forgotten_and_its_requests_cancelled() {
        let (upstream, mut children, _) = shared();
        let (mut a, mut child) = open(&upstream, &mut children).await;
        let mut b = upstream.open_session().await.unwrap();
        a.send(call(1, "a")).await.unwrap();
        let from_a = child.next_request().await;
        drop(a);
        let Message::Notification(n) = child.next().await else { panic!("cancelled expected") };
        assert_eq!(n.method, "notifications/cancelled");
        assert_eq!(n.params.unwrap().to_value()["requestId"], serde_json::to_value(&from_a.id).unwrap());
        // A late answer for the closed session goes nowhere; b still works.
        child.send(answer(&from_a, "late")).await;
        b.send(call(1, "b")).await.unwrap();
        let from_b = child.next_request().await;
        child.send(answer(&from_b, "for b")).await;
        assert_eq!(result_text(&recv(&mut b).await), (RequestId::Number(1), "for b".into()));
    }

    #[tokio::test]
    async fn a_session_that_closes_its_input_still_gets_its_answers_then_ends() {
        let (upstream, mut children, _) = shared();
        let (mut a, mut child) = open(&upstream, &mut children).await;
        let mut b = upstream.open_session().await.unwrap();
        a.send(call(1, "first")).await.unwrap();
        a.send(call(2, "second")).await.unwrap();
        let first = child.next_request().await;
        let second = child.next_request().await;
        // The client closes its input (a stdio client at stdin EOF) but keeps reading.
        a.close().await.unwrap();
        // Nothing is cancelled at the child; a server request goes to b, who can still answer.
        child.send(Message::request(50, "roots/list", &json!({})).unwrap()).await;
        let Message::Request(asked) = recv(&mut b).await else { panic!("b is asked, not the half-closed a") };
        assert_eq!(asked.method, "roots/list");
        child.send(answer(&second, "two")).await;
        child.send(answer(&first, "one")).await;
        assert_eq!(result_text(&recv(&mut a).await), (RequestId::Number(2), "two".into()));
        assert_eq!(result_text(&recv(&mut a).await), (RequestId::Number(1), "one".into()));
        // Everything answered: a's stream ends; b goes on.
        let end = tokio::time::timeout(WAIT, a.next()).await.expect("the half-closed session ends");
        assert!(end.is_none(), "{end:?}");
        b.send(call(3, "b")).await.unwrap();
        let from_b = child.next_request().await;
        child.send(answer(&from_b, "for b")).await;
        assert_eq!(result_text(&recv(&mut b).await), (RequestId::Number(3), "for b".into()));
    }

    #[tokio::test]
    async fn a_dying_child_fails_pending_requests_and_the_next_session_gets_a_new_child() {
        let (upstream, mut children, started) = shared();
        let (mut a, mut child) = open(&upstream, &mut children).await;
        a.send(call(3, "never answered")).await.unwrap();
        let _ = child.next_request().await;
        drop(child);
        let Message::Error(e) = recv(&mut a).await else { panic!("an error response expected") };
        assert_eq!(e.id, Some(RequestId::Number(3)));
        assert!(e.error.message.contains("shared upstream MCP server ended"), "{}", e.error.message);
        let end = tokio::time::timeout(WAIT, a.next()).await.expect("the session ends");
        assert!(end.is_none(), "{end:?}");
        let (mut c, mut child) = open(&upstream, &mut children).await;
        assert_eq!(started.load(Ordering::SeqCst), 2);
        c.send(call(3, "again")).await.unwrap();
        let r = child.next_request().await;
        child.send(answer(&r, "fresh")).await;
        assert_eq!(result_text(&recv(&mut c).await), (RequestId::Number(3), "fresh".into()));
    }

    #[tokio::test]
    async fn a_child_that_fails_the_handshake_is_reported() {
        let upstream = SharedUpstream::with_connector(
            || {
                let (driver_end, mut child_end) = memory::pair(4);
                tokio::spawn(async move {
                    if let Some(Ok(Message::Request(r))) = child_end.next().await {
                        let err = ErrorObject::new(-32602, "unsupported protocol version");
                        let _ = child_end.send(Message::error(Some(r.id), err)).await;
                    }
                });
                Box::pin(async move { Ok(TransportExt::boxed(driver_end)) })
            },
            SharedConfig::default(),
        );
        let err = upstream.open_session().await.err().expect("the handshake fails");
        assert!(err.to_string().contains("unsupported protocol version"), "{err}");
    }
}
