//! The conformance fixture answers what the official conformance suite
//! (@modelcontextprotocol/conformance 0.1.16) checks, over an in-memory pair.

use std::sync::{Arc, Mutex};

use mcp_core::schema::{CompleteRequestParams, Content, LoggingLevel, Reference, ResourceContents};
use mcp_testkit::{client, fixtures};
use serde_json::{Value, json};

fn text(content: &[Content]) -> &str {
    content.iter().find_map(Content::as_text).expect("a text content block")
}

fn value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

#[tokio::test]
async fn tools_are_listed_with_descriptions_and_schemas() {
    let client = client::in_memory(&fixtures::everything()).await;
    let tools = client.list_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    for want in [
        "echo",
        "test_simple_text",
        "test_image_content",
        "test_audio_content",
        "test_embedded_resource",
        "test_multiple_content_types",
        "test_tool_with_logging",
        "test_tool_with_progress",
        "test_error_handling",
        "test_sampling",
        "test_elicitation",
        "test_elicitation_sep1034_defaults",
        "test_elicitation_sep1330_enums",
        "json_schema_2020_12_tool",
        "test_reconnection",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for tool in &tools {
        let tool = value(tool);
        assert!(tool["description"].as_str().is_some_and(|d| !d.is_empty()), "{tool}");
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
    }
    let schema = value(tools.iter().find(|t| t.name == "json_schema_2020_12_tool").unwrap())["inputSchema"].clone();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["$defs"]["address"]["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
}

#[tokio::test]
async fn content_tools_return_what_the_suite_expects() {
    let client = client::in_memory(&fixtures::everything()).await;
    let none = json!({});

    let echo = client.call_tool("echo", &json!({ "message": "héllo" })).await.unwrap();
    assert!(text(&echo.content).contains("héllo"));

    let simple = client.call_tool("test_simple_text", &none).await.unwrap();
    assert_eq!(value(&simple.content), json!([{ "type": "text", "text": fixtures::SIMPLE_TEXT }]));

    let image = value(&client.call_tool("test_image_content", &none).await.unwrap().content);
    assert_eq!(image, json!([{ "type": "image", "data": fixtures::PNG_BASE64, "mimeType": "image/png" }]));

    let audio = value(&client.call_tool("test_audio_content", &none).await.unwrap().content);
    assert_eq!(audio, json!([{ "type": "audio", "data": fixtures::WAV_BASE64, "mimeType": "audio/wav" }]));

    let embedded = value(&client.call_tool("test_embedded_resource", &none).await.unwrap().content);
    assert_eq!(
        embedded,
        json!([{ "type": "resource", "resource": {
            "uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."
        } }])
    );

    let mixed = value(&client.call_tool("test_multiple_content_types", &none).await.unwrap().content);
    let kinds: Vec<&str> = mixed.as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["text", "image", "resource"]);
    assert_eq!(mixed[2]["resource"]["uri"], "test://mixed-content-resource");
    assert_eq!(mixed[2]["resource"]["mimeType"], "application/json");
    assert_eq!(serde_json::from_str::<Value>(mixed[2]["resource"]["text"].as_str().unwrap()).unwrap()["value"], 123);

    let error = client.call_tool("test_error_handling", &none).await.unwrap();
    assert!(error.is_error());
    assert_eq!(text(&error.content), fixtures::ERROR_TEXT);

    let schema_tool = client.call_tool("json_schema_2020_12_tool", &json!({ "name": "x" })).await.unwrap();
    assert!(!schema_tool.is_error());
}

#[tokio::test]
async fn logging_and_progress_arrive_during_the_call() {
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = logs.clone();
    let builder = client::builder().on_notification(move |n| {
        if n.method == "notifications/message" {
            sink.lock().unwrap().push(n.parse_params::<Value>().unwrap());
        }
    });
    let client = client::in_memory_with(builder, &fixtures::everything()).await;
    client.set_level(LoggingLevel::Debug).await.unwrap();
    client.call_tool("test_tool_with_logging", &json!({})).await.unwrap();
    // Notifications sent before the response are delivered before it.
    let logs = logs.lock().unwrap().clone();
    let messages: Vec<&str> = logs.iter().map(|l| l["data"].as_str().unwrap()).collect();
    assert_eq!(messages, fixtures::LOG_MESSAGES);
    assert!(logs.iter().all(|l| l["level"] == "info"));

    let mut progress = Vec::new();
    let result = client
        .call_tool_with_progress("test_tool_with_progress", &json!({}), |p| progress.push(value(&p)))
        .await
        .unwrap();
    assert!(!result.is_error());
    let values: Vec<f64> = progress.iter().map(|p| p["progress"].as_f64().unwrap()).collect();
    assert_eq!(values, [0.0, 50.0, 100.0], "{progress:?}");
    assert!(progress.iter().all(|p| p["total"] == 100.0));
}

#[tokio::test]
async fn sampling_and_elicitation_go_through_the_client() {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let builder = client::conformance_builder().on_elicitation(move |params| {
        seen.lock().unwrap().push(value(&params));
        async {
            Ok(mcp_core::schema::ElicitResult::accept(json!({ "username": "testuser", "email": "t@example.com" })))
        }
    });
    let client = client::in_memory_with(builder, &fixtures::everything()).await;

    let sampled = client.call_tool("test_sampling", &json!({ "prompt": "Test prompt" })).await.unwrap();
    assert_eq!(text(&sampled.content), format!("LLM response: {}", client::SAMPLING_ANSWER));

    let elicited = client.call_tool("test_elicitation", &json!({ "message": "Who are you?" })).await.unwrap();
    let answer = text(&elicited.content);
    assert!(answer.starts_with("User response: action=accept") && answer.contains("testuser"), "{answer}");

    client.call_tool("test_elicitation_sep1034_defaults", &json!({})).await.unwrap();
    client.call_tool("test_elicitation_sep1330_enums", &json!({})).await.unwrap();
    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0]["message"], "Who are you?");
    assert_eq!(requests[0]["requestedSchema"]["required"], json!(["username", "email"]));
    let defaults = &requests[1]["requestedSchema"]["properties"];
    assert_eq!(defaults["name"]["default"], "John Doe");
    assert_eq!(defaults["age"]["default"], 30);
    assert_eq!(defaults["score"]["default"], 95.5);
    assert_eq!(defaults["status"]["default"], "active");
    assert_eq!(defaults["verified"]["default"], true);
    let enums = &requests[2]["requestedSchema"]["properties"];
    assert_eq!(enums["untitledSingle"]["enum"], json!(["option1", "option2", "option3"]));
    assert_eq!(enums["titledSingle"]["oneOf"][0], json!({ "const": "value1", "title": "First Option" }));
    assert_eq!(enums["legacyEnum"]["enumNames"].as_array().unwrap().len(), 3);
    assert_eq!(enums["untitledMulti"]["items"]["enum"].as_array().unwrap().len(), 3);
    assert_eq!(enums["titledMulti"]["items"]["anyOf"][2]["title"], "Third Choice");
}

