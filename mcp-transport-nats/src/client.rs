//! The client side: [`connect`] opens a session with whichever server instance answers.

use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use bytes::Bytes;

use crate::acceptor::subscribe_session;
use crate::config::NatsClientConfig;
use crate::error::NatsError;
use crate::session::{self, SessionParts, Side};
use crate::subjects::{ServiceSubjects, SessionSubjects, random_id};
use crate::transport::NatsTransport;
use crate::wire::{ConnectReply, ConnectRequest, PROTOCOL_VERSION};

/// Opens an MCP session with one instance of `config`'s service, over `client`'s connection
/// (one connection serves any number of sessions).
///
/// The client subscribes to its inbox subjects first, then sends a connect request (NATS
/// request/reply) to `<prefix>.<service>.connect`; the instance that answers names the session
/// and its subject. No message of the session can be missed, and the session stays on that
/// instance until it ends.
///
/// # Errors
/// [`NatsError::NoServer`] when no instance listens, [`NatsError::ConnectTimeout`] when none
/// answers within [`NatsClientConfig::connect_timeout`], [`NatsError::Rejected`] when the
/// instance refuses (a bad token, or it is full), [`NatsError::InvalidName`] for a bad service
/// name or prefix, [`NatsError::Subscribe`] / [`NatsError::Request`] when the NATS connection
/// fails.
///
/// # Cancel safety
/// Cancelling leaves no session behind on this side; an instance that already accepted drops
/// its end after its heartbeat finds no client.
pub async fn connect(client: &Client, config: NatsClientConfig) -> Result<NatsTransport, NatsError> {
    let service = ServiceSubjects::new(&config.prefix, &config.service)?;
    let connect_subject = service.connect();
    let inbox = random_id();
    let inbound = service.to_client(&inbox);
    let (data, control) =
        subscribe_session(client, &SessionSubjects { inbound: inbound.clone(), outbound: String::new() }).await?;

    let request = ConnectRequest {
        version: PROTOCOL_VERSION,
        inbox,
        window: Some(config.session.window),
        token: config.token.clone(),
    };
    let payload = serde_json::to_vec(&request).map_err(|err| NatsError::Protocol(err.to_string()))?;
    let reply = client
        .send_request(
            connect_subject.clone(),
            async_nats::Request::new().payload(Bytes::from(payload)).timeout(Some(config.connect_timeout)),
        )
        .await
        .map_err(|source| request_error(&connect_subject, config.connect_timeout, source))?;

    let reply: ConnectReply = serde_json::from_slice(&reply.payload)
        .map_err(|err| NatsError::Protocol(format!("the answer on {connect_subject} is not a connect reply: {err}")))?;
    if let Some(refusal) = reply.error {
        return Err(NatsError::Rejected { code: refusal.code, message: refusal.message });
    }
    let Some(accepted) = reply.session else {
        return Err(NatsError::Protocol(format!("the connect reply on {connect_subject} names no session")));
    };
    if !service.is_session_subject(&accepted.subject) {
        return Err(NatsError::Protocol(format!(
            "the connect reply names {:?}, not a session subject of {connect_subject}",
            accepted.subject
        )));
    }
    tracing::debug!(session = %accepted.id, subject = %accepted.subject, "session opened");
    Ok(session::spawn(SessionParts {
        side: Side::Client,
        id: accepted.id,
        client: client.clone(),
        subjects: SessionSubjects { inbound, outbound: accepted.subject },
        data,
        control,
        settings: config.session,
        peer_window: accepted.window,
        slot: None,
    }))
}

fn request_error(subject: &str, timeout: Duration, source: async_nats::RequestError) -> NatsError {
    match source.kind() {
        RequestErrorKind::NoResponders => NatsError::NoServer { subject: subject.to_owned() },
        RequestErrorKind::TimedOut => NatsError::ConnectTimeout { subject: subject.to_owned(), after: timeout },
        _ => NatsError::Request { subject: subject.to_owned(), source },
    }
}
