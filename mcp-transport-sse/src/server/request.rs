//! Checks every MCP HTTP request goes through: Accept, Content-Type, protocol version, body size,
//! session lookup. Each failure is an [`HttpError`] with the status the spec names.

use std::sync::Arc;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;
use mcp_core::transport::human_bytes;
use mcp_core::{Message, Principal, ProtocolVersion};

use super::session::{Session, SessionKind};
use super::{Shared, transport_name};
use crate::http_error::HttpError;

/// The session header (header names are case-insensitive).
pub const SESSION_ID: &str = "mcp-session-id";
/// The protocol version header.
pub const PROTOCOL_VERSION: &str = "mcp-protocol-version";

/// 406 unless `Accept` lists every one of `wanted` (wildcards count).
pub(crate) fn check_accept(headers: &HeaderMap, wanted: &[&str]) -> Result<(), HttpError> {
    // Media ranges are compared in place, ignoring case and parameters (no copies per request).
    let ranges = || {
        headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|item| item.split(';').next().unwrap_or("").trim())
    };
    let accepts = |media: &str| {
        let major = media.split('/').next().unwrap_or("");
        ranges().any(|range| {
            range.eq_ignore_ascii_case(media)
                || range == "*/*"
                || range.strip_suffix("/*").is_some_and(|m| m.eq_ignore_ascii_case(major))
        })
    };
    if wanted.iter().all(|w| accepts(w)) {
        Ok(())
    } else {
        Err(HttpError::invalid(
            StatusCode::NOT_ACCEPTABLE,
            format!("Not Acceptable: the Accept header must list {}", wanted.join(" and ")),
        ))
    }
}

/// 415 unless the body is declared `application/json`.
pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), HttpError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if media.is_some_and(|m| m.eq_ignore_ascii_case("application/json")) {
        Ok(())
    } else {
        Err(HttpError::invalid(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: the body must be sent with Content-Type: application/json",
        ))
    }
}

/// The `MCP-Protocol-Version` header: `None` when absent, 400 when it names no known revision.
pub(crate) fn protocol_version(headers: &HeaderMap) -> Result<Option<ProtocolVersion>, HttpError> {
    let Some(value) = headers.get(PROTOCOL_VERSION) else { return Ok(None) };
    let text = value.to_str().unwrap_or("");
    text.parse().map(Some).map_err(|_| {
        let supported: Vec<&str> = ProtocolVersion::ALL.iter().map(|v| v.as_str()).collect();
        HttpError::invalid(
            StatusCode::BAD_REQUEST,
            format!("Bad Request: unsupported MCP-Protocol-Version {text:?} (supported: {})", supported.join(", ")),
        )
    })
}

/// The `Mcp-Session-Id` header, if present.
pub(crate) fn session_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(SESSION_ID).and_then(|v| v.to_str().ok())
}

/// The id of the authenticated caller (set by the auth layer), if any.
pub(crate) fn principal_id(extensions: &http::Extensions) -> Option<String> {
    extensions.get::<Principal>().map(|p| p.id.clone())
}

