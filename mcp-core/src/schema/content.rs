//! Content blocks: what tool results, prompt messages and sampling messages are made of.
//!
//! [`Content`] is one enum for all of them, tagged on `"type"`: text, image, audio (2025-03-26),
//! resource links (2025-06-18), embedded resources, and the tool use / tool result blocks of
//! sampling (2025-11-25). A block of a type this crate does not know decodes as
//! [`Content::Unknown`] and is written back unchanged.

use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, MapDeserializer};
use serde::de::{DeserializeSeed, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::base::{Annotations, Icon, JsonObject, Meta};
use super::resources::{BlobResourceContents, ResourceContents, TextResourceContents};
use super::serde_util::{Key, deserialize_with_extra, impl_has_meta, present};
use super::tag;

// ===== Content =====

/// One content block.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// `"type": "text"`.
    Text(TextContent),
    /// `"type": "image"`.
    Image(ImageContent),
    /// `"type": "audio"` (2025-03-26).
    Audio(AudioContent),
    /// `"type": "resource_link"` (2025-06-18).
    ResourceLink(ResourceLink),
    /// `"type": "resource"`: a resource's contents, embedded.
    Resource(EmbeddedResource),
    /// `"type": "tool_use"`: a model's request to call a tool (sampling, 2025-11-25).
    ToolUse(ToolUseContent),
    /// `"type": "tool_result"`: the result of a tool use (sampling, 2025-11-25).
    ToolResult(ToolResultContent),
    /// A block of a type this crate does not know, kept as it arrived.
    Unknown(JsonObject),
}

/// The schema's name for a content block.
pub type ContentBlock = Content;

impl Content {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextContent::new(text))
    }

    /// An image block from base64 `data`.
    pub fn image(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self::Image(ImageContent::new(data, mime_type))
    }

    /// An audio block from base64 `data`.
    pub fn audio(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self::Audio(AudioContent::new(data, mime_type))
    }

    /// A link to the resource at `uri`.
    pub fn resource_link(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self::ResourceLink(ResourceLink::new(uri, name))
    }

    /// An embedded resource.
    pub fn resource(contents: impl Into<ResourceContents>) -> Self {
        Self::Resource(EmbeddedResource::new(contents))
    }

    /// The `"type"` of the block.
    pub fn kind(&self) -> &str {
        match self {
            Self::Text(_) => tag::Text::VALUE,
            Self::Image(_) => tag::Image::VALUE,
            Self::Audio(_) => tag::Audio::VALUE,
            Self::ResourceLink(_) => tag::ResourceLink::VALUE,
            Self::Resource(_) => tag::Resource::VALUE,
            Self::ToolUse(_) => tag::ToolUse::VALUE,
            Self::ToolResult(_) => tag::ToolResult::VALUE,
            Self::Unknown(map) => map.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The text, if this is a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(&t.text),
            _ => None,
        }
    }
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(c) => c.serialize(s),
            Self::Image(c) => c.serialize(s),
            Self::Audio(c) => c.serialize(s),
            Self::ResourceLink(c) => c.serialize(s),
            Self::Resource(c) => c.serialize(s),
            Self::ToolUse(c) => c.serialize(s),
            Self::ToolResult(c) => c.serialize(s),
            Self::Unknown(map) => map.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ContentVisitor)
    }
}

/// Decodes a content block in one pass when `"type"` is its first key (as every SDK writes it):
/// the rest of the object goes straight into the block's struct, with the tag handed back in
/// front. Otherwise the object is collected into a map first, and its other entries are decoded
/// the same way.
struct ContentVisitor;

impl<'de> Visitor<'de> for ContentVisitor {
    type Value = Content;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a content block (a JSON object with a \"type\")")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Content, A::Error> {
        let Some(first) = map.next_key::<Key<'de>>()? else {
            return Err(A::Error::custom("a content block needs a \"type\""));
        };
        if first.as_str() == "type" {
            let kind = map.next_value()?;
            return decode_tagged(kind, map);
        }
        let mut object = JsonObject::new();
        let value = map.next_value()?;
        object.insert(first.into_string(), value);
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        let Some(kind) = object.remove("type") else {
            return Err(A::Error::custom("a content block needs a \"type\""));
        };
        decode_tagged(kind, MapDeserializer::<_, serde_json::Error>::new(object.into_iter())).map_err(A::Error::custom)
    }
}

