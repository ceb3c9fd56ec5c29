//! Command line and config file: the same settings either way (flags win over the file).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde::Deserialize;

use crate::ratelimit::Rate;
use crate::telemetry::LogFormat;

/// Put any MCP server behind any transport: Streamable HTTP, legacy SSE, WebSocket, stdio,
/// TCP, NATS or Redis, with bearer-token auth, per-tool permissions, rate limits, health,
/// metrics and structured logs.
///
/// With no upstream it serves a built-in demo server (the conformance fixture with an `echo`
/// tool) so that `mcp-gateway` answers at `http://127.0.0.1:8080/mcp` out of the box.
#[derive(Debug, Parser)]
#[command(name = "mcp-gateway", version, after_help = EXAMPLES)]
pub struct Cli {
    /// A subcommand instead of running the gateway.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Run this MCP server as a child process over stdio, one child per client session
    /// (e.g. --stdio "npx -y @modelcontextprotocol/server-everything").
    #[arg(long, value_name = "COMMAND LINE", conflicts_with = "connect")]
    pub stdio: Option<String>,

    /// With --stdio: one child for every session; request ids are rewritten so each response,
    /// notification and server request reaches the right session.
    #[arg(long, requires = "stdio")]
    pub shared: bool,

    /// Environment variable for the --stdio child, KEY=VALUE (repeatable). The child otherwise
    /// inherits only a safe allow-list (HOME, PATH, USER, ...).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// Connect to a remote MCP server instead: http(s)://host/mcp (Streamable HTTP),
    /// http(s)://host/sse (legacy SSE), ws(s)://host/mcp, nats://host:port/SERVICE,
    /// redis://host:port/SERVICE.
    #[arg(long, value_name = "URL")]
    pub connect: Option<String>,

    /// Bearer token sent to a --connect upstream (HTTP and WebSocket).
    #[arg(long, value_name = "TOKEN", env = "MCP_GATEWAY_UPSTREAM_TOKEN", hide_env_values = true)]
    pub upstream_token: Option<String>,

    /// Where clients connect (repeatable). `http://HOST:PORT` serves Streamable HTTP and a
    /// WebSocket upgrade at /mcp, legacy SSE at /sse + /messages, /health and /metrics;
    /// also stdio:, tcp://HOST:PORT, nats://HOST:PORT/SERVICE, redis://HOST:PORT/SERVICE.
    /// Default: `http://127.0.0.1:8080`.
    #[arg(long, value_name = "URL")]
    pub listen: Vec<String>,

    /// Tokens file (TOML): each token's principal and the tools it may use (glob patterns).
    /// Reloaded on SIGHUP and when it changes. See `mcp-gateway hash-token`.
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,

    /// Allow a listener on a non-loopback address without --tokens. Anyone who can reach it
    /// can run the upstream's tools.
    #[arg(long)]
    pub insecure: bool,

    /// An Origin allowed to call the HTTP listeners besides loopback ones (repeatable),
    /// e.g. `https://app.example.com`. Also enables CORS for it.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,

    /// A Host header value allowed besides loopback ones (repeatable), e.g. mcp.example.com.
    /// Required for non-loopback HTTP listeners (DNS-rebinding protection).
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,

    /// Requests per principal, e.g. 10/s, 600/min, 10/s,burst=20.
    #[arg(long, value_name = "RATE")]
    pub rate_limit: Option<Rate>,

    /// Requests per client IP, e.g. 20/s.
    #[arg(long, value_name = "RATE")]
    pub rate_limit_ip: Option<Rate>,

    /// TLS certificate chain (PEM) for http/ws listeners.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM) for http/ws listeners.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require client certificates signed by this CA (PEM): mutual TLS.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,

    /// Most concurrent client sessions (over it: HTTP 503).
    #[arg(long, value_name = "N")]
    pub max_sessions: Option<usize>,

    /// Seconds to let in-flight calls finish after SIGTERM/SIGINT.
    #[arg(long, value_name = "SECONDS")]
    pub drain_timeout: Option<u64>,

    /// Log format on stderr.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,

    /// A TOML file with any of the settings above (keys as the flags, with underscores);
    /// flags given on the command line win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the SHA-256 of a token read from stdin, for the tokens file's `sha256` field.
    HashToken,
}

