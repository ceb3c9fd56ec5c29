//! Where SSE events are kept so a client that lost a stream can resume it.
//!
//! Every event the Streamable HTTP server sends on a stream gets an id `"<stream>_<seq>"`.
//! A client that reconnects with `GET` + `Last-Event-ID: <stream>_<seq>` is sent the events of
//! *that stream only* with a higher `seq`, then the stream continues live. The server assigns
//! ids; an [`EventStore`] only keeps payloads, so an implementation backed by Redis or a
//! database is a few lines.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use futures::future::BoxFuture;

/// Errors of an [`EventStore`] backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventStoreError {
    /// The backend failed (a lost connection to a remote store, say).
    #[error("event store backend failed: {0}")]
    Backend(String),
}

/// Keeps the events of each session's streams for resumption. Object safe: used as
/// `Arc<dyn EventStore>`.
pub trait EventStore: Send + Sync + 'static {
    /// Records event number `seq` (ascending per stream, starting at 1) of `stream` in `session`.
    ///
    /// # Errors
    /// A backend failure; the server logs it and still delivers the event live.
    fn append<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        seq: u64,
        data: Bytes,
    ) -> BoxFuture<'a, Result<(), EventStoreError>>;

    /// The retained events of `stream` in `session` with a sequence number above `after`,
    /// in ascending order.
    ///
    /// # Errors
    /// A backend failure; the server answers the resuming `GET` with 500.
    fn replay<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        after: u64,
    ) -> BoxFuture<'a, Result<Vec<(u64, Bytes)>, EventStoreError>>;

    /// Forgets everything about `session` (it was deleted or reaped).
    fn remove_session<'a>(&'a self, session: &'a str) -> BoxFuture<'a, ()>;
}

/// An in-memory [`EventStore`] that keeps, per session, at most a number of events and bytes,
/// dropping the oldest first.
#[derive(Debug)]
pub struct MemoryEventStore {
    max_events: usize,
    max_bytes: usize,
    sessions: Mutex<HashMap<String, Retained>>,
}

#[derive(Debug, Default)]
struct Retained {
    events: VecDeque<(u64, u64, Bytes)>,
    bytes: usize,
}

impl Default for MemoryEventStore {
    /// 1,000 events and 8 MiB per session.
    fn default() -> Self {
        Self::new(1_000, 8 << 20)
    }
}

impl MemoryEventStore {
    /// A store that keeps at most `max_events` events and `max_bytes` bytes of payload per session.
    pub fn new(max_events: usize, max_bytes: usize) -> Self {
        Self { max_events: max_events.max(1), max_bytes, sessions: Mutex::new(HashMap::new()) }
    }

    /// How many sessions have retained events.
    pub fn session_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Retained>> {
        // A panic while holding this lock cannot leave the map inconsistent: keep going.
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl EventStore for MemoryEventStore {
    fn append<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        seq: u64,
        data: Bytes,
    ) -> BoxFuture<'a, Result<(), EventStoreError>> {
        let mut sessions = self.lock();
        let retained = sessions.entry(session.to_owned()).or_default();
        retained.bytes += data.len();
        retained.events.push_back((stream, seq, data));
        while retained.events.len() > self.max_events || (retained.bytes > self.max_bytes && retained.events.len() > 1)
        {
            if let Some((_, _, old)) = retained.events.pop_front() {
                retained.bytes -= old.len();
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn replay<'a>(
        &'a self,
        session: &'a str,
        stream: u64,
        after: u64,
    ) -> BoxFuture<'a, Result<Vec<(u64, Bytes)>, EventStoreError>> {
        let events = self
            .lock()
            .get(session)
            .map(|r| r.events.iter().filter(|e| e.0 == stream && e.1 > after).map(|e| (e.1, e.2.clone())).collect())
            .unwrap_or_default();
        Box::pin(std::future::ready(Ok(events)))
    }

    fn remove_session<'a>(&'a self, session: &'a str) -> BoxFuture<'a, ()> {
        self.lock().remove(session);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn replays_one_stream_after_the_cursor() {
        let store = MemoryEventStore::default();
        block_on(async {
            for (stream, seq) in [(1, 1), (2, 1), (1, 2), (1, 3)] {
                store.append("s", stream, seq, Bytes::from(format!("{stream}/{seq}"))).await.unwrap();
            }
            let got = store.replay("s", 1, 1).await.unwrap();
            assert_eq!(got, vec![(2, Bytes::from("1/2")), (3, Bytes::from("1/3"))]);
            assert!(store.replay("other", 1, 0).await.unwrap().is_empty());
            store.remove_session("s").await;
            assert_eq!(store.session_count(), 0);
        });
    }

    #[test]
    fn bounded_per_session() {
        let store = MemoryEventStore::new(3, 1 << 20);
        block_on(async {
            for seq in 1..=10 {
                store.append("s", 0, seq, Bytes::from_static(b"x")).await.unwrap();
            }
            let seqs: Vec<u64> = store.replay("s", 0, 0).await.unwrap().into_iter().map(|e| e.0).collect();
            assert_eq!(seqs, vec![8, 9, 10]);
        });
        let by_bytes = MemoryEventStore::new(100, 10);
        block_on(async {
            for seq in 1..=5 {
                by_bytes.append("s", 0, seq, Bytes::from_static(b"abcd")).await.unwrap();
            }
            assert_eq!(by_bytes.replay("s", 0, 0).await.unwrap().len(), 2);
        });
    }
}
