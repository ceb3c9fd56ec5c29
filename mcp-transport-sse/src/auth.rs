//! Bearer-token authentication as a tower layer, and the RFC 9728 protected-resource metadata.
//!
//! [`BearerAuthLayer`] reads `Authorization: Bearer <token>`, asks a [`TokenVerifier`] who that
//! is, and puts the resulting [`Principal`] into the request's extensions, where the MCP
//! handlers pick it up and bind the session to it. A missing or rejected token gets 401 with a
//! `WWW-Authenticate` challenge that points at the protected-resource metadata when configured.
//! Secrets are never logged.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use http::{HeaderValue, Request, StatusCode, header};
use mcp_core::Principal;
pub use mcp_core::{AuthError, StaticTokens, TokenVerifier};
use serde::Serialize;

use crate::http_error::HttpError;

/// RFC 9728 OAuth 2.0 protected-resource metadata, served at
/// `/.well-known/oauth-protected-resource<path of resource>`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProtectedResourceMetadata {
    /// The resource's canonical URL, e.g. `https://mcp.example.com/mcp`.
    pub resource: String,
    /// Authorization servers that issue tokens for it.
    pub authorization_servers: Vec<String>,
    /// Scopes it understands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How tokens are presented: always `["header"]`.
    pub bearer_methods_supported: Vec<String>,
}

impl ProtectedResourceMetadata {
    /// Metadata for `resource`, whose tokens come from `authorization_servers`.
    pub fn new<I, S>(resource: impl Into<String>, authorization_servers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            resource: resource.into(),
            authorization_servers: authorization_servers.into_iter().map(Into::into).collect(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".into()],
        }
    }

    /// The path the metadata is served at: `/.well-known/oauth-protected-resource` followed by
    /// the resource URL's path (RFC 9728 §3.1).
    pub fn well_known_path(&self) -> String {
        let path = self.resource.parse::<http::Uri>().map(|u| u.path().to_owned()).unwrap_or_default();
        let path = if path == "/" { String::new() } else { path };
        format!("/.well-known/oauth-protected-resource{path}")
    }

    /// The absolute URL of the metadata document, for the `resource_metadata` challenge parameter.
    pub fn url(&self) -> String {
        match self.resource.parse::<http::Uri>() {
            Ok(uri) if uri.scheme().is_some() && uri.authority().is_some() => {
                format!(
                    "{}://{}{}",
                    uri.scheme_str().unwrap_or("https"),
                    uri.authority().map_or("", |a| a.as_str()),
                    self.well_known_path()
                )
            }
            _ => self.well_known_path(),
        }
    }
}

/// What [`BearerAuthLayer`] needs: the verifier and, optionally, the metadata to advertise.
#[derive(Clone)]
pub struct AuthConfig {
    verifier: Arc<dyn TokenVerifier>,
    metadata: Option<ProtectedResourceMetadata>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig").field("metadata", &self.metadata).finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// Authentication by `verifier`.
    pub fn new(verifier: impl TokenVerifier) -> Self {
        Self { verifier: Arc::new(verifier), metadata: None }
    }

    /// Also serves RFC 9728 metadata and names it in 401 challenges.
    #[must_use]
    pub fn with_resource_metadata(mut self, metadata: ProtectedResourceMetadata) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The metadata, if configured.
    pub fn resource_metadata(&self) -> Option<&ProtectedResourceMetadata> {
        self.metadata.as_ref()
    }

    fn challenge(&self, error: Option<&str>) -> HeaderValue {
        let mut value = String::from("Bearer realm=\"mcp\"");
        if let Some(error) = error {
            value.push_str(&format!(", error=\"{error}\""));
        }
        if let Some(meta) = &self.metadata {
            value.push_str(&format!(", resource_metadata=\"{}\"", meta.url()));
        }
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"mcp\""))
    }

    /// Authenticates a request's headers.
    async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Principal, Response> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(self.unauthorized(None, "missing bearer token: send Authorization: Bearer <token>"));
        };
        match self.verifier.verify(token).await {
            Ok(principal) => Ok(principal),
            Err(AuthError::Unavailable(detail)) => {
                tracing::warn!(%detail, "token verification unavailable");
                Err(HttpError::invalid(StatusCode::SERVICE_UNAVAILABLE, "token verification unavailable; retry later")
                    .into_response())
            }
            Err(_) => {
                tracing::debug!("bearer token rejected");
                Err(self.unauthorized(Some("invalid_token"), "invalid bearer token"))
            }
        }
    }

    fn unauthorized(&self, error: Option<&str>, message: &str) -> Response {
        let mut response = HttpError::invalid(StatusCode::UNAUTHORIZED, message).into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, self.challenge(error));
        response
    }
}

/// A tower layer that authenticates every request with a bearer token; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct BearerAuthLayer {
    config: AuthConfig,
}

impl BearerAuthLayer {
    /// A layer that authenticates with `config`.
    pub fn new(config: AuthConfig) -> Self {
        Self { config }
    }
}

impl<S> tower::Layer<S> for BearerAuthLayer {
    type Service = BearerAuth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerAuth { inner, config: self.config.clone() }
    }
}

/// The service [`BearerAuthLayer`] produces.
#[derive(Clone, Debug)]
pub struct BearerAuth<S> {
    inner: S,
    config: AuthConfig,
}

impl<S, B> tower::Service<Request<B>> for BearerAuth<S>
where
    S: tower::Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was driven to readiness serves this call; the fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = self.config.clone();
        Box::pin(async move {
            match config.authenticate(request.headers()).await {
                Ok(principal) => {
                    request.extensions_mut().insert(principal);
                    inner.call(request).await
                }
                Err(response) => Ok(response),
            }
        })
    }
}

/// The handler of the RFC 9728 metadata route.
pub(crate) fn metadata_response(metadata: &ProtectedResourceMetadata) -> Response {
    let mut response = Response::new(Body::from(serde_json::to_vec(metadata).unwrap_or_default()));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_paths() {
        let m = ProtectedResourceMetadata::new("https://mcp.example.com/mcp", ["https://auth.example.com"]);
        assert_eq!(m.well_known_path(), "/.well-known/oauth-protected-resource/mcp");
        assert_eq!(m.url(), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
        let challenge = AuthConfig::new(StaticTokens::new()).with_resource_metadata(m).challenge(Some("invalid_token"));
        assert_eq!(
            challenge,
            "Bearer realm=\"mcp\", error=\"invalid_token\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""
        );
    }
}
