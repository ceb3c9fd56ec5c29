//! Elicitation: `elicitation/create`, the server asking the user for input through the client
//! (2025-06-18), in form mode (a restricted JSON Schema the client renders) or URL mode
//! (2025-11-25: the user visits a URL out of band).
//!
//! Until 2025-11-25 a server→client request; in 2026-07-28 an input request of an
//! [`InputRequiredResult`](super::InputRequiredResult) (see [`ElicitRequest`](super::ElicitRequest)).

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::base::{JsonObject, Meta, ResultType};
use super::serde_util::{from_map, impl_has_meta, opt_f64_compact, tagged_object};
use super::tag;
use super::tasks::TaskMetadata;

// ===== request params =====

/// The params of `elicitation/create`: form mode or URL mode, told apart by `mode`
/// (absent means form).
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitRequestParams {
    /// Form mode.
    Form(ElicitRequestFormParams),
    /// URL mode (2025-11-25).
    Url(ElicitRequestUrlParams),
}

impl ElicitRequestParams {
    /// The message shown to the user.
    pub fn message(&self) -> &str {
        match self {
            Self::Form(f) => &f.message,
            Self::Url(u) => &u.message,
        }
    }
}

impl From<ElicitRequestFormParams> for ElicitRequestParams {
    fn from(p: ElicitRequestFormParams) -> Self {
        Self::Form(p)
    }
}

impl From<ElicitRequestUrlParams> for ElicitRequestParams {
    fn from(p: ElicitRequestUrlParams) -> Self {
        Self::Url(p)
    }
}

impl Serialize for ElicitRequestParams {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Form(p) => p.serialize(s),
            Self::Url(p) => p.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ElicitRequestParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (map, mode) = tagged_object(d, "elicitation params", "mode")?;
        match mode.as_deref() {
            None | Some(tag::Form::VALUE) => from_map(map).map(Self::Form),
            Some(tag::Url::VALUE) => from_map(map).map(Self::Url),
            Some(other) => {
                Err(D::Error::custom(format_args!("unknown elicitation mode {other:?} (expected \"form\" or \"url\")")))
            }
        }
    }
}

/// The params of a form-mode elicitation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `"form"`, or absent (2025-11-25 made it explicit; absent still means form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<tag::Form>,
    /// What to ask the user.
    pub message: String,
    /// The fields to fill in.
    pub requested_schema: RequestedSchema,
    /// Run the request as a task (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ElicitRequestFormParams {
    /// A form asking `message` with the fields of `schema` (`mode` is set to `"form"`).
    pub fn new(message: impl Into<String>, schema: RequestedSchema) -> Self {
        Self { mode: Some(tag::Form), message: message.into(), requested_schema: schema, ..Self::default() }
    }
}

/// The params of a URL-mode elicitation (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestUrlParams {
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Always `"url"`.
    pub mode: tag::Url,
    /// Why the user should visit the URL.
    pub message: String,
    /// The URL to visit.
    pub url: String,
    /// The elicitation's id, for `notifications/elicitation/complete` (2025-11-25 only;
    /// required there, removed in 2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation_id: Option<String>,
    /// Run the request as a task (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ElicitRequestUrlParams {
    /// Asks the user to visit `url`, saying `message`.
    pub fn new(message: impl Into<String>, url: impl Into<String>) -> Self {
        Self { message: message.into(), url: url.into(), ..Self::default() }
    }

    /// Sets the elicitation id (2025-11-25).
    #[must_use]
    pub fn with_elicitation_id(mut self, id: impl Into<String>) -> Self {
        self.elicitation_id = Some(id.into());
        self
    }
}

// ===== requested schema =====

/// The restricted JSON Schema of a form: a flat object of primitive fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestedSchema {
    /// The JSON Schema dialect (2025-11-25).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Always `"object"`.
    #[serde(rename = "type")]
    pub kind: tag::Object,
    /// The fields.
    pub properties: BTreeMap<String, PrimitiveSchemaDefinition>,
    /// The names of the fields the user must fill in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl RequestedSchema {
    /// A form without fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field.
    #[must_use]
    pub fn with_property(mut self, name: impl Into<String>, schema: impl Into<PrimitiveSchemaDefinition>) -> Self {
        self.properties.insert(name.into(), schema.into());
        self
    }

    /// Adds a field the user must fill in.
    #[must_use]
    pub fn with_required_property(
        mut self,
        name: impl Into<String>,
        schema: impl Into<PrimitiveSchemaDefinition>,
    ) -> Self {
        let name = name.into();
        self.required.push(name.clone());
        self.properties.insert(name, schema.into());
        self
    }
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq)]
pub enum PrimitiveSchemaDefinition {
    /// A string.
    String(StringSchema),
    /// A number or integer.
    Number(NumberSchema),
    /// A boolean.
    Boolean(BooleanSchema),
    /// One of a list of strings (`enum`).
    UntitledSingleSelect(UntitledSingleSelectEnumSchema),
    /// One of a list of strings with display titles (`oneOf` of `const`/`title`; 2025-11-25).
    TitledSingleSelect(TitledSingleSelectEnumSchema),
    /// Several of a list of strings (2025-11-25).
    UntitledMultiSelect(UntitledMultiSelectEnumSchema),
    /// Several of a list of strings with display titles (2025-11-25).
    TitledMultiSelect(TitledMultiSelectEnumSchema),
    /// One of a list of strings with `enumNames` titles (2025-06-18's form; legacy since 2025-11-25).
    LegacyTitled(LegacyTitledEnumSchema),
    /// A field of a kind this crate does not know, kept as it arrived.
    Unknown(JsonObject),
}

