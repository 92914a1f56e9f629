//! `/v1/business-calendars`: the working time service levels are counted
//! in. Admins define and amend calendars; anyone who reads tickets reads them.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::business_calendar::{BusinessCalendarView, CalendarDefinition, DefineBusinessCalendar};
use crate::projections::business_calendars;
use crate::store;

use super::AppState;
use super::auth::Principal;
use super::body;
use super::commands::send_document;
use super::error::{ApiError, Problem};
use super::messages;
use super::request::command_context;
use super::tickets::PRIVATE;

/// Every business calendar.
#[derive(Serialize, ToSchema)]
pub struct BusinessCalendarList {
    /// By code.
    pub calendars: Vec<BusinessCalendarView>,
}

/// Define a business calendar: weekly working hours in a time zone, public
/// holidays, make-up workdays, and the last day its holiday data cover.
/// Its id is derived from its code (UUIDv5), and it starts at version 1.
#[utoipa::path(
    post,
    path = "/v1/business-calendars",
    tag = "business calendars",
    request_body = DefineBusinessCalendar,
    responses(
        (status = 201, description = "Defined", body = BusinessCalendarView),
        (status = 409, description = "A calendar with the code exists (`rule-violated`); or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed, such as overlapping intervals, an end before its start or an unknown time zone) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn define(
    req: HttpRequest,
    principal: Principal,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body::read::<DefineBusinessCalendar>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let answer = state.commands.define_business_calendar(&ctx, &body.value).await?;
    Ok(send_document(answer, StatusCode::CREATED))
}

/// Amend a business calendar: its whole definition is replaced by the one
/// sent, and its version grows by one. Clocks already counting keep the
/// version they started with.
#[utoipa::path(
    put,
    path = "/v1/business-calendars/{id}",
    tag = "business calendars",
    request_body = CalendarDefinition,
    params(
        ("id" = Uuid, Path, description = "The calendar's id"),
    ),
    responses(
        (status = 200, description = "Amended", body = BusinessCalendarView),
        (status = 404, description = "No such calendar", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The definition is unchanged (`rule-violated`); or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn amend(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<Uuid>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body::read::<CalendarDefinition>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let answer = state.commands.amend_business_calendar(&ctx, *id, &body.value).await?;
    Ok(send_document(answer, StatusCode::OK))
}

/// Every business calendar, by code, with its current definition and version.
#[utoipa::path(
    get,
    path = "/v1/business-calendars",
    tag = "business calendars",
    responses(
        (status = 200, description = "The calendars", body = BusinessCalendarList),
    ),
)]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let calendars = business_calendars::all(&client).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .json(BusinessCalendarList { calendars }))
}

/// One business calendar, with its current definition and version.
#[utoipa::path(
    get,
    path = "/v1/business-calendars/{id}",
    tag = "business calendars",
    params(
        ("id" = Uuid, Path, description = "The calendar's id"),
    ),
    responses(
        (status = 200, description = "The calendar", body = BusinessCalendarView),
        (status = 404, description = "No such calendar", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get(id: web::Path<Uuid>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let calendar = business_calendars::one(&client, *id)
        .await?
        .ok_or_else(|| ApiError::NotFound(messages::no_business_calendar(*id)))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .json(calendar))
}
