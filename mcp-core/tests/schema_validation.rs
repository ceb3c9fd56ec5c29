//! What this crate produces validates against the normative JSON Schema of every revision in
//! which the type exists (`shared/spec/<revision>/schema.json`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use jsonschema::ValidatorMap;
use mcp_core::schema::methods::{self as m, MethodKind};
use mcp_core::schema::*;
use mcp_core::{Message, ProtocolVersion, RequestId};
use serde::Serialize;
use serde_json::{Value, json};

use ProtocolVersion::{V2024_11_05 as V1, V2025_03_26 as V2, V2025_06_18 as V3, V2025_11_25 as V4, V2026_07_28 as V5};

// ===== the schemas, compiled once per revision =====

struct Revision {
    /// The schema file.
    schema: Value,
    /// `#/$defs` (2025-11-25 on) or `#/definitions` (before).
    defs_key: &'static str,
    /// Every subschema, compiled.
    validators: ValidatorMap,
}

fn spec_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec"));
    assert!(
        dir.is_dir(),
        "the MCP specification folder is missing: expected {} (the `shared/` folder beside the repository \
         checkout, holding spec/<revision>/schema.json); put it there and re-run",
        dir.display()
    );
    dir
}

fn revision(version: ProtocolVersion) -> &'static Revision {
    static REVISIONS: [OnceLock<Revision>; 5] = [const { OnceLock::new() }; 5];
    let index = ProtocolVersion::ALL.iter().position(|v| *v == version).expect("a known revision");
    REVISIONS[index].get_or_init(|| {
        let path = spec_dir().join(version.as_str()).join("schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let defs_key = if schema.get("$defs").is_some() { "$defs" } else { "definitions" };
        let validators =
            jsonschema::validator_map_for(&schema).unwrap_or_else(|e| panic!("compile the {version} schema: {e}"));
        Revision { schema, defs_key, validators }
    })
}

fn defines(version: ProtocolVersion, name: &str) -> bool {
    let rev = revision(version);
    rev.schema[rev.defs_key].get(name).is_some()
}

/// What is wrong with `json` as a `#/$defs/<name>` of `version`.
fn errors(version: ProtocolVersion, name: &str, json: &Value) -> Vec<String> {
    assert!(defines(version, name), "{version} does not define {name}");
    let rev = revision(version);
    let pointer = format!("#/{}/{name}", rev.defs_key);
    let validator =
        rev.validators.get(&pointer).unwrap_or_else(|| panic!("{version}: no compiled validator for {pointer}"));
    validator.iter_errors(json).map(|e| format!("  at {}: {e}", e.instance_path())).collect()
}

/// Validates `value` against `#/$defs/<name>` of each of `versions`.
fn validate_in<T: Serialize + ?Sized>(versions: &[ProtocolVersion], name: &str, value: &T) {
    let json = serde_json::to_value(value).expect("serialize");
    for &version in versions {
        let errors = errors(version, name, &json);
        assert!(errors.is_empty(), "{name} is not valid for {version}:\n{}\nvalue: {json:#}", errors.join("\n"));
    }
}

/// Validates `value` against `name` in every revision that defines `name` (at least one must).
fn validate_all<T: Serialize + ?Sized>(name: &str, value: &T) -> Vec<ProtocolVersion> {
    let versions: Vec<ProtocolVersion> = ProtocolVersion::ALL.into_iter().filter(|v| defines(*v, name)).collect();
    assert!(!versions.is_empty(), "no revision defines {name}");
    validate_in(&versions, name, value);
    versions
}

#[test]
fn the_validators_reject_what_the_schemas_forbid() {
    for version in ProtocolVersion::ALL {
        assert!(!errors(version, "Tool", &json!({"name": "no input schema"})).is_empty(), "{version}");
        assert!(!errors(version, "TextContent", &json!({"type": "image", "text": "x"})).is_empty(), "{version}");
    }
    let no_result_type = serde_json::to_value(CallToolResult::text("x")).unwrap();
    assert!(!errors(V5, "CallToolResult", &no_result_type).is_empty());
    assert!(errors(V4, "CallToolResult", &no_result_type).is_empty());
    let uncached =
        serde_json::to_value(ListToolsResult { result_type: Some(ResultType::Complete), ..Default::default() })
            .unwrap();
    assert!(!errors(V5, "ListToolsResult", &uncached).is_empty(), "ttlMs and cacheScope are required in 2026-07-28");
}

