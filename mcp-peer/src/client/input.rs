//! Multi round-trip requests (2026-07-28): when a stateless server answers a call with
//! `input_required`, the client fulfils the input requests with its own handlers (sampling,
//! elicitation, roots) and calls again with the answers.

use mcp_core::schema::{InputRequest, InputRequiredResult, InputResponse, InputResponses};
use mcp_core::{ErrorObject, RawJson};
use serde::Deserialize;

use super::session::ClientHandlers;
use crate::error::PeerError;

/// How many rounds of input one call may take before the client gives up.
pub(crate) const MAX_INPUT_ROUNDS: usize = 8;

/// What a retried call carries: the answers and the server's echoed state.
#[derive(Default)]
pub(crate) struct Answers {
    pub(crate) responses: InputResponses,
    pub(crate) request_state: Option<String>,
}

/// Whether a result asks for input instead of answering.
pub(crate) fn input_required(raw: &RawJson) -> bool {
    #[derive(Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "resultType", borrow, default)]
        result_type: Option<&'a str>,
    }
    // Cheap pre-check: most results never mention it.
    raw.get().contains("input_required")
        && serde_json::from_str::<Kind<'_>>(raw.get()).is_ok_and(|k| k.result_type == Some("input_required"))
}

/// Fulfils every input request with the matching handler.
///
/// # Errors
/// [`PeerError::MissingCapability`] when the server asks for something this client has no
/// handler for (it did not declare the capability either); [`PeerError::Protocol`] when a
/// handler refuses or the request is of an unknown kind.
pub(crate) async fn fulfil(handlers: &ClientHandlers, needed: InputRequiredResult) -> Result<Answers, PeerError> {
    let missing = |capability: &str, method: &str| PeerError::MissingCapability {
        capability: capability.to_owned(),
        method: method.to_owned(),
    };
    let refused =
        |method: &str, e: ErrorObject| PeerError::Protocol(format!("the client's {method} handler refused: {e}"));
    let mut responses = InputResponses::new();
    for (key, request) in needed.input_requests.unwrap_or_default() {
        let response = match request {
            InputRequest::CreateMessage(r) => {
                let handler =
                    handlers.sampling.as_ref().ok_or_else(|| missing("sampling", "sampling/createMessage"))?;
                InputResponse::CreateMessage(handler(r.params).await.map_err(|e| refused("sampling", e))?)
            }
            InputRequest::Elicit(r) => {
                let handler =
                    handlers.elicitation.as_ref().ok_or_else(|| missing("elicitation", "elicitation/create"))?;
                InputResponse::Elicit(handler(r.params).await.map_err(|e| refused("elicitation", e))?)
            }
            InputRequest::ListRoots(_) => {
                let handler = handlers.roots.as_ref().ok_or_else(|| missing("roots", "roots/list"))?;
                InputResponse::ListRoots(handler().await.map_err(|e| refused("roots", e))?)
            }
            other => {
                return Err(PeerError::Protocol(format!(
                    "the server asked for input of an unknown kind ({})",
                    other.method()
                )));
            }
        };
        responses.insert(key, response);
    }
    Ok(Answers { responses, request_state: needed.request_state })
}
