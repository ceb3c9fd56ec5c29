//! Tools: `tools/list` (params: [`PaginatedRequestParams`](super::PaginatedRequestParams)),
//! `tools/call`, and `notifications/tools/list_changed` (params:
//! [`NotificationParams`](super::NotificationParams)).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::base::{CacheScope, Cursor, Icon, JsonObject, Meta, ResultType};
use super::content::Content;
use super::modern::InputResponses;
use super::serde_util::{deserialize_with_extra, impl_has_meta};
use super::tasks::TaskMetadata;

// ===== Tool =====

/// A tool the client can call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The programmatic name.
    pub name: String,
    /// A human-readable name (2025-06-18). Display precedence: `title`, `annotations.title`, `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does; a hint to the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of the arguments: an object schema (`"type": "object"` at the root).
    pub input_schema: Value,
    /// The JSON Schema of `structuredContent` in results (2025-06-18; any schema in 2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Behaviour hints (2025-03-26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Execution properties (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<ToolExecution>,
    /// Icons (2025-11-25).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub icons: Vec<Icon>,
    /// Metadata (2025-06-18).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl Default for Tool {
    /// A tool with an empty name that takes no arguments.
    fn default() -> Self {
        Self::new("", Self::no_arguments_schema())
    }
}

impl Tool {
    /// A tool called `name` whose arguments follow `input_schema`.
    pub fn new(name: impl Into<String>, input_schema: Value) -> Self {
        Self {
            name: name.into(),
            title: None,
            description: None,
            input_schema,
            output_schema: None,
            annotations: None,
            execution: None,
            icons: Vec::new(),
            meta: None,
            extra: JsonObject::new(),
        }
    }

    /// The input schema of a tool without arguments: `{"type": "object"}`.
    pub fn no_arguments_schema() -> Value {
        json!({"type": "object"})
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the display title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the output schema.
    #[must_use]
    pub fn with_output_schema(mut self, output_schema: Value) -> Self {
        self.output_schema = Some(output_schema);
        self
    }

    /// Sets the annotations.
    #[must_use]
    pub fn with_annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.annotations = Some(annotations);
        self
    }

    /// The name to display: `title`, else `annotations.title`, else `name`.
    pub fn display_name(&self) -> &str {
        self.title
            .as_deref()
            .or_else(|| self.annotations.as_ref().and_then(|a| a.title.as_deref()))
            .unwrap_or(&self.name)
    }
}

/// Hints about a tool's behaviour (2025-03-26). Hints only: a client must not trust them from
/// an untrusted server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may perform destructive updates (default true; meaningful when not read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Repeating a call with the same arguments has no further effect (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool interacts with an open world of external entities (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

/// Whether a tool may be called as a task (2025-11-25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskSupport {
    /// Never as a task (the default).
    Forbidden,
    /// With or without a task.
    Optional,
    /// Only as a task.
    Required,
}

/// Execution properties of a tool (2025-11-25).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// Whether the tool may be called as a task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<TaskSupport>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

// ===== tools/list =====

/// The result of `tools/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The result type (2026-07-28, where it is required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The tools.
    pub tools: Vec<Tool>,
    /// The cursor of the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Cursor>,
    /// Cache freshness in milliseconds (2026-07-28, required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<i64>,
    /// Who may cache the result (2026-07-28, required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ListToolsResult {
    /// A (last) page with `tools`.
    pub fn new(tools: impl IntoIterator<Item = Tool>) -> Self {
        Self { tools: tools.into_iter().collect(), ..Self::default() }
    }
}

// ===== tools/call =====

/// The params of `tools/call`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolRequestParams {
    /// Metadata; in 2026-07-28 the [`RequestMeta`](super::RequestMeta) fields.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The tool to call.
    pub name: String,
    /// The arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<JsonObject>,
    /// Run the call as a task (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Answers to the input requests of a previous `input_required` result (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<InputResponses>,
    /// The `requestState` of a previous `input_required` result, echoed back (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl CallToolRequestParams {
    /// A call of `name` without arguments.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }

    /// Sets the arguments. A `Value` that is not an object is ignored (tool arguments are
    /// always an object).
    #[must_use]
    pub fn with_arguments(mut self, arguments: Value) -> Self {
        if let Value::Object(map) = arguments {
            self.arguments = Some(map);
        }
        self
    }
}

