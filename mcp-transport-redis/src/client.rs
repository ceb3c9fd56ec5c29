//! The client side: announcing a session and waiting for a server instance to take it.

use bytes::Bytes;

use crate::bus::{BusShared, RedisBus, lock};
use crate::error::RedisTransportError;
use crate::frame::{Announcement, Control, PROTOCOL_VERSION};
use crate::keys::random_id;
use crate::liveness::{Liveness, duration_ms};
use crate::session::{RedisTransport, SessionState, Side};

impl RedisBus {
    /// Opens a client session with a server instance of the bus's service.
    ///
    /// Subscribes to (or, in durable mode, creates) the session's inbound channel, announces
    /// the session on the service's connect channel, and waits up to
    /// [`RedisConfig::accept_timeout`](crate::RedisConfig::accept_timeout) for one instance to
    /// take it.
    ///
    /// # Errors
    /// [`RedisTransportError::NoServer`] at once when no server listens on the service;
    /// [`RedisTransportError::AcceptTimeout`] when none takes the session in time;
    /// [`RedisTransportError::Rejected`] when the instance's token verifier refuses it;
    /// [`RedisTransportError::Redis`] when Redis fails.
    ///
    /// # Cancel safety
    /// Cancelling leaves nothing behind but keys that expire with their TTL.
    pub async fn connect(&self) -> Result<RedisTransport, RedisTransportError> {
        self.open_session(None).await
    }

    /// Like [`connect`](Self::connect), sending `token` to the server's
    /// [`TokenVerifier`](crate::TokenVerifier). The token is never logged.
    ///
    /// # Errors
    /// As for [`connect`](Self::connect).
    pub async fn connect_with_token(&self, token: &str) -> Result<RedisTransport, RedisTransportError> {
        self.open_session(Some(token.to_owned())).await
    }

    async fn open_session(&self, token: Option<String>) -> Result<RedisTransport, RedisTransportError> {
        let bus = &self.shared;
        let config = &bus.config;
        let id = random_id();
        let keys = bus.keys.session(&id);
        let durable = config.mode == crate::Mode::Durable;
        let state =
            SessionState::new(id.clone(), Side::Client, keys.to_client.clone(), keys.to_server.clone(), durable);
        // Until the transport exists, this guard undoes the registration on every exit.
        let mut guard = Unregister { bus, state: &state, armed: true };
        let mut inbound = bus.open_inbound(&state).await?;
        bus.add_liveness(
            &state,
            Liveness {
                state: state.clone(),
                own_key: keys.client.clone(),
                own_value: Bytes::from_static(b"1"),
                peer_key: keys.owner.clone(),
                check_peer: false,
                peer_gone: String::new(),
                missing_since: None,
            },
        );
        let failed = |action| move |e| RedisTransportError::redis(bus.url.clone(), action, e);
        redis::cmd("SET")
            .arg(&keys.client[..])
            .arg(1)
            .arg("PX")
            .arg(duration_ms(config.liveness_ttl))
            .exec_async(&mut bus.commands.clone())
            .await
            .map_err(failed("creating the client liveness key"))?;

        let announcement =
            Announcement { v: PROTOCOL_VERSION, session: id.clone(), mode: config.mode.as_str().to_owned(), token };
        let announcement = serde_json::to_vec(&announcement).unwrap_or_default();
        let channel = bus.keys.connect_channel();
        let receivers: i64 = redis::cmd("PUBLISH")
            .arg(&channel[..])
            .arg(announcement)
            .query_async(&mut bus.commands.clone())
            .await
            .map_err(failed("announcing the session"))?;
        if receivers == 0 {
            return Err(RedisTransportError::NoServer {
                service: config.service.clone(),
                channel: String::from_utf8_lossy(&channel).into_owned(),
            });
        }

        let timeout = || RedisTransportError::AcceptTimeout {
            service: config.service.clone(),
            timeout: config.accept_timeout,
            mode: config.mode.as_str(),
        };
        let deadline = tokio::time::Instant::now() + config.accept_timeout;
        let instance = loop {
            let frame = tokio::time::timeout_at(deadline, inbound.recv()).await.map_err(|_| timeout())?;
            let Some(frame) = frame else {
                let reason = state.failure().unwrap_or_else(|| "the bus shut down".to_owned());
                return Err(RedisTransportError::SessionLost { session: id, reason });
            };
            match Control::decode(&frame) {
                Some(Control::Accept { instance }) => break instance,
                Some(Control::Reject { instance, reason }) => {
                    return Err(RedisTransportError::Rejected { service: config.service.clone(), instance, reason });
                }
                _ => tracing::debug!(session = %id, "ignoring a frame that arrived before the session was accepted"),
            }
        };

        if let Some(entry) = lock(&bus.liveness).get_mut(&state.inbound) {
            entry.check_peer = true;
            entry.peer_gone = format!(
                "server instance {instance} of service `{}` stopped heartbeating (its owner key expired): it crashed \
                 or lost Redis; open a new session",
                config.service
            );
        }
        tracing::debug!(session = %id, instance = %instance, service = %config.service, "session accepted");
        guard.armed = false;
        Ok(RedisTransport::new(bus.clone(), state.clone(), inbound, instance, 1))
    }
}

struct Unregister<'a> {
    bus: &'a BusShared,
    state: &'a SessionState,
    armed: bool,
}

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.bus.unregister(self.state);
        }
    }
}