#[tokio::test]
async fn without_the_capabilities_sampling_and_elicitation_are_tool_errors() {
    let client = client::in_memory(&fixtures::everything()).await;
    let sampled = client.call_tool("test_sampling", &json!({ "prompt": "p" })).await.unwrap();
    assert!(sampled.is_error(), "{sampled:?}");
    let elicited = client.call_tool("test_elicitation", &json!({ "message": "m" })).await.unwrap();
    assert!(elicited.is_error(), "{elicited:?}");
}

#[tokio::test]
async fn resources_templates_and_subscriptions() {
    let client = client::in_memory(&fixtures::everything()).await;
    let listed = value(&client.list_resources(None).await.unwrap());
    let uris: Vec<&str> = listed["resources"].as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap()).collect();
    assert_eq!(uris.len(), 3, "{listed}");
    for uri in ["test://static-text", "test://static-binary", "test://watched-resource"] {
        assert!(uris.contains(&uri), "{uri} missing from {uris:?}");
    }
    assert!(
        listed["resources"].as_array().unwrap().iter().all(|r| r["name"].is_string() && r["description"].is_string())
    );

    let read = client.read_resource("test://static-text").await.unwrap();
    let ResourceContents::Text(t) = &read.contents[0] else { panic!("text contents") };
    assert_eq!(
        (t.uri.as_str(), t.mime_type.as_deref(), t.text.as_str()),
        ("test://static-text", Some("text/plain"), fixtures::STATIC_TEXT)
    );

    let read = client.read_resource("test://static-binary").await.unwrap();
    let ResourceContents::Blob(b) = &read.contents[0] else { panic!("blob contents") };
    assert_eq!((b.mime_type.as_deref(), b.blob.as_str()), (Some("image/png"), fixtures::PNG_BASE64));

    let templates = value(&client.list_resource_templates(None).await.unwrap());
    assert_eq!(templates["resourceTemplates"][0]["uriTemplate"], "test://template/{id}/data");
    let read = client.read_resource("test://template/123/data").await.unwrap();
    let ResourceContents::Text(t) = &read.contents[0] else { panic!("text contents") };
    assert_eq!(t.uri, "test://template/123/data");
    assert_eq!(
        serde_json::from_str::<Value>(&t.text).unwrap(),
        json!({ "id": "123", "templateTest": true, "data": "Data for ID: 123" })
    );

    client.subscribe("test://watched-resource").await.unwrap();
    client.unsubscribe("test://watched-resource").await.unwrap();
    client.ping().await.unwrap();
}

