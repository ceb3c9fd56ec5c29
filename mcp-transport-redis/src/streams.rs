//! Durable mode: per-session Redis Streams read through a consumer group by one reader task
//! per process (`XREADGROUP` over all the process's session streams, `XACK` after delivery).

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::aio::ConnectionManager;
use redis::{RedisResult, Value};
use tokio::sync::mpsc;

use crate::bus::{BusShared, GROUP, lock};
use crate::config::RedisConfig;
use crate::frame::Control;
use crate::liveness::duration_ms;
use crate::session::SessionState;

/// How long one blocking read waits when nothing arrives; a session added meanwhile wakes it
/// at once through the wake stream.
pub(crate) const BLOCK: Duration = Duration::from_secs(5);

/// Entries read per stream per call.
const COUNT: usize = 64;

/// How long a session stream lives past its last refresh: long enough to ride out an outage.
pub(crate) fn stream_ttl(config: &RedisConfig) -> Duration {
    config.liveness_ttl + config.outage_timeout
}

/// The process's session streams and where their entries go.
pub(crate) struct StreamRoutes {
    wake: Bytes,
    routes: std::sync::Mutex<HashMap<Bytes, StreamRoute>>,
}

struct StreamRoute {
    tx: mpsc::Sender<Bytes>,
    state: Arc<SessionState>,
    /// The sequence number of the last entry delivered; entries are `0-1`, `0-2`, ...
    last_seq: u64,
}

impl StreamRoutes {
    pub(crate) fn new(wake: Bytes) -> Self {
        Self { wake, routes: std::sync::Mutex::new(HashMap::new()) }
    }

    pub(crate) fn wake_key(&self) -> &[u8] {
        &self.wake
    }

    pub(crate) fn insert(&self, key: Bytes, tx: mpsc::Sender<Bytes>, state: Arc<SessionState>) {
        lock(&self.routes).insert(key, StreamRoute { tx, state, last_seq: 0 });
    }

    pub(crate) fn remove(&self, key: &[u8]) {
        lock(&self.routes).remove(key);
    }

    pub(crate) async fn create_wake_group(&self, conn: &mut ConnectionManager) -> RedisResult<()> {
        create_group(conn, &self.wake, "$", true).await
    }

    /// Creates `key` with the group reading from its start: whatever the peer appends after
    /// this returns is read.
    pub(crate) async fn create_session_group(
        &self,
        conn: &mut ConnectionManager,
        key: &[u8],
        ttl: Duration,
    ) -> RedisResult<()> {
        create_group(conn, key, "0", true).await?;
        redis::cmd("PEXPIRE").arg(key).arg(duration_ms(ttl)).exec_async(conn).await
    }

    /// Interrupts the reader's blocking read so that it picks up a changed set of sessions.
    pub(crate) async fn wake(&self, conn: &mut ConnectionManager) {
        let woke = redis::cmd("XADD")
            .arg(&self.wake[..])
            .arg("MAXLEN")
            .arg("~")
            .arg(16)
            .arg("*")
            .arg("w")
            .arg(1)
            .exec_async(conn)
            .await;
        if let Err(e) = woke {
            // The reader still picks the session up when its blocking read times out.
            tracing::debug!(error = %e, "could not wake the stream reader");
        }
    }

    /// Every session stream. No stream needs pausing: flow control keeps the unread entries of
    /// a session within its queue's capacity, and a peer that ignores it fails its session.
    fn keys(&self) -> Vec<Bytes> {
        lock(&self.routes).keys().cloned().collect()
    }
}

async fn create_group(conn: &mut ConnectionManager, key: &[u8], from: &str, mkstream: bool) -> RedisResult<()> {
    let mut cmd = redis::cmd("XGROUP");
    cmd.arg("CREATE").arg(key).arg(GROUP).arg(from);
    if mkstream {
        cmd.arg("MKSTREAM");
    }
    match cmd.exec_async(conn).await {
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        other => other,
    }
}

