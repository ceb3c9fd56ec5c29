//! The 2026-07-28 additions: multi round-trip requests and `subscriptions/listen`.
//!
//! # Multi round-trip requests
//!
//! A server that needs something from the client (an LLM sample, an elicitation, the roots)
//! no longer sends a request of its own: it answers `tools/call`, `prompts/get` or
//! `resources/read` with an [`InputRequiredResult`] whose [`InputRequests`] name what it needs.
//! The client fulfils them and retries the original request with the answers in
//! `inputResponses` (an [`InputResponses`] map with the same keys) and the opaque
//! `requestState` echoed back. Tell the two kinds of result apart with
//! [`ResultType::of`](super::ResultType::of) before decoding.
//!
//! # Subscriptions
//!
//! `subscriptions/listen` opens a long-lived stream of the change notifications the client
//! opts into ([`SubscriptionFilter`]); the server first sends
//! `notifications/subscriptions/acknowledged`, tags every notification with the listen
//! request's id (`_meta["io.modelcontextprotocol/subscriptionId"]`) and ends the stream with a
//! [`SubscriptionsListenResult`].

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::base::{JsonObject, Meta, RequestParams, ResultType, meta_keys};
use super::elicitation::{ElicitRequestParams, ElicitResult};
use super::roots::ListRootsResult;
use super::sampling::{CreateMessageRequestParams, CreateMessageResult};
use super::serde_util::{from_map, impl_has_meta, tagged_object};
use super::tag;
use crate::jsonrpc::RequestId;

// ===== input requests =====

/// The input requests of an [`InputRequiredResult`]: server-chosen key → request.
pub type InputRequests = BTreeMap<String, InputRequest>;

/// The answers to input requests, sent on the retry: the same keys → result.
pub type InputResponses = BTreeMap<String, InputResponse>;

/// A request the server needs the client to fulfil, told apart by `method`.
#[derive(Debug, Clone, PartialEq)]
pub enum InputRequest {
    /// `sampling/createMessage`.
    CreateMessage(CreateMessageRequest),
    /// `elicitation/create`.
    Elicit(ElicitRequest),
    /// `roots/list`.
    ListRoots(ListRootsRequest),
    /// A request of a method this crate does not know, kept as it arrived.
    Unknown(JsonObject),
}

impl InputRequest {
    /// The method.
    pub fn method(&self) -> &str {
        match self {
            Self::CreateMessage(_) => tag::CreateMessage::VALUE,
            Self::Elicit(_) => tag::Elicit::VALUE,
            Self::ListRoots(_) => tag::ListRoots::VALUE,
            Self::Unknown(map) => map.get("method").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl Serialize for InputRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::CreateMessage(r) => r.serialize(s),
            Self::Elicit(r) => r.serialize(s),
            Self::ListRoots(r) => r.serialize(s),
            Self::Unknown(map) => map.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for InputRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (map, method) = tagged_object(d, "an input request", "method")?;
        match method.as_deref() {
            Some(tag::CreateMessage::VALUE) => from_map(map).map(Self::CreateMessage),
            Some(tag::Elicit::VALUE) => from_map(map).map(Self::Elicit),
            Some(tag::ListRoots::VALUE) => from_map(map).map(Self::ListRoots),
            _ => Ok(Self::Unknown(map)),
        }
    }
}

impl From<CreateMessageRequest> for InputRequest {
    fn from(r: CreateMessageRequest) -> Self {
        Self::CreateMessage(r)
    }
}

impl From<ElicitRequest> for InputRequest {
    fn from(r: ElicitRequest) -> Self {
        Self::Elicit(r)
    }
}

impl From<ListRootsRequest> for InputRequest {
    fn from(r: ListRootsRequest) -> Self {
        Self::ListRoots(r)
    }
}

/// A `sampling/createMessage` input request: `{"method": ..., "params": ...}` without the
/// JSON-RPC envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateMessageRequest {
    /// Always `"sampling/createMessage"`.
    pub method: tag::CreateMessage,
    /// The params.
    pub params: CreateMessageRequestParams,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl CreateMessageRequest {
    /// A request with `params`.
    pub fn new(params: CreateMessageRequestParams) -> Self {
        Self { method: tag::CreateMessage, params, extra: JsonObject::new() }
    }
}

/// An `elicitation/create` input request: `{"method": ..., "params": ...}` without the
/// JSON-RPC envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElicitRequest {
    /// Always `"elicitation/create"`.
    pub method: tag::Elicit,
    /// The params.
    pub params: ElicitRequestParams,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ElicitRequest {
    /// A request with `params`.
    pub fn new(params: impl Into<ElicitRequestParams>) -> Self {
        Self { method: tag::Elicit, params: params.into(), extra: JsonObject::new() }
    }
}

/// A `roots/list` input request: `{"method": ...}` without the JSON-RPC envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListRootsRequest {
    /// Always `"roots/list"`.
    pub method: tag::ListRoots,
    /// The params (only `_meta`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<RequestParams>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The client's answer to one input request.
///
/// Decoding tells the kinds apart by their required fields (`action`, `roots`, `model`);
/// anything else is kept as [`InputResponse::Unknown`].
#[derive(Debug, Clone, PartialEq)]
// One per input request of a rare message; boxing would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
pub enum InputResponse {
    /// The answer to `sampling/createMessage`.
    CreateMessage(CreateMessageResult),
    /// The answer to `roots/list`.
    ListRoots(ListRootsResult),
    /// The answer to `elicitation/create`.
    Elicit(ElicitResult),
    /// An answer of a kind this crate does not recognise, kept as it arrived.
    Unknown(JsonObject),
}

impl Serialize for InputResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::CreateMessage(r) => r.serialize(s),
            Self::ListRoots(r) => r.serialize(s),
            Self::Elicit(r) => r.serialize(s),
            Self::Unknown(map) => map.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for InputResponse {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (map, _) = tagged_object(d, "an input response", "resultType")?;
        if map.contains_key("action") {
            from_map(map).map(Self::Elicit)
        } else if map.contains_key("roots") {
            from_map(map).map(Self::ListRoots)
        } else if map.contains_key("model") {
            from_map(map).map(Self::CreateMessage)
        } else {
            Ok(Self::Unknown(map))
        }
    }
}

