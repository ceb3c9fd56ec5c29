//! The `data` of MCP-specific error responses, and how to build and read them.
//!
//! The codes are in [`error_codes`]. The header-mismatch error
//! (-32020) has no defined data.
//!
//! ```
//! use mcp_core::ProtocolVersion;
//! use mcp_core::schema::errors::{ErrorData, UnsupportedProtocolVersionData};
//!
//! let err = UnsupportedProtocolVersionData::new("1900-01-01", ProtocolVersion::ALL).to_error();
//! assert_eq!(err.code, -32022);
//! let data = UnsupportedProtocolVersionData::from_error(&err).unwrap();
//! assert_eq!(data.requested, "1900-01-01");
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::base::JsonObject;
use super::elicitation::ElicitRequestUrlParams;
use super::lifecycle::ClientCapabilities;
use crate::ProtocolVersion;
use crate::jsonrpc::{ErrorObject, error_codes};

/// The typed `data` of an error with a fixed code.
pub trait ErrorData: Serialize + DeserializeOwned {
    /// The error code this data belongs to.
    const CODE: i64;

    /// The message to send when the caller gives none.
    fn message(&self) -> String;

    /// The error object, with [`Self::CODE`], [`Self::message`] and this data.
    fn to_error(&self) -> ErrorObject {
        ErrorObject::new(Self::CODE, self.message()).with_data(self)
    }

    /// Reads the data out of `error`, if it has this type's code and data of this shape.
    fn from_error(error: &ErrorObject) -> Option<Self> {
        if error.code != Self::CODE {
            return None;
        }
        error.data.as_ref().and_then(|d| d.parse().ok())
    }
}

/// The data of an unsupported-protocol-version error (-32022, 2026-07-28).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnsupportedProtocolVersionData {
    /// The versions the server supports; the client should retry with one of them.
    pub supported: Vec<String>,
    /// The version the client asked for.
    pub requested: String,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl UnsupportedProtocolVersionData {
    /// `requested` is not supported; these are.
    pub fn new(requested: impl Into<String>, supported: impl IntoIterator<Item = ProtocolVersion>) -> Self {
        Self {
            supported: supported.into_iter().map(|v| v.as_str().to_owned()).collect(),
            requested: requested.into(),
            extra: JsonObject::new(),
        }
    }
}

impl ErrorData for UnsupportedProtocolVersionData {
    const CODE: i64 = error_codes::UNSUPPORTED_PROTOCOL_VERSION;

    fn message(&self) -> String {
        format!("Unsupported protocol version {:?} (supported: {})", self.requested, self.supported.join(", "))
    }
}

/// The data of a missing-required-client-capability error (-32021, 2026-07-28).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingRequiredClientCapabilityData {
    /// The capabilities the request needs.
    pub required_capabilities: ClientCapabilities,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl MissingRequiredClientCapabilityData {
    /// The request needs `required`.
    pub fn new(required: ClientCapabilities) -> Self {
        Self { required_capabilities: required, extra: JsonObject::new() }
    }
}

impl ErrorData for MissingRequiredClientCapabilityData {
    const CODE: i64 = error_codes::MISSING_REQUIRED_CLIENT_CAPABILITY;

    fn message(&self) -> String {
        let names = serde_json::to_value(&self.required_capabilities)
            .ok()
            .and_then(|v| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>().join(", ")))
            .unwrap_or_default();
        format!("This request needs client capabilities the client did not declare: {names}")
    }
}

/// The data of a URL-elicitation-required error (-32042, 2025-11-25): the user must complete
/// these URL-mode elicitations before the request can succeed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UrlElicitationRequiredData {
    /// The elicitations.
    pub elicitations: Vec<ElicitRequestUrlParams>,
    /// Fields this crate does not know, kept so that they survive a round trip.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl ErrorData for UrlElicitationRequiredData {
    const CODE: i64 = error_codes::URL_ELICITATION_REQUIRED;

    fn message(&self) -> String {
        "This request requires more information (URL elicitation)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ElicitationCapability;

    #[test]
    fn missing_capability_round_trip() {
        let data = MissingRequiredClientCapabilityData::new(ClientCapabilities {
            elicitation: Some(ElicitationCapability::default()),
            ..ClientCapabilities::default()
        });
        let err = data.to_error();
        assert_eq!(err.code, -32021);
        assert!(err.message.contains("elicitation"), "{}", err.message);
        assert_eq!(MissingRequiredClientCapabilityData::from_error(&err), Some(data));
        assert_eq!(UnsupportedProtocolVersionData::from_error(&err), None);
    }
}
