//! The requests this side sent and not yet got an answer to, so that an interrupted NATS
//! connection (core NATS is at-most-once) turns each of them into a clear error instead of a
//! wait that never ends.

use std::collections::HashSet;

use mcp_core::RequestId;
use mcp_core::jsonrpc::{ErrorObject, Message};

/// Request ids in flight, bounded by `max`.
#[derive(Debug)]
pub(crate) struct InFlight {
    ids: HashSet<RequestId>,
    /// Ids already answered with an interruption error, so a late real answer is dropped
    /// rather than delivered twice. Bounded like `ids`.
    abandoned: HashSet<RequestId>,
    max: usize,
    warned: bool,
}

impl InFlight {
    pub(crate) fn new(max: usize) -> Self {
        Self { ids: HashSet::new(), abandoned: HashSet::new(), max, warned: false }
    }

    /// Records the requests of an outgoing message.
    pub(crate) fn sent(&mut self, ids: RequestIds) {
        for id in ids.into_iter() {
            if self.ids.len() >= self.max {
                if !self.warned {
                    self.warned = true;
                    tracing::warn!(
                        max = self.max,
                        "more requests in flight than tracked; untracked ones rely on the session's timeout (set max_tracked_requests)"
                    );
                }
                return;
            }
            self.ids.insert(id);
        }
    }

    /// Notes the answers in an incoming message; `false` when `msg` is only the late answer
    /// to a request already failed by an interruption, and must be dropped.
    pub(crate) fn received(&mut self, msg: &Message) -> bool {
        match msg {
            Message::Response(r) => self.answered(&r.id),
            Message::Error(e) => e.id.as_ref().is_none_or(|id| self.answered(id)),
            Message::Batch(items) => {
                // A batch is delivered whole; only its answers are noted.
                for item in items {
                    self.received(item);
                }
                true
            }
            Message::Request(_) | Message::Notification(_) => true,
        }
    }

    fn answered(&mut self, id: &RequestId) -> bool {
        if self.ids.remove(id) {
            return true;
        }
        !self.abandoned.remove(id)
    }

    /// Fails every request in flight: the error responses to deliver locally.
    pub(crate) fn abandon_all(&mut self, why: &str) -> Vec<Message> {
        if self.abandoned.len() + self.ids.len() > self.max {
            self.abandoned.clear();
        }
        let mut out = Vec::with_capacity(self.ids.len());
        for id in self.ids.drain() {
            let error = ErrorObject::internal_error(format_args!(
                "{why} while request {id} was in flight; core NATS delivers at most once, so the request or its \
                 answer may be lost: retry it if that is safe"
            ))
            .with_data(&serde_json::json!({ "reason": "nats_connection_interrupted" }));
            out.push(Message::error(Some(id.clone()), error));
            self.abandoned.insert(id);
        }
        out
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

/// The request ids of one outgoing message (no allocation for the common single message).
#[derive(Debug, Default)]
pub(crate) enum RequestIds {
    /// A notification or a response.
    #[default]
    None,
    /// One request.
    One(RequestId),
    /// The requests of a batch.
    Many(Vec<RequestId>),
}

impl RequestIds {
    pub(crate) fn of(msg: &Message) -> Self {
        match msg {
            Message::Request(r) => Self::One(r.id.clone()),
            Message::Batch(items) => Self::Many(
                items
                    .iter()
                    .filter_map(|m| match m {
                        Message::Request(r) => Some(r.id.clone()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => Self::None,
        }
    }

    pub(crate) fn into_vec(self) -> Vec<RequestId> {
        self.into_iter().collect()
    }

    fn into_iter(self) -> impl Iterator<Item = RequestId> {
        let (one, many) = match self {
            Self::None => (None, Vec::new()),
            Self::One(id) => (Some(id), Vec::new()),
            Self::Many(ids) => (None, ids),
        };
        one.into_iter().chain(many)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn interruption_fails_requests_once_and_drops_late_answers() {
        let mut f = InFlight::new(10);
        let req = Message::request(1, "tools/call", &json!({})).unwrap();
        f.sent(RequestIds::of(&req));
        f.sent(RequestIds::of(&Message::request(2, "x", &json!({})).unwrap()));
        assert!(f.received(&Message::response(2.into(), &json!({})).unwrap()));
        let errors = f.abandon_all("the NATS connection was interrupted");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].id(), Some(&RequestId::Number(1)));
        assert!(errors[0].to_string().contains("interrupted while request 1 was in flight"), "{}", errors[0]);
        assert!(!f.received(&Message::response(1.into(), &json!({})).unwrap()), "late answer dropped");
        assert!(f.received(&Message::response(1.into(), &json!({})).unwrap()), "only once");
        assert!(f.abandon_all("again").is_empty());
    }

    #[test]
    fn tracking_is_bounded() {
        let mut f = InFlight::new(2);
        for i in 0..5 {
            f.sent(RequestIds::of(&Message::request(i, "x", &json!({})).unwrap()));
        }
        assert_eq!(f.len(), 2);
    }
}