// ===== building blocks =====

fn modern_meta() -> Meta {
    let mut meta = RequestMeta::new(V5.as_str(), ClientCapabilities::default());
    meta.client_info = Some(Implementation::new("test-client", "1.0.0"));
    meta.progress_token = Some(ProgressToken::from("p-1"));
    meta.into_meta()
}

fn icon() -> Icon {
    Icon { sizes: vec!["48x48".into()], theme: Some(IconTheme::Dark), ..Icon::new("https://example.com/i.png") }
        .with_mime_type("image/png")
}

fn server_info() -> Implementation {
    Implementation {
        description: Some("A test server".into()),
        icons: vec![icon()],
        website_url: Some("https://example.com".into()),
        ..Implementation::new("test-server", "0.1.0").with_title("Test Server")
    }
}

fn server_capabilities() -> ServerCapabilities {
    let mut experimental = JsonObject::new();
    experimental.insert("com.example/feature".into(), json!({"enabled": true}));
    ServerCapabilities {
        experimental: Some(experimental),
        logging: Some(JsonObject::new()),
        completions: Some(JsonObject::new()),
        prompts: Some(ListChangedCapability::list_changed()),
        resources: Some(ResourcesCapability { subscribe: Some(true), list_changed: Some(true), ..Default::default() }),
        tools: Some(ListChangedCapability::list_changed()),
        ..ServerCapabilities::default()
    }
}

fn client_capabilities() -> ClientCapabilities {
    ClientCapabilities {
        roots: Some(RootsCapability { list_changed: Some(true), ..Default::default() }),
        sampling: Some(SamplingCapability::default()),
        ..ClientCapabilities::default()
    }
}

fn weather_tool() -> Tool {
    Tool {
        annotations: Some(ToolAnnotations { read_only_hint: Some(true), ..Default::default() }),
        ..Tool::new(
            "get_weather",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        )
        .with_description("Current weather for a city")
    }
}

fn complete<T>(mut value: T, set: impl FnOnce(&mut T)) -> T {
    set(&mut value);
    value
}

// ===== lifecycle =====

#[test]
fn initialize_validates_in_every_legacy_revision() {
    for version in [V1, V2, V3, V4] {
        let result = InitializeResult::new(version, server_capabilities(), server_info())
            .with_instructions("Use get_weather for forecasts.");
        validate_in(&[version], "InitializeResult", &result);

        let params = InitializeRequestParams::new(version, client_capabilities(), Implementation::new("c", "1"));
        validate_in(&[version], "InitializeRequest", &Message::request(1, m::INITIALIZE, &params).unwrap());
    }
    validate_all("InitializedNotification", &Message::notification(m::NOTIFICATIONS_INITIALIZED, &json!({})).unwrap());
    validate_all("PingRequest", &Message::request("p", m::PING, &RequestParams::default()).unwrap());
    validate_all("Implementation", &server_info());

    let tasks = ServerCapabilities {
        tasks: Some(ServerTasksCapability {
            list: Some(JsonObject::new()),
            requests: Some(serde_json::from_value(json!({"tools": {"call": {}}})).unwrap()),
            ..Default::default()
        }),
        ..server_capabilities()
    };
    validate_in(&[V4], "ServerCapabilities", &tasks);
    let client = ClientCapabilities {
        elicitation: Some(ElicitationCapability { form: Some(JsonObject::new()), ..Default::default() }),
        sampling: Some(SamplingCapability { tools: Some(JsonObject::new()), ..Default::default() }),
        ..client_capabilities()
    };
    validate_in(&[V4, V5], "ClientCapabilities", &client);
    validate_all("ClientCapabilities", &client_capabilities());
    validate_all("ServerCapabilities", &server_capabilities());
}

