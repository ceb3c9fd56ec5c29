//! Durable mode: the session streams and their reader.
//!
//! Every message is an entry `0-{seq}` of its direction's stream, appended (`XADD`) before a
//! doorbell carrying the same number (and, up to a size, the message) is published on the
//! channel of the same name. The receiving process delivers from the doorbells in order
//! ([`Router`]); this task reads a session's stream after its last delivered entry whenever a
//! doorbell may have been missed: a gap in the numbers, a doorbell without its message, a
//! (re)subscription, an outage, or entries the heartbeat finds undelivered twice in a row.
//! Because the doorbell is published after its entry is appended, a read issued once the
//! subscription is confirmed misses nothing: an entry appended earlier is in the stream, a
//! doorbell published later reaches the subscription. Numbers at or below the last delivered
//! one are dropped, so each message is delivered once, in order, whichever path brings it.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::aio::ConnectionManager;
use redis::{RedisResult, Value};

use crate::bus::{BusShared, GROUP};
use crate::config::RedisConfig;
use crate::liveness::duration_ms;
use crate::router::{Maintenance, Router};

/// Entries read per stream and read.
const COUNT: usize = 64;

/// Streams read per pipeline.
const STREAMS_PER_READ: usize = 128;

/// How long a session stream lives past its last refresh: long enough to ride out an outage.
pub(crate) fn stream_ttl(config: &RedisConfig) -> Duration {
    config.liveness_ttl + config.outage_timeout
}

/// Creates the (empty) stream `key` with its consumer group, which records the delivered
/// position; `ttl` bounds its life until the heartbeat refreshes it.
pub(crate) async fn create(conn: &mut ConnectionManager, key: &[u8], ttl: Duration) -> RedisResult<()> {
    let created =
        redis::cmd("XGROUP").arg("CREATE").arg(key).arg(GROUP).arg("0").arg("MKSTREAM").exec_async(conn).await;
    match created {
        Err(e) if e.code() == Some("BUSYGROUP") => {}
        other => other?,
    }
    redis::cmd("PEXPIRE").arg(key).arg(duration_ms(ttl)).exec_async(conn).await
}