impl Serialize for PrimitiveSchemaDefinition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::String(x) => x.serialize(s),
            Self::Number(x) => x.serialize(s),
            Self::Boolean(x) => x.serialize(s),
            Self::UntitledSingleSelect(x) => x.serialize(s),
            Self::TitledSingleSelect(x) => x.serialize(s),
            Self::UntitledMultiSelect(x) => x.serialize(s),
            Self::TitledMultiSelect(x) => x.serialize(s),
            Self::LegacyTitled(x) => x.serialize(s),
            Self::Unknown(x) => x.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for PrimitiveSchemaDefinition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (map, kind) = tagged_object(d, "a form field schema", "type")?;
        match kind.as_deref() {
            Some("string") if map.contains_key("oneOf") => from_map(map).map(Self::TitledSingleSelect),
            Some("string") if map.contains_key("enumNames") => from_map(map).map(Self::LegacyTitled),
            Some("string") if map.contains_key("enum") => from_map(map).map(Self::UntitledSingleSelect),
            Some("string") => from_map(map).map(Self::String),
            Some("number" | "integer") => from_map(map).map(Self::Number),
            Some("boolean") => from_map(map).map(Self::Boolean),
            Some("array") if map.get("items").and_then(|i| i.get("anyOf")).is_some() => {
                from_map(map).map(Self::TitledMultiSelect)
            }
            Some("array") => from_map(map).map(Self::UntitledMultiSelect),
            _ => Ok(Self::Unknown(map)),
        }
    }
}

macro_rules! primitive_from {
    ($($variant:ident($ty:ty)),*) => {
        $(impl From<$ty> for PrimitiveSchemaDefinition {
            fn from(x: $ty) -> Self {
                Self::$variant(x)
            }
        })*
    };
}
primitive_from!(
    String(StringSchema),
    Number(NumberSchema),
    Boolean(BooleanSchema),
    UntitledSingleSelect(UntitledSingleSelectEnumSchema),
    TitledSingleSelect(TitledSingleSelectEnumSchema),
    UntitledMultiSelect(UntitledMultiSelectEnumSchema),
    TitledMultiSelect(TitledMultiSelectEnumSchema),
    LegacyTitled(LegacyTitledEnumSchema)
);

/// The formats a string field may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StringFormat {
    /// `"email"`.
    #[serde(rename = "email")]
    Email,
    /// `"uri"`.
    #[serde(rename = "uri")]
    Uri,
    /// `"date"`.
    #[serde(rename = "date")]
    Date,
    /// `"date-time"`.
    #[serde(rename = "date-time")]
    DateTime,
}

/// A string field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StringSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub kind: tag::StringType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The shortest allowed length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// The longest allowed length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// The format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// The initial value (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl StringSchema {
    /// A string field labelled `title`.
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: Some(title.into()), ..Self::default() }
    }
}

/// Whether a number field takes any number or only integers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberType {
    /// `"number"`.
    #[default]
    Number,
    /// `"integer"`.
    Integer,
}

/// A number field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NumberSchema {
    /// `"number"` or `"integer"`.
    #[serde(rename = "type")]
    pub kind: NumberType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The smallest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "opt_f64_compact")]
    pub minimum: Option<f64>,
    /// The largest allowed value.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "opt_f64_compact")]
    pub maximum: Option<f64>,
    /// The initial value (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "opt_f64_compact")]
    pub default: Option<f64>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl NumberSchema {
    /// A number field labelled `title`.
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: Some(title.into()), ..Self::default() }
    }

    /// An integer field labelled `title`.
    pub fn integer(title: impl Into<String>) -> Self {
        Self { kind: NumberType::Integer, ..Self::new(title) }
    }
}

/// A boolean field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BooleanSchema {
    /// Always `"boolean"`.
    #[serde(rename = "type")]
    pub kind: tag::Boolean,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The initial value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl BooleanSchema {
    /// A boolean field labelled `title`.
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: Some(title.into()), ..Self::default() }
    }
}

/// A choice with a display title: `{"const": value, "title": title}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TitledEnumOption {
    /// The value.
    #[serde(rename = "const")]
    pub value: String,
    /// The label.
    pub title: String,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl TitledEnumOption {
    /// The choice `value` labelled `title`.
    pub fn new(value: impl Into<String>, title: impl Into<String>) -> Self {
        Self { value: value.into(), title: title.into(), extra: JsonObject::new() }
    }
}

