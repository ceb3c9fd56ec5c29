//! Constant strings of the wire format as zero-sized types.
//!
//! A content block's `"type": "text"`, an elicitation's `"mode": "url"` or an input request's
//! `"method": "sampling/createMessage"` is a field of the Rust struct whose type is one of these
//! markers: it always serializes as its string and refuses to deserialize from any other, so a
//! struct decoded on its own is checked and one built in code is always complete. Constructors
//! and `Default` fill them in; there is nothing to set by hand.

use std::fmt;

use serde::de::{Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! wire_const {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
            pub struct $name;

            impl $name {
                /// The string this marker stands for.
                pub const VALUE: &'static str = $value;
            }

            impl fmt::Display for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str($value)
                }
            }

            impl Serialize for $name {
                fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_str($value)
                }
            }

            impl<'de> Deserialize<'de> for $name {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    d.deserialize_str(Expect($value)).map(|()| $name)
                }
            }
        )*
    };
}

/// Accepts exactly one string, compared where it lies in the input (no copy is made).
struct Expect(&'static str);

impl Visitor<'_> for Expect {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<(), E> {
        if s == self.0 { Ok(()) } else { Err(E::invalid_value(Unexpected::Str(s), &self)) }
    }
}

wire_const! {
    /// `"text"`: the type of a [`TextContent`](super::TextContent).
    Text = "text";
    /// `"image"`: the type of an [`ImageContent`](super::ImageContent).
    Image = "image";
    /// `"audio"`: the type of an [`AudioContent`](super::AudioContent).
    Audio = "audio";
    /// `"resource_link"`: the type of a [`ResourceLink`](super::ResourceLink).
    ResourceLink = "resource_link";
    /// `"resource"`: the type of an [`EmbeddedResource`](super::EmbeddedResource).
    Resource = "resource";
    /// `"tool_use"`: the type of a [`ToolUseContent`](super::ToolUseContent).
    ToolUse = "tool_use";
    /// `"tool_result"`: the type of a [`ToolResultContent`](super::ToolResultContent).
    ToolResult = "tool_result";
    /// `"ref/prompt"`: the type of a [`PromptReference`](super::PromptReference).
    RefPrompt = "ref/prompt";
    /// `"ref/resource"`: the type of a [`ResourceTemplateReference`](super::ResourceTemplateReference).
    RefResource = "ref/resource";
    /// `"form"`: the mode of an [`ElicitRequestFormParams`](super::ElicitRequestFormParams).
    Form = "form";
    /// `"url"`: the mode of an [`ElicitRequestUrlParams`](super::ElicitRequestUrlParams).
    Url = "url";
    /// `"object"`: the JSON Schema type of a [`RequestedSchema`](super::RequestedSchema).
    Object = "object";
    /// `"string"`: the JSON Schema type of string and single-select elicitation fields.
    StringType = "string";
    /// `"boolean"`: the JSON Schema type of a [`BooleanSchema`](super::BooleanSchema).
    Boolean = "boolean";
    /// `"array"`: the JSON Schema type of multi-select elicitation fields.
    Array = "array";
    /// `"sampling/createMessage"`: the method of a [`CreateMessageRequest`](super::CreateMessageRequest).
    CreateMessage = "sampling/createMessage";
    /// `"elicitation/create"`: the method of an [`ElicitRequest`](super::ElicitRequest).
    Elicit = "elicitation/create";
    /// `"roots/list"`: the method of a [`ListRootsRequest`](super::ListRootsRequest).
    ListRoots = "roots/list";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_accept_only_their_string() {
        assert_eq!(serde_json::to_string(&Text).unwrap(), "\"text\"");
        assert!(serde_json::from_str::<Text>("\"text\"").is_ok());
        let err = serde_json::from_str::<Text>("\"image\"").unwrap_err().to_string();
        assert!(err.contains("invalid value: string \"image\", expected \"text\""), "{err}");
        // An escaped string (not borrowable), a Value, and a non-string.
        assert!(serde_json::from_str::<Text>("\"t\\u0065xt\"").is_ok());
        assert!(serde_json::from_value::<Text>(serde_json::json!("text")).is_ok());
        let err = serde_json::from_str::<Text>("5").unwrap_err().to_string();
        assert!(err.contains("invalid type: integer `5`, expected \"text\""), "{err}");
    }
}
