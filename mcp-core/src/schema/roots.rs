//! Roots: `roots/list` (params: [`RequestParams`](super::RequestParams)) and, until 2025-11-25,
//! `notifications/roots/list_changed` (params: [`NotificationParams`](super::NotificationParams)).
//!
//! Until 2025-11-25 a server→client request; in 2026-07-28 an input request of an
//! [`InputRequiredResult`](super::InputRequiredResult) (see [`ListRootsRequest`](super::ListRootsRequest)).

use serde::{Deserialize, Serialize};

use super::base::{JsonObject, Meta, ResultType};
use super::serde_util::impl_has_meta;

/// A directory or file the server may operate on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Root {
    /// The root's URI (a `file://` URI).
    pub uri: String,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Metadata (2025-06-18).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl Root {
    /// A root at `uri`.
    pub fn new(uri: impl Into<String>) -> Self {
        Self { uri: uri.into(), ..Self::default() }
    }

    /// Sets the name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// The result of `roots/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRootsResult {
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The result type, where a revision defines one for this result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The roots.
    pub roots: Vec<Root>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ListRootsResult {
    /// A result with `roots`.
    pub fn new(roots: impl IntoIterator<Item = Root>) -> Self {
        Self { roots: roots.into_iter().collect(), ..Self::default() }
    }
}

impl_has_meta!(Root, ListRootsResult);
