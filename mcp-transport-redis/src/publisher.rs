//! The process's publisher: one task writes every session's outgoing messages, in order,
//! pipelined in batches, on the process's multiplexed connection.

use std::sync::Weak;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::{RedisResult, Value};
use tokio::sync::mpsc;

use crate::bus::BusShared;
use crate::config::Mode;
use crate::session::Outgoing;

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
        pipe.cmd("PUBLISH").arg(&item.state.outbound[..]).arg(item.payload());
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

/// Durable: `XADD` each message with the explicit id `0-<seq>`, then `PUBLISH` its doorbell on
/// the channel of the same name, in one pipeline: the peer's reader takes the message from the
/// doorbell at pub/sub latency and falls back to the stream when it missed one (see
/// `streams`). The doorbell goes out after the entry is in the stream, so a reader that reads
/// the stream after (re)subscribing misses nothing. Retrying a batch after a connection error
/// is idempotent: Redis refuses an id it already holds, which confirms the earlier write, and a
/// repeated doorbell is a duplicate the reader drops. Retries last up to `outage_timeout`.
async fn append(bus: &BusShared, commands: &mut ConnectionManager, batch: &[Outgoing]) {
    let config = &bus.config;
    let started = Instant::now();
    let mut delay = Duration::from_millis(50);
    let mut pending: Vec<&Outgoing> = batch.iter().filter(|item| item.state.failure().is_none()).collect();
    let mut retry = false;
    while !pending.is_empty() {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for item in &pending {
            pipe.cmd("XADD")
                .arg(&item.state.outbound[..])
                .arg("NOMKSTREAM")
                .arg("MAXLEN")
                .arg("~")
                .arg(config.stream_max_len)
                .arg(format!("0-{}", item.seq))
                .arg("m")
                .arg(item.payload());
            // The doorbell's delivery is not checked: a reader that missed it reads the stream.
            pipe.cmd("PUBLISH").arg(&item.state.outbound[..]).arg(item.doorbell());
        }
        match pipe.query_async::<Vec<RedisResult<Value>>>(commands).await {
            Ok(results) => {
                // Two replies per message: the XADD's, then the PUBLISH's.
                for (item, result) in pending.iter().zip(results.into_iter().step_by(2)) {
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