/// Decodes the block of type `kind` from the entries of `map` other than `"type"`.
fn decode_tagged<'de, A: MapAccess<'de>>(kind: Value, mut map: A) -> Result<Content, A::Error> {
    let Value::String(kind) = kind else {
        return Err(A::Error::custom(format_args!("a content block: \"type\" must be a string, found {kind}")));
    };
    fn rest<'de, T: Deserialize<'de>, A: MapAccess<'de>>(tag: &'static str, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(TagFirst { tag: Some(tag), key_sent: false, map }))
    }
    match kind.as_str() {
        tag::Text::VALUE => rest(tag::Text::VALUE, map).map(Content::Text),
        tag::Image::VALUE => rest(tag::Image::VALUE, map).map(Content::Image),
        tag::Audio::VALUE => rest(tag::Audio::VALUE, map).map(Content::Audio),
        tag::ResourceLink::VALUE => rest(tag::ResourceLink::VALUE, map).map(Content::ResourceLink),
        tag::Resource::VALUE => rest(tag::Resource::VALUE, map).map(Content::Resource),
        tag::ToolUse::VALUE => rest(tag::ToolUse::VALUE, map).map(Content::ToolUse),
        tag::ToolResult::VALUE => rest(tag::ToolResult::VALUE, map).map(Content::ToolResult),
        _ => {
            let mut object = JsonObject::new();
            object.insert("type".to_owned(), Value::String(kind));
            while let Some((key, value)) = map.next_entry::<String, Value>()? {
                object.insert(key, value);
            }
            Ok(Content::Unknown(object))
        }
    }
}

/// The remaining entries of a map whose `"type"` key was already read, with `"type": tag` given
/// back as the first entry.
struct TagFirst<A> {
    tag: Option<&'static str>,
    key_sent: bool,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TagFirst<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        if !self.key_sent {
            self.key_sent = true;
            return seed.deserialize(BorrowedStrDeserializer::new("type")).map(Some);
        }
        self.map.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.tag.take() {
            Some(tag) => seed.deserialize(BorrowedStrDeserializer::new(tag)),
            None => self.map.next_value_seed(seed),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint().map(|n| n + usize::from(self.tag.is_some()))
    }
}

macro_rules! content_from {
    ($($variant:ident($ty:ty)),*) => {
        $(impl From<$ty> for Content {
            fn from(c: $ty) -> Self {
                Self::$variant(c)
            }
        })*
    };
}
content_from!(
    Text(TextContent),
    Image(ImageContent),
    Audio(AudioContent),
    ResourceLink(ResourceLink),
    Resource(EmbeddedResource),
    ToolUse(ToolUseContent),
    ToolResult(ToolResultContent)
);

impl From<String> for Content {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

// ===== the block types =====

/// Text.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TextContent {
    /// Always `"text"`.
    #[serde(rename = "type")]
    pub kind: tag::Text,
    /// The text.
    pub text: String,
    /// Display hints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata (2025-06-18).
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

deserialize_with_extra!(TextContent, "a text content block", {
    kind: "type" => required,
    text: "text" => required,
    annotations: "annotations" => optional,
    meta: "_meta" => optional,
});

impl TextContent {
    /// A text block.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::default() }
    }
}

/// An image, base64-encoded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageContent {
    /// Always `"image"`.
    #[serde(rename = "type")]
    pub kind: tag::Image,
    /// The base64-encoded image.
    pub data: String,
    /// The image's MIME type.
    pub mime_type: String,
    /// Display hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata (2025-06-18).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ImageContent {
    /// An image from base64 `data`.
    pub fn new(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self { data: data.into(), mime_type: mime_type.into(), ..Self::default() }
    }
}

