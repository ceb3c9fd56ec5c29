//! The process's publisher: one task writes every session's outgoing messages, in order,
//! pipelined in batches, on the process's multiplexed connection.

use std::collections::HashMap;
use std::sync::Weak;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::{RedisResult, Value};
use tokio::sync::mpsc;

use crate::bus::BusShared;
use crate::config::Mode;
use crate::frame::{DOORBELL_INLINE_MAX, entry_id, write_doorbell_record};
use crate::session::{Outgoing, SessionState};

/// Most messages written in one pipeline.
const BATCH: usize = 256;

pub(crate) async fn run(bus: Weak<BusShared>, mut commands: ConnectionManager, mut queue: mpsc::Receiver<Outgoing>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if queue.recv_many(&mut batch, BATCH).await == 0 {
            return;
        }
        let Some(shared) = bus.upgrade() else { return };
        match shared.config.mode {
            Mode::PubSub => publish(&shared, &mut commands, &batch).await,
            Mode::Durable => append(&shared, &mut commands, &batch).await,
            #[allow(unreachable_patterns)]
            _ => {}
        }
        batch.clear();
    }
}

/// Pub/sub: `PUBLISH` each message. A message that reached no subscriber, or a failed write,
/// ends its session: at-most-once delivery, but never a silent loss.
async fn publish(bus: &BusShared, commands: &mut ConnectionManager, batch: &[Outgoing]) {
    let mut pipe = redis::pipe();
    for item in batch {
        pipe.cmd("PUBLISH").arg(&item.state.outbound[..]).arg(&item.payload[..]);
    }
    match pipe.query_async::<Vec<i64>>(commands).await {
        Ok(receivers) => {
            for (item, n) in batch.iter().zip(receivers) {
                if n == 0 && !item.best_effort {
                    let reason = format!(
                        "the peer of session {} is not subscribed to `{}` (it closed, crashed or lost its Redis \
                         connection); the message was dropped and the session ended",
                        item.state.id,
                        String::from_utf8_lossy(&item.state.outbound)
                    );
                    bus.fail_session(&item.state, reason);
                } else {
                    item.state.confirm();
                }
            }
        }
        Err(e) => {
            let reason = format!(
                "could not publish to Redis at {}: {e}; pub/sub mode does not retry, so the session ended",
                bus.url
            );
            for item in batch {
                bus.fail_session(&item.state, reason.clone());
            }
        }
    }
}