/// One of a list of strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UntitledSingleSelectEnumSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub kind: tag::StringType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The choices.
    #[serde(rename = "enum")]
    pub values: Vec<String>,
    /// The initial choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl UntitledSingleSelectEnumSchema {
    /// A choice among `values`.
    pub fn new(values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { values: values.into_iter().map(Into::into).collect(), ..Self::default() }
    }
}

/// One of a list of strings with display titles (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledSingleSelectEnumSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub kind: tag::StringType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The choices.
    pub one_of: Vec<TitledEnumOption>,
    /// The initial choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The `items` of an [`UntitledMultiSelectEnumSchema`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UntitledEnumItems {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub kind: tag::StringType,
    /// The choices.
    #[serde(rename = "enum")]
    pub values: Vec<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// The `items` of a [`TitledMultiSelectEnumSchema`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledEnumItems {
    /// The choices.
    pub any_of: Vec<TitledEnumOption>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// Several of a list of strings (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntitledMultiSelectEnumSchema {
    /// Always `"array"`.
    #[serde(rename = "type")]
    pub kind: tag::Array,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The fewest choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// The most choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The choices.
    pub items: UntitledEnumItems,
    /// The initial choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// Several of a list of strings with display titles (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitledMultiSelectEnumSchema {
    /// Always `"array"`.
    #[serde(rename = "type")]
    pub kind: tag::Array,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The fewest choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// The most choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// The choices.
    pub items: TitledEnumItems,
    /// The initial choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// One of a list of strings with titles in a parallel `enumNames` list (2025-06-18's enum
/// field; kept as "legacy" in 2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTitledEnumSchema {
    /// Always `"string"`.
    #[serde(rename = "type")]
    pub kind: tag::StringType,
    /// The field's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The choices.
    #[serde(rename = "enum")]
    pub values: Vec<String>,
    /// Display titles, one per choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enum_names: Option<Vec<String>>,
    /// The initial choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

// ===== result =====

/// What the user did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted the form / confirmed.
    Accept,
    /// Explicitly declined.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// The result of `elicitation/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitResult {
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The result type, where a revision defines one for this result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted values (form mode, `accept` only): strings, numbers, booleans, or
    /// arrays of strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<JsonObject>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ElicitResult {
    fn with_action(action: ElicitAction) -> Self {
        Self { meta: None, result_type: None, action, content: None, extra: JsonObject::new() }
    }

    /// The user submitted `content` (a `Value` that is not an object is dropped; URL mode
    /// accepts without content).
    pub fn accept(content: Value) -> Self {
        let content = match content {
            Value::Object(map) => Some(map),
            _ => None,
        };
        Self { content, ..Self::with_action(ElicitAction::Accept) }
    }

    /// The user declined.
    pub fn decline() -> Self {
        Self::with_action(ElicitAction::Decline)
    }

    /// The user dismissed the request.
    pub fn cancel() -> Self {
        Self::with_action(ElicitAction::Cancel)
    }
}

/// The params of `notifications/elicitation/complete` (2025-11-25 only): a URL-mode
/// elicitation finished.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The id from [`ElicitRequestUrlParams::elicitation_id`].
    pub elicitation_id: String,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl_has_meta!(ElicitRequestFormParams, ElicitRequestUrlParams, ElicitResult, ElicitationCompleteNotificationParams);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_kinds_are_recognised() {
        let cases = [
            (json!({"type": "string", "format": "email"}), "String"),
            (json!({"type": "integer", "minimum": 1}), "Number"),
            (json!({"type": "boolean"}), "Boolean"),
            (json!({"type": "string", "enum": ["a"]}), "UntitledSingleSelect"),
            (json!({"type": "string", "enum": ["a"], "enumNames": ["A"]}), "LegacyTitled"),
            (json!({"type": "string", "oneOf": [{"const": "a", "title": "A"}]}), "TitledSingleSelect"),
            (json!({"type": "array", "items": {"type": "string", "enum": ["a"]}}), "UntitledMultiSelect"),
            (json!({"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}}), "TitledMultiSelect"),
            (json!({"type": "object"}), "Unknown"),
        ];
        for (v, want) in cases {
            let d: PrimitiveSchemaDefinition = serde_json::from_value(v.clone()).unwrap();
            assert!(format!("{d:?}").starts_with(want), "{v} decoded as {d:?}");
            assert_eq!(serde_json::to_value(&d).unwrap(), v);
        }
    }

    #[test]
    fn mode_selects_the_params() {
        let p: ElicitRequestParams =
            serde_json::from_value(json!({"message": "m", "requestedSchema": {"type": "object", "properties": {}}}))
                .unwrap();
        assert!(matches!(p, ElicitRequestParams::Form(_)));
        let p: ElicitRequestParams =
            serde_json::from_value(json!({"mode": "url", "message": "m", "url": "https://x"})).unwrap();
        assert!(matches!(p, ElicitRequestParams::Url(_)));
        assert!(serde_json::from_value::<ElicitRequestParams>(json!({"mode": "telepathy", "message": "m"})).is_err());
    }
}
