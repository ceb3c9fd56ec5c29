//! The Streamable HTTP endpoint: `POST` (client messages), `GET` (the standalone stream and
//! resumption), `DELETE` (end the session).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use mcp_core::{Message, ProtocolVersion, RequestId};

use super::Shared;
use super::coarse_timer::CoarseTimer;
use super::request::{
    SESSION_ID, check_accept, check_content_type, decode, find_session, principal_id, protocol_version, read_body,
    required_session, session_header,
};
use super::session::{Outgoing, ResumeError, Session, SessionKind, StreamMode, event_id};
use super::sse_body::{message_event, sse_complete, sse_response};
use crate::http_error::HttpError;
use crate::sse::encode_event;

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// `POST /mcp`.
pub(crate) async fn post(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    handle_post(shared, request).await.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /mcp`.
pub(crate) async fn get(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    handle_get(shared, request).await.unwrap_or_else(IntoResponse::into_response)
}

/// `DELETE /mcp`.
pub(crate) async fn delete(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let result = async {
        protocol_version(&parts.headers)?;
        let session = required_session(&shared, &parts.headers, &parts.extensions).await?;
        tracing::debug!(session = %session.id, "session deleted by the client");
        shared.end_session(&session);
        Ok::<_, HttpError>(StatusCode::OK.into_response())
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

/// The ids of the requests in a message (several for a 2025-03-26 batch).
fn request_ids(message: &Message) -> Vec<RequestId> {
    match message {
        Message::Request(r) => vec![r.id.clone()],
        Message::Batch(items) => items.iter().flat_map(request_ids).collect(),
        _ => Vec::new(),
    }
}

fn is_initialize(message: &Message) -> bool {
    match message {
        Message::Request(r) => r.method == "initialize",
        Message::Batch(items) => items.iter().any(is_initialize),
        _ => false,
    }
}

async fn handle_post(shared: Arc<Shared>, request: Request) -> Result<Response, HttpError> {
    let (parts, body) = request.into_parts();
    check_accept(&parts.headers, &[JSON, EVENT_STREAM])?;
    check_content_type(&parts.headers)?;
    let header_version = protocol_version(&parts.headers)?;
    let bytes = read_body(body, shared.config.max_body_bytes, &parts.headers).await?;
    let message = decode(&bytes)?;
    let principal = principal_id(&parts.extensions);

    let (session, created) = match session_header(&parts.headers) {
        Some(id) => (find_session(&shared, id, SessionKind::Streamable, principal.as_deref()).await?, false),
        None if is_initialize(&message) => {
            (shared.create_session(SessionKind::Streamable, &parts.headers, &parts.extensions).await?, true)
        }
        None if shared.config.stateless && header_version.is_some_and(ProtocolVersion::is_stateless) => {
            (shared.create_session(SessionKind::Stateless, &parts.headers, &parts.extensions).await?, true)
        }
        None => {
            return Err(HttpError::invalid(
                StatusCode::BAD_REQUEST,
                "Bad Request: missing Mcp-Session-Id header; send initialize first to create a session",
            ));
        }
    };
    let _busy = session.attach();
    let ids = request_ids(&message);
    if ids.is_empty() {
        deliver(&shared, &session, message).await?;
        if session.kind == SessionKind::Stateless {
            // Nothing will be answered: the one-message session is over (what was delivered is
            // still read by the application before its stream ends).
            session.close();
        }
        return Ok(StatusCode::ACCEPTED.into_response());
    }

    let mode = if shared.config.json_response { StreamMode::Json } else { StreamMode::Sse };
    let (stream, live) = session.open_request_stream(&ids, mode).map_err(|dup| {
        let mut err = HttpError::invalid(
            StatusCode::BAD_REQUEST,
            format!("Bad Request: request id {} is already in flight on this session", dup.0),
        );
        err.id = Some(dup.0);
        err
    })?;
    let batch = matches!(message, Message::Batch(_));
    let initialize = is_initialize(&message);
    if let Err(err) = deliver(&shared, &session, message).await {
        session.abandon_request_stream(stream, &ids);
        return Err(err);
    }

    let mut response = match mode {
        StreamMode::Json => json_reply(&session, live, batch).await?,
        StreamMode::Sse => {
            let version = session.version().or(header_version);
            let mut prelude = Vec::new();
            // Priming (SEP-1699): an id and empty data, so even a connection lost before the
            // first message can resume. Older clients choke on empty data, hence the version gate.
            if session.resumable() && !initialize && version.is_some_and(|v| v >= ProtocolVersion::V2025_11_25) {
                prelude.push(encode_event(Some(&event_id(stream, 0)), None, Some(shared.config.sse_retry), b""));
            }
            let mut live = live;
            if first_events(&shared.first_event_timer, &session, &mut live, &mut prelude).await {
                // Answered at once: the whole stream in one body, written with the head.
                if session.kind == SessionKind::Stateless {
                    session.close();
                }
                sse_complete(prelude)
            } else {
                let closer = (session.kind == SessionKind::Stateless).then(|| CloseOnDrop(Arc::clone(&session)));
                sse_response(
                    prelude,
                    Some(live),
                    shared.config.keep_alive,
                    session.closed.clone(),
                    (session.attach(), closer),
                )
            }
        }
    };
    if created
        && session.kind == SessionKind::Streamable
        && let Ok(value) = HeaderValue::from_str(&session.id)
    {
        response.headers_mut().insert(SESSION_ID, value);
    }
    Ok(response)
}

/// Hands a message to the session; a session whose application is gone is ended (404).
async fn deliver(shared: &Shared, session: &Arc<Session>, message: Message) -> Result<(), HttpError> {
    if session.deliver(Ok(message)).await.is_ok() {
        return Ok(());
    }
    shared.end_session(session);
    Err(HttpError::invalid(StatusCode::NOT_FOUND, "Not Found: the session has ended; start a new one with initialize"))
}

/// Collects the responses of a JSON-mode POST into one body (an array for a batch).
async fn json_reply(
    session: &Arc<Session>,
    mut live: tokio::sync::mpsc::Receiver<Outgoing>,
    batch: bool,
) -> Result<Response, HttpError> {
    let mut replies: Vec<Bytes> = Vec::new();
    loop {
        tokio::select! {
            event = live.recv() => match event {
                Some(event) => {
                    replies.push(event.data);
                    if event.last {
                        break;
                    }
                }
                None => break,
            },
            () = session.closed.cancelled() => break,
        }
    }
    if session.kind == SessionKind::Stateless {
        session.close();
    }
    if replies.is_empty() {
        return Err(HttpError::invalid(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable: the session ended before answering",
        ));
    }
    let body = if batch || replies.len() > 1 {
        let mut out = Vec::with_capacity(replies.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        for (i, reply) in replies.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(reply);
        }
        out.push(b']');
        Bytes::from(out)
    } else {
        replies.swap_remove(0)
    };
    let mut response = Response::new(axum::body::Body::from(body));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    Ok(response)
}

async fn handle_get(shared: Arc<Shared>, request: Request) -> Result<Response, HttpError> {
    let (parts, _) = request.into_parts();
    check_accept(&parts.headers, &[EVENT_STREAM])?;
    let header_version = protocol_version(&parts.headers)?;
    let session = required_session(&shared, &parts.headers, &parts.extensions).await?;
    let last_event_id = parts.headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let (prelude, live) = match last_event_id {
        Some(last) => {
            let (replay, live) = session.resume(last).await.map_err(|err| match err {
                ResumeError::Unknown => HttpError::invalid(
                    StatusCode::BAD_REQUEST,
                    format!("Bad Request: Last-Event-ID {last:?} names no stream of this session"),
                ),
                ResumeError::Store(detail) => {
                    tracing::error!(session = %session.id, %detail, "event store replay failed");
                    HttpError::invalid(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error: event replay failed")
                }
            })?;
            tracing::debug!(session = %session.id, last, replayed = replay.len(), "stream resumed");
            (replay.iter().map(super::sse_body::message_event).collect(), live)
        }
        None => {
            let (live, cursor) = session.open_standalone().ok_or_else(|| {
                HttpError::invalid(StatusCode::CONFLICT, "Conflict: this session already has an open GET stream")
            })?;
            let version = session.version().or(header_version);
            let mut prelude = Vec::new();
            if session.resumable() && version.is_some_and(|v| v >= ProtocolVersion::V2025_11_25) {
                prelude.push(encode_event(Some(&cursor), None, Some(shared.config.sse_retry), b""));
            }
            (prelude, Some(live))
        }
    };
    Ok(sse_response(prelude, live, shared.config.keep_alive, session.closed.clone(), session.attach()))
}

/// How long a POST's response head waits for the first event of its stream (at least this, at
/// most twice this: the deadline is on a [`CoarseTimer`]'s grid). Most requests are answered well within it; the head, the priming event and the
/// answer then leave in one write and the client reads one chunk, instead of a head, a priming
/// event and the answer each in a write and a wake-up of their own. A slower answer streams as
/// usual, its head sent after this.
pub(crate) const FIRST_EVENT_WAIT: std::time::Duration = std::time::Duration::from_millis(5);

/// Waits up to [`FIRST_EVENT_WAIT`] (or twice that) for the stream's first events and moves what has arrived
/// into `prelude`. Returns whether the stream is complete (its last response is in `prelude`,
/// or the stream ended).
async fn first_events(
    timer: &CoarseTimer,
    session: &Session,
    live: &mut tokio::sync::mpsc::Receiver<Outgoing>,
    prelude: &mut Vec<Bytes>,
) -> bool {
    let mut next = tokio::select! {
        biased;
        event = live.recv() => event,
        () = session.closed.cancelled() => return false,
        () = tokio::time::sleep_until(timer.deadline()) => return false,
    };
    loop {
        let Some(event) = next else { return true };
        prelude.push(message_event(&event));
        if event.last {
            return true;
        }
        next = match live.try_recv() {
            Ok(event) => Some(event),
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => return false,
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => None,
        };
    }
}

/// Ends a stateless (one-request) session when its response stream is done.
struct CloseOnDrop(Arc<Session>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}
