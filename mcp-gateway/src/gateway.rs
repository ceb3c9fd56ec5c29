//! The running gateway: every accepted client session gets its own upstream session and a
//! relay between them; shutdown drains in-flight work.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::{Stream, StreamExt};
use mcp_core::{IncomingSession, Principal};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::relay::{self, ClientSide, RelayPolicy};
use crate::upstream::Upstream;

/// Shared state of the running gateway; cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    upstream: Upstream,
    policy: RelayPolicy,
    /// Cancelled when shutdown starts: listeners stop accepting, relays drain.
    shutdown: CancellationToken,
    sessions: TaskTracker,
    draining: AtomicBool,
    next_session: AtomicU64,
}

impl Gateway {
    /// A gateway relaying to `upstream` under `policy`.
    pub fn new(upstream: Upstream, policy: RelayPolicy) -> Self {
        Self {
            inner: Arc::new(Inner {
                upstream,
                policy,
                shutdown: CancellationToken::new(),
                sessions: TaskTracker::new(),
                draining: AtomicBool::new(false),
                next_session: AtomicU64::new(1),
            }),
        }
    }

    /// Ready: the upstream can be opened and the gateway is not draining (`/health`).
    pub fn is_ready(&self) -> bool {
        !self.inner.draining.load(Ordering::Relaxed) && self.inner.upstream.is_healthy()
    }

    /// Whether shutdown has started.
    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::Relaxed)
    }

    /// Client sessions being relayed now.
    pub fn active_sessions(&self) -> usize {
        self.inner.sessions.len()
    }

    /// A token cancelled when shutdown starts.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Serves every session of `acceptor` until it ends or shutdown starts.
    pub async fn serve_acceptor(&self, transport: &'static str, acceptor: impl Stream<Item = IncomingSession> + Send) {
        let mut acceptor = std::pin::pin!(acceptor);
        loop {
            let session = tokio::select! {
                s = acceptor.next() => s,
                () = self.inner.shutdown.cancelled() => None,
            };
            let Some(session) = session else { break };
            self.spawn_session(transport, session);
        }
    }

    /// Relays one client session on its own task.
    pub fn spawn_session(&self, transport: &'static str, session: IncomingSession) {
        let gateway = self.clone();
        self.inner.sessions.spawn(async move { gateway.run_session(transport, session).await });
    }

    async fn run_session(&self, transport: &'static str, session: IncomingSession) {
        let n = self.inner.next_session.fetch_add(1, Ordering::Relaxed);
        let label = session.info.session_id.clone().unwrap_or_else(|| format!("{transport}-{n}"));
        let who = ClientSide {
            principal: session.info.principal.clone().unwrap_or_else(Principal::anonymous),
            ip: session.info.remote_addr.map(|a| a.ip()),
            transport,
            session: label.clone(),
        };
        tracing::info!(session = %label, transport, principal = %who.principal.id, "session_open");
        match self.inner.upstream.open().await {
            Ok(upstream) => {
                let mut policy = self.inner.policy.clone();
                if transport == "http" {
                    // HTTP requests are rate-limited at the front door, with a 429 status.
                    policy.limits = crate::ratelimit::RateLimits::default();
                }
                relay::relay(session.transport, upstream, who, policy, self.inner.shutdown.clone()).await
            }
            Err(e) => {
                tracing::error!(session = %label, error = %e, "upstream_unavailable");
                relay::refuse(session.transport, &e.to_string()).await;
            }
        }
        tracing::info!(session = %label, transport, "session_closed");
    }

    /// Starts shutdown: stop accepting, let in-flight calls finish for up to `grace`, then
    /// return (the caller exits, which closes what is left).
    pub async fn drain(&self, grace: Duration) {
        self.inner.draining.store(true, Ordering::Relaxed);
        self.inner.shutdown.cancel();
        self.inner.sessions.close();
        let open = self.inner.sessions.len();
        tracing::info!(sessions = open, grace_secs = grace.as_secs_f64(), "draining");
        if tokio::time::timeout(grace, self.inner.sessions.wait()).await.is_err() {
            tracing::warn!(sessions = self.inner.sessions.len(), "drain_timeout; closing the remaining sessions");
        } else {
            tracing::info!("drained");
        }
    }
}
