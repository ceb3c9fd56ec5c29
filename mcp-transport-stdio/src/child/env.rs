//! Which environment variables a child server inherits.
//!
//! Like the official TypeScript and Python SDKs, a child gets only a small allow-list of the
//! parent's variables by default, so that secrets in the parent's environment (API keys,
//! cloud credentials) do not leak into every server it starts.

use std::ffi::OsString;

/// The variables a child inherits by default: the TypeScript and Python SDKs' list for Unix.
pub const DEFAULT_INHERITED_ENV_VARS: &[&str] = &["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"];

/// The allowed variables of the current process, skipping values that start with `()`: a
/// shell function exported through the environment (the Shellshock vector), as the SDKs do.
pub(crate) fn inherited<S: AsRef<str>>(allowed: &[S]) -> Vec<(OsString, OsString)> {
    allowed
        .iter()
        .map(AsRef::as_ref)
        .filter_map(|name| std::env::var_os(name).map(|value| (OsString::from(name), value)))
        .filter(|(_, value)| !value.as_encoded_bytes().starts_with(b"()"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_variables_are_inherited() {
        // PATH is set in any test environment; an unknown name never is.
        let vars = inherited(&["PATH", "MCP_TRANSPORT_STDIO_SURELY_UNSET"]);
        assert_eq!(vars.len(), 1);
        assert_eq!(vars[0].0, "PATH");
    }
}
