//! Metrics (Prometheus, at `/metrics`) and structured logs (tracing, to stderr).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `mcp_tool_call_duration_seconds` | histogram | `tool` |
//! | `mcp_tool_calls_total` | counter | `tool`, `outcome` (`ok`, `error`) |
//! | `mcp_tool_calls_denied_total` | counter | `tool`, `principal` |
//! | `mcp_requests_total` | counter | `principal`, `method` |
//! | `mcp_rate_limited_total` | counter | `limit` (`principal`, `ip`) |
//! | `mcp_active_sessions` | gauge | `transport` |
//! | `mcp_upstream_crashes_total` | counter | |
//! | `mcp_upstream_start_failures_total` | counter | |

use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Installs the Prometheus recorder; the handle renders the `/metrics` page.
///
/// # Errors
/// When a recorder is already installed in this process.
pub fn install_metrics() -> Result<PrometheusHandle, String> {
    const BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("mcp_tool_call_duration_seconds".into()),
            BUCKETS,
        )
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Sets up tracing to stderr (never stdout: a stdio listener owns it). `RUST_LOG` overrides
/// the default filter (`info`).
pub fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
    };
}

/// Records a finished tool call.
pub fn tool_call(tool: &str, elapsed: Duration, is_error: bool) {
    metrics::histogram!("mcp_tool_call_duration_seconds", "tool" => tool.to_owned()).record(elapsed.as_secs_f64());
    let outcome = if is_error { "error" } else { "ok" };
    metrics::counter!("mcp_tool_calls_total", "tool" => tool.to_owned(), "outcome" => outcome).increment(1);
}

/// Records a tool call refused by authorization.
pub fn tool_denied(tool: &str, principal: &str) {
    metrics::counter!("mcp_tool_calls_denied_total", "tool" => tool.to_owned(), "principal" => principal.to_owned())
        .increment(1);
}

/// Records a request from a principal.
pub fn request(principal: &str, method: &str) {
    metrics::counter!("mcp_requests_total", "principal" => principal.to_owned(), "method" => method.to_owned())
        .increment(1);
}

/// Records a rate-limit rejection.
pub fn rate_limited(limit: &'static str) {
    metrics::counter!("mcp_rate_limited_total", "limit" => limit).increment(1);
}

/// Records an upstream process that died.
pub fn upstream_crashed() {
    metrics::counter!("mcp_upstream_crashes_total").increment(1);
}

/// Records an upstream that could not be started or reached.
pub fn upstream_start_failed() {
    metrics::counter!("mcp_upstream_start_failures_total").increment(1);
}

/// Counts a session in `mcp_active_sessions` for as long as it lives.
#[derive(Debug)]
pub struct ActiveSession(&'static str);

impl ActiveSession {
    /// Counts one more session on `transport`.
    pub fn new(transport: &'static str) -> Self {
        metrics::gauge!("mcp_active_sessions", "transport" => transport).increment(1.0);
        Self(transport)
    }
}

impl Drop for ActiveSession {
    fn drop(&mut self) {
        metrics::gauge!("mcp_active_sessions", "transport" => self.0).decrement(1.0);
    }
}
