//! The specification's own example messages (`shared/spec/2026-07-28/examples/<Type>/*.json`)
//! decode into this crate's types and re-encode to the same JSON, also with unknown fields
//! added to every object; and every example folder is covered.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use mcp_core::jsonrpc::{ErrorObject, error_codes};
use mcp_core::schema::methods as m;
use mcp_core::schema::*;
use mcp_core::{Message, RawJson};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ===== where the examples are =====

fn spec_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec"));
    assert!(
        dir.join("2026-07-28").is_dir(),
        "the MCP specification folder is missing: expected {} (the `shared/` folder beside the repository \
         checkout, holding spec/<revision>/schema.json and spec/2026-07-28/examples); put it there and re-run",
        dir.display()
    );
    dir
}

fn examples_dir() -> PathBuf {
    spec_dir().join("2026-07-28").join("examples")
}

/// Every example folder, with its JSON files (path, parsed content).
fn example_folders() -> Vec<(String, Vec<(String, Value)>)> {
    let mut folders = Vec::new();
    for entry in fs::read_dir(examples_dir()).expect("read the examples folder") {
        let entry = entry.expect("read a directory entry");
        if !entry.file_type().expect("file type").is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut files = Vec::new();
        for file in fs::read_dir(entry.path()).expect("read an example folder") {
            let path = file.expect("read a directory entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = fs::read_to_string(&path).expect("read an example");
                let value: Value =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
                files.push((path.display().to_string(), value));
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        folders.push((name, files));
    }
    folders.sort_by(|a, b| a.0.cmp(&b.0));
    folders
}

// ===== how each folder is checked =====

/// Decodes an example and re-encodes it; the result must equal the input.
type Check = fn(&Value) -> Result<Value, String>;

/// Where unknown fields may be added to an example without changing what it is.
#[derive(Clone, Copy)]
enum Shape {
    /// A bare object: anywhere.
    Object,
    /// A JSON-RPC message: inside `params`, `result` and `error.data`.
    Envelope,
    /// A JSON-RPC error object: inside `data`.
    ErrorObject,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The example decoded as `T` (e.g. a params or result type) and encoded again.
fn direct<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let t: T = serde_json::from_value(v.clone()).map_err(err)?;
    serde_json::to_value(&t).map_err(err)
}

/// Like [`direct`], and the example also decodes as the union `U` in the variant `ok` accepts.
fn member<T: DeserializeOwned + Serialize, U: DeserializeOwned + Serialize + std::fmt::Debug>(
    v: &Value,
    ok: fn(&U) -> bool,
) -> Result<Value, String> {
    let out = direct::<T>(v)?;
    let u: U = serde_json::from_value(v.clone()).map_err(err)?;
    if !ok(&u) {
        return Err(format!("decoded as the wrong variant: {u:?}"));
    }
    let again = serde_json::to_value(&u).map_err(err)?;
    if again != out {
        return Err(format!("the union re-encodes differently: {again}"));
    }
    Ok(out)
}

fn message(v: &Value) -> Result<Message, String> {
    Message::from_slice(v.to_string().as_bytes()).map_err(err)
}

fn to_value(msg: &Message) -> Result<Value, String> {
    serde_json::from_slice(&msg.to_vec()).map_err(err)
}

/// A JSON-RPC request of `method` whose params decode as `P`.
fn request<P: DeserializeOwned + Serialize>(v: &Value, method: &str) -> Result<Value, String> {
    let Message::Request(req) = message(v)? else { return Err("not a request".into()) };
    if req.method != method {
        return Err(format!("method {:?}, expected {method:?}", req.method));
    }
    let params: P = req.parse_params().map_err(err)?;
    if req.params.is_none() {
        return to_value(&Message::Request(req));
    }
    to_value(&Message::request(req.id.clone(), req.method.clone(), &params).map_err(err)?)
}

/// A JSON-RPC notification of `method` whose params decode as `P`.
fn notification<P: DeserializeOwned + Serialize>(v: &Value, method: &str) -> Result<Value, String> {
    let Message::Notification(n) = message(v)? else { return Err("not a notification".into()) };
    if n.method != method {
        return Err(format!("method {:?}, expected {method:?}", n.method));
    }
    let params: P = n.parse_params().map_err(err)?;
    if n.params.is_none() {
        return to_value(&Message::Notification(n));
    }
    to_value(&Message::notification(n.method.clone(), &params).map_err(err)?)
}

/// A JSON-RPC response whose result decodes as `R`, or as an [`InputRequiredResult`] when its
/// `resultType` says so.
fn response<R: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let Message::Response(resp) = message(v)? else { return Err("not a response".into()) };
    let result = match ResultType::of(&resp.result) {
        ResultType::InputRequired => {
            RawJson::from_serialize(&resp.result.parse::<InputRequiredResult>().map_err(err)?).map_err(err)?
        }
        _ => RawJson::from_serialize(&resp.result.parse::<R>().map_err(err)?).map_err(err)?,
    };
    to_value(&Message::response(resp.id.clone(), &result).map_err(err)?)
}

/// A JSON-RPC error response with `code` whose data decodes as `D`.
fn error_with_data<D: ErrorData>(v: &Value) -> Result<Value, String> {
    let Message::Error(e) = message(v)? else { return Err("not an error response".into()) };
    let data = D::from_error(&e.error).ok_or_else(|| format!("code {} or data does not match", e.error.code))?;
    let error = ErrorObject::new(e.error.code, e.error.message.clone()).with_data(&data);
    to_value(&Message::error(e.id.clone(), error))
}

/// A JSON-RPC error response with `code` and no defined data.
fn error_without_data(v: &Value, code: i64) -> Result<Value, String> {
    let Message::Error(e) = message(v)? else { return Err("not an error response".into()) };
    if e.error.code != code {
        return Err(format!("code {}, expected {code}", e.error.code));
    }
    to_value(&Message::Error(e))
}

/// A bare JSON-RPC error object with `code`.
fn error_object(v: &Value, code: i64) -> Result<Value, String> {
    let e: ErrorObject = serde_json::from_value(v.clone()).map_err(err)?;
    if e.code != code {
        return Err(format!("code {}, expected {code}", e.code));
    }
    serde_json::to_value(&e).map_err(err)
}

use Shape::{Envelope as E, ErrorObject as EO, Object as O};

/// Every example folder: how to check it.
const CASES: &[(&str, Shape, Check)] = &[
    ("AudioContent", O, |v| member::<AudioContent, Content>(v, |c| matches!(c, Content::Audio(_)))),
    ("BlobResourceContents", O, |v| {
        member::<BlobResourceContents, ResourceContents>(v, |c| matches!(c, ResourceContents::Blob(_)))
    }),
    ("BooleanSchema", O, |v| {
        member::<BooleanSchema, PrimitiveSchemaDefinition>(v, |d| matches!(d, PrimitiveSchemaDefinition::Boolean(_)))
    }),
    ("CallToolRequest", E, |v| request::<CallToolRequestParams>(v, m::TOOLS_CALL)),
    ("CallToolRequestParams", O, direct::<CallToolRequestParams>),
    ("CallToolResult", O, direct::<CallToolResult>),
    ("CallToolResultResponse", E, response::<CallToolResult>),
    ("CancelledNotification", E, |v| notification::<CancelledNotificationParams>(v, m::NOTIFICATIONS_CANCELLED)),
    ("CancelledNotificationParams", O, direct::<CancelledNotificationParams>),
    ("ClientCapabilities", O, direct::<ClientCapabilities>),
    ("CompleteRequest", E, |v| request::<CompleteRequestParams>(v, m::COMPLETION_COMPLETE)),
    ("CompleteRequestParams", O, direct::<CompleteRequestParams>),
    ("CompleteResult", O, direct::<CompleteResult>),
    ("CompleteResultResponse", E, response::<CompleteResult>),
    ("CreateMessageRequest", O, |v| {
        member::<CreateMessageRequest, InputRequest>(v, |r| matches!(r, InputRequest::CreateMessage(_)))
    }),
    ("CreateMessageRequestParams", O, direct::<CreateMessageRequestParams>),
    ("CreateMessageResult", O, |v| {
        member::<CreateMessageResult, InputResponse>(v, |r| matches!(r, InputResponse::CreateMessage(_)))
    }),
    ("DiscoverRequest", E, |v| request::<RequestParams>(v, m::SERVER_DISCOVER)),
    ("DiscoverResult", O, direct::<DiscoverResult>),
    ("DiscoverResultResponse", E, response::<DiscoverResult>),
    ("ElicitRequest", O, |v| member::<ElicitRequest, InputRequest>(v, |r| matches!(r, InputRequest::Elicit(_)))),
    ("ElicitRequestFormParams", O, |v| {
        member::<ElicitRequestFormParams, ElicitRequestParams>(v, |p| matches!(p, ElicitRequestParams::Form(_)))
    }),
    ("ElicitRequestURLParams", O, |v| {
        member::<ElicitRequestUrlParams, ElicitRequestParams>(v, |p| matches!(p, ElicitRequestParams::Url(_)))
    }),
    ("ElicitResult", O, |v| member::<ElicitResult, InputResponse>(v, |r| matches!(r, InputResponse::Elicit(_)))),
    ("EmbeddedResource", O, |v| member::<EmbeddedResource, Content>(v, |c| matches!(c, Content::Resource(_)))),
    ("GetPromptRequest", E, |v| request::<GetPromptRequestParams>(v, m::PROMPTS_GET)),
    ("GetPromptRequestParams", O, direct::<GetPromptRequestParams>),
    ("GetPromptResult", O, direct::<GetPromptResult>),
    ("GetPromptResultResponse", E, response::<GetPromptResult>),
    ("HeaderMismatchError", E, |v| error_without_data(v, error_codes::HEADER_MISMATCH)),
    ("ImageContent", O, |v| member::<ImageContent, Content>(v, |c| matches!(c, Content::Image(_)))),
    ("InputRequests", O, direct::<InputRequests>),
    ("InputRequiredResult", O, direct::<InputRequiredResult>),
    ("InputResponses", O, direct::<InputResponses>),
    ("InternalError", EO, |v| error_object(v, error_codes::INTERNAL_ERROR)),
    ("InvalidParamsError", EO, |v| error_object(v, error_codes::INVALID_PARAMS)),
    ("ListPromptsRequest", E, |v| request::<PaginatedRequestParams>(v, m::PROMPTS_LIST)),
    ("ListPromptsResult", O, direct::<ListPromptsResult>),
    ("ListPromptsResultResponse", E, response::<ListPromptsResult>),
    ("ListResourceTemplatesRequest", E, |v| request::<PaginatedRequestParams>(v, m::RESOURCES_TEMPLATES_LIST)),
    ("ListResourceTemplatesResult", O, direct::<ListResourceTemplatesResult>),
    ("ListResourceTemplatesResultResponse", E, response::<ListResourceTemplatesResult>),
    ("ListResourcesRequest", E, |v| request::<PaginatedRequestParams>(v, m::RESOURCES_LIST)),
    ("ListResourcesResult", O, direct::<ListResourcesResult>),
    ("ListResourcesResultResponse", E, response::<ListResourcesResult>),
    ("ListRootsRequest", O, |v| {
        member::<ListRootsRequest, InputRequest>(v, |r| matches!(r, InputRequest::ListRoots(_)))
    }),
    ("ListRootsResult", O, |v| {
        member::<ListRootsResult, InputResponse>(v, |r| matches!(r, InputResponse::ListRoots(_)))
    }),
    ("ListToolsRequest", E, |v| request::<PaginatedRequestParams>(v, m::TOOLS_LIST)),
    ("ListToolsResult", O, direct::<ListToolsResult>),
    ("ListToolsResultResponse", E, response::<ListToolsResult>),
    ("LoggingMessageNotification", E, |v| {
        notification::<LoggingMessageNotificationParams>(v, m::NOTIFICATIONS_MESSAGE)
    }),
    ("LoggingMessageNotificationParams", O, direct::<LoggingMessageNotificationParams>),
    ("MethodNotFoundError", EO, |v| error_object(v, error_codes::METHOD_NOT_FOUND)),
    ("MissingRequiredClientCapabilityError", E, error_with_data::<MissingRequiredClientCapabilityData>),
    ("ModelPreferences", O, direct::<ModelPreferences>),
    ("NumberSchema", O, |v| {
        member::<NumberSchema, PrimitiveSchemaDefinition>(v, |d| matches!(d, PrimitiveSchemaDefinition::Number(_)))
    }),
    ("PaginatedRequestParams", O, direct::<PaginatedRequestParams>),
    ("ParseError", EO, |v| error_object(v, error_codes::PARSE_ERROR)),
    ("ProgressNotification", E, |v| notification::<ProgressNotificationParams>(v, m::NOTIFICATIONS_PROGRESS)),
    ("ProgressNotificationParams", O, direct::<ProgressNotificationParams>),
    ("PromptListChangedNotification", E, |v| {
        notification::<NotificationParams>(v, m::NOTIFICATIONS_PROMPTS_LIST_CHANGED)
    }),
    ("ReadResourceRequest", E, |v| request::<ReadResourceRequestParams>(v, m::RESOURCES_READ)),
    ("ReadResourceResult", O, direct::<ReadResourceResult>),
    ("ReadResourceResultResponse", E, response::<ReadResourceResult>),
    ("Resource", O, direct::<Resource>),
    ("ResourceLink", O, |v| member::<ResourceLink, Content>(v, |c| matches!(c, Content::ResourceLink(_)))),
    ("ResourceListChangedNotification", E, |v| {
        notification::<NotificationParams>(v, m::NOTIFICATIONS_RESOURCES_LIST_CHANGED)
    }),
    ("ResourceUpdatedNotification", E, |v| {
        notification::<ResourceUpdatedNotificationParams>(v, m::NOTIFICATIONS_RESOURCES_UPDATED)
    }),
    ("ResourceUpdatedNotificationParams", O, direct::<ResourceUpdatedNotificationParams>),
    ("Root", O, direct::<Root>),
    ("SamplingMessage", O, direct::<SamplingMessage>),
    ("ServerCapabilities", O, direct::<ServerCapabilities>),
    ("StringSchema", O, |v| {
        member::<StringSchema, PrimitiveSchemaDefinition>(v, |d| matches!(d, PrimitiveSchemaDefinition::String(_)))
    }),
    ("SubscriptionsAcknowledgedNotification", E, |v| {
        notification::<SubscriptionsAcknowledgedNotificationParams>(v, m::NOTIFICATIONS_SUBSCRIPTIONS_ACKNOWLEDGED)
    }),
    ("SubscriptionsListenRequest", E, |v| request::<SubscriptionsListenRequestParams>(v, m::SUBSCRIPTIONS_LISTEN)),
    ("SubscriptionsListenResult", O, direct::<SubscriptionsListenResult>),
    ("SubscriptionsListenResultResponse", E, response::<SubscriptionsListenResult>),
    ("TextContent", O, |v| member::<TextContent, Content>(v, |c| matches!(c, Content::Text(_)))),
    ("TextResourceContents", O, |v| {
        member::<TextResourceContents, ResourceContents>(v, |c| matches!(c, ResourceContents::Text(_)))
    }),
    ("TitledMultiSelectEnumSchema", O, |v| {
        member::<TitledMultiSelectEnumSchema, PrimitiveSchemaDefinition>(v, |d| {
            matches!(d, PrimitiveSchemaDefinition::TitledMultiSelect(_))
        })
    }),
    ("TitledSingleSelectEnumSchema", O, |v| {
        member::<TitledSingleSelectEnumSchema, PrimitiveSchemaDefinition>(v, |d| {
            matches!(d, PrimitiveSchemaDefinition::TitledSingleSelect(_))
        })
    }),
    ("Tool", O, direct::<Tool>),
    ("ToolListChangedNotification", E, |v| notification::<NotificationParams>(v, m::NOTIFICATIONS_TOOLS_LIST_CHANGED)),
    ("ToolResultContent", O, |v| member::<ToolResultContent, Content>(v, |c| matches!(c, Content::ToolResult(_)))),
    ("ToolUseContent", O, |v| member::<ToolUseContent, Content>(v, |c| matches!(c, Content::ToolUse(_)))),
    ("UnsupportedProtocolVersionError", E, error_with_data::<UnsupportedProtocolVersionData>),
    ("UntitledMultiSelectEnumSchema", O, |v| {
        member::<UntitledMultiSelectEnumSchema, PrimitiveSchemaDefinition>(v, |d| {
            matches!(d, PrimitiveSchemaDefinition::UntitledMultiSelect(_))
        })
    }),
    ("UntitledSingleSelectEnumSchema", O, |v| {
        member::<UntitledSingleSelectEnumSchema, PrimitiveSchemaDefinition>(v, |d| {
            matches!(d, PrimitiveSchemaDefinition::UntitledSingleSelect(_))
        })
    }),
];

fn case(folder: &str) -> Option<&'static (&'static str, Shape, Check)> {
    CASES.iter().find(|(name, _, _)| *name == folder)
}