/// Finds a live session of `kind` that `principal` may use. A session of another principal is
/// reported exactly like a missing one (404), so ids cannot be probed.
///
/// A session this instance does not hold is looked up in the [`SessionStore`]: when another
/// instance holds it (a load balancer without sticky sessions sent the request here), the
/// answer is 421 Misdirected Request, which a client or proxy can retry elsewhere, rather than
/// the 404 that would make the client start over.
///
/// [`SessionStore`]: crate::session_store::SessionStore
pub(crate) async fn find_session(
    shared: &Shared,
    id: &str,
    kind: SessionKind,
    principal: Option<&str>,
) -> Result<Arc<Session>, HttpError> {
    let usable = |s: &Arc<Session>| s.kind == kind && s.principal.as_deref() == principal;
    if let Some(session) = shared.registry.get(id) {
        return if usable(&session) && !session.closed.is_cancelled() { Ok(session) } else { Err(not_found()) };
    }
    match shared.config.session_store.get(id).await {
        Ok(Some(record))
            if *record.instance != *shared.config.instance_id
                && record.principal.as_deref() == principal
                && record.transport == transport_name(kind) =>
        {
            tracing::debug!(instance = %record.instance, "a request for a session another instance holds");
            Err(HttpError::invalid(
                StatusCode::MISDIRECTED_REQUEST,
                "Misdirected Request: another server instance holds this session; send its requests there",
            ))
        }
        Ok(_) => Err(not_found()),
        Err(err) => {
            tracing::warn!(error = %err, "session store lookup failed");
            Err(HttpError::invalid(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable: session store failed"))
        }
    }
}

fn not_found() -> HttpError {
    HttpError::invalid(
        StatusCode::NOT_FOUND,
        "Not Found: session not found (expired, deleted or never existed); start a new session with initialize",
    )
}

/// The session a request names: 400 without the header, 404 when unknown.
pub(crate) async fn required_session(
    shared: &Shared,
    headers: &HeaderMap,
    extensions: &http::Extensions,
) -> Result<Arc<Session>, HttpError> {
    let id = session_header(headers).ok_or_else(|| {
        HttpError::invalid(StatusCode::BAD_REQUEST, "Bad Request: missing Mcp-Session-Id header; initialize first")
    })?;
    find_session(shared, id, SessionKind::Streamable, principal_id(extensions).as_deref()).await
}

/// Reads the body up to `max` bytes. A larger body is read to the end and discarded (up to a
/// hard cap, so a client gets a clean 413 rather than a reset connection) and gets 413.
pub(crate) async fn read_body(body: Body, max: usize, headers: &HeaderMap) -> Result<Bytes, HttpError> {
    let too_large = |size: Option<u64>| {
        let size = size.map_or_else(|| "more than the limit".to_owned(), human_bytes);
        HttpError::invalid(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Payload Too Large: body of {size} exceeds the {} limit (set HttpServerConfig::max_body_bytes)",
                human_bytes(max as u64)
            ),
        )
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let drain_cap = (max as u64).saturating_mul(8).max(64 << 20);
    if declared.is_some_and(|len: u64| len > drain_cap) {
        return Err(too_large(declared));
    }
    let mut body = body;
    let mut buf = BytesMut::new();
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            HttpError::invalid(StatusCode::BAD_REQUEST, format!("Bad Request: failed to read the body: {e}"))
        })?;
        let Ok(data) = frame.into_data() else { continue };
        total += data.len() as u64;
        if total > drain_cap {
            return Err(too_large(Some(total)));
        }
        if total <= max as u64 {
            buf.extend_from_slice(&data);
        }
    }
    if total > max as u64 {
        return Err(too_large(Some(total)));
    }
    Ok(buf.freeze())
}

/// Decodes a POST body: 400 with the JSON-RPC error (-32700 for bad JSON, -32600 for a bad
/// message, with its id when readable).
pub(crate) fn decode(bytes: &[u8]) -> Result<Message, HttpError> {
    Message::from_slice(bytes).map_err(|err| match err.to_error_response() {
        Message::Error(reply) => HttpError { status: StatusCode::BAD_REQUEST, error: reply.error, id: reply.id },
        _ => HttpError::invalid(StatusCode::BAD_REQUEST, err.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(name: header::HeaderName, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(name.clone(), HeaderValue::from_str(v).unwrap());
        }
        map
    }

    const BOTH: &[&str] = &["application/json", "text/event-stream"];

    #[test]
    fn accept_lists_every_wanted_type_in_any_case_form_or_wildcard() {
        let ok = |values: &[&str]| check_accept(&headers(header::ACCEPT, values), BOTH).is_ok();
        assert!(ok(&["application/json, text/event-stream"]));
        assert!(ok(&["Application/JSON;q=0.9 ,  TEXT/Event-Stream; charset=utf-8"]));
        assert!(ok(&["application/json", "text/event-stream"]), "two header lines");
        assert!(ok(&["*/*"]));
        assert!(ok(&["application/*, text/*"]));
        assert!(ok(&["APPLICATION/*, text/event-stream"]));
        assert!(!ok(&["application/json"]));
        assert!(!ok(&["text/*"]));
        assert!(!ok(&["application/jsonx, text/event-stream"]));
        assert!(!ok(&[]));
        let err = check_accept(&headers(header::ACCEPT, &["text/html"]), BOTH).unwrap_err();
        assert_eq!(err.status, StatusCode::NOT_ACCEPTABLE);
    }

    #[test]
    fn content_type_must_be_json_in_any_case_with_any_parameters() {
        let ok = |values: &[&str]| check_content_type(&headers(header::CONTENT_TYPE, values)).is_ok();
        assert!(ok(&["application/json"]));
        assert!(ok(&[" Application/JSON ; charset=utf-8"]));
        assert!(!ok(&["text/plain"]));
        assert!(!ok(&["application/json-seq"]));
        assert!(!ok(&[]));
        let err = check_content_type(&HeaderMap::new()).unwrap_err();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
