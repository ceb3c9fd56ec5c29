//! The MCP message types of every revision, 2024-11-05 through 2026-07-28.
//!
//! One set of types covers the union of all revisions: a field that only some revisions have
//! is an `Option` (or a `Vec` that is skipped when empty, where absent and empty mean the same)
//! and is left out of the JSON when unset. Which revision a value is valid for is the caller's
//! business (the session knows the negotiated [`ProtocolVersion`](crate::ProtocolVersion));
//! the field docs name the revision that introduced or removed each field.
//!
//! # What survives a round trip
//!
//! Every object type a relay might pass through has an `extra` map that holds the fields this
//! crate does not know (vendor extensions, fields of future revisions), so decoding and
//! re-encoding never drops anything. Free-form JSON (tool input schemas, arguments, structured
//! content, experimental capabilities) is kept as [`serde_json::Value`] or a [`JsonObject`].
//! Content blocks and other tagged unions keep a variant of an unknown kind as an `Unknown`
//! map rather than failing.
//!
//! ```
//! use mcp_core::schema::{CallToolResult, Content, Tool};
//! use serde_json::json;
//!
//! let tool = Tool::new("add", json!({"type": "object", "properties": {"a": {"type": "number"}}}))
//!     .with_description("Adds numbers");
//! let wire = serde_json::to_value(&tool).unwrap();
//! assert_eq!(wire["inputSchema"]["type"], "object");
//!
//! let result = CallToolResult::text("3");
//! assert_eq!(result.content, vec![Content::text("3")]);
//!
//! // Fields this crate does not know survive decode + encode.
//! let vendor = json!({"name": "x", "inputSchema": {"type": "object"}, "x-vendor": {"tier": 2}});
//! let tool: Tool = serde_json::from_value(vendor.clone()).unwrap();
//! assert_eq!(serde_json::to_value(&tool).unwrap(), vendor);
//! ```
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`base`] | `_meta` objects, progress tokens, cursors, roles, annotations, icons, result types and cache hints |
//! | [`lifecycle`] | `initialize`, capabilities, `ping`, `server/discover` |
//! | [`content`] | content blocks (text, image, audio, resource links, embedded resources, tool use and results) |
//! | [`tools`], [`resources`], [`prompts`], [`completion`], [`logging`] | the server features |
//! | [`sampling`], [`elicitation`], [`roots`] | the client features |
//! | [`notifications`] | progress and cancellation |
//! | [`tasks`] | the 2025-11-25 task augmentation |
//! | [`modern`] | the 2026-07-28 additions: multi round-trip requests, `subscriptions/listen` |
//! | [`errors`] | the `data` of MCP-specific error responses |
//! | [`methods`] | the method name of every request and notification |
//! | [`tag`] | the constant strings (`"type": "text"`, `"mode": "url"`, ...) as zero-sized types |

pub mod base;
pub mod completion;
pub mod content;
pub mod elicitation;
pub mod errors;
pub mod lifecycle;
pub mod logging;
pub mod methods;
pub mod modern;
pub mod notifications;
pub mod prompts;
pub mod resources;
pub mod roots;
pub mod sampling;
pub mod tag;
pub mod tasks;
pub mod tools;

mod serde_util;

pub use base::{
    Annotations, CacheScope, Cursor, EmptyResult, HasMeta, Icon, IconTheme, JsonObject, Meta, NotificationMeta,
    NotificationParams, PaginatedRequestParams, ProgressToken, RequestMeta, RequestParams, ResultMeta, ResultType,
    Role, meta_keys,
};
pub use completion::{
    CompleteRequestParams, CompleteResult, Completion, CompletionArgument, CompletionContext, PromptReference,
    Reference, ResourceTemplateReference,
};
pub use content::{
    AudioContent, Content, ContentBlock, EmbeddedResource, ImageContent, ResourceLink, TextContent, ToolResultContent,
    ToolUseContent,
};
pub use elicitation::{
    BooleanSchema, ElicitAction, ElicitRequestFormParams, ElicitRequestParams, ElicitRequestUrlParams, ElicitResult,
    ElicitationCompleteNotificationParams, LegacyTitledEnumSchema, NumberSchema, NumberType, PrimitiveSchemaDefinition,
    RequestedSchema, StringFormat, StringSchema, TitledEnumItems, TitledEnumOption, TitledMultiSelectEnumSchema,
    TitledSingleSelectEnumSchema, UntitledEnumItems, UntitledMultiSelectEnumSchema, UntitledSingleSelectEnumSchema,
};
pub use errors::{
    ErrorData, MissingRequiredClientCapabilityData, UnsupportedProtocolVersionData, UrlElicitationRequiredData,
};
pub use lifecycle::{
    ClientCapabilities, ClientTasksCapability, CompletionsCapability, DiscoverResult, ElicitationCapability,
    Implementation, InitializeRequestParams, InitializeResult, ListChangedCapability, ResourcesCapability,
    RootsCapability, SamplingCapability, ServerCapabilities, ServerTasksCapability,
};
pub use logging::{LoggingLevel, LoggingMessageNotificationParams, SetLevelRequestParams};
pub use modern::{
    CreateMessageRequest, ElicitRequest, InputRequest, InputRequests, InputRequiredResult, InputResponse,
    InputResponseRequestParams, InputResponses, ListRootsRequest, SubscriptionFilter,
    SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams, SubscriptionsListenResult,
};
pub use notifications::{CancelledNotificationParams, ProgressNotificationParams};
pub use prompts::{GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument, PromptMessage};
pub use resources::{
    BlobResourceContents, ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate, ResourceUpdatedNotificationParams,
    SubscribeRequestParams, TextResourceContents, UnsubscribeRequestParams,
};
pub use roots::{ListRootsResult, Root};
pub use sampling::{
    CreateMessageRequestParams, CreateMessageResult, IncludeContext, ModelHint, ModelPreferences, SamplingContent,
    SamplingMessage, ToolChoice, ToolChoiceMode,
};
pub use tasks::{
    CreateTaskResult, GetTaskResult, ListTasksResult, RelatedTaskMetadata, Task, TaskMetadata, TaskRequestParams,
    TaskStatus, TaskStatusNotificationParams,
};
pub use tools::{
    CallToolRequestParams, CallToolResult, ListToolsResult, TaskSupport, Tool, ToolAnnotations, ToolExecution,
};
