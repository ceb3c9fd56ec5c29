//! Which instance should take a session: rendezvous hashing over the live instances of the
//! service, so that sessions spread evenly and every instance agrees without talking.
//!
//! Each accepting instance registers in the sorted set `{prefix}:{service}:instances:{mode}` (score:
//! the time its registration expires, refreshed by the heartbeat) and reads the live members
//! back. The instance with the highest `hash(session id, instance id)` claims at once; the others
//! claim only after [`RedisConfig::claim_fallback`](crate::RedisConfig::claim_fallback), in case
//! it is gone or overloaded. The `SET NX` on the owner key still decides, so differing views
//! (an instance that just joined) can only delay a claim, never double it.

use std::time::{SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;

use crate::bus::{BusShared, lock};
use crate::liveness::duration_ms;

/// Registers this instance and refreshes the list of live instances.
pub(crate) async fn refresh(bus: &BusShared, commands: &mut ConnectionManager) -> redis::RedisResult<()> {
    let now = now_ms();
    let key = bus.keys.instances(bus.config.mode.as_str());
    let (live,): (Vec<String>,) = redis::pipe()
        .cmd("ZADD")
        .arg(&key[..])
        .arg(now + duration_ms(bus.config.liveness_ttl))
        .arg(&bus.instance)
        .ignore()
        .cmd("ZREMRANGEBYSCORE")
        .arg(&key[..])
        .arg("-inf")
        .arg(now)
        .ignore()
        .cmd("PEXPIRE")
        .arg(&key[..])
        .arg(duration_ms(bus.config.liveness_ttl) * 4)
        .ignore()
        .cmd("ZRANGE")
        .arg(&key[..])
        .arg(0)
        .arg(-1)
        .query_async(commands)
        .await?;
    *lock(&bus.instances) = live;
    Ok(())
}

/// Whether this instance is the one that should take `session` without waiting.
pub(crate) fn preferred(bus: &BusShared, session: &str) -> bool {
    let live = lock(&bus.instances);
    let best = live.iter().max_by_key(|instance| score(session, instance));
    best.is_none_or(|best| *best == bus.instance)
}

/// FNV-1a over both ids: stable across processes, builds and Rust versions.
fn score(session: &str, instance: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in session.bytes().chain([0]).chain(instance.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // FNV's low bits mix poorly for similar inputs; finish with a multiply-xorshift.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 33)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(duration_ms).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendezvous_spreads_sessions_evenly() {
        let instances = ["a1", "b2", "c3"];
        let mut counts = [0usize; 3];
        for s in 0..3000 {
            let session = format!("{s:032x}");
            let best = (0..3).max_by_key(|&i| score(&session, instances[i])).unwrap();
            counts[best] += 1;
        }
        for c in counts {
            assert!((850..1150).contains(&c), "{counts:?}");
        }
    }
}
