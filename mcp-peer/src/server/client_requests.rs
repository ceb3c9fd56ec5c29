//! Server-to-client requests (sampling, elicitation, roots), checked against the client's
//! declared capabilities before anything is sent.

use mcp_core::schema::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, ListRootsResult,
};

use crate::error::PeerError;
use crate::session::Peer;

impl Peer {
    fn require(&self, capability: &str, method: &str) -> Result<(), PeerError> {
        if self.peer_has_capability(capability) {
            Ok(())
        } else {
            Err(PeerError::MissingCapability { capability: capability.to_owned(), method: method.to_owned() })
        }
    }

    /// Asks the client's model for a completion (`sampling/createMessage`).
    ///
    /// # Errors
    /// [`PeerError::MissingCapability`] when the client declared no `sampling` capability,
    /// else as [`Peer::request`].
    ///
    /// # Cancel safety
    /// As [`Peer::request`].
    pub async fn create_message(&self, params: &CreateMessageRequestParams) -> Result<CreateMessageResult, PeerError> {
        self.require("sampling", "sampling/createMessage")?;
        self.request("sampling/createMessage", params).await
    }

    /// Asks the user for input through the client (`elicitation/create`).
    ///
    /// # Errors
    /// [`PeerError::MissingCapability`] when the client declared no `elicitation` capability
    /// (or, for URL mode, no `elicitation.url`), else as [`Peer::request`].
    ///
    /// # Cancel safety
    /// As [`Peer::request`].
    pub async fn elicit(&self, params: &ElicitRequestParams) -> Result<ElicitResult, PeerError> {
        self.require("elicitation", "elicitation/create")?;
        if matches!(params, ElicitRequestParams::Url(_))
            && self.peer_capabilities().pointer("/elicitation/url").is_none_or(serde_json::Value::is_null)
        {
            return Err(PeerError::MissingCapability {
                capability: "elicitation.url".to_owned(),
                method: "elicitation/create".to_owned(),
            });
        }
        self.request("elicitation/create", params).await
    }

    /// Asks the client for its roots (`roots/list`).
    ///
    /// # Errors
    /// [`PeerError::MissingCapability`] when the client declared no `roots` capability, else
    /// as [`Peer::request`].
    ///
    /// # Cancel safety
    /// As [`Peer::request`].
    pub async fn list_roots(&self) -> Result<ListRootsResult, PeerError> {
        self.require("roots", "roots/list")?;
        self.request("roots/list", &serde_json::json!({})).await
    }
}
