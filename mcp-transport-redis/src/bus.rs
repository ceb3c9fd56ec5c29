//! The per-process connections to Redis and the tasks that serve every session of the process.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ConnectionInfo, IntoConnectionInfo, ProtocolVersion, PushInfo, TlsCertificates};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::config::{Mode, RedisConfig};
use crate::error::RedisTransportError;
use crate::keys::{Keys, random_id};
use crate::liveness::{self, Liveness};
use crate::publisher;
use crate::router::{Log, Route, Router};
use crate::session::{Outgoing, SessionState, Side};
use crate::streams;

/// The consumer group of every session stream: its last-delivered id records how far the
/// reading process has delivered the stream (updated with every heartbeat).
pub(crate) const GROUP: &str = "mcp";

/// A process's connection to one service over Redis: share one per process (it is a cheap
/// clone) for every client session and acceptor of that service.
///
/// It holds one multiplexed connection for commands and publishing and one RESP3 connection for
/// every subscription (dispatched to sessions by channel), in both modes; both reconnect
/// through the `redis` crate's [`ConnectionManager`]. The connections and tasks end when the last clone and
/// the last session are dropped.
#[derive(Clone)]
pub struct RedisBus {
    pub(crate) shared: Arc<BusShared>,
}

impl fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBus")
            .field("instance", &self.shared.instance)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl RedisBus {
    /// Connects to Redis with `config`.
    ///
    /// # Errors
    /// [`RedisTransportError::InvalidConfig`] for inconsistent settings;
    /// [`RedisTransportError::Redis`] when Redis cannot be reached.
    pub async fn open(config: RedisConfig) -> Result<Self, RedisTransportError> {
        config.validate()?;
        let url = config.redacted_redis_url();
        let failed = |action| {
            let url = url.clone();
            move |e| RedisTransportError::redis(url, action, e)
        };
        let info = config.redis_url.as_str().into_connection_info().map_err(failed("parsing the Redis URL"))?;
        let client = redis_client(&config, info.clone()).map_err(failed("setting up the Redis client"))?;
        // One plain attempt first: a wrong address, password or certificate fails at once
        // instead of after the connection manager's retries.
        let probe = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        client.get_multiplexed_async_connection_with_config(&probe).await.map_err(failed("connecting"))?;
        let commands = ConnectionManager::new_with_config(client, manager_config(Some(Duration::from_secs(10))))
            .await
            .map_err(failed("connecting"))?;

        let router = Arc::new(Router::new(config.max_message_bytes));
        let resp3 = info.clone().set_redis_settings(info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3));
        let sub_client = redis_client(&config, resp3).map_err(failed("setting up the Redis client"))?;
        let push_router = router.clone();
        let push_url = url.clone();
        let sub_config = manager_config(Some(Duration::from_secs(10)))
            .set_push_sender(move |push: PushInfo| {
                push_router.on_push(push, &push_url);
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription();
        let subscriber = ConnectionManager::new_with_config(sub_client, sub_config)
            .await
            .map_err(failed("connecting (subscriber)"))?;

        let instance = random_id();
        let keys = Keys::new(&config.prefix, &config.service);

        let (outgoing, outgoing_rx) = mpsc::channel(config.publish_queue);
        let (cleanup, cleanup_rx) = mpsc::channel(1024);
        let shared = Arc::new(BusShared {
            config,
            keys,
            instance,
            url,
            commands: commands.clone(),
            subscriber: subscriber.clone(),
            outgoing,
            router: router.clone(),
            liveness: Mutex::new(HashMap::new()),
            cleanup,
            served: AtomicUsize::new(0),
            accepting: AtomicBool::new(false),
            instances: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
        });
        // The tasks hold the bus weakly: it ends when the last handle and session are dropped.
        let weak = Arc::downgrade(&shared);
        let mut tasks = vec![
            tokio::spawn(publisher::run(weak.clone(), commands.clone(), outgoing_rx)).abort_handle(),
            tokio::spawn(liveness::run(weak.clone(), commands, subscriber, cleanup_rx)).abort_handle(),
        ];
        if shared.config.mode == Mode::Durable {
            tasks.push(tokio::spawn(streams::run(weak, router, shared.commands.clone())).abort_handle());
        }
        *lock(&shared.tasks) = tasks;
        let (service, mode) = (&shared.config.service, shared.config.mode.as_str());
        tracing::debug!(instance = %shared.instance, service = %service, mode, "Redis bus open");
        Ok(Self { shared })
    }

    /// This process's instance id: recorded in the owner key of every session it serves.
    pub fn instance_id(&self) -> &str {
        &self.shared.instance
    }

    /// The configuration the bus runs with.
    pub fn config(&self) -> &RedisConfig {
        &self.shared.config
    }
}

/// A client for `info`, trusting `config.tls_root_cert_pem` when set.
fn redis_client(config: &RedisConfig, info: ConnectionInfo) -> redis::RedisResult<Client> {
    match &config.tls_root_cert_pem {
        Some(pem) => Client::build_with_tls(info, TlsCertificates { client_tls: None, root_cert: Some(pem.clone()) }),
        None => Client::open(info),
    }
}

fn manager_config(response_timeout: Option<Duration>) -> ConnectionManagerConfig {
    // About 3.5 s of retries per reconnect cycle: a command never waits long on a dead Redis,
    // and the heartbeat starts a new cycle every interval.
    ConnectionManagerConfig::new()
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_secs(1))
        .set_number_of_retries(6)
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(response_timeout)
}

