//! rmcp 3.9 (the official Rust SDK): an `echo` server and its own client, over the same media
//! as ours.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ErrorData, RoleClient, RoleServer, ServerHandler, ServiceExt};

use crate::measure::Caller;

/// The rmcp echo server: returns the `message` argument as text.
#[derive(Clone, Default)]
pub struct RmcpEcho;

impl ServerHandler for RmcpEcho {
    #[allow(deprecated)]
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let message = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("message"))
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_owned();
        Ok(CallToolResult::success(vec![ContentBlock::text(format!("Echo: {message}"))]).into())
    }
}

/// An rmcp client calling `echo`.
#[derive(Clone)]
pub struct RmcpCaller(pub Arc<RunningService<RoleClient, ()>>);

impl Caller for RmcpCaller {
    async fn call(&self, seq: u64) {
        let mut args = serde_json::Map::new();
        let message = format!("m{seq}");
        args.insert("message".into(), serde_json::Value::String(message.clone()));
        let result = self.0.call_tool(CallToolRequestParams::new("echo").with_arguments(args)).await.expect("rmcp call");
        let text = serde_json::to_string(&result.content).expect("content");
        assert!(text.contains(&message), "rmcp echo answered {text}");
    }
}

/// rmcp server and client over `tokio::io::duplex`.
pub async fn in_process() -> RmcpCaller {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let server = RmcpEcho.serve(server_io).await.expect("rmcp serve");
        let _ = server.waiting().await;
    });
    let client = ().serve(client_io).await.expect("rmcp client");
    RmcpCaller(Arc::new(client))
}

/// rmcp client spawning `program args` (an rmcp stdio server) as a child process.
pub async fn child(program: &std::path::Path, args: &[&str]) -> RmcpCaller {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args);
    let transport = rmcp::transport::TokioChildProcess::new(cmd).expect("spawn rmcp child");
    let client = ().serve(transport).await.expect("rmcp client");
    RmcpCaller(Arc::new(client))
}

/// Serves the rmcp echo server on this process's stdin/stdout until EOF.
pub async fn serve_stdio() {
    let server = RmcpEcho.serve(rmcp::transport::stdio()).await.expect("rmcp stdio serve");
    let _ = server.waiting().await;
}
