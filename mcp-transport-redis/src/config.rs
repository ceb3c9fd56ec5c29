//! What a process needs to know to reach a service over Redis, and the limits it applies.

use std::fmt;
use std::time::Duration;

use crate::error::RedisTransportError;

/// How messages travel between the two ends of a session; see the [crate docs](crate#delivery-modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// Redis pub/sub: one `PUBLISH` per message, nothing stored in Redis. At-most-once, but never
    /// silently: any loss window (a dropped connection, a peer that is not subscribed) ends the
    /// session with an error.
    #[default]
    PubSub,
    /// A Redis Stream per session and direction as the record of every message, announced by
    /// pub/sub doorbells for latency: a message survives a reconnect, and a Redis restart when
    /// Redis persists (appendonly).
    Durable,
}

impl Mode {
    /// The name used in URLs and announcements: `pubsub` or `durable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PubSub => "pubsub",
            Self::Durable => "durable",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "pubsub" => Some(Self::PubSub),
            "durable" | "streams" => Some(Self::Durable),
            _ => None,
        }
    }
}

/// Configuration of a [`RedisBus`](crate::RedisBus): where Redis is, which service, which mode,
/// and every timing and size limit (each with a safe default).
///
/// Build it with [`RedisConfig::new`] or [`RedisConfig::from_url`], then adjust fields.
#[derive(Clone)]
#[non_exhaustive]
pub struct RedisConfig {
    /// The Redis server, as a `redis://` or `rediss://` (TLS) URL understood by the `redis`
    /// crate (user, password, `/db`). Never logged with its password.
    pub redis_url: String,
    /// The service name: clients and servers of one service meet on its connect channel.
    pub service: String,
    /// The first part of every key and channel name (default `mcp`).
    pub prefix: String,
    /// The delivery mode (default [`Mode::PubSub`]). Both ends of a session must agree.
    pub mode: Mode,
    /// How often each end refreshes its liveness key and checks its peer's (default 5 s).
    pub heartbeat_interval: Duration,
    /// How long a liveness key lives without a refresh (default 15 s). A peer is declared dead
    /// once its key has been missing for another `liveness_ttl`, so death is detected within
    /// about `2 * liveness_ttl + heartbeat_interval`.
    pub liveness_ttl: Duration,
    /// How long a client waits for a server instance to take its session (default 10 s).
    pub accept_timeout: Duration,
    /// The flow-control window: messages a session's peer may send that this end has not read
    /// yet (default 1024); the peer's sink waits beyond it. Each end grants more as its
    /// application reads, so the received-message queue never holds more than this: at worst
    /// `session_queue * max_message_bytes` bytes per session (a message over the limit is
    /// replaced by a small marker as it arrives).
    pub session_queue: usize,
    /// The largest message accepted, in bytes (default 16 MiB). A larger received message is
    /// skipped with [`TransportError::MessageTooLarge`](mcp_core::TransportError::MessageTooLarge);
    /// sending one fails the same way before anything reaches Redis.
    pub max_message_bytes: usize,
    /// Durable mode: entries kept per session stream (`XADD MAXLEN ~`, checked every 64 appends,
    /// so about this many; default 10,000). A reader that falls further behind loses entries; it
    /// notices the gap and ends the session. Delivered entries are trimmed each heartbeat.
    pub stream_max_len: usize,
    /// Durable mode: how long a session waits for an unreachable Redis before it fails
    /// (default 30 s). Session streams live this long past their last refresh too, so a Redis
    /// restart within it loses nothing.
    pub outage_timeout: Duration,
    /// Messages queued for the process's publisher, all sessions together (default 4096); a
    /// full queue is the sending sessions' backpressure.
    pub publish_queue: usize,
    /// Load balancing: before claiming a session an instance waits this long per session it
    /// already serves (counting at most 50), so that idle instances win the `SET NX` (default 0.5 ms).
    pub claim_delay_per_session: Duration,
    /// Load balancing: how long an instance that is not the session's preferred one (by
    /// rendezvous hashing over the live instances) waits before claiming it anyway (default 100 ms).
    pub claim_fallback: Duration,
    /// For `rediss://`: the PEM certificate(s) of the CA that signed the Redis server's
    /// certificate, when it is not one of the public roots (webpki-roots) trusted by default.
    pub tls_root_cert_pem: Option<Vec<u8>>,
}

