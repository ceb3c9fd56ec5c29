//! Heartbeats: each end refreshes its liveness key and checks its peer's, for every session of
//! the process in one pipeline per interval. Also does the Redis cleanup of ended sessions.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;
use tokio::time::{MissedTickBehavior, timeout};

use crate::bus::{BusShared, Cleanup, lock};
use crate::config::Mode;
use crate::session::SessionState;
use crate::{placement, streams};

/// One session's heartbeat duties.
pub(crate) struct Liveness {
    pub(crate) state: Arc<SessionState>,
    /// This end's liveness key (the owner key on a server) and the value it holds.
    pub(crate) own_key: Bytes,
    pub(crate) own_value: Bytes,
    /// The peer's liveness key.
    pub(crate) peer_key: Bytes,
    /// Cleared once the peer closed cleanly.
    pub(crate) check_peer: bool,
    /// The session's failure reason when the peer's key is gone.
    pub(crate) peer_gone: String,
    /// When consecutive successful checks started finding the peer's key missing.
    pub(crate) missing_since: Option<Instant>,
}

pub(crate) async fn run(
    bus: Weak<BusShared>,
    mut commands: ConnectionManager,
    mut subscriber: ConnectionManager,
    mut cleanup: mpsc::Receiver<Cleanup>,
) {
    let Some(interval) = bus.upgrade().map(|b| b.config.heartbeat_interval) else { return };
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut outage = false;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let Some(shared) = bus.upgrade() else { return };
                beat(&shared, &mut commands, &mut outage).await;
                if shared.accepting.load(std::sync::atomic::Ordering::Relaxed) {
                    let refreshed = timeout(interval, placement::refresh(&shared, &mut commands)).await;
                    if let Ok(Err(e)) = refreshed {
                        tracing::debug!(error = %e, "placement refresh failed");
                    }
                }
                // Starts a new reconnect cycle if the subscriber's last one gave up.
                let _ = timeout(interval, redis::cmd("PING").query_async::<redis::Value>(&mut subscriber)).await;
                if shared.config.mode == Mode::Durable
                    && let Err(e) = streams::maintain(&shared, &mut commands, interval).await
                {
                    // Doorbells may have been lost with Redis: read every session's stream.
                    tracing::debug!(error = %e, "stream upkeep failed");
                    shared.router.recover_all();
                }
            }
            job = cleanup.recv() => {
                let Some(job) = job else { return };
                clean(job, &mut cleanup, &mut commands, &mut subscriber, interval).await;
            }
        }
    }
}

async fn beat(bus: &BusShared, commands: &mut ConnectionManager, outage: &mut bool) {
    let config = &bus.config;
    let ttl_ms = duration_ms(config.liveness_ttl);
    let stream_ttl_ms = duration_ms(streams::stream_ttl(config));
    let mut pipe = redis::pipe();
    let mut checked = Vec::new();
    {
        let sessions = lock(&bus.liveness);
        for (inbound, entry) in sessions.iter() {
            pipe.cmd("SET").arg(&entry.own_key[..]).arg(&entry.own_value[..]).arg("PX").arg(ttl_ms).ignore();
            if entry.state.durable {
                pipe.cmd("PEXPIRE").arg(&inbound[..]).arg(stream_ttl_ms).ignore();
            }
            if entry.check_peer {
                pipe.cmd("EXISTS").arg(&entry.peer_key[..]);
                checked.push(inbound.clone());
            }
        }
    }
    if pipe.is_empty() {
        return;
    }
    let exists = match timeout(config.heartbeat_interval, pipe.query_async::<Vec<i64>>(commands)).await {
        Ok(Ok(exists)) => exists,
        Ok(Err(e)) => {
            if !*outage {
                tracing::warn!(url = %bus.url, error = %e, "heartbeat failed: Redis unreachable; retrying");
            }
            *outage = true;
            return;
        }
        Err(_) => {
            if !*outage {
                tracing::warn!(url = %bus.url, "heartbeat timed out: Redis unresponsive; retrying");
            }
            *outage = true;
            return;
        }
    };
    let after_outage = std::mem::take(outage);
    let mut dead = Vec::new();
    {
        let mut sessions = lock(&bus.liveness);
        for (inbound, exists) in checked.iter().zip(exists) {
            let Some(entry) = sessions.get_mut(inbound) else { continue };
            if exists == 1 || after_outage {
                // After an outage the peer gets a full TTL to reconnect and re-create a key that
                // expired or that Redis lost.
                entry.missing_since = None;
            } else {
                // The key expired a TTL after the peer's last refresh; it stays missing for
                // another TTL before the peer counts as dead, which rides out the peer's
                // reconnect after a Redis restart.
                let since = *entry.missing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= config.liveness_ttl {
                    dead.push((entry.state.clone(), entry.peer_gone.clone()));
                }
            }
        }
    }
    for (state, reason) in dead {
        bus.fail_session(&state, reason);
    }
}

async fn clean(
    first: Cleanup,
    queue: &mut mpsc::Receiver<Cleanup>,
    commands: &mut ConnectionManager,
    subscriber: &mut ConnectionManager,
    limit: Duration,
) {
    let mut jobs = vec![first];
    while jobs.len() < 256 {
        match queue.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
    let mut pipe = redis::pipe();
    let mut channels = Vec::new();
    for job in jobs {
        for key in job.delete {
            pipe.cmd("DEL").arg(&key[..]).ignore();
        }
        channels.extend(job.unsubscribe);
    }
    if !pipe.is_empty() {
        // Best effort: keys left behind expire with their TTLs.
        let _ = timeout(limit, pipe.exec_async(commands)).await;
    }
    if !channels.is_empty() {
        let names: Vec<&[u8]> = channels.iter().map(|c| &c[..]).collect();
        let _ = timeout(limit, subscriber.unsubscribe(names)).await;
    }
}

pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}
