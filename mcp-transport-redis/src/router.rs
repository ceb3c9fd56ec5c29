//! Dispatch of everything the subscriber connection receives: channel name → the queue of the
//! session (or acceptor) that reads it. In durable mode a session's messages arrive as
//! doorbells carrying their stream entry number; this is where they are put in order, each
//! exactly once, and where a gap sends the session to the stream reader (see `streams`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use redis::{PushInfo, PushKind, Value};
use tokio::sync::{Notify, mpsc};

use crate::bus::lock;
use crate::frame::{Control, DoorbellRecords};
use crate::session::SessionState;

/// The largest session announcement considered; larger ones are dropped unread.
const MAX_ANNOUNCEMENT: usize = 64 * 1024;

/// Channel name → reader.
pub(crate) struct Router {
    routes: Mutex<HashMap<Bytes, Route>>,
    max_message_bytes: usize,
    /// Durable mode: wakes the stream reader when a session must be read from its stream.
    recovery: Notify,
}

pub(crate) struct Route {
    pub(crate) tx: mpsc::Sender<Bytes>,
    /// `None` for an acceptor's connect channel, whose overflow drops announcements only.
    pub(crate) state: Option<Arc<SessionState>>,
    /// Durable mode: how far the session's inbound stream has been delivered.
    pub(crate) log: Option<Log>,
}

/// A durable session's position in its inbound stream, whose entries are `0-1`, `0-2`, ...
#[derive(Debug, Default)]
pub(crate) struct Log {
    /// The number of the last entry handed to the session: every entry up to it, and no other.
    pub(crate) delivered: u64,
    /// The stream must be read after `delivered`: a doorbell was missed (a gap, a doorbell too
    /// large to carry its message, a (re)subscription, an outage).
    pub(crate) recover: bool,
    /// Heartbeat bookkeeping: `delivered` at the last heartbeat that found undelivered entries
    /// in the stream. Still the same at the next one means a doorbell went missing unnoticed.
    pub(crate) behind_at: Option<u64>,
    /// `delivered` as last recorded in the consumer group (`XGROUP SETID`).
    pub(crate) recorded: u64,
}

/// What handing a payload to a queue did.
enum Handed {
    Queued,
    Full,
    Closed,
}

/// A durable session the heartbeat maintains: its stream, what was delivered, and whether the
/// consumer group's record of it is behind.
pub(crate) struct Maintenance {
    pub(crate) key: Bytes,
    pub(crate) delivered: u64,
    pub(crate) record: bool,
}

impl Router {
    pub(crate) fn new(max_message_bytes: usize) -> Self {
        Self { routes: Mutex::new(HashMap::new()), max_message_bytes, recovery: Notify::new() }
    }

    pub(crate) fn insert(&self, channel: Bytes, route: Route) {
        lock(&self.routes).insert(channel, route);
    }

    pub(crate) fn remove(&self, channel: &[u8]) {
        lock(&self.routes).remove(channel);
    }

    /// Runs on the subscriber connection's push path: never blocks.
    pub(crate) fn on_push(&self, push: PushInfo, url: &str) {
        match push.kind {
            PushKind::Message => {
                let mut data = push.data.into_iter();
                let (Some(Value::BulkString(channel)), Some(Value::BulkString(payload))) = (data.next(), data.next())
                else {
                    return;
                };
                self.dispatch(&channel, Bytes::from(payload));
            }
            // A (re)established subscription: whatever was published to the channel before it
            // may have been missed, and a durable session finds it in its stream.
            PushKind::Subscribe => {
                if let Some(Value::BulkString(channel)) = push.data.first() {
                    let mut routes = lock(&self.routes);
                    if let Some(log) = routes.get_mut(&channel[..]).and_then(|r| r.log.as_mut()) {
                        tracing::debug!(channel = %String::from_utf8_lossy(channel), "subscribed; reading the stream");
                        self.flag(log);
                    }
                }
            }
            PushKind::Disconnection => self.disconnected(url),
            _ => {}
        }
    }

    /// The subscription connection dropped: pub/sub sessions end (their messages meanwhile
    /// are lost); durable sessions read their streams once it is back.
    fn disconnected(&self, url: &str) {
        let reason = format!(
            "lost the subscription connection to Redis at {url}; messages published meanwhile may be lost \
             (pub/sub mode is at-most-once), so the session ended; open a new session (Mode::Durable \
             sessions survive this)"
        );
        let mut routes = lock(&self.routes);
        routes.retain(|_, route| match (&route.state, &mut route.log) {
            (_, Some(log)) => {
                log.recover = true;
                true
            }
            (Some(state), None) => {
                if state.set_failure(reason.clone()) {
                    tracing::warn!(session = %state.id, "Redis subscription lost; session ended");
                }
                false
            }
            (None, None) => true,
        });
        self.recovery.notify_one();
    }

