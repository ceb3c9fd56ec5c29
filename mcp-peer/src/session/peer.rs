//! [`Peer`]: a handle for sending requests and notifications to the other side of a session.

use std::fmt;
use std::sync::Arc;

use mcp_core::jsonrpc::{Notification, Request};
use mcp_core::{Principal, ProtocolVersion, RawJson, RequestId, SessionInfo};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{Failure, Outbound, Pending, Shared, send_from_sync};
use crate::error::PeerError;

/// A progress report for an outgoing request (`notifications/progress`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[non_exhaustive]
pub struct Progress {
    /// How far along; increases with every report.
    pub progress: f64,
    /// The total, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// A human-readable status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Progress {
    /// A report of `progress` out of an optional `total`.
    pub fn new(progress: f64, total: Option<f64>) -> Self {
        Self { progress, total, message: None }
    }
}

/// A handle onto one session's remote side: sends requests and notifications through the
/// session task. Cheap to clone; usable from any task.
///
/// Messages sent through the handle a request handler got (`RequestContext::peer`) carry the
/// handler's request id as their routing hint (`related_request`), so that transports that
/// route per request (Streamable HTTP) deliver them on that request's stream.
#[derive(Clone)]
pub struct Peer {
    pub(crate) shared: Arc<Shared>,
    pub(crate) related: Option<RequestId>,
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer").field("session", &self.shared.session_id).field("related", &self.related).finish()
    }
}

impl Peer {
    pub(crate) fn new(shared: Arc<Shared>, related: Option<RequestId>) -> Self {
        Self { shared, related }
    }

    /// The session's id (a transport's session id when it has one, else a local counter).
    pub fn session_id(&self) -> &str {
        &self.shared.session_id
    }

    /// The authenticated caller of this session, when the transport knows one.
    pub fn principal(&self) -> Option<&Principal> {
        self.shared.info.principal.as_ref()
    }

    /// What the transport knows about the session: its name, remote address, principal and
    /// transport-specific extensions (HTTP headers, ...).
    pub fn session_info(&self) -> &SessionInfo {
        &self.shared.info
    }

