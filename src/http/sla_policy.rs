//! `/v1/sla-policy`: the service-level targets clocks are pinned with.
//! Anyone who reads tickets reads it (a ticket's clocks name its version);
//! admins amend it.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::commands::current_policy;
use crate::domain::sla::{AmendSlaPolicy, SlaPolicyView};
use crate::store;

use super::AppState;
use super::auth::Principal;
use super::body;
use super::commands::send_document;
use super::error::{ApiError, Problem};
use super::request::command_context;
use super::tickets::PRIVATE;

/// The service-level policy in force: for complaints by priority and faults
/// by severity, the first-response and resolution targets in business
/// minutes, the calendar they count on and the warning threshold. Version 0
/// is the shipped defaults.
#[utoipa::path(
    get,
    path = "/v1/sla-policy",
    tag = "service levels",
    responses(
        (status = 200, description = "The policy", body = SlaPolicyView),
    ),
)]
pub async fn get(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let policy = current_policy(&client).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .json(policy))
}

/// Amend the service-level policy: the whole table is replaced by the one
/// sent, and the version grows by one. Clocks pinned before keep the
/// version they were pinned under; clocks pinned from now on (filing,
/// triage, a priority change, a reopen) use the new one.
#[utoipa::path(
    put,
    path = "/v1/sla-policy",
    tag = "service levels",
    request_body = AmendSlaPolicy,
    responses(
        (status = 200, description = "Amended", body = SlaPolicyView),
        (status = 409, description = "The table is unchanged (`rule-violated`); or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed, such as a resolution sooner than the first response or a calendar nobody defined) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn amend(
    req: HttpRequest,
    principal: Principal,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body::read::<AmendSlaPolicy>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let answer = state.commands.amend_sla_policy(&ctx, &body.value).await?;
    Ok(send_document(answer, StatusCode::OK))
}
