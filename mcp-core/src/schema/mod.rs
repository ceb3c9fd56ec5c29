//! MCP message types of every revision (placeholder: being written).

use serde::{Deserialize, Serialize};

/// The result of `tools/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListToolsResult {
    /// The tools.
    pub tools: Vec<serde_json::Value>,
}