    /// The negotiated protocol revision, once the handshake completed.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.shared.peer_info.get().map(|p| p.protocol_version)
    }

    /// The capabilities the peer declared, as it sent them (`null` before the handshake).
    pub fn peer_capabilities(&self) -> serde_json::Value {
        self.shared.peer_info.get().map(|p| p.capabilities.clone()).unwrap_or_default()
    }

    /// The peer's implementation info (`clientInfo` or `serverInfo`), as it sent it.
    pub fn peer_implementation(&self) -> serde_json::Value {
        self.shared.peer_info.get().map(|p| p.info.clone()).unwrap_or_default()
    }

    /// Whether the peer declared capability `name` (a top-level key such as `"sampling"`).
    pub fn peer_has_capability(&self, name: &str) -> bool {
        self.shared.peer_info.get().and_then(|p| p.capabilities.get(name)).is_some_and(|v| !v.is_null())
    }

    /// Sends a request and decodes its result as `R`.
    ///
    /// Waits at most [`SessionConfig::request_timeout`](crate::SessionConfig::request_timeout);
    /// on timeout the peer gets `notifications/cancelled`.
    ///
    /// # Errors
    /// [`PeerError::Rpc`] when the peer answers with an error, [`PeerError::Timeout`],
    /// [`PeerError::Closed`] when the session ends first, [`PeerError::Protocol`] when the
    /// result does not decode as `R`.
    ///
    /// # Cancel safety
    /// Dropping the future before it completes cancels the request: the peer gets
    /// `notifications/cancelled` and a late response is ignored.
    pub async fn request<P, R>(&self, method: &str, params: &P) -> Result<R, PeerError>
    where
        P: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let params = RawJson::from_serialize(params)
            .map_err(|e| PeerError::Protocol(format!("cannot serialize the params of {method:?}: {e}")))?;
        let raw = self.request_raw(method, Some(params), None).await?;
        decode_result(method, &raw)
    }

    /// Sends a request with raw params and returns the raw result; `on_progress` (when given)
    /// receives the peer's progress reports, each of which restarts the timeout.
    ///
    /// # Errors
    /// As [`Peer::request`], except that the result is not decoded.
    ///
    /// # Cancel safety
    /// As [`Peer::request`].
    pub async fn request_raw(
        &self,
        method: &str,
        params: Option<RawJson>,
        mut on_progress: Option<&mut (dyn FnMut(Progress) + Send)>,
    ) -> Result<RawJson, PeerError> {
        let shared = &self.shared;
        let id = shared.next_id();
        let (reply_tx, mut reply_rx) = oneshot::channel();
        let (progress_tx, mut progress_rx) = match on_progress {
            Some(_) => {
                let (tx, rx) = mpsc::channel(16);
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let mut extra = Vec::new();
        if let Some(meta) = shared.request_meta.get() {
            extra.extend(meta.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if progress_tx.is_some() {
            extra.push(("progressToken".to_owned(), serde_json::to_value(&id).unwrap_or_default()));
        }
        let params = if extra.is_empty() { params } else { Some(with_meta(params, extra)?) };
        let request =
            Request { id: id.clone(), method: method.to_owned(), params, related_request: self.related.clone() };
        let pending = Pending { reply: reply_tx, progress: progress_tx };
        shared
            .tx
            .send(Outbound::Request { request, pending })
            .await
            .map_err(|_| PeerError::closed(format!("cannot send {method:?}: the session has ended")))?;

        let mut guard = CancelOnDrop { shared: Some(shared.clone()), id, reason: "the caller gave up on the request" };
        let start = Instant::now();
        let cap = start + shared.config.max_request_duration;
        let timeout = shared.config.request_timeout;
        let sleep = tokio::time::sleep_until((start + timeout).min(cap));
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                biased;
                reply = &mut reply_rx => {
                    guard.disarm();
                    // Reports sent before the response are delivered before returning.
                    if let (Some(rx), Some(callback)) = (progress_rx.as_mut(), on_progress.as_deref_mut()) {
                        while let Ok(progress) = rx.try_recv() {
                            callback(progress);
                        }
                    }
                    return match reply {
                        Ok(Ok(result)) => Ok(result),
                        Ok(Err(Failure::Rpc(error))) => Err(PeerError::Rpc { method: method.to_owned(), error }),
                        Ok(Err(Failure::Closed(why))) => Err(PeerError::closed(format!("{method:?} got no response: {why}"))),
                        Err(_) => Err(PeerError::closed(format!("{method:?} got no response: the session has ended"))),
                    };
                }
                Some(progress) = recv_progress(&mut progress_rx) => {
                    let now = Instant::now();
                    sleep.as_mut().reset((now + timeout).min(cap));
                    if let Some(callback) = on_progress.as_deref_mut() {
                        callback(progress);
                    }
                }
                () = &mut sleep => {
                    guard.reason = "timed out";
                    drop(guard);
                    return Err(PeerError::Timeout { method: method.to_owned(), after: start.elapsed() });
                }
            }
        }
    }

    /// Sends a notification.
    ///
    /// # Errors
    /// [`PeerError::Closed`] when the session has ended.
    pub async fn notify<P: Serialize + ?Sized>(&self, method: &str, params: &P) -> Result<(), PeerError> {
        let params = RawJson::from_serialize(params)
            .map_err(|e| PeerError::Protocol(format!("cannot serialize the params of {method:?}: {e}")))?;
        self.notify_raw(method, Some(params)).await
    }

    /// Sends a notification with raw params.
    ///
    /// # Errors
    /// [`PeerError::Closed`] when the session has ended.
    pub async fn notify_raw(&self, method: &str, params: Option<RawJson>) -> Result<(), PeerError> {
        let notification = Notification { method: method.to_owned(), params, related_request: self.related.clone() };
        self.shared
            .tx
            .send(Outbound::Notification(notification))
            .await
            .map_err(|_| PeerError::closed(format!("cannot send {method:?}: the session has ended")))
    }

    /// Asks the session to stop: no more reading, in-flight work finishes, queued messages are
    /// flushed and the transport is closed. Returns at once.
    pub fn close(&self) {
        send_from_sync(&self.shared.tx, Outbound::Close);
    }

    /// Whether a log message at `level` passes the level the peer set with `logging/setLevel`.
    pub fn log_enabled(&self, level: mcp_core::schema::LoggingLevel) -> bool {
        level as u8 >= self.shared.log_level.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the session task has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.tx.is_closed()
    }
}

/// Decodes a result by the method that was sent.
pub(crate) fn decode_result<R: DeserializeOwned>(method: &str, raw: &RawJson) -> Result<R, PeerError> {
    raw.parse().map_err(|e| PeerError::Protocol(format!("the result of {method:?} is malformed: {e}")))
}

async fn recv_progress(rx: &mut Option<mpsc::Receiver<Progress>>) -> Option<Progress> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Adds `_meta` entries (a progress token, the stateless revision's request metadata) to the
/// params, keeping entries the caller set.
fn with_meta(params: Option<RawJson>, entries: Vec<(String, serde_json::Value)>) -> Result<RawJson, PeerError> {
    let mut value = params.map(|p| p.to_value()).unwrap_or_else(|| serde_json::json!({}));
    let Some(map) = value.as_object_mut() else {
        return Err(PeerError::Protocol("params must be a JSON object to carry _meta".into()));
    };
    let meta = map.entry("_meta").or_insert_with(|| serde_json::json!({}));
    if let Some(meta) = meta.as_object_mut() {
        for (key, value) in entries {
            meta.entry(key).or_insert(value);
        }
    }
    RawJson::from_serialize(&value).map_err(|e| PeerError::Protocol(e.to_string()))
}

/// Cancels the request when the caller's future is dropped before the response.
struct CancelOnDrop {
    shared: Option<Arc<Shared>>,
    id: RequestId,
    reason: &'static str,
}

impl CancelOnDrop {
    fn disarm(&mut self) {
        self.shared = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            let id = std::mem::replace(&mut self.id, RequestId::Number(0));
            send_from_sync(&shared.tx, Outbound::Cancel { id, reason: self.reason.to_owned() });
        }
    }
}
