//! The server methods: lists (paginated, filtered by authorization), tool calls, resource
//! reads, prompts, completion, log level and resource subscriptions.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::FutureExt;
use mcp_core::jsonrpc::{Request, error_codes};
use mcp_core::schema::{InputResponses, LoggingLevel, ProgressToken, Prompt, Resource, ResourceTemplate, Tool};
use mcp_core::{ErrorObject, RawJson};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ServerSession;
use crate::server::registry::page;
use crate::session::cancel::CancelSignal;
use crate::session::inflight::HandlerResult;
use crate::session::{Dispatch, Shared};

/// The `_meta` fields a server reads from a request.
#[derive(Deserialize, Default)]
pub(super) struct RequestMeta {
    #[serde(rename = "progressToken")]
    pub(super) progress_token: Option<ProgressToken>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallParams {
    name: String,
    #[serde(default)]
    arguments: Option<Value>,
    #[serde(default, rename = "_meta")]
    meta: Option<RequestMeta>,
    /// The answers to an earlier `input_required` result (2026-07-28).
    #[serde(default)]
    input_responses: Option<InputResponses>,
    #[serde(default)]
    request_state: Option<String>,
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct UriParams {
    uri: String,
    #[serde(default, rename = "_meta")]
    meta: Option<RequestMeta>,
}

#[derive(Deserialize)]
struct PromptParams {
    name: String,
    #[serde(default)]
    arguments: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default, rename = "_meta")]
    meta: Option<RequestMeta>,
}

/// A page of a list result, serialized straight from the registry without cloning.
struct ListPage<'a, T> {
    key: &'static str,
    items: Vec<&'a T>,
    next_cursor: Option<String>,
}

impl<T: Serialize> Serialize for ListPage<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1 + usize::from(self.next_cursor.is_some())))?;
        map.serialize_entry(self.key, &self.items)?;
        if let Some(cursor) = &self.next_cursor {
            map.serialize_entry("nextCursor", cursor)?;
        }
        map.end()
    }
}

fn list_result<T: Serialize>(key: &'static str, items: Vec<&T>, next_cursor: Option<String>) -> HandlerResult {
    to_raw(&ListPage { key, items, next_cursor })
}

pub(crate) fn to_raw<T: Serialize + ?Sized>(value: &T) -> HandlerResult {
    RawJson::from_serialize(value).map_err(|e| ErrorObject::internal_error(format!("cannot serialize the result: {e}")))
}

pub(super) fn params<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, ErrorObject> {
    request.parse_params().map_err(|e| ErrorObject::invalid_params(format!("{}: {e}", request.method)))
}

impl ServerSession {
    /// Dispatches a request of an initialized (or stateless) session.
    pub(super) fn dispatch(&mut self, request: Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let registry = &self.registry.1;
        let page_size = shared.config.page_size;
        match request.method.as_str() {
            "ping" => Dispatch::Now(Ok(RawJson::empty_object())),
            "tools/list" => Dispatch::Now(self.list_tools(&request, shared)),
            "tools/call" => self.call_tool(&request, shared, cancel),
            "resources/list" => Dispatch::Now(params::<ListParams>(&request).and_then(|p| {
                let items = registry.resources.iter().map(|e| &e.resource);
                let (items, next) = page(items, p.cursor.as_deref(), page_size)?;
                list_result::<Resource>("resources", items, next)
            })),
            "resources/templates/list" => Dispatch::Now(params::<ListParams>(&request).and_then(|p| {
                let items = registry.templates.iter().map(|e| &e.template);
                let (items, next) = page(items, p.cursor.as_deref(), page_size)?;
                list_result::<ResourceTemplate>("resourceTemplates", items, next)
            })),
            "resources/read" => self.read_resource(&request, shared, cancel),
            "resources/subscribe" => Dispatch::Now(self.subscription(&request, true)),
            "resources/unsubscribe" => Dispatch::Now(self.subscription(&request, false)),
            "prompts/list" => Dispatch::Now(params::<ListParams>(&request).and_then(|p| {
                let items = registry.prompts.iter().map(|e| &e.prompt);
                let (items, next) = page(items, p.cursor.as_deref(), page_size)?;
                list_result::<Prompt>("prompts", items, next)
            })),
            "prompts/get" => self.get_prompt(&request, shared, cancel),
            "completion/complete" => self.complete(&request, shared, cancel),
            "logging/setLevel" => Dispatch::Now(Self::set_level(&request, shared)),
            method => Dispatch::Now(Err(ErrorObject::method_not_found(method))),
        }
    }