    fn flag(&self, log: &mut Log) {
        if !log.recover {
            log.recover = true;
            self.recovery.notify_one();
        }
    }

    fn dispatch(&self, channel: &[u8], payload: Bytes) {
        let mut routes = lock(&self.routes);
        let Some(route) = routes.get_mut(channel) else { return };
        let handed = match &mut route.log {
            None => hand(&route.tx, route.state.as_deref(), payload, self.max_message_bytes),
            Some(log) => {
                let mut records = DoorbellRecords::new(payload);
                let mut handed = Handed::Queued;
                for (seq, payload) in records.by_ref() {
                    match payload {
                        // A duplicate (a retried write, or an entry already read from the stream).
                        _ if seq <= log.delivered => {}
                        Some(payload) if seq == log.delivered + 1 => {
                            handed = hand(&route.tx, route.state.as_deref(), payload, self.max_message_bytes);
                            if !matches!(handed, Handed::Queued) {
                                break;
                            }
                            log.delivered = seq;
                        }
                        // A gap, or a message too large for its doorbell: the stream has it.
                        _ => {
                            self.flag(log);
                            break;
                        }
                    }
                }
                if records.malformed() {
                    tracing::debug!(channel = %String::from_utf8_lossy(channel), "ignoring a malformed doorbell");
                }
                handed
            }
        };
        match handed {
            Handed::Queued => {}
            Handed::Full => match &route.state {
                Some(state) => {
                    if state.set_failure(overflow(state, &route.tx)) {
                        tracing::warn!(session = %state.id, "session queue overflow; session ended");
                    }
                    routes.remove(channel);
                }
                None => tracing::warn!(
                    channel = %String::from_utf8_lossy(channel),
                    "acceptor queue full; session announcement dropped (another instance may take it)"
                ),
            },
            Handed::Closed => {
                routes.remove(channel);
            }
        }
    }

    /// Waits until some durable session must be read from its stream.
    pub(crate) async fn recovery_wanted(&self) {
        self.recovery.notified().await;
    }

    /// Up to `max` durable sessions to read from their streams, as `(stream, last delivered)`;
    /// their flags are cleared (a doorbell missed meanwhile sets them again).
    pub(crate) fn take_recovery(&self, max: usize) -> Vec<(Bytes, u64)> {
        let mut routes = lock(&self.routes);
        let mut wanted = Vec::new();
        for (key, route) in routes.iter_mut() {
            if wanted.len() == max {
                break;
            }
            if let Some(log) = route.log.as_mut().filter(|log| log.recover) {
                log.recover = false;
                wanted.push((key.clone(), log.delivered));
            }
        }
        wanted
    }

