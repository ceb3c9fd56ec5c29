//! The JSON-RPC 2.0 envelope that every MCP message travels in.
//!
//! A [`Message`] is decoded once from the wire. Its `params` and `result` stay as
//! [`RawJson`] (the exact bytes that arrived) until the code that handles the message asks for
//! a concrete type, so a relay that only routes messages never re-parses or re-encodes a payload,
//! and no field it does not know about is lost.
//!
//! ```
//! use mcp_core::jsonrpc::{Message, RequestId};
//!
//! let msg = Message::from_slice(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#).unwrap();
//! let Message::Request(req) = &msg else { panic!("a request") };
//! assert_eq!(req.id, RequestId::Number(7));
//! assert_eq!(req.method, "tools/list");
//! assert_eq!(msg.to_string(), r#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#);
//! ```

use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// The only JSON-RPC version MCP speaks.
pub const JSONRPC_VERSION: &str = "2.0";

/// Standard JSON-RPC and MCP error codes.
///
/// The JSON-RPC codes are defined by JSON-RPC 2.0; the others by the MCP revision named on each.
pub mod error_codes {
    /// Invalid JSON was received (JSON-RPC).
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON sent is not a valid request object (JSON-RPC).
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist or is not available (JSON-RPC).
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters (JSON-RPC).
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal JSON-RPC error (JSON-RPC).
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Resource not found (MCP 2025-11-25 and earlier; 2026-07-28 uses [`INVALID_PARAMS`]).
    pub const RESOURCE_NOT_FOUND: i64 = -32002;
    /// HTTP headers do not match the request body (MCP 2026-07-28; HTTP status 400).
    pub const HEADER_MISMATCH: i64 = -32020;
    /// The request needs a client capability the client did not declare (MCP 2026-07-28).
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
    /// The requested protocol version is not supported (MCP 2026-07-28).
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
    /// The request needs a URL-mode elicitation first (MCP 2025-11-25).
    pub const URL_ELICITATION_REQUIRED: i64 = -32042;
}

// ===== RawJson =====

/// A JSON value kept as the exact text that arrived (or was produced), parsed on demand.
///
/// Equality compares the text, so two values that differ only in white space or key order are
/// not equal; compare [`RawJson::to_value`] results for semantic equality.
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Serializes `value` into raw JSON.
    ///
    /// # Errors
    /// Fails only if `value`'s `Serialize` implementation fails (for example a map with
    /// non-string keys).
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(Self)
    }

    /// Wraps a string that must hold exactly one JSON value.
    ///
    /// # Errors
    /// Fails when `json` is not valid JSON.
    pub fn from_string(json: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(json).map(Self)
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses the JSON into `T`.
    ///
    /// # Errors
    /// Fails when the JSON does not have the shape `T` expects.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// Parses the JSON into a [`serde_json::Value`].
    pub fn to_value(&self) -> serde_json::Value {
        // The text is valid JSON by construction, so this cannot fail; fall back to Null
        // rather than panic to keep the "no panics" promise airtight.
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }

    /// The JSON `{}`.
    pub fn empty_object() -> Self {
        Self(RawValue::from_string("{}".to_owned()).unwrap_or_else(|_| RawValue::NULL.to_owned()))
    }

    fn first_byte(&self) -> u8 {
        self.0.get().as_bytes().first().copied().unwrap_or(b' ')
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(raw: Box<RawValue>) -> Self {
        Self(raw)
    }
}

impl From<RawJson> for Box<RawValue> {
    fn from(raw: RawJson) -> Self {
        raw.0
    }
}

impl TryFrom<serde_json::Value> for RawJson {
    type Error = serde_json::Error;
    fn try_from(value: serde_json::Value) -> Result<Self, Self::Error> {
        Self::from_serialize(&value)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Self)
    }
}

// ===== RequestId =====

