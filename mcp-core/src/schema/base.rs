//! The building blocks every MCP message uses: `_meta` objects, progress tokens, cursors,
//! roles, annotations, icons, result types and cache hints, and the params/results that carry
//! nothing else.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lifecycle::{ClientCapabilities, Implementation};
use super::logging::LoggingLevel;
use super::serde_util::{impl_has_meta, opt_f64_compact};
use crate::jsonrpc::{RawJson, RequestId};

/// A JSON object whose content is free-form (or not modelled by this crate).
pub type JsonObject = Map<String, Value>;

/// The content of a `_meta` field: metadata attached to a request, result, notification or
/// object. Keys are `prefix/name` (see [`meta_keys`] for the reserved ones).
pub type Meta = JsonObject;

/// An opaque pagination position, as returned in `nextCursor` and sent back in `cursor`.
pub type Cursor = String;

/// The `_meta` keys the specification reserves.
pub mod meta_keys {
    /// Opts a request into progress notifications (all revisions).
    pub const PROGRESS_TOKEN: &str = "progressToken";
    /// The protocol version of a request (2026-07-28; required on every request).
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// The client's capabilities for a request (2026-07-28; required on every request).
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// The client's name and version (2026-07-28).
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// The minimum log level the server should emit for a request (2026-07-28).
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// The server's name and version, on results (2026-07-28).
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// Correlates a notification with its `subscriptions/listen` request (2026-07-28).
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
    /// Associates a message with a task (2025-11-25).
    pub const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";
    /// OpenTelemetry trace context (2026-07-28 documents the convention).
    pub const TRACEPARENT: &str = "traceparent";
    /// OpenTelemetry trace state.
    pub const TRACESTATE: &str = "tracestate";
    /// OpenTelemetry baggage.
    pub const BAGGAGE: &str = "baggage";
}

// ===== HasMeta =====

/// A message part with a `_meta` field, with typed access to the reserved keys.
///
/// ```
/// use mcp_core::schema::{CallToolRequestParams, HasMeta, ProgressToken};
///
/// let mut params = CallToolRequestParams::new("search");
/// params.set_progress_token(ProgressToken::from("p-1"));
/// assert_eq!(params.progress_token(), Some(ProgressToken::from("p-1")));
/// ```
pub trait HasMeta {
    /// The `_meta` object, if present.
    fn meta(&self) -> Option<&Meta>;

    /// The `_meta` object, for editing.
    fn meta_mut(&mut self) -> &mut Option<Meta>;

    /// The value under `key` in `_meta`.
    fn meta_value(&self, key: &str) -> Option<&Value> {
        self.meta().and_then(|m| m.get(key))
    }

    /// Sets `key` in `_meta` (creating `_meta` if absent); returns the previous value.
    fn set_meta_value(&mut self, key: impl Into<String>, value: Value) -> Option<Value>
    where
        Self: Sized,
    {
        self.meta_mut().get_or_insert_with(Meta::new).insert(key.into(), value)
    }

    /// The request's progress token (`_meta.progressToken`), if it has a valid one.
    fn progress_token(&self) -> Option<ProgressToken> {
        self.meta_value(meta_keys::PROGRESS_TOKEN).and_then(|v| ProgressToken::deserialize(v).ok())
    }

    /// Sets `_meta.progressToken`.
    fn set_progress_token(&mut self, token: ProgressToken)
    where
        Self: Sized,
    {
        self.set_meta_value(meta_keys::PROGRESS_TOKEN, token.into());
    }

    /// The typed view of a request's `_meta` (empty when absent).
    ///
    /// # Errors
    /// Fails when a reserved key holds a value of the wrong shape.
    fn request_meta(&self) -> Result<RequestMeta, serde_json::Error> {
        self.meta().map_or_else(|| Ok(RequestMeta::default()), RequestMeta::from_meta)
    }
}

// ===== typed _meta views =====

