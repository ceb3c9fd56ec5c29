//! A client transport that reconnects after the connection is lost: [`connect_reconnecting`].
//!
//! # Semantics
//!
//! A WebSocket connection is an MCP session; the server keeps nothing once it drops. So a
//! reconnect starts a **new session**, and this transport makes that visible rather than
//! pretending nothing happened:
//!
//! - Every request sent on the lost connection and not yet answered gets an error response
//!   (code [`CONNECTION_LOST`], `data.reason = "connection_lost"`): the server may or may not
//!   have run it, so the caller decides whether to retry.
//! - The new connection is initialized again with the `initialize` request (same parameters)
//!   and `notifications/initialized` the application sent on the first one, before anything
//!   else is sent on it. That initialization's response is consumed here, not delivered (the
//!   application already has one).
//! - Session state does not survive: resource subscriptions, the logging level, requests the
//!   server had sent to the client (their answers are dropped by the server), and anything the
//!   server kept per session. Re-establish what matters when a [`CONNECTION_LOST`] error
//!   shows that a reconnect happened.
//! - While reconnecting, messages the application sends wait (the sink applies backpressure).
//!   Reconnection waits `initial_backoff`, doubling up to `max_backoff`, for at most
//!   `max_attempts` attempts; then the stream ends with a fatal
//!   [`TransportError::ConnectionLost`] naming the last error.

use std::collections::HashSet;
use std::time::Duration;

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use mcp_core::{Duplex, ErrorObject, Message, RequestId, TransportError};

use crate::client::{ConnectError, WsClientConfig, connect};
use crate::transport::WsTransport;

/// The JSON-RPC error code of a request whose connection was lost before its response.
pub const CONNECTION_LOST: i64 = -32000;

/// How a [`connect_reconnecting`] transport retries.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Reconnect {
    /// The wait before the first attempt; doubled after each failure. Default 100 ms.
    pub initial_backoff: Duration,
    /// The longest wait between attempts. Default 10 s.
    pub max_backoff: Duration,
    /// Attempts per outage before giving up; `None` retries forever. Default 10.
    pub max_attempts: Option<u32>,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            max_attempts: Some(10),
        }
    }
}

/// Messages between the application and the task that owns the connection.
const CHANNEL_CAPACITY: usize = 32;

/// Connects to `url` and keeps reconnecting after the connection is lost; see the
/// [module docs](self) for what a reconnect means for pending requests and session state.
///
/// The returned transport is a [`Duplex`] over bounded channels to a task that owns the
/// connection; the task ends when the application closes or drops the transport.
///
/// # Errors
/// The first connection's [`ConnectError`]; later failures come out of the stream.
pub async fn connect_reconnecting(
    url: &str,
    config: WsClientConfig,
    policy: Reconnect,
) -> Result<impl mcp_core::Transport, ConnectError> {
    let first = connect(url, &config).await?;
    let (to_task, from_app) = mpsc::channel::<Message>(CHANNEL_CAPACITY);
    let (to_app, from_task) = mpsc::channel::<Result<Message, TransportError>>(CHANNEL_CAPACITY);
    let task = Reconnector { url: url.to_owned(), config, policy, pending: HashSet::new(), init: Vec::new() };
    tokio::spawn(task.run(first, from_app, to_app));
    let sink = to_task.sink_map_err(|_| TransportError::Closed);
    Ok(Duplex::new(sink, from_task))
}

struct Reconnector {
    url: String,
    config: WsClientConfig,
    policy: Reconnect,
    /// Ids of our requests still waiting for their response on the current connection.
    pending: HashSet<RequestId>,
    /// The `initialize` request and `notifications/initialized`, replayed on a new connection.
    init: Vec<Message>,
}

/// Why the pump stopped.
enum Ended {
    /// The application closed or dropped its end: we are done.
    ByApp,
    /// The connection is gone: reconnect.
    Lost(String),
}

impl Reconnector {
    async fn run(
        mut self,
        mut conn: WsTransport,
        mut from_app: mpsc::Receiver<Message>,
        mut to_app: mpsc::Sender<Result<Message, TransportError>>,
    ) {
        loop {
            let why = self.pump(&mut conn, &mut from_app, &mut to_app).await;
            let Ended::Lost(why) = why else {
                let _ = conn.close().await;
                return;
            };
            tracing::warn!(url = %self.url, error = %why, pending = self.pending.len(), "WebSocket connection lost; reconnecting");
            for id in std::mem::take(&mut self.pending) {
                let error = ErrorObject::new(
                    CONNECTION_LOST,
                    format!(
                        "the connection to {} was lost before the response ({why}); whether the server ran the \
                         request is unknown; a new session is being started",
                        self.url
                    ),
                )
                .with_data(&serde_json::json!({ "reason": "connection_lost" }));
                if to_app.send(Ok(Message::error(Some(id), error))).await.is_err() {
                    return;
                }
            }
            match self.reconnect().await {
                Ok(new_conn) => conn = new_conn,
                Err(last) => {
                    let _ = to_app.send(Err(TransportError::ConnectionLost(last))).await;
                    return;
                }
            }
        }
    }

