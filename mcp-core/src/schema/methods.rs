//! The method name of every request and notification of every revision, and in which
//! revisions each exists ([`ALL`], [`info`]).
//!
//! ```
//! use mcp_core::ProtocolVersion;
//! use mcp_core::schema::methods;
//!
//! assert_eq!(methods::TOOLS_CALL, "tools/call");
//! let ping = methods::info(methods::PING).unwrap();
//! assert!(ping.exists_in(ProtocolVersion::V2025_11_25));
//! assert!(!ping.exists_in(ProtocolVersion::V2026_07_28));
//! ```

use crate::ProtocolVersion;

// ===== requests =====

/// `initialize` (client → server; 2024-11-05 … 2025-11-25).
pub const INITIALIZE: &str = "initialize";
/// `ping` (either way; 2024-11-05 … 2025-11-25).
pub const PING: &str = "ping";
/// `server/discover` (client → server; 2026-07-28).
pub const SERVER_DISCOVER: &str = "server/discover";
/// `tools/list` (client → server).
pub const TOOLS_LIST: &str = "tools/list";
/// `tools/call` (client → server).
pub const TOOLS_CALL: &str = "tools/call";
/// `resources/list` (client → server).
pub const RESOURCES_LIST: &str = "resources/list";
/// `resources/templates/list` (client → server).
pub const RESOURCES_TEMPLATES_LIST: &str = "resources/templates/list";
/// `resources/read` (client → server).
pub const RESOURCES_READ: &str = "resources/read";
/// `resources/subscribe` (client → server; 2024-11-05 … 2025-11-25).
pub const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";
/// `resources/unsubscribe` (client → server; 2024-11-05 … 2025-11-25).
pub const RESOURCES_UNSUBSCRIBE: &str = "resources/unsubscribe";
/// `prompts/list` (client → server).
pub const PROMPTS_LIST: &str = "prompts/list";
/// `prompts/get` (client → server).
pub const PROMPTS_GET: &str = "prompts/get";
/// `completion/complete` (client → server).
pub const COMPLETION_COMPLETE: &str = "completion/complete";
/// `logging/setLevel` (client → server; 2024-11-05 … 2025-11-25).
pub const LOGGING_SET_LEVEL: &str = "logging/setLevel";
/// `subscriptions/listen` (client → server; 2026-07-28).
pub const SUBSCRIPTIONS_LISTEN: &str = "subscriptions/listen";
/// `sampling/createMessage` (server → client; an input request in 2026-07-28).
pub const SAMPLING_CREATE_MESSAGE: &str = "sampling/createMessage";
/// `roots/list` (server → client; an input request in 2026-07-28).
pub const ROOTS_LIST: &str = "roots/list";
/// `elicitation/create` (server → client, 2025-06-18; an input request in 2026-07-28).
pub const ELICITATION_CREATE: &str = "elicitation/create";
/// `tasks/get` (either way; 2025-11-25).
pub const TASKS_GET: &str = "tasks/get";
/// `tasks/result` (either way; 2025-11-25).
pub const TASKS_RESULT: &str = "tasks/result";
/// `tasks/list` (either way; 2025-11-25).
pub const TASKS_LIST: &str = "tasks/list";
/// `tasks/cancel` (either way; 2025-11-25).
pub const TASKS_CANCEL: &str = "tasks/cancel";

// ===== notifications =====

/// `notifications/initialized` (client → server; 2024-11-05 … 2025-11-25).
pub const NOTIFICATIONS_INITIALIZED: &str = "notifications/initialized";
/// `notifications/cancelled` (either way).
pub const NOTIFICATIONS_CANCELLED: &str = "notifications/cancelled";
/// `notifications/progress` (either way).
pub const NOTIFICATIONS_PROGRESS: &str = "notifications/progress";
/// `notifications/message`: a log message (server → client).
pub const NOTIFICATIONS_MESSAGE: &str = "notifications/message";
/// `notifications/resources/list_changed` (server → client).
pub const NOTIFICATIONS_RESOURCES_LIST_CHANGED: &str = "notifications/resources/list_changed";
/// `notifications/resources/updated` (server → client).
pub const NOTIFICATIONS_RESOURCES_UPDATED: &str = "notifications/resources/updated";
/// `notifications/prompts/list_changed` (server → client).
pub const NOTIFICATIONS_PROMPTS_LIST_CHANGED: &str = "notifications/prompts/list_changed";
/// `notifications/tools/list_changed` (server → client).
pub const NOTIFICATIONS_TOOLS_LIST_CHANGED: &str = "notifications/tools/list_changed";
/// `notifications/roots/list_changed` (client → server; 2024-11-05 … 2025-11-25).
pub const NOTIFICATIONS_ROOTS_LIST_CHANGED: &str = "notifications/roots/list_changed";
/// `notifications/elicitation/complete` (server → client; 2025-11-25).
pub const NOTIFICATIONS_ELICITATION_COMPLETE: &str = "notifications/elicitation/complete";
/// `notifications/tasks/status` (either way; 2025-11-25).
pub const NOTIFICATIONS_TASKS_STATUS: &str = "notifications/tasks/status";
/// `notifications/subscriptions/acknowledged` (server → client; 2026-07-28).
pub const NOTIFICATIONS_SUBSCRIPTIONS_ACKNOWLEDGED: &str = "notifications/subscriptions/acknowledged";