/// A JSON-RPC request id: a string or an integer, never null.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(String),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) => serializer.serialize_i64(*n),
            Self::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer request id")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RequestId, E> {
                i64::try_from(v)
                    .map(RequestId::Number)
                    .map_err(|_| E::custom("request id does not fit in a 64-bit signed integer"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<RequestId, E> {
                Ok(RequestId::String(v))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

// ===== ErrorObject =====

/// The `error` member of a JSON-RPC error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code; see [`error_codes`].
    pub code: i64,
    /// A short, human-readable description.
    pub message: String,
    /// Additional information defined by the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<RawJson>,
}

impl ErrorObject {
    /// An error with a code and message and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    /// Attaches `data` (dropped silently if it cannot be serialized, which only a broken
    /// `Serialize` implementation causes).
    #[must_use]
    pub fn with_data<T: Serialize + ?Sized>(mut self, data: &T) -> Self {
        self.data = RawJson::from_serialize(data).ok();
        self
    }

    /// -32700: the bytes were not valid JSON.
    pub fn parse_error(detail: impl fmt::Display) -> Self {
        Self::new(error_codes::PARSE_ERROR, format!("Parse error: {detail}"))
    }

    /// -32600: valid JSON, but not a valid JSON-RPC message.
    pub fn invalid_request(detail: impl fmt::Display) -> Self {
        Self::new(error_codes::INVALID_REQUEST, format!("Invalid request: {detail}"))
    }

    /// -32601: the method is unknown or not available.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(error_codes::METHOD_NOT_FOUND, format!("Method not found: {method}"))
    }

    /// -32602: the parameters are invalid.
    pub fn invalid_params(detail: impl fmt::Display) -> Self {
        Self::new(error_codes::INVALID_PARAMS, format!("Invalid params: {detail}"))
    }

    /// -32603: the receiver failed while handling the message.
    pub fn internal_error(detail: impl fmt::Display) -> Self {
        Self::new(error_codes::INTERNAL_ERROR, format!("Internal error: {detail}"))
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for ErrorObject {}

// ===== messages =====

/// A request: a method call that expects exactly one response with the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The id the response will carry.
    pub id: RequestId,
    /// The method name, e.g. `tools/call`.
    pub method: String,
    /// The parameters, kept raw; `None` when absent (or `null`).
    pub params: Option<RawJson>,
    /// Routing hint, never on the wire: the id of the *incoming* request this outgoing request
    /// is made on behalf of (a server's `sampling/createMessage` during a `tools/call`). The
    /// Streamable HTTP transport sends it on that request's response stream; other transports
    /// ignore it. Decoding always leaves it `None`.
    pub related_request: Option<RequestId>,
}

/// A notification: a one-way message that gets no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The method name, e.g. `notifications/progress`.
    pub method: String,
    /// The parameters, kept raw; `None` when absent (or `null`).
    pub params: Option<RawJson>,
    /// Routing hint, never on the wire: the id of the incoming request this notification
    /// belongs to (progress and log messages of a `tools/call`); see [`Request::related_request`].
    pub related_request: Option<RequestId>,
}

/// A successful response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The id of the request this answers.
    pub id: RequestId,
    /// The result, kept raw.
    pub result: RawJson,
}

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The id of the request this answers; `None` (serialized as `null`) when the request's id
    /// could not be read, as for a parse error.
    pub id: Option<RequestId>,
    /// What went wrong.
    pub error: ErrorObject,
}

/// One JSON-RPC message, or a batch of them, as it travels on a [`Transport`](crate::Transport).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A successful response.
    Response(Response),
    /// An error response.
    Error(ErrorResponse),
    /// A JSON array of messages. Only the 2025-03-26 revision allows batches; a session on
    /// another revision answers one with -32600. A batch never contains a batch.
    Batch(Vec<Message>),
}

impl Request {
    /// A request whose params are serialized from `params`.
    ///
    /// # Errors
    /// Fails only when `params`' `Serialize` implementation fails.
    pub fn new<P: Serialize + ?Sized>(
        id: impl Into<RequestId>,
        method: impl Into<String>,
        params: &P,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: id.into(),
            method: method.into(),
            params: Some(RawJson::from_serialize(params)?),
            related_request: None,
        })
    }

    /// Parses the params into `T`; absent params parse as `{}`.
    ///
    /// # Errors
    /// Fails when the params do not have the shape `T` expects.
    pub fn parse_params<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        parse_params(self.params.as_ref())
    }
}

impl Notification {
    /// A notification whose params are serialized from `params`.
    ///
    /// # Errors
    /// Fails only when `params`' `Serialize` implementation fails.
    pub fn new<P: Serialize + ?Sized>(method: impl Into<String>, params: &P) -> Result<Self, serde_json::Error> {
        Ok(Self { method: method.into(), params: Some(RawJson::from_serialize(params)?), related_request: None })
    }