    /// Flags the durable sessions reading `keys` (their stream read failed), or every durable
    /// session; does not wake the reader, which retries on its own schedule.
    pub(crate) fn reflag<'a>(&self, keys: Option<impl Iterator<Item = &'a Bytes>>) {
        let mut routes = lock(&self.routes);
        match keys {
            Some(keys) => {
                for key in keys {
                    if let Some(log) = routes.get_mut(key).and_then(|r| r.log.as_mut()) {
                        log.recover = true;
                    }
                }
            }
            None => {
                for log in routes.values_mut().filter_map(|r| r.log.as_mut()) {
                    log.recover = true;
                }
            }
        }
    }

    /// Flags every durable session and wakes the reader: Redis may have been unreachable, and
    /// doorbells lost with it.
    pub(crate) fn recover_all(&self) {
        self.reflag(None::<std::iter::Empty<&Bytes>>);
        self.recovery.notify_one();
    }

    /// The session reading `key`, if any.
    pub(crate) fn session(&self, key: &[u8]) -> Option<Arc<SessionState>> {
        lock(&self.routes).get(key).and_then(|r| r.state.clone())
    }

    /// Entries read from the stream `key` after its last delivered entry (`None`: the stream
    /// does not exist); `full`: the read hit its count, so more may follow. Returns the session
    /// and the reason when the session must end.
    pub(crate) fn recovered(
        &self,
        key: &[u8],
        entries: Option<Vec<(u64, Option<Bytes>)>>,
        full: bool,
    ) -> Option<(Arc<SessionState>, String)> {
        let mut routes = lock(&self.routes);
        let route = routes.get_mut(key)?;
        let state = route.state.clone()?;
        let log = route.log.as_mut()?;
        let name = || String::from_utf8_lossy(key).into_owned();
        let Some(entries) = entries else {
            let reason = format!(
                "the stream `{}` of session {} is gone from Redis (restarted without persistence, or expired), and \
                 with it any message in it; open a new session",
                name(),
                state.id
            );
            return Some((state, reason));
        };
        for (seq, payload) in entries {
            if seq <= log.delivered {
                continue;
            }
            let payload = match payload {
                Some(payload) if seq == log.delivered + 1 => payload,
                _ => {
                    let reason = format!(
                        "session {}: message {} of stream `{}` is missing (trimmed before it was read: the reader fell \
                         RedisConfig::stream_max_len entries behind, or Redis lost it); the session ended",
                        state.id,
                        log.delivered + 1,
                        name()
                    );
                    return Some((state, reason));
                }
            };
            match hand(&route.tx, Some(&state), payload, self.max_message_bytes) {
                Handed::Queued => log.delivered = seq,
                Handed::Full => return Some((state.clone(), overflow(&state, &route.tx))),
                Handed::Closed => return None,
            }
        }
        if full {
            self.flag(log);
        }
        None
    }

    /// Durable heartbeat, before: every durable session's stream and position; a session whose
    /// stream held undelivered entries at the last heartbeat and that delivered nothing since
    /// missed a doorbell unnoticed, and is read from its stream.
    pub(crate) fn maintenance(&self) -> Vec<Maintenance> {
        let mut routes = lock(&self.routes);
        let mut due = Vec::with_capacity(routes.len());
        for (key, route) in routes.iter_mut() {
            let Some(log) = route.log.as_mut() else { continue };
            if log.behind_at == Some(log.delivered) && !log.recover {
                tracing::debug!(stream = %String::from_utf8_lossy(key), "undelivered entries without a doorbell");
                self.flag(log);
            }
            due.push(Maintenance { key: key.clone(), delivered: log.delivered, record: log.delivered > log.recorded });
        }
        due
    }

    /// Durable heartbeat, after: `undelivered` is the stream's length once trimmed to the
    /// entries after `done.delivered`; `recorded` whether the consumer group took the position.
    pub(crate) fn maintained(&self, done: &Maintenance, undelivered: Option<i64>, recorded: bool) {
        let mut routes = lock(&self.routes);
        let Some(log) = routes.get_mut(&done.key).and_then(|r| r.log.as_mut()) else { return };
        if recorded {
            log.recorded = log.recorded.max(done.delivered);
        }
        if let Some(undelivered) = undelivered {
            log.behind_at = (undelivered > 0).then_some(done.delivered);
        }
    }
}

/// Hands `payload` to a reader's queue; a credit frame goes to the session's flow control.
fn hand(tx: &mpsc::Sender<Bytes>, state: Option<&SessionState>, payload: Bytes, max_message_bytes: usize) -> Handed {
    if let (Some(read), Some(state)) = (Control::credit(&payload), state) {
        state.grant(read);
        return Handed::Queued;
    }
    let payload = match state {
        Some(_) => Control::bounded(payload, max_message_bytes),
        // An announcement has no business being large; a big one is junk.
        None if payload.len() > MAX_ANNOUNCEMENT => return Handed::Queued,
        None => payload,
    };
    match tx.try_send(payload) {
        Ok(()) => Handed::Queued,
        Err(mpsc::error::TrySendError::Full(_)) => Handed::Full,
        Err(mpsc::error::TrySendError::Closed(_)) => Handed::Closed,
    }
}