/// The typed view of a request's `_meta` (the 2026-07-28 `RequestMetaObject`; earlier revisions
/// only define `progressToken`).
///
/// `_meta` fields stay [`Meta`] maps on the wire types so that nothing is lost or reordered;
/// convert with [`RequestMeta::from_meta`] and [`RequestMeta::into_meta`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestMeta {
    /// Opts the request into progress notifications.
    #[serde(rename = "progressToken", default, skip_serializing_if = "Option::is_none")]
    pub progress_token: Option<ProgressToken>,
    /// The protocol version of this request (required in 2026-07-28). A string, not a
    /// [`ProtocolVersion`](crate::ProtocolVersion), so that an unknown version can be reported.
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// The client's capabilities for this request (required in 2026-07-28).
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", default, skip_serializing_if = "Option::is_none")]
    pub client_capabilities: Option<ClientCapabilities>,
    /// The client's self-reported identity.
    #[serde(rename = "io.modelcontextprotocol/clientInfo", default, skip_serializing_if = "Option::is_none")]
    pub client_info: Option<Implementation>,
    /// The minimum log level to emit for this request; absent means no log notifications.
    #[serde(rename = "io.modelcontextprotocol/logLevel", default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<LoggingLevel>,
    /// Keys this crate does not model (vendor keys, trace context, ...).
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl RequestMeta {
    /// The `_meta` a 2026-07-28 request needs: protocol version and client capabilities.
    pub fn new(protocol_version: impl Into<String>, client_capabilities: ClientCapabilities) -> Self {
        Self {
            protocol_version: Some(protocol_version.into()),
            client_capabilities: Some(client_capabilities),
            ..Self::default()
        }
    }

    /// Reads the typed view out of a `_meta` map.
    ///
    /// # Errors
    /// Fails when a reserved key holds a value of the wrong shape.
    pub fn from_meta(meta: &Meta) -> Result<Self, serde_json::Error> {
        Self::deserialize(meta)
    }

    /// Turns the typed view back into a `_meta` map.
    pub fn into_meta(self) -> Meta {
        into_object(&self)
    }
}

/// The typed view of a result's `_meta` (2026-07-28 `ResultMetaObject`, plus the subscription
/// id that `subscriptions/listen` results carry).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultMeta {
    /// The server's identity (2026-07-28: servers SHOULD send it on every result).
    #[serde(rename = "io.modelcontextprotocol/serverInfo", default, skip_serializing_if = "Option::is_none")]
    pub server_info: Option<Implementation>,
    /// The subscription a `subscriptions/listen` result ends.
    #[serde(rename = "io.modelcontextprotocol/subscriptionId", default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<RequestId>,
    /// Keys this crate does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ResultMeta {
    /// Reads the typed view out of a `_meta` map.
    ///
    /// # Errors
    /// Fails when a reserved key holds a value of the wrong shape.
    pub fn from_meta(meta: &Meta) -> Result<Self, serde_json::Error> {
        Self::deserialize(meta)
    }

    /// Turns the typed view back into a `_meta` map.
    pub fn into_meta(self) -> Meta {
        into_object(&self)
    }
}

/// The typed view of a notification's `_meta` (2026-07-28 `NotificationMetaObject`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationMeta {
    /// The `subscriptions/listen` request this notification was sent for.
    #[serde(rename = "io.modelcontextprotocol/subscriptionId", default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<RequestId>,
    /// Keys this crate does not model.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl NotificationMeta {
    /// Reads the typed view out of a `_meta` map.
    ///
    /// # Errors
    /// Fails when a reserved key holds a value of the wrong shape.
    pub fn from_meta(meta: &Meta) -> Result<Self, serde_json::Error> {
        Self::deserialize(meta)
    }

    /// Turns the typed view back into a `_meta` map.
    pub fn into_meta(self) -> Meta {
        into_object(&self)
    }
}

/// Serializes a struct that always serializes to an object (every `_meta` view does).
fn into_object<T: Serialize>(value: &T) -> Meta {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Meta::new(),
    }
}

// ===== ProgressToken =====

/// A token that ties progress notifications to a request: a string or an integer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProgressToken {
    /// A string token.
    String(String),
    /// An integer token.
    Number(i64),
}

impl From<&str> for ProgressToken {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl From<String> for ProgressToken {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<i64> for ProgressToken {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<ProgressToken> for Value {
    fn from(token: ProgressToken) -> Self {
        match token {
            ProgressToken::String(s) => Value::String(s),
            ProgressToken::Number(n) => Value::from(n),
        }
    }
}

impl std::fmt::Display for ProgressToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::String(s) => write!(f, "{s:?}"),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

// ===== Role, Annotations, Icon =====

/// The sender or recipient of a message in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user.
    User,
    /// The assistant (the model).
    Assistant,
}

/// Hints to the client about how to use or display an object (2025-03-26; in 2024-11-05 the
/// same fields were inline).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// Who the object is intended for; absent means unspecified (not "nobody").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<Role>>,
    /// How important the object is, from 0 (least) to 1 (most).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "opt_f64_compact")]
    pub priority: Option<f64>,
    /// When the object was last modified, as an ISO 8601 timestamp (2025-06-18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// Which UI theme an icon is designed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IconTheme {
    /// For a light background.
    Light,
    /// For a dark background.
    Dark,
}

/// An icon a client may display for an implementation, tool, prompt or resource (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Icon {
    /// The icon's URI: an `https:` URL or a `data:` URI.
    pub src: String,
    /// The MIME type, when the URI does not tell it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Sizes the icon is available in, e.g. `"48x48"` or `"any"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<String>,
    /// The theme the icon is designed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<IconTheme>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl Icon {
    /// An icon at `src`.
    pub fn new(src: impl Into<String>) -> Self {
        Self { src: src.into(), ..Self::default() }
    }