/// Durable: `XADD` each message with the explicit id `0-<seq>`, then `PUBLISH` one doorbell per
/// session on the channel of the same name announcing its new entries, with their payloads up
/// to [`DOORBELL_INLINE_MAX`] bytes, all in one pipeline: the peer's reader takes the messages
/// from the doorbell at pub/sub latency and falls back to the stream when it missed one (see
/// `streams`). Every doorbell goes out after the entries it announces are in the stream, so a
/// reader that reads the stream after (re)subscribing misses nothing. Retrying a batch after a
/// connection error is idempotent: Redis refuses an id it already holds, which confirms the
/// earlier write, and a repeated doorbell announces entries the reader already has, which it
/// drops. Retries last up to `outage_timeout`.
async fn append(bus: &BusShared, commands: &mut ConnectionManager, batch: &[Outgoing]) {
    let config = &bus.config;
    let started = Instant::now();
    let mut delay = Duration::from_millis(50);
    let mut pending: Vec<&Outgoing> = batch.iter().filter(|item| item.state.failure().is_none()).collect();
    let mut retry = false;
    while !pending.is_empty() {
        let pipe = append_pipeline(&pending, config.stream_max_len);
        match pipe.query_async::<Vec<RedisResult<Value>>>(commands).await {
            Ok(results) => {
                // The XADDs' replies come first, in order; the doorbells' are not checked.
                for (item, result) in pending.iter().zip(results) {
                    match result {
                        Ok(Value::Nil) if !item.best_effort => bus.fail_session(
                            &item.state,
                            format!(
                                "the stream `{}` of session {} is gone: the peer closed it, or Redis lost it \
                                 (restarted without persistence, or the session expired)",
                                String::from_utf8_lossy(&item.state.outbound),
                                item.state.id
                            ),
                        ),
                        Ok(_) => item.state.confirm(),
                        // Only a retry may find its own earlier write; on a first attempt a
                        // higher id means another writer, which breaks the sequence.
                        Err(e) if retry && e.to_string().contains("equal or smaller") => item.state.confirm(),
                        Err(e) => bus.fail_session(
                            &item.state,
                            format!("Redis at {} refused a message of session {}: {e}", bus.url, item.state.id),
                        ),
                    }
                }
                return;
            }
            Err(e) if started.elapsed() >= config.outage_timeout => {
                let reason = format!(
                    "Redis at {} unreachable for {:?} (RedisConfig::outage_timeout): {e}",
                    bus.url, config.outage_timeout
                );
                for item in pending {
                    bus.fail_session(&item.state, reason.clone());
                }
                return;
            }
            Err(e) => {
                tracing::debug!(url = %bus.url, error = %e, "append failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
                pending.retain(|item| item.state.failure().is_none());
                retry = true;
            }
        }
    }
}

/// Appends are trimmed to about `stream_max_len` entries (`MAXLEN ~`) once every this many
/// entries of a stream, which spares Redis the check on every append.
const TRIM_EVERY: u64 = 64;

/// The pipeline of one durable batch: every `XADD`, in order, then the doorbells, one per
/// session (more when the payloads exceed [`DOORBELL_INLINE_MAX`]).
fn append_pipeline(pending: &[&Outgoing], stream_max_len: usize) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    // Doorbells by session, in the order the sessions first appear.
    let mut bells: Vec<(&Outgoing, Vec<u8>)> = Vec::new();
    // Doorbells that filled up, to ring before the sessions' last ones.
    let mut full: Vec<(&Outgoing, Vec<u8>)> = Vec::new();
    let mut bell_of: HashMap<*const SessionState, usize> = HashMap::new();
    for item in pending {
        let mut id = [0u8; 22];
        let cmd = pipe.cmd("XADD").arg(&item.state.outbound[..]).arg("NOMKSTREAM");
        if item.seq % TRIM_EVERY == 0 {
            cmd.arg("MAXLEN").arg("~").arg(stream_max_len);
        }
        cmd.arg(entry_id(item.seq, &mut id)).arg("m").arg(&item.payload[..]);

        let at = *bell_of.entry(std::sync::Arc::as_ptr(&item.state)).or_insert_with(|| {
            bells.push((item, Vec::with_capacity(item.payload.len() + 32)));
            bells.len() - 1
        });
        let inline = item.payload.len() <= DOORBELL_INLINE_MAX;
        let bell = &mut bells[at].1;
        if inline && !bell.is_empty() && bell.len() + item.payload.len() > DOORBELL_INLINE_MAX {
            full.push((item, std::mem::take(bell)));
        }
        write_doorbell_record(item.seq, inline.then_some(&item.payload[..]), bell);
    }
    // After every XADD, so that each reply lines up with its message. The doorbells' delivery
    // is not checked: a reader that missed one reads the stream.
    for (item, bell) in full.iter().chain(&bells) {
        pipe.cmd("PUBLISH").arg(&item.state.outbound[..]).arg(&bell[..]);
    }
    pipe
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::session::Side;

    fn item(state: &std::sync::Arc<SessionState>, seq: u64, payload: Vec<u8>) -> Outgoing {
        Outgoing { state: state.clone(), payload: Bytes::from(payload), seq, best_effort: false }
    }

    /// Each command of `pipe` as its arguments, lossily as text (payloads abbreviated).
    fn commands(pipe: &redis::Pipeline) -> Vec<String> {
        pipe.cmd_iter()
            .map(|cmd| {
                let args: Vec<String> = cmd
                    .args_iter()
                    .map(|arg| match arg {
                        redis::Arg::Simple(bytes) if bytes.len() > 40 => format!("<{} bytes>", bytes.len()),
                        redis::Arg::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                        _ => "<cursor>".to_owned(),
                    })
                    .collect();
                args.join(" ")
            })
            .collect()
    }

    #[test]
    fn a_batch_appends_everything_then_rings_one_doorbell_per_session() {
        let a = SessionState::new("a".into(), Side::Client, Bytes::from("in-a"), Bytes::from("a"), true);
        let b = SessionState::new("b".into(), Side::Client, Bytes::from("in-b"), Bytes::from("b"), true);
        let items = [
            item(&a, 63, b"{1}".to_vec()),
            item(&b, 5, b"{2}".to_vec()),
            item(&a, 64, b"{3}".to_vec()),
            item(&a, 65, vec![b'x'; DOORBELL_INLINE_MAX + 1]),
        ];
        let pending: Vec<&Outgoing> = items.iter().collect();
        assert_eq!(
            commands(&append_pipeline(&pending, 1000)),
            [
                "XADD a NOMKSTREAM 0-63 m {1}",
                "XADD b NOMKSTREAM 0-5 m {2}",
                "XADD a NOMKSTREAM MAXLEN ~ 1000 0-64 m {3}",
                &format!("XADD a NOMKSTREAM 0-65 m <{} bytes>", DOORBELL_INLINE_MAX + 1),
                "PUBLISH a 63 3 {1}64 3 {3}65 - ",
                "PUBLISH b 5 3 {2}",
            ]
        );
    }

    #[test]
    fn a_full_doorbell_is_rung_before_the_next() {
        let a = SessionState::new("a".into(), Side::Client, Bytes::from("in-a"), Bytes::from("a"), true);
        // Four of these and their record headers are over the limit.
        let quarter = DOORBELL_INLINE_MAX / 4;
        let items: Vec<Outgoing> = (1..=5).map(|seq| item(&a, seq, vec![b'x'; quarter])).collect();
        let pending: Vec<&Outgoing> = items.iter().collect();
        let commands = commands(&append_pipeline(&pending, 1000));
        assert_eq!(commands.len(), 7);
        assert!(commands[..5].iter().all(|c| c.starts_with("XADD")));
        assert!(commands[5..].iter().all(|c| c.starts_with("PUBLISH a <")), "{commands:?}");
        let pipe = append_pipeline(&pending, 1000);
        let bells: Vec<Vec<u64>> = pipe
            .cmd_iter()
            .skip(5)
            .map(|cmd| {
                let Some(redis::Arg::Simple(bell)) = cmd.args_iter().nth(2) else { panic!("a doorbell") };
                crate::frame::DoorbellRecords::new(Bytes::copy_from_slice(bell)).map(|(seq, _)| seq).collect()
            })
            .collect();
        assert_eq!(bells, [vec![1, 2, 3], vec![4, 5]]);
    }
}
