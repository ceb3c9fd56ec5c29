//! [`Client`]: connects to an MCP server over any transport.

mod builder;
mod input;
mod session;

use std::fmt;

use mcp_core::schema::{
    CallToolResult, CompleteRequestParams, CompleteResult, GetPromptResult, InitializeResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel, ReadResourceResult, Tool,
};
use mcp_core::{ProtocolVersion, RawJson};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::task::JoinHandle;

pub use builder::ClientBuilder;

use crate::error::PeerError;
use crate::session::driver::SessionSummary;
use crate::session::peer::decode_result;
use crate::session::{Peer, Progress};

/// Upper bound on the pages `list_*` follows, so that a server that always returns a cursor
/// cannot keep a client looping.
const MAX_PAGES: usize = 10_000;

/// A connected, initialized MCP client session.
///
/// Every method sends one request and waits for its response; calls may run concurrently
/// from many tasks (clone the [`Peer`] or share the client by reference). Dropping a call's
/// future cancels it (the server gets `notifications/cancelled`). Dropping the client closes
/// the session.
pub struct Client {
    peer: Peer,
    init: InitializeResult,
    version: ProtocolVersion,
    /// The handlers, also used to fulfil `input_required` results (2026-07-28).
    handlers: session::ClientHandlers,
    task: Option<JoinHandle<(SessionSummary, Option<mcp_core::TransportError>)>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.init.server_info.name)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Connects with the default settings; see [`ClientBuilder::connect`].
    ///
    /// # Errors
    /// As [`ClientBuilder::connect`].
    pub async fn connect(transport: impl mcp_core::Transport) -> Result<Self, PeerError> {
        ClientBuilder::new().connect(transport).await
    }

    /// What the server answered to `initialize`: its info, capabilities and instructions.
    pub fn server_info(&self) -> &InitializeResult {
        &self.init
    }

    /// The negotiated protocol revision.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// A handle for raw requests and notifications, usable from other tasks.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// Sends any request and decodes its result as `R`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    ///
    /// # Cancel safety
    /// Dropping the future cancels the request.
    pub async fn request<P: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<R, PeerError> {
        self.peer.request(method, params).await
    }

    /// `ping`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn ping(&self) -> Result<(), PeerError> {
        self.peer.request::<_, serde_json::Value>("ping", &json!({})).await.map(drop)
    }

    /// One page of `tools/list`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn list_tools_page(&self, cursor: Option<&str>) -> Result<ListToolsResult, PeerError> {
        self.peer.request("tools/list", &cursor_params(cursor)).await
    }

    /// Every tool, following `nextCursor` through all pages.
    ///
    /// # Errors
    /// See [`Peer::request`]; [`PeerError::Protocol`] when the server never stops paging.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, PeerError> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self.list_tools_page(cursor.as_deref()).await?;
            tools.extend(page.tools);
            match page.next_cursor {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => return Ok(tools),
            }
        }
        Err(too_many_pages("tools/list"))
    }

    /// Calls a tool (`tools/call`). A tool that failed comes back as `Ok` with
    /// `is_error: Some(true)`; protocol errors (unknown tool, invalid arguments) are `Err`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    ///
    /// # Cancel safety
    /// Dropping the future cancels the call.
    pub async fn call_tool<A: Serialize + ?Sized>(
        &self,
        name: &str,
        arguments: &A,
    ) -> Result<CallToolResult, PeerError> {
        self.call_tool_inner(name, arguments, None).await
    }

    /// Calls a tool and receives its progress reports; each report restarts the timeout.
    ///
    /// # Errors
    /// See [`Client::call_tool`].
    ///
    /// # Cancel safety
    /// Dropping the future cancels the call.
    pub async fn call_tool_with_progress<A, F>(
        &self,
        name: &str,
        arguments: &A,
        mut on_progress: F,
    ) -> Result<CallToolResult, PeerError>
    where
        A: Serialize + ?Sized,
        F: FnMut(Progress) + Send,
    {
        self.call_tool_inner(name, arguments, Some(&mut on_progress)).await
    }

    /// `tools/call`, with the multi round-trip loop of the stateless revision: an
    /// `input_required` answer is fulfilled by this client's handlers and the call repeated
    /// with the answers.
    async fn call_tool_inner<A: Serialize + ?Sized>(
        &self,
        name: &str,
        arguments: &A,
        mut on_progress: Option<&mut (dyn FnMut(Progress) + Send)>,
    ) -> Result<CallToolResult, PeerError> {
        let mut answers = None;
        for _ in 0..input::MAX_INPUT_ROUNDS {
            let params = call_params(name, arguments, answers.as_ref())?;
            let progress = on_progress.as_mut().map(|f| &mut **f as &mut (dyn FnMut(Progress) + Send));
            let raw = self.peer.request_raw("tools/call", Some(params), progress).await?;
            if !(self.version.is_stateless() && input::input_required(&raw)) {
                return decode_result("tools/call", &raw);
            }
            answers = Some(input::fulfil(&self.handlers, decode_result("tools/call", &raw)?).await?);
        }
        Err(PeerError::Protocol(format!(
            "tool {name:?} still asked for input after {} rounds; giving up",
            input::MAX_INPUT_ROUNDS
        )))
    }

    /// One page of `resources/list`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn list_resources(&self, cursor: Option<&str>) -> Result<ListResourcesResult, PeerError> {
        self.peer.request("resources/list", &cursor_params(cursor)).await
    }

    /// One page of `resources/templates/list`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn list_resource_templates(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListResourceTemplatesResult, PeerError> {
        self.peer.request("resources/templates/list", &cursor_params(cursor)).await
    }

    /// `resources/read`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, PeerError> {
        self.peer.request("resources/read", &json!({ "uri": uri })).await
    }

    /// `resources/subscribe`: the server will send `notifications/resources/updated` for `uri`
    /// (see [`ClientBuilder::on_notification`]).
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn subscribe(&self, uri: &str) -> Result<(), PeerError> {
        self.peer.request::<_, serde_json::Value>("resources/subscribe", &json!({ "uri": uri })).await.map(drop)
    }

    /// `resources/unsubscribe`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn unsubscribe(&self, uri: &str) -> Result<(), PeerError> {
        self.peer.request::<_, serde_json::Value>("resources/unsubscribe", &json!({ "uri": uri })).await.map(drop)
    }

    /// One page of `prompts/list`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn list_prompts(&self, cursor: Option<&str>) -> Result<ListPromptsResult, PeerError> {
        self.peer.request("prompts/list", &cursor_params(cursor)).await
    }

    /// `prompts/get` with string arguments.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn get_prompt<I, K, V>(&self, name: &str, arguments: I) -> Result<GetPromptResult, PeerError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let arguments: serde_json::Map<String, serde_json::Value> =
            arguments.into_iter().map(|(k, v)| (k.into(), serde_json::Value::String(v.into()))).collect();
        self.peer.request("prompts/get", &json!({ "name": name, "arguments": arguments })).await
    }

    /// `completion/complete`.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn complete(&self, params: &CompleteRequestParams) -> Result<CompleteResult, PeerError> {
        self.peer.request("completion/complete", params).await
    }

    /// `logging/setLevel`: the least severe level the server should send.
    ///
    /// # Errors
    /// See [`Peer::request`].
    pub async fn set_level(&self, level: LoggingLevel) -> Result<(), PeerError> {
        self.peer.request::<_, serde_json::Value>("logging/setLevel", &json!({ "level": level })).await.map(drop)
    }

    /// Closes the session: pending calls fail with [`PeerError::Closed`], queued messages are
    /// flushed, the transport is closed. Returns what happened in the session.
    ///
    /// # Errors
    /// [`PeerError::Transport`] when the transport had failed.
    ///
    /// # Cancel safety
    /// The close is requested before the first await: dropping the future still closes the
    /// session, only the summary is lost.
    pub async fn close(mut self) -> Result<SessionSummary, PeerError> {
        self.peer.close();
        let Some(task) = self.task.take() else {
            return Err(PeerError::closed("the session was already closed"));
        };
        match task.await {
            Ok((summary, None)) => Ok(summary),
            Ok((_, Some(e))) => Err(PeerError::Transport(e)),
            Err(e) => Err(PeerError::closed(format!("the session task failed: {e}"))),
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.peer.close();
        }
    }
}

fn cursor_params(cursor: Option<&str>) -> serde_json::Value {
    match cursor {
        Some(c) => json!({ "cursor": c }),
        None => json!({}),
    }
}

fn call_params<A: Serialize + ?Sized>(
    name: &str,
    arguments: &A,
    answers: Option<&input::Answers>,
) -> Result<RawJson, PeerError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct CallParams<'a, A: ?Sized> {
        name: &'a str,
        arguments: &'a A,
        #[serde(skip_serializing_if = "Option::is_none")]
        input_responses: Option<&'a mcp_core::schema::InputResponses>,
        #[serde(skip_serializing_if = "Option::is_none")]
        request_state: Option<&'a str>,
    }
    let input_responses = answers.map(|a| &a.responses);
    let request_state = answers.and_then(|a| a.request_state.as_deref());
    RawJson::from_serialize(&CallParams { name, arguments, input_responses, request_state })
        .map_err(|e| PeerError::Protocol(format!("cannot serialize the arguments of tool {name:?}: {e}")))
}

fn too_many_pages(method: &str) -> PeerError {
    PeerError::Protocol(format!("{method} returned more than {MAX_PAGES} pages; giving up"))
}
