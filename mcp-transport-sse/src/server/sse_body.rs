//! SSE response bodies: queued events first, then live events, with keep-alive comments.

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, header};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::session::Outgoing;
use crate::sse::{KEEP_ALIVE, encode_event};

struct BodyState<G> {
    prelude: VecDeque<Bytes>,
    live: Option<mpsc::Receiver<Outgoing>>,
    keep_alive: Option<Duration>,
    next_keep_alive: Instant,
    closed: CancellationToken,
    /// Dropped with the body: this is how a closed connection releases the session.
    _guard: G,
}

/// Encodes a message event (`event:` omitted, so clients see the default type `message`).
pub(crate) fn message_event(event: &Outgoing) -> Bytes {
    encode_event(event.id.as_deref(), None, None, &event.data)
}

/// A `text/event-stream` response: `prelude` (already encoded), then each event from `live`
/// until it ends or `closed` fires. `guard` lives exactly as long as the connection.
pub(crate) fn sse_response<G: Send + 'static>(
    prelude: Vec<Bytes>,
    live: Option<mpsc::Receiver<Outgoing>>,
    keep_alive: Option<Duration>,
    closed: CancellationToken,
    guard: G,
) -> Response {
    let state = BodyState {
        prelude: prelude.into(),
        live,
        keep_alive,
        next_keep_alive: Instant::now() + keep_alive.unwrap_or(Duration::ZERO),
        closed,
        _guard: guard,
    };
    let stream = futures::stream::unfold(state, |mut st| async move {
        if let Some(bytes) = st.prelude.pop_front() {
            return Some((Ok::<_, std::convert::Infallible>(bytes), st));
        }
        let live = st.live.as_mut()?;
        let bytes = tokio::select! {
            biased;
            event = live.recv() => {
                let event = event?;
                if event.last {
                    st.live = None;
                }
                message_event(&event)
            }
            () = st.closed.cancelled() => return None,
            () = tokio::time::sleep_until(st.next_keep_alive), if st.keep_alive.is_some() => {
                st.next_keep_alive = Instant::now() + st.keep_alive.unwrap_or(Duration::ZERO);
                Bytes::from_static(KEEP_ALIVE)
            }
        };
        Some((Ok(bytes), st))
    });
    sse_with_body(Body::from_stream(stream))
}

/// A finished SSE stream as one body (with a length, so the connection is reusable at once).
pub(crate) fn sse_complete(events: Vec<Bytes>) -> Response {
    let body = if events.len() == 1 { events.into_iter().next().unwrap_or_default() } else { events.concat().into() };
    sse_with_body(Body::from(body))
}

/// A `text/event-stream` response with the headers every SSE stream carries.
fn sse_with_body(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