const EXAMPLES: &str = "\
Examples:
  mcp-gateway
      Serve the built-in demo server at http://127.0.0.1:8080/mcp.
  mcp-gateway --stdio \"python my_server.py\" --listen http://0.0.0.0:8080 --tokens tokens.toml \\
      --allowed-host mcp.example.com
      Share a stdio server with a team: one child per session, bearer tokens, per-tool rights.
  mcp-gateway --connect https://mcp.example.com/mcp --listen stdio:
      Give a stdio-only client (Claude Desktop) a remote server.
  mcp-gateway --stdio ./server --listen nats://127.0.0.1:4222/tools
      Serve on NATS; many gateways with the same service share the load.";

/// The settings a config file may hold (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    stdio: Option<String>,
    shared: Option<bool>,
    env: Option<Vec<String>>,
    connect: Option<String>,
    upstream_token: Option<String>,
    listen: Option<Vec<String>>,
    tokens: Option<PathBuf>,
    insecure: Option<bool>,
    allowed_origins: Option<Vec<String>>,
    allowed_hosts: Option<Vec<String>>,
    rate_limit: Option<String>,
    rate_limit_ip: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
    max_sessions: Option<usize>,
    drain_timeout: Option<u64>,
    log_format: Option<LogFormat>,
}

/// Where the gateway's MCP server comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamSpec {
    /// The built-in demo server.
    Builtin,
    /// A child process.
    Stdio {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// One child for all sessions.
        shared: bool,
    },
    /// A remote server.
    Connect(String),
}

/// The effective settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The upstream.
    pub upstream: UpstreamSpec,
    /// Extra environment for the child.
    pub env: Vec<(String, String)>,
    /// Bearer token for a remote upstream.
    pub upstream_token: Option<String>,
    /// Listener URLs.
    pub listen: Vec<String>,
    /// Tokens file.
    pub tokens: Option<PathBuf>,
    /// Allow unauthenticated non-loopback listeners.
    pub insecure: bool,
    /// Extra allowed origins.
    pub allowed_origins: Vec<String>,
    /// Extra allowed hosts.
    pub allowed_hosts: Vec<String>,
    /// Per-principal rate.
    pub rate_limit: Option<Rate>,
    /// Per-IP rate.
    pub rate_limit_ip: Option<Rate>,
    /// TLS files: cert, key, optional client CA.
    pub tls: Option<(PathBuf, PathBuf, Option<PathBuf>)>,
    /// Most sessions.
    pub max_sessions: usize,
    /// Drain time on shutdown.
    pub drain_timeout: Duration,
    /// Log format.
    pub log_format: LogFormat,
}

