//! The legacy HTTP+SSE transport of 2024-11-05: `GET /sse` opens the session's only stream and
//! names the POST endpoint; `POST /messages?sessionId=...` carries client messages (202), whose
//! replies arrive on the stream. The session ends when the stream's connection closes.

use std::sync::{Arc, Weak};

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::Shared;
use super::request::{check_content_type, decode, find_session, principal_id, read_body};
use super::session::{Session, SessionKind};
use super::sse_body::sse_response;
use crate::http_error::HttpError;
use crate::sse::encode_event;

/// `GET /sse`.
pub(crate) async fn stream(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let session = match shared.create_session(SessionKind::Legacy, &parts.headers, &parts.extensions).await {
        Ok(session) => session,
        Err(err) => return err.into_response(),
    };
    let Some((live, _)) = session.open_standalone() else {
        return HttpError::invalid(StatusCode::CONFLICT, "Conflict: stream already open").into_response();
    };
    let endpoint = format!("{}?sessionId={}", shared.config.messages_path, session.id);
    let prelude = vec![encode_event(None, Some("endpoint"), None, endpoint.as_bytes())];
    let guard = EndOnDrop { shared: Arc::downgrade(&shared), session: Arc::clone(&session), _busy: session.attach() };
    sse_response(prelude, Some(live), shared.config.keep_alive, session.closed.clone(), guard)
}

/// `POST /messages?sessionId=...`.
pub(crate) async fn message(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    handle_message(shared, request).await.unwrap_or_else(IntoResponse::into_response)
}

async fn handle_message(shared: Arc<Shared>, request: Request) -> Result<Response, HttpError> {
    let (parts, body) = request.into_parts();
    let id = parts
        .uri
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("sessionId="))
        .ok_or_else(|| HttpError::invalid(StatusCode::BAD_REQUEST, "Bad Request: missing sessionId query parameter"))?;
    let session = find_session(&shared, id, SessionKind::Legacy, principal_id(&parts.extensions).as_deref()).await?;
    check_content_type(&parts.headers)?;
    let _busy = session.attach();
    let bytes = read_body(body, shared.config.max_body_bytes, &parts.headers).await?;
    let message = decode(&bytes)?;
    if session.deliver(Ok(message)).await.is_err() {
        shared.end_session(&session);
        return Err(HttpError::invalid(StatusCode::NOT_FOUND, "Not Found: the session has ended"));
    }
    Ok((StatusCode::ACCEPTED, "Accepted").into_response())
}

/// Ends the legacy session when its stream's connection goes away.
struct EndOnDrop {
    shared: Weak<Shared>,
    session: Arc<Session>,
    _busy: super::session::ActivityGuard,
}

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        tracing::debug!(session = %self.session.id, "legacy SSE stream closed; ending the session");
        if let Some(shared) = self.shared.upgrade() {
            shared.end_session(&self.session);
        } else {
            self.session.close();
        }
    }
}