// ===== the table =====

/// Whether a method is a request or a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// Expects a response.
    Request,
    /// One-way.
    Notification,
}

/// A method and the revisions that define it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MethodInfo {
    /// The method name.
    pub name: &'static str,
    /// Request or notification.
    pub kind: MethodKind,
    /// The first revision that defines it.
    pub since: ProtocolVersion,
    /// The last revision that defines it.
    pub until: ProtocolVersion,
}

impl MethodInfo {
    /// Whether `version` defines this method.
    pub fn exists_in(&self, version: ProtocolVersion) -> bool {
        self.since <= version && version <= self.until
    }
}

const fn m(name: &'static str, kind: MethodKind, since: ProtocolVersion, until: ProtocolVersion) -> MethodInfo {
    MethodInfo { name, kind, since, until }
}

use MethodKind::{Notification as N, Request as R};
use ProtocolVersion::{V2024_11_05 as V1, V2025_06_18 as V3, V2025_11_25 as V4, V2026_07_28 as V5};

/// Every method of every revision, in the order of the constants above.
pub const ALL: &[MethodInfo] = &[
    m(INITIALIZE, R, V1, V4),
    m(PING, R, V1, V4),
    m(SERVER_DISCOVER, R, V5, V5),
    m(TOOLS_LIST, R, V1, V5),
    m(TOOLS_CALL, R, V1, V5),
    m(RESOURCES_LIST, R, V1, V5),
    m(RESOURCES_TEMPLATES_LIST, R, V1, V5),
    m(RESOURCES_READ, R, V1, V5),
    m(RESOURCES_SUBSCRIBE, R, V1, V4),
    m(RESOURCES_UNSUBSCRIBE, R, V1, V4),
    m(PROMPTS_LIST, R, V1, V5),
    m(PROMPTS_GET, R, V1, V5),
    m(COMPLETION_COMPLETE, R, V1, V5),
    m(LOGGING_SET_LEVEL, R, V1, V4),
    m(SUBSCRIPTIONS_LISTEN, R, V5, V5),
    m(SAMPLING_CREATE_MESSAGE, R, V1, V5),
    m(ROOTS_LIST, R, V1, V5),
    m(ELICITATION_CREATE, R, V3, V5),
    m(TASKS_GET, R, V4, V4),
    m(TASKS_RESULT, R, V4, V4),
    m(TASKS_LIST, R, V4, V4),
    m(TASKS_CANCEL, R, V4, V4),
    m(NOTIFICATIONS_INITIALIZED, N, V1, V4),
    m(NOTIFICATIONS_CANCELLED, N, V1, V5),
    m(NOTIFICATIONS_PROGRESS, N, V1, V5),
    m(NOTIFICATIONS_MESSAGE, N, V1, V5),
    m(NOTIFICATIONS_RESOURCES_LIST_CHANGED, N, V1, V5),
    m(NOTIFICATIONS_RESOURCES_UPDATED, N, V1, V5),
    m(NOTIFICATIONS_PROMPTS_LIST_CHANGED, N, V1, V5),
    m(NOTIFICATIONS_TOOLS_LIST_CHANGED, N, V1, V5),
    m(NOTIFICATIONS_ROOTS_LIST_CHANGED, N, V1, V4),
    m(NOTIFICATIONS_ELICITATION_COMPLETE, N, V4, V4),
    m(NOTIFICATIONS_TASKS_STATUS, N, V4, V4),
    m(NOTIFICATIONS_SUBSCRIPTIONS_ACKNOWLEDGED, N, V5, V5),
];

/// What is known about `method`, if it is an MCP method of any revision.
pub fn info(method: &str) -> Option<&'static MethodInfo> {
    ALL.iter().find(|i| i.name == method)
}

/// The methods `version` defines.
pub fn in_version(version: ProtocolVersion) -> impl Iterator<Item = &'static MethodInfo> {
    ALL.iter().filter(move |i| i.exists_in(version))
}
