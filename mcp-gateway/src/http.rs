//! The HTTP listener: one port for every HTTP-borne client.
//!
//! | path | what |
//! |---|---|
//! | `/mcp` | Streamable HTTP (POST/GET/DELETE), and the WebSocket upgrade (subprotocol `mcp`) |
//! | `/sse`, `/messages` | legacy HTTP+SSE (2024-11-05 clients) |
//! | `/health` | 200 `{"status":"ok",...}` when ready; 503 when the upstream cannot be started or while draining |
//! | `/metrics` | Prometheus text format |
//!
//! Rate limits are applied here, before a request reaches a session, so an HTTP client gets
//! `429 Too Many Requests` with `Retry-After`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mcp_transport_sse::{AuthConfig, HttpServer, HttpServerConfig, OriginPolicy};
use mcp_transport_ws::{WsServer, WsServerConfig, is_websocket_upgrade};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::gateway::Gateway;
use crate::ratelimit::RateLimits;
use crate::telemetry;
use crate::tokens::Tokens;

/// What the HTTP listener needs from the gateway's settings.
#[derive(Clone)]
pub struct HttpOptions {
    /// The tokens file, when auth is on.
    pub tokens: Option<Tokens>,
    /// Extra accepted `Host` values (non-loopback deployments).
    pub allowed_hosts: Vec<String>,
    /// Extra accepted `Origin` values; also enables CORS for them.
    pub allowed_origins: Vec<String>,
    /// Rate limits, applied per POST.
    pub limits: RateLimits,
    /// Most concurrent sessions per protocol (HTTP sessions, WebSocket connections).
    pub max_sessions: usize,
    /// The metrics page.
    pub metrics: PrometheusHandle,
    /// Serve HTTPS with this configuration (see [`crate::tls`]).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

#[derive(Clone)]
struct AppState {
    gateway: Gateway,
    options: Arc<HttpOptions>,
    ws: WsServer,
    http: HttpServer,
}

/// Binds `addr` and serves until the gateway shuts down. Returns the bound address.
///
/// # Errors
/// When the address cannot be bound.
pub async fn start(addr: SocketAddr, gateway: &Gateway, options: HttpOptions) -> Result<SocketAddr, String> {
    let loopback = addr.ip().is_loopback();
    let mut hosts = options.allowed_hosts.clone();
    let origins = options.allowed_origins.clone();
    if !hosts.is_empty() || !origins.is_empty() || !loopback {
        // Loopback names stay accepted next to the allow-list, for local health checks.
        hosts.extend(["localhost".into(), "127.0.0.1".into(), "[::1]".into()]);
    }
    let origin_policy = if hosts.is_empty() && origins.is_empty() {
        OriginPolicy::Loopback
    } else {
        OriginPolicy::AllowList { hosts: hosts.clone(), origins: origins.clone() }
    };

    let mut http_config = HttpServerConfig::default()
        .origin_policy(origin_policy)
        .max_sessions(options.max_sessions)
        // The gateway serves its own /health (upstream state included).
        .health_path("/health/http");
    if let Some(tokens) = &options.tokens {
        http_config = http_config.auth(Some(AuthConfig::new(tokens.clone())));
    }
    if !origins.is_empty() {
        let values: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        http_config = http_config.cors_origins(Some(values));
    }
    let (http, http_sessions) = HttpServer::new(http_config);

    let ws_origins = if origins.is_empty() && loopback {
        mcp_transport_ws::OriginPolicy::LoopbackOnly
    } else {
        mcp_transport_ws::OriginPolicy::AllowList(origins.clone())
    };
    let mut ws_config = WsServerConfig::default().with_origins(ws_origins).with_max_connections(options.max_sessions);
    if let Some(tokens) = &options.tokens {
        ws_config = ws_config.with_verifier(tokens.clone());
    }
    let (ws, ws_sessions) = WsServer::new(ws_config);

    let state = AppState { gateway: gateway.clone(), options: Arc::new(options), ws: ws.clone(), http: http.clone() };
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics_page))
        .with_state(state.clone())
        .merge(http.router())
        .layer(middleware::from_fn_with_state(state.clone(), front_door));

    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on http://{addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;

    {
        let g = gateway.clone();
        tokio::spawn(async move { g.serve_acceptor("http", http_sessions).await });
        let g = gateway.clone();
        tokio::spawn(async move { g.serve_acceptor("ws", ws_sessions).await });
    }
    let shutdown = gateway.shutdown_token();
    if let Some(tls) = state.options.tls.clone() {
        tokio::spawn(async move {
            let stop = shutdown.clone();
            tokio::spawn(async move {
                stop.cancelled().await;
                http.begin_shutdown();
            });
            crate::tls::serve(listener, tls, app, shutdown).await;
        });
        return Ok(local);
    }
    tokio::spawn(async move {
        let graceful = {
            let shutdown = shutdown.clone();
            let http = http.clone();
            async move {
                shutdown.cancelled().await;
                http.begin_shutdown();
            }
        };
        // TCP_NODELAY, ConnectInfo, each connection's task under Rerun, a bounded drain.
        if let Err(e) = mcp_transport_sse::serve_router(listener, app, graceful).await {
            tracing::error!(error = %e, "http listener failed");
        }
    });
    Ok(local)
}

/// Routes WebSocket upgrades on `/mcp` to the WebSocket server and applies rate limits to
/// every POST, before the request reaches the HTTP transport.
async fn front_door(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/mcp" && is_websocket_upgrade(request.headers()) {
        return state.ws.handle(request).await.into_response();
    }
    if request.method() == Method::POST && state.options.limits.is_enabled() {
        let ip = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let principal =
            bearer(&request).and_then(|t| state.options.tokens.as_ref().and_then(|tokens| tokens.lookup(t)));
        let id = principal.map(|p| p.id).unwrap_or_else(|| "anonymous".to_owned());
        if let Err(limited) = state.options.limits.check(Some(&id), ip) {
            telemetry::rate_limited(limited.scope());
            let secs = limited.retry_after().as_secs_f64().ceil().max(1.0) as u64;
            let body = serde_json::json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": { "code": crate::relay::RATE_LIMITED, "message": format!("Rate limit exceeded; retry after {secs} s") }
            });
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, secs.to_string()), (header::CONTENT_TYPE, "application/json".to_owned())],
                body.to_string(),
            )
                .into_response();
        }
    }
    next.run(request).await
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

async fn health(State(state): State<AppState>) -> Response {
    let ready = state.gateway.is_ready();
    let status = if state.gateway.is_draining() {
        "draining"
    } else if ready {
        "ok"
    } else {
        "upstream_unavailable"
    };
    let body = serde_json::json!({
        "status": status,
        "sessions": state.gateway.active_sessions(),
        "http_sessions": state.http.session_count(),
        "ws_connections": state.ws.open_connections(),
    });
    let code = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn metrics_page(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.options.metrics.render()).into_response()
}
