//! Operational endpoints for load balancers and orchestrators.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::store;

use super::AppState;
use super::error::{ApiError, Problem};
use super::messages;

/// Whether the process is alive, or ready to serve.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`: the process is alive and serving requests.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database is reachable and every migration this build knows is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let current = store::migrations::is_current(&client)
        .await
        .map_err(|e| ApiError::Unavailable(messages::migration_history_unreadable(e)))?;
    if !current {
        return Err(ApiError::Unavailable(messages::migrations_pending()));
    }
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

/// The token `/metrics` requires, kept as its SHA-256 so that comparing a
/// presented token takes the same time however much of it matches.
#[derive(Clone)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    pub const MIN_LEN: usize = 16;

    /// `None` when the token is shorter than [`Self::MIN_LEN`] after trimming.
    pub fn new(token: &str) -> Option<MetricsToken> {
        let token = token.trim();
        (token.chars().count() >= Self::MIN_LEN).then(|| MetricsToken(Sha256::digest(token.as_bytes()).into()))
    }

    fn admits(&self, presented: &str) -> bool {
        <[u8; 32]>::from(Sha256::digest(presented.as_bytes())) == self.0
    }
}

/// Metrics in the Prometheus text format. Holds no personal data. With
/// `OPSLEDGER_METRICS_TOKEN_FILE` set it requires that bearer token (a
/// static scrape credential, not a user's JWT); without, expose it to the
/// monitoring network only.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String),
        (status = 401, description = "A metrics token is configured and was not presented", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &state.metrics_token
        && !token.admits(super::auth::bearer_token(&req)?)
    {
        return Err(ApiError::Unauthenticated(messages::metrics_token_required()));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::startup::metrics::render()))
}
