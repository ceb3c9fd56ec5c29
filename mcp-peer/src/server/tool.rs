//! Tools: registration with typed handlers, argument validation, and [`ToolError`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use mcp_core::ErrorObject;
use mcp_core::schema::{CallToolResult, InputRequiredResult, Tool};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::context::RequestContext;
use super::session::to_raw;
use crate::session::inflight::HandlerResult;

/// Why a tool call failed.
///
/// Most failures are *execution* errors: the tool ran and could not do its job. The spec has
/// these reported to the model as a result with `isError: true`, so that it can read the
/// message and try again; `?` on any error type produces one. A [`ToolError::rpc`] is a
/// *protocol* error instead: the request itself was wrong, and the caller gets a JSON-RPC error.
///
/// ```
/// use mcp_peer::ToolError;
///
/// fn parse(n: &str) -> Result<i64, ToolError> {
///     Ok(n.parse::<i64>()?) // a ParseIntError becomes an isError result
/// }
/// assert!(parse("x").is_err());
/// ```
#[non_exhaustive]
pub enum ToolError {
    /// The tool failed; the caller gets `isError: true` with this text.
    Execution(String),
    /// The request was wrong; the caller gets this JSON-RPC error.
    Rpc(ErrorObject),
    /// The tool needs input from the client first (2026-07-28 multi round-trip requests):
    /// the caller gets this result, fulfils its requests and calls again with the answers,
    /// which the handler then finds in [`RequestContext::input_response`].
    InputRequired(InputRequiredResult),
}

impl ToolError {
    /// An execution error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self::Execution(message.into())
    }

    /// A protocol error answered as a JSON-RPC error.
    pub fn rpc(error: ErrorObject) -> Self {
        Self::Rpc(error)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for ToolError {
    fn from(error: E) -> Self {
        Self::Execution(error.to_string())
    }
}

impl fmt::Debug for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Execution(m) => f.debug_tuple("Execution").field(m).finish(),
            Self::Rpc(e) => f.debug_tuple("Rpc").field(e).finish(),
            Self::InputRequired(r) => f.debug_tuple("InputRequired").field(r).finish(),
        }
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Execution(m) => f.write_str(m),
            Self::Rpc(e) => write!(f, "{e}"),
            Self::InputRequired(_) => f.write_str("input required from the client"),
        }
    }
}

type ErasedHandler =
    dyn Fn(RequestContext, Value) -> Result<BoxFuture<'static, HandlerResult>, ErrorObject> + Send + Sync;

/// A registered tool: its definition, its compiled input validator and its handler.
pub(crate) struct ToolEntry {
    pub(crate) tool: Tool,
    validator: Option<jsonschema::Validator>,
    handler: Box<ErasedHandler>,
}

impl ToolEntry {
    /// Builds an entry, compiling the input schema once.
    ///
    /// An input schema that does not compile is logged and the tool runs unvalidated, so a
    /// slightly off schema from a proxied server never takes a whole server down.
    pub(crate) fn new<F, T, Fut>(tool: Tool, handler: F) -> Arc<Self>
    where
        F: Fn(RequestContext, T) -> Fut + Send + Sync + 'static,
        T: DeserializeOwned + Send + 'static,
        Fut: Future<Output = Result<CallToolResult, ToolError>> + Send + 'static,
    {
        let validator = if accepts_any_object(&tool.input_schema) {
            None
        } else {
            compile(&tool.name, "input", &tool.input_schema)
        };
        let output = tool.output_schema.as_ref().and_then(|schema| compile(&tool.name, "output", schema)).map(Arc::new);
        let name: Arc<str> = Arc::from(tool.name.as_str());
        let handler = move |ctx: RequestContext,
                            args: Value|
              -> Result<BoxFuture<'static, HandlerResult>, ErrorObject> {
            let args = T::deserialize(args).map_err(|e| {
                ErrorObject::invalid_params(format!("the arguments of tool {name:?} do not decode: {e}"))
            })?;
            // Only stateless requests can be answered with input_required.
            let legacy = ctx.peer().protocol_version().filter(|v| !v.is_stateless());
            let future = handler(ctx, args);
            let output = output.clone();
            let name = Arc::clone(&name);
            Ok(Box::pin(async move {
                match future.await {
                    Ok(result) => {
                        if let Some(output) = &output {
                            check_output(&name, output, &result)?;
                        }
                        to_raw(&result)
                    }
                    Err(ToolError::Execution(message)) => to_raw(&CallToolResult::error_text(message)),
                    Err(ToolError::Rpc(error)) => Err(error),
                    Err(ToolError::InputRequired(_)) if legacy.is_some() => Err(ErrorObject::internal_error(format!(
                        "tool {name:?} asked for input the 2026-07-28 way (ToolError::InputRequired) in a session on {}; \
                                 use ctx.peer() requests there",
                        legacy.map(|v| v.as_str()).unwrap_or_default()
                    ))),
                    Err(ToolError::InputRequired(needed)) => to_raw(&needed),
                }
            }))
        };
        Arc::new(Self { tool, validator, handler: Box::new(handler) })
    }

    /// Checks `args` against the input schema, then starts the handler.
    pub(crate) fn start(
        &self,
        ctx: RequestContext,
        args: Value,
    ) -> Result<BoxFuture<'static, HandlerResult>, ErrorObject> {
        if let Some(validator) = &self.validator
            && !validator.is_valid(&args)
            && let Some(first) = validator.iter_errors(&args).next()
        {
            let path = first.instance_path().to_string();
            let at = if path.is_empty() { String::new() } else { format!(" (at {path})") };
            return Err(ErrorObject::invalid_params(format!(
                "invalid arguments for tool {:?}: {first}{at}",
                self.tool.name
            )));
        }
        (self.handler)(ctx, args)
    }
}

fn compile(tool: &str, which: &str, schema: &Value) -> Option<jsonschema::Validator> {
    match jsonschema::validator_for(schema) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(tool, schema = which, error = %e, "a tool schema does not compile; it will not be checked");
            None
        }
    }
}

/// A tool with an output schema must return conforming `structuredContent` (unless it
/// reports an error); anything else is a bug in the tool, answered with -32603 rather than
/// handed to a client that would reject it.
fn check_output(tool: &str, validator: &jsonschema::Validator, result: &CallToolResult) -> Result<(), ErrorObject> {
    if result.is_error() {
        return Ok(());
    }
    let Some(structured) = &result.structured_content else {
        return Err(ErrorObject::internal_error(format!(
            "tool {tool:?} declares an output schema but returned no structuredContent"
        )));
    };
    match validator.iter_errors(structured).next() {
        None => Ok(()),
        Some(first) => Err(ErrorObject::internal_error(format!(
            "tool {tool:?} returned structuredContent that does not match its output schema: {first} (at {})",
            first.instance_path()
        ))),
    }
}

/// Whether a schema accepts every object (`{"type":"object"}` and nothing else that
/// constrains), in which case validation can be skipped on the hot path.
fn accepts_any_object(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else { return false };
    map.iter().all(|(k, v)| match k.as_str() {
        "type" => v == "object",
        "$schema" | "title" | "description" => true,
        "properties" => v.as_object().is_some_and(serde_json::Map::is_empty),
        "required" => v.as_array().is_some_and(Vec::is_empty),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trivial_schemas_skip_validation() {
        assert!(accepts_any_object(&json!({"type": "object"})));
        assert!(accepts_any_object(&json!({"type": "object", "properties": {}})));
        assert!(!accepts_any_object(&json!({"type": "object", "properties": {"a": {}}})));
        assert!(!accepts_any_object(&json!({"type": "object", "additionalProperties": false})));
    }
}
