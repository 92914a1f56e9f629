//! Auditors' views: the personal-data access log.

use actix_web::{HttpResponse, web};

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{FieldError, messages as domain_messages};
use crate::privacy::access_log::{self, AccessQuery, AccessRecord};
use crate::store::StoreError;
use crate::store::verify::{VerifyReport, verify_all};

use super::AppState;
use super::error::ApiError;
use super::messages;
use super::query::Query;
use super::request::parse_instant;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessParams {
    /// Only reads of this data subject's personal data.
    #[param(format = Uuid)]
    pub subject: Option<String>,
    /// Only reads by this actor (`issuer|subject` of the token).
    pub actor: Option<String>,
    /// At or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Before this instant (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// One page of the access log, newest first.
#[derive(Serialize, ToSchema)]
pub struct AccessPage {
    /// Newest first.
    pub items: Vec<AccessRecord>,
    /// Pass as `before` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// Who saw whose personal data in clear, when, and through which endpoint.
#[utoipa::path(
    get,
    path = "/v1/audit/pii-access",
    tag = "personal data",
    params(AccessParams),
    responses(
        (status = 200, description = "One page of access records", body = AccessPage),
    ),
)]
pub async fn pii_access(params: Query<AccessParams>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let subject = match &params.subject {
        None => None,
        Some(s) => match Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new("/subject", messages::field_uuid()));
                None
            }
        },
    };
    let from = parse_instant(&mut errors, "from", &params.from);
    let to = parse_instant(&mut errors, "to", &params.to);
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        errors.push(FieldError::new("/limit", domain_messages::field_range(1, 500)));
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidQuery(errors));
    }
    let client = state.pool.get().await.map_err(StoreError::from)?;
    let items = access_log::query(
        &client,
        &AccessQuery {
            subject,
            actor: params.actor.clone(),
            from,
            to,
            before_id: params.before,
            limit,
        },
    )
    .await?;
    let next_before = (items.len() == limit as usize)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    Ok(HttpResponse::Ok().json(AccessPage { items, next_before }))
}

/// Recompute every per-stream chain and the global chain from the stored
/// bytes, and report the head, or the first place the data no longer matches.
#[utoipa::path(
    get,
    path = "/v1/audit/verify",
    tag = "audit",
    responses(
        (status = 200, description = "The verdict (`ok` false names the first break)", body = VerifyReport),
    ),
)]
pub async fn verify(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let client = state.pool.get().await.map_err(StoreError::from)?;
    Ok(HttpResponse::Ok().json(verify_all(&client).await?))
}