    /// Sets the MIME type.
    #[must_use]
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }
}

// ===== ResultType, CacheScope =====

/// How to read a result (2026-07-28 `resultType`). A result without the field (every earlier
/// revision) is [`ResultType::Complete`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultType {
    /// `"complete"`: the final result of the request.
    Complete,
    /// `"input_required"`: an [`InputRequiredResult`](super::InputRequiredResult); the client
    /// must answer its input requests and retry.
    InputRequired,
    /// A result type this crate does not know.
    Other(String),
}

impl ResultType {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Complete => "complete",
            Self::InputRequired => "input_required",
            Self::Other(s) => s,
        }
    }

    /// The result type of a raw result, without decoding the rest of it. Absent (or a result
    /// that is not an object) means [`ResultType::Complete`].
    pub fn of(result: &RawJson) -> Self {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Peek {
            #[serde(default)]
            result_type: Option<ResultType>,
        }
        result.parse::<Peek>().ok().and_then(|p| p.result_type).unwrap_or(Self::Complete)
    }
}

impl From<&str> for ResultType {
    fn from(s: &str) -> Self {
        match s {
            "complete" => Self::Complete,
            "input_required" => Self::InputRequired,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for ResultType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Self::from(&*s))
    }
}

/// Who may cache a result (2026-07-28 `cacheScope`), like HTTP `Cache-Control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheScope {
    /// No user-specific data: any client or shared intermediary may cache it.
    Public,
    /// Cacheable only within the same authorization context.
    Private,
}

// ===== params and results that carry nothing else =====

/// A result with no content: the answer to `ping`, `resources/subscribe`, `logging/setLevel`, ...
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyResult {
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The result type (2026-07-28, where it is required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl EmptyResult {
    /// An empty result with `resultType: "complete"`, as 2026-07-28 requires.
    pub fn complete() -> Self {
        Self { result_type: Some(ResultType::Complete), ..Self::default() }
    }
}

/// The params of a request that has nothing but `_meta` (`ping`, `server/discover`,
/// `roots/list`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestParams {
    /// Metadata; in 2026-07-28 the [`RequestMeta`] fields.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The params of a paginated list request (`tools/list`, `resources/list`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaginatedRequestParams {
    /// Metadata; in 2026-07-28 the [`RequestMeta`] fields.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Where to continue listing: the `nextCursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl PaginatedRequestParams {
    /// Params asking for the page after `cursor`.
    pub fn with_cursor(cursor: impl Into<Cursor>) -> Self {
        Self { cursor: Some(cursor.into()), ..Self::default() }
    }
}

/// The params of a notification that has nothing but `_meta` (`notifications/initialized`,
/// the `list_changed` notifications).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationParams {
    /// Metadata; in 2026-07-28 the [`NotificationMeta`] fields.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl_has_meta!(EmptyResult, RequestParams, PaginatedRequestParams, NotificationParams);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_meta_round_trips_through_a_map() {
        let meta: Meta = serde_json::from_str(
            r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
                "io.modelcontextprotocol/clientCapabilities":{"sampling":{}},
                "io.modelcontextprotocol/logLevel":"warning","progressToken":7,"traceparent":"00-ab"}"#,
        )
        .unwrap();
        let typed = RequestMeta::from_meta(&meta).unwrap();
        assert_eq!(typed.protocol_version.as_deref(), Some("2026-07-28"));
        assert_eq!(typed.progress_token, Some(ProgressToken::Number(7)));
        assert_eq!(typed.log_level, Some(LoggingLevel::Warning));
        assert_eq!(typed.extra.get(meta_keys::TRACEPARENT), Some(&Value::from("00-ab")));
        assert_eq!(typed.into_meta(), meta);
    }

    #[test]
    fn result_type_peek() {
        let raw = RawJson::from_string(r#"{"resultType":"input_required","requestState":"x"}"#.into()).unwrap();
        assert_eq!(ResultType::of(&raw), ResultType::InputRequired);
        let raw = RawJson::from_string(r#"{"content":[]}"#.into()).unwrap();
        assert_eq!(ResultType::of(&raw), ResultType::Complete);
        assert_eq!(serde_json::to_string(&ResultType::from("later")).unwrap(), "\"later\"");
    }
}