/// The result of `tools/call`. A failure of the tool itself is a result with `isError: true`
/// (so the model sees it), not a JSON-RPC error.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// Metadata.
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The result type (2026-07-28, where it is required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The unstructured result.
    pub content: Vec<Content>,
    /// The structured result, conforming to the tool's output schema: an object
    /// (2025-06-18 … 2025-11-25) or any JSON value (2026-07-28). A present `null` is kept as
    /// `Some(Value::Null)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the tool call failed (absent means false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

deserialize_with_extra!(CallToolResult, "a CallToolResult object", {
    meta: "_meta" => optional,
    result_type: "resultType" => optional,
    content: "content" => required_list,
    structured_content: "structuredContent" => kept,
    is_error: "isError" => optional,
});

impl CallToolResult {
    /// A successful result with `content`.
    pub fn new(content: impl IntoIterator<Item = Content>) -> Self {
        Self { content: content.into_iter().collect(), ..Self::default() }
    }

    /// A successful result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new([Content::text(text)])
    }

    /// A failed result (`isError: true`) with one text block saying what went wrong.
    pub fn error_text(text: impl Into<String>) -> Self {
        Self { is_error: Some(true), ..Self::text(text) }
    }

    /// A successful structured result; the same JSON is also given as a text block, as the
    /// specification recommends for clients that do not read `structuredContent`.
    pub fn structured(value: Value) -> Self {
        Self { structured_content: Some(value.clone()), ..Self::text(value.to_string()) }
    }

    /// Sets the structured content.
    #[must_use]
    pub fn with_structured_content(mut self, value: Value) -> Self {
        self.structured_content = Some(value);
        self
    }

    /// Sets the result type.
    #[must_use]
    pub fn with_result_type(mut self, result_type: ResultType) -> Self {
        self.result_type = Some(result_type);
        self
    }

    /// Whether the tool call failed.
    pub fn is_error(&self) -> bool {
        self.is_error.unwrap_or(false)
    }
}

impl_has_meta!(Tool, ListToolsResult, CallToolRequestParams, CallToolResult);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        let r = CallToolResult::error_text("boom");
        assert!(r.is_error());
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"content": [{"type": "text", "text": "boom"}], "isError": true})
        );
        let r = CallToolResult::structured(json!({"t": 1}));
        assert_eq!(r.content[0].as_text(), Some(r#"{"t":1}"#));
        let t = Tool::default();
        assert_eq!(t.input_schema, json!({"type": "object"}));
        assert_eq!(Tool::new("n", json!({"type": "object"})).with_title("T").display_name(), "T");
    }

    /// The one-pass decoder of a result (`deserialize_with_extra!`) reads what the derive with
    /// `flatten` read, from text (borrowed keys) and from a `Value` (owned keys).
    #[test]
    fn a_result_decodes_in_one_pass_like_the_derive() {
        let text = r#"{"content":[{"type":"text","text":"hi","x\u0041":1}],"isError":null,
            "structuredContent":null,"_meta":{"k":2},"resultType":"complete","z\"q":[1],"w":{"a":null}}"#;
        let from_text: CallToolResult = serde_json::from_str(text).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        let from_value: CallToolResult = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(from_text, from_value);
        assert_eq!(from_text.is_error, None);
        assert_eq!(from_text.structured_content, Some(Value::Null));
        assert_eq!(from_text.meta.as_ref().map(|m| m.get("k")), Some(Some(&json!(2))));
        assert_eq!(from_text.content[0].as_text(), Some("hi"));
        assert_eq!(Value::Object(from_text.extra.clone()), json!({"z\"q": [1], "w": {"a": null}}));
        let Content::Text(block) = &from_text.content[0] else { panic!("a text block") };
        assert_eq!(Value::Object(block.extra.clone()), json!({"xA": 1}));
        // And back: every key survives but the null isError, which means "absent".
        let mut expected = value;
        expected.as_object_mut().map(|o| o.remove("isError"));
        assert_eq!(serde_json::to_value(&from_text).unwrap(), expected);

        let absent: CallToolResult = serde_json::from_str(r#"{"content":[]}"#).unwrap();
        assert_eq!(absent, CallToolResult::default());
        // The list grows past the one block it starts with, in order.
        let many =
            json!({"content": (0..5).map(|i| json!({"type": "text", "text": i.to_string()})).collect::<Vec<_>>()});
        let many: CallToolResult = serde_json::from_value(many).unwrap();
        let texts: Vec<_> = many.content.iter().filter_map(Content::as_text).collect();
        assert_eq!(texts, ["0", "1", "2", "3", "4"]);
        let not_list = serde_json::from_str::<CallToolResult>(r#"{"content":{}}"#).unwrap_err();
        assert!(not_list.to_string().contains("a sequence"), "{not_list}");

        let missing = serde_json::from_str::<CallToolResult>(r#"{"isError":true}"#).unwrap_err();
        assert!(missing.to_string().contains("missing field `content`"), "{missing}");
        let twice = serde_json::from_str::<CallToolResult>(r#"{"content":[],"content":[]}"#).unwrap_err();
        assert!(twice.to_string().contains("duplicate field `content`"), "{twice}");
        let wrong = serde_json::from_str::<CallToolResult>(r#"{"content":[],"isError":"yes"}"#).unwrap_err();
        assert!(wrong.to_string().contains("invalid type"), "{wrong}");
        let not_object = serde_json::from_str::<CallToolResult>("[1]").unwrap_err();
        assert!(not_object.to_string().contains("a CallToolResult object"), "{not_object}");
    }
}