#[tokio::test]
async fn prompts_and_completion() {
    let client = client::in_memory(&fixtures::everything()).await;
    let listed = value(&client.list_prompts(None).await.unwrap());
    let prompts = listed["prompts"].as_array().unwrap();
    assert_eq!(prompts.len(), 4, "{listed}");
    assert!(prompts.iter().all(|p| p["description"].is_string()));

    let simple = value(&client.get_prompt("test_simple_prompt", [("", ""); 0]).await.unwrap());
    assert_eq!(
        simple["messages"],
        json!([{ "role": "user", "content": { "type": "text", "text": "This is a simple prompt for testing." } }])
    );

    let args = value(
        &client
            .get_prompt("test_prompt_with_arguments", [("arg1", "testValue1"), ("arg2", "testValue2")])
            .await
            .unwrap(),
    );
    assert_eq!(args["messages"][0]["content"]["text"], "Prompt with arguments: arg1='testValue1', arg2='testValue2'");

    let missing = client.get_prompt("test_prompt_with_arguments", [("arg1", "only")]).await;
    assert!(missing.is_err(), "a missing required argument must be refused");

    let embedded = value(
        &client
            .get_prompt("test_prompt_with_embedded_resource", [("resourceUri", "test://example-resource")])
            .await
            .unwrap(),
    );
    assert_eq!(embedded["messages"][0]["content"]["type"], "resource");
    assert_eq!(embedded["messages"][0]["content"]["resource"]["uri"], "test://example-resource");
    assert_eq!(embedded["messages"][1]["content"]["text"], "Please process the embedded resource above.");

    let image = value(&client.get_prompt("test_prompt_with_image", [("", ""); 0]).await.unwrap());
    assert_eq!(image["messages"][0]["content"]["mimeType"], "image/png");
    assert_eq!(image["messages"][0]["content"]["data"], fixtures::PNG_BASE64);

    let complete =
        |value: &str| CompleteRequestParams::new(Reference::prompt("test_prompt_with_arguments"), "arg1", value);
    let offered = client.complete(&complete("par")).await.unwrap();
    assert_eq!(offered.completion.values, ["paris", "park", "party"]);
    let offered = client.complete(&complete("test")).await.unwrap();
    assert!(offered.completion.values.is_empty());
}

#[tokio::test]
#[should_panic(expected = "client: the initialize handshake failed: request \"initialize\" timed out")]
async fn connecting_to_a_silent_server_fails_naming_the_wait() {
    tokio::time::pause(); // the 10 s pass instantly: the runtime's clock is advanced when idle
    let (client_end, _silent_server) = mcp_testkit::duplex(8);
    client::connect(client_end).await;
}