#[test]
fn discover_validates() {
    let result = DiscoverResult::new([V5, V4], server_capabilities(), 60_000).with_server_info(&server_info());
    assert_eq!(validate_all("DiscoverResult", &result), [V5]);
    validate_in(
        &[V5],
        "DiscoverRequest",
        &Message::request(1, m::SERVER_DISCOVER, &RequestParams { meta: Some(modern_meta()), ..Default::default() })
            .unwrap(),
    );
}

// ===== tools =====

#[test]
fn tools_validate() {
    let tool = Tool {
        title: Some("Weather".into()),
        output_schema: Some(json!({"type": "object", "properties": {"temp": {"type": "number"}}})),
        icons: vec![icon()],
        execution: Some(ToolExecution { task_support: Some(TaskSupport::Optional), ..Default::default() }),
        ..weather_tool()
    };
    validate_all("Tool", &tool);
    validate_all("Tool", &Tool::new("now", Tool::no_arguments_schema()));

    let list = ListToolsResult {
        result_type: Some(ResultType::Complete),
        next_cursor: Some("page-2".into()),
        ttl_ms: Some(300_000),
        cache_scope: Some(CacheScope::Public),
        ..ListToolsResult::new([tool, weather_tool()])
    };
    validate_all("ListToolsResult", &list);
    validate_all(
        "ListToolsRequest",
        &Message::request(
            2,
            m::TOOLS_LIST,
            &PaginatedRequestParams { meta: Some(modern_meta()), ..PaginatedRequestParams::with_cursor("c") },
        )
        .unwrap(),
    );

    let mut call = CallToolRequestParams::new("get_weather").with_arguments(json!({"city": "Paris"}));
    call.meta = Some(modern_meta());
    validate_all("CallToolRequest", &Message::request("c-1", m::TOOLS_CALL, &call).unwrap());
}

