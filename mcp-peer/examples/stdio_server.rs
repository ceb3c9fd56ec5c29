//! An MCP server on stdin/stdout with one of everything: tools (typed, progress, sampling,
//! failing), a resource, a template and a prompt. The interop tests drive it with the official
//! TypeScript and Python clients.
//!
//! ```sh
//! cargo run -p mcp-peer --example stdio_server [-- --stateless]
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use mcp_core::schema::{
    CallToolResult, CreateMessageRequest, CreateMessageRequestParams, GetPromptResult, InputRequiredResult,
    InputResponse, Prompt, PromptArgument, PromptMessage, ReadResourceResult, Resource, ResourceTemplate,
    SamplingMessage, Tool,
};
use mcp_peer::{RequestContext, Server, ToolError};
use serde_json::{Value, json};

#[derive(serde::Deserialize)]
struct Echo {
    message: String,
}

#[derive(serde::Deserialize)]
struct Add {
    a: f64,
    b: f64,
}

#[derive(serde::Deserialize)]
struct Steps {
    steps: u32,
}

fn server(stateless: bool) -> Server {
    let object = |props: Value, required: &[&str]| json!({"type": "object", "properties": props, "required": required});
    Server::builder("mcp-peer-example", env!("CARGO_PKG_VERSION"))
        .instructions("A demonstration server: echo, add, progress, sampling.")
        .stateless_revision(stateless)
        .tool(
            Tool::new("echo", object(json!({"message": {"type": "string"}}), &["message"]))
                .with_description("Echoes the message"),
            |_ctx: RequestContext, args: Echo| async move { Ok(CallToolResult::text(args.message)) },
        )
        .tool(
            Tool::new("add", object(json!({"a": {"type": "number"}, "b": {"type": "number"}}), &["a", "b"]))
                .with_description("Adds two numbers")
                .with_output_schema(
                    json!({"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]}),
                ),
            |_ctx: RequestContext, args: Add| async move {
                let sum = args.a + args.b;
                Ok(CallToolResult::text(sum.to_string()).with_structured_content(json!({ "sum": sum })))
            },
        )
        .tool(
            Tool::new(
                "progress",
                object(json!({"steps": {"type": "integer", "minimum": 1, "maximum": 100}}), &["steps"]),
            )
            .with_description("Reports progress, then finishes"),
            |ctx: RequestContext, args: Steps| async move {
                for i in 1..=args.steps {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    ctx.progress(f64::from(i), Some(f64::from(args.steps)), Some("step")).await?;
                }
                Ok(CallToolResult::text(format!("{} steps", args.steps)))
            },
        )
        .tool(
            Tool::new("ask_model", object(json!({"question": {"type": "string"}}), &["question"]))
                .with_description("Asks the client's model (sampling)"),
            |ctx: RequestContext, args: Value| async move {
                let question = args["question"].as_str().unwrap_or_default().to_owned();
                let params = CreateMessageRequestParams::new([SamplingMessage::user_text(question)], 50);
                let reply = match ctx.input_response("answer") {
                    // 2026-07-28, second round: the client's answer is in the retried call.
                    Some(InputResponse::CreateMessage(reply)) => reply.clone(),
                    // Legacy session: ask the client directly.
                    _ if ctx.peer().protocol_version().is_some() => ctx.peer().create_message(&params).await?,
                    // 2026-07-28, first round: tell the client what is needed.
                    _ => {
                        let needed =
                            InputRequiredResult::new().with_input_request("answer", CreateMessageRequest::new(params));
                        return Err(ToolError::InputRequired(needed));
                    }
                };
                let text = serde_json::to_value(&reply.content)?["text"].as_str().unwrap_or_default().to_owned();
                Ok(CallToolResult::text(format!("{}: {text}", reply.model)))
            },
        )
        .tool(
            Tool::new("fail", json!({"type": "object"})).with_description("Always fails"),
            |_ctx: RequestContext, _args: Value| async move {
                Err::<CallToolResult, _>(ToolError::new("this tool always fails"))
            },
        )
        .resource(
            Resource::new("mem://readme", "readme").with_mime_type("text/plain"),
            |_ctx: RequestContext, uri: String| async move { Ok(ReadResourceResult::text(uri, "Read me first.")) },
        )
        .resource_template(
            ResourceTemplate::new("greeting://{name}", "greeting"),
            |_ctx: RequestContext, uri: String, vars| async move {
                Ok(ReadResourceResult::text(uri, format!("Hello, {}!", vars["name"])))
            },
        )
        .prompt(
            Prompt::new("greet").with_description("Greets someone").with_argument(PromptArgument::required("name")),
            |_ctx: RequestContext, args: BTreeMap<String, String>| async move {
                Ok(GetPromptResult::new([PromptMessage::user_text(format!("Please greet {}.", args["name"]))]))
            },
        )
        .build()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let transport = mcp_transport_stdio::stdio()?;
    // `--stateless` also serves the 2026-07-28 revision (server/discover, per-request _meta).
    let stateless = std::env::args().any(|a| a == "--stateless");
    let summary = server(stateless).serve(transport).await?;
    eprintln!("session ended: {summary:?}");
    Ok(())
}
