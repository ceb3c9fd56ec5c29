//! The server side: taking announced sessions, exactly one instance per session.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::FuturesUnordered;
use futures::{Stream, StreamExt};
use mcp_core::{AuthError, IncomingSession, Principal, SessionInfo, TokenVerifier};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::bus::{BusShared, Cleanup, RedisBus};
use crate::config::Mode;
use crate::frame::{Announcement, Control, OwnerRecord, PROTOCOL_VERSION, PrincipalRecord};
use crate::liveness::{Liveness, duration_ms};
use crate::placement;
use crate::router::Route;
use crate::session::{Outgoing, RedisTransport, SessionState, Side};

/// Claims in progress at once; announcements beyond wait in the acceptor's queue.
const MAX_CLAIMS: usize = 64;

/// Load beyond this many sessions does not make an instance hold back longer.
const MAX_HOLD_BACK_SESSIONS: u32 = 50;

/// What the Redis transport knows about a session, in its
/// [`SessionInfo::extensions`](mcp_core::SessionInfo::extensions).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisSessionInfo {
    /// The service name.
    pub service: String,
    /// The server instance that took the session.
    pub instance: String,
    /// The session's delivery mode.
    pub mode: Mode,
}

/// The sessions announced to this instance's service that this instance took: an
/// [`Acceptor`](mcp_core::Acceptor).
///
/// Every instance of a service hears each announcement; the one whose `SET NX` on the owner
/// key wins takes the session, the others ignore it. Each item is an [`IncomingSession`] whose
/// transport is a [`RedisTransport`] and whose info carries `transport: "redis"`, the session
/// id, the [`Principal`] and a [`RedisSessionInfo`]. Dropping the acceptor stops taking new
/// sessions (existing ones go on).
pub struct RedisAcceptor {
    sessions: mpsc::Receiver<IncomingSession>,
    task: AbortHandle,
    bus: Arc<BusShared>,
    channel: Bytes,
}

impl RedisBus {
    /// Starts taking sessions of the bus's service, each with [`Principal::anonymous`].
    ///
    /// Use one acceptor per bus.
    ///
    /// # Errors
    /// [`RedisTransportError::Redis`](crate::RedisTransportError::Redis) when the subscription
    /// to the connect channel fails.
    pub async fn accept(&self) -> Result<RedisAcceptor, crate::RedisTransportError> {
        self.accept_with(None).await
    }

    /// Starts taking sessions, asking `verifier` who each caller is (from the token sent with
    /// [`RedisBus::connect_with_token`]); a session without a token, or whose token the verifier
    /// refuses, gets a reject frame with the reason. `None` accepts everyone as
    /// [`Principal::anonymous`](mcp_core::Principal::anonymous): Redis ACLs are then the boundary.
    ///
    /// # Errors
    /// As for [`accept`](Self::accept).
    pub async fn accept_with(
        &self,
        verifier: Option<Arc<dyn TokenVerifier>>,
    ) -> Result<RedisAcceptor, crate::RedisTransportError> {
        let bus = self.shared.clone();
        let channel = bus.keys.connect_channel();
        let (tx, announcements) = mpsc::channel(256);
        bus.router.insert(channel.clone(), Route { tx, state: None, log: None });
        if let Err(e) = bus.subscriber.clone().subscribe(&channel[..]).await {
            bus.router.remove(&channel);
            return Err(crate::RedisTransportError::redis(bus.url.clone(), "subscribing to the connect channel", e));
        }
        bus.accepting.store(true, Ordering::Relaxed);
        if let Err(e) = placement::refresh(&bus, &mut bus.commands.clone()).await {
            tracing::warn!(error = %e, "could not register for placement; sessions are still taken, less evenly");
        }
        let (sessions_tx, sessions) = mpsc::channel(MAX_CLAIMS);
        let task = tokio::spawn(accept_loop(bus.clone(), announcements, sessions_tx, verifier)).abort_handle();
        let (service, mode) = (&bus.config.service, bus.config.mode.as_str());
        tracing::info!(service = %service, instance = %bus.instance, mode, "accepting Redis sessions");
        Ok(RedisAcceptor { sessions, task, bus, channel })
    }
}

impl Stream for RedisAcceptor {
    type Item = IncomingSession;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<IncomingSession>> {
        self.sessions.poll_recv(cx)
    }
}

impl Drop for RedisAcceptor {
    fn drop(&mut self) {
        self.task.abort();
        self.bus.accepting.store(false, Ordering::Relaxed);
        self.bus.router.remove(&self.channel);
        let _ = self.bus.cleanup.try_send(Cleanup { unsubscribe: Some(self.channel.clone()), delete: Vec::new() });
    }
}

impl fmt::Debug for RedisAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAcceptor")
            .field("service", &self.bus.config.service)
            .field("instance", &self.bus.instance)
            .finish_non_exhaustive()
    }
}

async fn accept_loop(
    bus: Arc<BusShared>,
    mut announcements: mpsc::Receiver<Bytes>,
    sessions: mpsc::Sender<IncomingSession>,
    verifier: Option<Arc<dyn TokenVerifier>>,
) {
    let mut claims = FuturesUnordered::new();
    loop {
        tokio::select! {
            announcement = announcements.recv(), if claims.len() < MAX_CLAIMS => {
                let Some(announcement) = announcement else { return };
                claims.push(claim(bus.clone(), announcement, verifier.clone()));
            }
            Some(session) = claims.next(), if !claims.is_empty() => {
                if let Some(session) = session
                    && sessions.send(session).await.is_err()
                {
                    return;
                }
            }
        }
    }
}