#[test]
fn tool_results_validate() {
    let every_revision = CallToolResult::new([
        Content::text("22.5 °C"),
        Content::image("iVBORw0KGgo=", "image/png"),
        Content::resource(TextResourceContents::plain("file:///w.txt", "sunny")),
    ])
    .with_result_type(ResultType::Complete);
    validate_all("CallToolResult", &every_revision);
    validate_all(
        "CallToolResult",
        &CallToolResult::error_text("city not found").with_result_type(ResultType::Complete),
    );

    let structured = CallToolResult {
        content: vec![
            Content::text(r#"{"temp":22.5}"#),
            Content::audio("UklGRg==", "audio/wav"),
            Content::resource_link("file:///w.csv", "w.csv"),
            EmbeddedResource::blob("file:///w.bin", "AAEC").into(),
        ],
        is_error: Some(false),
        ..CallToolResult::structured(json!({"temp": 22.5, "conditions": "sunny"}))
    }
    .with_result_type(ResultType::Complete);
    validate_in(&[V3, V4, V5], "CallToolResult", &structured);
    // 2026-07-28 allows any JSON value as structured content.
    validate_in(
        &[V5],
        "CallToolResult",
        &CallToolResult::structured(json!([1, 2])).with_result_type(ResultType::Complete),
    );
}

#[test]
fn content_blocks_validate() {
    let annotations = Annotations { audience: Some(vec![Role::User]), priority: Some(0.5), ..Default::default() };
    let text = TextContent { annotations: Some(annotations.clone()), ..TextContent::new("hi") };
    validate_all("TextContent", &text);
    validate_all("ImageContent", &ImageContent::new("iVBORw0KGgo=", "image/png"));
    validate_all("AudioContent", &AudioContent::new("UklGRg==", "audio/wav"));
    validate_all("EmbeddedResource", &EmbeddedResource::text("file:///a", "a"));
    validate_all("ResourceLink", &ResourceLink::new("file:///a", "a").with_mime_type("text/plain"));
    let dated = Annotations { last_modified: Some("2025-01-12T15:00:58Z".into()), ..annotations };
    validate_in(&[V3, V4, V5], "Annotations", &dated);
    let mut input = JsonObject::new();
    input.insert("city".into(), json!("Paris"));
    validate_all("ToolUseContent", &ToolUseContent::new("call_1", "get_weather", input));
    validate_all("ToolResultContent", &ToolResultContent::new("call_1", vec![Content::text("18 °C")]));
    validate_all("ContentBlock", &Content::resource_link("file:///b", "b"));
}

// ===== resources =====

#[test]
fn resources_validate() {
    let resource = Resource {
        title: Some("Main".into()),
        size: Some(1024),
        icons: vec![icon()],
        annotations: Some(Annotations { priority: Some(1.0), ..Default::default() }),
        ..Resource::new("file:///src/main.rs", "main.rs").with_mime_type("text/x-rust").with_description("entry point")
    };
    validate_all("Resource", &resource);
    validate_all(
        "ListResourcesResult",
        &ListResourcesResult {
            resources: vec![resource],
            result_type: Some(ResultType::Complete),
            ttl_ms: Some(0),
            cache_scope: Some(CacheScope::Private),
            next_cursor: Some("n".into()),
            ..Default::default()
        },
    );
    validate_all(
        "ListResourceTemplatesResult",
        &ListResourceTemplatesResult {
            resource_templates: vec![ResourceTemplate::new("file:///{path}", "files")],
            result_type: Some(ResultType::Complete),
            ttl_ms: Some(1),
            cache_scope: Some(CacheScope::Public),
            ..Default::default()
        },
    );

    let read = ReadResourceResult {
        result_type: Some(ResultType::Complete),
        ttl_ms: Some(60_000),
        cache_scope: Some(CacheScope::Private),
        ..ReadResourceResult::new([
            TextResourceContents::plain("file:///a.txt", "hello").into(),
            TextResourceContents::json("file:///a.json", &json!({"a": 1})).into(),
            BlobResourceContents::new("file:///a.png", "iVBORw0KGgo=").with_mime_type("image/png").into(),
        ])
    };
    validate_all("ReadResourceResult", &read);
    let params = ReadResourceRequestParams { meta: Some(modern_meta()), ..ReadResourceRequestParams::new("file:///a") };
    validate_all("ReadResourceRequest", &Message::request(3, m::RESOURCES_READ, &params).unwrap());

    let sub = SubscribeRequestParams::new("file:///a");
    validate_all("SubscribeRequest", &Message::request(4, m::RESOURCES_SUBSCRIBE, &sub).unwrap());
    validate_all("UnsubscribeRequest", &Message::request(5, m::RESOURCES_UNSUBSCRIBE, &sub).unwrap());
    validate_all(
        "ResourceUpdatedNotification",
        &Message::notification(
            m::NOTIFICATIONS_RESOURCES_UPDATED,
            &ResourceUpdatedNotificationParams::new("file:///a"),
        )
        .unwrap(),
    );
    for (name, method) in [
        ("ResourceListChangedNotification", m::NOTIFICATIONS_RESOURCES_LIST_CHANGED),
        ("ToolListChangedNotification", m::NOTIFICATIONS_TOOLS_LIST_CHANGED),
        ("PromptListChangedNotification", m::NOTIFICATIONS_PROMPTS_LIST_CHANGED),
        ("RootsListChangedNotification", m::NOTIFICATIONS_ROOTS_LIST_CHANGED),
    ] {
        validate_all(name, &Message::notification(method, &NotificationParams::default()).unwrap());
    }
}

// ===== prompts and completion =====

#[test]
fn prompts_validate() {
    let prompt = Prompt::new("code_review")
        .with_description("Review code")
        .with_argument(PromptArgument::required("code").with_description("The code"));
    validate_all(
        "ListPromptsResult",
        &ListPromptsResult {
            prompts: vec![prompt],
            result_type: Some(ResultType::Complete),
            ttl_ms: Some(600_000),
            cache_scope: Some(CacheScope::Public),
            ..Default::default()
        },
    );
    let result = GetPromptResult {
        result_type: Some(ResultType::Complete),
        ..GetPromptResult::new([
            PromptMessage::user_text("Review this:"),
            PromptMessage::new(Role::User, Content::resource(TextResourceContents::plain("file:///a.py", "print()"))),
            PromptMessage::assistant_text("Looks fine."),
            PromptMessage::new(Role::User, Content::image("iVBORw0KGgo=", "image/png")),
        ])
        .with_description("Code review")
    };
    validate_all("GetPromptResult", &result);
    let params = GetPromptRequestParams {
        meta: Some(modern_meta()),
        ..GetPromptRequestParams::new("code_review").with_argument("code", "print()")
    };
    validate_all("GetPromptRequest", &Message::request(6, m::PROMPTS_GET, &params).unwrap());
}

#[test]
fn completion_validates() {
    let result = complete(CompleteResult::new(["python".to_owned(), "pytorch".to_owned()]), |r| {
        r.result_type = Some(ResultType::Complete);
    });
    validate_all("CompleteResult", &result);
    let many = complete(CompleteResult::new((0..150).map(|i| format!("v{i}"))), |r| {
        r.result_type = Some(ResultType::Complete);
    });
    assert_eq!(
        (many.completion.values.len(), many.completion.total, many.completion.has_more),
        (100, Some(150), Some(true))
    );
    validate_all("CompleteResult", &many);

    let mut params = CompleteRequestParams::new(Reference::prompt("code_review"), "language", "py");
    params.meta = Some(modern_meta());
    validate_all("CompleteRequest", &Message::request(7, m::COMPLETION_COMPLETE, &params).unwrap());
    let with_context = CompleteRequestParams {
        context: Some(CompletionContext {
            arguments: Some([("language".to_owned(), "python".to_owned())].into()),
            ..Default::default()
        }),
        meta: Some(modern_meta()),
        ..CompleteRequestParams::new(Reference::resource_template("file:///{path}"), "path", "sr")
    };
    validate_in(&[V3, V4, V5], "CompleteRequest", &Message::request(8, m::COMPLETION_COMPLETE, &with_context).unwrap());
}

// ===== logging, progress, cancellation =====

#[test]
fn logging_progress_and_cancellation_validate() {
    validate_all(
        "LoggingMessageNotification",
        &Message::notification(
            m::NOTIFICATIONS_MESSAGE,
            &LoggingMessageNotificationParams::new(LoggingLevel::Error, json!({"error": "down", "port": 5432}))
                .with_logger("db"),
        )
        .unwrap(),
    );
    validate_all(
        "SetLevelRequest",
        &Message::request(9, m::LOGGING_SET_LEVEL, &SetLevelRequestParams::new(LoggingLevel::Warning)).unwrap(),
    );
    validate_all(
        "ProgressNotification",
        &Message::notification(
            m::NOTIFICATIONS_PROGRESS,
            &ProgressNotificationParams::new(ProgressToken::from(7), 50.0, Some(100.0)).with_message("halfway"),
        )
        .unwrap(),
    );
    validate_all(
        "CancelledNotification",
        &Message::notification(
            m::NOTIFICATIONS_CANCELLED,
            &CancelledNotificationParams::new(RequestId::from("r-1")).with_reason("user"),
        )
        .unwrap(),
    );
}

// ===== sampling, elicitation, roots =====

fn sampling_params() -> CreateMessageRequestParams {
    CreateMessageRequestParams {
        model_preferences: Some(ModelPreferences {
            hints: vec![ModelHint { name: Some("claude".into()), ..Default::default() }],
            intelligence_priority: Some(0.8),
            speed_priority: Some(0.5),
            ..Default::default()
        }),
        include_context: Some(IncludeContext::None),
        temperature: Some(0.7),
        stop_sequences: vec!["\n\n".into()],
        ..CreateMessageRequestParams::new(
            [SamplingMessage::user_text("What is the capital of France?"), SamplingMessage::assistant_text("Paris.")],
            100,
        )
        .with_system_prompt("Be brief.")
    }
}

fn tool_sampling_params() -> CreateMessageRequestParams {
    let mut input = JsonObject::new();
    input.insert("city".into(), json!("Paris"));
    CreateMessageRequestParams {
        tools: Some(vec![weather_tool()]),
        tool_choice: Some(ToolChoice { mode: Some(ToolChoiceMode::Auto), ..Default::default() }),
        ..CreateMessageRequestParams::new(
            [
                SamplingMessage::user_text("Weather in Paris?"),
                SamplingMessage::new(
                    Role::Assistant,
                    vec![Content::ToolUse(ToolUseContent::new("call_1", "get_weather", input))],
                ),
                SamplingMessage::new(
                    Role::User,
                    vec![Content::ToolResult(ToolResultContent::new("call_1", vec![Content::text("18 °C")]))],
                ),
            ],
            1000,
        )
    }
}

#[test]
fn sampling_validates() {
    validate_all(
        "CreateMessageRequest",
        &Message::request(10, m::SAMPLING_CREATE_MESSAGE, &sampling_params()).unwrap(),
    );
    validate_in(
        &[V4, V5],
        "CreateMessageRequest",
        &Message::request(11, m::SAMPLING_CREATE_MESSAGE, &tool_sampling_params()).unwrap(),
    );
    validate_in(&[V5], "CreateMessageRequest", &CreateMessageRequest::new(tool_sampling_params()));
    validate_all("SamplingMessage", &SamplingMessage::user_text("hi"));

    let result = CreateMessageResult::text("claude-3-sonnet", "Paris.").with_stop_reason("endTurn");
    validate_all("CreateMessageResult", &result);
    let mut input = JsonObject::new();
    input.insert("city".into(), json!("London"));
    let tool_use = CreateMessageResult::new(
        vec![Content::ToolUse(ToolUseContent::new("call_2", "get_weather", input))],
        "claude-3-sonnet",
    )
    .with_stop_reason("toolUse");
    validate_in(&[V4, V5], "CreateMessageResult", &tool_use);
}

fn basic_form() -> RequestedSchema {
    RequestedSchema::new()
        .with_required_property(
            "name",
            StringSchema { min_length: Some(1), max_length: Some(50), ..StringSchema::new("Name") },
        )
        .with_property("email", StringSchema { format: Some(StringFormat::Email), ..StringSchema::new("Email") })
        .with_property("age", NumberSchema { minimum: Some(18.0), ..NumberSchema::integer("Age") })
        .with_property("subscribe", BooleanSchema::new("Subscribe"))
        .with_property("color", UntitledSingleSelectEnumSchema::new(["red", "green"]))
        .with_property(
            "size",
            LegacyTitledEnumSchema {
                values: vec!["s".into(), "l".into()],
                enum_names: Some(vec!["Small".into(), "Large".into()]),
                ..Default::default()
            },
        )
}

fn rich_form() -> RequestedSchema {
    basic_form()
        .with_property("nickname", StringSchema { default: Some("octo".into()), ..StringSchema::new("Nickname") })
        .with_property("score", NumberSchema { default: Some(0.5), maximum: Some(1.0), ..NumberSchema::new("Score") })
        .with_property(
            "flavour",
            TitledSingleSelectEnumSchema {
                one_of: vec![TitledEnumOption::new("v", "Vanilla"), TitledEnumOption::new("c", "Chocolate")],
                default: Some("v".into()),
                ..Default::default()
            },
        )
        .with_property(
            "tags",
            UntitledMultiSelectEnumSchema {
                items: UntitledEnumItems { values: vec!["a".into(), "b".into()], ..Default::default() },
                min_items: Some(1),
                default: Some(vec!["a".into()]),
                ..Default::default()
            },
        )
        .with_property(
            "colors",
            TitledMultiSelectEnumSchema {
                items: TitledEnumItems { any_of: vec![TitledEnumOption::new("#f00", "Red")], ..Default::default() },
                max_items: Some(1),
                ..Default::default()
            },
        )
}

#[test]
fn elicitation_validates() {
    let form = ElicitRequestFormParams::new("Your details, please", basic_form());
    validate_all(
        "ElicitRequest",
        &Message::request(12, m::ELICITATION_CREATE, &ElicitRequestParams::from(form)).unwrap(),
    );
    let rich = ElicitRequestFormParams::new("More details", rich_form());
    validate_in(&[V4, V5], "ElicitRequest", &Message::request(13, m::ELICITATION_CREATE, &rich).unwrap());
    validate_in(&[V4, V5], "ElicitRequestFormParams", &rich);
    validate_in(&[V5], "ElicitRequest", &ElicitRequest::new(rich));

    let url = ElicitRequestUrlParams::new("Set your API key", "https://example.com/key");
    validate_in(&[V5], "ElicitRequest", &ElicitRequest::new(url.clone()));
    let legacy_url = url.with_elicitation_id("e-1");
    validate_in(&[V4], "ElicitRequest", &Message::request(14, m::ELICITATION_CREATE, &legacy_url).unwrap());
    validate_all(
        "ElicitationCompleteNotification",
        &Message::notification(
            m::NOTIFICATIONS_ELICITATION_COMPLETE,
            &ElicitationCompleteNotificationParams { elicitation_id: "e-1".into(), ..Default::default() },
        )
        .unwrap(),
    );

    let accepted = ElicitResult::accept(json!({"name": "octocat", "age": 30, "subscribe": true}));
    validate_all("ElicitResult", &accepted);
    validate_in(&[V4, V5], "ElicitResult", &ElicitResult::accept(json!({"tags": ["a", "b"]})));
    validate_all("ElicitResult", &ElicitResult::decline());
    validate_all("ElicitResult", &ElicitResult::cancel());
}

#[test]
fn roots_validate() {
    let roots =
        ListRootsResult::new([Root::new("file:///home/u/project").with_name("Project"), Root::new("file:///tmp")]);
    validate_all("ListRootsResult", &roots);
    validate_all("Root", &Root::new("file:///x"));
    validate_in(
        &[V1, V2, V3, V4],
        "ListRootsRequest",
        &Message::request(15, m::ROOTS_LIST, &RequestParams::default()).unwrap(),
    );
    validate_in(&[V5], "ListRootsRequest", &ListRootsRequest::default());
}

// ===== 2026-07-28 =====

#[test]
fn input_required_results_validate() {
    let result = InputRequiredResult::new()
        .with_input_request("login", ElicitRequest::new(ElicitRequestFormParams::new("GitHub user?", basic_form())))
        .with_input_request("capital", CreateMessageRequest::new(sampling_params()))
        .with_input_request("roots", ListRootsRequest::default())
        .with_request_state("eyJzdGVwIjoxfQ");
    assert_eq!(validate_all("InputRequiredResult", &result), [V5]);
    validate_all("InputRequiredResult", &InputRequiredResult::new().with_request_state("s"));

    let mut responses = InputResponses::new();
    responses.insert("login".into(), ElicitResult::accept(json!({"name": "octocat"})).into());
    responses.insert("capital".into(), CreateMessageResult::text("m", "Paris").into());
    responses.insert("roots".into(), ListRootsResult::new([Root::new("file:///p")]).into());
    validate_all("InputResponses", &responses);
    let retry = CallToolRequestParams {
        meta: Some(modern_meta()),
        input_responses: Some(responses),
        request_state: Some("eyJzdGVwIjoxfQ".into()),
        ..CallToolRequestParams::new("login_flow")
    };
    validate_in(&[V5], "CallToolRequest", &Message::request(16, m::TOOLS_CALL, &retry).unwrap());
}

#[test]
fn subscriptions_validate() {
    let filter = SubscriptionFilter {
        tools_list_changed: Some(true),
        resource_subscriptions: vec!["file:///config.json".into()],
        ..Default::default()
    };
    let listen = SubscriptionsListenRequestParams {
        meta: Some(modern_meta()),
        notifications: filter.clone(),
        ..Default::default()
    };
    validate_all(
        "SubscriptionsListenRequest",
        &Message::request("listen-1", m::SUBSCRIPTIONS_LISTEN, &listen).unwrap(),
    );
    let mut meta = NotificationMeta { subscription_id: Some(RequestId::from("listen-1")), ..Default::default() };
    let ack = SubscriptionsAcknowledgedNotificationParams {
        meta: Some(meta.clone().into_meta()),
        notifications: filter,
        ..Default::default()
    };
    validate_all(
        "SubscriptionsAcknowledgedNotification",
        &Message::notification(m::NOTIFICATIONS_SUBSCRIPTIONS_ACKNOWLEDGED, &ack).unwrap(),
    );
    meta.extra.insert("com.example/k".into(), json!(1));
    validate_in(
        &[V5],
        "ToolListChangedNotification",
        &Message::notification(
            m::NOTIFICATIONS_TOOLS_LIST_CHANGED,
            &NotificationParams { meta: Some(meta.into_meta()), ..Default::default() },
        )
        .unwrap(),
    );
    validate_all("SubscriptionsListenResult", &SubscriptionsListenResult::new(RequestId::from("listen-1")));
}

#[test]
fn error_responses_validate() {
    let unsupported = UnsupportedProtocolVersionData::new("1900-01-01", [V5, V4]).to_error();
    validate_all("UnsupportedProtocolVersionError", &Message::error(Some(RequestId::Number(1)), unsupported));
    let missing = MissingRequiredClientCapabilityData::new(ClientCapabilities {
        elicitation: Some(ElicitationCapability::default()),
        ..Default::default()
    })
    .to_error();
    validate_all("MissingRequiredClientCapabilityError", &Message::error(Some(RequestId::Number(2)), missing));
    let url = UrlElicitationRequiredData {
        elicitations: vec![
            ElicitRequestUrlParams::new("Authorize", "https://example.com/auth").with_elicitation_id("e"),
        ],
        ..Default::default()
    }
    .to_error();
    validate_all("URLElicitationRequiredError", &Message::error(Some(RequestId::Number(3)), url));
    let mismatch = mcp_core::ErrorObject::new(mcp_core::jsonrpc::error_codes::HEADER_MISMATCH, "Mcp-Name mismatch");
    validate_all("HeaderMismatchError", &Message::error(Some(RequestId::Number(4)), mismatch));
}

// ===== tasks (2025-11-25) =====

#[test]
fn tasks_validate() {
    let task: Task = serde_json::from_value(json!({
        "taskId": "t-1", "status": "working", "createdAt": "2025-11-25T10:00:00Z",
        "lastUpdatedAt": "2025-11-25T10:00:01Z", "ttl": 60000, "pollInterval": 1000
    }))
    .unwrap();
    validate_all("Task", &task);
    validate_all("Task", &Task { ttl: None, status_message: Some("no limit".into()), ..task.clone() });
    validate_all("CreateTaskResult", &CreateTaskResult { meta: None, task: task.clone(), extra: JsonObject::new() });
    validate_all("GetTaskResult", &GetTaskResult { meta: None, task: task.clone() });
    validate_all("ListTasksResult", &ListTasksResult { tasks: vec![task.clone()], ..Default::default() });
    validate_all("GetTaskRequest", &Message::request(17, m::TASKS_GET, &TaskRequestParams::new("t-1")).unwrap());
    validate_all(
        "TaskStatusNotification",
        &Message::notification(m::NOTIFICATIONS_TASKS_STATUS, &GetTaskResult { meta: None, task }).unwrap(),
    );
    let call = CallToolRequestParams {
        task: Some(TaskMetadata { ttl: Some(60_000), ..Default::default() }),
        ..CallToolRequestParams::new("slow")
    };
    validate_in(&[V4], "CallToolRequest", &Message::request(18, m::TOOLS_CALL, &call).unwrap());
}

// ===== the method table =====

#[test]
fn the_method_table_matches_every_schema() {
    for version in ProtocolVersion::ALL {
        let rev = revision(version);
        let mut in_schema = BTreeSet::new();
        for (name, def) in rev.schema[rev.defs_key].as_object().unwrap() {
            if let Some(method) = def.pointer("/properties/method/const").and_then(Value::as_str) {
                let kind = if name.ends_with("Notification") { MethodKind::Notification } else { MethodKind::Request };
                in_schema.insert((method.to_owned(), kind == MethodKind::Request));
            }
        }
        let in_table: BTreeSet<(String, bool)> =
            m::in_version(version).map(|i| (i.name.to_owned(), i.kind == MethodKind::Request)).collect();
        assert_eq!(in_table, in_schema, "methods::ALL disagrees with the {version} schema");
    }
    assert!(m::info("tools/call").is_some() && m::info("nope").is_none());
}