// ===== BusShared =====

/// What the bus's tasks and every session share.
pub(crate) struct BusShared {
    pub(crate) config: RedisConfig,
    pub(crate) keys: Keys,
    pub(crate) instance: String,
    /// The Redis URL, password redacted.
    pub(crate) url: String,
    pub(crate) commands: ConnectionManager,
    pub(crate) subscriber: ConnectionManager,
    pub(crate) outgoing: mpsc::Sender<Outgoing>,
    pub(crate) router: Arc<Router>,
    /// Sessions whose keys the heartbeat refreshes and whose peers it checks, by inbound name.
    pub(crate) liveness: Mutex<HashMap<Bytes, Liveness>>,
    pub(crate) cleanup: mpsc::Sender<Cleanup>,
    /// Server sessions this process holds: the load an acceptor weighs before claiming.
    pub(crate) served: AtomicUsize,
    /// Whether an acceptor runs: the heartbeat then keeps this instance registered.
    pub(crate) accepting: AtomicBool,
    /// The live accepting instances of the service, as of the last heartbeat.
    pub(crate) instances: Mutex<Vec<String>>,
    tasks: Mutex<Vec<AbortHandle>>,
}

/// Redis work left behind by a session that ended, done by the heartbeat task.
#[derive(Debug, Default)]
pub(crate) struct Cleanup {
    pub(crate) unsubscribe: Option<Bytes>,
    pub(crate) delete: Vec<Bytes>,
}

impl Drop for BusShared {
    fn drop(&mut self) {
        for task in lock(&self.tasks).iter() {
            task.abort();
        }
    }
}

impl BusShared {
    /// Ends a session with `reason`: its stream drains what was already received, then yields
    /// `ConnectionLost(reason)`; its sink fails from now on.
    pub(crate) fn fail_session(&self, state: &SessionState, reason: String) {
        if state.set_failure(reason.clone()) {
            tracing::warn!(session = %state.id, side = ?state.side, reason = %reason, "Redis session ended");
        }
        self.router.remove(&state.inbound);
        lock(&self.liveness).remove(&state.inbound);
    }

    /// The peer sent a clean close: stop checking that it is alive.
    pub(crate) fn peer_closed(&self, state: &SessionState) {
        if let Some(entry) = lock(&self.liveness).get_mut(&state.inbound) {
            entry.check_peer = false;
        }
    }

    /// The transport was dropped: forget the session and delete what it owned in Redis.
    pub(crate) fn unregister(&self, state: &SessionState) {
        if state.side == Side::Server {
            self.served.fetch_sub(1, Ordering::Relaxed);
        }
        self.router.remove(&state.inbound);
        let own_key = lock(&self.liveness).remove(&state.inbound).map(|l| l.own_key);
        let mut cleanup = Cleanup { delete: own_key.into_iter().collect(), unsubscribe: Some(state.inbound.clone()) };
        if state.durable {
            cleanup.delete.push(state.inbound.clone());
        }
        // A full cleanup queue only delays deletion until the keys' TTLs run out.
        let _ = self.cleanup.try_send(cleanup);
    }

    /// Starts delivering what arrives on `state.inbound` into a new bounded queue; when this
    /// returns, nothing sent to the session from now on can be missed.
    pub(crate) async fn open_inbound(
        &self,
        state: &Arc<SessionState>,
    ) -> Result<mpsc::Receiver<Bytes>, RedisTransportError> {
        // Room for the flow-control window plus the control frames around it (accept, close).
        let (tx, rx) = mpsc::channel(self.config.session_queue + 4);
        let log = if state.durable {
            // The stream exists before anything can be appended to it (appends never create one).
            let ttl = streams::stream_ttl(&self.config);
            streams::create(&mut self.commands.clone(), &state.inbound, ttl)
                .await
                .map_err(|e| RedisTransportError::redis(self.url.clone(), "creating the session stream", e))?;
            Some(Log::default())
        } else {
            None
        };
        self.router.insert(state.inbound.clone(), Route { tx, state: Some(state.clone()), log });
        let subscribed = self.subscriber.clone().subscribe(&state.inbound[..]).await;
        if let Err(e) = subscribed {
            self.router.remove(&state.inbound);
            return Err(RedisTransportError::redis(self.url.clone(), "subscribing to the session channel", e));
        }
        Ok(rx)
    }

    pub(crate) fn add_liveness(&self, state: &SessionState, liveness: Liveness) {
        lock(&self.liveness).insert(state.inbound.clone(), liveness);
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