/// Takes the announced session if this instance wins the owner key.
async fn claim(
    bus: Arc<BusShared>,
    payload: Bytes,
    verifier: Option<Arc<dyn TokenVerifier>>,
) -> Option<IncomingSession> {
    let config = &bus.config;
    let announcement: Announcement = match serde_json::from_slice(&payload) {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!(error = %e, "ignoring a malformed session announcement");
            return None;
        }
    };
    let valid_id = announcement.session.len() == 32 && announcement.session.bytes().all(|b| b.is_ascii_hexdigit());
    if announcement.v != PROTOCOL_VERSION || !valid_id {
        tracing::debug!(version = announcement.v, "ignoring an announcement of an unknown version or session id");
        return None;
    }
    if announcement.mode != config.mode.as_str() {
        tracing::warn!(session = %announcement.session, client_mode = %announcement.mode, mode = config.mode.as_str(),
            "ignoring a session announced in another mode");
        return None;
    }
    let id = announcement.session;
    let principal = match (&verifier, announcement.token.as_deref()) {
        (None, _) => Ok(Principal::anonymous()),
        (Some(_), None) => Err("a token is required (connect with a token)".to_owned()),
        (Some(verifier), Some(token)) => match verifier.verify(token).await {
            Ok(principal) => Ok(principal),
            Err(AuthError::Unavailable(detail)) => {
                tracing::warn!(session = %id, %detail, "token verification unavailable");
                Err("token verification unavailable; retry later".to_owned())
            }
            Err(_) => Err("invalid token".to_owned()),
        },
    };
    let record = OwnerRecord {
        instance: bus.instance.clone(),
        mode: config.mode.as_str().to_owned(),
        principal: match &principal {
            Ok(p) => PrincipalRecord::from(p),
            Err(_) => PrincipalRecord { id: "<refused>".to_owned(), scopes: Vec::new(), tools: Some(Vec::new()) },
        },
    };
    let record = Bytes::from(serde_json::to_vec(&record).unwrap_or_default());
    let keys = bus.keys.session(&id);
    // Every instance hears the announcement and the first SET NX wins: the preferred instance
    // tries at once, the others after the fallback delay; a busy instance holds back a little more.
    let load = u32::try_from(bus.served.load(Ordering::Relaxed)).unwrap_or(u32::MAX);
    let mut hold_back = config.claim_delay_per_session * load.min(MAX_HOLD_BACK_SESSIONS);
    if !placement::preferred(&bus, &id) {
        hold_back += config.claim_fallback;
    }
    if !hold_back.is_zero() {
        tokio::time::sleep(hold_back).await;
    }
    let won: Option<String> = redis::cmd("SET")
        .arg(&keys.owner[..])
        .arg(&record[..])
        .arg("NX")
        .arg("PX")
        .arg(duration_ms(config.liveness_ttl))
        .query_async(&mut bus.commands.clone())
        .await
        .map_err(|e| tracing::warn!(session = %id, error = %e, "could not claim a session"))
        .ok()?;
    if won.is_none() {
        let hold_back_ms = hold_back.as_secs_f64() * 1e3;
        tracing::debug!(session = %id, hold_back_ms, "another instance took the session");
        return None;
    }
    bus.served.fetch_add(1, Ordering::Relaxed);

    let durable = config.mode == Mode::Durable;
    let state = SessionState::new(id.clone(), Side::Server, keys.to_server.clone(), keys.to_client.clone(), durable);
    let principal = match principal {
        Ok(p) => p,
        Err(reason) => {
            tracing::warn!(session = %id, reason = %reason, "session refused by the token verifier");
            let reject = Control::Reject { instance: bus.instance.clone(), reason };
            let _ = bus.outgoing.send(Outgoing::control(state, 1, true, &reject)).await;
            let _ = bus.cleanup.try_send(Cleanup { unsubscribe: None, delete: vec![keys.owner] });
            bus.served.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
    };
    let inbound = match bus.open_inbound(&state).await {
        Ok(inbound) => inbound,
        Err(e) => {
            tracing::warn!(session = %id, error = %e, "could not open a claimed session");
            let _ = bus.cleanup.try_send(Cleanup { unsubscribe: None, delete: vec![keys.owner] });
            bus.served.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
    };
    bus.add_liveness(
        &state,
        Liveness {
            state: state.clone(),
            own_key: keys.owner.clone(),
            own_value: record,
            peer_key: keys.client.clone(),
            check_peer: true,
            peer_gone: format!(
                "the client of session {id} stopped heartbeating (its key {} expired); session dropped",
                String::from_utf8_lossy(&keys.client)
            ),
            missing_since: None,
        },
    );
    // The transport exists before the accept frame goes out, so that any failure from here on
    // cleans up through its Drop.
    let transport = RedisTransport::new(bus.clone(), state.clone(), inbound, bus.instance.clone(), 2);
    let accept = Control::Accept { instance: bus.instance.clone() };
    bus.outgoing.send(Outgoing::control(state, 1, false, &accept)).await.ok()?;
    tracing::info!(session = %id, principal = %principal.id, service = %config.service, "session taken");

    let mut info = SessionInfo::new("redis").with_principal(principal);
    info.session_id = Some(id);
    info.extensions.insert(RedisSessionInfo {
        service: config.service.clone(),
        instance: bus.instance.clone(),
        mode: config.mode,
    });
    Some(IncomingSession::new(transport, info))
}