// ===== unknown fields =====

/// Keys whose object value is a map with string values (prompt arguments), where an added
/// entry would change the data rather than add an unknown field.
const STRING_MAPS: &[&str] = &["arguments"];

/// Adds an unknown field to every object in `v`.
fn add_unknown_fields(v: &mut Value, parent_key: Option<&str>) {
    match v {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                add_unknown_fields(child, Some(key));
            }
            if !parent_key.is_some_and(|k| STRING_MAPS.contains(&k)) {
                map.insert("x-test-unknown".into(), json!({"nested": [1, "two", {"three": null}]}));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| add_unknown_fields(i, None)),
        _ => {}
    }
}

fn with_unknown_fields(v: &Value, shape: Shape) -> Value {
    let mut v = v.clone();
    match shape {
        Shape::Object => add_unknown_fields(&mut v, None),
        Shape::Envelope => {
            for key in ["params", "result"] {
                if let Some(part) = v.get_mut(key) {
                    add_unknown_fields(part, None);
                }
            }
            if let Some(data) = v.get_mut("error").and_then(|e| e.get_mut("data")) {
                add_unknown_fields(data, None);
            }
        }
        Shape::ErrorObject => {
            if let Some(data) = v.get_mut("data") {
                add_unknown_fields(data, None);
            }
        }
    }
    v
}