    /// Parses the params into `T`; absent params parse as `{}`.
    ///
    /// # Errors
    /// Fails when the params do not have the shape `T` expects.
    pub fn parse_params<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        parse_params(self.params.as_ref())
    }
}

fn parse_params<T: DeserializeOwned>(params: Option<&RawJson>) -> Result<T, serde_json::Error> {
    match params {
        Some(raw) => raw.parse(),
        None => serde_json::from_str("{}"),
    }
}

impl Response {
    /// A response whose result is serialized from `result`.
    ///
    /// # Errors
    /// Fails only when `result`'s `Serialize` implementation fails.
    pub fn new<R: Serialize + ?Sized>(id: RequestId, result: &R) -> Result<Self, serde_json::Error> {
        Ok(Self { id, result: RawJson::from_serialize(result)? })
    }
}

impl Message {
    /// A request message; see [`Request::new`].
    ///
    /// # Errors
    /// Fails only when `params`' `Serialize` implementation fails.
    pub fn request<P: Serialize + ?Sized>(
        id: impl Into<RequestId>,
        method: impl Into<String>,
        params: &P,
    ) -> Result<Self, serde_json::Error> {
        Request::new(id, method, params).map(Self::Request)
    }

    /// A notification message; see [`Notification::new`].
    ///
    /// # Errors
    /// Fails only when `params`' `Serialize` implementation fails.
    pub fn notification<P: Serialize + ?Sized>(
        method: impl Into<String>,
        params: &P,
    ) -> Result<Self, serde_json::Error> {
        Notification::new(method, params).map(Self::Notification)
    }

    /// A success response message; see [`Response::new`].
    ///
    /// # Errors
    /// Fails only when `result`'s `Serialize` implementation fails.
    pub fn response<R: Serialize + ?Sized>(id: RequestId, result: &R) -> Result<Self, serde_json::Error> {
        Response::new(id, result).map(Self::Response)
    }

    /// An error response message.
    pub fn error(id: Option<RequestId>, error: ErrorObject) -> Self {
        Self::Error(ErrorResponse { id, error })
    }

    /// The method, for requests and notifications.
    pub fn method(&self) -> Option<&str> {
        match self {
            Self::Request(r) => Some(&r.method),
            Self::Notification(n) => Some(&n.method),
            _ => None,
        }
    }

    /// Sets the [routing hint](Request::related_request) on a request or notification.
    #[must_use]
    pub fn with_related_request(mut self, id: Option<RequestId>) -> Self {
        match &mut self {
            Self::Request(r) => r.related_request = id,
            Self::Notification(n) => n.related_request = id,
            _ => {}
        }
        self
    }

    /// The [routing hint](Request::related_request) of a request or notification.
    pub fn related_request(&self) -> Option<&RequestId> {
        match self {
            Self::Request(r) => r.related_request.as_ref(),
            Self::Notification(n) => n.related_request.as_ref(),
            _ => None,
        }
    }

    /// The id, for requests and responses.
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Self::Request(r) => Some(&r.id),
            Self::Response(r) => Some(&r.id),
            Self::Error(e) => e.id.as_ref(),
            _ => None,
        }
    }

    /// Decodes one message or a batch from a complete JSON text.
    ///
    /// # Errors
    /// [`DecodeError::Parse`] when the bytes are not JSON (answer -32700 with a null id);
    /// [`DecodeError::Invalid`] when they are JSON but not a JSON-RPC 2.0 message (answer -32600
    /// with the id, when one could be read).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        // serde_json does not validate UTF-8 in values it skips, so check the whole frame once
        // and parse the text from then on (which also spares serde_json a check per string).
        let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::Parse(format!("invalid UTF-8: {e}")))?;
        Self::decode_text(text)
    }

    fn decode_text(text: &str) -> Result<Self, DecodeError> {
        let first = text.bytes().find(|b| !b.is_ascii_whitespace());
        if first == Some(b'[') {
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| classify(&e, text))?;
            if items.is_empty() {
                return Err(DecodeError::Invalid { id: None, detail: "empty batch".into() });
            }
            let mut messages = Vec::with_capacity(items.len());
            for item in items {
                if item.get().starts_with('[') {
                    return Err(DecodeError::Invalid { id: None, detail: "a batch must not contain a batch".into() });
                }
                messages.push(decode_single(item.get())?);
            }
            return Ok(Self::Batch(messages));
        }
        decode_single(text)
    }

    /// Encodes the message as compact JSON on one line: a line break that a raw value kept
    /// between its tokens (a pretty-printed body does) is written as a space.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(crate::encode::size_hint(self));
        self.write_to(&mut out);
        out
    }

    /// Appends the encoding of [`to_vec`](Self::to_vec) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        crate::encode::message(self, out);
    }
}