impl RedisConfig {
    /// A configuration for `service` on the Redis at `redis_url`, with every default.
    pub fn new(redis_url: impl Into<String>, service: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            service: service.into(),
            prefix: "mcp".to_owned(),
            mode: Mode::PubSub,
            heartbeat_interval: Duration::from_secs(5),
            liveness_ttl: Duration::from_secs(15),
            accept_timeout: Duration::from_secs(10),
            session_queue: 1024,
            max_message_bytes: 16 << 20,
            stream_max_len: 10_000,
            outage_timeout: Duration::from_secs(30),
            publish_queue: 4096,
            claim_delay_per_session: Duration::from_micros(500),
            claim_fallback: Duration::from_millis(100),
            tls_root_cert_pem: None,
        }
    }

    /// Parses the URL form the gateway uses: `redis://[user:password@]host:port/<service>`, or
    /// `rediss://` for TLS, with optional query parameters `mode=pubsub|durable`, `prefix=...`
    /// and `db=N`.
    ///
    /// ```
    /// use mcp_transport_redis::{Mode, RedisConfig};
    ///
    /// let config = RedisConfig::from_url("redis://127.0.0.1:6379/everything?mode=durable").unwrap();
    /// assert_eq!(config.service, "everything");
    /// assert_eq!(config.mode, Mode::Durable);
    /// assert_eq!(config.redis_url, "redis://127.0.0.1:6379/0");
    /// ```
    ///
    /// # Errors
    /// [`RedisTransportError::InvalidUrl`] when the scheme is not `redis`/`rediss`, the service
    /// is missing, or a query parameter is unknown or malformed.
    pub fn from_url(url: &str) -> Result<Self, RedisTransportError> {
        let invalid = |reason: String| RedisTransportError::InvalidUrl { url: redact(url), reason };
        let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "redis" | "rediss") {
            return Err(invalid(format!("scheme `{}` is not redis:// or rediss://", parsed.scheme())));
        }
        let service = parsed.path().trim_matches('/');
        if service.is_empty() || service.contains('/') {
            return Err(invalid("the path must be exactly one service name: redis://host:port/<service>".into()));
        }
        let service = percent_decode(service).map_err(invalid)?;
        let mut mode = Mode::PubSub;
        let mut prefix = None;
        let mut db = 0_i64;
        for (key, value) in parsed.query_pairs() {
            match &*key {
                "mode" => {
                    mode =
                        Mode::parse(&value).ok_or_else(|| invalid(format!("mode `{value}`: use pubsub or durable")))?
                }
                "prefix" if !value.is_empty() => prefix = Some(value.into_owned()),
                "db" => db = value.parse().map_err(|_| invalid(format!("db `{value}` is not a number")))?,
                other => return Err(invalid(format!("unknown parameter `{other}` (known: mode, prefix, db)"))),
            }
        }
        let mut redis_url = parsed.clone();
        redis_url.set_query(None);
        redis_url.set_path(&format!("/{db}"));
        let mut config = Self::new(redis_url.to_string(), service);
        config.mode = mode;
        if let Some(prefix) = prefix {
            config.prefix = prefix;
        }
        Ok(config)
    }

    /// Checks the values against each other.
    pub(crate) fn validate(&self) -> Result<(), RedisTransportError> {
        let invalid = |reason: &str| RedisTransportError::InvalidConfig(reason.to_owned());
        if self.service.is_empty() {
            return Err(invalid("service must not be empty"));
        }
        if self.heartbeat_interval.is_zero() || self.liveness_ttl <= self.heartbeat_interval {
            return Err(invalid("liveness_ttl must be longer than a non-zero heartbeat_interval"));
        }
        const DAY: Duration = Duration::from_secs(24 * 3600);
        let durations = [
            self.heartbeat_interval,
            self.liveness_ttl,
            self.accept_timeout,
            self.outage_timeout,
            self.claim_delay_per_session,
            self.claim_fallback,
        ];
        if durations.iter().any(|d| *d > DAY) {
            return Err(invalid("every duration must be at most one day"));
        }
        if self.session_queue < 2 || self.publish_queue == 0 || self.stream_max_len == 0 {
            return Err(invalid("session_queue >= 2, publish_queue >= 1 and stream_max_len >= 1 are required"));
        }
        Ok(())
    }

    /// The Redis URL with any password replaced by `***`, for logs and errors.
    pub fn redacted_redis_url(&self) -> String {
        redact(&self.redis_url)
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("redis_url", &self.redacted_redis_url())
            .field("service", &self.service)
            .field("prefix", &self.prefix)
            .field("mode", &self.mode)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("liveness_ttl", &self.liveness_ttl)
            .field("accept_timeout", &self.accept_timeout)
            .field("session_queue", &self.session_queue)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("stream_max_len", &self.stream_max_len)
            .field("outage_timeout", &self.outage_timeout)
            .field("publish_queue", &self.publish_queue)
            .field("claim_delay_per_session", &self.claim_delay_per_session)
            .field("claim_fallback", &self.claim_fallback)
            .field("tls_root_cert_pem", &self.tls_root_cert_pem.as_ref().map(|pem| pem.len()))
            .finish()
    }
}

/// `url` with its password replaced, so that it can be logged.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    url::form_urlencoded::parse(format!("s={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("service `{s}` is not valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_form_parses_service_mode_prefix_and_db() {
        let c = RedisConfig::from_url("rediss://user:secret@redis.example:6380/tools?mode=pubsub&prefix=team&db=3")
            .unwrap();
        assert_eq!(c.service, "tools");
        assert_eq!(c.mode, Mode::PubSub);
        assert_eq!(c.prefix, "team");
        assert_eq!(c.redis_url, "rediss://user:secret@redis.example:6380/3");
        assert_eq!(c.redacted_redis_url(), "rediss://user:***@redis.example:6380/3");
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn validation_names_what_is_wrong() {
        let mut c = RedisConfig::new("redis://127.0.0.1/", "s");
        assert!(c.validate().is_ok());
        c.liveness_ttl = c.heartbeat_interval;
        assert!(c.validate().unwrap_err().to_string().contains("liveness_ttl"));
        c = RedisConfig::new("redis://127.0.0.1/", "s");
        c.outage_timeout = Duration::MAX;
        assert!(c.validate().unwrap_err().to_string().contains("one day"));
        c = RedisConfig::new("redis://127.0.0.1/", "s");
        c.session_queue = 1;
        assert!(c.validate().unwrap_err().to_string().contains("session_queue"));
    }

    #[test]
    fn url_form_rejects_what_it_cannot_serve() {
        for (url, needle) in [
            ("http://127.0.0.1:6379/x", "scheme"),
            ("redis://127.0.0.1:6379", "service"),
            ("redis://127.0.0.1:6379/a/b", "service"),
            ("redis://127.0.0.1:6379/a?mode=fast", "mode"),
            ("redis://127.0.0.1:6379/a?color=red", "unknown parameter"),
            ("redis://:hunter2@127.0.0.1:6379/a?db=x", "db"),
        ] {
            let err = RedisConfig::from_url(url).unwrap_err().to_string();
            assert!(err.contains(needle), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
