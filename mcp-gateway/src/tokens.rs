//! The tokens file: who may connect, and which tools each caller may use.
//!
//! ```toml
//! # tokens.toml — reloaded on SIGHUP and whenever the file changes.
//! [[tokens]]
//! principal = "alice"
//! sha256 = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b" # `mcp-gateway hash-token`
//! tools = ["echo", "get_*"]   # glob patterns; omit for every tool
//!
//! [[tokens]]
//! principal = "ci"
//! token = "plain-text-token"  # accepted, but prefer sha256
//! ```
//!
//! Tokens are stored as SHA-256 digests in memory whatever the file holds; a presented token is
//! hashed once and compared with every entry in constant time.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use mcp_core::{AuthError, Principal, StaticTokens, TokenVerifier};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// One `[[tokens]]` entry as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    principal: String,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    tools: Option<Vec<String>>,
    #[serde(default)]
    scopes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    tokens: Vec<TokenEntry>,
}

/// Why a tokens file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokensError {
    /// The file could not be read.
    #[error("cannot read tokens file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("invalid tokens file {path}: {detail}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// The SHA-256 digest of a token, as lowercase hex (what `mcp-gateway hash-token` prints).
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Parses a tokens file into the verifier every transport shares.
fn parse(text: &str, path: &Path) -> Result<StaticTokens, TokensError> {
    let invalid = |detail: String| TokensError::Invalid { path: path.to_owned(), detail };
    let file: TokensFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let mut set = StaticTokens::new();
    for (i, entry) in file.tokens.into_iter().enumerate() {
        let digest: [u8; 32] = match (&entry.sha256, &entry.token) {
            (Some(hexed), None) => hex::decode(hexed.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| invalid(format!("tokens[{i}] ({}): sha256 must be 64 hex digits", entry.principal)))?,
            (None, Some(plain)) if !plain.is_empty() => Sha256::digest(plain.as_bytes()).into(),
            _ => {
                return Err(invalid(format!(
                    "tokens[{i}] ({}): give exactly one of `sha256` or `token`",
                    entry.principal
                )));
            }
        };
        let mut principal = Principal::new(entry.principal).with_scopes(entry.scopes);
        if let Some(tools) = entry.tools {
            principal = principal.with_tools(tools);
        }
        set = set.with_digest(digest, principal);
    }
    Ok(set)
}

/// The live tokens of the gateway: a [`TokenVerifier`] that can be reloaded without dropping
/// sessions (existing sessions keep the principal they authenticated with).
#[derive(Debug, Clone)]
pub struct Tokens {
    path: Arc<PathBuf>,
    current: Arc<RwLock<Arc<StaticTokens>>>,
    loaded_mtime: Arc<RwLock<Option<SystemTime>>>,
}

