//! [`NatsAcceptor`]: a server instance of a service, accepting sessions from its queue group.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use async_nats::{Client, Subscriber};
use bytes::Bytes;
use futures::channel::mpsc;
use futures::{Sink, Stream, StreamExt};
use mcp_core::{AuthError, IncomingSession, Principal, SessionInfo};
use tracing::Instrument;

use crate::config::NatsServerConfig;
use crate::error::NatsError;
use crate::session::{self, SessionParts, Side};
use crate::subjects::{ServiceSubjects, SessionSubjects, is_token, random_id};
use crate::wire::{ConnectReply, ConnectRequest, PROTOCOL_VERSION};

/// One server instance of a service: a [`Stream`] of [`IncomingSession`]s (an
/// [`Acceptor`](mcp_core::Acceptor)).
///
/// Every instance bound to the same service (and prefix) joins one NATS queue group on the
/// connect subject, so each connect request reaches exactly one of them; the session then
/// lives on that instance's own subjects. Each session's [`SessionInfo`] carries
/// `transport: "nats"`, the session id, the principal named by the
/// [`TokenVerifier`](crate::TokenVerifier) (if one is configured) and the session's
/// [`SessionSubjects`] in its extensions.
///
/// Connect requests are handled one at a time (a slow [`TokenVerifier`](crate::TokenVerifier)
/// slows accepting) and only while the application has room for another session (see
/// [`NatsServerConfig::accept_backlog`]). A refused or malformed connect request is answered and
/// logged, never the end of the stream; the stream ends only when the NATS connection is closed
/// for good. Dropping the acceptor stops accepting; sessions already accepted go on.
pub struct NatsAcceptor {
    sessions: mpsc::Receiver<IncomingSession>,
    connect_subject: String,
    active: Arc<AtomicUsize>,
    task: tokio::task::AbortHandle,
}

impl NatsAcceptor {
    /// Joins the service's queue group on `client`'s connection (one connection serves any
    /// number of acceptors and sessions) and starts accepting.
    ///
    /// When this returns, the NATS server has registered the subscription: a client connecting
    /// afterwards reaches this instance (or another of the group).
    ///
    /// # Errors
    /// [`NatsError::InvalidName`] for a bad service name or prefix; [`NatsError::Subscribe`]
    /// when the connection is closed or may not subscribe to the connect subject.
    pub async fn bind(client: Client, config: NatsServerConfig) -> Result<Self, NatsError> {
        let subjects = ServiceSubjects::new(&config.prefix, &config.service)?;
        let connect_subject = subjects.connect();
        let requests = client
            .queue_subscribe(connect_subject.clone(), subjects.queue_group().to_owned())
            .await
            .map_err(|source| NatsError::Subscribe { subject: connect_subject.clone(), source })?;
        registered(&client, config.session.heartbeat.grace()).await;
        let (tx, rx) = mpsc::channel(config.accept_backlog.saturating_sub(1));
        let active = Arc::new(AtomicUsize::new(0));
        let span = tracing::info_span!("nats_acceptor", subject = %connect_subject);
        let accept = AcceptLoop { client, subjects, config, active: active.clone(), sessions: tx };
        let task = tokio::spawn(accept.run(requests).instrument(span)).abort_handle();
        tracing::info!(subject = %connect_subject, "accepting MCP sessions");
        Ok(Self { sessions: rx, connect_subject, active, task })
    }

    /// The subject clients send connect requests to: `<prefix>.<service>.connect`.
    pub fn connect_subject(&self) -> &str {
        &self.connect_subject
    }

    /// How many sessions of this instance are alive.
    pub fn active_sessions(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }
}

impl Stream for NatsAcceptor {
    type Item = IncomingSession;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<IncomingSession>> {
        Pin::new(&mut self.sessions).poll_next(cx)
    }
}

impl Drop for NatsAcceptor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for NatsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsAcceptor")
            .field("connect_subject", &self.connect_subject)
            .field("active_sessions", &self.active_sessions())
            .finish()
    }
}

// ===== the accept loop =====

struct AcceptLoop {
    client: Client,
    subjects: ServiceSubjects,
    config: NatsServerConfig,
    active: Arc<AtomicUsize>,
    sessions: mpsc::Sender<IncomingSession>,
}

/// Holds one of the instance's session slots while the session lives.
struct SessionSlot(Arc<AtomicUsize>);

impl Drop for SessionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl AcceptLoop {
    async fn run(mut self, mut requests: Subscriber) {
        while let Some(request) = requests.next().await {
            let Some(reply_to) = request.reply else {
                tracing::debug!("ignoring a connect message without a reply subject");
                continue;
            };
            // Backpressure: accept only when the application has room for the session.
            if std::future::poll_fn(|cx| self.sessions.poll_ready(cx)).await.is_err() {
                break;
            }
            let (reply, session) = match self.accept(&request.payload).await {
                Ok((reply, session)) => (reply, Some(session)),
                Err(refusal) => (refusal, None),
            };
            let payload = serde_json::to_vec(&reply).map(Bytes::from).unwrap_or_default();
            if let Err(err) = self.client.publish(reply_to, payload).await {
                tracing::warn!(error = %err, "could not answer a connect request");
            }
            if let Some(session) = session
                && Pin::new(&mut self.sessions).start_send(session).is_err()
            {
                break;
            }
        }
        tracing::info!("stopped accepting MCP sessions");
    }