    fn list_tools(&self, request: &Request, shared: &Shared) -> HandlerResult {
        let p: ListParams = params(request)?;
        let authorize = &self.server.inner.authorize;
        let principal = shared.info.principal.as_ref();
        let visible = self.registry.1.tools.iter().map(|e| &e.tool).filter(|t| authorize(principal, t));
        let (items, next) = page(visible, p.cursor.as_deref(), shared.config.page_size)?;
        list_result::<Tool>("tools", items, next)
    }

    fn call_tool(&self, request: &Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let p: CallParams = match params(request) {
            Ok(p) => p,
            Err(e) => return Dispatch::Now(Err(e)),
        };
        let Some(entry) = self.registry.1.tools.get(&p.name) else {
            return Dispatch::Now(Err(ErrorObject::invalid_params(format!("Unknown tool: {}", p.name))));
        };
        if !(self.server.inner.authorize)(shared.info.principal.as_ref(), &entry.tool) {
            tracing::info!(session = %shared.session_id, tool = %p.name, principal = ?shared.info.principal.as_ref().map(|p| &p.id), "tool call denied");
            let denied = mcp_core::schema::CallToolResult::error_text(format!(
                "Permission denied: tool {} not authorized",
                p.name
            ));
            return Dispatch::Now(to_raw(&denied));
        }
        let args = match p.arguments {
            None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
            Some(args) => args,
        };
        let mut ctx = self.context(shared, &request.id, cancel, p.meta);
        if p.input_responses.is_some() || p.request_state.is_some() {
            ctx = ctx.with_input(p.input_responses.unwrap_or_default(), p.request_state);
        }
        match entry.start(ctx, args) {
            Ok(future) => Dispatch::Later(future),
            Err(e) => Dispatch::Now(Err(e)),
        }
    }

    fn read_resource(&self, request: &Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let p: UriParams = match params(request) {
            Ok(p) => p,
            Err(e) => return Dispatch::Now(Err(e)),
        };
        let Some((read, vars)) = self.registry.1.find_resource(&p.uri) else {
            let error = ErrorObject::new(error_codes::RESOURCE_NOT_FOUND, format!("Resource not found: {}", p.uri))
                .with_data(&serde_json::json!({ "uri": p.uri }));
            return Dispatch::Now(Err(error));
        };
        let ctx = self.context(shared, &request.id, cancel, p.meta);
        let future = read(ctx, p.uri, vars);
        Dispatch::Later(future.map(|r| r.and_then(|r| to_raw(&r))).boxed())
    }

    fn get_prompt(&self, request: &Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let p: PromptParams = match params(request) {
            Ok(p) => p,
            Err(e) => return Dispatch::Now(Err(e)),
        };
        let Some(entry) = self.registry.1.prompts.get(&p.name) else {
            return Dispatch::Now(Err(ErrorObject::invalid_params(format!("Unknown prompt: {}", p.name))));
        };
        let args = p.arguments.unwrap_or_default();
        let missing: Vec<&str> = entry
            .prompt
            .arguments
            .iter()
            .filter(|a| a.required == Some(true) && !args.contains_key(&a.name))
            .map(|a| a.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Dispatch::Now(Err(ErrorObject::invalid_params(format!(
                "prompt {:?} is missing required argument(s): {}",
                p.name,
                missing.join(", ")
            ))));
        }
        let ctx = self.context(shared, &request.id, cancel, p.meta);
        Dispatch::Later((entry.get)(ctx, args).map(|r| r.and_then(|r| to_raw(&r))).boxed())
    }

    fn complete(&self, request: &Request, shared: &Arc<Shared>, cancel: &CancelSignal) -> Dispatch {
        let Some(complete) = &self.server.inner.completion else {
            return Dispatch::Now(Err(ErrorObject::method_not_found(&request.method)));
        };
        let p = match params(request) {
            Ok(p) => p,
            Err(e) => return Dispatch::Now(Err(e)),
        };
        let ctx = self.context(shared, &request.id, cancel, None);
        Dispatch::Later(complete(ctx, p).map(|r| r.and_then(|r| to_raw(&r))).boxed())
    }

    fn set_level(request: &Request, shared: &Shared) -> HandlerResult {
        #[derive(Deserialize)]
        struct SetLevel {
            level: LoggingLevel,
        }
        let p: SetLevel = params(request)?;
        shared.log_level.store(p.level as u8, Ordering::Relaxed);
        Ok(RawJson::empty_object())
    }

    fn subscription(&mut self, request: &Request, subscribe: bool) -> HandlerResult {
        let p: UriParams = params(request)?;
        if subscribe {
            self.subscriptions.insert(p.uri);
        } else {
            self.subscriptions.remove(&p.uri);
        }
        Ok(RawJson::empty_object())
    }
}