impl std::str::FromStr for Message {
    type Err = DecodeError;

    /// Decodes from a string; see [`Message::from_slice`].
    fn from_str(text: &str) -> Result<Self, DecodeError> {
        Self::decode_text(text)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_vec();
        f.write_str(&String::from_utf8_lossy(&bytes))
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Request(r) => {
                let mut map = serializer.serialize_map(Some(if r.params.is_some() { 4 } else { 3 }))?;
                map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
                map.serialize_entry("id", &r.id)?;
                map.serialize_entry("method", &r.method)?;
                if let Some(p) = &r.params {
                    map.serialize_entry("params", p)?;
                }
                map.end()
            }
            Self::Notification(n) => {
                let mut map = serializer.serialize_map(Some(if n.params.is_some() { 3 } else { 2 }))?;
                map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
                map.serialize_entry("method", &n.method)?;
                if let Some(p) = &n.params {
                    map.serialize_entry("params", p)?;
                }
                map.end()
            }
            Self::Response(r) => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
                map.serialize_entry("id", &r.id)?;
                map.serialize_entry("result", &r.result)?;
                map.end()
            }
            Self::Error(e) => {
                let mut map = serializer.serialize_map(Some(3))?;
                map.serialize_entry("jsonrpc", JSONRPC_VERSION)?;
                map.serialize_entry("id", &e.id)?;
                map.serialize_entry("error", &e.error)?;
                map.end()
            }
            Self::Batch(items) => items.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Message::decode_text(raw.get()).map_err(D::Error::custom)
    }
}

// ===== decoding =====

/// Why bytes did not decode into a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not valid JSON (or not valid UTF-8). Answer with -32700 and a null id.
    #[error("not valid JSON: {0}")]
    Parse(String),
    /// Valid JSON that is not a JSON-RPC 2.0 message. Answer with -32600 and `id`.
    #[error("not a valid JSON-RPC 2.0 message: {detail}")]
    Invalid {
        /// The id of the offending message, when one could be read.
        id: Option<RequestId>,
        /// What is wrong with it.
        detail: String,
    },
}

impl DecodeError {
    /// The error response a receiver should send back.
    pub fn to_error_response(&self) -> Message {
        match self {
            Self::Parse(detail) => Message::error(None, ErrorObject::parse_error(detail)),
            Self::Invalid { id, detail } => Message::error(id.clone(), ErrorObject::invalid_request(detail)),
        }
    }
}

/// `Some(None)` when the field is present and null, `Some(Some(_))` when present, `None` when absent.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "double_option")]
    id: Option<Option<RequestId>>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<RawJson>,
    #[serde(default)]
    result: Option<RawJson>,
    #[serde(default, deserialize_with = "double_option")]
    error: Option<Option<ErrorObject>>,
}

fn decode_single(text: &str) -> Result<Message, DecodeError> {
    let env: Envelope<'_> = serde_json::from_str(text).map_err(|e| classify(&e, text))?;
    let id = env.id.clone().flatten();
    let invalid = |detail: &str| DecodeError::Invalid { id: id.clone(), detail: detail.to_owned() };
    match env.jsonrpc.map(RawValue::get) {
        Some("\"2.0\"") => {}
        Some(_) => return Err(invalid("\"jsonrpc\" must be \"2.0\"")),
        None => return Err(invalid("missing \"jsonrpc\": \"2.0\"")),
    }
    if let Some(p) = &env.params
        && !matches!(p.first_byte(), b'{' | b'[')
    {
        return Err(invalid("\"params\" must be an object or an array"));
    }
    match (env.method, env.result, env.error) {
        (Some(method), None, None) => match env.id {
            None => Ok(Message::Notification(Notification { method, params: env.params, related_request: None })),
            Some(Some(id)) => Ok(Message::Request(Request { id, method, params: env.params, related_request: None })),
            Some(None) => Err(invalid("a request id must be a string or an integer, not null")),
        },
        (None, Some(result), None) => match env.id {
            Some(Some(id)) => Ok(Message::Response(Response { id, result })),
            _ => Err(invalid("a response needs the id of the request it answers")),
        },
        (None, None, Some(Some(error))) => Ok(Message::Error(ErrorResponse { id, error })),
        (None, None, Some(None)) => Err(invalid("\"error\" must be an object")),
        (None, None, None) => Err(invalid("a message needs \"method\", \"result\" or \"error\"")),
        _ => Err(invalid("a message has exactly one of \"method\", \"result\" and \"error\"")),
    }
}