    /// Moves messages both ways until the application or the connection ends.
    async fn pump(
        &mut self,
        conn: &mut WsTransport,
        from_app: &mut mpsc::Receiver<Message>,
        to_app: &mut mpsc::Sender<Result<Message, TransportError>>,
    ) -> Ended {
        loop {
            tokio::select! {
                outgoing = from_app.next() => {
                    let Some(message) = outgoing else { return Ended::ByApp };
                    self.track_outgoing(&message);
                    if let Err(e) = conn.send(message).await {
                        return Ended::Lost(e.to_string());
                    }
                }
                incoming = conn.next() => match incoming {
                    Some(Ok(message)) => {
                        if let Some(id) = response_id(&message) {
                            self.pending.remove(id);
                        }
                        if to_app.send(Ok(message)).await.is_err() {
                            return Ended::ByApp;
                        }
                    }
                    Some(Err(e)) if !e.is_fatal() => {
                        if to_app.send(Err(e)).await.is_err() {
                            return Ended::ByApp;
                        }
                    }
                    Some(Err(e)) => return Ended::Lost(e.to_string()),
                    None => return Ended::Lost("the server closed the connection".to_owned()),
                },
            }
        }
    }

    fn track_outgoing(&mut self, message: &Message) {
        match message {
            Message::Request(r) => {
                self.pending.insert(r.id.clone());
                if r.method == "initialize" {
                    self.init = vec![message.clone()];
                }
            }
            Message::Notification(n) if n.method == "notifications/initialized" => self.init.push(message.clone()),
            Message::Batch(items) => items.iter().for_each(|m| self.track_outgoing(m)),
            _ => {}
        }
    }

    /// Connects again with backoff and initializes the new session as the first one was.
    async fn reconnect(&mut self) -> Result<WsTransport, String> {
        let mut wait = self.policy.initial_backoff;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            tokio::time::sleep(wait).await;
            let error = match connect(&self.url, &self.config).await {
                Ok(mut conn) => match self.replay_init(&mut conn).await {
                    Ok(()) => {
                        tracing::info!(url = %self.url, attempt, "reconnected: new session initialized");
                        return Ok(conn);
                    }
                    Err(e) => e,
                },
                Err(e) => e.to_string(),
            };
            tracing::info!(url = %self.url, attempt, %error, "reconnect attempt failed");
            if self.policy.max_attempts.is_some_and(|max| attempt >= max) {
                return Err(format!("gave up reconnecting to {} after {attempt} attempts: {error}", self.url));
            }
            wait = (wait * 2).min(self.policy.max_backoff);
        }
    }

    /// Sends the recorded `initialize`, waits for its response (bounded by the connect
    /// timeout), then sends `notifications/initialized`.
    async fn replay_init(&self, conn: &mut WsTransport) -> Result<(), String> {
        let Some((Message::Request(init), rest)) = self.init.split_first() else {
            return Ok(());
        };
        conn.send(Message::Request(init.clone())).await.map_err(|e| e.to_string())?;
        let answered = async {
            loop {
                match conn.next().await {
                    Some(Ok(Message::Error(e))) if e.id.as_ref() == Some(&init.id) => {
                        return Err(format!("the server refused to initialize the new session: {}", e.error));
                    }
                    Some(Ok(m)) if response_id(&m) == Some(&init.id) => return Ok(()),
                    Some(Ok(_)) => {}
                    Some(Err(e)) if !e.is_fatal() => {}
                    Some(Err(e)) => return Err(e.to_string()),
                    None => return Err("the server closed the connection during initialize".to_owned()),
                }
            }
        };
        match tokio::time::timeout(self.config.connect_timeout, answered).await {
            Ok(result) => result?,
            Err(_) => return Err(format!("no initialize response within {:?}", self.config.connect_timeout)),
        }
        for message in rest {
            conn.send(message.clone()).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

fn response_id(message: &Message) -> Option<&RequestId> {
    match message {
        Message::Response(r) => Some(&r.id),
        Message::Error(e) => e.id.as_ref(),
        _ => None,
    }
}