/// The reader task: reads the streams of the sessions the router flags.
pub(crate) async fn run(bus: Weak<BusShared>, router: Arc<Router>, mut conn: ConnectionManager) {
    let mut outage_since: Option<Instant> = None;
    let mut delay = Duration::from_millis(50);
    loop {
        router.recovery_wanted().await;
        // Each round delivers what the streams hold or backs off; an outage longer than
        // `outage_timeout` ends the sessions, which ends the rounds.
        loop {
            let wanted = router.take_recovery(STREAMS_PER_READ);
            if wanted.is_empty() {
                break;
            }
            let Some(bus) = bus.upgrade() else { return };
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for (key, delivered) in &wanted {
                pipe.cmd("EXISTS").arg(&key[..]);
                pipe.cmd("XRANGE").arg(&key[..]).arg(format!("0-{}", delivered + 1)).arg("+").arg("COUNT").arg(COUNT);
            }
            match pipe.query_async::<Vec<RedisResult<Value>>>(&mut conn).await {
                Ok(results) => {
                    outage_since = None;
                    delay = Duration::from_millis(50);
                    let mut results = results.into_iter();
                    let mut failed = Vec::new();
                    for (key, _) in &wanted {
                        let (Some(exists), Some(range)) = (results.next(), results.next()) else { break };
                        let outcome = match (exists, range) {
                            (Ok(Value::Int(0)), _) => router.recovered(key, None, false),
                            (Ok(_), Ok(range)) => {
                                let entries = entries(range);
                                let full = entries.len() >= COUNT;
                                router.recovered(key, Some(entries), full)
                            }
                            (Err(e), _) | (_, Err(e)) => router.session(key).map(|state| {
                                let reason = format!(
                                    "Redis at {} refused reading the stream `{}`: {e}",
                                    bus.url,
                                    String::from_utf8_lossy(key)
                                );
                                (state, reason)
                            }),
                        };
                        failed.extend(outcome);
                    }
                    for (state, reason) in failed {
                        bus.fail_session(&state, reason);
                    }
                }
                Err(e) => {
                    router.reflag(Some(wanted.iter().map(|(key, _)| key)));
                    let since = *outage_since.get_or_insert_with(Instant::now);
                    let outage_timeout = bus.config.outage_timeout;
                    if since.elapsed() >= outage_timeout {
                        let reason = format!(
                            "Redis at {} unreachable for {outage_timeout:?} (RedisConfig::outage_timeout): {e}",
                            bus.url
                        );
                        for (key, _) in &wanted {
                            if let Some(state) = router.session(key) {
                                bus.fail_session(&state, reason.clone());
                            }
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
}

/// Heartbeat upkeep of the durable sessions' inbound streams, in one pipeline: trim what was
/// delivered, record the delivered position in the consumer group, and count what is left.
pub(crate) async fn maintain(bus: &BusShared, conn: &mut ConnectionManager, limit: Duration) -> RedisResult<()> {
    let due = bus.router.maintenance();
    for chunk in due.chunks(STREAMS_PER_READ * 4) {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for m in chunk {
            let Maintenance { key, delivered, record } = m;
            pipe.cmd("XTRIM").arg(&key[..]).arg("MINID").arg(format!("0-{}", delivered + 1));
            pipe.cmd("XLEN").arg(&key[..]);
            if *record {
                pipe.cmd("XGROUP").arg("SETID").arg(&key[..]).arg(GROUP).arg(format!("0-{delivered}"));
            }
        }
        let results = match tokio::time::timeout(limit, pipe.query_async::<Vec<RedisResult<Value>>>(conn)).await {
            Ok(results) => results?,
            Err(_) => return Err(redis::RedisError::from((redis::ErrorKind::Io, "heartbeat timed out"))),
        };
        let mut results = results.into_iter();
        for m in chunk {
            let _trimmed = results.next();
            let undelivered = match results.next() {
                Some(Ok(Value::Int(n))) => Some(n),
                _ => None,
            };
            let recorded = m.record && matches!(results.next(), Some(Ok(_)));
            bus.router.maintained(m, undelivered, recorded);
        }
    }
    Ok(())
}

/// `(entry number, field m)` of each entry of an `XRANGE` reply, in order; entries whose id is
/// not `0-{n}` are skipped (a stream has one writer, which numbers them so).
fn entries(reply: Value) -> Vec<(u64, Option<Bytes>)> {
    let Value::Array(items) = reply else { return Vec::new() };
    items.into_iter().filter_map(entry).collect()
}

fn entry(value: Value) -> Option<(u64, Option<Bytes>)> {
    let Value::Array(parts) = value else { return None };
    let mut parts = parts.into_iter();
    let seq = match parts.next()? {
        Value::BulkString(id) => std::str::from_utf8(&id).ok()?.strip_prefix("0-")?.parse().ok()?,
        Value::SimpleString(id) => id.strip_prefix("0-")?.parse().ok()?,
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
        // RESP3 may give the fields as a map.
        Some(Value::Map(fields)) => fields.into_iter().find_map(|(name, value)| match (name, value) {
            (Value::BulkString(name), Value::BulkString(value)) if name == b"m" => Some(Bytes::from(value)),
            _ => None,
        }),
        _ => None,
    };
    Some((seq, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn xrange_replies_become_numbered_entries() {
        let reply = Value::Array(vec![
            Value::Array(vec![bulk("0-7"), Value::Array(vec![bulk("m"), bulk("{}")])]),
            Value::Array(vec![bulk("0-8"), Value::Array(vec![bulk("x"), bulk("y")])]),
            Value::Array(vec![bulk("1700000000000-0"), Value::Array(vec![bulk("m"), bulk("{}")])]),
            Value::Nil,
        ]);
        let got = entries(reply);
        assert_eq!(got, vec![(7, Some(Bytes::from_static(b"{}"))), (8, None)]);
        assert!(entries(Value::Nil).is_empty());
    }
}