/// Audio, base64-encoded (2025-03-26).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioContent {
    /// Always `"audio"`.
    #[serde(rename = "type")]
    pub kind: tag::Audio,
    /// The base64-encoded audio.
    pub data: String,
    /// The audio's MIME type.
    pub mime_type: String,
    /// Display hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata (2025-06-18).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl AudioContent {
    /// Audio from base64 `data`.
    pub fn new(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        Self { data: data.into(), mime_type: mime_type.into(), ..Self::default() }
    }
}

/// A link to a resource the client may read (2025-06-18). Links returned by tools need not
/// appear in `resources/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLink {
    /// Always `"resource_link"`.
    #[serde(rename = "type")]
    pub kind: tag::ResourceLink,
    /// The resource's URI.
    pub uri: String,
    /// The resource's programmatic name.
    pub name: String,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the resource is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The size in bytes, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Display hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Icons (2025-11-25).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub icons: Vec<Icon>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ResourceLink {
    /// A link to `uri`.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Self { uri: uri.into(), name: name.into(), ..Self::default() }
    }

    /// Sets the MIME type.
    #[must_use]
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }
}

/// A resource's contents embedded in a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddedResource {
    /// Always `"resource"`.
    #[serde(rename = "type")]
    pub kind: tag::Resource,
    /// The contents.
    pub resource: ResourceContents,
    /// Display hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
    /// Metadata (2025-06-18).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl EmbeddedResource {
    /// Embeds `contents`.
    pub fn new(contents: impl Into<ResourceContents>) -> Self {
        Self { kind: tag::Resource, resource: contents.into(), annotations: None, meta: None, extra: JsonObject::new() }
    }

    /// Embeds a text resource.
    pub fn text(uri: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(TextResourceContents::new(uri, text))
    }

    /// Embeds a binary resource from base64 `blob`.
    pub fn blob(uri: impl Into<String>, blob: impl Into<String>) -> Self {
        Self::new(BlobResourceContents::new(uri, blob))
    }
}

/// A model's request to call a tool, in sampling (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolUseContent {
    /// Always `"tool_use"`.
    #[serde(rename = "type")]
    pub kind: tag::ToolUse,
    /// The id that the matching [`ToolResultContent`] refers to.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, conforming to the tool's input schema.
    pub input: JsonObject,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ToolUseContent {
    /// A tool use.
    pub fn new(id: impl Into<String>, name: impl Into<String>, input: JsonObject) -> Self {
        Self { id: id.into(), name: name.into(), input, ..Self::default() }
    }
}

/// The result of a tool use, given back to the model in sampling (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResultContent {
    /// Always `"tool_result"`.
    #[serde(rename = "type")]
    pub kind: tag::ToolResult,
    /// The id of the [`ToolUseContent`] this answers.
    pub tool_use_id: String,
    /// The unstructured result.
    pub content: Vec<Content>,
    /// The structured result: an object (2025-11-25) or any JSON value (2026-07-28). A
    /// present `null` is kept as `Some(Value::Null)`.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the tool use failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ToolResultContent {
    /// A result for `tool_use_id`.
    pub fn new(tool_use_id: impl Into<String>, content: Vec<Content>) -> Self {
        Self { tool_use_id: tool_use_id.into(), content, ..Self::default() }
    }
}