// ===== tests =====

#[test]
fn every_example_folder_is_mapped_to_a_type() {
    let folders = example_folders();
    assert!(!folders.is_empty(), "no example folders in {}", examples_dir().display());
    let names: BTreeSet<&str> = folders.iter().map(|(n, _)| n.as_str()).collect();
    let unmapped: Vec<&str> = names.iter().copied().filter(|n| case(n).is_none()).collect();
    assert!(unmapped.is_empty(), "example folders without a type in CASES (add them): {unmapped:?}");
    let stale: Vec<&str> = CASES.iter().map(|c| c.0).filter(|n| !names.contains(n)).collect();
    assert!(stale.is_empty(), "CASES names folders that do not exist: {stale:?}");
    let empty: Vec<&str> = folders.iter().filter(|(_, f)| f.is_empty()).map(|(n, _)| n.as_str()).collect();
    assert!(empty.is_empty(), "example folders without JSON files: {empty:?}");
}

#[test]
fn every_example_decodes_and_re_encodes_unchanged() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (folder, files) in example_folders() {
        let Some((_, _, check)) = case(&folder) else { continue };
        for (path, value) in files {
            checked += 1;
            match check(&value) {
                Ok(out) if out == value => {}
                Ok(out) => failures.push(format!("{path}: re-encodes differently:\n  in:  {value}\n  out: {out}")),
                Err(e) => failures.push(format!("{path}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} examples failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn unknown_fields_survive_in_every_example() {
    let mut failures = Vec::new();
    for (folder, files) in example_folders() {
        let Some((_, shape, check)) = case(&folder) else { continue };
        for (path, value) in files {
            let value = with_unknown_fields(&value, *shape);
            match check(&value) {
                Ok(out) if out == value => {}
                Ok(out) => failures.push(format!("{path}: dropped or changed a field:\n  in:  {value}\n  out: {out}")),
                Err(e) => failures.push(format!("{path}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{} examples lost unknown fields:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn vendor_fields_on_tools_and_tool_results_survive() {
    let tool = json!({
        "name": "search",
        "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}, "x-mcp-header": "X-Q"},
        "annotations": {"readOnlyHint": true, "x-vendor-hint": "cheap"},
        "_meta": {"com.example/owner": "search-team", "io.modelcontextprotocol/ui": {"resourceUri": "ui://s"}},
        "x-vendor": {"rateLimit": {"perMinute": 60}, "tags": ["a", "b"]}
    });
    let decoded: Tool = serde_json::from_value(tool.clone()).unwrap();
    assert_eq!(decoded.extra.get("x-vendor"), tool.get("x-vendor"));
    assert_eq!(decoded.meta.as_ref().and_then(|m| m.get("com.example/owner")), Some(&json!("search-team")));
    assert_eq!(serde_json::to_value(&decoded).unwrap(), tool);

    let result = json!({
        "content": [{"type": "text", "text": "ok", "x-block": 1}, {"type": "hologram", "frames": 3}],
        "structuredContent": {"hits": 2},
        "isError": false,
        "_meta": {"com.example/trace": "abc", "io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}},
        "x-vendor": {"cost": 3}
    });
    let decoded: CallToolResult = serde_json::from_value(result.clone()).unwrap();
    assert_eq!(decoded.extra.get("x-vendor"), Some(&json!({"cost": 3})));
    assert!(matches!(decoded.content[1], Content::Unknown(_)));
    assert_eq!(serde_json::to_value(&decoded).unwrap(), result);

    // The same through a JSON-RPC response, as a relay would see it.
    let msg = Message::response(mcp_core::RequestId::Number(7), &decoded).unwrap();
    let Message::Response(resp) = Message::from_slice(&msg.to_vec()).unwrap() else { panic!("a response") };
    assert_eq!(resp.result.parse::<CallToolResult>().unwrap(), decoded);
}