fn overflow(state: &SessionState, tx: &mpsc::Sender<Bytes>) -> String {
    format!(
        "session {} has {} messages waiting unread: its peer ignores flow control (RedisConfig::session_queue), so \
         the session ended",
        state.id,
        tx.max_capacity()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Side;

    fn durable_route(router: &Router, key: &'static str) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(16);
        let state = SessionState::new("s".into(), Side::Client, Bytes::from(key), Bytes::from("out"), true);
        router.insert(Bytes::from(key), Route { tx, state: Some(state), log: Some(Log::default()) });
        rx
    }

    /// Dispatches a doorbell with one record per `"seq payload"` (`"seq"` alone: no payload).
    fn doorbell(router: &Router, key: &str, records: &[&str]) {
        let mut wire = Vec::new();
        for record in records {
            let (seq, payload) = match record.split_once(' ') {
                Some((seq, payload)) => (seq, Some(payload.as_bytes())),
                None => (*record, None),
            };
            crate::frame::write_doorbell_record(seq.parse().unwrap(), payload, &mut wire);
        }
        router.dispatch(key.as_bytes(), Bytes::from(wire));
    }

    fn drain(rx: &mut mpsc::Receiver<Bytes>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok()).map(|b| String::from_utf8_lossy(&b).into_owned()).collect()
    }

    fn entry(seq: u64, payload: &'static str) -> (u64, Option<Bytes>) {
        (seq, Some(Bytes::from(payload)))
    }

    #[test]
    fn doorbells_deliver_in_order_once_and_gaps_are_filled_from_the_stream() {
        let router = Router::new(1 << 20);
        let mut rx = durable_route(&router, "k");
        doorbell(&router, "k", &["1 a"]);
        doorbell(&router, "k", &["2 b"]);
        doorbell(&router, "k", &["2 b"]); // a retried write
        doorbell(&router, "k", &["1 a"]);
        assert_eq!(drain(&mut rx), ["a", "b"]);
        assert!(router.take_recovery(10).is_empty());

        // 3 and 4 were missed: 5 is held back and the stream is read after 2.
        doorbell(&router, "k", &["5 e"]);
        doorbell(&router, "k", &["6 f"]);
        assert!(drain(&mut rx).is_empty());
        assert_eq!(router.take_recovery(10), [(Bytes::from("k"), 2)]);
        assert!(router.take_recovery(10).is_empty(), "the flag is cleared once taken");
        assert!(router.recovered(b"k", Some(vec![entry(3, "c"), entry(4, "d"), entry(5, "e")]), false).is_none());
        assert_eq!(drain(&mut rx), ["c", "d", "e"]);
        // A doorbell the read already covered is a duplicate; 6 arrives again and is delivered.
        doorbell(&router, "k", &["5 e"]);
        doorbell(&router, "k", &["6 f"]);
        assert_eq!(drain(&mut rx), ["f"]);
        // A read that overlaps what the doorbells delivered meanwhile delivers only the rest.
        assert!(router.recovered(b"k", Some(vec![entry(5, "e"), entry(6, "f"), entry(7, "g")]), true).is_none());
        assert_eq!(drain(&mut rx), ["g"]);
        assert_eq!(router.take_recovery(10), [(Bytes::from("k"), 7)], "a full read asks for another");
        // A doorbell too large to carry its message sends the reader to the stream.
        doorbell(&router, "k", &["8"]);
        assert_eq!(router.take_recovery(10), [(Bytes::from("k"), 7)]);
        // Several records in one doorbell; repeats among them are dropped.
        doorbell(&router, "k", &["7 g", "8 h", "9 i"]);
        assert_eq!(drain(&mut rx), ["h", "i"]);
        // A gap in the middle: what comes before it is delivered, the rest read from the stream.
        doorbell(&router, "k", &["10 j", "12 l", "13 m"]);
        assert_eq!(drain(&mut rx), ["j"]);
        assert_eq!(router.take_recovery(10), [(Bytes::from("k"), 10)]);
        // Junk is ignored.
        router.dispatch(b"k", Bytes::from_static(b"x y"));
        router.dispatch(b"k", Bytes::from_static(b"11 z"));
        assert!(drain(&mut rx).is_empty());
        assert!(router.take_recovery(10).is_empty());
    }

    #[test]
    fn a_resubscription_or_a_lost_connection_sends_every_durable_session_to_its_stream() {
        let router = Router::new(1 << 20);
        let _rx = durable_route(&router, "k");
        let _other = durable_route(&router, "j");
        let subscribed =
            PushInfo { kind: PushKind::Subscribe, data: vec![Value::BulkString(b"k".to_vec()), Value::Int(1)] };
        router.on_push(subscribed, "redis://x");
        assert_eq!(router.take_recovery(10), [(Bytes::from("k"), 0)]);
        router.on_push(PushInfo { kind: PushKind::Disconnection, data: Vec::new() }, "redis://x");
        let mut all = router.take_recovery(10);
        all.sort();
        assert_eq!(all, [(Bytes::from("j"), 0), (Bytes::from("k"), 0)]);
        assert!(router.session(b"k").unwrap().failure().is_none(), "durable sessions survive");
    }

    #[test]
    fn a_missing_entry_or_stream_ends_the_session_with_the_reason() {
        let router = Router::new(1 << 20);
        let mut rx = durable_route(&router, "k");
        let (_, reason) = router.recovered(b"k", Some(vec![entry(1, "a"), entry(3, "c")]), false).unwrap();
        assert!(reason.contains("message 2 of stream `k` is missing"), "{reason}");
        assert_eq!(drain(&mut rx), ["a"]);
        let (_, reason) = router.recovered(b"k", None, false).unwrap();
        assert!(reason.contains("is gone from Redis"), "{reason}");
    }

    #[test]
    fn the_heartbeat_notices_entries_left_undelivered() {
        let router = Router::new(1 << 20);
        let _rx = durable_route(&router, "k");
        let due = router.maintenance();
        assert_eq!(due.len(), 1);
        router.maintained(&due[0], Some(1), false);
        assert!(router.take_recovery(10).is_empty(), "an entry in flight is not yet missing");
        let due = router.maintenance();
        assert_eq!(router.take_recovery(10), [(Bytes::from("k"), 0)], "still undelivered a heartbeat later");
        router.maintained(&due[0], Some(0), false);
        router.maintenance();
        assert!(router.take_recovery(10).is_empty());
    }
}