impl Settings {
    /// Merges the command line over the config file (if any).
    ///
    /// # Errors
    /// A readable message for an unreadable file or an invalid value.
    pub fn resolve(cli: Cli) -> Result<Self, String> {
        let file = match &cli.config {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
                toml::from_str::<FileSettings>(&text).map_err(|e| format!("invalid config {}: {e}", path.display()))?
            }
            None => FileSettings::default(),
        };
        let rate = |flag: Option<Rate>, file: Option<String>| -> Result<Option<Rate>, String> {
            match (flag, file) {
                (Some(r), _) => Ok(Some(r)),
                (None, Some(s)) => s.parse().map(Some),
                (None, None) => Ok(None),
            }
        };
        let stdio = cli.stdio.or(file.stdio);
        let connect = cli.connect.or(file.connect);
        let shared = cli.shared || file.shared.unwrap_or(false);
        let upstream = match (stdio, connect) {
            (Some(_), Some(_)) => return Err("give either --stdio or --connect, not both".into()),
            (Some(line), None) => {
                let mut words = split_command_line(&line)?.into_iter();
                let program = words.next().ok_or("--stdio needs a command")?;
                UpstreamSpec::Stdio { program, args: words.collect(), shared }
            }
            (None, Some(url)) => UpstreamSpec::Connect(url),
            (None, None) => UpstreamSpec::Builtin,
        };
        let env = pick_vec(cli.env, file.env)
            .into_iter()
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .ok_or(format!("--env {kv:?}: expected KEY=VALUE"))
            })
            .collect::<Result<_, _>>()?;
        let mut listen = pick_vec(cli.listen, file.listen);
        if listen.is_empty() {
            listen.push("http://127.0.0.1:8080".to_owned());
        }
        let tls_cert = cli.tls_cert.or(file.tls_cert);
        let tls_key = cli.tls_key.or(file.tls_key);
        let tls = match (tls_cert, tls_key) {
            (Some(c), Some(k)) => Some((c, k, cli.tls_client_ca.or(file.tls_client_ca))),
            (None, None) => None,
            _ => return Err("TLS needs both a certificate (--tls-cert) and a key (--tls-key)".into()),
        };
        Ok(Self {
            upstream,
            env,
            upstream_token: cli.upstream_token.or(file.upstream_token),
            listen,
            tokens: cli.tokens.or(file.tokens),
            insecure: cli.insecure || file.insecure.unwrap_or(false),
            allowed_origins: pick_vec(cli.allowed_origins, file.allowed_origins),
            allowed_hosts: pick_vec(cli.allowed_hosts, file.allowed_hosts),
            rate_limit: rate(cli.rate_limit, file.rate_limit)?,
            rate_limit_ip: rate(cli.rate_limit_ip, file.rate_limit_ip)?,
            tls,
            max_sessions: cli.max_sessions.or(file.max_sessions).unwrap_or(10_000),
            drain_timeout: Duration::from_secs(cli.drain_timeout.or(file.drain_timeout).unwrap_or(10)),
            log_format: cli.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
        })
    }
}

fn pick_vec(flag: Vec<String>, file: Option<Vec<String>>) -> Vec<String> {
    if flag.is_empty() { file.unwrap_or_default() } else { flag }
}

/// Splits a command line into words the way a POSIX shell would for simple cases: white space
/// separates, single and double quotes group, backslash escapes (outside single quotes).
///
/// # Errors
/// On an unterminated quote.
pub fn split_command_line(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(format!("unterminated ' in {line:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => word.extend(chars.next()),
                        Some(c) => word.push(c),
                        None => return Err(format!("unterminated \" in {line:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_command_lines() {
        assert_eq!(split_command_line("npx -y pkg").unwrap(), ["npx", "-y", "pkg"]);
        assert_eq!(
            split_command_line(r#"python -c "print('a b')" 'x y'"#).unwrap(),
            ["python", "-c", "print('a b')", "x y"]
        );
        assert_eq!(split_command_line(r"a\ b  c").unwrap(), ["a b", "c"]);
        assert!(split_command_line("\"open").is_err());
    }

    #[test]
    fn flags_win_over_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gw.toml");
        std::fs::write(
            &path,
            "stdio = \"node server.js\"\nlisten = [\"http://127.0.0.1:9000\"]\nrate_limit = \"5/s\"\ndrain_timeout = 3\n",
        )
        .unwrap();
        let cli = Cli::parse_from(["mcp-gateway", "--config", path.to_str().unwrap(), "--rate-limit", "7/s"]);
        let s = Settings::resolve(cli).unwrap();
        assert_eq!(
            s.upstream,
            UpstreamSpec::Stdio { program: "node".into(), args: vec!["server.js".into()], shared: false }
        );
        assert_eq!(s.listen, ["http://127.0.0.1:9000"]);
        assert_eq!(s.rate_limit.unwrap().period, Duration::from_secs(1) / 7);
        assert_eq!(s.drain_timeout, Duration::from_secs(3));
    }

    #[test]
    fn defaults_and_errors() {
        let s = Settings::resolve(Cli::parse_from(["mcp-gateway"])).unwrap();
        assert_eq!(s.upstream, UpstreamSpec::Builtin);
        assert_eq!(s.listen, ["http://127.0.0.1:8080"]);
        assert_eq!(s.max_sessions, 10_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gw.toml");
        std::fs::write(&path, "listne = []\n").unwrap();
        let err = Settings::resolve(Cli::parse_from(["mcp-gateway", "--config", path.to_str().unwrap()])).unwrap_err();
        assert!(err.contains("listne"), "{err}");
    }
}
