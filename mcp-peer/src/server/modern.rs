//! The stateless 2026-07-28 revision: requests that carry their revision in `_meta` instead
//! of following an `initialize` handshake, `server/discover`, and the fields every modern
//! result has (`resultType`, cache hints, `serverInfo`).

use mcp_core::schema::errors::ErrorData;
use mcp_core::schema::{
    DiscoverResult, Implementation, LoggingLevel, ServerCapabilities, UnsupportedProtocolVersionData, meta_keys,
};
use mcp_core::{ErrorObject, ProtocolVersion, RawJson};
use serde::Deserialize;
use serde_json::Value;

use crate::session::inflight::HandlerResult;

/// The per-request `_meta` fields a modern request carries.
#[derive(Deserialize)]
pub(crate) struct ModernMeta {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
    pub(crate) protocol_version: String,
    #[serde(rename = "io.modelcontextprotocol/logLevel", default)]
    pub(crate) log_level: Option<LoggingLevel>,
}

/// The `_meta` of a request that names its revision, if it does (only modern clients do).
pub(crate) fn peek(params: Option<&RawJson>) -> Option<ModernMeta> {
    #[derive(Deserialize)]
    struct Peek {
        #[serde(rename = "_meta", default)]
        meta: Option<ModernMeta>,
    }
    params.and_then(|p| p.parse::<Peek>().ok()).and_then(|p| p.meta)
}

/// The revisions a server speaks: the legacy ones, plus 2026-07-28 when enabled.
pub(crate) fn supported(modern: bool) -> impl DoubleEndedIterator<Item = ProtocolVersion> {
    ProtocolVersion::ALL.into_iter().filter(move |v| modern || !v.is_stateless())
}

/// -32022, naming what the server speaks.
pub(crate) fn unsupported(requested: &str, modern: bool) -> ErrorObject {
    UnsupportedProtocolVersionData::new(requested, supported(modern)).to_error()
}

/// The `server/discover` result.
pub(crate) fn discover(
    capabilities: ServerCapabilities,
    info: &Implementation,
    instructions: Option<&str>,
) -> HandlerResult {
    // Newest first, as clients pick the first mutual version they prefer.
    let mut result = DiscoverResult::new(supported(true).rev(), capabilities, 0).with_server_info(info);
    result.instructions = instructions.map(str::to_owned);
    RawJson::from_serialize(&result).map_err(|e| ErrorObject::internal_error(e.to_string()))
}

/// Adds what a 2026-07-28 result must carry and a handler does not know about: `resultType`,
/// `ttlMs` and `cacheScope` on cacheable results (lists and `resources/read`; here they
/// depend on the caller and the registry changes at run time, so they are private and not
/// to be cached), and the server's identity in `_meta`.
pub(crate) fn stamp(result: RawJson, method: &str, info: &Implementation) -> HandlerResult {
    let mut value = result.to_value();
    let Some(map) = value.as_object_mut() else { return Ok(result) };
    map.entry("resultType").or_insert_with(|| Value::from("complete"));
    if method.ends_with("/list") || method == "resources/read" {
        map.entry("ttlMs").or_insert_with(|| Value::from(0));
        map.entry("cacheScope").or_insert_with(|| Value::from("private"));
    }
    if let Some(meta) = map.entry("_meta").or_insert_with(|| Value::Object(serde_json::Map::new())).as_object_mut() {
        meta.entry(meta_keys::SERVER_INFO).or_insert_with(|| serde_json::to_value(info).unwrap_or_default());
    }
    RawJson::from_serialize(&value).map_err(|e| ErrorObject::internal_error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_reads_only_modern_meta() {
        let modern = RawJson::from_string(
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/logLevel":"error"}}"#.into(),
        )
        .unwrap();
        let meta = peek(Some(&modern)).unwrap();
        assert_eq!(meta.protocol_version, "2026-07-28");
        assert_eq!(meta.log_level, Some(LoggingLevel::Error));
        let legacy = RawJson::from_string(r#"{"_meta":{"progressToken":1},"name":"x"}"#.into()).unwrap();
        assert!(peek(Some(&legacy)).is_none());
        assert!(peek(None).is_none());
    }

    #[test]
    fn stamping_keeps_what_is_there() {
        let info = Implementation::new("s", "1");
        let raw = RawJson::from_string(r#"{"tools":[],"ttlMs":5}"#.into()).unwrap();
        let stamped = stamp(raw, "tools/list", &info).unwrap().to_value();
        assert_eq!(stamped["ttlMs"], 5);
        assert_eq!(stamped["cacheScope"], "private");
        assert_eq!(stamped["resultType"], "complete");
        assert_eq!(stamped["_meta"][meta_keys::SERVER_INFO]["name"], "s");
    }
}