/// Tells JSON syntax errors (-32700) from shape errors (-32600), salvaging the id if possible.
#[cold]
fn classify(err: &serde_json::Error, text: &str) -> DecodeError {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => DecodeError::Parse(err.to_string()),
        Category::Data => {
            let id = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .and_then(|id| serde_json::from_value::<RequestId>(id).ok());
            DecodeError::Invalid { id, detail: err.to_string() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn roundtrip(text: &str) {
        let msg = Message::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(msg.to_string(), text);
    }

    #[test]
    fn wire_forms_round_trip_exactly() {
        roundtrip(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
        roundtrip(r#"{"jsonrpc":"2.0","id":"abc","method":"tools/call","params":{"name":"x","arguments":{}}}"#);
        roundtrip(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        roundtrip(r#"{"jsonrpc":"2.0","id":-5,"result":{}}"#);
        roundtrip(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#);
        roundtrip(r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"nope","data":{"x":[1,2]}}}"#);
        roundtrip(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"}]"#);
    }

    #[test]
    fn unknown_fields_in_params_survive() {
        roundtrip(
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{"vendor/x":{"deep":[true,null]}},"future":1.5}}"#,
        );
    }

    #[test]
    fn error_without_id_decodes() {
        let m = Message::from_str(r#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"bad"}}"#).unwrap();
        assert!(matches!(m, Message::Error(ErrorResponse { id: None, .. })));
    }

    #[test]
    fn rejects_what_is_not_json_rpc() {
        for (text, want_id) in [
            (r#"{"jsonrpc":"1.0","id":3,"method":"x"}"#, Some(RequestId::Number(3))),
            (r#"{"id":4,"method":"x"}"#, Some(RequestId::Number(4))),
            (r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#, None),
            (r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#, None),
            (r#"{"jsonrpc":"2.0","id":true,"method":"x"}"#, None),
            (r#"{"jsonrpc":"2.0","method":7}"#, None),
            (r#"{"jsonrpc":"2.0","id":"q","method":"x","params":3}"#, Some(RequestId::from("q"))),
            (r#"{"jsonrpc":"2.0","id":1,"method":"x","result":{}}"#, Some(RequestId::Number(1))),
            (r#"{"jsonrpc":"2.0","result":{}}"#, None),
            (r#"{"jsonrpc":"2.0"}"#, None),
            (r#"42"#, None),
            (r#"[]"#, None),
            (r#"[[{"jsonrpc":"2.0","method":"x"}]]"#, None),
        ] {
            match Message::from_str(text) {
                Err(DecodeError::Invalid { id, .. }) => assert_eq!(id, want_id, "{text}"),
                other => panic!("{text}: expected Invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn syntax_errors_are_parse_errors() {
        for text in ["{", "", "not json", r#"{"jsonrpc":"2.0","id":1,"method":"x"} trailing"#] {
            assert!(matches!(Message::from_str(text), Err(DecodeError::Parse(_))), "{text}");
        }
        assert!(matches!(Message::from_slice(b"{\"a\":\"\xff\"}"), Err(DecodeError::Parse(_))));
        let resp = DecodeError::Parse("x".into()).to_error_response();
        assert_eq!(
            resp.to_string(),
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: x"}}"#
        );
    }

    #[test]
    fn routing_hint_never_reaches_the_wire() {
        let msg = Message::notification("notifications/progress", &serde_json::json!({"progressToken": 1}))
            .unwrap()
            .with_related_request(Some(RequestId::Number(9)));
        assert_eq!(msg.related_request(), Some(&RequestId::Number(9)));
        assert!(!msg.to_string().contains('9'), "{msg}");
    }

    #[test]
    fn large_unsigned_ids_are_rejected_not_wrapped() {
        assert!(Message::from_str(r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"x"}"#).is_err());
    }
}