impl_has_meta!(
    TextContent,
    ImageContent,
    AudioContent,
    ResourceLink,
    EmbeddedResource,
    ToolUseContent,
    ToolResultContent
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_decode_by_type() {
        let c: Content = serde_json::from_value(json!({"type": "text", "text": "hi"})).unwrap();
        assert_eq!(c, Content::text("hi"));
        let c: Content =
            serde_json::from_value(json!({"type": "resource", "resource": {"uri": "a:b", "blob": "AA=="}})).unwrap();
        assert!(matches!(c, Content::Resource(EmbeddedResource { resource: ResourceContents::Blob(_), .. })));
    }

    #[test]
    fn unknown_blocks_survive() {
        let v = json!({"type": "hologram", "frames": [1, 2]});
        let c: Content = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c.kind(), "hologram");
        assert_eq!(serde_json::to_value(&c).unwrap(), v);
    }

    #[test]
    fn malformed_known_blocks_are_errors() {
        assert!(serde_json::from_value::<Content>(json!({"type": "text"})).is_err());
        assert!(serde_json::from_value::<Content>(json!({"text": "no type"})).is_err());
        assert!(serde_json::from_value::<Content>(json!("text")).is_err());
    }

    /// The one-pass path ("type" first, as SDKs write blocks) and the collecting path (any other
    /// order, e.g. a `Value` whose keys are sorted) decode alike, keep unknown fields and give
    /// the same errors.
    #[test]
    fn both_key_orders_decode_alike() {
        let cases = [
            (r#"{"type":"text","text":"hi","x-extra":[1]}"#, r#"{"text":"hi","x-extra":[1],"type":"text"}"#),
            (
                r#"{"type":"image","data":"AA==","mimeType":"image/png","annotations":{"priority":0.5}}"#,
                r#"{"mimeType":"image/png","data":"AA==","annotations":{"priority":0.5},"type":"image"}"#,
            ),
            (
                r#"{"type":"resource","resource":{"uri":"a:b","text":"t"},"_meta":{"k":1}}"#,
                r#"{"resource":{"uri":"a:b","text":"t"},"_meta":{"k":1},"type":"resource"}"#,
            ),
            (
                r#"{"type":"resource_link","uri":"a:b","name":"n"}"#,
                r#"{"uri":"a:b","name":"n","type":"resource_link"}"#,
            ),
            (r#"{"type":"hologram","frames":[1,2]}"#, r#"{"frames":[1,2],"type":"hologram"}"#),
            (
                r#"{"type":"tool_result","toolUseId":"t","content":[],"structuredContent":null}"#,
                r#"{"toolUseId":"t","content":[],"structuredContent":null,"type":"tool_result"}"#,
            ),
        ];
        for (tag_first, tag_last) in cases {
            let a: Content = serde_json::from_str(tag_first).unwrap_or_else(|e| panic!("{tag_first}: {e}"));
            let b: Content = serde_json::from_str(tag_last).unwrap_or_else(|e| panic!("{tag_last}: {e}"));
            assert_eq!(a, b, "{tag_first}");
            let value: Value = serde_json::from_str(tag_first).unwrap();
            assert_eq!(serde_json::to_value(&a).unwrap(), value, "{tag_first} round trip");
            assert_eq!(serde_json::from_value::<Content>(value).unwrap(), a, "{tag_first} from a Value");
        }
        for bad in [
            r#"{"type":"text"}"#,
            r#"{"text":"hi"}"#,
            r#"{"type":5,"text":"hi"}"#,
            r#"{"text":"hi","type":5}"#,
            r#"{"type":"text","text":"hi","type":"text"}"#,
            r#"{}"#,
            r#""text""#,
            r#"[{"type":"text","text":"hi"}]"#,
        ] {
            assert!(serde_json::from_str::<Content>(bad).is_err(), "{bad} decoded");
        }
        let err = serde_json::from_str::<Content>(r#"{"type":5}"#).unwrap_err().to_string();
        assert!(err.contains("\"type\" must be a string"), "{err}");
        let err = serde_json::from_str::<Content>(r#"{"text":"hi"}"#).unwrap_err().to_string();
        assert!(err.contains("needs a \"type\""), "{err}");
    }

    /// Inside a result with unknown fields, in both key orders.
    #[test]
    fn blocks_decode_inside_a_tool_result() {
        let text = r#"{"content":[{"type":"text","text":"a"},{"text":"b","type":"text"},{"type":"x","y":1}],"isError":false,"z":true}"#;
        let result: super::super::CallToolResult = serde_json::from_str(text).unwrap();
        assert_eq!(result.content[0], Content::text("a"));
        assert_eq!(result.content[1], Content::text("b"));
        assert_eq!(result.content[2].kind(), "x");
        assert_eq!(result.extra.get("z"), Some(&Value::Bool(true)));
    }

    #[test]
    fn null_structured_content_is_kept() {
        let v = json!({"type": "tool_result", "toolUseId": "t", "content": [], "structuredContent": null});
        let c: Content = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&c).unwrap(), v);
    }
}