    async fn accept(&self, payload: &[u8]) -> Result<(ConnectReply, IncomingSession), ConnectReply> {
        let request: ConnectRequest = serde_json::from_slice(payload).map_err(|err| {
            tracing::debug!(error = %err, "malformed connect request");
            ConnectReply::refused("bad_request", format!("malformed connect request: {err}"))
        })?;
        if request.version != PROTOCOL_VERSION {
            return Err(ConnectReply::refused(
                "bad_request",
                format!("unsupported protocol version {} (this server speaks {PROTOCOL_VERSION})", request.version),
            ));
        }
        if !is_token(&request.inbox) {
            return Err(ConnectReply::refused("bad_request", "the inbox must be one subject token"));
        }
        let principal = self.authenticate(request.token.as_deref()).await?;
        let slot = self.take_slot()?;

        let id = random_id();
        let subjects = self.subjects.server_side(&id, &request.inbox);
        let (data, control) = subscribe_session(&self.client, &subjects).await.map_err(|err| {
            tracing::warn!(error = %err, "could not subscribe to a new session's subjects");
            ConnectReply::refused("busy", "the server instance could not subscribe to the session's subjects")
        })?;
        tracing::info!(session = %id, principal = principal.as_ref().map(|p| p.id.as_str()), "session accepted");

        let reply = ConnectReply::accepted(id.clone(), subjects.inbound.clone(), self.config.session.window);
        let mut info = SessionInfo::new("nats");
        info.session_id = Some(id.clone());
        info.principal = principal;
        info.extensions.insert(subjects.clone());
        let transport = session::spawn(SessionParts {
            side: Side::Server,
            id,
            client: self.client.clone(),
            subjects,
            data,
            control,
            settings: self.config.session.clone(),
            peer_window: request.window,
            slot: Some(Box::new(slot)),
        });
        Ok((reply, IncomingSession::new(transport, info)))
    }

    async fn authenticate(&self, token: Option<&str>) -> Result<Option<Principal>, ConnectReply> {
        let Some(verifier) = &self.config.verifier else { return Ok(None) };
        let Some(token) = token else {
            tracing::warn!(token_sent = false, "connect request refused");
            return Err(ConnectReply::refused(
                "unauthorized",
                "this service requires a token (set NatsClientConfig::token)",
            ));
        };
        match verifier.verify(token).await {
            Ok(principal) => Ok(Some(principal)),
            Err(AuthError::Unavailable(detail)) => {
                tracing::warn!(%detail, "connect request refused: token verification unavailable");
                Err(ConnectReply::refused("unavailable", "token verification unavailable; retry later"))
            }
            Err(rejected) => {
                tracing::warn!(reason = %rejected, token_sent = true, "connect request refused");
                Err(ConnectReply::refused("unauthorized", "the token was not accepted"))
            }
        }
    }

    fn take_slot(&self) -> Result<SessionSlot, ConnectReply> {
        let max = self.config.max_sessions;
        let taken = self.active.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < max).then_some(n + 1));
        match taken {
            Ok(_) => Ok(SessionSlot(self.active.clone())),
            Err(_) => {
                tracing::warn!(max, "connect request refused: the instance holds its maximum of sessions");
                Err(ConnectReply::refused(
                    "busy",
                    format!("this server instance holds its maximum of {max} sessions; retry later"),
                ))
            }
        }
    }
}

/// Waits until the NATS server has processed every subscription sent before on `client`'s
/// connection (a flush only empties the socket): it delivers a message published to a fresh
/// inbox only after the commands before it. Bounded: a connection that is down is reported, not
/// waited for.
async fn registered(client: &Client, within: std::time::Duration) {
    let probe = client.new_inbox();
    let barrier = async {
        let mut echo = client.subscribe(probe.clone()).await.ok()?;
        client.publish(probe, Bytes::new()).await.ok()?;
        echo.next().await
    };
    if !matches!(tokio::time::timeout(within, barrier).await, Ok(Some(_))) {
        tracing::warn!("could not confirm the subscription with the NATS server; the connection may be down");
    }
}

/// Subscribes to a session's inbound data subject and its control sibling.
pub(crate) async fn subscribe_session(
    client: &Client,
    subjects: &SessionSubjects,
) -> Result<(Subscriber, Subscriber), NatsError> {
    let subscribe = |subject: String| async move {
        client.subscribe(subject.clone()).await.map_err(|source| NatsError::Subscribe { subject, source })
    };
    let data = subscribe(subjects.inbound.clone()).await?;
    let control = subscribe(SessionSubjects::control(&subjects.inbound)).await?;
    Ok((data, control))
}