impl From<CreateMessageResult> for InputResponse {
    fn from(r: CreateMessageResult) -> Self {
        Self::CreateMessage(r)
    }
}

impl From<ListRootsResult> for InputResponse {
    fn from(r: ListRootsResult) -> Self {
        Self::ListRoots(r)
    }
}

impl From<ElicitResult> for InputResponse {
    fn from(r: ElicitResult) -> Self {
        Self::Elicit(r)
    }
}

/// A result saying the server needs input before it can answer (`resultType: "input_required"`).
/// At least one of `inputRequests` and `requestState` is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRequiredResult {
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The result type (`"input_required"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// What the client must fulfil before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// Opaque server state the client echoes back on the retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl Default for InputRequiredResult {
    fn default() -> Self {
        Self::new()
    }
}

impl InputRequiredResult {
    /// An `input_required` result with no requests yet.
    pub fn new() -> Self {
        Self {
            meta: None,
            result_type: Some(ResultType::InputRequired),
            input_requests: None,
            request_state: None,
            extra: JsonObject::new(),
        }
    }

    /// Adds an input request under `key`.
    #[must_use]
    pub fn with_input_request(mut self, key: impl Into<String>, request: impl Into<InputRequest>) -> Self {
        self.input_requests.get_or_insert_with(InputRequests::new).insert(key.into(), request.into());
        self
    }

    /// Sets the request state.
    #[must_use]
    pub fn with_request_state(mut self, state: impl Into<String>) -> Self {
        self.request_state = Some(state.into());
        self
    }
}

/// The fields a retried request adds to its params (the schema's `InputResponseRequestParams`);
/// [`CallToolRequestParams`](super::CallToolRequestParams),
/// [`GetPromptRequestParams`](super::GetPromptRequestParams) and
/// [`ReadResourceRequestParams`](super::ReadResourceRequestParams) have them built in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputResponseRequestParams {
    /// Metadata; the [`RequestMeta`](super::RequestMeta) fields.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// The echoed request state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Fields this crate does not know (including the request's own params).
    #[serde(flatten)]
    pub extra: JsonObject,
}

// ===== subscriptions =====

/// Which change notifications a `subscriptions/listen` stream carries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// `notifications/resources/updated` for these URIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_subscriptions: Vec<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The params of `subscriptions/listen`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionsListenRequestParams {
    /// Metadata; the [`RequestMeta`](super::RequestMeta) fields.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The notifications wanted.
    pub notifications: SubscriptionFilter,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The params of `notifications/subscriptions/acknowledged`: the notifications the server
/// will actually send.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionsAcknowledgedNotificationParams {
    /// Metadata; the [`NotificationMeta`](super::NotificationMeta) fields.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The notifications granted.
    pub notifications: SubscriptionFilter,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The result of `subscriptions/listen`, sent when the server ends the subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionsListenResult {
    /// Metadata (required): the subscription id, under
    /// [`meta_keys::SUBSCRIPTION_ID`].
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The result type (`"complete"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl SubscriptionsListenResult {
    /// The end of the subscription opened by the request `subscription_id`.
    pub fn new(subscription_id: RequestId) -> Self {
        let id = match subscription_id {
            RequestId::Number(n) => Value::from(n),
            RequestId::String(s) => Value::String(s),
        };
        let mut meta = Meta::new();
        meta.insert(meta_keys::SUBSCRIPTION_ID.to_owned(), id);
        Self { meta: Some(meta), result_type: Some(ResultType::Complete), extra: JsonObject::new() }
    }
}

impl_has_meta!(
    InputRequiredResult,
    InputResponseRequestParams,
    SubscriptionsListenRequestParams,
    SubscriptionsAcknowledgedNotificationParams,
    SubscriptionsListenResult,
);