impl Tokens {
    /// Loads the tokens file at `path`.
    ///
    /// # Errors
    /// When the file cannot be read or parsed.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, TokensError> {
        let path = path.into();
        let (set, mtime) = Self::read(&path)?;
        Ok(Self {
            path: Arc::new(path),
            current: Arc::new(RwLock::new(Arc::new(set))),
            loaded_mtime: Arc::new(RwLock::new(mtime)),
        })
    }

    fn read(path: &Path) -> Result<(StaticTokens, Option<SystemTime>), TokensError> {
        let read_err = |source| TokensError::Read { path: path.to_owned(), source };
        let mtime = std::fs::metadata(path).map_err(read_err)?.modified().ok();
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        Ok((parse(&text, path)?, mtime))
    }

    /// Re-reads the file. On error the previous tokens stay in force.
    ///
    /// # Errors
    /// When the file cannot be read or parsed.
    pub fn reload(&self) -> Result<usize, TokensError> {
        let (set, mtime) = Self::read(&self.path)?;
        let count = set.len();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        *self.loaded_mtime.write().unwrap_or_else(|e| e.into_inner()) = mtime;
        Ok(count)
    }

    /// The principal `token` authenticates under the tokens in force (what
    /// [`TokenVerifier::verify`] answers, without the future).
    pub fn lookup(&self, token: &str) -> Option<Principal> {
        self.snapshot().lookup(token)
    }

    /// The number of tokens in force.
    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    /// Whether no token is in force (every request is refused).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn snapshot(&self) -> Arc<StaticTokens> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn changed_on_disk(&self) -> bool {
        let on_disk = std::fs::metadata(&*self.path).and_then(|m| m.modified()).ok();
        on_disk.is_some() && on_disk != *self.loaded_mtime.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Reloads on SIGHUP and whenever the file's modification time changes (checked every
    /// `poll` interval), until the process exits. Errors are logged and the old tokens kept.
    pub fn spawn_reloader(&self, poll: Duration) {
        let tokens = self.clone();
        tokio::spawn(async move {
            let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut tick = tokio::time::interval(poll);
            loop {
                let why = tokio::select! {
                    _ = tick.tick() => {
                        if !tokens.changed_on_disk() { continue; }
                        "file changed"
                    }
                    Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "SIGHUP",
                };
                match tokens.reload() {
                    Ok(n) => tracing::info!(tokens = n, reason = why, path = %tokens.path.display(), "tokens_reloaded"),
                    Err(e) => {
                        tracing::error!(error = %e, reason = why, "tokens_reload_failed; keeping the previous tokens")
                    }
                }
            }
        });
    }
}

impl TokenVerifier for Tokens {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(std::future::ready(self.lookup(token).ok_or(AuthError::InvalidToken)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("tokens.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn hashed_and_plain_tokens_verify_with_their_tools() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[[tokens]]\nprincipal = \"alice\"\nsha256 = \"{}\"\ntools = [\"echo\", \"get_*\"]\n\n[[tokens]]\nprincipal = \"ci\"\ntoken = \"plain\"\n",
            hash_token("alice-secret")
        );
        let tokens = Tokens::load(write(&dir, &text)).unwrap();
        let alice = tokens.lookup("alice-secret").unwrap();
        assert_eq!(alice.id, "alice");
        assert!(alice.may_use_tool("get_weather") && !alice.may_use_tool("delete"));
        assert!(tokens.lookup("plain").unwrap().may_use_tool("delete"));
        assert!(tokens.lookup("wrong").is_none());
        assert!(tokens.lookup("").is_none());
    }

    #[test]
    fn reload_swaps_tokens_and_keeps_old_ones_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "[[tokens]]\nprincipal = \"a\"\ntoken = \"one\"\n");
        let tokens = Tokens::load(&path).unwrap();
        std::fs::write(&path, "[[tokens]]\nprincipal = \"b\"\ntoken = \"two\"\n").unwrap();
        assert_eq!(tokens.reload().unwrap(), 1);
        assert!(tokens.lookup("one").is_none());
        assert_eq!(tokens.lookup("two").unwrap().id, "b");
        std::fs::write(&path, "this is not toml [").unwrap();
        assert!(tokens.reload().is_err());
        assert_eq!(tokens.lookup("two").unwrap().id, "b");
    }

    #[test]
    fn bad_entries_are_rejected_with_the_entry_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Tokens::load(write(&dir, "[[tokens]]\nprincipal = \"x\"\nsha256 = \"abc\"\n")).unwrap_err();
        assert!(err.to_string().contains("tokens[0] (x)"), "{err}");
        let err = Tokens::load(write(&dir, "[[tokens]]\nprincipal = \"y\"\n")).unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
        // A typo in a field name is an error, not a silently ignored restriction.
        let err =
            Tokens::load(write(&dir, "[[tokens]]\nprincipal = \"z\"\ntoken = \"t\"\ntool = [\"a\"]\n")).unwrap_err();
        assert!(err.to_string().contains("tool"), "{err}");
    }
}