/// The reader task: one blocking `XREADGROUP` at a time over every session stream of the process.
pub(crate) async fn run(
    bus: Weak<BusShared>,
    routes: Arc<StreamRoutes>,
    mut reader: ConnectionManager,
    consumer: String,
) {
    let mut acks: Vec<(Bytes, String)> = Vec::new();
    // After a failed read, entries Redis handed out may not have reached us: read this
    // consumer's pending entries (id `0`) once before reading new ones (`>`).
    let mut replay = false;
    let mut outage_since: Option<Instant> = None;
    let mut delay = Duration::from_millis(50);
    loop {
        let Some(outage_timeout) = bus.upgrade().map(|b| b.config.outage_timeout) else { return };
        let keys = routes.keys();
        let mut pipe = redis::pipe();
        for (key, id) in &acks {
            pipe.cmd("XACK").arg(&key[..]).arg(GROUP).arg(id).ignore();
        }
        let read = pipe.cmd("XREADGROUP").arg("GROUP").arg(GROUP).arg(&consumer);
        if replay {
            read.arg("COUNT").arg(2 * COUNT + 1);
        } else {
            read.arg("COUNT").arg(COUNT).arg("BLOCK").arg(duration_ms(BLOCK));
        }
        read.arg("STREAMS").arg(routes.wake_key());
        for key in &keys {
            read.arg(&key[..]);
        }
        let id = if replay { "0" } else { ">" };
        for _ in 0..=keys.len() {
            read.arg(id);
        }
        match pipe.query_async::<Vec<Value>>(&mut reader).await {
            Ok(mut values) => {
                acks.clear();
                outage_since = None;
                delay = Duration::from_millis(50);
                replay = false;
                let Some(bus) = bus.upgrade() else { return };
                deliver(&bus, &routes, values.pop().unwrap_or(Value::Nil), &mut acks);
            }
            Err(e) if is_missing_group(&e) => {
                let Some(bus) = bus.upgrade() else { return };
                repair(&bus, &routes, &mut reader, &keys).await;
            }
            Err(e) => {
                replay = true;
                let since = *outage_since.get_or_insert_with(Instant::now);
                let Some(bus) = bus.upgrade() else { return };
                if since.elapsed() >= outage_timeout {
                    let reason = format!(
                        "Redis at {} unreachable for {outage_timeout:?} (RedisConfig::outage_timeout): {e}",
                        bus.url
                    );
                    let states: Vec<_> = lock(&routes.routes).values().map(|r| r.state.clone()).collect();
                    for state in states {
                        bus.fail_session(&state, reason.clone());
                    }
                } else {
                    tracing::debug!(url = %bus.url, error = %e, "stream read failed; retrying");
                }
                drop(bus);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Whether a read failed because a stream or its group does not exist (Redis lost or expired
/// it); inside a pipeline the code is only in the error's text.
fn is_missing_group(e: &redis::RedisError) -> bool {
    e.code() == Some("NOGROUP") || e.to_string().contains("NOGROUP")
}

/// A stream or group is missing: recreate what can be, and end the sessions whose stream Redis
/// lost (a restart without persistence, or an expiry).
async fn repair(bus: &BusShared, routes: &StreamRoutes, conn: &mut ConnectionManager, keys: &[Bytes]) {
    if let Err(e) = routes.create_wake_group(conn).await {
        tracing::debug!(error = %e, "could not recreate the wake stream");
    }
    for key in keys {
        if let Err(e) = create_group(conn, key, "0", false).await {
            tracing::debug!(error = %e, "session stream missing");
            let state = lock(&routes.routes).get(key).map(|r| r.state.clone());
            if let Some(state) = state {
                let reason = format!(
                    "the stream `{}` of session {} is gone from Redis at {} (restarted without persistence, or \
                     expired), and with it any message in it; open a new session",
                    String::from_utf8_lossy(key),
                    state.id,
                    bus.url
                );
                bus.fail_session(&state, reason);
            }
        }
    }
}

fn deliver(bus: &BusShared, routes: &StreamRoutes, reply: Value, acks: &mut Vec<(Bytes, String)>) {
    let mut failed = Vec::new();
    {
        let mut table = lock(&routes.routes);
        for (key, entries) in stream_entries(reply) {
            let key = Bytes::from(key);
            let route = table.get_mut(&key);
            let Some(route) = route else {
                // The wake stream, or a session that ended meanwhile.
                acks.extend(entries.into_iter().map(|(id, _)| (key.clone(), id)));
                continue;
            };
            for (id, payload) in entries {
                acks.push((key.clone(), id.clone()));
                let Some(seq) = id.strip_prefix("0-").and_then(|s| s.parse::<u64>().ok()) else { continue };
                if seq <= route.last_seq {
                    continue; // delivered before a reconnect
                }
                let lost = seq - route.last_seq - 1;
                let delivered = match payload {
                    Some(payload) if lost == 0 => match Control::credit(&payload) {
                        Some(read) => {
                            route.state.grant(read);
                            true
                        }
                        None => route.tx.try_send(Control::bounded(payload, bus.config.max_message_bytes)).is_ok(),
                    },
                    _ => false,
                };
                if !delivered {
                    let reason = if lost == 0 && route.tx.capacity() == 0 {
                        format!(
                            "session {} has {} messages waiting unread: its peer ignores flow control \
                             (RedisConfig::session_queue), so the session ended",
                            route.state.id,
                            route.tx.max_capacity()
                        )
                    } else {
                        format!(
                            "session {}: message {} of stream `{}` was trimmed before it was read (the reader fell \
                             RedisConfig::stream_max_len entries behind); the session ended",
                            route.state.id,
                            route.last_seq + 1,
                            String::from_utf8_lossy(&key)
                        )
                    };
                    failed.push((route.state.clone(), reason));
                    break;
                }
                route.last_seq = seq;
            }
        }
    }
    for (state, reason) in failed {
        bus.fail_session(&state, reason);
    }
}

/// `(stream key, [(entry id, field m)])` from an `XREADGROUP` reply in RESP2 or RESP3 form;
/// anything malformed is skipped.
fn stream_entries(reply: Value) -> Vec<(Vec<u8>, Vec<Entry>)> {
    let streams: Vec<(Value, Value)> = match reply {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::Array(pair) if pair.len() == 2 => {
                    let mut pair = pair.into_iter();
                    Some((pair.next()?, pair.next()?))
                }
                _ => None,
            })
            .collect(),
        Value::Map(pairs) => pairs,
        _ => return Vec::new(),
    };
    streams
        .into_iter()
        .filter_map(|(key, entries)| {
            let Value::BulkString(key) = key else { return None };
            let Value::Array(entries) = entries else { return Some((key, Vec::new())) };
            let entries = entries.into_iter().filter_map(entry).collect();
            Some((key, entries))
        })
        .collect()
}

/// An entry id and its `m` field (`None` when the entry was trimmed while pending).
type Entry = (String, Option<Bytes>);

fn entry(value: Value) -> Option<Entry> {
    let Value::Array(parts) = value else { return None };
    let mut parts = parts.into_iter();
    let id = match parts.next()? {
        Value::BulkString(id) => String::from_utf8(id).ok()?,
        Value::SimpleString(id) => id,
        _ => return None,
    };
    let payload = match parts.next() {
        Some(Value::Array(fields)) => {
            let mut fields = fields.into_iter();
            let mut payload = None;
            while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
                if let (Value::BulkString(name), Value::BulkString(value)) = (name, value)
                    && name == b"m"
                {
                    payload = Some(Bytes::from(value));
                }
            }
            payload
        }
        _ => None,
    };
    Some((id, payload))
}
